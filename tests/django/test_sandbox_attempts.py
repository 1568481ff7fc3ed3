"""A declined attempt is not a failed payment: the app on PhonePe's real retry semantics.

The sandbox (like PhonePe) keeps an order PENDING when one attempt fails and sends
``checkout.transaction.attempt.failed``; only expiry, a final failure or
``disablePaymentRetry`` fails it. The webhook bodies here are the ones the sandbox
really produced for the order.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from phonepe_gateway.django import services

pytestmark = pytest.mark.django_db(transaction=True)

AUTH = hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()


def _delivered(phonepe_sandbox: Any, event: str) -> tuple[dict[str, str], bytes]:
    (delivery,) = [d for d in phonepe_sandbox.deliveries() if d["event"] == event]
    body = json.dumps(delivery["body"]).encode()
    return {"Authorization": AUTH, "Content-Type": "application/json"}, body


def test_attempt_failed_webhook_when_order_still_open_then_payment_stays_pending(
    phonepe_sandbox: Any, signal_log: Any
) -> None:
    payment = services.create_payment(amount=5000)
    moid = payment.merchant_order_id
    phonepe_sandbox.control("POST", f"/orders/{moid}/decline", json={"reason": "INVALID_MPIN"})
    event = services.receive_webhook(
        *_delivered(phonepe_sandbox, "checkout.transaction.attempt.failed")
    )
    services.process_webhook(event)
    payment.refresh_from_db()
    assert payment.state == "PENDING"  # the customer may still pay on PhonePe's page
    assert signal_log.of(moid) == []
    assert services.sync_payment(payment).state == "PENDING"

    phonepe_sandbox.complete(moid)  # the retry on the same order succeeds
    event = services.receive_webhook(*_delivered(phonepe_sandbox, "checkout.order.completed"))
    services.process_webhook(event)
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"
    assert signal_log.of(moid) == ["payment_completed"]


def test_order_when_expired_after_failed_attempt_then_payment_failed_with_expiry_code(
    phonepe_sandbox: Any, signal_log: Any
) -> None:
    payment = services.create_payment(amount=5000)
    moid = payment.merchant_order_id
    phonepe_sandbox.control("POST", f"/orders/{moid}/decline", json={})
    assert services.sync_payment(payment).state == "PENDING"
    phonepe_sandbox.advance(3600)
    payment = services.sync_payment(payment)
    assert payment.state == "FAILED"
    assert payment.error_code == "TXN_NOT_COMPLETED"
    assert signal_log.of(moid) == ["payment_failed"]
