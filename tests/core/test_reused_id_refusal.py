"""A write whose answer was lost and whose retry PhonePe refuses with a plain 400.

Real PhonePe does not answer a reused merchantOrderId with a "DUPLICATE..." code: its
pay page publishes ``400 {code: BAD_REQUEST, message: "Please check the inputs you have
provided."}`` (tests/contract/samples/v2-pay-duplicate-merchant-order-id-docs.json), and
the sandbox now answers so. After an attempt that may have reached PhonePe, such a
refusal is resolved through the status API like a duplicate: adopted when the order /
refund there is this call's, the original error when there is none, a clear
DuplicateRequestError when the id holds another request. On a first attempt (nothing
sent before) it stays a plain 400.

Real path: PhonePeClient / AsyncPhonePeClient -> loopback socket -> the local sandbox,
with its fault rules. Backoff sleeps go to a FakeClock.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    CallEvent,
    DuplicateRequestError,
    GatewayError,
    PhonePeClient,
    Settings,
)
from phonepe_gateway._clock import FakeClock

PAY = {"v2": "/checkout/v2/pay", "v1": "/pg/v1/pay"}
REFUND = {"v2": "/payments/v2/refund", "v1": "/pg/v1/refund"}
STATUS = {"v2": "/checkout/v2/order/*", "v1": "/pg/v1/status/*"}
REFUSAL = "Please check the inputs you have provided."


def fault(sandbox: Any, **rule: Any) -> None:
    answer = httpx.post(sandbox.url + "/_sandbox/faults", json=rule, timeout=5)
    assert answer.status_code in (200, 201), answer.text


def complete(sandbox: Any, merchant_order_id: str) -> None:
    answer = httpx.post(f"{sandbox.url}/_sandbox/orders/{merchant_order_id}/complete", timeout=5)
    assert answer.status_code == 200, answer.text


def client(sandbox: Any, generation: str = "v2", **kw: Any) -> PhonePeClient:
    settings = Settings.build(
        env="local", local_url=sandbox.url, api_version=generation, read_timeout=2, timeout=10
    )
    return PhonePeClient(settings, clock=FakeClock(), **kw)


def pay(c: PhonePeClient, order: str, amount: int = 4200) -> Any:
    return c.create_payment(
        amount=amount, merchant_order_id=order, redirect_url="http://127.0.0.1/back"
    )


def test_v2_pay_when_answer_lost_then_retry_refused_as_real_phonepe_does_then_adopted(
    sandbox,
) -> None:
    # No fault on the retry: the sandbox itself refuses the reused id as PhonePe does.
    fault(sandbox, method="POST", path=PAY["v2"], action="drop_after_commit", times=1)
    events: list[CallEvent] = []
    with client(sandbox, on_event=events.append) as c:
        result = pay(c, "reuse-pay-1")
    assert (result.merchant_order_id, result.state) == ("reuse-pay-1", "PENDING")
    assert result.order_id == sandbox.state.get_order("reuse-pay-1").order_id
    assert len(sandbox.state.orders) == 1
    pays = [e for e in events if e.call == "create_payment"]
    assert [e.outcome for e in pays] == ["transport_error", "gateway_error"]
    assert pays[1].status == 400
    assert [e.call for e in events if e.final][-2:] == ["create_payment", "order_status"]


def test_v2_refund_when_answer_lost_then_retry_refused_as_real_phonepe_does_then_adopted(
    sandbox,
) -> None:
    with client(sandbox) as c:
        pay(c, "reuse-ref-1", amount=1000)
        complete(sandbox, "reuse-ref-1")
        fault(sandbox, method="POST", path=REFUND["v2"], action="drop_after_commit", times=1)
        refund = c.refund(
            original_merchant_order_id="reuse-ref-1", amount=300, merchant_refund_id="reuse-r1"
        )
    assert (refund.merchant_refund_id, refund.amount) == ("reuse-r1", 300)
    assert list(sandbox.state.refunds) == ["reuse-r1"]


@pytest.mark.parametrize("generation", ["v2", "v1"])
@pytest.mark.parametrize("write", ["pay", "refund"])
def test_write_when_answer_lost_then_bad_request_on_retry_then_adopted(
    sandbox, generation, write
) -> None:
    # The refusal is injected, so this holds whatever code the sandbox would pick.
    with client(sandbox, generation) as c:
        if write == "refund":
            pay(c, "reuse-g-1", amount=1000)
            complete(sandbox, "reuse-g-1")
        path = PAY[generation] if write == "pay" else REFUND[generation]
        fault(sandbox, method="POST", path=path, action="drop_after_commit", times=1)
        fault(sandbox, method="POST", path=path, action="status", status=400, times=1)
        if write == "pay":
            result = pay(c, "reuse-g-2", amount=1000)
            assert result.merchant_order_id == "reuse-g-2"
        else:
            refund = c.refund(
                original_merchant_order_id="reuse-g-1", amount=250, merchant_refund_id="reuse-g-r"
            )
            assert (refund.merchant_refund_id, refund.amount) == ("reuse-g-r", 250)


def test_v2_pay_when_id_reused_on_first_attempt_then_plain_bad_request(sandbox) -> None:
    events: list[CallEvent] = []
    with client(sandbox, on_event=events.append) as c:
        pay(c, "reuse-first", amount=1000)
        with pytest.raises(GatewayError) as info:
            pay(c, "reuse-first", amount=1000)  # even the same amount: nothing was lost
    error = info.value
    assert not isinstance(error, DuplicateRequestError)
    assert (error.http_status, error.code, error.gateway_message) == (400, "BAD_REQUEST", REFUSAL)
    assert not error.details.get("after_maybe_sent")
    assert not [e for e in events if e.call == "order_status"]  # no status call was made


def test_v2_refund_when_id_reused_on_first_attempt_then_plain_bad_request(sandbox) -> None:
    with client(sandbox) as c:
        pay(c, "reuse-rf", amount=1000)
        complete(sandbox, "reuse-rf")
        c.refund(original_merchant_order_id="reuse-rf", amount=100, merchant_refund_id="rf-1")
        with pytest.raises(GatewayError) as info:
            c.refund(original_merchant_order_id="reuse-rf", amount=100, merchant_refund_id="rf-1")
    assert not isinstance(info.value, DuplicateRequestError)
    assert (info.value.http_status, info.value.code) == (400, "BAD_REQUEST")
    assert len(sandbox.state.refunds) == 1


def test_v2_pay_when_maybe_sent_then_refused_and_id_holds_another_amount_then_not_adopted(
    sandbox,
) -> None:
    # The id was used before (another amount); our first attempt is reset before PhonePe
    # acts, the retry is refused, the status shows the other payment: never adopt it.
    with client(sandbox) as c:
        pay(c, "reuse-other", amount=5000)
        fault(sandbox, method="POST", path=PAY["v2"], action="reset", times=1)
        with pytest.raises(DuplicateRequestError) as info:
            pay(c, "reuse-other", amount=7000)
    assert "already used" in str(info.value)
    assert info.value.code == "BAD_REQUEST"
    assert sandbox.state.get_order("reuse-other").amount == 5000


def test_v2_refund_when_maybe_sent_then_refused_and_id_is_another_orders_refund_then_not_adopted(
    sandbox,
) -> None:
    with client(sandbox) as c:
        for order in ("reuse-A", "reuse-B"):
            pay(c, order, amount=5000)
            complete(sandbox, order)
        c.refund(original_merchant_order_id="reuse-A", amount=1000, merchant_refund_id="shared")
        fault(sandbox, method="POST", path=REFUND["v2"], action="drop_after_commit", times=1)
        with pytest.raises(DuplicateRequestError):
            c.refund(original_merchant_order_id="reuse-B", amount=1000, merchant_refund_id="shared")
    assert sandbox.state.get_refund("shared").original_merchant_order_id == "reuse-A"


def test_v2_pay_when_maybe_sent_then_refused_and_no_order_then_original_error(sandbox) -> None:
    # Attempt 1 is reset before PhonePe acts; the retry is refused for its content. No
    # order exists, so the refusal stands (still "may have acted": attempt 1 was sent).
    events: list[CallEvent] = []
    with client(sandbox, on_event=events.append) as c:
        fault(sandbox, method="POST", path=PAY["v2"], action="reset", times=1)
        fault(sandbox, method="POST", path=PAY["v2"], action="status", status=400, times=1)
        with pytest.raises(GatewayError) as info:
            pay(c, "reuse-none")
    assert type(info.value) is GatewayError
    assert info.value.http_status == 400
    assert info.value.details.get("after_maybe_sent") is True
    assert sandbox.state.get_order("reuse-none") is None
    assert [e.call for e in events if e.final][-1] == "order_status"


@pytest.mark.parametrize("status", [401, 404, 429])
def test_v2_pay_when_maybe_sent_then_refusal_not_about_the_id_then_no_status_call(
    sandbox, status
) -> None:
    events: list[CallEvent] = []
    with client(sandbox, on_event=events.append) as c:
        fault(sandbox, method="POST", path=PAY["v2"], action="reset", times=1)
        fault(sandbox, method="POST", path=PAY["v2"], action="status", status=status)
        with pytest.raises(GatewayError) as info:
            pay(c, "reuse-auth")
    assert info.value.http_status == status
    assert not [e for e in events if e.call == "order_status"]


@pytest.mark.anyio
async def test_async_v2_pay_when_answer_lost_then_retry_refused_then_adopted(sandbox) -> None:
    fault(sandbox, method="POST", path=PAY["v2"], action="drop_after_commit", times=1)
    settings = Settings.build(env="local", local_url=sandbox.url, read_timeout=2, timeout=10)
    async with AsyncPhonePeClient(settings, clock=FakeClock()) as c:
        result = await c.create_payment(amount=4200, merchant_order_id="reuse-async")
    assert (result.merchant_order_id, result.state) == ("reuse-async", "PENDING")
