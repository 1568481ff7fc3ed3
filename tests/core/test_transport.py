"""Failover, breakers, deadline and events, driven through httpx.MockTransport and a FakeClock."""

from __future__ import annotations

import logging

import httpx
import pytest

from phonepe_gateway import (
    CallEvent,
    Category,
    CircuitOpenError,
    GatewayServerError,
    PhonePeClient,
    Settings,
    TransportError,
)
from phonepe_gateway._breaker import BreakerState
from phonepe_gateway._clock import FakeClock

from .fakes import FakeGateway

A, B, C = "http://127.0.0.1:1/a", "http://127.0.0.1:2/b", "http://127.0.0.1:3/c"


def settings(*urls: str, **kw: object) -> Settings:
    options: dict[str, object] = {"timeout": 10, "read_timeout": 2, **kw}
    return Settings.build(env="local", base_urls=",".join(urls), **options)


class Router:
    """Per-endpoint behaviour in front of a FakeGateway: 'ok', an exception, or a Response."""

    def __init__(self, gateway: FakeGateway, **behaviour: object) -> None:
        self.gateway = gateway
        self.behaviour = dict(behaviour)
        self.hits: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        port = str(request.url.port)
        self.hits.append(port)
        action = self.behaviour.get(port, "ok")
        if isinstance(action, list):
            action = action.pop(0) if len(action) > 1 else action[0]
        if isinstance(action, BaseException):
            raise type(action)(str(action), request=request)  # type: ignore[call-arg]
        if isinstance(action, httpx.Response):
            return action
        return self.gateway(request)


def refused() -> httpx.ConnectError:
    return httpx.ConnectError("[Errno 111] Connection refused")


def client_for(
    router: Router,
    clock: FakeClock,
    *urls: str,
    events: list[CallEvent] | None = None,
    **kw: object,
):
    hook = events.append if events is not None else None
    return PhonePeClient(
        settings(*urls, **kw), transport=httpx.MockTransport(router), clock=clock, on_event=hook
    )


def test_failover_when_first_two_refuse_then_third_used_in_order_without_waiting(
    gateway, clock
) -> None:
    router = Router(gateway, **{"1": refused(), "2": httpx.ConnectTimeout("timed out")})
    events: list[CallEvent] = []
    with client_for(router, clock, A, B, C, events=events) as client:
        client.create_payment(amount=100, merchant_order_id="f1")
    assert router.hits[:3] == ["1", "2", "3"]
    assert [
        (e.endpoint, e.attempt, e.category, e.final) for e in events if e.call == "oauth_token"
    ] == [
        (A, 1, Category.CONNECTION_REFUSED, False),
        (B, 2, Category.CONNECT_TIMEOUT, False),
        (C, 3, None, True),
    ]
    assert clock.sleeps == []


def test_demotion_when_primary_refused_once_then_later_calls_go_to_secondary_first(
    gateway, clock
) -> None:
    router = Router(gateway, **{"1": refused()})
    events: list[CallEvent] = []
    with client_for(router, clock, A, B, events=events) as client:
        client.create_payment(amount=100, merchant_order_id="d0")
        for _ in range(4):
            client.get_order_status("d0")
        assert client._core.breaker(A).demoted
        assert client._core.breaker(A).state is BreakerState.CLOSED
    assert router.hits.count("1") == 1  # paid once, by the first call only
    assert [e.endpoint for e in events[2:]] == [B] * 5


def test_demotion_when_cooldown_passes_then_primary_tried_first_again(gateway, clock) -> None:
    router = Router(gateway, **{"1": [refused(), "ok"]})
    with client_for(router, clock, A, B) as client:
        client.create_payment(amount=100, merchant_order_id="d1")
        client.get_order_status("d1")
        breaker = client._core.breaker(A)
        clock.advance(breaker.cooldown)
        assert not breaker.demoted
        client.get_order_status("d1")
        client.get_order_status("d1")
    assert router.hits[-2:] == ["1", "1"]


