"""The reconciler: asks the gateway about open payments and refunds on PhonePe's schedule.

A pass claims due rows (``next_check_at <= now``) by pushing their ``next_check_at``
one lease ahead inside a short transaction: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
IMMEDIATE transactions on SQLite. So several workers never check the same row twice,
and a crashed worker's rows come back after the lease. Each check goes through the
services (status call -> state machine), then the next check is scheduled:
first 20-25 s after creation, then 3 s x10, 6 s x10, 10 s x6, 30 s x2, then every
minute until expiry; ``UNKNOWN`` is due at once. A payment found expired loses its
intent link / QR data / SDK token (``instrument_data``). The reconciler never decides that a
payment FAILED on its own: only the gateway's answer does. Each pass also retries stuck
inbox events, sends ``payment_completed`` signals a crash held back (the outbox), makes
automatic refunds of duplicate payments a crash left undone
(``refund_duplicates``), purges what is past its retention (:mod:`.retention`), and
runs the scheduled UPI AutoPay debits (:func:`.debits.run_debits`).
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from . import signals, states
from .conf import app_setting
from .exceptions import PaymentsError
from .inbox import replay_stuck_events
from .models import OPEN_STATES, Payment, Refund
from .retention import purge_if_due

__all__ = [
    "first_check_at",
    "in_flight_window",
    "next_delay",
    "next_payment_check",
    "next_refund_check",
    "redeliver_completions",
    "run_forever",
    "run_once",
]

logger = logging.getLogger("phonepe_gateway.django.reconcile")

#: (number of checks, seconds between them) after the first check.
SCHEDULE = ((10, 3), (10, 6), (6, 10), (2, 30))
FINAL_INTERVAL = 60
DEFAULT_EXPIRY = 1200
#: After expiry + grace, a payment still PENDING at the gateway is asked this often ...
AFTER_EXPIRY_INTERVAL = timedelta(minutes=15)
#: ... for this long after expiry, then left to humans (it is flagged for review).
AFTER_EXPIRY_LIMIT = timedelta(hours=24)
#: Refunds settle over days: after an hour, ask every ten minutes.
REFUND_SLOW_AFTER = timedelta(hours=1)
REFUND_SLOW_INTERVAL = timedelta(minutes=10)


def first_check_at(created: datetime) -> datetime:
    """When to first ask about something created at ``created``: 20-25 s later."""
    return created + timedelta(seconds=random.uniform(20, 25))  # noqa: S311 (jitter, not crypto)


def in_flight_window(settings_timeout: float) -> timedelta:
    """How long after its creation a request may still be on its way to the gateway: until
    then "not found" is no news, after it "never received"."""
    return timedelta(seconds=settings_timeout + 30)


def next_delay(checks_done: int) -> int:
    """Seconds to wait after the ``checks_done``-th check (1-based)."""
    remaining = checks_done
    for count, delay in SCHEDULE:
        if remaining <= count:
            return delay
        remaining -= count
    return FINAL_INTERVAL


def next_payment_check(payment: Payment, now: datetime) -> datetime | None:
    """When to ask again about an open payment that has just been checked."""
    at = now + timedelta(seconds=next_delay(payment.check_count))
    if payment.state != "PENDING":
        return at
    if payment.debit_due_at and not payment.redeem_sent_at and now < payment.debit_due_at:
        return payment.debit_due_at  # AutoPay: a notified debit waits for its redemption
    # PhonePe's default link lifetime when the gateway did not say (generation 1).
    expires = payment.expires_at or payment.created_at + timedelta(
        seconds=float(app_setting("expire_after") or DEFAULT_EXPIRY)
    )
    last_ask = expires + timedelta(seconds=float(app_setting("expiry_grace")))
    if now < last_ask:
        return min(at, last_ask)
    # Expired, and the gateway still says PENDING after the grace period.
    states.flag_payment(
        payment.pk, "still PENDING at the gateway after expiry; asking every 15 minutes for a day"
    )
    if now >= expires + AFTER_EXPIRY_LIMIT:
        return None
    return now + AFTER_EXPIRY_INTERVAL


def next_refund_check(refund: Refund, now: datetime) -> datetime:
    """When to ask again about an open refund that has just been checked."""
    if now - refund.created_at >= REFUND_SLOW_AFTER:
        return now + REFUND_SLOW_INTERVAL
    return now + timedelta(seconds=next_delay(refund.check_count))


def _claim(
    model: type[Payment] | type[Refund], now: datetime, limit: int
) -> list[tuple[int, datetime | None]]:
    lease = now + timedelta(seconds=float(app_setting("reconcile_lease")))
    with transaction.atomic():
        due = model.objects.filter(state__in=OPEN_STATES, next_check_at__lte=now).order_by(
            "next_check_at"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due.values_list("pk", "next_check_at")[:limit])
        if rows:
            model.objects.filter(pk__in=[pk for pk, _ in rows]).update(next_check_at=lease)
    return rows


def _check_payment(pk: int, now: datetime) -> None:
    from .services import sync_payment

    payment = Payment.objects.get(pk=pk)
    if payment.is_terminal:
        return
    try:
        payment = sync_payment(payment, now=now)
    except PaymentsError as exc:
        logger.info("status of %s not known yet: %s", payment.merchant_order_id, exc.code)
    if payment.is_terminal:
        return
    if payment.instrument_data and payment.expires_at is not None and payment.expires_at <= now:
        # Expired: its intent link / QR data / SDK token can no longer pay (custom checkout).
        Payment.objects.filter(pk=pk, state__in=OPEN_STATES).update(instrument_data={})
    payment.check_count += 1
    at = next_payment_check(payment, now)
    Payment.objects.filter(pk=pk, state__in=OPEN_STATES).update(
        next_check_at=at, check_count=F("check_count") + 1
    )


def _check_refund(pk: int, now: datetime) -> None:
    from .services import sync_refund

    refund = Refund.objects.get(pk=pk)
    if refund.is_terminal:
        return
    try:
        refund = sync_refund(refund, now=now)
    except PaymentsError as exc:
        logger.info("status of %s not known yet: %s", refund.merchant_refund_id, exc.code)
    if refund.is_terminal:
        return
    refund.check_count += 1
    Refund.objects.filter(pk=pk, state__in=OPEN_STATES).update(
        next_check_at=next_refund_check(refund, now), check_count=F("check_count") + 1
    )


def run_once(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Check every due open payment and refund (up to ``limit`` of each) and retry stuck
    inbox events; return how many were handled."""
    now = now or timezone.now()
    limit = int(limit or app_setting("reconcile_batch"))
    checked = 0
    for model, check in ((Payment, _check_payment), (Refund, _check_refund)):
        for pk, due in _claim(model, now, limit):
            signals.emit(
                signals.reconcile_checked,
                sender=model,
                obj_id=pk,
                lag=max(0.0, (now - (due or now)).total_seconds()),
            )
            try:
                check(pk, now)
            except Exception:  # one bad row must not stop the others; its lease expires
                logger.exception("reconciling %s %s failed", model.__name__, pk)
            checked += 1
    try:
        checked += replay_stuck_events(now, limit)
    except Exception:
        logger.exception("replaying stuck webhook events failed")
    try:  # UPI AutoPay: set-ups to check, notices to send, debits to redeem or retry
        from .debits import run_debits

        checked += run_debits(now, limit)
    except Exception:
        logger.exception("scheduled debits failed")
    _housekeeping(limit)
    return checked


