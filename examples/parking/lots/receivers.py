"""Signal receivers: the payments app tells us a payment completed; we settle the session."""

from __future__ import annotations

from typing import Any

from phonepe_gateway.django.signals import payment_completed

from . import services


def on_payment_completed(sender: Any, payment: Any, **kwargs: Any) -> None:
    services.record_payment_completed(payment)


def connect() -> None:
    payment_completed.connect(
        on_payment_completed, dispatch_uid="lots.on_payment_completed", weak=False
    )
