"""Signal receivers for monthly passes: the payments app tells us about mandates and debits.

Each receiver reads the news off the subscription or the debit it is given and hands it
to ``lots.passes`` (which ignores mandates that no longer pay for a pass, and news it
already has). A receiver must not raise: the signal is sent after the payments app
committed its own transition.
"""

from __future__ import annotations

import logging
from typing import Any

from . import passes

logger = logging.getLogger(__name__)


def _subscription_of(kwargs: dict[str, Any]) -> Any | None:
    sub = kwargs.get("subscription")
    if sub is None and kwargs.get("payment") is not None:
        sub = getattr(kwargs["payment"], "subscription", None)
    return sub


def on_subscription_changed(sender: Any, **kwargs: Any) -> None:
    sub = _subscription_of(kwargs)
    if sub is None:
        return
    pass_id = passes.pass_id_from_reference(getattr(sub, "reference", "") or "")
    if pass_id is None:
        return
    try:
        passes.follow_mandate(
            pass_id,
            sub.merchant_subscription_id,
            str(sub.state),
            error=str(getattr(sub, "error_code", "") or ""),
        )
    except Exception:
        logger.exception("could not update pass %s from its mandate", pass_id)


def _on_debit(kwargs: dict[str, Any], *, completed: bool) -> None:
    payment = kwargs.get("payment")
    sub = _subscription_of(kwargs)
    if payment is None or sub is None:
        return
    pass_id = passes.pass_id_from_reference(getattr(sub, "reference", "") or "")
    if pass_id is None:
        return
    try:
        passes.apply_debit(
            pass_id,
            sub.merchant_subscription_id,
            completed=completed,
            period_start=getattr(payment, "period_start", None),
            error=str(kwargs.get("reason") or payment.error_code or ""),
        )
    except Exception:
        logger.exception("could not record debit %s on pass %s", payment.merchant_order_id, pass_id)


def on_debit_completed(sender: Any, **kwargs: Any) -> None:
    _on_debit(kwargs, completed=True)


def on_debit_failed(sender: Any, **kwargs: Any) -> None:
    _on_debit(kwargs, completed=False)


def connect() -> None:
    from phonepe_gateway.django import signals

    pairs = [
        (signals.subscription_activated, "subscription_activated", on_subscription_changed),
        (signals.subscription_ended, "subscription_ended", on_subscription_changed),
        (signals.subscription_state_changed, "subscription_state_changed", on_subscription_changed),
        (signals.debit_completed, "debit_completed", on_debit_completed),
        (signals.debit_failed, "debit_failed", on_debit_failed),
    ]
    for signal, name, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"lots.passes.{name}", weak=False)
