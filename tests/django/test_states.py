"""The state machine: forward only, late authorisation flagged, one signal per transition,
refund reservations under the payment's lock, and the database's own money constraints."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from phonepe_gateway.django import states
from phonepe_gateway.django.exceptions import Conflict, RefundExceedsRemainder
from phonepe_gateway.django.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)

ALL = ("CREATED", "PENDING", "UNKNOWN", "COMPLETED", "FAILED")


def make_payment(state: str = "CREATED", amount: int = 10_000, **kw: object) -> Payment:
    return Payment.objects.create(
        merchant_order_id=f"MO-{Payment.objects.count()}-{state}", amount=amount, state=state, **kw
    )


@pytest.mark.parametrize("old", ALL)
@pytest.mark.parametrize("new", ALL)
def test_move_payment_any_pair_then_only_forward_moves_happen(
    old: str, new: str, signal_log
) -> None:
    payment = make_payment(old)
    moved = states.move_payment(payment.pk, new)
    allowed = new in states.PAYMENT_TRANSITIONS[old]
    assert moved.state == (new if allowed else old)
    expected_signal = {"COMPLETED": ["payment_completed"], "FAILED": ["payment_failed"]}
    assert signal_log.of(payment.merchant_order_id) == (
        expected_signal.get(new, []) if allowed else []
    )


def test_move_payment_completed_then_never_downgraded_and_failure_report_flagged() -> None:
    payment = make_payment("COMPLETED")
    for target in ("CREATED", "PENDING", "UNKNOWN", "FAILED"):
        assert states.move_payment(payment.pk, target).state == "COMPLETED"
    payment.refresh_from_db()
    assert payment.needs_review
    assert "FAILED for a COMPLETED" in payment.review_reason


def test_move_payment_failed_then_completed_is_recorded_and_flagged_late_authorisation(
    signal_log,
) -> None:
    payment = make_payment("PENDING")
    states.move_payment(payment.pk, "FAILED")
    moved = states.move_payment(payment.pk, "COMPLETED", info={"transaction_id": "T1"})
    assert moved.state == "COMPLETED"
    assert moved.needs_review
    assert "late authorisation" in moved.review_reason
    assert moved.completed_at is not None
    assert moved.transaction_id == "T1"
    assert signal_log.of(payment.merchant_order_id) == ["payment_failed", "payment_completed"]


def test_move_payment_repeated_then_signal_sent_once(signal_log) -> None:
    payment = make_payment("PENDING")
    for _ in range(5):
        states.move_payment(payment.pk, "COMPLETED")
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_move_payment_rolled_back_then_no_signal(signal_log) -> None:
    payment = make_payment("PENDING")

    def move_then_crash() -> None:
        with transaction.atomic():
            states.move_payment(payment.pk, "COMPLETED")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        move_then_crash()
    payment.refresh_from_db()
    assert payment.state == "PENDING"
    assert signal_log.of(payment.merchant_order_id) == []


def test_move_payment_inside_outer_transaction_then_signal_after_commit(signal_log) -> None:
    payment = make_payment("PENDING")
    with transaction.atomic():
        states.move_payment(payment.pk, "COMPLETED")
        assert signal_log.of(payment.merchant_order_id) == []
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_move_payment_empty_info_then_known_values_kept() -> None:
    payment = make_payment("PENDING", transaction_id="T9", payment_mode="UPI_QR")
    moved = states.move_payment(
        payment.pk, "COMPLETED", info={"transaction_id": None, "payment_mode": ""}
    )
    assert (moved.transaction_id, moved.payment_mode) == ("T9", "UPI_QR")


def test_move_payment_unknown_then_due_at_once_terminal_then_never_scheduled() -> None:
    payment = make_payment("CREATED")
    unknown = states.move_payment(payment.pk, "UNKNOWN")
    assert unknown.next_check_at is not None
    done = states.move_payment(payment.pk, "COMPLETED")
    assert done.next_check_at is None


def test_payment_amount_below_minimum_then_database_refuses() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_payment(amount=99)


def test_payment_refunded_more_than_amount_then_database_refuses() -> None:
    payment = make_payment("COMPLETED", amount=1000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=1001)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=-1)


def test_reserve_refund_within_remainder_then_amount_reserved() -> None:
    payment = make_payment("COMPLETED", amount=1000)
    refund = states.reserve_refund(payment.pk, amount=600, merchant_refund_id="R1")
    payment.refresh_from_db()
    assert refund.state == "CREATED"
    assert payment.refunded_amount == 600
    assert payment.refundable_amount == 400
    with pytest.raises(RefundExceedsRemainder) as info:
        states.reserve_refund(payment.pk, amount=401, merchant_refund_id="R2")
    assert info.value.details["refundable_amount"] == 400
    assert not Refund.objects.filter(merchant_refund_id="R2").exists()


@pytest.mark.parametrize("state", ["CREATED", "PENDING", "UNKNOWN", "FAILED"])
def test_reserve_refund_payment_not_completed_then_conflict(state: str) -> None:
    payment = make_payment(state)
    with pytest.raises(Conflict):
        states.reserve_refund(payment.pk, amount=100, merchant_refund_id="R1")
    assert payment.refundable_amount == 0


def test_move_refund_failed_then_reservation_released_and_signal_once(signal_log) -> None:
    payment = make_payment("COMPLETED", amount=1000)
    refund = states.reserve_refund(payment.pk, amount=700, merchant_refund_id="R1")
    states.move_refund(refund.pk, "PENDING")
    states.move_refund(refund.pk, "FAILED")
    states.move_refund(refund.pk, "FAILED")
    payment.refresh_from_db()
    assert payment.refunded_amount == 0
    assert signal_log.of("R1") == ["refund_failed"]


def test_move_refund_completed_then_stays_counted_and_never_downgraded(signal_log) -> None:
    payment = make_payment("COMPLETED", amount=1000)
    refund = states.reserve_refund(payment.pk, amount=700, merchant_refund_id="R1")
    states.move_refund(refund.pk, "COMPLETED")
    assert states.move_refund(refund.pk, "FAILED").state == "COMPLETED"
    payment.refresh_from_db()
    assert payment.refunded_amount == 700
    assert signal_log.of("R1") == ["refund_completed"]


def test_move_refund_failed_then_completed_recounted_and_flagged() -> None:
    payment = make_payment("COMPLETED", amount=1000)
    refund = states.reserve_refund(payment.pk, amount=700, merchant_refund_id="R1")
    states.move_refund(refund.pk, "FAILED")
    late = states.move_refund(refund.pk, "COMPLETED")
    payment.refresh_from_db()
    assert late.state == "COMPLETED"
    assert late.needs_review
    assert payment.refunded_amount == 700
    assert payment.needs_review


def test_move_refund_late_completion_beyond_amount_then_flagged_not_overcounted() -> None:
    payment = make_payment("COMPLETED", amount=1000)
    first = states.reserve_refund(payment.pk, amount=700, merchant_refund_id="R1")
    states.move_refund(first.pk, "FAILED")
    states.reserve_refund(payment.pk, amount=1000, merchant_refund_id="R2")
    states.move_refund(first.pk, "COMPLETED")
    payment.refresh_from_db()
    assert payment.refunded_amount == 1000
    assert "over-refund" in payment.review_reason


def test_discard_refund_created_then_deleted_and_released() -> None:
    payment = make_payment("COMPLETED", amount=1000)
    refund = states.reserve_refund(payment.pk, amount=300, merchant_refund_id="R1")
    states.discard_refund(refund.pk)
    payment.refresh_from_db()
    assert payment.refunded_amount == 0
    assert not Refund.objects.exists()


def test_acknowledge_payment_created_then_pending_with_info_and_generic_signal() -> None:
    from phonepe_gateway.django import signals

    seen = []

    def receiver(sender, payment, old_state, new_state, **kw) -> None:
        seen.append((old_state, new_state))

    signals.payment_state_changed.connect(receiver, weak=False)
    try:
        payment = make_payment("CREATED")
        acked = states.acknowledge_payment(
            payment, info={"checkout_url": "http://127.0.0.1/p", "gateway_order_id": "O" * 80}
        )
    finally:
        signals.payment_state_changed.disconnect(receiver)
    fresh = Payment.objects.get(pk=payment.pk)
    assert (acked.state, fresh.state) == ("PENDING", "PENDING")
    assert fresh.checkout_url == "http://127.0.0.1/p"
    assert fresh.gateway_order_id == "O" * 64  # fitted to the column
    assert seen == [("CREATED", "PENDING")]


def test_acknowledge_payment_already_completed_by_webhook_then_info_recorded_state_kept(
    signal_log,
) -> None:
    payment = make_payment("CREATED")
    states.move_payment(payment.pk, "COMPLETED")  # a confirmed webhook won the race
    acked = states.acknowledge_payment(payment, info={"checkout_url": "http://127.0.0.1/p"})
    assert acked.state == "COMPLETED"
    assert acked.checkout_url == "http://127.0.0.1/p"
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_changes_nothing_same_state_and_known_info_then_true_else_false() -> None:
    payment = make_payment("PENDING", transaction_id="T1")
    assert states.changes_nothing(
        payment, "PENDING", {"transaction_id": "T1", "payment_mode": None}
    )
    assert not states.changes_nothing(payment, "PENDING", {"transaction_id": "T2"})
    assert not states.changes_nothing(payment, "COMPLETED", {})
