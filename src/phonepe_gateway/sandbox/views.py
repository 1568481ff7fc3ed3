"""How sandbox records look on the wire: PhonePe's JSON for both API generations.

Pure functions from records to dicts (times in epoch milliseconds, amounts in paise).
Field names and codes follow PhonePe's documentation and official SDK; nothing here
changes state.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from .models import Attempt, Order, Refund

__all__ = [
    "attempt_json",
    "gen1_order_json",
    "gen1_refund_json",
    "order_json",
    "refund_json",
    "webhook_body",
]

_MESSAGES = {
    "PAYMENT_SUCCESS": "Your payment is successful.",
    "PAYMENT_PENDING": "Your payment is in pending state.",
    "PAYMENT_ERROR": "Payment Failed",
    "PAYMENT_DECLINED": "Payment declined by the user.",
}


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _digits(seed: str, n: int) -> str:
    """Stable pseudo-random digits derived from an id (same id, same digits)."""
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(number)[:n].rjust(n, "0")


def _rail_and_instrument(attempt: Attempt) -> tuple[dict[str, Any], dict[str, Any]]:
    rail, instrument = _rail_and_instrument_cached(attempt.transaction_id, attempt.payment_mode)
    return dict(rail), dict(instrument)


@lru_cache(maxsize=4096)
def _rail_and_instrument_cached(txn: str, mode: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Derived from the ids only, so cached (status is the hot path)."""
    attempt = Attempt(transaction_id=txn, payment_mode=mode, timestamp=0, amount=0, state="")
    if mode.startswith("UPI") or mode == "PPE_INTENT":
        rail = {
            "type": "UPI",
            "utr": _digits(attempt.transaction_id, 12),
            "upiTransactionId": "YBL" + _digits(attempt.transaction_id + "u", 20),
            "vpa": "sandbox.payer@ybl",
        }
        return rail, {
            "type": "ACCOUNT",
            "maskedAccountNumber": "XXXXXXX" + _digits(attempt.transaction_id + "a", 4),
            "accountType": "SAVINGS",
        }
    rail = {
        "type": "PG",
        "transactionId": "PG" + _digits(attempt.transaction_id, 14),
        "authorizationCode": _digits(attempt.transaction_id + "c", 6),
        "serviceTransactionId": "PG" + _digits(attempt.transaction_id + "s", 18),
    }
    if mode == "NET_BANKING":
        return rail, {
            "type": "NET_BANKING",
            "bankTransactionId": _digits(attempt.transaction_id + "b", 10),
            "bankId": "SBIN",
        }
    return rail, {
        "type": "CREDIT_CARD",
        "bankTransactionId": _digits(attempt.transaction_id, 10),
        "maskedCardNumber": "XXXXXXXXXXXX1111",
        "brn": _digits(attempt.transaction_id, 8),
    }


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    out: dict[str, Any] = {
        "transactionId": attempt.transaction_id,
        "paymentMode": attempt.payment_mode,
        "timestamp": _ms(attempt.timestamp),
        "amount": attempt.amount,
        "payableAmount": attempt.amount,
        "feeAmount": 0,
        "state": attempt.state,
    }
    if attempt.error_code:
        out["errorCode"] = attempt.error_code
        out["detailedErrorCode"] = attempt.detailed_error_code or attempt.error_code
    out["rail"], out["instrument"] = _rail_and_instrument(attempt)
    return out


def order_json(
    order: Order, *, details: bool = True, attempts: list[Attempt] | None = None
) -> dict[str, Any]:
    """Generation 2 order status (``details=false`` keeps only the latest attempt)."""
    chosen = order.attempts if attempts is None else attempts
    if not details:
        chosen = chosen[-1:]
    out: dict[str, Any] = {
        "merchantId": order.merchant_id,
        "merchantOrderId": order.merchant_order_id,
        "orderId": order.order_id,
        "state": order.state,
        "amount": order.amount,
        "payableAmount": order.amount,
        "feeAmount": 0,
        "expireAt": _ms(order.expire_at),
        "metaInfo": dict(order.meta_info),
        "paymentDetails": [attempt_json(a) for a in chosen],
    }
    if order.error_code:
        out["errorCode"] = order.error_code
        out["detailedErrorCode"] = order.detailed_error_code or order.error_code
    return out


