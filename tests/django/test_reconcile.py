"""The reconciler over a fake gateway, with injected time: PhonePe's schedule, UNKNOWN at once,
terminal rows left alone, expiry handled by asking the gateway, never by guessing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.management import call_command

from phonepe_gateway._errors import Category, TransportError
from phonepe_gateway.django import reconcile, services
from phonepe_gateway.django.exceptions import GatewayUnavailable
from phonepe_gateway.django.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)


def test_next_delay_then_phonepe_schedule() -> None:
    delays = [reconcile.next_delay(n) for n in range(1, 33)]
    assert delays == [3] * 10 + [6] * 10 + [10] * 6 + [30] * 2 + [60] * 4


def test_create_payment_then_first_check_20_to_25_seconds_later(gateway) -> None:
    payment = services.create_payment(amount=1000)
    delay = (payment.next_check_at - payment.created_at).total_seconds()
    assert 20 <= delay <= 25.1


def test_run_once_before_due_then_nothing_checked(gateway) -> None:
    payment = services.create_payment(amount=1000)
    assert reconcile.run_once(now=payment.created_at + timedelta(seconds=19)) == 0
    assert gateway.calls["order_status"] == 0


def test_run_once_pending_payment_then_checks_follow_schedule_until_expiry(gateway) -> None:
    payment = services.create_payment(amount=1000)
    expires = payment.expires_at
    now = payment.next_check_at
    checks = []
    for _ in range(60):
        assert reconcile.run_once(now=now) == 1
        checks.append(now)
        payment.refresh_from_db()
        if payment.next_check_at is None or payment.next_check_at > expires + timedelta(minutes=5):
            break
        now = payment.next_check_at
    gaps = [round((b - a).total_seconds()) for a, b in itertools.pairwise(checks)]
    assert gaps[:28] == [3] * 10 + [6] * 10 + [10] * 6 + [30] * 2
    assert set(gaps[28:-1]) <= {60}
    assert checks[-1] == expires + timedelta(seconds=120)  # the one last ask after the grace
    assert payment.state == "PENDING"  # the gateway never said FAILED: we do not guess
    assert payment.needs_review
    assert "after expiry" in payment.review_reason
    assert payment.next_check_at == checks[-1] + timedelta(minutes=15)
    assert gateway.status_calls[payment.merchant_order_id] == len(checks)


def test_run_once_expired_and_gateway_failed_then_failed(gateway, signal_log) -> None:
    payment = services.create_payment(amount=1000)
    gateway.settle(payment.merchant_order_id, "FAILED")
    assert reconcile.run_once(now=payment.expires_at + timedelta(seconds=121)) == 1
    payment.refresh_from_db()
    assert payment.state == "FAILED"
    assert payment.next_check_at is None
    assert signal_log.of(payment.merchant_order_id) == ["payment_failed"]


def test_run_once_terminal_then_not_checked_again(gateway) -> None:
    payment = services.create_payment(amount=1000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    now = payment.next_check_at
    assert reconcile.run_once(now=now) == 1
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"
    assert payment.next_check_at is None
    assert reconcile.run_once(now=now + timedelta(days=1)) == 0
    assert gateway.status_calls[payment.merchant_order_id] == 1


def test_run_once_unknown_payment_then_due_at_once_and_resolved(gateway, signal_log) -> None:
    gateway.fail_next(
        "create_payment",
        TransportError("timeout", category=Category.READ_TIMEOUT, request_sent=True),
        act=True,
    )
    with pytest.raises(GatewayUnavailable):
        services.create_payment(amount=1000)
    payment = Payment.objects.get()
    assert payment.state == "UNKNOWN"
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    assert reconcile.run_once(now=payment.updated_at + timedelta(milliseconds=1)) == 1
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_run_once_gateway_down_then_state_kept_and_rescheduled(gateway) -> None:
    payment = services.create_payment(amount=1000)
    gateway.fail_next(
        "order_status",
        TransportError("refused", category=Category.CONNECTION_REFUSED, request_sent=False),
    )
    now = payment.next_check_at
    assert reconcile.run_once(now=now) == 1
    payment.refresh_from_db()
    assert payment.state == "PENDING"
    assert payment.check_count == 1
    assert payment.next_check_at == now + timedelta(seconds=3)


def test_run_once_claimed_rows_then_second_pass_skips_them(gateway, monkeypatch) -> None:
    payment = services.create_payment(amount=1000)
    now = payment.next_check_at
    seen = []

    def reentrant_check(pk, at):
        seen.append(pk)
        # While this row is being checked, another worker runs a pass: it must not see it.
        assert reconcile._claim(Payment, at, 100) == []

    monkeypatch.setattr(reconcile, "_check_payment", reentrant_check)
    assert reconcile.run_once(now=now) == 1
    assert seen == [payment.pk]


def test_run_once_open_refund_then_settled(gateway, signal_log) -> None:
    payment = services.create_payment(amount=1000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    services.sync_payment(payment)
    refund = services.refund_payment(payment, amount=400, merchant_refund_id="R-1")
    gateway.settle_refund("R-1", "COMPLETED")
    assert reconcile.run_once(now=refund.next_check_at) == 1
    refund.refresh_from_db()
    assert refund.state == "COMPLETED"
    assert refund.next_check_at is None
    assert signal_log.of("R-1") == ["refund_completed"]


def test_next_refund_check_old_refund_then_every_ten_minutes(gateway) -> None:
    payment = services.create_payment(amount=1000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    services.sync_payment(payment)
    refund = services.refund_payment(payment, amount=400)
    later = refund.created_at + timedelta(hours=2)
    assert reconcile.next_refund_check(refund, later) == later + timedelta(minutes=10)


def test_phonepe_reconcile_once_command_then_due_rows_checked(gateway, capsys) -> None:
    payment = services.create_payment(amount=1000)
    gateway.settle(payment.merchant_order_id, "COMPLETED")
    Payment.objects.filter(pk=payment.pk).update(next_check_at=payment.created_at)
    call_command("phonepe_reconcile", "--once")
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"
    assert "checked 1" in capsys.readouterr().out
    assert not Refund.objects.exists()


def test_next_payment_check_no_expiry_from_gateway_then_default_lifetime_used(gateway) -> None:
    payment = services.create_payment(amount=1000)
    Payment.objects.filter(pk=payment.pk).update(expires_at=None)
    payment.refresh_from_db()
    payment.check_count = 40
    last_ask = payment.created_at + timedelta(seconds=1200 + 120)
    assert reconcile.next_payment_check(payment, last_ask - timedelta(seconds=30)) == last_ask
