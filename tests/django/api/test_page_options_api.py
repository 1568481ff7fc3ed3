"""The hosted page's options through the app: `POST /api/payments` and
`services.create_payment` hand `payment_modes`, `disable_payment_retry` and
`prefill_phone` to PhonePe (the sandbox records what arrived); bad ones, or any of them
with an instrument, are refused before anything is stored or sent."""

from __future__ import annotations

from typing import Any

import pytest

from phonepe_gateway import PaymentModes, UpiQr
from phonepe_gateway.django import services
from phonepe_gateway.django.exceptions import InvalidRequest
from phonepe_gateway.django.models import IdempotencyRecord, Payment

from .conftest import post_json

pytestmark = pytest.mark.django_db(transaction=True)

OPTIONS = {
    "payment_modes": {"enabled": ["UPI_QR", "DEBIT_CARD"]},
    "disable_payment_retry": True,
    "prefill_phone": "9876543210",
}


def _nothing_stored_or_sent(control: Any) -> None:
    assert not Payment.objects.exists()
    assert control.get("/_sandbox/orders").json()["orders"] == []


def test_create_with_page_options_then_phonepe_gets_them(api, control) -> None:
    created = post_json(api, "/api/payments", {"amount": 4000, **OPTIONS})
    assert created.status_code == 201, created.content
    assert created.json()["checkout_url"]
    order = control.get(f"/_sandbox/orders/{created.json()['merchant_order_id']}").json()
    assert order["paymentModeConfig"] == {
        "enabledPaymentModes": [{"type": "UPI_QR"}, {"type": "CARD", "cardTypes": ["DEBIT_CARD"]}]
    }
    assert order["disablePaymentRetry"] is True
    assert order["prefillUserLoginDetails"] == {"phoneNumber": "9876543210"}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"payment_modes": {"enabled": ["UPI_QR"], "disabled": ["UPI_QR"]}}, "payment_modes"),
        ({"payment_modes": {}}, "payment_modes"),
        ({"payment_modes": {"enabled": ["WALLET"]}}, "payment_modes"),
        ({"prefill_phone": "+919876543210"}, "prefill_phone"),
        ({"disable_payment_retry": "yes"}, "disable_payment_retry"),
        ({"instrument": {"type": "UPI_QR"}, "prefill_phone": "9876543210"}, "instrument"),
    ],
)
def test_create_with_bad_page_options_then_422_and_nothing_stored(
    api, control, extra: dict[str, Any], field: str
) -> None:
    response = post_json(api, "/api/payments", {"amount": 4000, **extra})
    assert response.status_code == 422, response.content
    assert field in str(response.json()["error"].get("details", "")) + response.text
    _nothing_stored_or_sent(control)


def test_idempotency_when_options_at_defaults_then_fingerprint_as_before(api, control) -> None:
    """Keys stored before these fields existed still match a replay of the same body."""
    first = post_json(api, "/api/payments", {"amount": 4000}, HTTP_IDEMPOTENCY_KEY="old-1")
    fingerprint = IdempotencyRecord.objects.get().request_fingerprint
    same = post_json(
        api,
        "/api/payments",
        {"amount": 4000, "disable_payment_retry": False, "prefill_phone": None},
        HTTP_IDEMPOTENCY_KEY="old-1",
    )
    assert same.status_code == first.status_code == 201
    assert same.json() == first.json()
    assert IdempotencyRecord.objects.get().request_fingerprint == fingerprint
    other = post_json(
        api, "/api/payments", {"amount": 4000, **OPTIONS}, HTTP_IDEMPOTENCY_KEY="old-1"
    )
    assert other.status_code == 409  # the same key for a different request
    assert Payment.objects.count() == 1


def test_services_with_page_options_then_sent_and_with_instrument_refused(phonepe, control) -> None:
    payment = services.create_payment(
        amount=2500, payment_modes=PaymentModes(disabled=("NET_BANKING",)), prefill_phone=None
    )
    order = control.get(f"/_sandbox/orders/{payment.merchant_order_id}").json()
    assert order["paymentModeConfig"] == {"disabledPaymentModes": [{"type": "NET_BANKING"}]}
    with pytest.raises(InvalidRequest) as refused:
        services.create_payment(amount=2500, instrument=UpiQr(), disable_payment_retry=True)
    assert refused.value.details == {"field": "instrument"}
    with pytest.raises(InvalidRequest) as bad_phone:
        services.create_payment(amount=2500, prefill_phone="12345")
    assert bad_phone.value.details == {"field": "prefill_phone"}
    assert Payment.objects.count() == 1  # only the first
