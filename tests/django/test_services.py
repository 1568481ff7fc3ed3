"""Services over a fake gateway: store first, UNKNOWN when the request may have been sent,
FAILED only when certainly not, nothing stored for invalid input, amounts confirmed."""

from __future__ import annotations

import pytest

from phonepe_gateway._errors import (
    AuthenticationError,
    Category,
    GatewayServerError,
    RateLimitedError,
    TransportError,
)
from phonepe_gateway.django import services
from phonepe_gateway.django.exceptions import (
    Conflict,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    RefundExceedsRemainder,
)
from phonepe_gateway.django.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)


def sent_timeout() -> TransportError:
    return TransportError("read timed out", category=Category.READ_TIMEOUT, request_sent=True)


def refused() -> TransportError:
    return TransportError("refused", category=Category.CONNECTION_REFUSED, request_sent=False)


def completed_payment(gateway, amount: int = 10_000) -> Payment:
    payment = services.create_payment(amount=amount)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    return services.sync_payment(payment)


def test_create_payment_gateway_accepts_then_pending_with_checkout(gateway) -> None:
    payment = services.create_payment(
        amount=12_345, reference="parking-session:42", metadata={"a": 1}
    )
    assert payment.state == "PENDING"
    assert payment.checkout_url.startswith("http://127.0.0.1")
    assert payment.gateway_order_id
    assert payment.expires_at
    assert payment.reference == "parking-session:42"
    assert payment.metadata == {"a": 1}
    assert payment.next_check_at is not None
    assert gateway.orders[payment.merchant_order_id].amount == 12_345


def test_create_payment_given_id_twice_then_conflict_and_one_gateway_order(gateway) -> None:
    services.create_payment(amount=1000, merchant_order_id="ORDER-1")
    with pytest.raises(Conflict):
        services.create_payment(amount=1000, merchant_order_id="ORDER-1")
    assert gateway.calls["create_payment"] == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": 99}, "amount"),
        ({"amount": 100.0}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 1000, "merchant_order_id": "bad id!"}, "merchant_order_id"),
        ({"amount": 1000, "merchant_order_id": "x" * 64}, "merchant_order_id"),
        ({"amount": 1000, "reference": "r" * 256}, "reference"),
        ({"amount": 1000, "reference": 42}, "reference"),
        ({"amount": 1000, "metadata": ["not", "an", "object"]}, "metadata"),
    ],
)
def test_create_payment_invalid_input_then_invalid_request_nothing_stored_or_sent(
    gateway, kwargs, field
) -> None:
    with pytest.raises(InvalidRequest) as info:
        services.create_payment(**kwargs)
    assert info.value.details["field"] == field
    assert not Payment.objects.exists()
    assert gateway.calls["create_payment"] == 0


def test_create_payment_client_validation_error_then_row_removed(gateway, monkeypatch) -> None:
    from phonepe_gateway._errors import ValidationError

    def reject(**kw):
        raise ValidationError("udf1 too long", field="meta_info")

    monkeypatch.setattr(gateway, "create_payment", reject)
    with pytest.raises(InvalidRequest):
        services.create_payment(amount=1000)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("error", "act"),
    [
        (sent_timeout(), True),
        (sent_timeout(), False),
        (GatewayServerError("502", http_status=502), False),
        (TransportError("reset", category=Category.CONNECTION_RESET, request_sent=True), True),
    ],
)
def test_create_payment_maybe_sent_then_unknown_never_failed(
    gateway, signal_log, error, act
) -> None:
    gateway.fail_next("create_payment", error, act=act)
    with pytest.raises(GatewayUnavailable) as info:
        services.create_payment(amount=5000)
    payment = info.value.payment
    payment.refresh_from_db()
    assert payment.state == "UNKNOWN"
    assert info.value.details["state"] == "UNKNOWN"
    assert info.value.code == "gateway_outcome_unknown"
    assert signal_log.events == []


