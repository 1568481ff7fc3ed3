"""Every failure class over real sockets on 127.0.0.1 (sub-second timeouts, no sleeping).

The OAuth endpoint is a healthy loopback gateway; the API endpoint is the broken
server under test, so each failure is seen by a real API call. Backoff sleeps go
to a FakeClock, so retries cost no wall time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

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

from .fakes import CLIENT_ID, CLIENT_SECRET, FakeGateway
from .servers import (
    BlackHole,
    GatewayServer,
    RawServer,
    answer,
    answers,
    hang_after_read,
    http,
    refused_port,
    reset_after_read,
    reset_on_accept,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def oauth(gateway: FakeGateway) -> Iterator[GatewayServer]:
    with GatewayServer(gateway) as server:
        yield server


def settings_for(*urls: str, oauth: str | None = None, **kw: object) -> Settings:
    options: dict[str, object] = {
        "env": "production",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "base_urls": ",".join(urls),
        "connect_timeout": 0.3,
        "read_timeout": 0.4,
        "timeout": 5,
        "max_retries": 1,
    }
    if oauth:
        options["oauth_urls"] = oauth
    options.update(kw)
    return Settings.build(**options)


def status_error(
    settings: Settings, clock: FakeClock, events: list[CallEvent] | None = None
) -> TransportError:
    hook = events.append if events is not None else None
    with (
        PhonePeClient(settings, clock=clock, on_event=hook) as client,
        pytest.raises(TransportError) as info,
    ):
        client.get_order_status("order-1")
    return info.value


def test_refused_when_every_endpoint_refuses_then_not_sent_and_says_port_blocked(
    oauth, clock
) -> None:
    urls = [
        f"http://127.0.0.1:{refused_port()}/apis/pg",
        f"http://127.0.0.1:{refused_port()}/apis/pg",
    ]
    events: list[CallEvent] = []
    err = status_error(settings_for(*urls, oauth=oauth.url), clock, events)
    assert err.category is Category.CONNECTION_REFUSED
    assert err.request_sent is False
    assert err.attempts == 4  # 2 endpoints x (1 try + 1 retry)
    ports = "/".join(u.split(":")[2].split("/")[0] for u in urls)
    assert f"outbound connections to port {ports} are blocked" in err.message
    assert "PHONEPE_PROXY" in err.message
    assert "4 attempts" in err.message
    assert urls[1] in err.message
    assert "safe to retry" in err.message
    api = [e for e in events if e.call == "order_status"]
    assert [e.endpoint for e in api] == [urls[0], urls[1], urls[0], urls[1]]
    assert [e.final for e in api] == [False, False, False, True]
    assert len(clock.sleeps) == 1  # failover itself never waits; only the new round does


def test_refused_when_local_env_then_suggests_starting_sandbox(clock) -> None:
    settings = Settings.build(
        env="local", local_url=f"http://127.0.0.1:{refused_port()}", max_retries=0
    )
    err = status_error(settings, clock)
    assert err.category is Category.CONNECTION_REFUSED
    assert "phonepe sandbox" in err.message


def test_blackhole_when_connect_times_out_then_connect_timeout_not_sent(oauth, clock) -> None:
    with BlackHole() as hole:
        err = status_error(settings_for(hole.url, oauth=oauth.url, max_retries=0), clock)
    assert err.category is Category.CONNECT_TIMEOUT
    assert err.request_sent is False
    assert "firewall" in err.message


def test_reset_when_server_resets_after_reading_then_reset_maybe_sent(oauth, clock) -> None:
    with RawServer(reset_after_read) as server:
        err = status_error(settings_for(server.url, oauth=oauth.url, max_retries=0), clock)
    assert err.category is Category.CONNECTION_RESET
    assert err.request_sent is True
    assert "UNKNOWN" in err.message


def test_reset_when_server_resets_on_accept_then_connection_reset(oauth, clock) -> None:
    with RawServer(reset_on_accept) as server:
        err = status_error(settings_for(server.url, oauth=oauth.url, max_retries=0), clock)
    assert err.category is Category.CONNECTION_RESET


def test_hang_when_server_reads_then_hangs_then_read_timeout_sent(oauth, clock) -> None:
    with RawServer(hang_after_read) as server:
        err = status_error(settings_for(server.url, oauth=oauth.url, max_retries=0), clock)
        assert server.connections == 1
    assert err.category is Category.READ_TIMEOUT
    assert err.request_sent is True
    assert "never mark it failed" in err.message


def test_html_502_when_proxy_page_then_gateway_server_error_with_status(oauth, clock) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    with RawServer(answer(http(502, page, "text/html"))) as server:
        settings = settings_for(server.url, oauth=oauth.url, max_retries=1)
        with (
            PhonePeClient(settings, clock=clock) as client,
            pytest.raises(GatewayServerError) as info,
        ):
            client.get_order_status("order-1")
        assert server.connections == 2
    err = info.value
    assert err.http_status == 502
    assert err.category is Category.PROTOCOL_ERROR
    assert "HTML page" in err.message
    assert err.attempts == 2
    assert "Traceback" not in err.message
    assert "JSONDecodeError" not in repr(err)


def test_malformed_json_when_200_then_protocol_error_outcome_unknown(oauth, clock) -> None:
    with RawServer(answer(http(200, b'{"state": "COMPL'))) as server:
        err = status_error(settings_for(server.url, oauth=oauth.url, max_retries=0), clock)
    assert err.category is Category.PROTOCOL_ERROR
    assert err.request_sent is True
    assert "HTTP 200" in err.message


def test_malformed_json_when_500_then_gateway_server_error(oauth, clock) -> None:
    with RawServer(answer(http(500, b"{oops"))) as server:
        settings = settings_for(server.url, oauth=oauth.url, max_retries=0)
        with (
            PhonePeClient(settings, clock=clock) as client,
            pytest.raises(GatewayServerError) as info,
        ):
            client.get_order_status("order-1")
    assert info.value.http_status == 500
    assert info.value.category is Category.PROTOCOL_ERROR


def test_429_when_retry_after_fits_deadline_then_waits_and_succeeds(oauth, clock) -> None:
    body = json.dumps({"merchantOrderId": "order-1", "state": "PENDING", "amount": 100}).encode()
    script = answers(http(429, b'{"code": "TOO_MANY_REQUESTS"}', Retry_After="2"), http(200, body))
    with RawServer(script) as server:
        settings = settings_for(server.url, oauth=oauth.url, max_retries=2)
        with PhonePeClient(settings, clock=clock) as client:
            status = client.get_order_status("order-1")
    assert status.state == "PENDING"
    assert clock.sleeps == [2.0]


def test_429_when_retry_after_beyond_deadline_then_rate_limited_without_waiting(
    oauth, clock
) -> None:
    with RawServer(answer(http(429, b"{}", Retry_After="60"))) as server:
        settings = settings_for(server.url, oauth=oauth.url, max_retries=2, timeout=5)
        with (
            PhonePeClient(settings, clock=clock) as client,
            pytest.raises(RateLimitedError) as info,
        ):
            client.get_order_status("order-1")
        assert server.connections == 1
    assert info.value.retry_after == 60.0
    assert clock.sleeps == []


def test_failover_when_primary_refused_then_secondary_answers_and_primary_demoted(
    gateway, clock
) -> None:
    with GatewayServer(gateway) as good:
        dead = f"http://127.0.0.1:{refused_port()}/apis/pg-sandbox"
        events: list[CallEvent] = []
        settings = settings_for(dead, good.url, max_retries=0)
        with PhonePeClient(settings, clock=clock, on_event=events.append) as client:
            gateway.orders["o1"] = {"merchantOrderId": "o1", "state": "PENDING", "amount": 100}
            for _ in range(4):
                assert client.get_order_status("o1").state == "PENDING"
    first = events[:2]
    assert [(e.endpoint, e.outcome, e.category) for e in first] == [
        (dead, "transport_error", Category.CONNECTION_REFUSED),
        (good.url, "ok", None),
    ]
    assert clock.sleeps == []
    later = [e.endpoint for e in events[2:]]
    assert later == [good.url] * (len(events) - 2)  # the refused primary is paid once only


def test_token_when_expired_over_real_socket_then_refetched(gateway, clock) -> None:
    gateway.orders["o1"] = {"merchantOrderId": "o1", "state": "PENDING", "amount": 100}
    with (
        GatewayServer(gateway) as server,
        PhonePeClient(settings_for(server.url), clock=clock) as client,
    ):
        client.get_order_status("o1")
        clock.advance(3599)
        client.get_order_status("o1")
    assert len(gateway.tokens) == 2


@pytest.mark.anyio
async def test_async_when_refused_primary_then_fails_over(gateway, clock) -> None:
    gateway.orders["o1"] = {"merchantOrderId": "o1", "state": "COMPLETED", "amount": 100}
    with GatewayServer(gateway) as good:
        dead = f"http://127.0.0.1:{refused_port()}/apis/pg-sandbox"
        async with AsyncPhonePeClient(settings_for(dead, good.url), clock=clock) as client:
            status = await client.get_order_status("o1")
    assert status.state == "COMPLETED"


@pytest.mark.anyio
async def test_async_when_server_hangs_then_read_timeout_sent(oauth, clock) -> None:
    with RawServer(hang_after_read) as server:
        async with AsyncPhonePeClient(
            settings_for(server.url, oauth=oauth.url, max_retries=0), clock=clock
        ) as client:
            with pytest.raises(TransportError) as info:
                await client.get_order_status("o1")
    assert info.value.category is Category.READ_TIMEOUT
    assert info.value.request_sent is True


def tls_to_plain_server(conn, stop) -> None:
    conn.recv(4096)  # the TLS ClientHello
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def test_tls_when_https_to_plain_http_port_then_tls_error_not_sent(oauth, clock) -> None:
    with RawServer(tls_to_plain_server) as server:
        url = f"https://127.0.0.1:{server.port}/apis/pg"
        err = status_error(settings_for(url, oauth=oauth.url, max_retries=0), clock)
    assert err.category is Category.TLS_ERROR
    assert err.request_sent is False
    assert "clock" in err.message
    assert "CA certificates" in err.message


def test_proxy_when_connect_forbidden_then_proxy_error_not_sent(oauth, clock) -> None:
    forbidden = http(403, b"", "text/plain")
    with RawServer(answer(forbidden)) as proxy:
        settings = settings_for(
            "https://127.0.0.1:1/apis/pg",
            oauth=oauth.url,
            max_retries=0,
            proxy=f"http://user:pa55word@127.0.0.1:{proxy.port}",
        )
        with PhonePeClient(settings, clock=clock) as client, pytest.raises(TransportError) as info:
            client._transport.send(client._prepare_status("o1", False).spec)
        assert proxy.connections == 1
    err = info.value
    assert err.category is Category.PROXY_ERROR
    assert err.request_sent is False
    assert "PHONEPE_PROXY" in err.message
    assert "pa55word" not in err.message


def test_proxy_when_proxy_port_refused_then_proxy_error(clock) -> None:
    settings = Settings.build(
        env="local",
        base_urls="https://127.0.0.1:1/apis/pg",
        max_retries=0,
        proxy=f"http://127.0.0.1:{refused_port()}",
    )
    with PhonePeClient(settings, clock=clock) as client, pytest.raises(TransportError) as info:
        client.get_order_status("o1")
    assert info.value.category is Category.PROXY_ERROR
    assert "via proxy http://127.0.0.1:" in info.value.message
