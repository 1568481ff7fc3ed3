"""Why PhonePe did not take the money, in the words a driver understands.

The payments app records PhonePe's ``errorCode`` of a failed order or debit (for UPI, the
code behind NPCI's: ``Z9`` is ``INSUFFICIENT_BALANCE``, ``ZM`` a wrong PIN, ``ZA`` a
plain "no" in the UPI app). A code not listed here is shown as it is, so staff can look
it up.
"""

from __future__ import annotations

__all__ = ["GATEWAY_DOWN", "why_failed"]

#: What a pay button answers when PhonePe could not be asked at all.
GATEWAY_DOWN = "PhonePe could not be reached just now. Nothing was charged - please try again."

_WHY = {
    "PAYMENT_ERROR": "it was declined in your UPI app",
    "REQUEST_DECLINE_BY_REQUESTEE": "it was declined in your UPI app",
    "INVALID_MPIN": "the UPI PIN was wrong",
    "AUTHORIZATION_ERROR": "the UPI PIN was wrong",
    "INSUFFICIENT_BALANCE": "your bank account did not have enough money",
    "INSUFFICIENT_FUNDS": "your bank account did not have enough money",
    "BANK_TECHNICAL_ISSUE": "your bank could not process it just now",
    "TXN_NOT_COMPLETED": "it was not completed in time",
    "TXN_AUTO_FAILED": "it was not completed in time",
    "MANDATE_PAUSED": "AutoPay is paused in your UPI app",
    "MANDATE_REVOKED": "AutoPay was revoked in your UPI app",
    "DEBIT_LIMIT_EXCEEDED": "your bank's daily UPI limit was reached",
}


def why_failed(code: str | None, default: str = "", *, show_unknown: bool = True) -> str:
    """A short clause ("the UPI PIN was wrong"); ``default`` when there is no code, and
    for a code not listed the code itself (``code UT``), or ``default`` without
    ``show_unknown``."""
    code = (code or "").strip().upper()
    if code in _WHY:
        return _WHY[code]
    return f"code {code}" if code and show_unknown else default
