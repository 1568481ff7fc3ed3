"""Signal receivers: the payments app tells us a payment completed; we settle the session.

A receiver must not raise: the signal is sent once, after commit, from whatever called
the payments app (the webhook view, the return page, the reconciler).
"""

from __future__ import annotations

import logging
from typing import Any

from phonepe_gateway.django.signals import payment_completed, payment_failed

from . import bookings, services

logger = logging.getLogger(__name__)


def on_payment_completed(sender: Any, payment: Any, **kwargs: Any) -> None:
    try:
        services.record_payment_completed(payment, duplicate_of=kwargs.get("duplicate_of"))
    except Exception:
        # The ticket then shows "checking" and sends the driver to staff; never break
        # the payments app's own processing (webhook answer, reconciler pass).
        logger.exception("could not settle the ticket of payment %s", payment.merchant_order_id)


def on_booking_payment_completed(sender: Any, payment: Any, **kwargs: Any) -> None:
    try:
        bookings.record_payment_completed(payment, duplicate_of=kwargs.get("duplicate_of"))
    except Exception:
        # The booking page then keeps waiting; the reconciler's next pass signals nothing
        # new, so staff see it in the log and on the payments page.
        logger.exception("could not settle the booking of payment %s", payment.merchant_order_id)


def on_booking_payment_failed(sender: Any, payment: Any, **kwargs: Any) -> None:
    try:
        bookings.record_payment_failed(payment)
    except Exception:
        logger.exception("could not expire the booking of payment %s", payment.merchant_order_id)


def connect() -> None:
    payment_completed.connect(
        on_payment_completed, dispatch_uid="lots.on_payment_completed", weak=False
    )
    # Bookings (lots/bookings.py): paid -> a bay is held; failed/expired -> the booking expires.
    payment_completed.connect(
        on_booking_payment_completed, dispatch_uid="lots.on_booking_payment_completed", weak=False
    )
    payment_failed.connect(
        on_booking_payment_failed, dispatch_uid="lots.on_booking_payment_failed", weak=False
    )
