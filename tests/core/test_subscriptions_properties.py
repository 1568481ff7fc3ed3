"""Properties of the AutoPay calls: every answer parses, and the terms check agrees with
the rules it states (an accepted mandate satisfies them all; anything else is a
``ValidationError`` naming an argument, never another exception)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis.strategies as st
from hypothesis import given, settings

from phonepe_gateway import (
    Settings,
    UpiCollect,
    UpiIntent,
    ValidationError,
    WebhookVerificationError,
)
from phonepe_gateway._protocol import V2Protocol
from phonepe_gateway._subscriptions import (
    MAX_MANDATE_AMOUNT,
    PENNY_DROP_AMOUNT,
    AmountType,
    AuthWorkflow,
    Frequency,
    SubscriptionTerms,
    check_subscription_terms,
    notify_call,
    redeem_call,
    setup_call,
    subscription_order_status_call,
    subscription_status_call,
    subscription_transaction_status_call,
)
from phonepe_gateway._webhooks import authorization_for, verify_webhook

from .test_properties import json_values

NOW = 1_750_000_000.0
PROTOCOL = V2Protocol(Settings.build(env="local"))
TERMS = SubscriptionTerms(
    amount=100, max_amount=100, frequency="MONTHLY", amount_type="FIXED",
    auth_workflow="TRANSACTION", expire_at_ms=None,
)  # fmt: skip
KEYS = st.sampled_from(
    [
        "orderId", "state", "intentUrl", "expireAt", "transactionId", "merchantSubscriptionId",
        "subscriptionId", "frequency", "amountType", "maxAmount", "authWorkflowType",
        "pauseStartDate", "pauseEndDate", "paymentFlow", "paymentDetails", "amount", "x",
    ]
)  # fmt: skip
ANSWERS = st.dictionaries(KEYS, json_values, max_size=9)


def _parsers() -> list[Any]:
    return [
        setup_call(
            PROTOCOL, merchant_order_id="O1", merchant_subscription_id="S1", terms=TERMS,
            instrument=UpiIntent(), order_expire_at_ms=None, meta_info=None,
        ).parse,
        subscription_status_call(PROTOCOL, "S1", details=True).parse,
        notify_call(
            PROTOCOL, merchant_order_id="O2", merchant_subscription_id="S1", amount=100,
            expire_at_ms=None, auto_debit=False, retry_strategy="STANDARD", meta_info=None,
        ).parse,
        redeem_call(PROTOCOL, "O2").parse,
        subscription_order_status_call(PROTOCOL, "O2", details=False).parse,
        subscription_transaction_status_call(PROTOCOL, "T1").parse,
    ]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(ANSWERS)
def test_every_answer_when_parsed_then_result_with_raw_kept(data: dict[str, Any]) -> None:
    for parse in _parsers():
        result = parse(data)
        assert result.raw == data
        assert isinstance(result.state, str)
        assert result.state


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, json_values, max_size=6), st.sampled_from(["subscription.paused", "subscription.redemption.order.failed", "subscription.setup.order.completed"]))  # fmt: skip
def test_subscription_webhook_when_any_payload_then_event_or_verification_error(
    payload: dict[str, Any], event: str
) -> None:
    settings_ = Settings.build(env="local")
    body = json.dumps({"event": event, "payload": payload}).encode()
    header = {"Authorization": authorization_for("sandboxhook", "sandboxpass1")}
    try:
        parsed = verify_webhook(settings_, header, body)
    except WebhookVerificationError:  # only our own refusal may come out
        return
    assert parsed.is_subscription
    assert parsed.merchant_subscription_id is None or isinstance(
        parsed.merchant_subscription_id, str
    )


amounts = st.one_of(
    st.integers(min_value=-10, max_value=12_000_000),
    st.sampled_from([100, 200, 49_900, MAX_MANDATE_AMOUNT, MAX_MANDATE_AMOUNT + 1]),
    st.floats(allow_nan=False, max_value=1e6),
    st.booleans(),
    st.none(),
)
expiries = st.one_of(
    st.none(),
    st.integers(min_value=-400, max_value=12_000).map(
        lambda days: datetime.fromtimestamp(NOW, tz=UTC) + timedelta(days=days)
    ),
    st.just(datetime(2030, 1, 1)),  # naive
    st.text(max_size=5),
)
choices = st.sampled_from


@settings(max_examples=400, deadline=None)
@given(
    amounts,
    amounts,
    choices([*sorted(Frequency.ALL), "monthly", "HOURLY", ""]),
    choices([*sorted(AmountType.ALL), "variable", "CAPPED"]),
    choices([*sorted(AuthWorkflow.ALL), "OTP"]),
    expiries,
)
def test_terms_when_anything_then_accepted_terms_obey_every_rule(
    amount: Any, max_amount: Any, frequency: str, amount_type: str, auth: str, expiry: Any
) -> None:
    try:
        terms = check_subscription_terms(
            amount=amount, max_amount=max_amount, frequency=frequency, amount_type=amount_type,
            auth_workflow=auth, subscription_expire_at=expiry, now=NOW,
        )  # fmt: skip
    except ValidationError as exc:
        refused = exc.field
    else:
        refused = None
    if refused is not None:
        assert refused in {
            "amount", "max_amount", "frequency", "amount_type", "auth_workflow",
            "subscription_expire_at",
        }  # fmt: skip
        return
    assert terms.frequency in Frequency.ALL
    assert terms.amount_type in AmountType.ALL
    assert terms.auth_workflow in AuthWorkflow.ALL
    assert isinstance(terms.amount, int)
    assert 100 <= terms.max_amount <= MAX_MANDATE_AMOUNT
    if terms.auth_workflow == AuthWorkflow.PENNY_DROP:
        assert terms.amount == PENNY_DROP_AMOUNT
    else:
        assert 100 <= terms.amount <= terms.max_amount
        if terms.amount_type == AmountType.FIXED:
            assert terms.amount == terms.max_amount
    if terms.expire_at_ms is not None:
        days = (terms.expire_at_ms / 1000 - NOW) / 86_400
        assert days >= Frequency.PERIOD_DAYS.get(terms.frequency, 0)
        assert days <= 30 * 365 + 8


def test_setup_body_when_collect_then_no_device_context_and_instrument_wire_shape() -> None:
    prepared = setup_call(
        PROTOCOL, merchant_order_id="O1", merchant_subscription_id="S1", terms=TERMS,
        instrument=UpiCollect(vpa="payer@ybl"), order_expire_at_ms=1, meta_info={"udf1": "x"},
    )  # fmt: skip
    assert prepared.spec.content is not None
    body = json.loads(prepared.spec.content)
    assert "deviceContext" not in body
    assert body["expireAt"] == 1
    assert body["paymentFlow"]["paymentMode"] == UpiCollect(vpa="payer@ybl").to_wire()
    assert prepared.confirm is not None
