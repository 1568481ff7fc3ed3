"""Retention: what the ledger forgets, and when.

Payments and refunds are never purged (they are the ledger). Three kinds of rows only
help while they are young and would otherwise grow forever:

- idempotency records older than ``idempotency_retention`` (24 h, as Stripe keeps keys);
- inbox events *processed* longer ago than ``inbox_retention`` (an unprocessed event is
  never purged: it may still carry news);
- gateway call log rows older than ``call_log_retention``.

:func:`purge` deletes them in bounded batches; the reconciler calls :func:`purge_if_due`
every ``purge_interval`` seconds and ``manage.py phonepe_purge`` does it on demand.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from django.db.models import Model, QuerySet
from django.utils import timezone

from .conf import app_setting
from .models import GatewayCallLog, IdempotencyRecord, WebhookEvent

__all__ = ["BATCH", "purge", "purge_if_due"]

#: rows deleted per statement, so a long backlog never holds a lock for long
BATCH = 1000

_lock = threading.Lock()
_last_purge = -float("inf")


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=float(app_setting(name)))


def _delete(rows: QuerySet[Model], *, dry_run: bool) -> int:
    if dry_run:
        return rows.count()
    deleted = 0
    while True:
        pks = list(rows.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return deleted
        deleted += rows.model._default_manager.filter(pk__in=pks).delete()[0]


def purge(*, now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete (or with ``dry_run`` count) what is past its retention; returns counts."""
    now = now or timezone.now()
    return {
        "idempotency_records": _delete(
            IdempotencyRecord.objects.filter(
                created_at__lt=now - _seconds("idempotency_retention")
            ),
            dry_run=dry_run,
        ),
        "webhook_events": _delete(
            WebhookEvent.objects.filter(
                processed_at__isnull=False,
                processed_at__lt=now - _seconds("inbox_retention"),
            ),
            dry_run=dry_run,
        ),
        "call_log_rows": _delete(
            GatewayCallLog.objects.filter(created_at__lt=now - _seconds("call_log_retention")),
            dry_run=dry_run,
        ),
    }


def purge_if_due(*, now: datetime | None = None) -> dict[str, int] | None:
    """Purge when ``purge_interval`` seconds have passed since this process last did."""
    global _last_purge
    with _lock:
        if time.monotonic() - _last_purge < float(app_setting("purge_interval")):
            return None
        _last_purge = time.monotonic()
    return purge(now=now)
