"""Booking ahead: price, cancellation policy, a bay held only once paid, entry, refunds.

Payments go to a real sandbox on loopback; the sandbox's control API plays the driver
paying, and ``sync_payment`` / ``sync_refund`` bring its answer back the way the
reconciler would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from lots import booking_entry, bookings, services
from lots.bookings import POLICY, BookingError, CancellationPolicy
from lots.models import Booking, BookingState, Lot, ParkingSession, SessionState
from phonepe_gateway.django import services as payments
from phonepe_gateway.django.models import Payment, Refund

# The payments app signals after commit: the tests need real commits.
pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.get_fixed_timezone(330))


# -- the policy and the price (pure) ------------------------------------------------------


@pytest.mark.parametrize(
    ("before_start", "refund"),
    [
        (timedelta(days=2), 10000),
        (timedelta(hours=2), 10000),  # exactly at the cut-off: still in full
        (timedelta(hours=2) - timedelta(seconds=1), 5000),
        (timedelta(minutes=1), 5000),
        (timedelta(0), 0),  # the window has started
        (-timedelta(hours=1), 0),
    ],
)
def test_policy_when_cancelled_then_full_before_cutoff_partial_after_none_once_started(
    before_start: timedelta, refund: int
) -> None:
    assert POLICY.refund_for(10000, START, START - before_start) == refund


def test_policy_when_share_not_whole_paise_then_rounded_down() -> None:
    policy = CancellationPolicy(full_refund_before=timedelta(hours=1), late_refund_percent=33)
    assert policy.refund_for(12001, START, START - timedelta(minutes=5)) == 3960


def test_policy_when_share_out_of_range_then_refused() -> None:
    with pytest.raises(ValueError, match="0-100"):
        CancellationPolicy(full_refund_before=timedelta(hours=1), late_refund_percent=101)


def test_price_when_window_given_then_every_started_hour_capped_per_day(lot: Lot) -> None:
    assert bookings.price_for(lot, START, START + timedelta(hours=2)) == 8000
    assert bookings.price_for(lot, START, START + timedelta(hours=12)) == 30000  # the daily cap


# -- making a booking --------------------------------------------------------------------


def _book(
    lot: Lot, plate: str = "MH 12 AB 1234", *, in_hours: float = 5, hours: int = 2
) -> Booking:
    start = timezone.now() + timedelta(hours=in_hours)
    return bookings.create_booking(lot, plate, start, hours)


def test_create_when_valid_then_awaiting_payment_with_price_policy_and_no_bay(lot: Lot) -> None:
    booking = _book(lot)
    assert booking.state == BookingState.AWAITING_PAYMENT
    assert booking.bay is None
    assert booking.price == 8000
    assert (booking.full_refund_minutes, booking.late_refund_percent) == (120, 50)
    assert booking.plate == "MH12AB1234"


@pytest.mark.parametrize(
    ("in_hours", "hours", "message"),
    [
        (-1, 2, "has passed"),
        (24 * 8, 2, "7 days ahead"),
        (3, 5, "Choose a length"),
    ],
)
def test_create_when_window_invalid_then_refused_and_nothing_stored(
    lot: Lot, in_hours: float, hours: int, message: str
) -> None:
    with pytest.raises(BookingError, match=message):
        _book(lot, in_hours=in_hours, hours=hours)
    assert not Booking.objects.exists()


def _hold(booking: Booking, bay_index: int = 0) -> Booking:
    """Mark a booking paid on a bay directly (for availability tests only)."""
    Booking.objects.filter(pk=booking.pk).update(
        state=BookingState.PAID, bay=booking.lot.bays.order_by("code")[bay_index]
    )
    booking.refresh_from_db()
    return booking


def test_create_when_every_bay_booked_for_an_overlapping_window_then_sold_out(lot: Lot) -> None:
    for i, plate in enumerate(["KA 01 AB 0001", "KA 01 AB 0002", "KA 01 AB 0003"]):
        _hold(_book(lot, plate, in_hours=5, hours=2), i)
    with pytest.raises(bookings.SoldOut):
        _book(lot, in_hours=6, hours=2)
    assert _book(lot, in_hours=7, hours=1).state == BookingState.AWAITING_PAYMENT  # after them


def test_create_when_unpaid_bookings_fill_the_lot_then_still_bookable(lot: Lot) -> None:
    for plate in ["KA 01 AB 0001", "KA 01 AB 0002", "KA 01 AB 0003"]:
        _book(lot, plate)
    assert _book(lot).state == BookingState.AWAITING_PAYMENT  # only paid ones hold a bay


def test_create_when_vehicle_already_booked_then_refused(lot: Lot) -> None:
    _hold(_book(lot))
    with pytest.raises(BookingError, match="already has a booking"):
        _book(lot, in_hours=6)


def test_walk_in_when_bay_booked_from_soon_then_takes_another_bay(lot: Lot) -> None:
    booking = _hold(_book(lot, in_hours=0.5))
    session = services.start_session(lot, "KA 02 CD 1111")
    assert session.bay != booking.bay


# -- paying -------------------------------------------------------------------------------


def _complete(gateway: Any, payment: Payment) -> Payment:
    control = f"{gateway.url}/_sandbox/orders/{payment.merchant_order_id}/complete"
    httpx.post(control, json={}).raise_for_status()
    return payments.sync_payment(payment)


def _pay(booking: Booking, gateway: Any) -> Booking:
    payment = bookings.start_payment(booking, redirect_url="http://127.0.0.1/return")
    _complete(gateway, payment)
    booking.refresh_from_db()
    return booking


def test_pay_when_completed_then_paid_and_a_bay_held(lot: Lot, gateway: Any) -> None:
    booking = _pay(_book(lot), gateway)
    assert booking.state == BookingState.PAID
    assert booking.bay is not None
    assert (
        booking.paid_order_id == Payment.objects.get(reference=booking.reference).merchant_order_id
    )


def test_pay_when_started_twice_then_the_open_order_is_reused(lot: Lot, gateway: Any) -> None:
    booking = _book(lot)
    first = bookings.start_payment(booking, redirect_url="http://127.0.0.1/return")
    again = bookings.start_payment(booking, redirect_url="http://127.0.0.1/return")
    assert first.pk == again.pk
    assert first.amount == booking.price


def test_pay_when_last_bay_taken_meanwhile_then_cancelled_and_refunded_in_full(
    lot: Lot, gateway: Any
) -> None:
    booking = _book(lot)
    payment = bookings.start_payment(booking, redirect_url="http://127.0.0.1/return")
    for i, plate in enumerate(["KA 01 AB 0001", "KA 01 AB 0002", "KA 01 AB 0003"]):
        _hold(_book(lot, plate), i)  # others paid first
    _complete(gateway, payment)
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED
    assert booking.bay is None
    assert booking.refund_amount == booking.price
    assert "Every bay was taken" in booking.cancel_reason
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.merchant_refund_id) == (booking.price, f"BK{booking.pk}R1")


def test_pay_when_order_fails_then_unpaid_booking_expires(lot: Lot, gateway: Any) -> None:
    booking = _book(lot)
    payment = bookings.start_payment(booking, redirect_url="http://127.0.0.1/return")
    control = f"{gateway.url}/_sandbox/orders/{payment.merchant_order_id}/fail"
    httpx.post(control, json={}).raise_for_status()
    payments.sync_payment(payment)
    booking.refresh_from_db()
    assert booking.state == BookingState.EXPIRED
    assert booking.bay is None
    with pytest.raises(BookingError):
        bookings.start_payment(booking, redirect_url="http://127.0.0.1/return")


def test_pay_when_paid_after_cancelling_unpaid_then_refunded_in_full(
    lot: Lot, gateway: Any
) -> None:
    booking = _book(lot)
    payment = bookings.start_payment(booking, redirect_url="http://127.0.0.1/return")
    bookings.cancel(booking)
    _complete(gateway, payment)
    booking.refresh_from_db()
    assert (booking.state, booking.bay, booking.refund_amount) == ("CANCELLED", None, 8000)
    assert Refund.objects.filter(payment=payment, amount=8000).exists()


def test_unpaid_when_no_payment_started_for_long_then_expires(lot: Lot) -> None:
    booking = _book(lot)
    bookings.expire_unpaid(booking, now=timezone.now() + bookings.UNPAID_TTL + timedelta(minutes=1))
    booking.refresh_from_db()
    assert booking.state == BookingState.EXPIRED


# -- cancelling ----------------------------------------------------------------------------


@pytest.mark.parametrize(("in_hours", "refund"), [(5, 8000), (1, 4000)])
def test_cancel_when_paid_then_refund_by_policy_started(
    lot: Lot, gateway: Any, in_hours: float, refund: int
) -> None:
    booking = _pay(_book(lot, in_hours=in_hours), gateway)
    assert bookings.refund_preview(booking) == refund
    booking = bookings.cancel(booking)
    assert (booking.state, booking.refund_amount) == ("CANCELLED", refund)
    row = Refund.objects.get(merchant_refund_id=f"BK{booking.pk}R1")
    assert row.amount == refund
    assert bookings.refund_progress(row) == "PENDING"
    # The bay is free again for that window.
    assert (
        bookings.free_bays_for(lot, booking.start_at, booking.end_at, now=timezone.now()).count()
        == 3
    )


def test_cancel_when_window_started_then_nothing_refunded(lot: Lot, gateway: Any) -> None:
    booking = _pay(_book(lot, in_hours=1), gateway)
    booking = bookings.cancel(booking, now=booking.start_at + timedelta(minutes=1))
    assert (booking.state, booking.refund_amount) == ("CANCELLED", 0)
    assert not Refund.objects.exists()


def test_refund_when_retried_then_never_refunded_twice(lot: Lot, gateway: Any) -> None:
    booking = bookings.cancel(_pay(_book(lot), gateway))
    first = bookings.ensure_refund(booking)
    second = bookings.ensure_refund(booking)
    assert first is not None
    assert second is not None
    assert first.pk == second.pk
    assert Refund.objects.count() == 1


def test_refund_progress_when_settled_then_completed(lot: Lot, gateway: Any) -> None:
    booking = bookings.cancel(_pay(_book(lot), gateway))
    refund = Refund.objects.get()
    httpx.post(f"{gateway.url}/_sandbox/clock/advance", json={"seconds": 60}).raise_for_status()
    refund = payments.sync_refund(refund)
    assert bookings.refund_progress(refund) == "COMPLETED"
    assert booking.refund_amount == refund.amount


# -- at the barrier ----------------------------------------------------------------------------


def test_enter_when_paid_and_in_window_then_session_on_the_booked_bay(
    lot: Lot, gateway: Any
) -> None:
    booking = _pay(_book(lot, in_hours=0.1), gateway)
    session = booking_entry.enter(booking)
    booking.refresh_from_db()
    assert (booking.state, booking.session_id) == ("ENTERED", session.pk)
    assert session.bay_id == booking.bay_id
    assert booking_entry.enter(booking).pk == session.pk  # pressing twice lets in once


def test_enter_when_too_early_or_unpaid_then_refused(lot: Lot, gateway: Any) -> None:
    unpaid = _book(lot, in_hours=0.1)
    with pytest.raises(BookingError, match="Only a paid booking"):
        booking_entry.enter(unpaid)
    early = _pay(_book(lot, "KA 01 AB 9999", in_hours=3), gateway)
    with pytest.raises(BookingError, match="ready from"):
        booking_entry.enter(early)
    assert not ParkingSession.objects.exists()


def test_exit_when_within_booked_window_then_no_fee_and_after_it_the_tariff(
    lot: Lot, gateway: Any
) -> None:
    booking = _pay(_book(lot, in_hours=0.1, hours=1), gateway)
    session = booking_entry.enter(booking)
    left = services.request_exit(session, now=booking.end_at - timedelta(minutes=1))
    assert (left.state, left.fee) == (SessionState.FREE, 0)

    other = _pay(_book(lot, "KA 05 MN 4321", in_hours=0.1, hours=1), gateway)
    late = booking_entry.enter(other)
    overstay = services.request_exit(late, now=other.end_at + timedelta(minutes=50))
    assert (overstay.state, overstay.fee) == (SessionState.PAYMENT_DUE, 4000)  # 50 min > 15 grace


# -- pages ------------------------------------------------------------------------------------


def _start_text(hours_ahead: float) -> str:
    return timezone.localtime(timezone.now() + timedelta(hours=hours_ahead)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def test_page_when_booked_then_price_and_policy_shown_before_paying(lot: Lot) -> None:
    client = Client()
    response = client.post(
        f"/lots/{lot.slug}/book/", {"plate": "mh12ab1234", "start": _start_text(5), "hours": "2"}
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "₹80" in page
    assert "Full refund" in page
    assert "50% back" in page
    assert "No refund" in page
    assert "Pay with any UPI app" in page
    assert "Show a UPI QR" in page
    assert "More ways to pay" in page
    assert Client().get(f"/bookings/{booking.pk}/").status_code == 404  # not another browser's


def test_page_when_price_tampered_then_nothing_created(lot: Lot, gateway: Any) -> None:
    client = Client()
    client.post(
        f"/lots/{lot.slug}/book/", {"plate": "mh12ab1234", "start": _start_text(5), "hours": "2"}
    )
    booking = Booking.objects.get()
    response = client.post(
        f"/bookings/{booking.pk}/pay", {"confirmed_price": 100, "method": "hosted"}
    )
    assert response.status_code == 302
    assert not Payment.objects.exists()


def test_page_when_hosted_chosen_then_sent_to_phonepe_page(lot: Lot, gateway: Any) -> None:
    client = Client()
    client.post(
        f"/lots/{lot.slug}/book/", {"plate": "mh12ab1234", "start": _start_text(5), "hours": "2"}
    )
    booking = Booking.objects.get()
    response = client.post(
        f"/bookings/{booking.pk}/pay", {"confirmed_price": booking.price, "method": "hosted"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(str(gateway.url))


def test_page_when_cancel_refund_stale_then_refused(lot: Lot, gateway: Any) -> None:
    client = Client()
    client.post(
        f"/lots/{lot.slug}/book/", {"plate": "mh12ab1234", "start": _start_text(5), "hours": "2"}
    )
    booking = _pay(Booking.objects.get(), gateway)
    response = client.post(f"/bookings/{booking.pk}/cancel", {"confirmed_refund": 4000})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.state == BookingState.PAID  # the page promised another refund: nothing done
    client.post(f"/bookings/{booking.pk}/cancel", {"confirmed_refund": 8000})
    booking.refresh_from_db()
    assert (booking.state, booking.refund_amount) == ("CANCELLED", 8000)
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "Refund of ₹80" in page
    assert 'data-refund="PENDING"' in page


def test_entry_page_when_plate_has_paid_booking_then_enters_on_booked_bay(
    lot: Lot, gateway: Any
) -> None:
    booking = _pay(_book(lot, in_hours=0.1), gateway)
    client = Client()
    response = client.post(f"/lots/{lot.slug}/", {"plate": "MH 12 AB 1234"})
    assert response.status_code == 302
    session = ParkingSession.objects.get()
    assert session.bay_id == booking.bay_id
    assert client.get(f"/park/{session.pk}/").status_code == 200


def test_pay_when_two_drivers_pay_for_the_last_bay_at_once_then_one_holds_it_other_refunded(
    gateway: Any,
) -> None:
    """Both payments land at the same moment (two webhooks, two threads, two connections):
    the lot's row lock lets exactly one booking take the bay; the other is refunded."""
    import threading

    from django.db import connection

    lot = Lot.objects.create(
        name="One bay", slug="one-bay", grace_minutes=0, hourly_rate=4000, daily_cap=30000
    )
    lot.add_bays(1)
    first = _book(lot, "KA 01 AB 0001")
    second = _book(lot, "KA 01 AB 0002")
    orders = [
        bookings.start_payment(b, redirect_url="http://127.0.0.1/return") for b in (first, second)
    ]
    for payment in orders:
        control = f"{gateway.url}/_sandbox/orders/{payment.merchant_order_id}/complete"
        httpx.post(control, json={}).raise_for_status()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def settle(payment: Payment) -> None:
        try:
            start.wait(timeout=10)
            payments.sync_payment(payment)  # the signal settles the booking in this thread
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=settle, args=(p,)) for p in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    states = sorted(Booking.objects.values_list("state", "bay__code", "refund_amount"))
    assert states == [("CANCELLED", None, 8000), ("PAID", "A-01", 0)]
    assert Refund.objects.get().amount == 8000