#: a completion's own process normally signals it at once; after this, the reconciler does
SIGNAL_GRACE = timedelta(seconds=10)


def redeliver_completions(now: datetime, limit: int) -> int:
    """Send ``payment_completed`` for completions whose process died before it could."""
    due = Payment.objects.filter(
        state="COMPLETED",
        completion_signalled_at__isnull=True,
        completed_at__lte=now - SIGNAL_GRACE,
    ).order_by("completed_at")
    sent = 0
    for pk in due.values_list("pk", flat=True)[:limit]:
        sent += states.deliver_completion(pk)
    if sent:
        logger.warning("sent %s payment_completed signals a crash had held back", sent)
    return sent


def _housekeeping(limit: int) -> None:
    """Automatic refunds a crash left undone, and the retention purge (never raises)."""
    from .services import refund_duplicates

    try:
        redeliver_completions(timezone.now(), limit)
    except Exception:
        logger.exception("sending outstanding payment_completed signals failed")
    try:
        refund_duplicates(limit)
    except Exception:
        logger.exception("automatic refunds of duplicate payments failed")
    try:
        purged = purge_if_due()
    except Exception:
        logger.exception("retention purge failed")
    else:
        if purged and any(purged.values()):
            logger.info("purged %s", purged)


def run_forever(stop_event: threading.Event, *, interval: float | None = None) -> None:
    """Run passes until ``stop_event`` is set; sleep ``interval`` seconds when idle."""
    pause = float(interval if interval is not None else app_setting("reconcile_interval"))
    logger.info("reconciler started")
    while not stop_event.is_set():
        close_old_connections()
        try:
            checked = run_once()
        except Exception:  # e.g. the database is restarting: wait and try again
            logger.exception("reconciler pass failed")
            checked = 0
        if checked == 0:
            stop_event.wait(pause)
    close_old_connections()
    logger.info("reconciler stopped")