def test_breaker_when_threshold_reached_then_dead_endpoint_skipped_at_no_cost(
    gateway, clock
) -> None:
    router = Router(gateway, **{"1": refused()})
    events: list[CallEvent] = []
    with client_for(router, clock, A, B, events=events) as client:
        client.create_payment(amount=100, merchant_order_id="b0")
        breaker = client._core.breaker(A)
        for _ in range(2):  # each demotion expires, A is tried again and refuses again
            clock.advance(breaker.cooldown)
            client.get_order_status("b0")
        assert breaker.state is BreakerState.OPEN
        client.get_order_status("b0")
    assert router.hits.count("1") == 3
    skipped = [e for e in events if e.outcome == "skipped_open_circuit"]
    assert len(skipped) == 1
    assert skipped[0].endpoint == A
    assert skipped[0].duration == 0.0


def test_breaker_when_cooldown_passes_then_one_probe_and_closes_on_success(gateway, clock) -> None:
    router = Router(gateway, **{"1": [refused(), refused(), refused(), "ok"]})
    with client_for(router, clock, A, B) as client:
        breaker = client._core.breaker(A)
        client.create_payment(amount=100, merchant_order_id="h0")
        for _ in range(2):
            clock.advance(breaker.cooldown)
            client.get_order_status("h0")
        assert breaker.state is BreakerState.OPEN
        client.get_order_status("h0")
        assert router.hits.count("1") == 3
        clock.advance(breaker.cooldown)
        client.get_order_status("h0")  # the half-open probe goes to A, which now answers
        assert breaker.state is BreakerState.CLOSED
        assert not breaker.demoted
    assert router.hits.count("1") == 4


def test_breaker_when_probe_fails_then_reopens_for_another_cooldown(gateway, clock) -> None:
    router = Router(gateway, **{"1": refused()})
    with client_for(router, clock, A, B) as client:
        breaker = client._core.breaker(A)
        client.create_payment(amount=100, merchant_order_id="p0")
        for _ in range(2):
            clock.advance(breaker.cooldown)
            client.get_order_status("p0")
        clock.advance(breaker.cooldown)
        client.get_order_status("p0")  # probe, refused again
        assert breaker.state is BreakerState.OPEN
        client.get_order_status("p0")
    assert router.hits.count("1") == 4


def test_demotion_when_only_endpoint_then_still_tried(gateway, clock) -> None:
    router = Router(gateway, **{"1": [refused(), "ok"]})
    with client_for(router, clock, A, max_retries=1) as client:
        assert client.create_payment(amount=100, merchant_order_id="s0").order_id == "OMOs0"


def test_breaker_when_every_endpoint_open_then_circuit_open_error_not_sent(gateway, clock) -> None:
    router = Router(gateway, **{"1": refused()})
    with client_for(router, clock, A, max_retries=0) as client:
        for _ in range(3):
            with pytest.raises(TransportError):
                client.get_order_status("x1")
        events: list[CallEvent] = []
        client._core.on_event = events.append
        with pytest.raises(CircuitOpenError) as info:
            client.get_order_status("x1")
    assert [(e.outcome, e.final, e.attempt) for e in events] == [("skipped_open_circuit", True, 1)]
    assert info.value.request_sent is False
    assert "circuit open" in info.value.message
    assert router.hits.count("1") == 3


def test_breaker_when_gateway_answers_5xx_then_not_counted_as_dead(gateway, clock) -> None:
    router = Router(gateway, **{"1": httpx.Response(503, json={"code": "DOWN"})})
    with client_for(router, clock, A, B, max_retries=0) as client:
        for _ in range(5):
            with pytest.raises(GatewayServerError):  # the token call itself gets the 503
                client.get_order_status("x")
        assert client._core.breaker(A).state is BreakerState.CLOSED


def test_retry_when_maybe_sent_then_later_refusal_keeps_request_sent(gateway, clock) -> None:
    router = Router(gateway, **{"1": [httpx.ReadTimeout("timed out"), refused()]})
    with client_for(router, clock, A, max_retries=1) as client:
        client._tokens._token = None
        with pytest.raises(TransportError) as info:
            client.get_order_status("o")
    assert info.value.category is Category.CONNECTION_REFUSED
    assert info.value.request_sent is True
    assert "UNKNOWN" in info.value.message


def test_retry_when_read_5xx_then_backoff_grows_with_jitter(gateway, clock) -> None:
    router = Router(
        gateway, **{"1": [httpx.Response(503, json={}), httpx.Response(502, json={}), "ok"]}
    )
    with client_for(router, clock, A, max_retries=2) as client:
        client.create_payment(amount=100, merchant_order_id="r0")
    assert len(clock.sleeps) == 2
    assert 0.125 <= clock.sleeps[0] <= 0.25
    assert 0.25 <= clock.sleeps[1] <= 0.5


