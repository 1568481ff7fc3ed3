"""Concurrency through the real path: racing refunds never exceed the amount; parallel
reconcilers never check the same row twice (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from phonepe_gateway.django import reconcile, services, signals
from phonepe_gateway.django.exceptions import RefundExceedsRemainder
from phonepe_gateway.django.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)

on_postgres = pytest.mark.skipif(
    os.environ.get("PHONEPE_TEST_DB") != "postgres", reason="needs PostgreSQL (row locks)"
)


def _in_thread(barrier: threading.Barrier, work):
    def run(*args):
        try:
            barrier.wait(timeout=30)
            return work(*args)
        finally:
            connections.close_all()

    return run


@pytest.mark.postgres
@on_postgres
def test_refund_payment_racing_threads_then_never_more_than_paid(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=10_000)
    phonepe_sandbox.complete(payment.merchant_order_id)
    services.sync_payment(payment)
    barrier = threading.Barrier(10)

    def refund(i: int) -> str:
        try:
            services.refund_payment(
                payment.merchant_order_id, amount=2000, merchant_refund_id=f"RACE-{i}"
            )
        except RefundExceedsRemainder:
            return "exceeds"
        return "ok"

    with ThreadPoolExecutor(10) as pool:
        outcomes = Counter(pool.map(_in_thread(barrier, refund), range(10)))
    assert outcomes == {"ok": 5, "exceeds": 5}
    payment.refresh_from_db()
    assert payment.refunded_amount == 10_000
    assert payment.refundable_amount == 0
    assert Refund.objects.count() == 5
    assert phonepe_sandbox.order(payment.merchant_order_id)["refundedAmount"] == 10_000


def test_refund_payment_racing_threads_sqlite_or_postgres_then_sum_capped(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=3000)
    phonepe_sandbox.complete(payment.merchant_order_id)
    services.sync_payment(payment)
    barrier = threading.Barrier(4)

    def refund(i: int) -> bool:
        try:
            services.refund_payment(payment.merchant_order_id, amount=1000 + i)
        except RefundExceedsRemainder:
            return False
        return True

    with ThreadPoolExecutor(4) as pool:
        accepted = [
            1000 + i for i, ok in enumerate(pool.map(_in_thread(barrier, refund), range(4))) if ok
        ]
    payment.refresh_from_db()
    assert sum(accepted) <= 3000
    assert payment.refunded_amount == sum(accepted)
    assert sum(Refund.objects.values_list("amount", flat=True)) == sum(accepted)


@pytest.mark.postgres
@on_postgres
def test_run_once_two_reconcilers_in_parallel_then_each_row_checked_once(phonepe_sandbox) -> None:
    payments = [services.create_payment(amount=1000 + i) for i in range(40)]
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def count(sender, event, **kw) -> None:
        if event.call == "order_status" and event.final:
            with lock:
                calls[event.path.split("/")[4]] += 1

    signals.gateway_call.connect(count, weak=False)
    try:
        now = timezone.now() + timedelta(minutes=5)
        barrier = threading.Barrier(2)

        def drain(_: int) -> int:
            # Small batches, so the two workers' claims interleave many times.
            total = 0
            while checked := reconcile.run_once(now=now, limit=3):
                total += checked
            return total

        with ThreadPoolExecutor(2) as pool:
            checked = list(pool.map(_in_thread(barrier, drain), range(2)))
    finally:
        signals.gateway_call.disconnect(count)
    assert sum(checked) == 40
    assert set(calls) == {p.merchant_order_id for p in payments}
    assert set(calls.values()) == {1}
    assert Payment.objects.filter(check_count=1).count() == 40
