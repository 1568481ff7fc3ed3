"""The webhook inbox over a fake gateway: verify, store once, treat as a hint, never trust it."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError, connection

from phonepe_gateway.django import services
from phonepe_gateway.django.exceptions import StorageUnavailable, WebhookRejected
from phonepe_gateway.django.models import Payment, WebhookEvent

from .conftest import webhook_authorization

pytestmark = pytest.mark.django_db(transaction=True)


def test_receive_webhook_forged_credentials_then_401_nothing_stored_no_change(gateway) -> None:
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    headers, body = gateway.order_webhook(payment.merchant_order_id)
    headers["Authorization"] = webhook_authorization("sandboxhook", "guessed-password1")
    with pytest.raises(WebhookRejected) as info:
        services.receive_webhook(headers, body)
    assert info.value.http_status == 401
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.state == "PENDING"


def test_receive_webhook_malformed_then_400(gateway) -> None:
    with pytest.raises(WebhookRejected) as info:
        services.receive_webhook({"Authorization": webhook_authorization()}, b"{not json")
    assert info.value.http_status == 400
    assert not WebhookEvent.objects.exists()


def test_receive_webhook_oversized_then_413_before_verification(gateway, monkeypatch) -> None:
    monkeypatch.setattr(gateway, "verify_webhook", lambda h, b: pytest.fail("verified a huge body"))
    with pytest.raises(WebhookRejected) as info:
        services.receive_webhook({}, b"x" * (64 * 1024 + 1))
    assert info.value.http_status == 413


def test_receive_webhook_duplicate_then_same_row_and_credentials_not_stored(gateway) -> None:
    payment = services.create_payment(amount=5000)
    headers, body = gateway.order_webhook(payment.merchant_order_id, state="COMPLETED")
    headers["Cookie"] = "sessionid=abc"
    first = services.receive_webhook(headers, body)
    second = services.receive_webhook(headers, body)
    assert first.pk == second.pk
    assert WebhookEvent.objects.count() == 1
    stored = WebhookEvent.objects.get()
    assert stored.verified
    assert stored.event == "checkout.order.completed"
    assert stored.merchant_order_id == payment.merchant_order_id
    assert stored.amount == 5000
    assert "authorization" not in stored.headers
    assert "cookie" not in stored.headers
    assert webhook_authorization() not in json.dumps(stored.headers)
    assert json.loads(stored.body) == json.loads(body)


def test_receive_webhook_database_unavailable_then_storage_unavailable(gateway) -> None:
    payment = services.create_payment(amount=5000)
    headers, body = gateway.order_webhook(payment.merchant_order_id, state="COMPLETED")

    def database_down(execute, sql, params, many, context):
        if "phonepe_webhookevent" in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_down), pytest.raises(StorageUnavailable) as info:
        services.receive_webhook(headers, body)
    assert info.value.http_status == 503
    # PhonePe retries: now it is stored and processed.
    event = services.receive_webhook(headers, body)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    services.process_webhook(event)
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"


def test_process_webhook_confirmed_by_gateway_then_applied_signal_once(gateway, signal_log) -> None:
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    event = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id))
    services.process_webhook(event.pk)
    services.process_webhook(event.pk)
    event.refresh_from_db()
    assert event.processing_result == "applied"
    assert event.processed_at
    assert event.attempts == 1
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_process_webhook_stale_object_already_processed_then_skipped_not_counted(
    gateway, signal_log
) -> None:
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    stale = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id))
    services.process_webhook(stale.pk)  # another worker got there first
    assert stale.processed_at is None
    services.process_webhook(stale)
    fresh = WebhookEvent.objects.get(pk=stale.pk)
    assert (fresh.attempts, fresh.processing_result) == (1, "applied")
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_process_webhook_gateway_contradicts_then_no_transition(gateway, signal_log) -> None:
    payment = services.create_payment(amount=5000)
    # Authenticated (the header is static and replayable) but the gateway says PENDING.
    event = services.receive_webhook(
        *gateway.order_webhook(payment.merchant_order_id, state="COMPLETED")
    )
    services.process_webhook(event)
    event.refresh_from_db()
    payment.refresh_from_db()
    assert event.processing_result == "contradicted"
    assert payment.state == "PENDING"
    assert signal_log.events == []


def test_process_webhook_amount_differs_but_gateway_agrees_then_not_flagged(gateway) -> None:
    # A replayed or forged header naming another amount must not flag anything by itself:
    # the status API is asked first, and it agrees with the ledger.
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    event = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id, amount=100))
    services.process_webhook(event)
    event.refresh_from_db()
    payment.refresh_from_db()
    assert event.processing_result == "contradicted"
    assert payment.state == "COMPLETED"
    assert not payment.needs_review
    assert gateway.status_calls[payment.merchant_order_id] >= 1


def test_process_webhook_amount_differs_and_gateway_confirms_then_flagged_no_transition(
    gateway,
) -> None:
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    gateway.reported_amount[payment.merchant_order_id] = 100
    event = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id, amount=100))
    services.process_webhook(event)
    event.refresh_from_db()
    payment.refresh_from_db()
    assert event.processing_result == "mismatch"
    assert payment.state == "PENDING"
    assert payment.needs_review


def test_process_webhook_unknown_order_then_recorded(gateway) -> None:
    payment = services.create_payment(amount=5000)
    headers, body = gateway.order_webhook(payment.merchant_order_id, state="COMPLETED")
    Payment.objects.all().delete()
    event = services.receive_webhook(headers, body)
    services.process_webhook(event)
    event.refresh_from_db()
    assert event.processing_result == "unknown_order"
    assert event.processed_at


def test_process_webhook_gateway_down_then_error_kept_for_replay(gateway) -> None:
    from phonepe_gateway._errors import Category, TransportError

    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    event = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id))
    gateway.fail_next(
        "order_status",
        TransportError("refused", category=Category.CONNECTION_REFUSED, request_sent=False),
    )
    services.process_webhook(event)
    event.refresh_from_db()
    assert event.processing_result == "error"
    assert event.processed_at is None
    assert "TransportError" not in event.processing_error or "refused" in event.processing_error
    services.process_webhook(event)
    event.refresh_from_db()
    assert event.processing_result == "applied"
    assert event.attempts == 2


def test_process_webhook_refund_event_then_confirmed_via_refund_status(gateway, signal_log) -> None:
    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    services.sync_payment(payment)
    services.refund_payment(payment, amount=2000, merchant_refund_id="R-1")
    gateway.settle_refund("R-1", "COMPLETED")
    event = services.receive_webhook(*gateway.refund_webhook("R-1"))
    services.process_webhook(event)
    event.refresh_from_db()
    assert event.processing_result == "applied"
    assert signal_log.of("R-1") == ["refund_completed"]


def test_phonepe_replay_webhooks_then_failed_events_processed(gateway, capsys) -> None:
    from django.core.management import call_command

    from phonepe_gateway._errors import Category, TransportError

    payment = services.create_payment(amount=5000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    event = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id))
    gateway.fail_next(
        "order_status",
        TransportError("refused", category=Category.CONNECTION_REFUSED, request_sent=False),
    )
    services.process_webhook(event)
    call_command("phonepe_replay_webhooks")
    assert "replayed 1 (applied: 1)" in capsys.readouterr().out
    call_command("phonepe_replay_webhooks")
    assert "nothing to do" in capsys.readouterr().out
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"


def test_run_once_stuck_event_then_replayed_with_backoff_and_bounded(gateway) -> None:
    from datetime import timedelta

    from phonepe_gateway._errors import Category, TransportError
    from phonepe_gateway.django import reconcile
    from phonepe_gateway.django.inbox import REPLAY_AFTER

    payment = services.create_payment(amount=5000)
    Payment.objects.filter(pk=payment.pk).update(next_check_at=None)  # only the inbox is due
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    event = services.receive_webhook(*gateway.order_webhook(payment.merchant_order_id))
    down = TransportError("refused", category=Category.CONNECTION_REFUSED, request_sent=False)
    gateway.fail_next("order_status", down, times=100)
    services.process_webhook(event)  # attempt 1 fails: the gateway is down
    received = WebhookEvent.objects.get().received_at
    assert reconcile.run_once(now=received + timedelta(seconds=REPLAY_AFTER[1] - 1)) == 0
    assert reconcile.run_once(now=received + timedelta(seconds=REPLAY_AFTER[1])) == 1
    far = received + timedelta(days=1)
    while reconcile.run_once(now=far):
        pass
    event.refresh_from_db()
    assert event.attempts == len(REPLAY_AFTER)  # bounded: the command can force more
    assert event.processed_at is None
    gateway.faults.clear()
    Payment.objects.filter(pk=payment.pk).update(next_check_at=None)
    services.process_webhook(event)
    event.refresh_from_db()
    assert event.processing_result == "applied"