def test_deadline_when_backoff_would_exceed_timeout_then_stops(gateway, clock) -> None:
    def slow_fail(request: httpx.Request) -> httpx.Response:
        clock.advance(4.9)
        return httpx.Response(503, json={})

    with (
        PhonePeClient(
            settings(A, max_retries=5, timeout=5, read_timeout=2, connect_timeout=1),
            transport=httpx.MockTransport(slow_fail),
            clock=clock,
        ) as client,
        pytest.raises(GatewayServerError) as info,
    ):
        client.get_order_status("o")
    assert getattr(info.value, "http_status", None) == 503
    assert clock.sleeps == []


def test_request_timeouts_when_deadline_near_then_clipped_to_remaining(gateway, clock) -> None:
    seen: list[dict[str, float]] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        clock.advance(3)
        return httpx.Response(503, json={})

    with (
        PhonePeClient(
            settings(A, B, max_retries=1, timeout=5, read_timeout=4, connect_timeout=2),
            transport=httpx.MockTransport(capture),
            clock=clock,
        ) as client,
        pytest.raises(GatewayServerError),
    ):
        client.get_order_status("o")
    assert seen[0]["read"] == 4
    assert seen[0]["connect"] == 2
    assert seen[1]["read"] < 2


def test_event_hook_when_it_raises_then_call_still_succeeds_and_error_logged(
    gateway, clock, caplog
) -> None:
    def broken(event: CallEvent) -> None:
        raise RuntimeError("hook bug")

    caplog.set_level(logging.ERROR, logger="phonepe_gateway")
    with PhonePeClient(
        settings(A), transport=gateway.transport(), clock=clock, on_event=broken
    ) as client:
        assert client.create_payment(amount=100, merchant_order_id="e1").order_id == "OMOe1"
    assert "on_event hook failed" in caplog.text


def test_events_when_call_made_then_path_has_no_query_and_durations_measured(
    gateway, clock
) -> None:
    events: list[CallEvent] = []
    with PhonePeClient(
        settings(A), transport=gateway.transport(), clock=clock, on_event=events.append
    ) as client:
        client.create_payment(amount=100, merchant_order_id="e2")
        client.get_order_status("e2", details=True)
    assert events[-1].path == "/checkout/v2/order/e2/status"
    assert events[-1].method == "GET"
    assert events[-1].status == 200
    assert all(e.duration >= 0 for e in events)


def test_user_agent_when_configured_then_sent(gateway, clock) -> None:
    with PhonePeClient(
        settings(A, user_agent="shop/1.0"), transport=gateway.transport(), clock=clock
    ) as client:
        client.create_payment(amount=100, merchant_order_id="ua")
    assert gateway.requests[-1].headers["user-agent"] == "shop/1.0"


def test_pool_timeout_when_pool_exhausted_then_endpoint_not_demoted_and_message_names_setting(
    gateway, clock
) -> None:
    router = Router(gateway, **{"1": httpx.PoolTimeout("no free connection")})
    with client_for(router, clock, A, B, max_retries=0) as client:
        client.create_payment(amount=100, merchant_order_id="pool0")
        assert not client._core.breaker(A).demoted
    with (
        client_for(router, clock, A, max_retries=0) as client,
        pytest.raises(TransportError) as info,
    ):
        client.get_order_status("pool0")
    assert info.value.category is Category.CONNECT_TIMEOUT
    assert info.value.request_sent is False
    assert "PHONEPE_CONNECTION_POOL_SIZE" in info.value.message


def test_refused_when_every_https_endpoint_refuses_then_message_says_port_443(clock) -> None:
    settings = Settings.build(
        env="production", client_id="C", client_secret="client-secret-1",
        base_urls="https://127.0.0.1/apis/pg,https://127.0.0.2/apis/pg", max_retries=0,
    )  # fmt: skip

    def refuse(request: httpx.Request) -> httpx.Response:
        raise refused()

    client = PhonePeClient(settings, transport=httpx.MockTransport(refuse), clock=clock)
    with client, pytest.raises(TransportError) as info:
        client.get_order_status("o1")
    assert "outbound connections to port 443 are blocked" in info.value.message
    assert "ask the hosting provider" in info.value.message
