"""Properties: lenient parsing never crashes, validation agrees with PhonePe's rules.

Hypothesis generates gateway answers and webhook bodies the tests above did not
think of; the only acceptable outcomes are a result or an error from our tree.
"""

from __future__ import annotations

import json
import re
from typing import Any

import hypothesis.strategies as st
from hypothesis import given, settings

from phonepe_gateway import GatewayError, Settings, ValidationError, WebhookVerificationError
from phonepe_gateway._protocol import parse_order_status
from phonepe_gateway._protocol_v1 import V1Protocol
from phonepe_gateway._validation import check_amount, check_merchant_id
from phonepe_gateway._webhooks import authorization_for, verify_webhook

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "state",
        "amount",
        "orderId",
        "merchantOrderId",
        "expireAt",
        "paymentDetails",
        "errorCode",
        "code",
        "data",
        "success",
        "timestamp",
        "paymentMode",
        "transactionId",
        "surprise",
    ]
)
answers = st.dictionaries(keys, json_values, max_size=8)
LOCAL = Settings.build(env="local")
AUTH = authorization_for("sandboxhook", "sandboxpass1")


@settings(max_examples=120, deadline=None)
@given(answers)
def test_parse_order_status_when_any_json_object_then_result(data: dict[str, Any]) -> None:
    status = parse_order_status(data, "o1")
    assert isinstance(status.state, str)
    assert status.amount is None or isinstance(status.amount, int)


@settings(max_examples=120, deadline=None)
@given(answers)
def test_v1_status_parse_when_any_json_object_then_result_or_gateway_error(
    data: dict[str, Any],
) -> None:
    prepared = V1Protocol(Settings.build(env="local", api_version="v1")).order_status(
        "T1", details=False
    )
    try:
        status = prepared.parse(data)
    except GatewayError:
        return
    assert status.state in {"PENDING", "COMPLETED", "FAILED"} or isinstance(status.state, str)


@settings(max_examples=120, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        answers.map(lambda d: json.dumps({"event": "x", "payload": d}).encode()),
    )
)
def test_verify_webhook_when_any_body_then_event_or_verification_error(body: bytes) -> None:
    reason = None
    try:
        event = verify_webhook(LOCAL, {"Authorization": AUTH}, body)
    except WebhookVerificationError as exc:
        reason = exc.reason
    if reason is not None:
        assert reason in {"malformed", "unauthenticated", "too_large"}
    else:
        assert event.event == "x"


@given(st.text(max_size=80))
def test_check_id_when_any_text_then_accepts_exactly_phonepe_ids(value: str) -> None:
    ok = bool(re.fullmatch(r"[A-Za-z0-9_-]{1,63}", value, flags=re.ASCII))
    try:
        check_merchant_id(value, field="merchant_order_id")
    except ValidationError:
        assert not ok
    else:
        assert ok


@given(st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=5), st.none()))
def test_check_amount_when_any_value_then_only_integers_from_100(value: object) -> None:
    ok = type(value) is int and 100 <= value <= 10**15
    try:
        check_amount(value)
    except ValidationError:
        assert not ok
    else:
        assert ok
