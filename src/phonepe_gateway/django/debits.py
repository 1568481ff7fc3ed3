"""Scheduled AutoPay debits, run from the reconciler's loop: notify, then redeem when due.

Exactly once per period, with any number of workers and crashes anywhere:

* a debit's merchant order id is derived from the mandate, the period and the attempt
  (:func:`~.schedule.debit_order_id`), and the ledger has one row per (mandate, period,
  attempt): a retry, another worker or a restarted one names the same order, which the
  gateway notifies and debits at most once;
* the next attempt of a period is made only after the gateway said the previous one
  FAILED (and the policy allows: ``debit_max_attempts``, ``debit_retry_after``);
* a redemption whose answer may have been lost is never sent blindly again: the order's
  status is asked first (a ``NOTIFIED`` order was not executed).

A pass claims due mandates like the reconciler claims payments (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, a lease in ``next_check_at``). Before anything is sent for a
mandate its status is asked (PhonePe: notify only an ``ACTIVE`` mandate), which is also
how a pause or a revocation in the customer's app is marked. Nothing here writes a
state: payments move through :mod:`.states`, mandates through :mod:`.subscription_states`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from phonepe_gateway import GatewayError, PhonePeError, ValidationError

from . import states
from . import subscription_states as machine
from .conf import app_setting, get_client
from .exceptions import PaymentsError, gateway_error_info, gateway_may_have_acted
from .models import (
    LIVE_STATES,
    OPEN_STATES,
    SETUP_STATES,
    Payment,
    PaymentState,
    Subscription,
    SubscriptionState,
)
from .reconcile import first_check_at
from .schedule import debit_order_id, period_due

__all__ = ["due_debits", "run_debits"]

logger = logging.getLogger("phonepe_gateway.django.debits")

#: a debit stored but not yet acknowledged is looked at again this soon
_SOON = timedelta(seconds=5)
#: a redemption refused before it ran is sent again this much later
_REDEEM_AGAIN = timedelta(seconds=15)


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=float(app_setting(name)))


def due_debits(now: datetime | None = None) -> list[Subscription]:
    """Active mandates whose next period's notice is due (read only; :func:`run_debits`
    acts on them)."""
    now = now or timezone.now()
    horizon = now + _seconds("debit_notify_ahead")
    return list(
        Subscription.objects.filter(
            state=SubscriptionState.ACTIVE, next_debit_at__isnull=False, next_debit_at__lte=horizon
        ).order_by("next_debit_at")
    )


def run_debits(now: datetime | None = None, limit: int | None = None) -> int:
    """One pass: every claimed mandate gets its set-up checked, its notices sent, its due
    debits redeemed and its failed ones retried. Returns how many mandates it handled."""
    now = now or timezone.now()
    limit = int(limit or app_setting("reconcile_batch"))
    handled = 0
    for pk in _claim(now, limit):
        try:
            _work(pk, now)
        except Exception:  # one bad mandate must not stop the others; its lease expires
            logger.exception("debit work for subscription %s failed", pk)
        handled += 1
    return handled


def _claim(now: datetime, limit: int) -> list[int]:
    lease = now + _seconds("reconcile_lease")
    with transaction.atomic():
        due = Subscription.objects.filter(
            state__in=(*SETUP_STATES, *LIVE_STATES), next_check_at__lte=now
        ).order_by("next_check_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        pks = list(due.values_list("pk", flat=True)[:limit])
        if pks:
            Subscription.objects.filter(pk__in=pks).update(
                next_check_at=lease, check_count=F("check_count") + 1
            )
    return pks


def _work(pk: int, now: datetime) -> None:
    from .reconcile import next_delay
    from .subscriptions import sync_subscription

    sub = Subscription.objects.get(pk=pk)
    setup = sub.state in SETUP_STATES
    try:
        sub = sync_subscription(sub, now=now)  # PhonePe: notify only an ACTIVE mandate
    except PaymentsError as exc:
        logger.info("mandate %s not checked: %s", sub.merchant_subscription_id, exc.code)
        _reschedule(sub, now + timedelta(seconds=next_delay(min(sub.check_count, 10))))
        return
    if sub.state in SETUP_STATES or (setup and sub.state not in LIVE_STATES):
        _reschedule(sub, now + timedelta(seconds=next_delay(sub.check_count)))
        return
    if sub.state == SubscriptionState.ACTIVE:
        _resume_unsent(sub, now)
        _notify_due_period(sub, now)
        _retry_failed(sub, now)
        _redeem_due(sub, now)
    sub.refresh_from_db()
    if sub.state in (*LIVE_STATES,):
        _reschedule(sub, _next_wake(sub, now))


def _reschedule(sub: Subscription, at: datetime) -> None:
    Subscription.objects.filter(pk=sub.pk, state__in=(*SETUP_STATES, *LIVE_STATES)).update(
        next_check_at=at
    )


def _next_wake(sub: Subscription, now: datetime) -> datetime:
    """The earliest of: the next notice, the next redemption, a retry, a routine check."""
    times = [now + _seconds("subscription_check_interval")]
    if sub.state == SubscriptionState.ACTIVE and sub.next_debit_at is not None:
        times.append(sub.next_debit_at - _seconds("debit_notify_ahead"))
    open_debits = Payment.objects.filter(subscription=sub, debit_period__gte=1)
    if open_debits.filter(state=PaymentState.CREATED).exists():
        times.append(now + _SOON)
    due = (
        open_debits.filter(state=PaymentState.PENDING, redeem_sent_at__isnull=True)
        .exclude(debit_due_at__isnull=True)
        .order_by("debit_due_at")
        .values_list("debit_due_at", flat=True)
        .first()
    )
    if due is not None:
        times.append(due)
    retry = _retry_candidate(sub)
    if retry is not None:
        times.append(retry.updated_at + _seconds("debit_retry_after"))
    return max(now, min(times))


# -- notices ------------------------------------------------------------------------------


def _open_debit(sub: Subscription) -> bool:
    """PhonePe keeps one redemption of a mandate open at a time: the next notice waits."""
    return Payment.objects.filter(
        subscription=sub, debit_period__gte=1, state__in=OPEN_STATES
    ).exists()


def _notify_due_period(sub: Subscription, now: datetime) -> None:
    if sub.next_debit_at is None or sub.next_debit_at - _seconds("debit_notify_ahead") > now:
        return
    if _open_debit(sub):
        return
    _skip_missed(sub, now)
    sub.refresh_from_db(fields=["next_period", "next_debit_at"])
    if sub.next_debit_at is not None:
        _start_debit(sub, sub.next_period, 1, now)


def _skip_missed(sub: Subscription, now: datetime) -> None:
    """Periods that went by while nothing could be debited (a pause, an outage) are not
    debited later in a row: only the latest period that has fallen due is."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=sub.pk)
        first, skipped = locked.first_debit_at, []
        while first is not None and locked.next_debit_at is not None:
            if period_due(first, locked.frequency, locked.next_period + 1) > now:
                break
            skipped.append(locked.next_period)
            machine.advance_schedule(locked, locked.next_period)
        if skipped:
            locked.save(update_fields=["next_period", "next_debit_at", "updated_at"])
            logger.warning(
                "mandate %s: periods %s went by undebited (paused or unreachable); skipped",
                locked.merchant_subscription_id,
                skipped,
            )


