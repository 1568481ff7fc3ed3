"""Everything that changes a parking session: entry, exit, paying, and being paid.

Views call these functions; these call ``phonepe_gateway.django.services``. The fee is
always the one computed here from the stored entry/exit times -- never a number from the
browser. A session becomes PAID only in :func:`record_payment_completed`, which the
``payment_completed`` signal drives (from the webhook, the return page or the reconciler).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from phonepe_gateway.django import services as payments
from phonepe_gateway.django.exceptions import Conflict
from phonepe_gateway.django.models import Payment

from . import booking_entry, bookings, passes, pay_upi
from .models import (
    HOLDING_STATES,
    REFERENCE_PREFIX,
    Bay,
    Booking,
    Lot,
    ParkingSession,
    SessionState,
)
from .plates import normalise_plate
from .tariff import compute_fee

logger = logging.getLogger(__name__)

#: Payment states in which the driver may still complete the checkout page.
OPEN_PAYMENT_STATES = ("CREATED", "PENDING")


class ParkingError(Exception):
    """A driver action that cannot be done; the message is shown to the driver."""


class LotFull(ParkingError):
    pass


class AlreadyParked(ParkingError):
    pass


class FeeMismatch(ParkingError):
    """The fee the driver confirmed is not the fee the server computed."""


def free_bays(lot: Lot) -> int:
    return (
        lot.bays.count() - ParkingSession.objects.filter(lot=lot, state__in=HOLDING_STATES).count()
    )


def start_session(lot: Lot, plate_text: str, *, now: datetime | None = None) -> ParkingSession:
    """Park a vehicle in the first free bay; raises InvalidPlate, AlreadyParked or LotFull."""
    plate = normalise_plate(plate_text)
    now = now or timezone.now()
    # Two drivers may race for the last bay: the unique constraint decides, we try the next.
    for _ in range(5):
        if ParkingSession.objects.filter(plate=plate, state__in=HOLDING_STATES).exists():
            raise AlreadyParked("This vehicle is already parked. Open its ticket to leave.")
        held = ParkingSession.objects.filter(lot=lot, state__in=HOLDING_STATES).values("bay_id")
        bay = (
            Bay.objects.filter(lot=lot)
            .exclude(pk__in=held)
            .exclude(pk__in=bookings.reserved_bay_ids(lot, now))  # booked bays wait for their car
            .order_by("code")
            .first()
        )
        if bay is None:
            raise LotFull(f"{lot.name} is full right now.")
        try:
            with transaction.atomic():
                session = ParkingSession.objects.create(lot=lot, bay=bay, plate=plate, entry_at=now)
                passes.record_entry(session)  # a valid monthly pass makes the stay free
                return session
        except IntegrityError:
            continue
    raise LotFull(f"{lot.name} is busy; please try again.")


def current_fee(session: ParkingSession, *, now: datetime | None = None) -> int:
    """The fee so far (PARKED) or the fixed fee (after exit)."""
    if session.fee is not None:
        return session.fee
    if passes.covers(session):
        return 0
    now = now or timezone.now()
    booking = Booking.objects.filter(session=session).first()
    if booking is not None:
        return booking_entry.fee_for_booked_stay(booking, session.entry_at, now, session.lot.tariff)
    return compute_fee(session.entry_at, now, session.lot.tariff)


def request_exit(session: ParkingSession, *, now: datetime | None = None) -> ParkingSession:
    """Fix the exit time and the fee. A stay within the grace period ends at once."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = ParkingSession.objects.select_for_update().select_related("lot").get(pk=session.pk)
        if locked.state != SessionState.PARKED:
            return locked
        locked.exit_at = now
        booking = Booking.objects.filter(session=locked).first()
        if passes.covers(locked):  # entered on a valid monthly pass
            locked.fee = 0
        elif booking is not None:  # booked ahead: prepaid to the window's end
            locked.fee = booking_entry.fee_for_booked_stay(
                booking, locked.entry_at, now, locked.lot.tariff
            )
        else:
            locked.fee = compute_fee(locked.entry_at, now, locked.lot.tariff)
        locked.state = SessionState.FREE if locked.fee == 0 else SessionState.PAYMENT_DUE
        locked.save(update_fields=["exit_at", "fee", "state"])
    logger.info("session %s exit requested, fee %s paise", locked.pk, locked.fee)
    return locked


