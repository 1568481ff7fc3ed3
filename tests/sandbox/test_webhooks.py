"""Webhooks: generation 2 format and Authorization, generation 1 X-VERIFY callbacks,
retries on the sandbox clock, delivery log, redelivery, duplicates/delay/shuffle/drop."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox, serve_sandbox
from phonepe_gateway.sandbox.webhooks import RETRY_DELAYS

from .conftest import Receiver, gen1_sign, get_token, pay_body, wait_for

AUTH = hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()


def deliveries(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(sandbox.url + "/_sandbox/webhooks").json()["deliveries"]
    return found


def configure(sandbox: RunningSandbox, **settings: object) -> dict[str, Any]:
    answer = httpx.put(sandbox.url + "/_sandbox/webhooks/config", json=settings)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_order_completed_when_webhook_configured_then_exact_gen2_format_and_auth(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    shown = configure(sandbox, url=url)
    assert shown["password"] == "****ass1"  # at most the last 4 characters
    api.post("/checkout/v2/pay", json=pay_body("wh-1", metaInfo={"udf1": "a"}))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-1/complete", json={"paymentMode": "UPI_QR"})
    wait_for(lambda: hook.requests, what="the webhook")
    headers, raw = hook.requests[0]
    assert headers["authorization"] == AUTH
    assert headers["content-type"] == "application/json"
    body = json.loads(raw)
    assert set(body) == {"event", "type", "payload"}
    assert body["event"] == "checkout.order.completed"
    assert body["type"] == "CHECKOUT_ORDER_COMPLETED"
    payload = body["payload"]
    assert payload["merchantOrderId"] == "wh-1"
    assert payload["state"] == "COMPLETED"
    assert payload["amount"] == 10_000
    assert payload["metaInfo"] == {"udf1": "a"}
    assert payload["paymentDetails"][0]["paymentMode"] == "UPI_QR"
    assert isinstance(payload["expireAt"], int)
    (logged,) = wait_for(lambda: [d for d in deliveries(sandbox) if d["state"] == "delivered"])
    assert logged["attempts"][0]["status"] == 200
    assert AUTH not in json.dumps(deliveries(sandbox))


def test_failed_and_refund_events_when_state_changes_then_one_webhook_each(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    configure(sandbox, url=url)
    api.post("/checkout/v2/pay", json=pay_body("wh-2"))
    api.post("/checkout/v2/pay", json=pay_body("wh-3", expireAfter=300))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-2/complete")
    api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "wh-2-r", "originalMerchantOrderId": "wh-2", "amount": 500},
    )
    httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": 301})
    events = wait_for(lambda: len(hook.requests) >= 4 and hook.bodies(), what="4 webhooks")
    by_event = {b["event"]: b["payload"] for b in events}
    assert set(by_event) == {
        "checkout.order.completed",
        "pg.refund.accepted",
        "pg.refund.completed",
        "checkout.order.failed",
    }
    assert by_event["pg.refund.accepted"]["state"] == "CONFIRMED"
    assert by_event["pg.refund.completed"]["state"] == "COMPLETED"
    (own,) = by_event["pg.refund.completed"]["paymentDetails"]
    assert own["transactionId"].startswith("OMR")  # the refund's own transaction
    assert by_event["pg.refund.completed"]["merchantRefundId"] == "wh-2-r"
    assert by_event["pg.refund.completed"]["originalMerchantOrderId"] == "wh-2"
    assert by_event["checkout.order.failed"]["merchantOrderId"] == "wh-3"
    assert by_event["checkout.order.failed"]["errorCode"] == "TXN_NOT_COMPLETED"
    assert by_event["checkout.order.failed"]["detailedErrorCode"] == "TXN_AUTO_FAILED"


def test_attempt_failed_when_declined_then_attempt_event_with_pending_order(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    configure(sandbox, url=url)
    api.post("/checkout/v2/pay", json=pay_body("wh-att"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-att/decline", json={"reason": "INVALID_MPIN"})
    (body,) = wait_for(lambda: hook.bodies(), what="the attempt webhook")
    assert body["event"] == "checkout.transaction.attempt.failed"
    assert body["type"] == "CHECKOUT_TRANSACTION_ATTEMPT_FAILED"
    payload = body["payload"]
    assert payload["state"] == "PENDING"
    assert (payload["errorCode"], payload["detailedErrorCode"]) == ("INVALID_MPIN", "ZM")
    assert payload["paymentDetails"][0]["state"] == "FAILED"


def test_webhook_target_when_not_loopback_then_refused_unless_allowed(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    for remote in ("http://example.com/hook", "http://10.0.0.1/hook", "http://[2001:db8::1]/h"):
        answer = httpx.put(sandbox.url + "/_sandbox/webhooks/config", json={"url": remote})
        assert answer.status_code == 400, remote
        assert "--allow-remote-webhooks" in answer.json()["error"]["message"]
    assert deliveries(sandbox) == []
    for local in ("http://127.0.0.1:9/h", "http://localhost:9/h", "http://[::1]:9/h"):
        answer = httpx.put(sandbox.url + "/_sandbox/webhooks/config", json={"url": local})
        assert answer.status_code == 200, local
    with serve_sandbox(allow_remote_webhooks=True) as open_sb:
        answer = httpx.put(
            open_sb.url + "/_sandbox/webhooks/config", json={"url": "http://example.com/hook"}
        )
        assert answer.status_code == 200


@pytest.mark.anyio
async def test_webhook_sender_when_target_not_loopback_then_never_contacted() -> None:
    from phonepe_gateway.sandbox import create_app

    contacted: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        contacted.append(request)
        return httpx.Response(200)

    app = create_app(webhook_url="http://merchant.example/hook")  # e.g. from the CLI
    sandbox = app.state.sandbox
    sandbox.state.create_order(
        merchant_order_id="remote", generation=2, merchant_id="M", amount=100, expire_after=300
    )
    sandbox.state.complete_order("remote")
    sandbox.webhook_transport = httpx.MockTransport(hook)
    await sandbox.run_pending()
    assert contacted == []
    (delivery,) = sandbox.webhooks.public()
    assert "loopback hosts only" in delivery["attempts"][0]["error"]


def test_retry_when_receiver_fails_then_backoff_on_sandbox_clock(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    hook.statuses = [500, 503]
    configure(sandbox, url=url)
    api.post("/checkout/v2/pay", json=pay_body("wh-4"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-4/complete")

    def attempts() -> list[dict[str, Any]]:
        (delivery,) = deliveries(sandbox)
        return list(delivery["attempts"])

    first = wait_for(lambda: attempts(), what="attempt 1")[0]
    assert first["status"] == 500
    (delivery,) = deliveries(sandbox)
    assert delivery["state"] == "pending"
    assert delivery["next_attempt_at"] - first["at"] >= RETRY_DELAYS[0] * 1000
    httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": RETRY_DELAYS[0]})
    second = wait_for(lambda: len(attempts()) >= 2 and attempts()[1], what="attempt 2")
    assert second["status"] == 503
    assert second["at"] - first["at"] >= RETRY_DELAYS[0] * 1000
    httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": RETRY_DELAYS[1]})
    third = wait_for(lambda: len(attempts()) >= 3 and attempts()[2], what="attempt 3")
    assert third["status"] == 200
    assert third["at"] - second["at"] >= RETRY_DELAYS[1] * 1000
    assert deliveries(sandbox)[0]["state"] == "delivered"
    assert len(hook.requests) == 3
    assert len({body for _, body in hook.requests}) == 1  # the same body every time


def test_retry_when_receiver_never_answers_2xx_then_gives_up(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    hook.statuses = [500] * (len(RETRY_DELAYS) + 1)
    configure(sandbox, url=url)
    api.post("/checkout/v2/pay", json=pay_body("wh-5"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-5/complete")
    for number, delay in enumerate(RETRY_DELAYS, start=1):
        wait_for(
            lambda n=number: len(deliveries(sandbox)[0]["attempts"]) >= n, what=f"attempt {number}"
        )
        httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": delay})
    wait_for(lambda: deliveries(sandbox)[0]["state"] == "failed", what="giving up")
    assert len(deliveries(sandbox)[0]["attempts"]) == len(RETRY_DELAYS) + 1


def test_redeliver_when_requested_then_same_body_sent_again(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    configure(sandbox, url=url)
    api.post("/checkout/v2/pay", json=pay_body("wh-6"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-6/fail", json={})
    wait_for(lambda: hook.requests, what="first delivery")
    original = deliveries(sandbox)[0]
    again = httpx.post(f"{sandbox.url}/_sandbox/webhooks/{original['id']}/redeliver")
    assert again.status_code == 201
    assert again.json()["redelivery_of"] == original["id"]
    wait_for(lambda: len(hook.requests) == 2, what="redelivery")
    assert hook.requests[0][1] == hook.requests[1][1]
    missing = httpx.post(f"{sandbox.url}/_sandbox/webhooks/nope/redeliver")
    assert missing.status_code == 404


def test_duplicates_when_configured_then_same_event_several_times(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    configure(sandbox, url=url, duplicates=2)
    api.post("/checkout/v2/pay", json=pay_body("wh-7"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-7/complete")
    wait_for(lambda: len(hook.requests) == 3, what="three copies")
    assert len({body for _, body in hook.requests}) == 1
    logged = deliveries(sandbox)
    assert [d["duplicate_of"] for d in logged] == [None, logged[0]["id"], logged[0]["id"]]


def test_drop_when_configured_then_logged_not_sent(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    configure(sandbox, url=url, drop=True)
    api.post("/checkout/v2/pay", json=pay_body("wh-8"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-8/complete")
    assert [d["state"] for d in deliveries(sandbox)] == ["dropped"]
    configure(sandbox, drop=False)
    api.post("/checkout/v2/pay", json=pay_body("wh-9"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-9/complete")
    wait_for(lambda: hook.requests, what="the undropped delivery")
    assert [b["payload"]["merchantOrderId"] for b in hook.bodies()] == ["wh-9"]


def test_delay_when_configured_then_first_attempt_waits_for_clock(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    configure(sandbox, url=url, delay_ms=60_000)
    api.post("/checkout/v2/pay", json=pay_body("wh-10"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-10/complete")
    (delivery,) = deliveries(sandbox)
    # both are whole milliseconds, each truncated on its own
    assert abs(delivery["next_attempt_at"] - delivery["created_at"] - 60_000) <= 1
    assert delivery["attempts"] == []
    httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": 60})
    wait_for(lambda: hook.requests, what="the delayed delivery")


def test_shuffle_when_configured_then_due_times_out_of_creation_order() -> None:
    with serve_sandbox(seed=11) as sb, httpx.Client(base_url=sb.base_url) as client:
        client.headers["Authorization"] = "O-Bearer " + get_token(client)
        configure(sb, url="http://127.0.0.1:9/hook", shuffle=True, delay_ms=10_000)
        for n in range(8):
            client.post("/checkout/v2/pay", json=pay_body(f"sh-{n}"))
            httpx.post(f"{sb.url}/_sandbox/orders/sh-{n}/complete")
        due = [d["next_attempt_at"] for d in deliveries(sb)]
        assert due != sorted(due)
        assert all(d["created_at"] + 10_000 <= d["next_attempt_at"] for d in deliveries(sb))


def test_no_url_when_not_configured_then_logged_only(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("wh-11"))
    httpx.post(sandbox.url + "/_sandbox/orders/wh-11/complete")
    assert [d["state"] for d in deliveries(sandbox)] == ["no_url"]


def test_gen1_order_when_paid_then_x_verify_callback_to_callback_url(
    sandbox: RunningSandbox, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    body, headers = gen1_sign(
        {
            "merchantId": "PGSANDBOXMERCHANT",
            "merchantTransactionId": "g1-wh",
            "merchantUserId": "U1",
            "amount": 2500,
            "redirectUrl": "http://127.0.0.1:9/back",
            "redirectMode": "REDIRECT",
            "callbackUrl": url,
            "paymentInstrument": {"type": "PAY_PAGE"},
        },
        "/pg/v1/pay",
    )
    assert (
        httpx.post(sandbox.base_url + "/pg/v1/pay", json=body, headers=headers).status_code == 200
    )
    httpx.post(sandbox.url + "/_sandbox/orders/g1-wh/complete")
    wait_for(lambda: hook.requests, what="the generation 1 callback")
    received_headers, raw = hook.requests[0]
    encoded = json.loads(raw)["response"]
    expected = hashlib.sha256((encoded + "sandbox-salt-key").encode()).hexdigest() + "###1"
    assert received_headers["x-verify"] == expected
    assert "authorization" not in received_headers
    decoded = json.loads(base64.b64decode(encoded))
    assert decoded["success"] is True
    assert decoded["code"] == "PAYMENT_SUCCESS"
    assert decoded["data"]["merchantTransactionId"] == "g1-wh"
    assert decoded["data"]["amount"] == 2500
    assert decoded["data"]["state"] == "COMPLETED"


def test_webhook_config_when_invalid_then_400(sandbox: RunningSandbox) -> None:
    for bad in ({"duplicates": -1}, {"shuffle": "yes"}, {"colour": "red"}, {"url": 5}):
        answer = httpx.put(sandbox.url + "/_sandbox/webhooks/config", json=bad)
        assert answer.status_code == 400, bad


def test_log_when_longer_than_limit_then_oldest_finished_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from phonepe_gateway.sandbox import webhooks
    from phonepe_gateway.sandbox.clock import SandboxClock
    from phonepe_gateway.sandbox.config import SandboxConfig
    from phonepe_gateway.sandbox.state import SandboxState

    monkeypatch.setattr(webhooks, "MAX_LOG", 20)
    clock = SandboxClock()
    sender = webhooks.WebhookSender(SandboxConfig(), clock)
    state = SandboxState(clock)
    state.listeners.append(sender.enqueue)
    for n in range(30):  # no URL: finished ("no_url") at once
        state.create_order(
            merchant_order_id=f"log-{n}",
            generation=2,
            merchant_id="M",
            amount=100,
            expire_after=300,
        )
        state.complete_order(f"log-{n}")
    sender.configure(url="http://127.0.0.1:9/hook")
    state.create_order(
        merchant_order_id="log-pending", generation=2, merchant_id="M", amount=100, expire_after=300
    )
    state.complete_order("log-pending")
    assert len(sender.deliveries) <= 20
    assert list(sender.deliveries.values())[-1].state == "pending"
    assert [d.id for d in sender.take_due()] == [list(sender.deliveries)[-1]]
