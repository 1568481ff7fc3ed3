"""Several workers debiting at once, through the real database (row locks, SKIP LOCKED,
unique constraints): each period of each mandate is debited exactly once.

Two shapes: whole reconciler passes racing (the claim hands each mandate to one worker),
and, harsher, workers racing *inside* one mandate's work with the claim bypassed, which
is what a stalled worker whose lease ran out looks like. The ids derived from mandate,
period and attempt are then all that stands between a period and a second debit.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connections

from phonepe_gateway import UpiIntent
from phonepe_gateway.django import debits, subscriptions
from phonepe_gateway.django.models import Payment, Subscription

from . import autopay_fakes

pytestmark = pytest.mark.django_db(transaction=True)
autopay = autopay_fakes.autopay  # the fixture

on_postgres = pytest.mark.skipif(
    os.environ.get("PHONEPE_TEST_DB") != "postgres", reason="needs PostgreSQL (row locks)"
)
T0 = datetime(2027, 3, 31, 6, 0, tzinfo=UTC)
STEP = timedelta(hours=9)


def _mandates(autopay, n: int) -> list[Subscription]:
    subs = []
    for i in range(n):
        sub = subscriptions.create_subscription(
            amount=10_000 + i,
            max_amount=50_000,
            frequency="MONTHLY" if i % 2 else "WEEKLY",
            instrument=UpiIntent(),
            first_debit_at=T0 + timedelta(hours=i),
        )
        autopay.approve(sub.merchant_subscription_id)
        subs.append(subscriptions.sync_subscription(sub))
    return subs


def _race(workers: int, work) -> None:
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(i)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(workers)))
    assert not errors, errors


def _assert_once(autopay, subs: list[Subscription]) -> int:
    """Every started period of every mandate completed exactly once; no order executed
    twice. Returns how many periods were paid."""
    periods = 0
    for sub in subs:
        rows = list(
            Payment.objects.filter(subscription=sub, debit_period__gte=1).values_list(
                "debit_period", "debit_attempt", "state"
            )
        )
        open_now = [p for p, _, state in rows if state in ("CREATED", "PENDING", "UNKNOWN")]
        assert len(open_now) <= 1, f"two debits open at once: {rows}"  # PhonePe allows one
        done = [p for p, _, state in rows if state == "COMPLETED"]
        assert len(done) == len(set(done)), f"{sub.merchant_subscription_id}: {rows}"
        started = {p for p, _, _ in rows}
        assert set(done) == started - {max(started)} or set(done) == started, rows
        periods += len(done)
    assert autopay.executed, "nothing was debited"
    assert set(autopay.executed.values()) == {1}, autopay.executed  # no order twice
    return periods


def _passes(traveller, count: int, work_at) -> None:
    at = T0 - timedelta(days=2)
    for _ in range(count):
        traveller.move_to(at)
        Subscription.objects.update(next_check_at=at)
        work_at(at)
        at += STEP


@pytest.mark.postgres
@on_postgres
def test_reconciler_passes_racing_then_each_period_debited_once(autopay) -> None:
    with time_machine.travel(T0 - timedelta(days=3), tick=False) as traveller:
        subs = _mandates(autopay, 12)
        _passes(traveller, 12, lambda at: _race(6, lambda i: debits.run_debits()))
    assert _assert_once(autopay, subs) >= 12


@pytest.mark.postgres
@on_postgres
def test_workers_racing_inside_one_mandate_then_each_period_debited_once(autopay) -> None:
    with time_machine.travel(T0 - timedelta(days=3), tick=False) as traveller:
        subs = _mandates(autopay, 3)

        def work_at(at: datetime) -> None:
            for sub in subs:  # every worker on the same mandate, the claim bypassed
                _race(5, lambda i, pk=sub.pk: debits._work(pk, at))

        _passes(traveller, 12, work_at)
    assert _assert_once(autopay, subs) >= 3
    flagged = Payment.objects.filter(subscription__isnull=False, needs_review=True)
    assert not flagged.exists(), list(flagged.values_list("merchant_order_id", "review_reason"))


def test_two_workers_one_after_the_other_then_one_notice_per_period(autopay) -> None:
    with time_machine.travel(T0 - timedelta(days=3), tick=False) as traveller:
        _mandates(autopay, 2)
        traveller.move_to(T0 - timedelta(hours=20))
        for _ in range(2):  # a second worker after the first (SQLite: one writer at a time)
            Subscription.objects.update(next_check_at=T0 - timedelta(hours=20))
            debits.run_debits()
    assert autopay.calls["notify"] == 2
    assert Payment.objects.filter(debit_period=1).count() == 2
