"""Connects the counting receiver when the service starts."""

from __future__ import annotations

import os
from typing import Any

from django.apps import AppConfig
from django.db import IntegrityError, connection, transaction


def count_completion(sender: Any, payment: Any, duplicate_of: str | None = None, **_: Any) -> None:
    row = (payment.merchant_order_id, os.getpid(), duplicate_of or "")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO chaos_completion (merchant_order_id, pid, duplicate_of) "
                "VALUES (%s, %s, %s)",
                row,
            )
    except IntegrityError:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO chaos_completion_dup (merchant_order_id, pid, duplicate_of) "
                "VALUES (%s, %s, %s)",
                row,
            )


def count_debit(sender: Any, payment: Any, **_: Any) -> None:
    """UPI AutoPay: ``debit_completed``, counted like ``payment_completed``."""
    row = (payment.merchant_order_id, os.getpid())
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO chaos_debit (merchant_order_id, pid) VALUES (%s, %s)", row)
    except IntegrityError:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO chaos_debit_dup (merchant_order_id, pid) VALUES (%s, %s)", row
            )


class ChaosReceiverConfig(AppConfig):
    name = "benchmarks.chaos_receiver"
    label = "chaos_receiver"
    default = True

    def ready(self) -> None:
        from phonepe_gateway.django.signals import debit_completed, payment_completed

        payment_completed.connect(count_completion, dispatch_uid="chaos.count", weak=False)
        debit_completed.connect(count_debit, dispatch_uid="chaos.count_debit", weak=False)
