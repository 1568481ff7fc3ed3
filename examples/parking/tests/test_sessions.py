"""Sessions: bays are assigned and freed, exit fixes the fee, only a matching payment pays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lots import services
from lots.models import Lot, ParkingSession, SessionState
from phonepe_gateway.django.models import Payment
from phonepe_gateway.django.signals import payment_completed


def complete(session: ParkingSession, amount: int, order: str = "MO-test-1") -> Payment:
    """A payment as the payments app stores it, announced as its signal announces it."""
    payment = Payment.objects.create(
        merchant_order_id=order,
        amount=amount,
        reference=session.reference,
        state="COMPLETED",
        completed_at=timezone.now(),
    )
    payment_completed.send(sender=Payment, payment=payment)
    return payment


def test_start_when_bays_free_then_first_free_bay_and_canonical_plate(lot: Lot) -> None:
    first = services.start_session(lot, "ka 01 ab 1234")
    second = services.start_session(lot, "22 BH 1234 AA")
    assert (first.bay.code, second.bay.code) == ("A-01", "A-02")
    assert first.plate == "KA01AB1234"
    assert services.free_bays(lot) == 1


def test_start_when_lot_full_then_refused(lot: Lot) -> None:
    for plate in ("MH01AA0001", "MH01AA0002", "MH01AA0003"):
        services.start_session(lot, plate)
    with pytest.raises(services.LotFull):
        services.start_session(lot, "MH01AA0004")


def test_start_when_vehicle_already_parked_then_refused(lot: Lot) -> None:
    services.start_session(lot, "MH12AB1234")
    with pytest.raises(services.AlreadyParked):
        services.start_session(lot, "MH 12 AB 1234")


def test_exit_when_past_grace_then_fee_fixed_and_payment_due(lot: Lot) -> None:
    now = timezone.now()
    session = services.start_session(lot, "MH12AB1234", now=now - timedelta(minutes=61))
    session = services.request_exit(session, now=now)
    assert (session.state, session.fee, session.exit_at) == (SessionState.PAYMENT_DUE, 8000, now)
    assert services.free_bays(lot) == 2  # the car still stands in its bay until it pays


def test_exit_when_within_grace_then_free_and_bay_released(lot: Lot) -> None:
    session = services.start_session(lot, "MH12AB1234", now=timezone.now() - timedelta(minutes=5))
    session = services.request_exit(session)
    assert (session.state, session.fee) == (SessionState.FREE, 0)
    assert services.free_bays(lot) == 3


def test_exit_when_asked_twice_then_fee_not_recomputed(due: ParkingSession) -> None:
    again = services.request_exit(due, now=timezone.now() + timedelta(hours=5))
    assert (again.fee, again.exit_at) == (due.fee, due.exit_at)


def test_signal_when_payment_matches_fee_then_paid_and_bay_freed(due: ParkingSession) -> None:
    assert due.fee == 12000
    complete(due, 12000)
    due.refresh_from_db()
    assert due.state == SessionState.PAID
    assert due.paid_order_id == "MO-test-1"
    assert services.free_bays(due.lot) == 3


def test_signal_when_amount_differs_then_session_not_paid(due: ParkingSession) -> None:
    complete(due, 100)
    due.refresh_from_db()
    assert due.state == SessionState.PAYMENT_DUE


def test_signal_when_reference_is_foreign_then_ignored(due: ParkingSession) -> None:
    payment = Payment.objects.create(
        merchant_order_id="MO-other", amount=12000, reference="invoice:7", state="COMPLETED"
    )
    payment_completed.send(sender=Payment, payment=payment)
    due.refresh_from_db()
    assert due.state == SessionState.PAYMENT_DUE


def test_signal_when_delivered_twice_then_first_payment_kept(due: ParkingSession) -> None:
    complete(due, 12000, "MO-first")
    complete(due, 12000, "MO-second")
    due.refresh_from_db()
    assert (due.state, due.paid_order_id) == (SessionState.PAID, "MO-first")


def test_signal_when_session_still_parked_then_not_paid(parked: ParkingSession) -> None:
    complete(parked, 12000)
    parked.refresh_from_db()
    assert parked.state == SessionState.PARKED


def test_no_state_change_without_signal_when_payment_row_completes(due: ParkingSession) -> None:
    Payment.objects.create(
        merchant_order_id="MO-quiet", amount=12000, reference=due.reference, state="COMPLETED"
    )
    due.refresh_from_db()
    assert due.state == SessionState.PAYMENT_DUE


def test_signal_when_settling_fails_then_logged_not_raised(
    due: ParkingSession, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(payment: Payment) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "record_payment_completed", broken)
    complete(due, 12000)  # must not raise into the payments app
    assert "could not settle the ticket" in caplog.text
