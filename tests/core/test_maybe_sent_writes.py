"""A write that may have reached PhonePe is never reported as certainly not acted on,
whatever the later attempts of the same call say (401 refresh, duplicate, status call).

Real path: PhonePeClient -> loopback socket -> the local sandbox with fault rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from phonepe_gateway import GatewayError, PhonePeClient, PhonePeError, TransportError

PAY = "/checkout/v2/pay"


def _fault(sandbox: Any, **rule: Any) -> None:
    httpx.post(sandbox.url + "/_sandbox/faults", json=rule, timeout=5).raise_for_status()


def _order(sandbox: Any, merchant_order_id: str) -> dict[str, Any]:
    response = httpx.get(sandbox.url + f"/_sandbox/orders/{merchant_order_id}", timeout=5)
    response.raise_for_status()
    return dict(response.json())


def _maybe_acted(exc: PhonePeError) -> bool:
    if isinstance(exc, TransportError):
        return exc.request_sent
    return isinstance(exc, GatewayError) and bool(exc.details.get("after_maybe_sent"))


@pytest.fixture
def client(sandbox: Any) -> Iterator[PhonePeClient]:
    with PhonePeClient(
        env="local", local_url=sandbox.url, connect_timeout=1, read_timeout=3, timeout=8
    ) as c:
        yield c


def test_pay_answer_lost_then_status_check_refused_then_error_says_maybe_acted(
    sandbox, client
) -> None:
    # Attempt 1 creates the order and its answer is lost; attempt 2 proves it exists
    # (duplicate); the status call that should recover it is refused once. The order
    # exists: the error must not say "certainly not acted" (the ledger would mark FAILED).
    _fault(sandbox, method="POST", path=PAY, action="drop_after_commit", times=1)
    status = "/checkout/v2/order/*"
    _fault(sandbox, method="GET", path=status, action="status", status=400, times=1)
    with pytest.raises(PhonePeError) as info:
        client.create_payment(amount=5000, merchant_order_id="RV-CORE-1")
    assert _order(sandbox, "RV-CORE-1")["state"] == "PENDING"
    assert _maybe_acted(info.value), repr(info.value)


def test_pay_answer_lost_then_401_then_resend_refused_then_recovered_through_status(
    sandbox, client
) -> None:
    # A plain 400 is how PhonePe refuses a reused id: after a maybe-sent attempt it is
    # resolved through the status call, and the order attempt 1 created is this call's.
    _fault(sandbox, method="POST", path=PAY, action="drop_after_commit", times=1)
    _fault(sandbox, method="POST", path=PAY, action="status", status=401, times=1)
    _fault(sandbox, method="POST", path=PAY, action="status", status=400, times=1)
    result = client.create_payment(amount=5000, merchant_order_id="RV-CORE-2")
    assert (result.merchant_order_id, result.state) == ("RV-CORE-2", "PENDING")
    assert result.order_id == _order(sandbox, "RV-CORE-2")["orderId"]


def test_pay_answer_lost_then_401_then_duplicate_then_recovered_through_status(
    sandbox, client
) -> None:
    _fault(sandbox, method="POST", path=PAY, action="drop_after_commit", times=1)
    _fault(sandbox, method="POST", path=PAY, action="status", status=401, times=1)
    result = client.create_payment(amount=5000, merchant_order_id="RV-CORE-3")
    assert result.merchant_order_id == "RV-CORE-3"
    assert result.state == "PENDING"


@pytest.mark.anyio
async def test_async_pay_answer_lost_then_401_then_resend_refused_then_recovered_through_status(
    sandbox,
) -> None:
    from phonepe_gateway import AsyncPhonePeClient

    _fault(sandbox, method="POST", path=PAY, action="drop_after_commit", times=1)
    _fault(sandbox, method="POST", path=PAY, action="status", status=401, times=1)
    _fault(sandbox, method="POST", path=PAY, action="status", status=400, times=1)
    async with AsyncPhonePeClient(
        env="local", local_url=sandbox.url, connect_timeout=1, read_timeout=3, timeout=8
    ) as client:
        result = await client.create_payment(amount=5000, merchant_order_id="RV-CORE-4")
    assert (result.merchant_order_id, result.state) == ("RV-CORE-4", "PENDING")


@pytest.mark.anyio
async def test_async_pay_answer_lost_then_status_check_refused_then_error_says_maybe_acted(
    sandbox,
) -> None:
    from phonepe_gateway import AsyncPhonePeClient

    _fault(sandbox, method="POST", path=PAY, action="drop_after_commit", times=1)
    status = "/checkout/v2/order/*"
    _fault(sandbox, method="GET", path=status, action="status", status=400, times=1)
    async with AsyncPhonePeClient(
        env="local", local_url=sandbox.url, connect_timeout=1, read_timeout=3, timeout=8
    ) as client:
        with pytest.raises(PhonePeError) as info:
            await client.create_payment(amount=5000, merchant_order_id="RV-CORE-5")
    assert _maybe_acted(info.value), repr(info.value)


def test_refund_answer_lost_then_duplicate_of_another_orders_refund_then_not_adopted(
    sandbox, client
) -> None:
    # "RV-SHARED-2" was used (outside this client) for a refund of order A; our refund of
    # order B under that id loses its answer, the retry says duplicate, and the status
    # call finds A's refund. It is not ours: the duplicate error stands.
    from phonepe_gateway import DuplicateRequestError

    for order in ("RV-A", "RV-B"):
        client.create_payment(amount=5000, merchant_order_id=order)
        httpx.post(f"{sandbox.url}/_sandbox/orders/{order}/complete", json={}, timeout=5)
    client.refund(original_merchant_order_id="RV-A", amount=1000, merchant_refund_id="RV-SHARED-2")
    _fault(sandbox, method="POST", path="/payments/v2/refund", action="drop_after_commit", times=1)
    with pytest.raises(DuplicateRequestError):
        client.refund(
            original_merchant_order_id="RV-B", amount=1000, merchant_refund_id="RV-SHARED-2"
        )


@pytest.mark.parametrize("call", ["create_payment", "refund"])
def test_v1_write_when_200_success_false_not_final_code_then_server_error_outcome_unknown(
    call,
) -> None:
    # PhonePe lists INTERNAL_SERVER_ERROR as "not final": the transaction may exist. A
    # 200 carrying it must not read as a definitive 400 refusal (the ledger marks FAILED).
    from phonepe_gateway import GatewayServerError, Settings

    from .servers import RawServer, answer, http

    body = b'{"success": false, "code": "INTERNAL_SERVER_ERROR", "message": "try later"}'
    with RawServer(answer(http(200, body))) as server:
        settings = Settings.build(
            env="local", api_version="v1", base_urls=server.url, timeout=5, read_timeout=1
        )
        with PhonePeClient(settings) as client:
            write = (
                functools.partial(
                    client.create_payment,
                    amount=5000,
                    merchant_order_id="RV-V1-1",
                    redirect_url="http://127.0.0.1/r",
                )
                if call == "create_payment"
                else functools.partial(
                    client.refund,
                    original_merchant_order_id="RV-V1-1",
                    amount=100,
                    merchant_refund_id="RV-V1-R",
                )
            )
            with pytest.raises(GatewayServerError):
                write()
