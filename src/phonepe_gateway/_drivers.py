"""The I/O twins: perform the steps of ``TransportCore.run`` with httpx, sync or asyncio.

Each client instance owns one pooled httpx transport (``HTTPTransport`` /
``AsyncHTTPTransport``: HTTP/1.1 keep-alive, ``PHONEPE_CONNECTION_POOL_SIZE``
connections, ``PHONEPE_PROXY``). We drive the transport directly rather than through
``httpx.Client``: the Client layer adds a cookie jar, redirect following, auth flows
and event hooks, none of which a payment API call may use, and they cost about as
much CPU per call as everything this package does (see docs/BENCHMARKS.md).
Timeouts travel on each request (``extensions["timeout"]``), clipped to the call's
deadline by the core. Tests inject ``httpx.MockTransport`` (or any transport) instead.
Nothing here looks at headers or bodies.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from ._config import Settings
from ._transport import CallSpec, Reply, Sleep, TransportCore

__all__ = ["AsyncTransport", "SyncTransport"]

_CAUGHT = (httpx.HTTPError, OSError, ssl.SSLError)


def _limits(settings: Settings) -> httpx.Limits:
    size = settings.connection_pool_size
    return httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0)


class SyncTransport:
    """Runs calls over one pooled ``httpx.HTTPTransport`` (or an injected transport)."""

    def __init__(self, core: TransportCore, transport: httpx.BaseTransport | None = None) -> None:
        self.core = core
        s = core.settings
        self._http: httpx.BaseTransport = transport or httpx.HTTPTransport(
            limits=_limits(s), proxy=s.proxy, retries=0
        )

    def send(self, spec: CallSpec, deadline: float | None = None) -> dict[str, Any]:
        steps = self.core.run(spec, deadline)
        reply: Reply = None
        while True:
            try:
                step = steps.send(reply)
            except StopIteration as stop:
                result: dict[str, Any] = stop.value
                return result
            if isinstance(step, Sleep):
                self.core.clock.sleep(step.seconds)
                reply = None
                continue
            try:
                reply = self._exchange(step.request)
            except _CAUGHT as exc:
                reply = exc

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        response = self._http.handle_request(request)
        response.request = request
        try:
            response.read()
        finally:
            response.close()
        return response

    def close(self) -> None:
        self._http.close()


class AsyncTransport:
    """Runs calls over one pooled ``httpx.AsyncHTTPTransport`` (or an injected transport)."""

    def __init__(
        self, core: TransportCore, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.core = core
        s = core.settings
        self._http: httpx.AsyncBaseTransport = transport or httpx.AsyncHTTPTransport(
            limits=_limits(s), proxy=s.proxy, retries=0
        )

    async def send(self, spec: CallSpec, deadline: float | None = None) -> dict[str, Any]:
        steps = self.core.run(spec, deadline)
        reply: Reply = None
        while True:
            try:
                step = steps.send(reply)
            except StopIteration as stop:
                result: dict[str, Any] = stop.value
                return result
            if isinstance(step, Sleep):
                await self.core.clock.asleep(step.seconds)
                reply = None
                continue
            try:
                reply = await self._exchange(step.request)
            except _CAUGHT as exc:
                reply = exc

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        response = await self._http.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        await self._http.aclose()
