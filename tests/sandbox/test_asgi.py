"""The same sandbox in-process through httpx.ASGITransport (no sockets), lifespan included."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from phonepe_gateway.sandbox import SandboxConfig, create_app

from .conftest import CREDENTIALS, gen1_sign, pay_body

pytestmark = pytest.mark.anyio


async def test_full_gen2_flow_when_in_process_then_same_answers() -> None:
    app = create_app(SandboxConfig(refund_settlement_delay=1))
    transport = httpx.ASGITransport(app=app)
    base = "http://127.0.0.1/apis/pg-sandbox"
    async with httpx.AsyncClient(transport=transport, base_url=base) as api:
        token = (await api.post("/v1/oauth/token", data=CREDENTIALS)).json()["access_token"]
        api.headers["Authorization"] = f"O-Bearer {token}"
        created = await api.post("/checkout/v2/pay", json=pay_body("asgi-flow"))
        assert created.json()["redirectUrl"].startswith("http://127.0.0.1/transact/")
        page = await api.post(created.json()["redirectUrl"], data={"action": "pay"})
        assert page.status_code == 303
        status = (await api.get("/checkout/v2/order/asgi-flow/status")).json()
        assert status["state"] == "COMPLETED"
        refund = await api.post(
            "/payments/v2/refund",
            json={
                "merchantRefundId": "asgi-r",
                "originalMerchantOrderId": "asgi-flow",
                "amount": 100,
            },
        )
        assert refund.json()["state"] == "PENDING"
        await api.post("http://127.0.0.1/_sandbox/clock/advance", json={"seconds": 1})
        assert (await api.get("/payments/v2/refund/asgi-r/status")).json()["state"] == "COMPLETED"
        missing = await api.get("/checkout/v2/order/none/status")
        assert missing.status_code == 404
        assert missing.json()["code"] == "INVALID_MERCHANT_ORDER_ID"


async def test_webhooks_when_in_process_with_lifespan_then_sent_via_mock_receiver() -> None:
    received: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    app = create_app(webhook_url="http://127.0.0.1:9/hook")
    sandbox = app.state.sandbox
    sandbox.state.create_order(
        merchant_order_id="asgi-wh",
        generation=2,
        merchant_id="PGSANDBOXMERCHANT",
        amount=100,
        expire_after=300,
    )
    sandbox.state.complete_order("asgi-wh")
    # run_pending sends due deliveries on demand (what the ticker does under a server)
    sandbox.webhook_transport = httpx.MockTransport(hook)
    await sandbox.run_pending()
    (request,) = received
    assert (
        request.headers["authorization"] == hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()
    )
    assert b'"checkout.order.completed"' in request.content


async def test_gen1_when_in_process_then_checksums_verified() -> None:
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/apis/hermes") as c:
        body, headers = gen1_sign(
            {
                "merchantId": "PGSANDBOXMERCHANT",
                "merchantTransactionId": "asgi-g1",
                "amount": 100,
                "redirectUrl": "http://m/back",
                "paymentInstrument": {"type": "PAY_PAGE"},
            },
            "/pg/v1/pay",
        )
        assert (await c.post("/pg/v1/pay", json=body, headers=headers)).json()["success"] is True
        bad = await c.post("/pg/v1/pay", json=body, headers={"X-VERIFY": "0" * 64 + "###1"})
        assert bad.status_code == 401


async def test_lifespan_when_started_then_ticker_runs_and_stops_cleanly() -> None:
    app = create_app(clock_speed=1000)
    sandbox = app.state.sandbox
    async with app.router.lifespan_context(app):
        sandbox.state.create_order(
            merchant_order_id="asgi-exp",
            generation=2,
            merchant_id="M",
            amount=100,
            expire_after=300,
        )
        import anyio

        with anyio.fail_after(10):
            while sandbox.state.orders["asgi-exp"].state != "FAILED":
                await anyio.sleep(0.01)
    assert sandbox._task is None


def test_lifespan_when_stopped_during_a_storm_of_wakes_then_ticker_ends() -> None:
    """stop() under constant wakes (webhook sends, clock advances) ends the ticker.

    On Python 3.11 ``asyncio.wait_for`` can swallow the cancellation that lands as the wake
    event fires; the ticker then outlived stop() and the loop's shutdown and hung a test run.
    Runs in its own thread and loop so that a regression fails here instead of hanging.
    """
    import asyncio
    import threading

    async def start_and_stop(n: int) -> None:
        app = create_app(clock_speed=1000)
        sandbox = app.state.sandbox
        storming = threading.Event()
        storming.set()

        def storm() -> None:
            while storming.is_set():
                sandbox.wake()

        async with app.router.lifespan_context(app):
            sandbox.state.create_order(
                merchant_order_id=f"storm-{n}",
                generation=2,
                merchant_id="M",
                amount=100,
                expire_after=300,
            )
            waker = threading.Thread(target=storm, daemon=True)
            waker.start()
            await asyncio.sleep(0.002)
        storming.clear()
        waker.join()
        assert sandbox._task is None

    async def many() -> None:
        for n in range(150):
            await start_and_stop(n)

    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(many())
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), "the sandbox ticker did not stop (cancellation swallowed)"
    assert not errors, errors
