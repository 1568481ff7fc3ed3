"""Booking a bay ahead: reserve a time window, pay now, drive in; cancel for a refund by policy.

The flow the Smart Parking write-up describes ("books a slot -> pays -> PAID -> can enter";
"refund works for cancellations"):

1. :func:`create_booking` fixes the window and the price (whole started hours of the lot's
   tariff, no free minutes) and copies the :data:`POLICY` onto the booking: the driver sees
   it before paying. No bay is held yet.
2. :func:`start_payment` asks the payments app for an order (UPI intent, UPI QR or the
   hosted page). Only :func:`record_payment_completed`, driven by the ``payment_completed``
   signal, makes the booking PAID; it picks a bay free for the whole window under the
   lot's row lock. If none is left (another driver paid first), the booking is cancelled
   and the money refunded in full, automatically.
3. An unpaid booking expires with its order (:func:`record_payment_failed`).
4. ``lots.booking_entry.enter`` lets a PAID booking's car in at the barrier; the stay is
   prepaid up to the window's end.
5. :func:`cancel` refunds by the policy: in full up to the cut-off before the start, a
   share after it, nothing once the window has started. :func:`ensure_refund` starts the
   refund under a per-booking id, so a retry never refunds twice.

Amounts are integer paise. Nothing here trusts a number from the browser.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from phonepe_gateway.django import services as payments
from phonepe_gateway.django.exceptions import Conflict, PaymentsError
from phonepe_gateway.django.models import Payment, Refund

from . import pay_upi
from .models import (
    BOOKING_HOLDING_STATES,
    BOOKING_REFERENCE_PREFIX,
    HOLDING_STATES,
    Bay,
    Booking,
    BookingState,
    Lot,
    ParkingSession,
)
from .plates import normalise_plate
from .tariff import Tariff, compute_fee

logger = logging.getLogger(__name__)

#: How far ahead a bay can be booked.
MAX_AHEAD = timedelta(days=7)
#: Lengths a booking may have, in hours.
DURATIONS = (1, 2, 3, 4, 6, 8, 12)
#: Drivers without a booking cannot take a bay booked to start within this long.
HOLD_LEAD = timedelta(hours=1)
#: A booking with no payment started is dropped after this long (it never held a bay).
UNPAID_TTL = timedelta(minutes=30)
#: Payment states in which an order may still be paid.
OPEN_PAYMENT_STATES = ("CREATED", "PENDING", "UNKNOWN")


class BookingError(Exception):
    """A booking action that cannot be done; the message is shown to the driver."""


class SoldOut(BookingError):
    pass


@dataclass(frozen=True)
class CancellationPolicy:
    """The car park's refund rule for a cancelled booking.

    Cancelled at least ``full_refund_before`` before the start: everything back. Later but
    before the start: ``late_refund_percent`` of the price (rounded down to the paisa).
    Once the window has started (or the car is in): nothing.
    """

    full_refund_before: timedelta
    late_refund_percent: int

    def __post_init__(self) -> None:
        if self.full_refund_before < timedelta(0) or not 0 <= self.late_refund_percent <= 100:
            raise ValueError("a cut-off cannot be negative and a share is 0-100 %")

    def refund_for(self, price: int, start: datetime, cancelled_at: datetime) -> int:
        if cancelled_at >= start:
            return 0
        if start - cancelled_at >= self.full_refund_before:
            return price
        return price * self.late_refund_percent // 100

    def cut_off(self, start: datetime) -> datetime:
        return start - self.full_refund_before


#: Smart Parking's policy: full refund up to 2 hours before the start, half after that.
POLICY = CancellationPolicy(full_refund_before=timedelta(hours=2), late_refund_percent=50)


def policy_of(booking: Booking) -> CancellationPolicy:
    return CancellationPolicy(
        full_refund_before=timedelta(minutes=booking.full_refund_minutes),
        late_refund_percent=booking.late_refund_percent,
    )


def price_for(lot: Lot, start: datetime, end: datetime) -> int:
    """Every started hour of the window at the lot's rate, capped per 24 h; no free minutes."""
    return compute_fee(start, end, Tariff(0, lot.hourly_rate, lot.daily_cap))


# -- availability ---------------------------------------------------------------------------


def _overlapping(lot: Lot, start: datetime, end: datetime) -> Any:
    return Booking.objects.filter(
        lot=lot, state__in=BOOKING_HOLDING_STATES, start_at__lt=end, end_at__gt=start
    )