def _start_debit(sub: Subscription, period: int, attempt: int, now: datetime) -> Payment | None:
    """Store the debit (its id fixed by mandate, period and attempt) and move the schedule
    on, in one transaction under the mandate's lock; then send its notice.

    Under that lock, too, the checks another worker may have made stale: a first attempt
    only for the period the schedule is at, and none while another debit is open."""
    order_id = debit_order_id(sub.merchant_subscription_id, period, attempt)
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=sub.pk)
        if locked.state != SubscriptionState.ACTIVE:
            return None
        assert locked.first_debit_at is not None
        if not Payment.objects.filter(merchant_order_id=order_id).exists():
            if attempt == 1 and period != locked.next_period:
                return None  # another worker moved the schedule on meanwhile
            if _open_debit(locked):
                return None
        payment, _ = Payment.objects.get_or_create(
            merchant_order_id=order_id,
            defaults={
                "amount": locked.amount,
                "reference": f"autopay:{locked.merchant_subscription_id}:{period}",
                "subscription": locked,
                "debit_period": period,
                "debit_attempt": attempt,
                "period_start": period_due(locked.first_debit_at, locked.frequency, period),
                "state": PaymentState.CREATED,
                # Followed by the reconciler too: if this worker dies before the notice and
                # the mandate stops being ACTIVE (nothing resends it), the status API
                # settles it (FAILED once no notice can still be in flight).
                "next_check_at": first_check_at(now),
            },
        )
        machine.advance_schedule(locked, period)
        locked.save(update_fields=["next_period", "next_debit_at", "updated_at"])
    if payment.state != PaymentState.CREATED:
        return payment  # another worker got there first
    return _send_notice(sub, payment, now)


