"""How sandbox records look on the wire: PhonePe's JSON for both API generations.

Pure functions from records to dicts (times in epoch milliseconds, amounts in paise).
Field names and codes follow PhonePe's documentation and official SDK; nothing here
changes state.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from .failures import failure_for, gen1_response_code
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
    "PAYMENT_PENDING": "Your request is in pending state.",
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
    """Per payment mode, derived from the ids only, so cached (status is the hot path).

    UPI pays from a bank ``ACCOUNT`` over the ``UPI`` rail; cards and net banking go
    over the ``PG`` rail with a card or net-banking instrument.
    """
    if mode.startswith("UPI") or mode == "PPE_INTENT":
        rail = {
            "type": "UPI",
            "utr": _digits(txn, 12),
            "upiTransactionId": "YBL" + _digits(txn + "u", 20),
            "vpa": "sandbox.payer@ybl",
        }
        return rail, {
            "type": "ACCOUNT",
            "maskedAccountNumber": "XXXXXXX" + _digits(txn + "a", 4),
            "ifsc": "SBIN0000" + _digits(txn + "i", 3),
            "accountHolderName": "Sandbox Payer",
            "accountType": "SAVINGS",
        }
    rail = {
        "type": "PG",
        "transactionId": "PG" + _digits(txn, 14),
        "authorizationCode": _digits(txn + "c", 6),
        "serviceTransactionId": "PG" + _digits(txn + "s", 18),
    }
    instrument: dict[str, Any] = {
        "type": "NET_BANKING" if mode == "NET_BANKING" else "CREDIT_CARD",
        "bankTransactionId": _digits(txn + "b", 10),
        "bankId": "SBIN" if mode == "NET_BANKING" else "HDFC",
        "brn": _digits(txn + "r", 12),
        "arn": _digits(txn + "n", 23),
    }
    if mode != "NET_BANKING":  # the test card: a domestic Visa
        instrument.update(
            geoScope="DOMESTIC", cardNetwork="VISA", maskedCardNumber="XXXXXXXXXXXX1111"
        )
    return rail, instrument


def _response_codes(state: str, detailed: str | None) -> dict[str, str]:
    """The older per-transaction codes PhonePe still sends beside ``state``."""
    if state in ("COMPLETED", "CONFIRMED"):
        return {"responseCode": "PAYMENT_SUCCESS", "backendErrorCode": "SUCCESS"}
    if state == "FAILED":
        return {"responseCode": "PAYMENT_ERROR", "backendErrorCode": detailed or "PAYMENT_ERROR"}
    return {"responseCode": "PAYMENT_PENDING", "backendErrorCode": "PAYMENT_PENDING"}


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
        out["detailedErrorCode"] = attempt.detailed_error_code
    out.update(_response_codes(attempt.state, attempt.detailed_error_code))
    if attempt.state == "PENDING":
        return out  # nothing known about the instrument until the attempt ends
    rail, instrument = _rail_and_instrument(attempt)
    out["rail"], out["instrument"] = rail, instrument
    # One instrument paid the whole amount (PhonePe splits e.g. UPI + wallet the same way).
    out["splitInstruments"] = [
        {"instrument": dict(instrument), "rail": dict(rail), "amount": attempt.amount}
    ]
    return out


def order_json(
    order: Order,
    *,
    details: bool = True,
    attempts: list[Attempt] | None = None,
    error_context: bool = False,
) -> dict[str, Any]:
    """Generation 2 order status (``details=false`` keeps only the latest attempt;
    ``error_context`` adds PhonePe's ``errorContext`` block to a FAILED order)."""
    chosen = order.attempts if attempts is None else attempts
    if not details:
        chosen = chosen[-1:]
    out: dict[str, Any] = {
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
        out["detailedErrorCode"] = order.detailed_error_code
    if error_context and order.state == "FAILED" and order.error_code:
        failure = failure_for(order.error_code, order.detailed_error_code)
        if failure is not None:
            out["errorContext"] = failure.error_context()
    return out


def refund_json(refund: Refund) -> dict[str, Any]:
    """Generation 2 refund status; ``paymentDetails`` is the refund's own transaction.

    Once the refund has settled (or failed) it also shows where the money went: the
    original payment's instrument and rail, and the fee and currency fields PhonePe adds.
    """
    stamp = _ms(refund.completed_at or refund.created_at)
    mode = refund.payment_mode or "UPI_QR"
    detail: dict[str, Any] = {
        "transactionId": refund.transaction_id,
        "paymentMode": mode,
        "timestamp": stamp,
        "amount": refund.amount,
        "state": refund.state,
        **_response_codes(refund.state, refund.detailed_error_code),
    }
    out: dict[str, Any] = {
        "merchantId": refund.merchant_id,
        "merchantRefundId": refund.merchant_refund_id,
        "originalMerchantOrderId": refund.original_merchant_order_id,
        "refundId": refund.refund_id,
        "amount": refund.amount,
        "state": refund.state,
        "timestamp": stamp,
        "paymentDetails": [detail],
    }
    if refund.state in ("COMPLETED", "FAILED"):
        rail, instrument = _rail_and_instrument_cached(refund.transaction_id, mode)
        split = {"instrument": dict(instrument), "rail": dict(rail), "amount": refund.amount}
        detail.update(rail=dict(rail), instrument=dict(instrument), splitInstruments=[split])
    if refund.state == "COMPLETED":
        out.update(
            currency="INR",
            feesReversalAmount=0,
            adjustedDiscountAmount=0,
            refundableAmount=refund.amount,
            splitInstruments=[{**split, "currency": None}],
        )
    if refund.error_code:
        out["errorCode"] = refund.error_code
        if refund.detailed_error_code:
            out["detailedErrorCode"] = refund.detailed_error_code
    return out


def _gen1_code(state: str) -> str:
    if state == "COMPLETED":
        return "PAYMENT_SUCCESS"
    if state in ("PENDING", "CONFIRMED"):
        return "PAYMENT_PENDING"
    return "PAYMENT_ERROR"


def _gen1_instrument(attempt: Attempt) -> dict[str, Any]:
    """Generation 1 ``paymentInstrument`` of a successful attempt, per type."""
    txn = attempt.transaction_id
    if attempt.payment_mode.startswith("UPI") or attempt.payment_mode == "PPE_INTENT":
        return {
            "type": "UPI",
            "utr": _digits(txn, 12),
            "upiTransactionId": "YBL" + _digits(txn + "u", 20),
            "cardNetwork": None,
            "accountType": "SAVINGS",
        }
    if attempt.payment_mode == "NET_BANKING":
        return {
            "type": "NETBANKING",
            "pgTransactionId": _digits(txn, 10),
            "pgServiceTransactionId": "PG" + _digits(txn + "s", 18),
            "bankTransactionId": _digits(txn + "b", 10),
            "bankId": "SBIN",
        }
    return {
        "type": "CARD",
        "cardType": "CREDIT_CARD",
        "pgTransactionId": _digits(txn, 10),
        "bankTransactionId": _digits(txn + "b", 10),
        "pgAuthorizationCode": _digits(txn + "c", 6),
        "arn": _digits(txn + "n", 23),
        "bankId": "HDFC",
        "brn": _digits(txn + "r", 12),
    }


def _gen1_envelope(code: str, data: dict[str, Any]) -> dict[str, Any]:
    # A pending payment is a successful *request* (PhonePe answers success: true).
    return {
        "success": code in ("PAYMENT_SUCCESS", "PAYMENT_PENDING"),
        "code": code,
        "message": _MESSAGES.get(code, code),
        "data": data,
    }


def gen1_order_json(order: Order) -> dict[str, Any]:
    """Generation 1 status / callback body for a payment.

    Before the customer attempts anything ``transactionId`` and ``paymentInstrument``
    are null; the instrument appears only on success, the failure reason in
    ``responseCode``.
    """
    last = order.last_attempt
    code = _gen1_code(order.state)
    if order.state == "COMPLETED":
        response_code: str | None = "SUCCESS"
    elif order.error_code:
        response_code = gen1_response_code(order.error_code, order.detailed_error_code)
    else:
        response_code = "PAYMENT_PENDING"
    data: dict[str, Any] = {
        "merchantId": order.merchant_id,
        "merchantTransactionId": order.merchant_order_id,
        "transactionId": last.transaction_id if last else None,
        "amount": order.amount,
        "state": order.state,
        "responseCode": response_code,
        "paymentInstrument": _gen1_instrument(last)
        if last is not None and order.state == "COMPLETED"
        else None,
    }
    return _gen1_envelope(code, data)


def gen1_refund_json(refund: Refund) -> dict[str, Any]:
    """Generation 1 refund answer / status / callback body."""
    code = _gen1_code(refund.state)
    data = {
        "merchantId": refund.merchant_id,
        "merchantTransactionId": refund.merchant_refund_id,
        "transactionId": refund.refund_id,
        "amount": refund.amount,
        "state": "PENDING" if refund.state == "CONFIRMED" else refund.state,
        "responseCode": "SUCCESS" if refund.state == "COMPLETED" else (refund.error_code or None),
    }
    return _gen1_envelope(code, data)


def webhook_body(
    name: str, record: Order | Refund, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Generation 2 webhook: ``{"event", "type" (deprecated), "payload"}``.

    An order's payload is its status plus who it belongs to (``merchantId``,
    ``merchantOrderId``), without the order-level fee fields. A ready ``payload``
    (subscription events) is sent as given."""
    if payload is not None:
        pass
    elif isinstance(record, Order):
        status = order_json(record)
        del status["payableAmount"], status["feeAmount"]
        payload = {
            "merchantId": record.merchant_id,
            "merchantOrderId": record.merchant_order_id,
            **status,
        }
    else:
        payload = refund_json(record)
    return {"event": name, "type": name.replace(".", "_").upper(), "payload": payload}
