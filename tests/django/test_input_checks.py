"""The services check amounts and ids with the core's own checks (one source for what
PhonePe would reject) and make ids the way the client does; bad input stores nothing."""

from __future__ import annotations

import pytest

from phonepe_gateway import MIN_AMOUNT, MIN_REFUND_AMOUNT, check_merchant_id
from phonepe_gateway.django import services
from phonepe_gateway.django.exceptions import InvalidRequest
from phonepe_gateway.django.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_payment_when_no_id_then_core_made_id_with_app_prefix(gateway) -> None:
    payment = services.create_payment(amount=MIN_AMOUNT)
    assert payment.merchant_order_id.startswith("MO")
    assert len(payment.merchant_order_id) == 30  # the core's format, fits generation 1 too
    assert check_merchant_id(payment.merchant_order_id, max_length=35)


@pytest.mark.parametrize(
    ("amount", "merchant_order_id", "field"),
    [
        (MIN_AMOUNT - 1, None, "amount"),
        (True, None, "amount"),
        (100.0, None, "amount"),
        (MIN_AMOUNT, "has space", "merchant_order_id"),
        (MIN_AMOUNT, 42, "merchant_order_id"),
    ],
)
def test_create_payment_when_core_check_fails_then_invalid_request_naming_field(
    gateway, amount, merchant_order_id, field
) -> None:
    with pytest.raises(InvalidRequest) as info:
        services.create_payment(amount=amount, merchant_order_id=merchant_order_id)
    assert info.value.details == {"field": field}
    assert not Payment.objects.exists()
    assert gateway.calls["create_payment"] == 0


@pytest.mark.parametrize(
    ("amount", "merchant_refund_id", "field"),
    [
        (MIN_REFUND_AMOUNT - 1, None, "amount"),
        (MIN_REFUND_AMOUNT, "r" * 64, "merchant_refund_id"),
    ],
)
def test_refund_payment_when_core_check_fails_then_invalid_request_nothing_reserved(
    gateway, amount, merchant_refund_id, field
) -> None:
    payment = services.create_payment(amount=10_000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    payment = services.sync_payment(payment)
    with pytest.raises(InvalidRequest) as info:
        services.refund_payment(payment, amount=amount, merchant_refund_id=merchant_refund_id)
    assert info.value.details == {"field": field}
    assert not Refund.objects.exists()
    assert gateway.calls["refund"] == 0


def test_refund_payment_when_one_paisa_then_accepted(gateway) -> None:
    payment = services.create_payment(amount=10_000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    refund = services.refund_payment(services.sync_payment(payment), amount=MIN_REFUND_AMOUNT)
    assert refund.merchant_refund_id.startswith("MR")
    assert refund.amount == MIN_REFUND_AMOUNT