def test_staff_payment_page_when_booking_paid_then_names_the_booking(
    lot: Lot, gateway: Any
) -> None:
    from django.contrib.auth import get_user_model

    booking = _pay(_book(lot), gateway)
    desk = Client()
    desk.force_login(
        get_user_model().objects.create_user("asha", password="x-long-pass-1", is_staff=True)
    )
    page = desk.get(f"/staff/payments/{booking.paid_order_id}/").content.decode()
    assert f"#{booking.pk} · MH 12 AB 1234" in page


def test_pay_when_two_orders_of_a_cancelled_booking_both_paid_then_both_refunded_in_full(
    lot: Lot, gateway: Any
) -> None:
    booking = _book(lot)
    intent = bookings.start_payment(booking, redirect_url="http://127.0.0.1/return")
    second = payments.create_payment(amount=booking.price, reference=booking.reference)
    bookings.cancel(booking)  # unpaid: nothing to refund yet
    _complete(gateway, intent)
    _complete(gateway, second)
    refunded = sorted(Refund.objects.values_list("payment__merchant_order_id", "amount"))
    assert refunded == sorted([(intent.merchant_order_id, 8000), (second.merchant_order_id, 8000)])
    booking.refresh_from_db()
    assert (booking.state, booking.bay, booking.paid_order_id) == (
        "CANCELLED",
        None,
        intent.merchant_order_id,
    )


def test_pages_when_paid_booking_window_over_unused_then_shown_not_used(
    lot: Lot, gateway: Any
) -> None:
    client = Client()
    response = client.post(
        f"/lots/{lot.slug}/book/", {"plate": "mh12ab1234", "start": _start_text(5), "hours": "2"}
    )
    assert response.status_code == 302
    booking = _pay(Booking.objects.get(), gateway)
    assert "PAID" in client.get("/").content.decode()
    assert not booking.window_missed
    with time_machine.travel(booking.end_at + timedelta(minutes=1)):
        assert booking.window_missed
        page = client.get("/").content.decode()
        detail = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert 'data-booking-state="MISSED">Not used' in page
    assert "This booking's window is over." in detail
    assert "let me in" not in detail
    booking.refresh_from_db()
    assert booking.state == BookingState.PAID  # what was paid stays paid: no refund once started
