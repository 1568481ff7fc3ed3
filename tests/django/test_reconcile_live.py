"""The reconciler and generation 1 against the real sandbox: expiry settled by the gateway's
answer, a crashed worker's claim expires, run_forever stops on its event, and the
legacy (salt key) API goes through the same ledger, callbacks included."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from starlette.applications import Starlette
from starlette.routing import Route

from phonepe_gateway.django import reconcile, services
from phonepe_gateway.django.models import Payment, WebhookEvent
from phonepe_gateway.sandbox.testing import serve_app

from .conftest import wait_for
from .test_webhook_storm import receiver

pytestmark = pytest.mark.django_db(transaction=True)


def test_run_once_order_expired_at_gateway_then_failed_after_grace(
    phonepe_sandbox, signal_log
) -> None:
    payment = services.create_payment(amount=1000)
    phonepe_sandbox.advance(1300)  # the sandbox's clock: the order expires there
    assert phonepe_sandbox.order(payment.merchant_order_id)["state"] == "FAILED"
    assert reconcile.run_once(now=payment.expires_at + timedelta(seconds=121)) == 1
    payment.refresh_from_db()
    assert payment.state == "FAILED"
    assert payment.error_code
    assert signal_log.of(payment.merchant_order_id) == ["payment_failed"]


def test_run_once_claim_of_crashed_worker_then_taken_again_after_lease(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=1000)
    now = payment.next_check_at
    # A worker claims the row and dies before checking it.
    assert [pk for pk, _ in reconcile._claim(Payment, now, 10)] == [payment.pk]
    assert reconcile.run_once(now=now + timedelta(seconds=30)) == 0
    phonepe_sandbox.complete(payment.merchant_order_id)
    assert reconcile.run_once(now=now + timedelta(seconds=61)) == 1
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"


def test_run_forever_then_resolves_due_rows_and_stops_on_event(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=1000)
    phonepe_sandbox.complete(payment.merchant_order_id)
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
    stop = threading.Event()

    def run() -> None:
        try:
            reconcile.run_forever(stop, interval=0.05)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: Payment.objects.get(pk=payment.pk).state == "COMPLETED",
            what="the reconciler to complete the payment",
        )
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_generation_1_payment_callback_and_refund_then_same_ledger(
    phonepe_sandbox, settings, signal_log
) -> None:
    app = Starlette(routes=[Route("/hook", receiver, methods=["POST"])])
    with serve_app(app) as hook:
        settings.PHONEPE = {
            **settings.PHONEPE,
            "api_version": "v1",
            "merchant_id": "PGSANDBOXMERCHANT",
            "salt_key": "sandbox-salt-key",
            "salt_index": 1,
            "callback_url": hook.url + "/hook",
        }
        payment = services.create_payment(amount=2500)
        assert payment.state == "PENDING"
        assert payment.checkout_url.startswith(phonepe_sandbox.url)
        phonepe_sandbox.complete(payment.merchant_order_id)
        wait_for(
            lambda: Payment.objects.get(pk=payment.pk).state == "COMPLETED",
            what="the generation 1 callback to be received, confirmed and applied",
        )
    # The transition commits before the event's processing result is written.
    event = wait_for(
        lambda: WebhookEvent.objects.filter(processing_result="applied").first(),
        what="the stored event to be marked applied",
    )
    assert event.merchant_order_id == payment.merchant_order_id
    refund = services.refund_payment(payment.merchant_order_id, amount=1000)
    assert refund.state in ("PENDING", "COMPLETED")
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_phonepe_reconcile_loop_then_reconciles_until_sigterm(phonepe_sandbox, capsys) -> None:
    import os
    import signal

    from django.core.management import call_command

    payment = services.create_payment(amount=1000)
    phonepe_sandbox.complete(payment.merchant_order_id)
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
    before = signal.getsignal(signal.SIGTERM)

    def stop_when_done() -> None:
        try:
            wait_for(lambda: Payment.objects.get(pk=payment.pk).state == "COMPLETED", what="loop")
        finally:
            connections.close_all()
            os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=stop_when_done, daemon=True)
    watcher.start()
    call_command("phonepe_reconcile", "--loop", "--interval", "0.05")
    watcher.join(timeout=10)
    assert "stopped" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGTERM) is before
    assert Payment.objects.get(pk=payment.pk).state == "COMPLETED"