def free_bays_for(lot: Lot, start: datetime, end: datetime, *, now: datetime) -> Any:
    """Bays no paid booking holds during the window (nor, for a window starting soon, a car)."""
    taken = _overlapping(lot, start, end).values("bay_id")
    bays = Bay.objects.filter(lot=lot).exclude(pk__in=taken)
    if start - now < HOLD_LEAD:
        parked = ParkingSession.objects.filter(lot=lot, state__in=HOLDING_STATES).values("bay_id")
        bays = bays.exclude(pk__in=parked)
    return bays.order_by("code")


def reserved_bay_ids(lot: Lot, now: datetime) -> Any:
    """Bays a driver without a booking may not take now: booked from soon (or now) on."""
    return Booking.objects.filter(
        lot=lot,
        state=BookingState.PAID,
        start_at__lt=now + HOLD_LEAD,
        end_at__gt=now,
    ).values("bay_id")


# -- making a booking ---------------------------------------------------------------------


def check_window(start: datetime, hours: int, *, now: datetime) -> datetime:
    """The window's end; :class:`BookingError` when the window cannot be booked."""
    if hours not in DURATIONS:
        raise BookingError(f"Choose a length of {', '.join(map(str, DURATIONS))} hours.")
    if start.tzinfo is None:
        raise BookingError("The start time has no time zone.")
    if start < now - timedelta(minutes=5):
        raise BookingError("That time has passed. Choose a start from now on.")
    if start > now + MAX_AHEAD:
        raise BookingError(f"Bays can be booked up to {MAX_AHEAD.days} days ahead.")
    return start + timedelta(hours=hours)


