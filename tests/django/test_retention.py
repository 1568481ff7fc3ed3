"""Retention: old idempotency keys, processed inbox events and call log rows are purged;
payments, refunds and unprocessed events never are."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from phonepe_gateway.django import reconcile, retention, services
from phonepe_gateway.django.models import (
    GatewayCallLog,
    IdempotencyRecord,
    Payment,
    WebhookEvent,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _aged(model, pk: int, field: str, age: timedelta) -> None:
    model.objects.filter(pk=pk).update(**{field: timezone.now() - age})


def _fill(gateway) -> dict[str, int]:
    """One old and one young row of each kind; returns the old ones' pks."""
    old_key = IdempotencyRecord.objects.create(scope="s", key="old", request_fingerprint="f")
    IdempotencyRecord.objects.create(scope="s", key="young", request_fingerprint="f")
    _aged(IdempotencyRecord, old_key.pk, "created_at", timedelta(hours=25))

    payment = services.create_payment(amount=5000)
    done = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id, nonce=1))
    services.process_webhook(done)
    stuck = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id, nonce=2))
    _aged(WebhookEvent, done.pk, "processed_at", timedelta(days=31))
    _aged(WebhookEvent, stuck.pk, "received_at", timedelta(days=90))  # never processed

    old_log = GatewayCallLog.objects.create(call="pay", outcome="ok")
    GatewayCallLog.objects.create(call="pay", outcome="ok")
    _aged(GatewayCallLog, old_log.pk, "created_at", timedelta(days=8))
    return {"key": old_key.pk, "event": done.pk, "stuck": stuck.pk, "log": old_log.pk}


def test_purge_then_only_rows_past_retention_deleted(gateway) -> None:
    old = _fill(gateway)
    counts = retention.purge()
    assert counts == {"idempotency_records": 1, "webhook_events": 1, "call_log_rows": 1}
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]
    assert not WebhookEvent.objects.filter(pk=old["event"]).exists()
    assert WebhookEvent.objects.filter(pk=old["stuck"]).exists()
    assert not GatewayCallLog.objects.filter(pk=old["log"]).exists()
    assert GatewayCallLog.objects.exists()
    assert Payment.objects.count() == 1


def test_purge_settings_shorten_retention(gateway, settings) -> None:
    settings.PHONEPE = {"idempotency_retention": 0, "call_log_retention": 0}
    _fill(gateway)
    counts = retention.purge()
    assert counts["idempotency_records"] == 2
    assert counts["call_log_rows"] >= 2


def test_command_dry_run_counts_then_deletes(gateway) -> None:
    _fill(gateway)
    out = StringIO()
    call_command("phonepe_purge", "--dry-run", stdout=out)
    assert "would delete 1 idempotency records" in out.getvalue()
    assert IdempotencyRecord.objects.count() == 2
    call_command("phonepe_purge", stdout=out)
    assert "deleted 1 idempotency records" in out.getvalue()
    assert IdempotencyRecord.objects.count() == 1


def test_reconciler_pass_purges_when_due(gateway, monkeypatch) -> None:
    _fill(gateway)
    monkeypatch.setattr(retention, "_last_purge", -float("inf"))
    reconcile.run_once()
    assert IdempotencyRecord.objects.count() == 1
    assert (
        GatewayCallLog.objects.filter(created_at__lt=timezone.now() - timedelta(days=7)).count()
        == 0
    )
