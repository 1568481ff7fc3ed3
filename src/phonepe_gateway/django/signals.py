"""Signals of the payments app. Sent after commit, exactly once per state transition.

- ``payment_completed(sender=Payment, payment=..., duplicate_of=...)`` / ``payment_failed``:
  ``duplicate_of`` is the merchant order id that had already paid the payment's
  ``reference`` (the payment is flagged, and refunded when ``refund_duplicates`` is on),
  else None.
- ``refund_completed(sender=Refund, refund=...)`` / ``refund_failed``
- ``gateway_call(sender=None, event=CallEvent)``: every attempt of every gateway call
  made through :func:`phonepe_gateway.django.conf.get_client` (metrics subscribe here).
- lower-level ones for metrics: ``payment_state_changed``, ``refund_state_changed``,
  ``webhook_received``, ``webhook_processed``, ``reconcile_checked``.
- UPI AutoPay (subscription_states.py): ``subscription_activated(sender=Subscription,
  subscription=...)`` when a mandate's set-up becomes ACTIVE; ``subscription_ended(...,
  subscription=..., state=...)`` when it is REVOKED, CANCELLED, EXPIRED or FAILED;
  ``debit_completed(..., subscription=..., payment=..., period=...)`` and
  ``debit_failed(..., final=...)`` (``final``: no retry will follow for that period), each
  once per debit payment; ``subscription_state_changed`` on every move.

Receivers must not change a payment's state directly; they call the services.
The app sends through :func:`emit`: a failing receiver is logged, never raised into
the payment path (the transition it reports is already committed).
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

__all__ = [
    "debit_completed",
    "debit_failed",
    "emit",
    "gateway_call",
    "payment_completed",
    "payment_failed",
    "payment_state_changed",
    "reconcile_checked",
    "refund_completed",
    "refund_failed",
    "refund_state_changed",
    "subscription_activated",
    "subscription_ended",
    "subscription_state_changed",
    "webhook_processed",
    "webhook_received",
]

payment_completed = Signal()
payment_failed = Signal()
refund_completed = Signal()
refund_failed = Signal()
gateway_call = Signal()

#: ``(sender=Payment, payment=..., old_state=..., new_state=...)`` on every state change.
payment_state_changed = Signal()
#: ``(sender=Refund, refund=..., old_state=..., new_state=...)`` on every state change.
refund_state_changed = Signal()
#: ``(sender=WebhookEvent, event=WebhookEvent | None, outcome=...)`` for every delivery:
#: outcome is "stored", "duplicate", "unauthenticated", "malformed", "too_large" or "unavailable".
webhook_received = Signal()
#: ``(sender=WebhookEvent, event=..., result=...)`` after an inbox event was processed.
webhook_processed = Signal()
#: ``(sender=Payment | Refund, obj_id=pk, lag=seconds past due)`` for every reconciler check.
reconcile_checked = Signal()

# -- UPI AutoPay ------------------------------------------------------------------------
subscription_activated = Signal()
subscription_ended = Signal()
#: ``(sender=Subscription, subscription=..., old_state=..., new_state=...)``
subscription_state_changed = Signal()
debit_completed = Signal()
debit_failed = Signal()


_logger = logging.getLogger("phonepe_gateway.django")


def emit(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send ``signal`` to every receiver; log (never raise) a receiver's exception."""
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            _logger.error(
                "signal receiver %r failed",
                receiver,
                exc_info=(type(result), result, result.__traceback__),
            )
