"""UPI AutoPay through the real path: services -> PhonePeClient -> loopback -> the sandbox.

A month's debit on the wire: set-up (the customer approves in the simulated UPI app),
the pre-debit notice, 24 hours on the sandbox clock, the redemption, the bank's answer.
Then what goes wrong: a revocation in the app, a payer without money, answers lost after
PhonePe acted. The Django side is given its ``now`` explicitly (the reconciler's loop
takes it), the sandbox's clock is advanced through its control API; nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from phonepe_gateway import UpiCollect, UpiIntent
from phonepe_gateway.django import reconcile, signals, subscriptions
from phonepe_gateway.django.inbox import process_webhook, receive_webhook
from phonepe_gateway.django.models import Payment, Subscription

from .test_sandbox_flows import signed

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFY = "/subscriptions/v2/notify"
REDEEM = "/subscriptions/v2/redeem"
DAY = timedelta(days=1)


def approve(phonepe_sandbox, sub: Subscription, action: str = "APPROVE") -> None:
    phonepe_sandbox.control(
        "POST", f"/subscriptions/{sub.merchant_subscription_id}", json={"action": action}
    )


def mandate(phonepe_sandbox, sub: Subscription) -> dict:
    return phonepe_sandbox.control("GET", f"/subscriptions/{sub.merchant_subscription_id}")


def active(phonepe_sandbox, now: datetime, **kw) -> Subscription:
    args = {
        "amount": 49_900,
        "max_amount": 49_900,
        "amount_type": "FIXED",
        "frequency": "MONTHLY",
        "instrument": UpiIntent(),
        "first_debit_at": now + timedelta(minutes=30),
    }
    args.update(kw)
    sub = subscriptions.create_subscription(**args)
    assert sub.state == "PENDING"
    approve(phonepe_sandbox, sub)
    sub = subscriptions.sync_subscription(sub)
    assert sub.state == "ACTIVE"
    return sub


class Ticker:
    """The Django side's ``now`` and the sandbox's clock, moved together."""

    def __init__(self, phonepe_sandbox) -> None:
        self.sandbox = phonepe_sandbox
        self.now = datetime.now(UTC)

    def __call__(self, delta: timedelta = timedelta(0)) -> datetime:
        """Move both clocks by ``delta``, then run one reconciler pass at the new ``now``
        (every mandate looked at: its lease is not what these tests are about)."""
        if delta:
            self.sandbox.advance(delta.total_seconds())
            self.now += delta
        Subscription.objects.update(next_check_at=self.now)
        reconcile.run_once(now=self.now)  # payments by their schedule, then the debits
        return self.now


def test_month_debit_on_the_wire_then_notified_redeemed_completed_once(phonepe_sandbox) -> None:
    tick = Ticker(phonepe_sandbox)
    got: list[tuple[str, object]] = []

    def on(name):
        def receive(sender, subscription, **kw):
            got.append((name, kw.get("period")))

        return receive

    receivers = {n: on(n) for n in ("subscription_activated", "debit_completed")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    try:
        sub = subscriptions.create_subscription(
            amount=49_900,
            max_amount=49_900,
            amount_type="FIXED",
            frequency="MONTHLY",
            instrument=UpiIntent(),
            first_debit_at=tick.now + timedelta(minutes=30),
        )
        assert sub.intent_url.startswith("upi://")
        approve(phonepe_sandbox, sub)
        tick()  # the set-up is confirmed, the first notice goes out
        sub.refresh_from_db()
        assert sub.state == "ACTIVE"
        assert sub.intent_url == ""
        setup = Payment.objects.get(subscription=sub, debit_period=0)
        assert setup.state == "COMPLETED"
        debit = Payment.objects.get(subscription=sub, debit_period=1)
        assert debit.state == "PENDING"
        tick(timedelta(hours=2))
        debit.refresh_from_db()
        assert debit.redeem_sent_at is None  # due, but the notice period is not over
        tick(DAY)  # 24 h 10 min after the notice: redeemed
        debit.refresh_from_db()
        assert debit.redeem_sent_at is not None
        tick(timedelta(minutes=1))  # the bank answers
        debit.refresh_from_db()
        assert debit.state == "COMPLETED"
        [redemption] = mandate(phonepe_sandbox, sub)["redemptions"]
        assert redemption["merchantOrderId"] == debit.merchant_order_id
        assert redemption["state"] == "COMPLETED"
        runs = [d for d in redemption["paymentDetails"] if d["state"] == "COMPLETED"]
        assert len(runs) == 1
        assert ("subscription_activated", None) in got
        assert got.count(("debit_completed", 1)) == 1
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver)


def test_revoked_in_upi_app_then_marked_revoked_and_nothing_redeemed(phonepe_sandbox) -> None:
    tick = Ticker(phonepe_sandbox)
    sub = active(phonepe_sandbox, tick.now)
    tick()
    approve(phonepe_sandbox, sub, "REVOKE")
    tick(DAY + timedelta(hours=1))
    sub.refresh_from_db()
    assert sub.state == "REVOKED"
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.redeem_sent_at is None
    assert all(
        d["state"] != "COMPLETED"
        for r in mandate(phonepe_sandbox, sub)["redemptions"]
        for d in r["paymentDetails"]
    )


def test_insufficient_balance_then_failed_and_retried_under_next_attempt(
    phonepe_sandbox, settings
) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "debit_retry_after": 60}
    tick = Ticker(phonepe_sandbox)
    sub = active(phonepe_sandbox, tick.now, instrument=UpiCollect(vpa="driver@ybl"))
    phonepe_sandbox.control(
        "POST",
        f"/subscriptions/{sub.merchant_subscription_id}/fail-next-debit",
        json={"reason": "INSUFFICIENT_BALANCE"},
    )
    tick()
    tick(DAY + timedelta(hours=1))
    tick(timedelta(minutes=1))
    first = Payment.objects.get(subscription=sub, debit_period=1, debit_attempt=1)
    assert first.state == "FAILED"
    tick(timedelta(minutes=5))  # the retry's notice
    second = Payment.objects.get(subscription=sub, debit_period=1, debit_attempt=2)
    assert second.state == "PENDING"
    tick(DAY + timedelta(hours=1))
    tick(timedelta(minutes=1))
    second.refresh_from_db()
    assert second.state == "COMPLETED"
    completed = [
        r["merchantOrderId"]
        for r in mandate(phonepe_sandbox, sub)["redemptions"]
        if r["state"] == "COMPLETED"
    ]
    assert completed == [second.merchant_order_id]


def test_notice_answer_lost_then_unknown_then_recovered_without_a_second_order(
    phonepe_sandbox,
) -> None:
    tick = Ticker(phonepe_sandbox)
    sub = active(phonepe_sandbox, tick.now)
    phonepe_sandbox.fault(method="POST", path=NOTIFY, action="drop_after_commit", times=10)
    tick()
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.state in ("UNKNOWN", "PENDING")
    phonepe_sandbox.control("DELETE", "/faults")
    tick(timedelta(minutes=1))
    debit.refresh_from_db()
    assert debit.state == "PENDING"
    tick(DAY + timedelta(hours=1))  # learnt of late: redeemed 24 h 10 min after that
    tick(DAY)
    tick(timedelta(minutes=1))
    debit.refresh_from_db()
    assert debit.state == "COMPLETED"
    assert len(mandate(phonepe_sandbox, sub)["redemptions"]) == 1


def test_redeem_answer_lost_then_status_decides_never_debited_twice(phonepe_sandbox) -> None:
    tick = Ticker(phonepe_sandbox)
    sub = active(phonepe_sandbox, tick.now)
    tick()
    phonepe_sandbox.fault(method="POST", path=REDEEM, action="drop_after_commit", times=10)
    tick(DAY + timedelta(hours=1))
    phonepe_sandbox.control("DELETE", "/faults")
    tick(timedelta(minutes=1))
    tick(timedelta(minutes=1))
    debit = Payment.objects.get(subscription=sub, debit_period=1)
    assert debit.state == "COMPLETED"
    [redemption] = mandate(phonepe_sandbox, sub)["redemptions"]
    assert [d["state"] for d in redemption["paymentDetails"]].count("COMPLETED") == 1


def test_mandate_webhook_then_a_hint_confirmed_by_status_api(phonepe_sandbox) -> None:
    sub = active(phonepe_sandbox, datetime.now(UTC))
    forged = {
        "event": "subscription.revoked",
        "payload": {"merchantSubscriptionId": sub.merchant_subscription_id, "state": "REVOKED"},
    }
    event = receive_webhook(*signed(forged))
    assert event.merchant_subscription_id == sub.merchant_subscription_id
    process_webhook(event)
    sub.refresh_from_db()
    assert sub.state == "ACTIVE"  # the gateway says ACTIVE: the claim is not believed
    approve(phonepe_sandbox, sub, "PAUSE")
    paused = {**forged, "event": "subscription.paused", "nonce": 2}
    process_webhook(receive_webhook(*signed(paused)))
    sub.refresh_from_db()
    assert sub.state == "PAUSED"
