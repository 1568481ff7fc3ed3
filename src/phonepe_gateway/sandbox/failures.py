"""Why a payment attempt fails: PhonePe's error categories with their detailed codes.

PhonePe reports a failed attempt as a category (``errorCode``, e.g. ``INVALID_MPIN``)
plus a detailed code (``detailedErrorCode``: for UPI the NPCI response code, e.g.
``ZM``), never the same string twice; ``?errorContext=true`` adds where it failed
(``stage``) and whose fault it was (``source``). The rows come from PhonePe's public
error-codes page; ``DECLINED`` (the customer said no) pairs PhonePe's generic
``PAYMENT_ERROR`` with NPCI's "declined by customer" code, which that page does not list.
Nothing here changes state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EXPIRED", "FAILURES", "Failure", "failure_for", "gen1_response_code"]


@dataclass(frozen=True)
class Failure:
    error_code: str
    detailed_error_code: str
    stage: str
    source: str
    description: str
    #: Generation 1 ``data.responseCode`` for the same failure.
    gen1_response_code: str

    def error_context(self) -> dict[str, Any]:
        return {
            "errorCode": self.error_code,
            "detailedErrorCode": self.detailed_error_code,
            "source": self.source,
            "stage": self.stage,
            "description": self.description,
        }


#: Selectable failures, by the name the checkout page and the control API use.
FAILURES: dict[str, Failure] = {
    "DECLINED": Failure(
        "PAYMENT_ERROR",
        "ZA",
        "AUTHORIZATION",
        "CUSTOMER",
        "Customer declined the payment.",
        "REQUEST_DECLINE_BY_REQUESTEE",
    ),
    "INVALID_MPIN": Failure(
        "INVALID_MPIN",
        "ZM",
        "AUTHENTICATION",
        "CUSTOMER",
        "Customer entered the wrong UPI PIN.",
        "ZM",
    ),
    # The same wrong PIN as PhonePe's webhook and custom-checkout pages report it.
    "AUTHORIZATION_ERROR": Failure(
        "AUTHORIZATION_ERROR",
        "ZM",
        "AUTHENTICATION",
        "CUSTOMER",
        "Customer entered the wrong UPI PIN.",
        "ZM",
    ),
    "INSUFFICIENT_BALANCE": Failure(
        "INSUFFICIENT_BALANCE",
        "Z9",
        "AUTHORIZATION",
        "CUSTOMER",
        "Payment failed due to insufficient balance in customer's account.",
        "Z9",
    ),
    "BANK_TECHNICAL_ISSUE": Failure(
        "BANK_TECHNICAL_ISSUE",
        "UT",
        "AUTHORIZATION",
        "ISSUING_BANK",
        "Technical issue at the customer's bank.",
        "UT",
    ),
}

#: An order nobody paid before ``expireAt``.
EXPIRED = Failure(
    "TXN_NOT_COMPLETED",
    "TXN_AUTO_FAILED",
    "PRE_AUTHENTICATION",
    "CUSTOMER",
    "Payment couldn't be completed due to issues related to customer or their bank.",
    "TXN_AUTO_FAILED",
)

_BY_CODE = {f.error_code: f for f in (*FAILURES.values(), EXPIRED)}
#: Older control-API callers said ``PAYMENT_DECLINED``; it is the customer's decline.
_BY_CODE["PAYMENT_DECLINED"] = FAILURES["DECLINED"]


def failure_for(name_or_code: str | None, detailed_error_code: str | None = None) -> Failure | None:
    """The failure a caller names (``INVALID_MPIN``, ``DECLINED``, ``PAYMENT_ERROR`` …).

    An unknown code is accepted only with its own ``detailed_error_code`` (so the two
    are never copies of each other); otherwise ``None``.
    """
    if not name_or_code:
        return FAILURES["DECLINED"]
    known = FAILURES.get(name_or_code) or _BY_CODE.get(name_or_code)
    if known is not None and detailed_error_code in (None, known.detailed_error_code):
        return known
    if not detailed_error_code or detailed_error_code == name_or_code:
        return None
    base = known or FAILURES["DECLINED"]
    return Failure(
        known.error_code if known else name_or_code,
        detailed_error_code,
        base.stage,
        base.source,
        base.description,
        detailed_error_code,
    )


def gen1_response_code(error_code: str | None, detailed_error_code: str | None) -> str:
    for failure in (*FAILURES.values(), EXPIRED):
        if (failure.error_code, failure.detailed_error_code) == (error_code, detailed_error_code):
            return failure.gen1_response_code
    return detailed_error_code or error_code or "PAYMENT_ERROR"