def payments_for(session: ParkingSession) -> list[Payment]:
    return list(Payment.objects.filter(reference=session.reference).order_by("-created_at", "-pk"))


def latest_payment(session: ParkingSession) -> Payment | None:
    return (
        Payment.objects.filter(reference=session.reference).order_by("-created_at", "-pk").first()
    )


def start_payment(
    session: ParkingSession,
    *,
    confirmed_fee: int,
    redirect_url: str,
    instrument: Any = None,
) -> Payment:
    """Create (or reuse) the PhonePe payment for the session's fee.

    ``confirmed_fee`` is what the page showed the driver: if it is not the server's fee
    (a stale page or a tampered form) nothing is created. ``instrument`` (a UPI intent,
    QR or collect request, ``lots.pay_upi``) pays without PhonePe's page; None is the page.
    An open order of the same kind is reused (never a collect request: another UPI ID
    may have been typed).
    """
    session.refresh_from_db()
    if session.state != SessionState.PAYMENT_DUE or session.fee is None:
        raise ParkingError("This ticket has nothing to pay.")
    if confirmed_fee != session.fee:
        raise FeeMismatch("The amount changed. Please check the fee and pay again.")
    kind = instrument.mode if instrument is not None else ""
    open_payment = latest_payment(session)
    if (
        open_payment is not None
        and kind != pay_upi.COLLECT
        and pay_upi.instrument_of(open_payment) == kind
        and open_payment.state in OPEN_PAYMENT_STATES
        and pay_upi.has_pay_link(open_payment)
        and open_payment.amount == session.fee
        and (open_payment.expires_at is None or open_payment.expires_at > timezone.now())
    ):
        return open_payment
    extra: dict[str, Any] = {"instrument": instrument} if instrument is not None else {}
    # The payments app first syncs this ticket's open payments with the gateway (a link
    # that looks expired here may have been paid there) and refuses a paid ticket.
    try:
        return payments.create_payment(
            amount=session.fee,
            reference=session.reference,
            redirect_url=redirect_url,
            metadata={"plate": session.plate, "lot": session.lot.slug, "bay": session.bay.code},
            **extra,
        )
    except Conflict as exc:
        if exc.code != "reference_already_paid":
            raise
        raise ParkingError("This ticket is already paid.") from exc


def session_id_from_reference(reference: str) -> int | None:
    if not reference.startswith(REFERENCE_PREFIX):
        return None
    tail = reference[len(REFERENCE_PREFIX) :]
    return int(tail) if tail.isdigit() else None


def record_payment_completed(
    payment: Payment, *, duplicate_of: str | None = None
) -> ParkingSession | None:
    """Mark the session PAID (and so free its bay) for a completed payment of its exact fee.

    ``duplicate_of`` (from the signal): the ticket was already paid by that payment; this
    one is flagged in the payments app and refunded automatically (``refund_duplicates``).
    """
    session_id = session_id_from_reference(payment.reference)
    if session_id is None:
        return None
    if duplicate_of:
        logger.warning(
            "ticket %s paid twice: %s after %s; the second payment is refunded automatically",
            session_id,
            payment.merchant_order_id,
            duplicate_of,
        )
    with transaction.atomic():
        session = ParkingSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None:
            logger.error(
                "payment %s names unknown session %s", payment.merchant_order_id, session_id
            )
            return None
        if session.state == SessionState.PAID:
            return session
        if session.state != SessionState.PAYMENT_DUE or payment.amount != session.fee:
            logger.error(
                "payment %s (%s paise) does not settle session %s (%s, fee %s); staff must review",
                payment.merchant_order_id,
                payment.amount,
                session.pk,
                session.state,
                session.fee,
            )
            return session
        session.state = SessionState.PAID
        session.paid_at = payment.completed_at or timezone.now()
        session.paid_order_id = payment.merchant_order_id
        session.save(update_fields=["state", "paid_at", "paid_order_id"])
    logger.info("session %s paid by %s", session.pk, payment.merchant_order_id)
    return session
