"""At the barrier: a PAID booking lets its car in, and the stay is prepaid to the window's end.

From :data:`EARLY_ENTRY` before the window until its end, :func:`enter` turns the booking
into a parking session on its bay (or, if a car without a booking overstayed in it, on
another free bay nobody booked). Leaving within the window costs nothing; time after it
costs the lot's tariff from the window's end (:func:`fee_for_booked_stay`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .bookings import BookingError, reserved_bay_ids
from .models import HOLDING_STATES, Bay, Booking, BookingState, Lot, ParkingSession
from .tariff import Tariff, compute_fee

__all__ = ["EARLY_ENTRY", "booking_for_entry", "enter", "entry_window", "fee_for_booked_stay"]

logger = logging.getLogger(__name__)

#: A booked car may drive in this long before its window starts.
EARLY_ENTRY = timedelta(minutes=15)


def entry_window(booking: Booking) -> tuple[datetime, datetime]:
    return booking.start_at - EARLY_ENTRY, booking.end_at


def booking_for_entry(lot: Lot, plate: str, *, now: datetime | None = None) -> Booking | None:
    """The PAID booking that lets ``plate`` into ``lot`` now, if any."""
    now = now or timezone.now()
    return (
        Booking.objects.filter(
            lot=lot,
            plate=plate,
            state=BookingState.PAID,
            start_at__lte=now + EARLY_ENTRY,
            end_at__gt=now,
        )
        .order_by("start_at")
        .first()
    )


def enter(booking: Booking, *, now: datetime | None = None) -> ParkingSession:
    """Let a PAID booking's car in: a parking session on its bay, prepaid to the window's end."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("lot", "bay")
            .get(pk=booking.pk)
        )
        if locked.state == BookingState.ENTERED and locked.session_id:
            return ParkingSession.objects.get(pk=locked.session_id)
        if locked.state != BookingState.PAID:
            raise BookingError("Only a paid booking lets a car in.")
        opens, closes = entry_window(locked)
        if now < opens:
            raise BookingError(f"Your bay is ready from {timezone.localtime(opens):%d %b, %H:%M}.")
        if now >= closes:
            raise BookingError("This booking's window is over.")
        if ParkingSession.objects.filter(plate=locked.plate, state__in=HOLDING_STATES).exists():
            raise BookingError("This vehicle is already parked. Open its ticket to leave.")
        bay = locked.bay
        if ParkingSession.objects.filter(bay=bay, state__in=HOLDING_STATES).exists():
            # A car without a booking overstayed in it: any other free, unreserved bay will do.
            held = ParkingSession.objects.filter(lot=locked.lot, state__in=HOLDING_STATES)
            bay = (
                Bay.objects.filter(lot=locked.lot)
                .exclude(pk__in=held.values("bay_id"))
                .exclude(pk__in=reserved_bay_ids(locked.lot, now))
                .order_by("code")
                .first()
            )
            if bay is None:
                raise BookingError("Your bay is blocked right now. The attendant will park you.")
        try:
            with transaction.atomic():  # a walk-in may take the bay this very moment
                session = ParkingSession.objects.create(
                    lot=locked.lot, bay=bay, plate=locked.plate, entry_at=now
                )
        except IntegrityError:
            raise BookingError("The barrier is busy; please press again.") from None
        locked.session = session
        locked.state = BookingState.ENTERED
        locked.save(update_fields=["session", "state"])
    logger.info("booking %s entered as ticket %s (bay %s)", locked.pk, session.pk, bay.code)
    return session


def fee_for_booked_stay(booking: Booking, entry: datetime, exit: datetime, tariff: Tariff) -> int:
    """A booked stay is prepaid to the window's end; time after it costs the normal tariff
    (from the window's end, with the lot's free minutes)."""
    if exit <= booking.end_at:
        return 0
    return compute_fee(max(entry, booking.end_at), exit, tariff)