def _resume_unsent(sub: Subscription, now: datetime) -> None:
    """Debits stored by a worker that died before their notice was acknowledged."""
    stale = now - _SOON
    for payment in Payment.objects.filter(
        subscription=sub, debit_period__gte=1, state=PaymentState.CREATED, created_at__lte=stale
    ):
        _send_notice(sub, payment, now)


def _send_notice(sub: Subscription, payment: Payment, now: datetime) -> Payment:
    from .services import sync_payment

    try:
        result = get_client().notify_redemption(
            merchant_subscription_id=sub.merchant_subscription_id,
            amount=int(payment.amount),
            merchant_order_id=payment.merchant_order_id,
        )
    except ValidationError as exc:  # nothing was sent: this debit can never be made
        return states.move_payment(
            payment.pk, PaymentState.FAILED, info=gateway_error_info(exc), review=str(exc)[:500]
        )
    except PhonePeError as exc:
        if isinstance(exc, GatewayError) and exc.may_mean_reused_id:
            # The id is derived, so "taken" can only mean our own notice (a crashed or a
            # concurrent worker's): ask. A refusal for any other reason (a paused mandate)
            # leaves the gateway without the order.
            try:
                payment = sync_payment(payment, now=now)
            except PaymentsError:
                return payment
            if payment.state != PaymentState.CREATED:
                return payment
        return _notice_refused(sub, payment, exc, now)
    due = max(payment.period_start or now, now + _seconds("debit_notice_min"))
    Payment.objects.filter(pk=payment.pk, debit_due_at__isnull=True).update(debit_due_at=due)
    info = {"gateway_order_id": result.order_id, "expires_at": result.expire_at}
    payment = states.move_payment(payment.pk, PaymentState.PENDING, info=info, next_check_at=due)
    logger.info(
        "notified debit %s of %s (period %s), due %s",
        payment.merchant_order_id,
        sub.merchant_subscription_id,
        payment.debit_period,
        due.isoformat(),
    )
    return payment


def _notice_refused(
    sub: Subscription, payment: Payment, exc: PhonePeError, now: datetime
) -> Payment:
    acted = gateway_may_have_acted(exc)
    target = PaymentState.UNKNOWN if acted else PaymentState.FAILED
    payment = states.move_payment(payment.pk, target, info=gateway_error_info(exc))
    if not acted:  # e.g. the mandate is paused or revoked: mark it
        _sync_quietly(sub, now)
    return payment


def _sync_quietly(sub: Subscription, now: datetime) -> None:
    from .subscriptions import sync_subscription

    try:
        sync_subscription(sub, now=now)
    except PaymentsError as exc:
        logger.info("mandate %s not synced: %s", sub.merchant_subscription_id, exc.code)


# -- redemptions ---------------------------------------------------------------------------