def create_booking(
    lot: Lot, plate_text: str, start: datetime, hours: int, *, now: datetime | None = None
) -> Booking:
    """An AWAITING_PAYMENT booking with its price and policy; raises InvalidPlate or BookingError."""
    now = now or timezone.now()
    plate = normalise_plate(plate_text)
    start = start.replace(second=0, microsecond=0)
    end = check_window(start, hours, now=now)
    clash = Booking.objects.filter(
        plate=plate, state__in=BOOKING_HOLDING_STATES, start_at__lt=end, end_at__gt=start
    ).first()
    if clash is not None:
        raise BookingError(
            f"This vehicle already has a booking at {clash.lot.name} in that window."
        )
    if not free_bays_for(lot, start, end, now=now).exists():
        raise SoldOut(f"{lot.name} has no bay free for the whole of that window.")
    return Booking.objects.create(
        lot=lot,
        plate=plate,
        start_at=start,
        end_at=end,
        price=price_for(lot, start, end),
        full_refund_minutes=int(POLICY.full_refund_before.total_seconds() // 60),
        late_refund_percent=POLICY.late_refund_percent,
    )


# -- paying ---------------------------------------------------------------------------------


def payments_for(booking: Booking) -> list[Payment]:
    return list(Payment.objects.filter(reference=booking.reference).order_by("-created_at", "-pk"))


def latest_payment(booking: Booking) -> Payment | None:
    return (
        Payment.objects.filter(reference=booking.reference).order_by("-created_at", "-pk").first()
    )


def _usable(payment: Payment, instrument: str, now: datetime) -> bool:
    """An open order of this kind the driver can still complete (so no second one is made).
    A collect request is never reused: the driver may have typed another UPI ID."""
    if instrument == pay_upi.COLLECT or pay_upi.instrument_of(payment) != instrument:
        return False
    if payment.state not in ("CREATED", "PENDING"):
        return False
    if payment.expires_at is not None and payment.expires_at <= now:
        return False
    return pay_upi.has_pay_link(payment)


def start_payment(
    booking: Booking,
    *,
    instrument: Any = None,
    redirect_url: str,
    now: datetime | None = None,
) -> Payment:
    """Create (or reuse) the order that pays the booking; ``instrument=None`` is the hosted page."""
    now = now or timezone.now()
    booking.refresh_from_db()
    expire_unpaid(booking, now=now)
    if booking.state != BookingState.AWAITING_PAYMENT:
        raise BookingError("This booking cannot be paid any more.")
    if booking.start_at <= now - timedelta(minutes=5) or booking.end_at <= now:
        raise BookingError("This window has started. Book a new one.")
    kind = instrument.mode if instrument is not None else ""
    for payment in payments_for(booking)[:3]:
        if _usable(payment, kind, now):
            return payment
    extra: dict[str, Any] = {"instrument": instrument} if instrument is not None else {}
    try:
        return payments.create_payment(
            amount=booking.price,
            reference=booking.reference,
            redirect_url=redirect_url,
            metadata={"plate": booking.plate, "lot": booking.lot.slug, "booking": booking.pk},
            **extra,
        )
    except Conflict as exc:
        if exc.code != "reference_already_paid":
            raise
        raise BookingError("This booking is already paid.") from exc


def booking_id_from_reference(reference: str) -> int | None:
    if not reference.startswith(BOOKING_REFERENCE_PREFIX):
        return None
    tail = reference[len(BOOKING_REFERENCE_PREFIX) :]
    return int(tail) if tail.isdigit() else None


def record_payment_completed(
    payment: Payment, *, duplicate_of: str | None = None, now: datetime | None = None
) -> Booking | None:
    """The booking's order was paid: hold a bay for the window, or refund when none is left.

    A second payment of one booking is refunded: by the payments app when it flagged it
    (``duplicate_of``), else here. A payment that arrives after the booking was cancelled
    or expired unpaid buys nothing and is refunded in full.
    """
    booking_id = booking_id_from_reference(payment.reference)
    if booking_id is None or duplicate_of:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None:
            logger.error(
                "payment %s names unknown booking %s", payment.merchant_order_id, booking_id
            )
            return None
        if booking.paid_order_id == payment.merchant_order_id:
            return booking  # already settled by this payment
        extra = bool(booking.paid_order_id)  # another order of it was paid first
        if not extra and payment.amount != booking.price:
            logger.error(
                "payment %s (%s paise) does not pay booking %s (%s paise); staff must review",
                payment.merchant_order_id,
                payment.amount,
                booking.pk,
                booking.price,
            )
            return booking
        if not extra and _hold_bay(booking, payment, now):
            return booking
    if extra:
        _refund_extra(booking, payment)
    else:
        logger.warning(
            "booking %s: %s Refunding %s in full.",
            booking.pk,
            booking.cancel_reason,
            payment.merchant_order_id,
        )
        ensure_refund(booking)
    return booking


def _hold_bay(booking: Booking, payment: Payment, now: datetime) -> bool:
    """Under the booking's lock: PAID on a free bay (True), or CANCELLED to be refunded."""
    booking.paid_order_id = payment.merchant_order_id
    booking.paid_at = payment.completed_at or now
    if booking.state == BookingState.AWAITING_PAYMENT:
        # One lot at a time picks bays: two drivers paying for its last bay queue here.
        Lot.objects.select_for_update().filter(pk=booking.lot_id).first()
        bay = free_bays_for(booking.lot, booking.start_at, booking.end_at, now=now).first()
        if bay is not None:
            booking.bay = bay
            booking.state = BookingState.PAID
            booking.save(update_fields=["paid_order_id", "paid_at", "bay", "state"])
            logger.info(
                "booking %s paid by %s: bay %s", booking.pk, payment.merchant_order_id, bay.code
            )
            return True
        reason = "Every bay was taken for this window before your payment arrived."
    else:
        reason = (
            f"Your payment arrived after the booking was {booking.get_state_display().lower()}."
        )
    booking.state = BookingState.CANCELLED
    booking.cancelled_at = booking.cancelled_at or now
    booking.cancel_reason = reason
    booking.refund_amount = payment.amount
    fields = ["paid_order_id", "paid_at", "state", "cancelled_at", "cancel_reason", "refund_amount"]
    booking.save(update_fields=fields)
    return False


def _refund_extra(booking: Booking, payment: Payment) -> None:
    """Refund in full a payment of a booking another payment already settled (the payments
    app's duplicate detection did not flag it), under an id that is never refunded twice."""
    logger.warning(
        "booking %s was already settled by %s; refunding %s in full",
        booking.pk,
        booking.paid_order_id,
        payment.merchant_order_id,
    )
    try:
        payments.refund_payment(
            payment,
            amount=payment.amount,
            merchant_refund_id=f"BK{booking.pk}X{payment.pk}",
            reason=f"booking #{booking.pk} was already paid by {booking.paid_order_id}",
            resume=True,
        )
    except PaymentsError as exc:
        logger.error("extra payment %s not refunded: %s", payment.merchant_order_id, exc)


def record_payment_failed(payment: Payment, *, now: datetime | None = None) -> Booking | None:
    """The booking's order failed or expired: an unpaid booking with no open order expires."""
    booking_id = booking_id_from_reference(payment.reference)
    if booking_id is None:
        return None
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None:
        return None
    return expire_unpaid(booking, now=now)


def expire_unpaid(booking: Booking, *, now: datetime | None = None) -> Booking:
    """AWAITING_PAYMENT -> EXPIRED once no order of it can still be paid.

    That is: its latest order FAILED (PhonePe expired or refused it), or it never had one
    and is older than :data:`UNPAID_TTL`, or its window is over. An order the ledger still
    holds open is left to the reconciler (it may have been paid at the last moment).
    """
    now = now or timezone.now()
    if booking.state != BookingState.AWAITING_PAYMENT:
        return booking
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.state != BookingState.AWAITING_PAYMENT:
            return locked
        open_orders = Payment.objects.filter(
            reference=locked.reference, state__in=OPEN_PAYMENT_STATES
        )
        any_order = Payment.objects.filter(reference=locked.reference).exists()
        if open_orders.exists():
            return locked
        if any_order or now - locked.created_at > UNPAID_TTL or locked.end_at <= now:
            locked.state = BookingState.EXPIRED
            locked.save(update_fields=["state"])
            logger.info("booking %s expired unpaid", locked.pk)
    return locked


# -- cancelling and refunds -----------------------------------------------------------------


def refund_preview(booking: Booking, *, now: datetime | None = None) -> int:
    """What cancelling now would refund (paise)."""
    if booking.state != BookingState.PAID:
        return 0
    return policy_of(booking).refund_for(booking.price, booking.start_at, now or timezone.now())


def cancel(booking: Booking, *, now: datetime | None = None) -> Booking:
    """Cancel: an unpaid booking simply ends; a paid one frees its bay and is refunded by policy."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.state == BookingState.AWAITING_PAYMENT:
            locked.state = BookingState.CANCELLED
            locked.cancelled_at = now
            locked.cancel_reason = "Cancelled before paying."
            locked.save(update_fields=["state", "cancelled_at", "cancel_reason"])
            return locked
        if locked.state != BookingState.PAID:
            raise BookingError(
                f"A booking that is {locked.get_state_display().lower()} cannot be cancelled."
            )
        locked.refund_amount = policy_of(locked).refund_for(locked.price, locked.start_at, now)
        locked.state = BookingState.CANCELLED
        locked.cancelled_at = now
        locked.cancel_reason = "Cancelled by the driver."
        locked.save(update_fields=["state", "cancelled_at", "cancel_reason", "refund_amount"])
    logger.info("booking %s cancelled, refund %s paise", locked.pk, locked.refund_amount)
    if locked.refund_amount:
        ensure_refund(locked)
    return locked


def _refund_id(booking: Booking, attempt: int) -> str:
    return f"BK{booking.pk}R{attempt}"


def booking_refunds(booking: Booking) -> list[Refund]:
    if not booking.paid_order_id:
        return []
    return list(
        Refund.objects.filter(
            payment__merchant_order_id=booking.paid_order_id,
            merchant_refund_id__startswith=f"BK{booking.pk}R",
        ).order_by("-created_at", "-pk")
    )


def ensure_refund(booking: Booking) -> Refund | None:
    """Start the booking's refund unless one is under way or done (a FAILED one is retried
    under the next id). Never raises: an unreachable gateway leaves the refund for the
    reconciler (UNKNOWN) or for the next call (nothing stored)."""
    if booking.state != BookingState.CANCELLED or not booking.refund_amount:
        return None
    existing = booking_refunds(booking)
    live = [r for r in existing if r.state != "FAILED"]
    if live:
        return live[0]
    refund_id = _refund_id(booking, len(existing) + 1)
    try:
        return payments.refund_payment(
            booking.paid_order_id,
            amount=booking.refund_amount,
            merchant_refund_id=refund_id,
            reason=f"booking #{booking.pk}: {booking.cancel_reason}",
            resume=True,
        )
    except PaymentsError as exc:
        logger.warning("refund %s of booking %s not started: %s", refund_id, booking.pk, exc)
        return Refund.objects.filter(merchant_refund_id=refund_id).first()


#: What the driver sees of a refund: the steps PhonePe reports.
REFUND_STEPS = ("PENDING", "CONFIRMED", "COMPLETED")


def refund_progress(refund: Refund | None) -> str:
    """PENDING, CONFIRMED, COMPLETED or FAILED, as PhonePe reports the refund.

    The ledger keeps PhonePe's CONFIRMED (accepted, money on its way) as PENDING; the
    ``pg.refund.accepted`` webhook it received says so.
    """
    from phonepe_gateway.django.models import WebhookEvent

    if refund is None or refund.state in ("CREATED", "UNKNOWN"):
        return "PENDING"
    if refund.state in ("COMPLETED", "FAILED"):
        return str(refund.state)
    accepted = WebhookEvent.objects.filter(merchant_refund_id=refund.merchant_refund_id).filter(
        Q(event="pg.refund.accepted") | Q(gateway_state="CONFIRMED")
    )
    return "CONFIRMED" if accepted.exists() else "PENDING"


__all__ = [
    "DURATIONS",
    "POLICY",
    "REFUND_STEPS",
    "BookingError",
    "CancellationPolicy",
    "SoldOut",
    "cancel",
    "create_booking",
    "ensure_refund",
    "free_bays_for",
    "record_payment_completed",
    "record_payment_failed",
    "refund_preview",
    "refund_progress",
    "reserved_bay_ids",
    "start_payment",
]
