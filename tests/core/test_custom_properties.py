"""Properties of the new calls: any JSON object PhonePe might answer an order-creating
call or a transaction-status call with parses into a result (never an exception), and
the links it reports are only ever non-empty strings the answer contained."""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
from hypothesis import given, settings

from phonepe_gateway import Settings, UpiCollect, UpiIntent, UpiQr
from phonepe_gateway._protocol import V2Protocol

from .test_properties import json_values

keys = st.sampled_from(
    ["orderId", "state", "expireAt", "intentUrl", "qrData", "redirectUrl", "token", "amount",
     "paymentDetails", "merchantOrderId", "surprise"]
)  # fmt: skip
answers = st.dictionaries(keys, json_values, max_size=8)
PROTOCOL = V2Protocol(Settings.build(env="local"))
INSTRUMENTS = st.sampled_from([UpiIntent(), UpiQr(), UpiCollect(vpa="ab@ybl")])


@settings(max_examples=150, deadline=None)
@given(answers, INSTRUMENTS)
def test_custom_pay_parse_when_any_json_object_then_result(
    data: dict[str, Any], instrument
) -> None:
    prepared = PROTOCOL.custom_payment(
        amount=100, merchant_order_id="p1", instrument=instrument, redirect_url=None,
        expire_after=None, meta_info=None,
    )  # fmt: skip
    result = prepared.parse(data)
    assert result.merchant_order_id == "p1"
    assert result.instrument == instrument.mode
    assert isinstance(result.state, str)
    assert result.state
    strings = {v for v in data.values() if isinstance(v, str) and v}
    for link in (result.intent_url, result.qr_data, result.redirect_url):
        assert link is None or link in strings


@settings(max_examples=100, deadline=None)
@given(answers, st.booleans())
def test_sdk_order_and_transaction_status_parse_when_any_json_object_then_result(
    data: dict[str, Any], custom: bool
) -> None:
    order = PROTOCOL.sdk_order(
        amount=100, merchant_order_id="s1", redirect_url=None, expire_after=None,
        meta_info=None, custom=custom,
    )  # fmt: skip
    assert order.parse(data).merchant_order_id == "s1"
    status = PROTOCOL.transaction_status("OM1", custom=custom).parse(data)
    assert isinstance(status.payment_details, list)
