"""Every endpoint of both generations, once over a real socket and once in-process (ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from phonepe_gateway.sandbox import create_app
from phonepe_gateway.sandbox.testing import serve_sandbox

from .conftest import CREDENTIALS, gen1_sign, gen1_status_headers, pay_body

pytestmark = pytest.mark.anyio
MID = "PGSANDBOXMERCHANT"


@asynccontextmanager
async def client_for(kind: str) -> AsyncIterator[httpx.AsyncClient]:
    if kind == "asgi":
        app = create_app(refund_settlement_delay=0)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
            ) as client,
        ):
            yield client
    else:
        with serve_sandbox(refund_settlement_delay=0) as sb:
            async with httpx.AsyncClient(base_url=sb.url) as client:
                yield client


async def expect(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.mark.parametrize("kind", ["socket", "asgi"])
async def test_every_endpoint_when_called_then_phonepe_answers(kind: str) -> None:
    async with client_for(kind) as c:
        g2 = "/apis/pg-sandbox"
        token = (await expect(await c.post(g2 + "/v1/oauth/token", data=CREDENTIALS)))[
            "access_token"
        ]
        auth = {"Authorization": f"O-Bearer {token}"}
        created = await expect(
            await c.post(g2 + "/checkout/v2/pay", json=pay_body("t-1"), headers=auth)
        )
        sdk = {**pay_body("t-sdk"), "paymentFlow": {"type": "SDK"}}
        assert "token" in await expect(
            await c.post(g2 + "/checkout/v2/sdk/order", json=sdk, headers=auth)
        )
        page = await c.get(created["redirectUrl"])
        assert page.status_code == 200
        assert "t-1" in page.text
        assert (await c.post(created["redirectUrl"], data={"action": "pay"})).status_code == 303
        status = await expect(
            await c.get(g2 + "/checkout/v2/order/t-1/status?details=true", headers=auth)
        )
        txn = status["paymentDetails"][0]["transactionId"]
        assert (
            await expect(await c.get(f"{g2}/checkout/v2/transaction/{txn}/status", headers=auth))
        )["state"] == "COMPLETED"
        refund = await expect(
            await c.post(
                g2 + "/payments/v2/refund",
                headers=auth,
                json={"merchantRefundId": "t-1-r", "originalMerchantOrderId": "t-1", "amount": 100},
            )
        )
        assert refund["state"] == "PENDING"
        assert (await expect(await c.get(g2 + "/payments/v2/refund/t-1-r/status", headers=auth)))[
            "state"
        ] == "COMPLETED"

        g1 = "/apis/hermes"
        body, headers = gen1_sign(
            {
                "merchantId": MID,
                "merchantTransactionId": "t-g1",
                "amount": 500,
                "redirectUrl": "http://127.0.0.1:9/b",
                "paymentInstrument": {"type": "PAY_PAGE"},
            },
            "/pg/v1/pay",
        )
        assert (await expect(await c.post(g1 + "/pg/v1/pay", json=body, headers=headers)))[
            "code"
        ] == "PAYMENT_INITIATED"
        await expect(await c.post("/_sandbox/orders/t-g1/complete"))
        assert (
            await expect(
                await c.get(
                    f"{g1}/pg/v1/status/{MID}/t-g1", headers=gen1_status_headers(MID, "t-g1")
                )
            )
        )["code"] == "PAYMENT_SUCCESS"
        body, headers = gen1_sign(
            {
                "merchantId": MID,
                "originalTransactionId": "t-g1",
                "merchantTransactionId": "t-g1-r",
                "amount": 500,
            },
            "/pg/v1/refund",
        )
        assert (await expect(await c.post(g1 + "/pg/v1/refund", json=body, headers=headers)))[
            "success"
        ] is True
        assert len((await expect(await c.get("/_sandbox/orders")))["orders"]) == 3
        missing = await c.get(g2 + "/checkout/v2/order/none/status", headers=auth)
        assert missing.status_code == 404
        assert missing.json() == {
            "code": "INVALID_MERCHANT_ORDER_ID",
            "message": "No entry found for given merchant order id",
        }


async def test_gen1_refund_when_other_merchants_order_then_not_found() -> None:
    async with client_for("asgi") as c:
        body, headers = gen1_sign(
            {
                "merchantId": MID,
                "merchantTransactionId": "mine",
                "amount": 500,
                "redirectUrl": "http://127.0.0.1:9/b",
                "paymentInstrument": {"type": "PAY_PAGE"},
            },
            "/pg/v1/pay",
        )
        await expect(await c.post("/apis/hermes/pg/v1/pay", json=body, headers=headers))
        await expect(await c.post("/_sandbox/orders/mine/complete"))
        body, headers = gen1_sign(
            {
                "merchantId": "PGTESTPAYUAT",
                "originalTransactionId": "mine",
                "merchantTransactionId": "theirs",
                "amount": 100,
            },
            "/pg/v1/refund",
            salt="099eb0cd-02cf-4e2a-8aca-3e6c6aff0399",
        )
        answer = await c.post("/apis/hermes/pg/v1/refund", json=body, headers=headers)
        assert answer.status_code == 404
