"""Contract: the project's own client (sync and async, both generations) against the sandbox.

token -> pay -> customer pays on the checkout page -> status -> refund -> refund status
-> webhook verified by the client. Everything over real loopback HTTP.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from phonepe_gateway import AsyncPhonePeClient, PhonePeClient
from phonepe_gateway.sandbox.testing import RunningSandbox

from .conftest import Receiver, wait_for

V1 = {"api_version": "v1", "merchant_id": "PGSANDBOXMERCHANT", "salt_key": "sandbox-salt-key"}
V2: dict[str, Any] = {}


def options(sandbox: RunningSandbox, generation: dict[str, Any]) -> dict[str, Any]:
    return {"env": "local", "local_url": sandbox.url, **generation}


def pay_on_checkout_page(redirect_url: str | None) -> None:
    assert redirect_url
    answer = httpx.post(redirect_url, data={"action": "pay", "mode": "UPI_INTENT"})
    assert answer.status_code == 303


def webhook_for(hook: Receiver, event: str) -> tuple[dict[str, str], bytes]:
    def find() -> tuple[dict[str, str], bytes] | None:
        for headers, body in list(hook.requests):
            if event.encode() in body or (b'"response"' in body and event == "gen1"):
                return headers, body
        return None

    found: tuple[dict[str, str], bytes] = wait_for(find, what=f"webhook {event}")
    return found


@pytest.mark.parametrize("generation", [V2, V1], ids=["v2", "v1"])
def test_sync_client_when_full_flow_then_sandbox_agrees(
    sandbox: RunningSandbox, receiver: tuple[Receiver, str], generation: dict[str, Any]
) -> None:
    hook, url = receiver
    httpx.put(sandbox.url + "/_sandbox/webhooks/config", json={"url": url})
    with PhonePeClient(**options(sandbox, generation)) as client:
        created = client.create_payment(
            amount=10_000, redirect_url="http://127.0.0.1:9/back", callback_url=url
        )
        assert created.state == "PENDING"
        assert sandbox.state.get_order(created.merchant_order_id) is not None
        pay_on_checkout_page(created.redirect_url)

        status = client.get_order_status(created.merchant_order_id, details=True)
        assert status.state == "COMPLETED"
        assert status.amount == 10_000
        assert status.successful_payment is not None
        assert status.successful_payment.transaction_id

        refund = client.refund(original_merchant_order_id=created.merchant_order_id, amount=4_000)
        assert refund.state == "PENDING"
        assert client.get_refund_status(refund.merchant_refund_id).state == "PENDING"
        httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": 10})
        settled = client.get_refund_status(refund.merchant_refund_id)
        assert settled.state == "COMPLETED"
        assert settled.amount == 4_000

        headers, body = webhook_for(hook, "checkout.order.completed" if not generation else "gen1")
        event = client.verify_webhook(headers, body)
        assert event.merchant_order_id == created.merchant_order_id
        assert event.state == "COMPLETED"
        assert event.amount == 10_000


@pytest.mark.anyio
@pytest.mark.parametrize("generation", [V2, V1], ids=["v2", "v1"])
async def test_async_client_when_full_flow_then_sandbox_agrees(
    sandbox: RunningSandbox, receiver: tuple[Receiver, str], generation: dict[str, Any]
) -> None:
    hook, url = receiver
    httpx.put(sandbox.url + "/_sandbox/webhooks/config", json={"url": url})
    async with AsyncPhonePeClient(**options(sandbox, generation)) as client:
        created = await client.create_payment(
            amount=25_000, callback_url=url, redirect_url="http://127.0.0.1:9/back"
        )
        pay_on_checkout_page(created.redirect_url)
        status = await client.get_order_status(created.merchant_order_id)
        assert status.state == "COMPLETED"
        refund = await client.refund(
            original_merchant_order_id=created.merchant_order_id, amount=25_000
        )
        httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": 10})
        assert (await client.get_refund_status(refund.merchant_refund_id)).state == "COMPLETED"
        headers, body = webhook_for(hook, "checkout.order.completed" if not generation else "gen1")
        event = await client.verify_webhook(headers, body)
        assert event.merchant_order_id == created.merchant_order_id
        assert event.state == "COMPLETED"


@pytest.mark.parametrize("action", ["reset", "drop_after_commit"])
@pytest.mark.parametrize("generation", [V2, V1], ids=["v2", "v1"])
def test_client_when_pay_answer_lost_then_exactly_one_order(
    sandbox: RunningSandbox, action: str, generation: dict[str, Any]
) -> None:
    path = "/pg/v1/pay" if generation else "/checkout/v2/pay"
    httpx.post(
        sandbox.url + "/_sandbox/faults",
        json={"method": "POST", "path": path, "action": action, "times": 1},
    )
    with PhonePeClient(**options(sandbox, generation)) as client:
        created = client.create_payment(
            amount=5_000, merchant_order_id=f"lost-{action}", redirect_url="http://127.0.0.1:9/back"
        )
        assert created.merchant_order_id == f"lost-{action}"
        assert created.state == "PENDING"
    (rule,) = httpx.get(sandbox.url + "/_sandbox/faults").json()["faults"]
    assert rule["hits"] == 1
    orders = httpx.get(sandbox.url + "/_sandbox/orders").json()["orders"]
    assert [o["merchantOrderId"] for o in orders] == [f"lost-{action}"]
    assert orders[0]["amount"] == 5_000
