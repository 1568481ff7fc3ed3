"""The mandate state machine and the schedule arithmetic, without a gateway.

Any sequence of gateway answers moves a mandate only along the table; an ended mandate
never moves again; ``subscription_activated`` and ``subscription_ended`` go out at most
once each, after the commit. Period dates never drift and debit ids stay within PhonePe's
rules.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phonepe_gateway.django import signals
from phonepe_gateway.django import subscription_states as machine
from phonepe_gateway.django.models import ENDED_STATES, Subscription, SubscriptionState
from phonepe_gateway.django.schedule import add_months, debit_order_id, period_due

STATES = list(SubscriptionState.values)


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(st.sampled_from(STATES), max_size=12))
def test_any_answers_then_only_table_moves_and_signals_at_most_once(targets) -> None:
    sent: list[str] = []

    def activated(sender, subscription, **kw):
        sent.append("activated")

    def ended(sender, subscription, state, **kw):
        sent.append("ended")

    signals.subscription_activated.connect(activated)
    signals.subscription_ended.connect(ended)
    try:
        sub = Subscription.objects.create(
            merchant_subscription_id=f"MS-{len(targets)}-{abs(hash(tuple(targets)))}",
            merchant_order_id=f"MO-{len(targets)}-{abs(hash(tuple(targets)))}",
            amount=100,
            max_amount=100,
            frequency="MONTHLY",
        )
        state = sub.state
        for target in targets:
            after = machine.move_subscription(sub.pk, target).state
            if state in ENDED_STATES:
                assert after == state
            allowed = machine.SUBSCRIPTION_TRANSITIONS[state]
            assert after == state or (after == target and target in allowed)
            state = after
        assert sent.count("activated") <= 1
        assert sent.count("ended") <= 1
        assert ("ended" in sent) == (state in ENDED_STATES)
        Subscription.objects.filter(pk=sub.pk).delete()
    finally:
        signals.subscription_activated.disconnect(activated)
        signals.subscription_ended.disconnect(ended)


def test_table_then_ended_states_final_and_setup_never_reentered() -> None:
    for state in ENDED_STATES:
        assert machine.SUBSCRIPTION_TRANSITIONS[state] == frozenset()
    for targets in machine.SUBSCRIPTION_TRANSITIONS.values():
        assert not targets & {"CREATED"}
    live = machine.SUBSCRIPTION_TRANSITIONS["ACTIVE"] | machine.SUBSCRIPTION_TRANSITIONS["PAUSED"]
    assert not live & {"PENDING", "UNKNOWN", "FAILED"}


def test_add_months_then_clamped_to_month_end_without_drift() -> None:
    first = datetime(2027, 1, 31, 9, 30, tzinfo=UTC)
    dues = [period_due(first, "MONTHLY", n) for n in range(1, 6)]
    assert [d.day for d in dues] == [31, 28, 31, 30, 31]
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1).day == 29  # leap year
    assert period_due(first, "QUARTERLY", 2) == datetime(2027, 4, 30, 9, 30, tzinfo=UTC)
    assert period_due(first, "YEARLY", 2).year == 2028
    assert period_due(first, "FORTNIGHTLY", 3) == datetime(2027, 2, 28, 9, 30, tzinfo=UTC)


def test_period_due_on_demand_or_period_zero_then_value_error() -> None:
    first = datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="no schedule"):
        period_due(first, "ON_DEMAND", 1)
    with pytest.raises(ValueError, match="start at 1"):
        period_due(first, "MONTHLY", 0)


@given(st.text(min_size=1, max_size=63), st.integers(1, 10**6), st.integers(1, 99))
def test_debit_order_id_then_valid_stable_and_distinct(msid, period, attempt) -> None:
    oid = debit_order_id(msid, period, attempt)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,63}", oid)
    assert oid == debit_order_id(msid, period, attempt)
    assert oid != debit_order_id(msid, period + 1, attempt)
    assert oid != debit_order_id(msid, period, attempt + 1)
