"""Property test of the AutoPay engine: any sequence of customer, merchant and clock moves
keeps the mandate and order state machines, the 24-hour rule and the money right.

Hypothesis drives :class:`~phonepe_gateway.sandbox.subscriptions.Subscriptions` directly
(no HTTP) on a sandbox clock whose time only moves when a rule advances it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from phonepe_gateway.sandbox.clock import SandboxClock
from phonepe_gateway.sandbox.models import Event
from phonepe_gateway.sandbox.state import SandboxState, StateError
from phonepe_gateway.sandbox.subscription_rules import (
    DEBIT_FAILURES,
    MANDATE_TRANSITIONS,
    NOTICE_PERIOD,
    ORDER_OPEN,
    ORDER_TRANSITIONS,
)
from phonepe_gateway.sandbox.subscriptions import Subscriptions

STEPS = (1.0, 2.0, 3.0, 600.0, 3600.0, NOTICE_PERIOD, 2 * NOTICE_PERIOD, 30 * 86400.0)
#: Which webhook each mandate move sends (a mandate's own events).
MANDATE_EVENTS = {
    "subscription.paused": "PAUSED",
    "subscription.unpaused": "ACTIVE",
    "subscription.revoked": "REVOKED",
    "subscription.cancelled": "CANCELLED",
}


def _reachable(start: str, end: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in ORDER_TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return end in seen


def _snapshot(subs: Subscriptions) -> Any:
    orders = {k: (o.state, len(o.attempts)) for k, o in subs.state.orders.items()}
    mandates = {k: (m.state, m.balance, len(m.history)) for k, m in subs.mandates.items()}
    return orders, mandates


class AutoPayMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.clock = SandboxClock(wall=lambda: 1_800_000_000.0, monotonic=lambda: 0.0)
        self.state = SandboxState(self.clock, seed=7)
        self.subs = Subscriptions(self.state, merchant_id="M")
        self.events: list[Event] = []
        #: The mandate's state at the instant each debit completed (seen synchronously).
        self.debited_while: list[str] = []
        self.state.listeners.append(self._on_event)
        self.seen_orders: dict[str, str] = {}
        self.orders = 0

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        if event.name == "subscription.redemption.transaction.completed":
            assert event.payload is not None
            msid = event.payload["paymentFlow"]["merchantSubscriptionId"]
            self.debited_while.append(self.subs.mandates[msid].state)

    # -- moves -------------------------------------------------------------------------

    def _try(self, call: Any, *args: Any, **kwargs: Any) -> None:
        """A refused call (StateError) must change nothing."""
        before = _snapshot(self.subs)
        try:
            call(*args, **kwargs)
        except StateError:
            assert _snapshot(self.subs) == before, f"{call.__name__} refused but changed state"

    def _pick(self, data: st.DataObject) -> str:
        """A mandate that exists (newest first, so fresh ones get exercised), or a stranger."""
        known = sorted(self.subs.mandates, key=lambda k: -int(k[1:]))
        return data.draw(st.sampled_from([*known, "m-unknown"]))

    @rule(
        max_amount=st.integers(100, 100_000),
        fixed=st.booleans(),
        balance=st.none() | st.integers(0, 200_000),
    )
    def setup(self, max_amount: int, fixed: bool, balance: int | None) -> None:
        self.orders += 1
        self.subs.set_balance(None, balance)
        self._try(
            self.subs.setup,
            merchant_order_id=f"s{self.orders}",
            merchant_subscription_id=f"m{self.orders}",
            amount=100,
            max_amount=max_amount,
            auth_workflow="TRANSACTION",
            amount_type="FIXED" if fixed else "VARIABLE",
            frequency="MONTHLY",
            instrument="UPI_INTENT",
        )

    @rule(max_amount=st.integers(100, 100_000), auto=st.booleans(), custom=st.booleans())
    def notified_debit(self, max_amount: int, auto: bool, custom: bool) -> None:
        """A shortcut to the deep states: a new ACTIVE mandate with a NOTIFIED debit."""
        self.orders += 1
        msid, n = f"m{self.orders}", self.orders
        self.subs.setup(
            merchant_order_id=f"s{n}",
            merchant_subscription_id=msid,
            amount=100,
            max_amount=max_amount,
            auth_workflow="TRANSACTION",
            amount_type="VARIABLE",
            frequency="MONTHLY",
            instrument="UPI_INTENT",
        )
        self.subs.approve(msid)
        self.orders += 1
        self.subs.notify(
            merchant_order_id=f"r{self.orders}",
            merchant_subscription_id=msid,
            amount=max_amount,
            auto_debit=auto and not custom,
            retry_strategy="CUSTOM" if custom else "STANDARD",
        )
        self.advance(self.subs.notification_delay)

    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        self._try(self.subs.approve, self._pick(data))

    @rule(data=st.data())
    def pause(self, data: st.DataObject) -> None:
        self._try(self.subs.pause, self._pick(data))

    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        self._try(self.subs.resume, self._pick(data))

    @rule(data=st.data(), action=st.sampled_from(("decline", "revoke", "cancel")))
    def end(self, data: st.DataObject, action: str) -> None:
        self._try(getattr(self.subs, action), self._pick(data))

    @rule(
        data=st.data(),
        share=st.sampled_from((0.0, 0.5, 1.0, 1.01)),
        auto=st.booleans(),
        custom=st.booleans(),
    )
    def notify(self, data: st.DataObject, share: float, auto: bool, custom: bool) -> None:
        """Mostly amounts the mandate allows (its max, half of it), sometimes one above."""
        msid = self._pick(data)
        mandate = self.subs.mandates.get(msid)
        cap = mandate.max_amount if mandate else 10_000
        amount = max(100, int(cap * share))
        self.orders += 1
        self._try(
            self.subs.notify,
            merchant_order_id=f"r{self.orders}",
            merchant_subscription_id=msid,
            amount=amount,
            auto_debit=auto,
            retry_strategy="CUSTOM" if custom else "STANDARD",
        )

    @rule(data=st.data())
    def redeem(self, data: st.DataObject) -> None:
        if not self.subs.redemptions:
            return
        newest_first = sorted(self.subs.redemptions, key=lambda k: -int(k[1:]))
        moid = data.draw(st.sampled_from(newest_first))
        self._try(self.subs.redeem, moid)

    @rule(data=st.data(), reason=st.sampled_from(sorted(DEBIT_FAILURES)))
    def force_failure(self, data: st.DataObject, reason: str) -> None:
        self._try(self.subs.fail_next_debit, self._pick(data), reason)

    @rule(seconds=st.sampled_from(STEPS))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.state.run_due()

    # -- what must always hold -------------------------------------------------------

    @invariant()
    def mandates_move_only_along_the_table(self) -> None:
        for mandate in self.subs.all():
            state = "PENDING"
            last_at = mandate.created_at
            for at, old, new in mandate.history:
                assert old == state, mandate.history
                assert new in MANDATE_TRANSITIONS[old], (old, new)
                assert at >= last_at, mandate.history  # replayed in time order
                state, last_at = new, at
            assert state == mandate.state

    @invariant()
    def orders_move_only_forward(self) -> None:
        for moid, order in self.state.orders.items():
            before = self.seen_orders.get(moid)
            if before is not None and before != order.state:
                assert _reachable(before, order.state), (moid, before, order.state)
            self.seen_orders[moid] = order.state

    @invariant()
    def debits_respect_the_rules(self) -> None:
        for moid, red in self.subs.redemptions.items():
            order = self.state.orders[moid]
            mandate = self.subs.mandates[red.merchant_subscription_id]
            done = [a for a in order.attempts if a.state == "COMPLETED"]
            assert len(done) <= 1, "a redemption debited twice"
            assert order.amount <= mandate.max_amount
            if mandate.amount_type == "FIXED":
                assert order.amount == mandate.max_amount
            for attempt in order.attempts:
                # The debit ran only after the 24-hour notice, inside the window.
                assert attempt.timestamp >= red.valid_after, (moid, attempt)
            if done:
                assert order.state == "COMPLETED"
            if order.state == "COMPLETED":
                assert done

    @invariant()
    def debits_only_on_an_active_mandate(self) -> None:
        assert set(self.debited_while) <= {"ACTIVE"}, self.debited_while

    @invariant()
    def money_and_openness(self) -> None:
        for mandate in self.subs.mandates.values():
            assert mandate.balance is None or mandate.balance >= 0
            open_ = [i for i in mandate.redemption_ids if self.state.orders[i].state in ORDER_OPEN]
            assert len(open_) <= 1

    @invariant()
    def mandate_webhooks_say_what_happened(self) -> None:
        for event in self.events:
            expected = MANDATE_EVENTS.get(event.name)
            if expected is not None:
                assert event.payload is not None
                assert event.payload["state"] == expected


AutoPayMachine.TestCase.settings = settings(
    max_examples=600,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAutoPayStateMachine = AutoPayMachine.TestCase
