"""Scheduled AutoPay debits through the services and the state machines, against the
in-memory gateway: notify ahead, redeem when due, one debit per period whatever is
retried or crashes, failed debits retried on the policy, pauses and revocations marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from phonepe_gateway import Category, GatewayError, TransportError, UpiIntent
from phonepe_gateway.django import reconcile, signals, subscriptions
from phonepe_gateway.django.models import Payment, Subscription
from phonepe_gateway.django.schedule import debit_order_id

from . import autopay_fakes
from .autopay_fakes import FakeAutoPay

autopay = autopay_fakes.autopay  # the fixture

pytestmark = pytest.mark.django_db(transaction=True)


def lost() -> TransportError:
    return TransportError("read timed out", category=Category.READ_TIMEOUT, request_sent=True)


def refused() -> TransportError:
    return TransportError("refused", category=Category.CONNECTION_REFUSED, request_sent=False)


T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
NOTICE_MARGIN = timedelta(minutes=10)


class Recorder:
    NAMES = ("subscription_activated", "subscription_ended", "debit_completed", "debit_failed")

    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []
        for name in self.NAMES:
            getattr(signals, name).connect(
                self._receiver(name), weak=False, dispatch_uid=name + "t"
            )

    def _receiver(self, name: str):
        def receive(sender, subscription, **kw):
            extra = kw.get("period", kw.get("state"))
            if name == "debit_failed":
                extra = (kw["period"], kw["final"])
            self.events.append((name, subscription.merchant_subscription_id, extra))

        return receive

    def close(self) -> None:
        for name in self.NAMES:
            getattr(signals, name).disconnect(dispatch_uid=name + "t")

    def of(self, name: str) -> list[object]:
        return [extra for n, _, extra in self.events if n == name]


@pytest.fixture
def recorder():
    rec = Recorder()
    yield rec
    rec.close()


def active(autopay: FakeAutoPay, **kw) -> Subscription:
    """A MONTHLY mandate of ₹499, approved, period 1 due at T0."""
    args = {"amount": 49_900, "max_amount": 99_900, "frequency": "MONTHLY", "first_debit_at": T0}
    args.update(kw)
    sub = subscriptions.create_subscription(instrument=UpiIntent(), **args)
    autopay.approve(sub.merchant_subscription_id)
    return subscriptions.sync_subscription(sub)


_clock: list[time_machine.Coordinates] = []


@pytest.fixture(autouse=True)
def clock():
    """Every test starts ten days before T0; ``run`` moves the clock (nothing sleeps)."""
    with time_machine.travel(T0 - 10 * DAY, tick=False) as traveller:
        _clock.append(traveller)
        yield traveller
        _clock.pop()


def run(at: datetime) -> None:
    """A reconciler pass at ``at`` (payments due by their schedule, every mandate looked
    at, its lease ignored)."""
    _clock[-1].move_to(at)
    Subscription.objects.update(next_check_at=at)
    reconcile.run_once()


def test_create_subscription_then_pending_with_intent_and_setup_payment(autopay) -> None:
    sub = subscriptions.create_subscription(
        amount=49_900, max_amount=99_900, frequency="MONTHLY", instrument=UpiIntent()
    )
    assert sub.state == "PENDING"
    assert sub.intent_url.startswith("upi://")
    setup = Payment.objects.get(subscription=sub)
    assert (setup.debit_period, setup.state, setup.amount) == (0, "PENDING", 49_900)


def test_approved_setup_then_active_once_intent_cleared_and_schedule_started(
    autopay, recorder
) -> None:
    sub = active(autopay)
    assert sub.state == "ACTIVE"
    assert sub.intent_url == ""
    assert sub.next_period == 1
    assert sub.next_debit_at == T0
    assert Payment.objects.get(subscription=sub, debit_period=0).state == "COMPLETED"
    subscriptions.sync_subscription(sub)
    assert recorder.of("subscription_activated") == [None]
    assert recorder.of("debit_completed") == []  # the set-up is not a scheduled debit


def test_month_debit_then_notified_ahead_and_redeemed_when_due(autopay, recorder) -> None:
    sub = active(autopay)
    run(T0 - 2 * DAY)  # too early for the notice
    assert autopay.calls["notify"] == 0
    run(T0 - timedelta(hours=24, minutes=30))  # within debit_notify_ahead (25 h)
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.merchant_order_id == debit_order_id(sub.merchant_subscription_id, 1)
    assert debit.state == "PENDING"
    assert autopay.orders[debit.merchant_order_id].state == "NOTIFIED"
    run(T0 - timedelta(hours=1))
    assert autopay.calls["redeem"] == 0  # not due yet
    run(T0 + timedelta(minutes=1))
    debit.refresh_from_db()
    assert debit.state == "COMPLETED"
    assert autopay.executed[debit.merchant_order_id] == 1
    assert recorder.of("debit_completed") == [1]
    sub.refresh_from_db()
    assert sub.next_period == 2
    assert sub.next_debit_at == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)  # clamped, no drift


def test_late_activation_then_redeem_waits_for_the_notice_period(autopay) -> None:
    sub = active(autopay)
    run(T0 + timedelta(hours=2))  # the notice goes out after the period was already due
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.debit_due_at == T0 + timedelta(hours=2) + DAY + NOTICE_MARGIN
    run(T0 + timedelta(hours=26, minutes=1))
    assert autopay.calls["redeem"] == 0
    run(T0 + timedelta(hours=26, minutes=11))
    assert autopay.calls["redeem"] == 1


def test_redeem_refused_as_too_early_then_sent_again_under_same_id(autopay) -> None:
    sub = active(autopay)
    run(T0 - DAY - timedelta(minutes=30))
    autopay.fail_next(
        "redeem", GatewayError("too early", http_status=400, code="REDEMPTION_NOT_ALLOWED")
    )
    run(T0 + timedelta(minutes=1))
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.state == "PENDING"
    assert debit.redeem_sent_at is None  # nothing ran: it may be sent again
    run(T0 + timedelta(minutes=2))
    debit.refresh_from_db()
    assert debit.state == "COMPLETED"
    assert autopay.calls["redeem"] == 2
    assert autopay.executed[debit.merchant_order_id] == 1


def test_paused_over_periods_then_only_latest_due_period_debited(autopay) -> None:
    sub = active(autopay, frequency="WEEKLY")
    autopay.set_mandate(sub.merchant_subscription_id, "PAUSED")
    run(T0 - DAY)
    autopay.set_mandate(sub.merchant_subscription_id, "ACTIVE")
    run(T0 + 15 * DAY)  # periods 1 (T0), 2 (T0+7d) and 3 (T0+14d) went by
    debits_made = list(
        Payment.objects.filter(subscription=sub, debit_period__gte=1).values_list(
            "debit_period", flat=True
        )
    )
    assert debits_made == [3]
    sub.refresh_from_db()
    assert sub.next_period == 4


def test_open_debit_then_next_period_not_notified_until_it_ends(autopay) -> None:
    sub = active(autopay, frequency="DAILY")
    autopay.debit_outcome = "PENDING"  # the bank takes its time
    run(T0 - timedelta(hours=20))
    run(T0 + timedelta(hours=5))  # period 1 redeemed, still PENDING; period 2 due for notice
    assert autopay.calls["redeem"] == 1
    assert autopay.calls["notify"] == 1
    first = Payment.objects.get(subscription=sub, debit_period=1)
    autopay.settle_debit(first.merchant_order_id, "COMPLETED")
    run(T0 + timedelta(hours=6))
    assert autopay.calls["notify"] == 2


def test_many_passes_and_months_then_each_period_debited_exactly_once(autopay) -> None:
    sub = active(autopay)
    at = T0 - 2 * DAY
    while at < T0 + 95 * DAY:
        run(at)
        run(at)  # a second worker right behind
        at += timedelta(hours=7)
    periods = list(
        Payment.objects.filter(subscription=sub, debit_period__gte=1).values_list(
            "debit_period", "state"
        )
    )
    assert sorted(periods) == [
        (1, "COMPLETED"),
        (2, "COMPLETED"),
        (3, "COMPLETED"),
        (4, "COMPLETED"),
    ]
    assert set(autopay.executed.values()) == {1}
    assert len(autopay.executed) == 4


def test_crash_after_notice_sent_then_resume_names_same_order(autopay) -> None:
    sub = active(autopay)
    # the notice reached PhonePe, the answer was lost, and the worker died
    autopay.fail_next("notify", lost(), act=True)
    run(T0 - DAY - timedelta(minutes=30))
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.state == "UNKNOWN"
    Payment.objects.filter(pk=debit.pk).update(state="CREATED")  # as if the worker died first
    run(T0 - DAY)
    run(T0 + 2 * DAY)
    debit.refresh_from_db()
    assert debit.state == "COMPLETED"
    assert Payment.objects.filter(subscription=sub, debit_period=1).count() == 1
    assert autopay.executed[debit.merchant_order_id] == 1


def test_redeem_answer_lost_then_status_asked_never_redeemed_again(autopay) -> None:
    sub = active(autopay)
    run(T0 - DAY - timedelta(minutes=30))
    autopay.fail_next("redeem", lost(), act=True)
    run(T0 + timedelta(minutes=1))
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.redeem_sent_at is not None
    run(T0 + timedelta(minutes=30))
    run(T0 + 2 * DAY)
    debit.refresh_from_db()
    assert debit.state == "COMPLETED"
    assert autopay.calls["redeem"] == 1
    assert autopay.executed[debit.merchant_order_id] == 1


def test_redeem_never_arrived_then_sent_again_under_same_id(autopay) -> None:
    sub = active(autopay)
    run(T0 - DAY - timedelta(minutes=30))
    autopay.fail_next("redeem", lost())  # lost on the way
    run(T0 + timedelta(minutes=1))
    run(T0 + timedelta(hours=2))
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.state == "COMPLETED"
    assert autopay.executed[debit.merchant_order_id] == 1


def test_failed_debit_then_retried_on_policy_under_new_attempt_id(autopay, recorder) -> None:
    sub = active(autopay)
    autopay.debit_outcome = "FAILED"
    run(T0 - DAY - timedelta(minutes=30))
    run(T0 + timedelta(minutes=1))
    first = Payment.objects.get(subscription=sub, debit_period=1, debit_attempt=1)
    assert first.state == "FAILED"
    assert recorder.of("debit_failed") == [(1, False)]
    run(T0 + timedelta(hours=2))  # before debit_retry_after
    assert not Payment.objects.filter(subscription=sub, debit_attempt=2).exists()
    autopay.debit_outcome = "COMPLETED"
    # the retry's notice goes out a day after the failure, its redemption a day later
    moment = first.updated_at
    run(moment + DAY + timedelta(minutes=1))
    second = Payment.objects.get(subscription=sub, debit_period=1, debit_attempt=2)
    assert second.merchant_order_id == debit_order_id(sub.merchant_subscription_id, 1, 2)
    run(moment + 2 * DAY + timedelta(minutes=12))
    second.refresh_from_db()
    assert second.state == "COMPLETED"
    assert recorder.of("debit_completed") == [1]
    assert sum(autopay.executed.values()) == 2  # one failed, one paid: one period paid once


def test_failed_debits_then_given_up_after_max_attempts(autopay, recorder) -> None:
    sub = active(autopay)
    autopay.debit_outcome = "FAILED"
    at = T0 - DAY - timedelta(minutes=30)
    for _ in range(30):
        run(at)
        at += timedelta(hours=6)
    attempts = Payment.objects.filter(subscription=sub, debit_period=1).count()
    assert attempts == 3
    assert recorder.of("debit_failed") == [(1, False), (1, False), (1, True)]


def test_paused_mandate_then_marked_and_nothing_notified(autopay) -> None:
    sub = active(autopay)
    autopay.set_mandate(sub.merchant_subscription_id, "PAUSED")
    run(T0 - DAY - timedelta(minutes=30))
    sub.refresh_from_db()
    assert sub.state == "PAUSED"
    assert autopay.calls["notify"] == 0
    autopay.set_mandate(sub.merchant_subscription_id, "ACTIVE")
    run(T0 - DAY)
    sub.refresh_from_db()
    assert sub.state == "ACTIVE"
    assert autopay.calls["notify"] == 1


def test_revoked_after_notice_then_not_redeemed_and_ended_once(autopay, recorder) -> None:
    sub = active(autopay)
    run(T0 - DAY - timedelta(minutes=30))
    autopay.set_mandate(sub.merchant_subscription_id, "REVOKED")
    run(T0 + timedelta(minutes=1))
    run(T0 + timedelta(minutes=2))
    sub.refresh_from_db()
    assert sub.state == "REVOKED"
    assert sub.next_debit_at is None
    assert autopay.calls["redeem"] == 0
    assert recorder.of("subscription_ended") == ["REVOKED"]


def test_notice_refused_for_inactive_mandate_then_debit_failed_and_mandate_marked(
    autopay,
) -> None:
    sub = active(autopay)
    autopay.fail_next(
        "subscription_status", refused()
    )  # the check before the notice could not be made: nothing is sent
    run(T0 - DAY - timedelta(minutes=30))
    assert autopay.calls["notify"] == 0
    autopay.set_mandate(sub.merchant_subscription_id, "REVOKED")
    autopay.mandates[sub.merchant_subscription_id].state = "ACTIVE"
    autopay.fail_next(
        "notify", GatewayError("not active", http_status=400, code="SUBSCRIPTION_NOT_ACTIVE")
    )
    run(T0 - DAY)
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.state == "FAILED"
    assert debit.error_code == "SUBSCRIPTION_NOT_ACTIVE"


def test_cancel_subscription_then_cancelled_and_no_more_debits(autopay, recorder) -> None:
    sub = active(autopay)
    run(T0 - DAY - timedelta(minutes=30))
    sub = subscriptions.cancel_subscription(sub)
    assert sub.state == "CANCELLED"
    run(T0 + timedelta(minutes=1))
    assert autopay.calls["redeem"] == 0
    assert recorder.of("subscription_ended") == ["CANCELLED"]
    assert subscriptions.cancel_subscription(sub).state == "CANCELLED"  # idempotent
    assert autopay.calls["cancel"] == 1


def test_declined_setup_then_failed_and_setup_payment_failed(autopay, recorder) -> None:
    sub = subscriptions.create_subscription(
        amount=10_000, max_amount=10_000, frequency="WEEKLY", instrument=UpiIntent()
    )
    autopay.decline(sub.merchant_subscription_id)
    run(T0 - 9 * DAY)
    sub.refresh_from_db()
    assert sub.state == "FAILED"
    assert sub.intent_url == ""
    assert Payment.objects.get(subscription=sub).state == "FAILED"
    assert recorder.of("subscription_ended") == ["FAILED"]


def test_notified_debit_checked_then_next_check_at_its_redemption_not_polled(autopay) -> None:
    sub = active(autopay)
    run(T0 - DAY - timedelta(minutes=30))
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.state == "PENDING"
    Payment.objects.filter(pk=debit.pk).update(next_check_at=T0 - DAY)  # e.g. a sync asked
    run(T0 - DAY + timedelta(minutes=1))  # the reconciler checks it once ...
    debit.refresh_from_db()
    assert debit.next_check_at == debit.debit_due_at  # ... then waits for the redemption


def test_approved_then_revoked_before_first_look_then_revoked_activated_and_ended(
    autopay, recorder
) -> None:
    sub = subscriptions.create_subscription(
        amount=10_000, max_amount=10_000, frequency="MONTHLY", instrument=UpiIntent()
    )
    autopay.approve(sub.merchant_subscription_id)
    autopay.set_mandate(sub.merchant_subscription_id, "REVOKED")
    sub = subscriptions.sync_subscription(sub)
    assert sub.state == "REVOKED"
    assert sub.activated_at is not None
    assert recorder.of("subscription_activated") == [None]
    assert recorder.of("subscription_ended") == ["REVOKED"]


def test_worker_dies_before_notice_then_mandate_paused_then_debit_settled_failed(
    autopay, monkeypatch
) -> None:
    """Found by the fault campaign: a debit stored, its worker killed before the notice,
    the mandate paused meanwhile (so nothing resends it) stayed CREATED forever."""
    sub = active(autopay)

    def killed(*args, **kwargs):
        raise RuntimeError("SIGKILL")  # the worker dies between the commit and the call

    monkeypatch.setattr(autopay, "notify_redemption", killed)
    run(T0 - DAY - timedelta(minutes=30))
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.state == "CREATED"
    monkeypatch.undo()
    autopay.set_mandate(sub.merchant_subscription_id, "PAUSED")
    for minutes in range(1, 6):
        run(T0 - DAY - timedelta(minutes=30) + timedelta(minutes=minutes))
    debit.refresh_from_db()
    assert debit.state == "FAILED"
    assert autopay.calls["notify"] == 0
    assert debit.merchant_order_id not in autopay.orders
