"""The client's resilience against the real sandbox (``phonepe_gateway.sandbox``) over loopback.

Faults are injected through the sandbox's control API, exactly as an operator would:
lost answers after the gateway acted, HTML proxy pages, 429 with Retry-After, resets,
token expiry. Backoff sleeps go to a FakeClock.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    CallEvent,
    Category,
    GatewayServerError,
    PhonePeClient,
    RateLimitedError,
    Settings,
    TransportError,
)
from phonepe_gateway._clock import FakeClock


def fault(sandbox: Any, **rule: Any) -> None:
    answer = httpx.post(sandbox.url + "/_sandbox/faults", json=rule)
    assert answer.status_code in (200, 201), answer.text


def client_settings(sandbox: Any, **kw: Any) -> Settings:
    options: dict[str, Any] = {
        "env": "local",
        "local_url": sandbox.url,
        "read_timeout": 2,
        "timeout": 10,
    }
    options.update(kw)
    return Settings.build(**options)


@pytest.mark.parametrize("generation", ["v2", "v1"])
def test_pay_when_answer_dropped_after_commit_then_resolved_not_failed(sandbox, generation) -> None:
    path = "/checkout/v2/pay" if generation == "v2" else "/pg/v1/pay"
    fault(sandbox, method="POST", path=path, action="drop_after_commit", times=1)
    events: list[CallEvent] = []
    settings = client_settings(sandbox, api_version=generation)
    with PhonePeClient(settings, clock=FakeClock(), on_event=events.append) as client:
        result = client.create_payment(
            amount=4200,
            merchant_order_id=f"drop-{generation}",
            redirect_url="http://127.0.0.1/back",
        )
        status = client.get_order_status(f"drop-{generation}")
    assert result.merchant_order_id == f"drop-{generation}"
    assert result.state == "PENDING"
    assert status.amount == 4200
    pays = [e for e in events if e.call == "create_payment"]
    assert [e.outcome for e in pays] == ["transport_error", "gateway_error"]
    assert pays[0].category is Category.CONNECTION_RESET


def test_refund_when_answer_dropped_after_commit_then_resolved(sandbox) -> None:
    with PhonePeClient(client_settings(sandbox), clock=FakeClock()) as client:
        client.create_payment(amount=1000, merchant_order_id="rdrop")
        assert httpx.post(sandbox.url + "/_sandbox/orders/rdrop/complete").status_code == 200
        fault(
            sandbox, method="POST", path="/payments/v2/refund", action="drop_after_commit", times=1
        )
        refund = client.refund(
            original_merchant_order_id="rdrop", amount=300, merchant_refund_id="rdrop-r1"
        )
    assert refund.merchant_refund_id == "rdrop-r1"
    assert refund.amount == 300


def test_status_when_html_502_once_then_retried_and_succeeds(sandbox) -> None:
    clock = FakeClock()
    with PhonePeClient(client_settings(sandbox), clock=clock) as client:
        client.create_payment(amount=1000, merchant_order_id="html1")
        fault(
            sandbox, method="GET", path="/checkout/v2/order/*", action="html", status=502, times=1
        )
        assert client.get_order_status("html1").state == "PENDING"
    assert len(clock.sleeps) == 1


def test_status_when_html_502_persists_then_gateway_error_with_status(sandbox) -> None:
    with PhonePeClient(client_settings(sandbox), clock=FakeClock()) as client:
        client.create_payment(amount=1000, merchant_order_id="html2")
        fault(sandbox, method="GET", path="/checkout/v2/order/*", action="html", status=502)
        with pytest.raises(GatewayServerError) as info:
            client.get_order_status("html2")
    assert info.value.http_status == 502
    assert info.value.category is Category.PROTOCOL_ERROR
    assert info.value.attempts == 3


def test_pay_when_429_with_retry_after_then_waits_and_succeeds(sandbox) -> None:
    clock = FakeClock()
    fault(
        sandbox,
        method="POST",
        path="/checkout/v2/pay",
        action="status",
        status=429,
        retry_after=2,
        times=1,
    )
    with PhonePeClient(client_settings(sandbox), clock=clock) as client:
        assert client.create_payment(amount=1000, merchant_order_id="rl1").order_id
    assert clock.sleeps == [2.0]


def test_pay_when_429_longer_than_deadline_then_rate_limited(sandbox) -> None:
    fault(
        sandbox, method="POST", path="/checkout/v2/pay", action="status", status=429, retry_after=60
    )
    client = PhonePeClient(client_settings(sandbox), clock=FakeClock())
    with client, pytest.raises(RateLimitedError) as info:
        client.create_payment(amount=1000, merchant_order_id="rl2")
    assert info.value.retry_after == 60


def test_status_when_reset_before_acting_then_retried(sandbox) -> None:
    with PhonePeClient(client_settings(sandbox), clock=FakeClock()) as client:
        client.create_payment(amount=1000, merchant_order_id="rst1")
        fault(sandbox, method="GET", path="/checkout/v2/order/*", action="reset", times=1)
        assert client.get_order_status("rst1").state == "PENDING"


def test_status_when_malformed_always_then_protocol_error_unknown_outcome(sandbox) -> None:
    with PhonePeClient(client_settings(sandbox, max_retries=0), clock=FakeClock()) as client:
        client.create_payment(amount=1000, merchant_order_id="mal1")
        fault(sandbox, method="GET", path="/checkout/v2/order/*", action="malformed")
        with pytest.raises(TransportError) as info:
            client.get_order_status("mal1")
    assert info.value.category is Category.PROTOCOL_ERROR
    assert info.value.request_sent is True


def test_status_when_slow_beyond_read_timeout_then_read_timeout(sandbox) -> None:
    settings = client_settings(sandbox, read_timeout=0.3, max_retries=0)
    with PhonePeClient(settings, clock=FakeClock()) as client:
        client.create_payment(amount=1000, merchant_order_id="slow1")
        fault(
            sandbox,
            method="GET",
            path="/checkout/v2/order/*",
            action="delay",
            delay_ms=1500,
            times=1,
        )
        with pytest.raises(TransportError) as info:
            client.get_order_status("slow1")
    assert info.value.category is Category.READ_TIMEOUT
    assert info.value.request_sent is True


def test_token_when_sandbox_rejects_stale_token_then_refreshed_once(sandbox) -> None:
    with PhonePeClient(client_settings(sandbox), clock=FakeClock()) as client:
        client.create_payment(amount=1000, merchant_order_id="tok1")
        first = client._tokens.current()
        answer = httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": 7200})
        assert answer.status_code == 200
        assert client.get_order_status("tok1").state in {"PENDING", "FAILED"}
        assert client._tokens.current() is not first


@pytest.mark.anyio
async def test_async_pay_when_answer_dropped_then_resolved(sandbox) -> None:
    fault(sandbox, method="POST", path="/checkout/v2/pay", action="drop_after_commit", times=1)
    async with AsyncPhonePeClient(client_settings(sandbox), clock=FakeClock()) as client:
        result = await client.create_payment(amount=900, merchant_order_id="adrop")
    assert result.state == "PENDING"
