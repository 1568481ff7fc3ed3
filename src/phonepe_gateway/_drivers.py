"""The I/O twins: perform the steps of ``CallCore.run`` / ``TransportCore.run``, sync or asyncio.

There are three steps: ``Send`` (one HTTP exchange), ``Sleep`` (a backoff) and
``Authorize`` (a token from the provider, which single-flights its fetch with a thread
or an asyncio lock; the fetch is itself a transport call run by the same loop).

Each client instance owns one pooled transport (HTTP/1.1 keep-alive,
``PHONEPE_CONNECTION_POOL_SIZE`` connections): the sync client's is
``_wire.StdlibTransport`` on ``http.client`` (a third of httpx's CPU per exchange), or
``httpx.HTTPTransport`` when ``PHONEPE_PROXY`` is set; the asyncio client's is
``httpx.AsyncHTTPTransport``. We drive the transport directly rather than through
``httpx.Client``: the Client layer adds a cookie jar, redirect following, auth flows
and event hooks, none of which a payment API call may use, and they cost about as
much CPU per call as everything this package does (see docs/BENCHMARKS.md).
Timeouts travel on each request (``extensions["timeout"]``), clipped to the call's
deadline by the core; they bound each socket read, so the body is also read against the
call's deadline (an answer trickling in byte by byte cannot outlast PHONEPE_TIMEOUT).
Tests inject ``httpx.MockTransport`` (or any transport) instead. Nothing here looks
at headers or bodies.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar, cast

import httpx

from ._auth import Token
from ._calls import Authorize, CallSteps
from ._clock import Clock
from ._config import Settings
from ._transport import CallSpec, Reply, Send, Sleep, TransportCore
from ._wire import StdlibTransport

__all__ = ["AsyncTransport", "SyncTransport"]

T = TypeVar("T")
_CAUGHT = (httpx.HTTPError, OSError, ssl.SSLError)


def _overdue(request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout(
        "the answer was still arriving at the call's deadline (PHONEPE_TIMEOUT)", request=request
    )


class _SyncDeadlineStream(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, clock: Clock, step: Send) -> None:
        self._stream, self._clock, self._step = stream, clock, step

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if self._clock.monotonic() > self._step.deadline:
                raise _overdue(self._step.request)
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _AsyncDeadlineStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, clock: Clock, step: Send) -> None:
        self._stream, self._clock, self._step = stream, clock, step

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            if self._clock.monotonic() > self._step.deadline:
                raise _overdue(self._step.request)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


def _limits(settings: Settings) -> httpx.Limits:
    size = settings.connection_pool_size
    return httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0)


class SyncTransport:
    """Runs calls over one pooled wire: ``_wire.StdlibTransport``, httpx's with a proxy."""

    def __init__(self, core: TransportCore, transport: httpx.BaseTransport | None = None) -> None:
        self.core = core
        s = core.settings
        if transport is None and s.proxy is None:
            transport = StdlibTransport(pool_size=s.connection_pool_size, keepalive_expiry=30.0)
        self._http: httpx.BaseTransport = transport or httpx.HTTPTransport(
            limits=_limits(s), proxy=s.proxy, retries=0
        )

    def send(self, spec: CallSpec, deadline: float | None = None) -> dict[str, Any]:
        """One call to the gateway's JSON, with failover and retries (no token handling)."""
        return self.run(self.core.run(spec, deadline))

    def run(self, steps: CallSteps[T]) -> T:
        reply: Reply | Token = None
        failure: Exception | None = None
        while True:
            try:
                step = steps.send(reply) if failure is None else steps.throw(failure)
            except StopIteration as stop:
                result: T = stop.value
                return result
            reply, failure = None, None
            if isinstance(step, Send):
                try:
                    reply = self._exchange(step)
                except _CAUGHT as exc:
                    reply = exc
            elif isinstance(step, Sleep):
                self.core.clock.sleep(step.seconds)
            else:
                try:
                    reply = self._authorize(step)
                except Exception as exc:  # thrown into the call, which decides what it means
                    failure = exc

    def _authorize(self, step: Authorize) -> Token:
        return step.tokens.get(lambda: self.send(step.request(), step.deadline))

    def _exchange(self, step: Send) -> httpx.Response:
        request = step.request
        response = self._http.handle_request(request)
        response.request = request
        stream = cast(httpx.SyncByteStream, response.stream)
        response.stream = _SyncDeadlineStream(stream, self.core.clock, step)
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
        """One call to the gateway's JSON, with failover and retries (no token handling)."""
        return await self.run(self.core.run(spec, deadline))

    async def run(self, steps: CallSteps[T]) -> T:
        reply: Reply | Token = None
        failure: Exception | None = None
        while True:
            try:
                step = steps.send(reply) if failure is None else steps.throw(failure)
            except StopIteration as stop:
                result: T = stop.value
                return result
            reply, failure = None, None
            if isinstance(step, Send):
                try:
                    reply = await self._exchange(step)
                except _CAUGHT as exc:
                    reply = exc
            elif isinstance(step, Sleep):
                await self.core.clock.asleep(step.seconds)
            else:
                try:
                    reply = await self._authorize(step)
                except Exception as exc:  # thrown into the call, which decides what it means
                    failure = exc

    async def _authorize(self, step: Authorize) -> Token:
        return await step.tokens.aget(lambda: self.send(step.request(), step.deadline))

    async def _exchange(self, step: Send) -> httpx.Response:
        request = step.request
        response = await self._http.handle_async_request(request)
        response.request = request
        stream = cast(httpx.AsyncByteStream, response.stream)
        response.stream = _AsyncDeadlineStream(stream, self.core.clock, step)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        await self._http.aclose()
