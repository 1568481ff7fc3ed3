"""Token provider (lazy, cached, refreshed early, single-flight) and the X-VERIFY signer."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from phonepe_gateway import AsyncPhonePeClient, Category, PhonePeClient, Secret, TransportError
from phonepe_gateway._auth import ChecksumSigner, TokenProvider, parse_token
from phonepe_gateway._clock import FakeClock

from .fakes import FakeGateway
from .servers import GatewayServer
from .test_sockets import settings_for

NOW = 1_750_000_000.0


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def test_parse_token_when_long_lived_then_refresh_at_half_life() -> None:
    token = parse_token({"access_token": "a" * 20, "expires_at": NOW + 3600}, NOW)
    assert token.refresh_at == NOW + 1800
    assert token.header == "O-Bearer " + "a" * 20


def test_parse_token_when_short_lived_then_refresh_60s_before_expiry() -> None:
    token = parse_token({"access_token": "a", "expires_at": NOW + 100}, NOW)
    assert token.refresh_at == NOW + 40


def test_parse_token_when_expires_at_null_then_expires_in_or_default() -> None:
    assert (
        parse_token({"access_token": "a", "expires_at": None, "expires_in": 600}, NOW).expires_at
        == NOW + 600
    )
    assert parse_token({"access_token": "a"}, NOW).expires_at == NOW + 300


def test_parse_token_when_expires_at_in_ms_then_converted() -> None:
    assert (
        parse_token({"access_token": "a", "expires_at": (NOW + 3600) * 1000}, NOW).expires_at
        == NOW + 3600
    )


def test_parse_token_when_no_access_token_then_protocol_error() -> None:
    with pytest.raises(TransportError) as info:
        parse_token({"code": "weird"}, NOW)
    assert "PHONEPE_OAUTH_URLS" in str(info.value)


def test_token_repr_when_printed_then_value_masked() -> None:
    token = parse_token({"access_token": "secret-token-value-1234", "expires_at": NOW + 60}, NOW)
    assert "secret-token-value" not in repr(token)
    assert "1234" in repr(token)


def test_provider_when_fresh_then_fetch_once(clock: FakeClock) -> None:
    provider = TokenProvider(clock)
    calls = []

    def fetch() -> dict[str, object]:
        calls.append(1)
        return {"access_token": f"t{len(calls)}", "expires_at": clock.time() + 3600}

    assert provider.get(fetch).value.reveal() == "t1"
    assert provider.get(fetch).value.reveal() == "t1"
    clock.advance(1801)
    assert provider.get(fetch).value.reveal() == "t2"
    assert provider.fetch_count == 2


def test_provider_when_invalidated_with_stale_token_then_new_token_kept(clock: FakeClock) -> None:
    provider = TokenProvider(clock)
    tokens = iter(["t1", "t2"])
    fetch = lambda: {"access_token": next(tokens), "expires_at": clock.time() + 3600}  # noqa: E731
    old = provider.get(fetch)
    provider.invalidate(old)
    new = provider.get(fetch)
    provider.invalidate(old)  # a late 401 for the old token must not drop the new one
    assert provider.current() is new


def test_provider_when_100_threads_then_one_fetch(clock: FakeClock) -> None:
    provider = TokenProvider(clock)
    release = threading.Event()
    started = threading.Event()

    def fetch() -> dict[str, object]:
        started.set()
        release.wait(5)
        return {"access_token": "shared", "expires_at": clock.time() + 3600}

    with ThreadPoolExecutor(max_workers=100) as pool:
        futures = [pool.submit(provider.get, fetch) for _ in range(100)]
        started.wait(5)
        release.set()
        values = {f.result().value.reveal() for f in futures}
    assert values == {"shared"}
    assert provider.fetch_count == 1


class CountingLock:
    """A lock that counts how many callers reached it (they have read `seen` by then)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrived = 0

    def __enter__(self) -> None:
        self.arrived += 1
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_provider_when_fetch_fails_then_waiters_share_the_error(clock: FakeClock) -> None:
    provider = TokenProvider(clock)
    lock = CountingLock()
    provider._thread_lock = lock  # type: ignore[assignment]

    def fetch() -> dict[str, object]:
        wait_until(lambda: lock.arrived == 20)  # every caller is queued behind this fetch
        raise TransportError("down", category=Category.CONNECTION_REFUSED, request_sent=False)

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(provider.get, fetch) for _ in range(20)]
        errors = [f.exception(10) for f in futures]
    assert all(isinstance(e, TransportError) for e in errors)
    assert provider.fetch_count == 1


@pytest.mark.anyio
async def test_provider_when_100_tasks_then_one_fetch(clock: FakeClock) -> None:
    provider = TokenProvider(clock)
    release = asyncio.Event()

    async def fetch() -> dict[str, object]:
        await release.wait()
        return {"access_token": "shared", "expires_at": clock.time() + 3600}

    results: list[str] = []

    async def one() -> None:
        results.append((await provider.aget(fetch)).value.reveal())

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(one)
        await anyio.sleep(0)
        release.set()
    assert results == ["shared"] * 100
    assert provider.fetch_count == 1


def test_client_when_100_threads_over_real_socket_then_one_token_request(
    gateway: FakeGateway, clock
) -> None:
    gateway.orders["o1"] = {"merchantOrderId": "o1", "state": "PENDING", "amount": 100}
    gateway.token_barrier = threading.Event()
    with GatewayServer(gateway) as server:
        settings = settings_for(
            server.url, connection_pool_size=100, connect_timeout=3, read_timeout=5, timeout=10
        )
        with (
            PhonePeClient(settings, clock=clock) as client,
            ThreadPoolExecutor(max_workers=100) as pool,
        ):
            futures = [pool.submit(client.get_order_status, "o1") for _ in range(100)]
            wait_until(lambda: any(r.url.path.endswith("/oauth/token") for r in gateway.requests))
            gateway.token_barrier.set()
            states = {f.result().state for f in futures}
    assert states == {"PENDING"}
    assert len(gateway.tokens) == 1


@pytest.mark.anyio
async def test_async_client_when_100_tasks_over_real_socket_then_one_token_request(
    gateway, clock
) -> None:
    gateway.orders["o1"] = {"merchantOrderId": "o1", "state": "PENDING", "amount": 100}
    with GatewayServer(gateway) as server:
        settings = settings_for(
            server.url, connection_pool_size=100, connect_timeout=3, read_timeout=5, timeout=10
        )
        async with AsyncPhonePeClient(settings, clock=clock) as client:
            results = await asyncio.gather(*(client.get_order_status("o1") for _ in range(100)))
    assert {r.state for r in results} == {"PENDING"}
    assert len(gateway.tokens) == 1


def test_signer_when_signing_then_matches_phonepe_formula() -> None:
    signer = ChecksumSigner(Secret("salt-key-value"), 3)
    expected = hashlib.sha256(b"BODY/pg/v1/paysalt-key-value").hexdigest() + "###3"
    assert signer.sign("BODY", "/pg/v1/pay") == expected
    assert signer.verify(expected.upper().replace("###3", "###3"), "BODY", "/pg/v1/pay")
    assert not signer.verify(expected.replace("###3", "###4"), "BODY", "/pg/v1/pay")
    assert not signer.verify("0" * 64 + "###3", "BODY", "/pg/v1/pay")
    assert "salt-key-value" not in repr(signer)