def refund_json(refund: Refund) -> dict[str, Any]:
    """Generation 2 refund status."""
    out: dict[str, Any] = {
        "merchantId": refund.merchant_id,
        "merchantRefundId": refund.merchant_refund_id,
        "originalMerchantOrderId": refund.original_merchant_order_id,
        "refundId": refund.refund_id,
        "amount": refund.amount,
        "state": refund.state,
        "timestamp": _ms(refund.completed_at or refund.created_at),
        "paymentDetails": [],
    }
    if refund.transaction_id:
        out["paymentDetails"] = [
            {
                "transactionId": refund.transaction_id,
                "paymentMode": refund.payment_mode,
                "timestamp": _ms(refund.completed_at or refund.created_at),
                "amount": refund.amount,
                "state": refund.state,
            }
        ]
    if refund.error_code:
        out["errorCode"] = refund.error_code
        out["detailedErrorCode"] = refund.detailed_error_code or refund.error_code
    return out


def _gen1_code(state: str, error_code: str | None) -> str:
    if state == "COMPLETED":
        return "PAYMENT_SUCCESS"
    if state == "PENDING":
        return "PAYMENT_PENDING"
    return "PAYMENT_DECLINED" if error_code == "PAYMENT_DECLINED" else "PAYMENT_ERROR"


def _gen1_instrument(attempt: Attempt | None) -> dict[str, Any] | None:
    if attempt is None:
        return None
    if attempt.payment_mode.startswith("UPI"):
        return {"type": "UPI", "utr": _digits(attempt.transaction_id, 12)}
    if attempt.payment_mode == "NET_BANKING":
        return {
            "type": "NETBANKING",
            "pgTransactionId": _digits(attempt.transaction_id, 10),
            "bankId": "SBIN",
        }
    return {
        "type": "CARD",
        "cardType": "CREDIT_CARD",
        "pgTransactionId": _digits(attempt.transaction_id, 10),
        "bankId": "HDFC",
    }


def _gen1_envelope(code: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": code == "PAYMENT_SUCCESS",
        "code": code,
        "message": _MESSAGES.get(code, code),
        "data": data,
    }


def gen1_order_json(order: Order) -> dict[str, Any]:
    """Generation 1 status / callback body for a payment."""
    last = order.attempts[-1] if order.attempts else None
    code = _gen1_code(order.state, order.error_code)
    data: dict[str, Any] = {
        "merchantId": order.merchant_id,
        "merchantTransactionId": order.merchant_order_id,
        "transactionId": last.transaction_id if last else order.order_id,
        "amount": order.amount,
        "state": order.state,
        "responseCode": "SUCCESS"
        if order.state == "COMPLETED"
        else (order.error_code or "PAYMENT_PENDING"),
        "paymentInstrument": _gen1_instrument(last),
    }
    return _gen1_envelope(code, data)


def gen1_refund_json(refund: Refund) -> dict[str, Any]:
    """Generation 1 refund answer / status / callback body."""
    code = _gen1_code(refund.state, refund.error_code)
    data = {
        "merchantId": refund.merchant_id,
        "merchantTransactionId": refund.merchant_refund_id,
        "transactionId": refund.refund_id,
        "amount": refund.amount,
        "state": refund.state,
        "responseCode": "SUCCESS"
        if refund.state == "COMPLETED"
        else (refund.error_code or "PAYMENT_PENDING"),
    }
    return _gen1_envelope(code, data)


def webhook_body(name: str, record: Order | Refund) -> dict[str, Any]:
    """Generation 2 webhook: ``{"event", "type" (deprecated), "payload"}``."""
    payload = order_json(record) if isinstance(record, Order) else refund_json(record)
    return {"event": name, "type": name.replace(".", "_").upper(), "payload": payload}