@pytest.mark.parametrize(
    ("error", "category"),
    [
        (refused(), "CONNECTION_REFUSED"),
        (TransportError("dns", category=Category.DNS_FAILURE, request_sent=False), "DNS_FAILURE"),
        (AuthenticationError("401", http_status=401, code="UNAUTHORIZED"), ""),
        (RateLimitedError("429", http_status=429), ""),
    ],
)
def test_create_payment_certainly_not_acted_then_failed_with_category(
    gateway, signal_log, error, category
) -> None:
    gateway.fail_next("create_payment", error)
    with pytest.raises(GatewayUnavailable) as info:
        services.create_payment(amount=5000)
    payment = Payment.objects.get()
    assert payment.state == "FAILED"
    assert payment.error_category == category
    assert payment.next_check_at is None
    assert info.value.details["state"] == "FAILED"
    assert signal_log.of(payment.merchant_order_id) == ["payment_failed"]


def test_sync_payment_gateway_completed_then_completed_with_details(gateway, signal_log) -> None:
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    synced = services.sync_payment(payment.merchant_order_id)
    assert synced.state == "COMPLETED"
    assert synced.payment_mode == "UPI_QR"
    assert synced.transaction_id
    services.sync_payment(payment.merchant_order_id)
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_sync_payment_amount_differs_then_flagged_never_completed(gateway) -> None:
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    gateway.reported_amount[payment.merchant_order_id] = 100
    synced = services.sync_payment(payment)
    assert synced.state == "PENDING"
    assert synced.needs_review
    assert "amount mismatch" in synced.review_reason


def test_sync_payment_unknown_order_then_not_found() -> None:
    with pytest.raises(NotFound):
        services.sync_payment("nope")


def test_sync_payment_gateway_down_then_gateway_unavailable_state_kept(gateway) -> None:
    payment = services.create_payment(amount=5000)
    gateway.fail_next("order_status", refused())
    with pytest.raises(GatewayUnavailable) as info:
        services.sync_payment(payment)
    assert info.value.http_status == 503
    payment.refresh_from_db()
    assert payment.state == "PENDING"


def test_sync_payment_unknown_and_order_missing_then_failed_only_after_in_flight_window(
    gateway,
) -> None:
    gateway.fail_next("create_payment", sent_timeout())  # not acted: the order never existed
    with pytest.raises(GatewayUnavailable):
        services.create_payment(amount=5000)
    payment = Payment.objects.get()
    assert services.sync_payment(payment).state == "UNKNOWN"
    later = payment.created_at + __import__("datetime").timedelta(seconds=61)
    assert services.sync_payment(payment, now=later).state == "FAILED"


def test_sync_payment_lost_response_then_unknown_resolved_to_gateway_truth(
    gateway, signal_log
) -> None:
    gateway.fail_next("create_payment", sent_timeout(), act=True)
    with pytest.raises(GatewayUnavailable):
        services.create_payment(amount=5000)
    payment = Payment.objects.get()
    assert services.sync_payment(payment).state == "PENDING"
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    assert services.sync_payment(payment).state == "COMPLETED"
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_sync_payment_gateway_down_then_unreachable_error_and_state_kept(gateway) -> None:
    gateway.fail_next("create_payment", sent_timeout(), act=True)
    with pytest.raises(GatewayUnavailable):
        services.create_payment(amount=5000)
    payment = Payment.objects.get()
    gateway.fail_next("order_status", sent_timeout())
    with pytest.raises(GatewayUnavailable) as info:
        services.sync_payment(payment)
    error = info.value
    assert (error.code, error.http_status) == ("gateway_unreachable", 503)
    assert error.details == {
        "state": "UNKNOWN",
        "merchant_order_id": payment.merchant_order_id,
        "category": "READ_TIMEOUT",
    }
    assert "stays UNKNOWN" in error.message  # not the create call's "answer was lost"
    assert error.payment == payment
    assert Payment.objects.get().state == "UNKNOWN"


