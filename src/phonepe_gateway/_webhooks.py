"""Verify and parse PhonePe callbacks into one normalized :class:`WebhookEvent`.

Generation 2: ``Authorization`` is the lowercase hex SHA-256 of ``username:password``;
compared in constant time, case-insensitively, against every configured pair (so
credentials can be rotated). Generation 1: ``X-VERIFY`` is
``sha256hex(base64_response + salt_key)###salt_index`` over the ``response`` field.
The body size is checked *before* parsing. Generation 1 callbacks get the equivalent
generation 2 event name. A verified webhook is still only a hint: confirm through
the status API before fulfilling. Never logs or echoes a header or a credential.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from ._auth import ChecksumSigner
from ._config import Settings
from ._errors import WebhookVerificationError
from ._models import OrderState, WebhookEvent
from ._protocol_v1 import V1_STATES
from ._validation import MAX_AMOUNT

__all__ = ["MAX_WEBHOOK_BYTES", "authorization_for", "verify_webhook"]

MAX_WEBHOOK_BYTES = 64 * 1024

_V1_EVENTS = {
    OrderState.COMPLETED: "checkout.order.completed",
    OrderState.FAILED: "checkout.order.failed",
    OrderState.PENDING: "checkout.order.pending",
}


def authorization_for(username: str, password: str) -> str:
    """The ``Authorization`` header PhonePe sends for these webhook credentials."""
    return hashlib.sha256(f"{username}:{password}".encode()).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    getter = getattr(headers, "get", None)
    value = getter(name) if getter is not None else None
    if value is None:
        lowered = name.lower()
        for key, item in headers.items():
            if key.lower() == lowered:
                return item
    return value


def verify_webhook(settings: Settings, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """Authenticate and parse one callback; raise :class:`WebhookVerificationError` otherwise."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise WebhookVerificationError("Webhook body must be the raw bytes.", reason="malformed")
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookVerificationError(
            f"Webhook body is {len(body)} bytes; the limit is {MAX_WEBHOOK_BYTES}.",
            reason="too_large",
        )
    body = bytes(body)
    x_verify = _header(headers, "x-verify")
    if x_verify and settings.salt_key:
        return _verify_v1(settings, x_verify, body)
    return _verify_v2(settings, _header(headers, "authorization"), body)


def _verify_v2(settings: Settings, authorization: str | None, body: bytes) -> WebhookEvent:
    pairs = settings.webhook_pairs
    if not pairs:
        raise WebhookVerificationError(
            "No webhook credentials are configured: set PHONEPE_WEBHOOK_USERNAME and "
            "PHONEPE_WEBHOOK_PASSWORD to those in the PhonePe dashboard.",
            reason="unauthenticated",
        )
    presented = (authorization or "").strip()
    if presented.lower().startswith("sha256 "):
        presented = presented[7:].strip()
    presented_bytes = presented.lower().encode("ascii", "replace")
    ok = False
    for username, password in pairs:
        # Check every pair (no early exit) so timing does not reveal which one matched.
        ok |= hmac.compare_digest(presented_bytes, authorization_for(username, password).encode())
    if not ok:
        raise WebhookVerificationError(
            "Webhook Authorization header does not match the configured webhook credentials "
            "(PHONEPE_WEBHOOK_USERNAME / PHONEPE_WEBHOOK_PASSWORD)."
            if presented
            else "Webhook has no Authorization header.",
            reason="unauthenticated",
        )
    data = _json_object(body)
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise WebhookVerificationError("Webhook JSON has no 'payload' object.", reason="malformed")
    event = data.get("event") or data.get("type")
    if not isinstance(event, str) or not event:
        raise WebhookVerificationError("Webhook JSON has no 'event' name.", reason="malformed")
    return _event(event, payload, generation=2, raw=data)


def _verify_v1(settings: Settings, x_verify: str, body: bytes) -> WebhookEvent:
    assert settings.salt_key is not None
    data = _json_object(body)
    response = data.get("response")
    if not isinstance(response, str) or not response:
        raise WebhookVerificationError("Callback JSON has no 'response' field.", reason="malformed")
    signer = ChecksumSigner(settings.salt_key, settings.salt_index)
    if not signer.verify(x_verify, response):
        raise WebhookVerificationError(
            "Callback X-VERIFY checksum does not match PHONEPE_SALT_KEY / PHONEPE_SALT_INDEX.",
            reason="unauthenticated",
        )
    try:
        decoded = json.loads(base64.b64decode(response, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError(
            "Callback 'response' is not base64-encoded JSON.", reason="malformed"
        ) from exc
    if not isinstance(decoded, dict):
        raise WebhookVerificationError(
            "Callback response is not a JSON object.", reason="malformed"
        )
    inner = decoded.get("data") if isinstance(decoded.get("data"), dict) else {}
    assert isinstance(inner, dict)
    raw_code = decoded.get("code")
    code = raw_code if isinstance(raw_code, str) else ""
    state = V1_STATES.get(code) or str(inner.get("state") or OrderState.PENDING).upper()
    payload = {
        "merchantId": inner.get("merchantId"),
        "merchantOrderId": inner.get("merchantTransactionId"),
        "orderId": inner.get("transactionId"),
        "state": state,
        "amount": inner.get("amount"),
        "errorCode": None if state == OrderState.COMPLETED else code,
        "paymentDetails": [inner] if inner else [],
    }
    event = _V1_EVENTS.get(state, "checkout.order.pending")
    return _event(event, payload, generation=1, raw=decoded)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # deep nesting: hostile
        raise WebhookVerificationError(
            "Webhook body is not valid JSON.", reason="malformed"
        ) from exc
    if not isinstance(data, dict):
        raise WebhookVerificationError("Webhook body is not a JSON object.", reason="malformed")
    return data


def _event(
    event: str, payload: dict[str, Any], *, generation: int, raw: dict[str, Any]
) -> WebhookEvent:
    def text(key: str) -> str | None:
        value = payload.get(key)
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None

    amount = payload.get("amount")
    if isinstance(amount, int) and not isinstance(amount, bool) and not 0 <= amount <= MAX_AMOUNT:
        # Beyond any real payment, and past a signed 64-bit column: refuse, never store.
        raise WebhookVerificationError(
            f"Webhook amount is out of range (0..{MAX_AMOUNT} paise).", reason="malformed"
        )
    is_refund = event.startswith("pg.refund.") or payload.get("merchantRefundId") is not None
    merchant_order_id = text("merchantOrderId") or (
        text("originalMerchantOrderId") if is_refund else None
    )
    state = text("state")
    # UPI AutoPay: mandate ids at the top (state events) or in paymentFlow (orders).
    flow = payload.get("paymentFlow")
    flow = flow if isinstance(flow, dict) else {}

    def mandate(key: str) -> str | None:
        value = payload.get(key)
        value = flow.get(key) if value is None else value
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None

    return WebhookEvent(
        event=event,
        state=state.upper() if state else None,
        merchant_order_id=merchant_order_id,
        merchant_refund_id=text("merchantRefundId"),
        original_merchant_order_id=text("originalMerchantOrderId"),
        order_id=text("orderId"),
        refund_id=text("refundId"),
        merchant_id=text("merchantId"),
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        payload=payload,
        generation=generation,
        raw=raw,
        merchant_subscription_id=mandate("merchantSubscriptionId"),
        subscription_id=mandate("subscriptionId"),
    )
