"""One purpose, one payment; completion only on a matching answer (fake gateway)."""

from __future__ import annotations

import pytest

from phonepe_gateway.django import services, signals
from phonepe_gateway.django.exceptions import Conflict
from phonepe_gateway.django.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def completions():
    seen: list[tuple[str, str | None]] = []

    def receiver(sender, payment, duplicate_of=None, **kw):
        seen.append((payment.merchant_order_id, duplicate_of))

    signals.payment_completed.connect(receiver, weak=False)
    yield seen
    signals.payment_completed.disconnect(receiver)


def _two_paid(gateway, reference: str = "ticket:1") -> tuple[Payment, Payment]:
    first = services.create_payment(amount=12_000, reference=reference)
    second = services.create_payment(amount=12_000, reference=reference)
    gateway.settle(first.merchant_order_id, "COMPLETED")
    gateway.settle(second.merchant_order_id, "COMPLETED")
    return services.sync_payment(first), services.sync_payment(second)


def test_second_completion_for_a_reference_then_flagged_and_signal_says_so(
    gateway, completions
) -> None:
    first, second = _two_paid(gateway)
    assert first.state == second.state == "COMPLETED"
    assert not first.needs_review
    assert second.needs_review
    assert second.duplicate_of == first.merchant_order_id
    assert "paid twice" in second.review_reason
    assert completions == [
        (first.merchant_order_id, None),
        (second.merchant_order_id, first.merchant_order_id),
    ]
    assert not Refund.objects.exists()  # the host did not enable automatic refunds


def test_second_completion_with_refund_duplicates_then_refunded_once_with_reason(
    gateway, settings
) -> None:
    settings.PHONEPE = {"refund_duplicates": True}
    first, second = _two_paid(gateway)
    refund = Refund.objects.get()
    assert refund.payment_id == second.pk
    assert refund.amount == 12_000
    assert first.merchant_order_id in refund.reason
    assert refund.merchant_refund_id == services.duplicate_refund_id(second)
    # Again from the reconciler's sweep and the sync path: still one refund at the gateway.
    assert services.refund_duplicates() == 0
    services.refund_duplicate(Payment.objects.get(pk=second.pk))
    assert gateway.calls["refund"] == 1
    assert len(gateway.refunds) == 1


def test_new_link_for_a_reference_then_open_ones_synced_and_paid_refused(gateway) -> None:
    first = services.create_payment(amount=9000, reference="ticket:2")
    gateway.settle(first.merchant_order_id, "COMPLETED")  # paid, the ledger does not know yet
    with pytest.raises(Conflict) as info:
        services.create_payment(amount=9000, reference="ticket:2")
    assert info.value.code == "reference_already_paid"
    assert Payment.objects.get(pk=first.pk).state == "COMPLETED"
    assert Payment.objects.count() == 1
    assert gateway.calls["create_payment"] == 1


def test_completed_without_amount_then_flagged_never_completed(gateway, monkeypatch) -> None:
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    real = gateway.get_order_status
    monkeypatch.setattr(
        gateway,
        "get_order_status",
        lambda moid, **kw: real(moid, **kw).model_copy(update={"amount": None}),
    )
    synced = services.sync_payment(payment)
    assert synced.state == "PENDING"
    assert synced.needs_review
    assert "without an amount" in synced.review_reason


def test_completed_naming_another_order_then_flagged_never_completed(gateway, monkeypatch) -> None:
    payment = services.create_payment(amount=5000)
    other = services.create_payment(amount=5000)
    gateway.settle(other.merchant_order_id, "COMPLETED")
    monkeypatch.setattr(
        gateway,
        "get_order_status",
        lambda moid, real=gateway.get_order_status, **kw: real(other.merchant_order_id, **kw),
    )
    synced = services.sync_payment(payment)
    assert synced.state == "PENDING"
    assert synced.needs_review
    assert other.merchant_order_id in synced.review_reason


def test_crash_between_commit_and_signal_then_reconciler_sends_it_exactly_once(
    gateway, completions, monkeypatch
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from phonepe_gateway.django import reconcile, states

    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    real = states.deliver_completion
    monkeypatch.setattr(states, "deliver_completion", lambda pk: False)  # the process died
    assert services.sync_payment(payment).state == "COMPLETED"
    assert completions == []
    monkeypatch.setattr(states, "deliver_completion", real)
    later = timezone.now() + timedelta(seconds=11)
    assert reconcile.redeliver_completions(later, 100) == 1
    assert reconcile.redeliver_completions(later, 100) == 0
    assert completions == [(payment.merchant_order_id, None)]


def test_receiver_database_write_rolls_back_with_the_claim_when_it_fails(
    gateway, monkeypatch
) -> None:
    from phonepe_gateway.django import states

    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    monkeypatch.setattr(states, "deliver_completion", lambda pk: False)
    services.sync_payment(payment)
    monkeypatch.undo()

    class Died(BaseException):
        pass

    def receiver(sender, payment, **kw):
        raise Died  # the process dies inside the receiver: nothing of it may commit

    signals.payment_completed.connect(receiver, weak=False)
    try:
        with pytest.raises(Died):
            states.deliver_completion(payment.pk)
    finally:
        signals.payment_completed.disconnect(receiver)
    assert Payment.objects.get(pk=payment.pk).completion_signalled_at is None


def test_purpose_paid_again_after_a_full_refund_then_not_a_duplicate(gateway) -> None:
    first = services.create_payment(amount=12_000, reference="ticket:9")
    gateway.settle(first.merchant_order_id, "COMPLETED")
    services.sync_payment(first)
    services.refund_payment(first.merchant_order_id, amount=12_000)
    again = services.create_payment(amount=12_000, reference="ticket:9")
    gateway.settle(again.merchant_order_id, "COMPLETED")
    again = services.sync_payment(again)
    assert again.state == "COMPLETED"
    assert not again.duplicate_of
    assert not again.needs_review


def test_duplicate_partly_refunded_by_the_merchant_then_the_remainder_is_refunded(
    gateway, settings
) -> None:
    # Found by the chaos campaign: the automatic refund asked for the full amount and
    # was refused, so the remainder was never refunded.
    _first, second = _two_paid(gateway)
    services.refund_payment(second.merchant_order_id, amount=2_000)
    settings.PHONEPE = {"refund_duplicates": True}
    assert services.refund_duplicates() == 1
    second = Payment.objects.get(pk=second.pk)
    assert second.refunded_amount == second.amount
    automatic = Refund.objects.get(merchant_refund_id=services.duplicate_refund_id(second))
    assert automatic.amount == 10_000


def test_duplicate_whose_automatic_refund_failed_then_tried_again_under_a_new_id(
    gateway, settings
) -> None:
    from phonepe_gateway._errors import GatewayError

    settings.PHONEPE = {"refund_duplicates": True}
    gateway.fail_next("refund", GatewayError("refused", http_status=400, code="BAD_REQUEST"))
    _first, second = _two_paid(gateway)
    failed = Refund.objects.get()
    assert failed.state == "FAILED"
    assert services.refund_duplicates() == 1
    assert services.refund_duplicates() == 0
    retried = Refund.objects.exclude(pk=failed.pk).get()
    assert retried.merchant_refund_id == services.duplicate_refund_id(second) + "-2"
    assert retried.amount == 12_000
    assert len(gateway.refunds) == 1