def _redeem_due(sub: Subscription, now: datetime) -> None:
    pending = Payment.objects.filter(
        subscription=sub, debit_period__gte=1, state=PaymentState.PENDING
    ).filter(Q(debit_due_at__isnull=True) | Q(debit_due_at__lte=now))
    for payment in pending.order_by("debit_period", "debit_attempt"):
        if payment.debit_due_at is None:
            # Notified by an earlier worker whose answer was lost: we learnt of it now, so
            # the notice period certainly started no later than now.
            due = max(payment.period_start or now, now + _seconds("debit_notice_min"))
            Payment.objects.filter(pk=payment.pk, debit_due_at__isnull=True).update(
                debit_due_at=due, next_check_at=due
            )
            continue
        _redeem(payment, now)


def _redeem(payment: Payment, now: datetime) -> None:
    from .services import observe_order_status

    client = get_client()
    if payment.redeem_sent_at is not None:
        # A redemption may already be on its way: only a NOTIFIED order was not executed.
        try:
            status = client.get_subscription_order_status(payment.merchant_order_id, details=True)
        except PhonePeError as exc:
            logger.info("debit %s not checked: %s", payment.merchant_order_id, type(exc).__name__)
            return
        observe_order_status(payment, status)
        if str(status.state) != "NOTIFIED":
            return
    else:
        claimed = Payment.objects.filter(pk=payment.pk, redeem_sent_at__isnull=True).update(
            redeem_sent_at=now
        )
        if not claimed:
            return  # another worker is redeeming it; the reconciler follows the outcome
    try:
        result = client.redeem(payment.merchant_order_id)
    except PhonePeError as exc:
        _after_redeem_error(payment, exc, now)
        return
    info = {"transaction_id": result.transaction_id}
    target = {"COMPLETED": PaymentState.COMPLETED, "FAILED": PaymentState.FAILED}.get(
        str(result.state), PaymentState.PENDING
    )
    states.move_payment(payment.pk, target, info=info, next_check_at=first_check_at(now))
    logger.info("redeemed debit %s: %s", payment.merchant_order_id, result.state)


def _after_redeem_error(payment: Payment, exc: PhonePeError, now: datetime) -> None:
    """Never FAILED from here: the order exists (it was notified), so only its status may
    say how it ended. Ask it; a refused redemption also means: look at the mandate."""
    from .services import sync_payment

    logger.info("redeem of %s: %s", payment.merchant_order_id, type(exc).__name__)
    try:
        payment = sync_payment(payment, now=now)
    except PaymentsError:
        return
    if isinstance(exc, GatewayError) and payment.state == PaymentState.PENDING:
        # Refused (e.g. "too early": PhonePe counts the notice period from when the
        # notification reached the customer) and, per its status, not executed: send it
        # again, under the same id, a little later.
        Payment.objects.filter(pk=payment.pk, state=PaymentState.PENDING).update(
            redeem_sent_at=None, debit_due_at=now + _REDEEM_AGAIN
        )
    if isinstance(exc, GatewayError) and not gateway_may_have_acted(exc) and payment.subscription:
        _sync_quietly(payment.subscription, now)


# -- retries ---------------------------------------------------------------------------------


def _retry_candidate(sub: Subscription) -> Payment | None:
    """The latest period's last attempt, if it FAILED and the policy allows another."""
    if sub.state != SubscriptionState.ACTIVE:
        return None
    last = (
        Payment.objects.filter(subscription=sub, debit_period__gte=1)
        .order_by("-debit_period", "-debit_attempt")
        .first()
    )
    if last is None or last.state != PaymentState.FAILED:
        return None
    if int(last.debit_attempt or 1) >= int(app_setting("debit_max_attempts")):
        return None
    return last


def _retry_failed(sub: Subscription, now: datetime) -> None:
    last = _retry_candidate(sub)
    if last is None or last.updated_at + _seconds("debit_retry_after") > now:
        return
    if _open_debit(sub):
        return
    assert last.debit_period is not None
    first = sub.first_debit_at
    if first is not None and period_due(first, sub.frequency, last.debit_period + 1) <= now:
        return  # the next period is due already: that one is debited, not this one again
    _start_debit(sub, last.debit_period, int(last.debit_attempt or 1) + 1, now)
