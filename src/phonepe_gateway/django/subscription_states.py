"""THE state machine of mandates (UPI AutoPay subscriptions): the only code that writes
a :class:`~.models.Subscription`'s ``state`` and its debit schedule.

Like :mod:`.states` for payments: every change runs in ``transaction.atomic()`` on the
row locked with ``select_for_update``; signals go out once, after the commit. States
move forward only; the one way back is a resume (``PAUSED`` to ``ACTIVE``), which is the
customer's to make. The ended states are final (:data:`SUBSCRIPTION_TRANSITIONS`;
tests/docs checks this drawing and the one in docs/API.md against the table):

    CREATED   ──▷ PENDING | UNKNOWN | ACTIVE | PAUSED | REVOKED | CANCELLED | EXPIRED | FAILED
    UNKNOWN   ──▷ PENDING | ACTIVE | PAUSED | REVOKED | CANCELLED | EXPIRED | FAILED
    PENDING   ──▷ ACTIVE | PAUSED | REVOKED | CANCELLED | EXPIRED | FAILED
    ACTIVE    ──▷ PAUSED | REVOKED | CANCELLED | EXPIRED
    PAUSED    ──▷ ACTIVE | REVOKED | CANCELLED | EXPIRED
    REVOKED   ──▷ nothing
    CANCELLED ──▷ nothing
    EXPIRED   ──▷ nothing
    FAILED    ──▷ nothing   (a gateway ACTIVE for it is only flagged for review)

A set-up state moves to any later one: the gateway may first be heard of after the
customer approved and already paused or revoked the mandate.

Signals: ``subscription_activated`` when a set-up is approved (it becomes ``ACTIVE``, or
is first seen ``PAUSED`` or ``REVOKED``; not on a resume),
``subscription_ended`` on entering an ended state, ``subscription_state_changed`` on every
move. A debit is a Payment, moved by :mod:`.states`; the receivers at the bottom turn its
``payment_completed`` / ``payment_failed`` (each sent once) into ``debit_completed`` /
``debit_failed``. This module never talks to the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from . import signals
from .conf import app_setting
from .models import ENDED_STATES, SETUP_STATES, Payment, Subscription, SubscriptionState

__all__ = [
    "SUBSCRIPTION_TRANSITIONS",
    "advance_schedule",
    "flag_subscription",
    "move_subscription",
]

_S = SubscriptionState
_LATER = (_S.ACTIVE, _S.PAUSED, _S.REVOKED, _S.CANCELLED, _S.EXPIRED, _S.FAILED)
#: moving from a set-up state into one of these means the customer approved the mandate
_APPROVED = (_S.ACTIVE, _S.PAUSED, _S.REVOKED)
SUBSCRIPTION_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    # The gateway may be first heard of after the customer already paused or revoked the
    # mandate they approved: a set-up state moves to any later one.
    _S.CREATED: frozenset({_S.PENDING, _S.UNKNOWN, *_LATER}),
    _S.UNKNOWN: frozenset({_S.PENDING, *_LATER}),
    _S.PENDING: frozenset(_LATER),
    _S.ACTIVE: frozenset({_S.PAUSED, _S.REVOKED, _S.CANCELLED, _S.EXPIRED}),
    _S.PAUSED: frozenset({_S.ACTIVE, _S.REVOKED, _S.CANCELLED, _S.EXPIRED}),
    _S.REVOKED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.FAILED: frozenset(),
}

_INFO = (
    "subscription_id",
    "gateway_order_id",
    "intent_url",
    "expires_at",
    "mandate_expires_at",
    "error_code",
    "error_message",
)
_UNSET: Any = object()


def _add_review(sub: Subscription, reason: str) -> None:
    sub.needs_review = True
    if reason not in sub.review_reason:
        sub.review_reason = f"{sub.review_reason}\n{reason}".strip()


def _record_info(sub: Subscription, info: Mapping[str, Any] | None) -> None:
    for name, value in (info or {}).items():
        if name not in _INFO:
            raise ValueError(f"{name!r} is not recordable information")
        if value in (None, ""):
            continue
        if isinstance(value, str):
            limit = getattr(Subscription._meta.get_field(name), "max_length", None)
            value = value[:limit] if limit else value
        setattr(sub, name, value)


def changes_nothing(sub: Subscription, target: str, info: Mapping[str, Any]) -> bool:
    """Would recording ``target`` and ``info`` leave ``sub`` as it is?"""
    if target not in ("", sub.state):
        return False
    return all(value in (None, "") or getattr(sub, name) == value for name, value in info.items())


def move_subscription(
    subscription_id: int,
    target: str,
    *,
    info: Mapping[str, Any] | None = None,
    review: str = "",
    next_check_at: datetime | None = _UNSET,
    now: datetime | None = None,
) -> Subscription:
    """Move a mandate towards ``target`` if the machine allows it; return the fresh row.

    On activation the schedule starts: period 1 falls due at ``first_debit_at`` (the
    host's, or one frequency step after activation). Entering an ended state stops the
    schedule; the approval link is cleared once the set-up is over.
    """
    from .schedule import period_due

    now = now or timezone.now()
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription_id)
        old = sub.state
        _record_info(sub, info)
        if review:
            _add_review(sub, review)
        moved = target != old and target in SUBSCRIPTION_TRANSITIONS[old]
        if target == _S.ACTIVE and old == _S.FAILED:
            _add_review(sub, "the gateway reports ACTIVE for a mandate marked FAILED")
        if moved:
            sub.state = target
            if target in _APPROVED and old in SETUP_STATES:
                sub.activated_at = now
                if sub.first_debit_at is None and sub.frequency != "ON_DEMAND":
                    sub.first_debit_at = period_due(now, sub.frequency, 2)
                if sub.first_debit_at is not None:
                    sub.next_debit_at = period_due(
                        sub.first_debit_at, sub.frequency, sub.next_period
                    )
                    _stop_at_mandate_end(sub)
            if target in ENDED_STATES:
                sub.ended_at = now
                sub.next_debit_at = None
        if sub.state not in SETUP_STATES:
            sub.intent_url = ""
        if sub.state in ENDED_STATES:
            sub.next_check_at = None
        elif moved and target in (_S.UNKNOWN, _S.ACTIVE):
            sub.next_check_at = now  # the debit loop looks at once
        elif next_check_at is not _UNSET:
            sub.next_check_at = next_check_at
        sub.save()
        if moved:
            _notify(sub, old, target)
    return sub


def flag_subscription(subscription_id: int, reason: str) -> Subscription:
    """Flag a mandate for review without touching its state."""
    return move_subscription(subscription_id, "", review=reason)


def advance_schedule(sub: Subscription, period: int) -> None:
    """Record that period ``period``'s debit has been started (under the caller's lock):
    the schedule moves on to the next one. Never moves backwards."""
    from .schedule import period_due

    if period < sub.next_period:
        return
    sub.next_period = period + 1
    if sub.first_debit_at is not None and sub.frequency != "ON_DEMAND":
        sub.next_debit_at = period_due(sub.first_debit_at, sub.frequency, sub.next_period)
    _stop_at_mandate_end(sub)


def _stop_at_mandate_end(sub: Subscription) -> None:
    ends = sub.mandate_expires_at
    if ends is not None and sub.next_debit_at is not None and sub.next_debit_at > ends:
        sub.next_debit_at = None  # the mandate ends before the next period


def _notify(sub: Subscription, old: str, new: str) -> None:
    def send() -> None:
        signals.emit(
            signals.subscription_state_changed,
            sender=Subscription,
            subscription=sub,
            old_state=old,
            new_state=new,
        )
        if new in _APPROVED and old in SETUP_STATES:
            signals.emit(signals.subscription_activated, sender=Subscription, subscription=sub)
        if new in ENDED_STATES:
            signals.emit(
                signals.subscription_ended, sender=Subscription, subscription=sub, state=new
            )

    transaction.on_commit(send, robust=True)


# -- debits: the payment machine's once-only signals, re-sent with their mandate ------------


def _debit_of(payment: Any) -> tuple[Subscription, int] | None:
    if payment is None or getattr(payment, "subscription_id", None) is None:
        return None
    if payment.debit_period is None or payment.debit_period < 1:
        return None  # the set-up transaction: its news is subscription_activated
    return Subscription.objects.get(pk=payment.subscription_id), int(payment.debit_period)


@receiver(signals.payment_completed, dispatch_uid="phonepe_subscription_debit_completed")
def _on_payment_completed(sender: Any, payment: Any = None, **kwargs: Any) -> None:
    # Runs inside the completion outbox's transaction: sent exactly once with it.
    debit = _debit_of(payment)
    if debit is None:
        return
    sub, period = debit
    signals.emit(
        signals.debit_completed,
        sender=Subscription,
        subscription=sub,
        payment=payment,
        period=period,
    )


@receiver(signals.payment_failed, dispatch_uid="phonepe_subscription_debit_failed")
def _on_payment_failed(sender: Any, payment: Any = None, **kwargs: Any) -> None:
    debit = _debit_of(payment)
    if debit is None:
        return
    sub, period = debit
    attempts = int(app_setting("debit_max_attempts"))
    # final: no retry can follow (attempts used up, or the mandate ended; a paused one may
    # still be retried once resumed, while the period is current)
    final = int(payment.debit_attempt or 1) >= attempts or sub.state in ENDED_STATES
    # The debit loop decides on a retry: look at the mandate now.
    Subscription.objects.filter(pk=sub.pk, state=_S.ACTIVE).update(next_check_at=timezone.now())
    signals.emit(
        signals.debit_failed,
        sender=Subscription,
        subscription=sub,
        payment=payment,
        period=period,
        final=final,
    )


def debit_payments(sub: Subscription) -> Any:
    """The mandate's payments, newest period first: its debits and, last, the set-up
    transaction (period 0) when the set-up charged money."""
    return Payment.objects.filter(subscription=sub).order_by("-debit_period", "-debit_attempt")