def test_sync_refund_gateway_down_then_unreachable_error_and_state_kept(gateway) -> None:
    payment = completed_payment(gateway)
    refund = services.refund_payment(payment, amount=1000)
    gateway.fail_next("refund_status", refused())
    with pytest.raises(GatewayUnavailable) as info:
        services.sync_refund(refund)
    assert (info.value.code, info.value.http_status) == ("gateway_unreachable", 503)
    assert info.value.details["state"] == "PENDING"
    assert info.value.refund == refund


def test_refund_payment_within_remainder_then_pending_and_reserved(gateway) -> None:
    payment = completed_payment(gateway, 10_000)
    refund = services.refund_payment(payment, amount=4000, reason="customer asked")
    assert refund.state == "PENDING"
    assert refund.gateway_refund_id
    payment.refresh_from_db()
    assert payment.refunded_amount == 4000
    assert payment.refundable_amount == 6000
    with pytest.raises(RefundExceedsRemainder):
        services.refund_payment(payment, amount=6001)
    assert gateway.calls["refund"] == 1


def test_refund_payment_pending_payment_then_conflict_nothing_sent(gateway) -> None:
    payment = services.create_payment(amount=5000)
    with pytest.raises(Conflict):
        services.refund_payment(payment, amount=100)
    assert gateway.calls["refund"] == 0
    assert not Refund.objects.exists()


def test_refund_payment_unknown_payment_then_synced_first(gateway) -> None:
    gateway.fail_next("create_payment", sent_timeout(), act=True)
    with pytest.raises(GatewayUnavailable):
        services.create_payment(amount=5000)
    payment = Payment.objects.get()
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    refund = services.refund_payment(payment.merchant_order_id, amount=5000)
    assert refund.state == "PENDING"
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"
    assert payment.refundable_amount == 0


def test_refund_payment_refused_then_failed_and_released(gateway, signal_log) -> None:
    payment = completed_payment(gateway)
    gateway.fail_next("refund", refused())
    with pytest.raises(GatewayUnavailable) as info:
        services.refund_payment(payment, amount=3000, merchant_refund_id="R-1")
    assert info.value.refund.state == "FAILED"
    payment.refresh_from_db()
    assert payment.refunded_amount == 0
    assert signal_log.of("R-1") == ["refund_failed"]


def test_refund_payment_timeout_after_send_then_unknown_keeps_reservation(gateway) -> None:
    payment = completed_payment(gateway)
    gateway.fail_next("refund", sent_timeout(), act=True)
    with pytest.raises(GatewayUnavailable) as info:
        services.refund_payment(payment, amount=3000, merchant_refund_id="R-1")
    assert info.value.refund.state == "UNKNOWN"
    payment.refresh_from_db()
    assert payment.refunded_amount == 3000
    gateway.settle_refund("R-1", "COMPLETED")
    assert services.sync_refund("R-1").state == "COMPLETED"


def test_refund_payment_duplicate_id_then_conflict(gateway) -> None:
    payment = completed_payment(gateway)
    services.refund_payment(payment, amount=100, merchant_refund_id="R-1")
    with pytest.raises(Conflict):
        services.refund_payment(payment, amount=100, merchant_refund_id="R-1")
    payment.refresh_from_db()
    assert payment.refunded_amount == 100


def test_sync_refund_gateway_failed_then_released_signal_once(gateway, signal_log) -> None:
    payment = completed_payment(gateway)
    services.refund_payment(payment, amount=3000, merchant_refund_id="R-1")
    gateway.settle_refund("R-1", "FAILED")
    assert services.sync_refund("R-1").state == "FAILED"
    assert services.sync_refund("R-1").state == "FAILED"
    payment.refresh_from_db()
    assert payment.refunded_amount == 0
    assert signal_log.of("R-1") == ["refund_failed"]
