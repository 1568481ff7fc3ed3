"""Webhook verification for both generations: credentials, rotation, size, malformed bodies."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from phonepe_gateway import AsyncPhonePeClient, PhonePeClient, Settings, WebhookVerificationError
from phonepe_gateway._webhooks import MAX_WEBHOOK_BYTES, authorization_for

from .fakes import v1_checksum

BODY = json.dumps(
    {
        "event": "checkout.order.completed",
        "type": "CHECKOUT_ORDER_COMPLETED",
        "payload": {
            "merchantId": "M1",
            "merchantOrderId": "order-1",
            "orderId": "OMO1",
            "state": "COMPLETED",
            "amount": 1000,
            "paymentDetails": [{"paymentMode": "SOMETHING_NEW", "timestamp": 1750000000000}],
            "futureField": True,
        },
    }
).encode()
AUTH = hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()


@pytest.fixture
def client() -> PhonePeClient:
    return PhonePeClient(Settings.build(env="local"))


def test_verify_when_valid_v2_then_normalized_event(client) -> None:
    event = client.verify_webhook({"Authorization": AUTH}, BODY)
    assert event.event == "checkout.order.completed"
    assert event.state == "COMPLETED"
    assert event.merchant_order_id == "order-1"
    assert event.amount == 1000
    assert event.payload["futureField"] is True
    assert event.generation == 2
    assert not event.is_refund


def test_verify_when_header_uppercase_hex_and_lowercase_name_then_accepted(client) -> None:
    assert client.verify_webhook({"authorization": AUTH.upper()}, BODY).event


def test_verify_when_wrong_credentials_then_unauthenticated(client) -> None:
    wrong = authorization_for("sandboxhook", "other-password")
    with pytest.raises(WebhookVerificationError) as info:
        client.verify_webhook({"Authorization": wrong}, BODY)
    assert info.value.reason == "unauthenticated"
    assert "sandboxpass1" not in str(info.value)


def test_verify_when_header_missing_then_unauthenticated(client) -> None:
    with pytest.raises(WebhookVerificationError) as info:
        client.verify_webhook({}, BODY)
    assert info.value.reason == "unauthenticated"


def test_verify_when_rotated_credentials_then_old_and_new_accepted() -> None:
    settings = Settings.build(
        env="local",
        webhook_username="newuser",
        webhook_password="newpass123",
        webhook_credentials="olduser:oldpass123",
    )
    client = PhonePeClient(settings)
    for user, password in [("newuser", "newpass123"), ("olduser", "oldpass123")]:
        assert client.verify_webhook({"Authorization": authorization_for(user, password)}, BODY)
    with pytest.raises(WebhookVerificationError):
        client.verify_webhook({"Authorization": AUTH}, BODY)


def test_verify_when_too_large_then_rejected_before_parsing(client) -> None:
    body = b"{" + b" " * MAX_WEBHOOK_BYTES + b"}"
    with pytest.raises(WebhookVerificationError) as info:
        client.verify_webhook({"Authorization": AUTH}, body)
    assert info.value.reason == "too_large"


@pytest.mark.parametrize(
    "body", [b"not json", b"[1,2]", b'{"event": "x"}', b'{"payload": {}}', b"\xff\xfe"]
)
def test_verify_when_malformed_then_reason_malformed(client, body) -> None:
    with pytest.raises(WebhookVerificationError) as info:
        client.verify_webhook({"Authorization": AUTH}, body)
    assert info.value.reason == "malformed"


def test_verify_when_refund_event_then_refund_fields(client) -> None:
    body = json.dumps(
        {
            "event": "pg.refund.completed",
            "payload": {
                "merchantRefundId": "rf1",
                "originalMerchantOrderId": "o1",
                "refundId": "R1",
                "state": "completed",
                "amount": 500,
            },
        }
    ).encode()
    event = client.verify_webhook({"Authorization": AUTH}, body)
    assert event.is_refund
    assert event.merchant_refund_id == "rf1"
    assert event.merchant_order_id == "o1"
    assert event.state == "COMPLETED"


def test_verify_when_v1_callback_then_mapped_to_v2_event() -> None:
    settings = Settings.build(env="local", api_version="v1")
    inner = {
        "success": True,
        "code": "PAYMENT_SUCCESS",
        "data": {
            "merchantId": "PGSANDBOXMERCHANT",
            "merchantTransactionId": "T1",
            "transactionId": "X1",
            "amount": 100,
            "state": "COMPLETED",
        },
    }
    response = base64.b64encode(json.dumps(inner).encode()).decode()
    body = json.dumps({"response": response}).encode()
    client = PhonePeClient(settings)
    event = client.verify_webhook({"X-VERIFY": v1_checksum(response)}, body)
    assert event.event == "checkout.order.completed"
    assert event.generation == 1
    assert event.merchant_order_id == "T1"
    assert event.amount == 100
    with pytest.raises(WebhookVerificationError) as info:
        client.verify_webhook({"X-VERIFY": v1_checksum(response, salt="other")}, body)
    assert info.value.reason == "unauthenticated"


@pytest.mark.anyio
async def test_async_verify_when_valid_then_same_event() -> None:
    async with AsyncPhonePeClient(Settings.build(env="local")) as client:
        event = await client.verify_webhook({"Authorization": AUTH}, BODY)
    assert event.merchant_order_id == "order-1"
