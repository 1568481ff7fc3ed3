"""The new calls against the real sandbox over loopback: SDK orders, transaction status
and the hosted page's options, sync and async, including a lost answer after the
sandbox acted (``drop_after_commit``) recovered through the status API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from phonepe_gateway import AsyncPhonePeClient, PaymentModes, PhonePeClient
from phonepe_gateway._clock import FakeClock


def control(sandbox: Any, method: str, path: str, body: Any = None) -> Any:
    answer = httpx.request(method, sandbox.url + "/_sandbox" + path, json=body, timeout=5)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def options(sandbox: Any) -> dict[str, Any]:
    return {"env": "local", "local_url": sandbox.url, "read_timeout": 2, "timeout": 10}


@pytest.fixture
def client(sandbox: Any) -> Iterator[PhonePeClient]:
    with PhonePeClient(clock=FakeClock(), **options(sandbox)) as c:
        yield c


def test_sdk_order_then_token_and_an_order_the_status_api_knows(sandbox, client) -> None:
    created = client.create_sdk_order(amount=2_500, merchant_order_id="sb-sdk-1")
    assert created.token
    assert created.state == "PENDING"
    assert created.expire_at is not None
    status = client.get_order_status("sb-sdk-1")
    assert (status.state, status.amount, status.order_id) == ("PENDING", 2_500, created.order_id)


def test_transaction_status_of_a_paid_attempt_then_completed(sandbox, client) -> None:
    client.create_payment(amount=3_000, merchant_order_id="sb-tx-1")
    control(sandbox, "POST", "/orders/sb-tx-1/complete", {"paymentMode": "UPI_QR"})
    attempt = client.get_order_status("sb-tx-1", details=True).successful_payment
    assert attempt is not None
    assert attempt.transaction_id
    status = client.get_transaction_status(attempt.transaction_id)
    assert status.state == "COMPLETED"
    assert status.amount == 3_000
    assert [d.transaction_id for d in status.payment_details] == [attempt.transaction_id]


def test_hosted_page_options_then_accepted_and_recorded(sandbox, client) -> None:
    result = client.create_payment(
        amount=1_000,
        merchant_order_id="sb-page-1",
        payment_modes=PaymentModes(disabled=("CARD",)),
        disable_payment_retry=True,
        prefill_phone="9876543210",
    )
    assert result.redirect_url
    assert control(sandbox, "GET", "/orders/sb-page-1")["amount"] == 1_000


def test_sdk_order_when_answer_dropped_after_commit_then_recovered(sandbox, client) -> None:
    rule = {"method": "POST", "path": "/checkout/v2/sdk/order", "action": "drop_after_commit"}
    control(sandbox, "POST", "/faults", {**rule, "times": 1})
    result = client.create_sdk_order(amount=1_200, merchant_order_id="sb-sdk-lost")
    assert (result.merchant_order_id, result.state) == ("sb-sdk-lost", "PENDING")
    assert result.token is None  # the status API does not repeat it
    assert control(sandbox, "GET", "/orders/sb-sdk-lost")["amount"] == 1_200


@pytest.mark.anyio
async def test_async_sdk_order_and_transaction_status(sandbox) -> None:
    async with AsyncPhonePeClient(clock=FakeClock(), **options(sandbox)) as client:
        created = await client.create_sdk_order(amount=900, merchant_order_id="sb-async-1")
        await client.create_payment(amount=900, merchant_order_id="sb-async-2")
        control(sandbox, "POST", "/orders/sb-async-2/complete", {"paymentMode": "UPI_INTENT"})
        paid = (await client.get_order_status("sb-async-2", details=True)).successful_payment
        assert paid is not None
        assert paid.transaction_id
        status = await client.get_transaction_status(paid.transaction_id)
    assert created.token
    assert status.state == "COMPLETED"
