"""The same client calls over generation 1 (base64 body + X-VERIFY), via MockTransport."""

from __future__ import annotations

import base64
import json

import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PhonePeClient,
    Settings,
    ValidationError,
)

from .fakes import MERCHANT_ID, v1_checksum

BACK = "http://127.0.0.1/back"


def make(v1_settings, gateway, clock) -> PhonePeClient:
    return PhonePeClient(v1_settings, transport=gateway.transport(), clock=clock)


def test_pay_when_v1_then_signed_base64_body_and_checkout_url(v1_settings, gateway, clock) -> None:
    with make(v1_settings, gateway, clock) as client:
        result = client.create_payment(
            amount=1000,
            merchant_order_id="T1",
            redirect_url="http://127.0.0.1/r",
            callback_url="http://127.0.0.1/cb",
        )
    assert result.redirect_url == "http://127.0.0.1/pay/T1"
    assert result.state == "PENDING"
    request = gateway.requests[0]
    assert request.url.path.endswith("/pg/v1/pay")
    encoded = json.loads(request.content)["request"]
    body = json.loads(base64.b64decode(encoded))
    assert body["merchantId"] == MERCHANT_ID
    assert body["amount"] == 1000
    assert body["callbackUrl"] == "http://127.0.0.1/cb"
    assert body["paymentInstrument"] == {"type": "PAY_PAGE"}
    assert request.headers["x-verify"] == v1_checksum(encoded + "/pg/v1/pay")
    assert not any(p.endswith("/oauth/token") for p in gateway.paths())


@pytest.mark.parametrize(
    ("code", "state"),
    [
        ("PAYMENT_SUCCESS", "COMPLETED"),
        ("PAYMENT_PENDING", "PENDING"),
        ("PAYMENT_ERROR", "FAILED"),
        ("PAYMENT_DECLINED", "FAILED"),
        ("INTERNAL_SERVER_ERROR", "PENDING"),
        ("SOMETHING_NEW", "PENDING"),
    ],
)
def test_status_when_v1_code_then_mapped_to_v2_state(
    v1_settings, gateway, clock, code, state
) -> None:
    with make(v1_settings, gateway, clock) as client:
        client.create_payment(amount=1000, merchant_order_id="T2", redirect_url=BACK)
        gateway.orders["T2"]["code"] = code
        status = client.get_order_status("T2")
    assert status.state == state
    assert status.amount == 1000
    request = gateway.requests[-1]
    assert request.headers["x-merchant-id"] == MERCHANT_ID
    assert request.headers["x-verify"] == v1_checksum(f"/pg/v1/status/{MERCHANT_ID}/T2")


def test_status_when_v1_unknown_transaction_then_not_found(v1_settings, gateway, clock) -> None:
    with make(v1_settings, gateway, clock) as client, pytest.raises(NotFoundError):
        client.get_order_status("nope")


def test_refund_when_v1_then_refund_and_status_by_refund_id(v1_settings, gateway, clock) -> None:
    with make(v1_settings, gateway, clock) as client:
        refund = client.refund(
            original_merchant_order_id="T3", amount=500, merchant_refund_id="RF3"
        )
        gateway.orders["RF3"]["code"] = "PAYMENT_SUCCESS"
        status = client.get_refund_status("RF3")
    assert refund.state == "PENDING"
    assert refund.refund_id == "RTRF3"
    assert refund.amount == 500
    assert status.state == "COMPLETED"
    assert status.merchant_refund_id == "RF3"


def test_generated_id_when_v1_then_fits_35_chars(v1_settings, gateway, clock) -> None:
    with make(v1_settings, gateway, clock) as client:
        result = client.create_payment(amount=100, redirect_url=BACK)
    assert len(result.merchant_order_id) <= 35


def test_id_when_v1_and_longer_than_35_then_validation_error(v1_settings, gateway, clock) -> None:
    with make(v1_settings, gateway, clock) as client, pytest.raises(ValidationError) as info:
        client.create_payment(amount=100, merchant_order_id="x" * 36)
    assert "35" in str(info.value)


def test_pay_when_v1_wrong_salt_then_authentication_error(gateway, clock) -> None:
    settings = Settings.build(
        env="local", api_version="v1", salt_key="not-the-salt", base_urls="http://127.0.0.1:9/x"
    )
    client = PhonePeClient(settings, transport=gateway.transport(), clock=clock)
    with client, pytest.raises(AuthenticationError) as info:
        client.create_payment(amount=100, redirect_url=BACK)
    assert "not-the-salt" not in str(info.value)


def test_v1_when_credentials_missing_then_configuration_error() -> None:
    settings = Settings.build(env="local", api_version="v1").replace(salt_key=None)
    with pytest.raises(ConfigurationError):
        PhonePeClient(settings)


@pytest.mark.anyio
async def test_async_client_when_v1_then_same_calls(v1_settings, gateway, clock) -> None:
    async with AsyncPhonePeClient(
        v1_settings, transport=gateway.transport(), clock=clock
    ) as client:
        await client.create_payment(amount=1000, merchant_order_id="A1", redirect_url=BACK)
        gateway.orders["A1"]["code"] = "PAYMENT_SUCCESS"
        status = await client.get_order_status("A1")
    assert status.state == "COMPLETED"
    assert status.payment_details[0].payment_mode == "UPI"


def test_pay_when_v1_without_redirect_url_then_validation_error(
    v1_settings, gateway, clock
) -> None:
    with make(v1_settings, gateway, clock) as client, pytest.raises(ValidationError) as info:
        client.create_payment(amount=100)
    assert info.value.field == "redirect_url"
    assert gateway.requests == []
