"""How one call reaches PhonePe: failover, retries, circuit breaking, per-attempt events; no I/O.

A call is a :class:`CallSpec`; :meth:`TransportCore.run` is a generator holding
*all* the logic (endpoint order, breakers, deadline, retry decisions,
classification, events): it yields :class:`Send` / :class:`Sleep` steps and
receives the answer or exception. It opens no socket and never sleeps:
``_drivers.SyncTransport`` and ``_drivers.AsyncTransport`` perform those steps
(the only code that does network I/O), so the sync and async twins share everything
that is not I/O. ``_calls.CallCore`` runs it for each attempt of a call.

It never logs or reprs request headers or bodies (they carry tokens and checksums).
"""

from __future__ import annotations

import functools
import logging
import math
import random
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._breaker import CircuitBreaker
from ._classify import classify_exception, read_response
from ._clock import Clock
from ._config import Settings
from ._errors import (
    NOT_SENT_CATEGORIES,
    Category,
    CircuitOpenError,
    GatewayError,
    PhonePeError,
    TransportError,
)
from ._events import CallEvent, EventHook, emit
from ._remedies import remedy
from ._retry import decide

logger = logging.getLogger("phonepe_gateway")

__all__ = ["CallSpec", "Reply", "Send", "Sleep", "TransportCore"]


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One gateway call, independent of the endpoint it will be sent to."""

    call: str
    method: str
    path: str
    urls: tuple[str, ...]
    headers: tuple[tuple[str, str], ...] = ()
    content: bytes | None = None

    def with_header(self, name: str, value: str) -> CallSpec:
        headers = (*self.headers, (name, value))
        return CallSpec(self.call, self.method, self.path, self.urls, headers, self.content)


@dataclass(frozen=True, slots=True)
class Send:
    request: httpx.Request
    #: The call's deadline (``clock.monotonic()``): the answer must have arrived by then,
    #: however slowly it trickles in (httpx's timeouts are per socket read).
    deadline: float = math.inf


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


Reply = httpx.Response | BaseException | None
_VIA_PROXY = frozenset(
    {Category.CONNECTION_REFUSED, Category.CONNECT_TIMEOUT, Category.DNS_FAILURE}
)
Steps = Generator[Send | Sleep, Reply, dict[str, Any]]


class TransportCore:
    """Endpoint selection, breakers, retries and events; no I/O (see module docstring)."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        on_event: EventHook | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.on_event = on_event
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.breakers: dict[str, CircuitBreaker] = {}
        self._proxy: str | None = settings.describe()["proxy"]  # credentials stripped
        self._base_headers = {"user-agent": settings.user_agent, "accept": "application/json"}
        for url in (*settings.base_urls, *settings.oauth_urls):
            self.breakers.setdefault(url, CircuitBreaker(clock))

    def deadline(self) -> float:
        return self.clock.monotonic() + self.settings.timeout

    def breaker(self, endpoint: str) -> CircuitBreaker:
        breaker = self.breakers.get(endpoint)
        if breaker is None:
            breaker = self.breakers.setdefault(endpoint, CircuitBreaker(self.clock))
        return breaker

    # -- the loop ---------------------------------------------------------------------

    def run(self, spec: CallSpec, deadline: float | None = None) -> Steps:
        clock, settings = self.clock, self.settings
        deadline = self.deadline() if deadline is None else deadline
        attempt = retries = 0
        tried: set[str] = set()
        reported_open: set[str] = set()
        start = 0
        errors: list[PhonePeError] = []
        while True:
            endpoint, skipped = self._pick(spec, tried, start, reported_open)
            nothing_to_try = endpoint is None and not errors
            for i, url in enumerate(skipped):
                final = nothing_to_try and i == len(skipped) - 1
                self._event(spec, url, attempt + 1, final, None, 0.0, None, "skipped_open_circuit")
            if endpoint is None:
                if nothing_to_try:
                    raise self._circuit_open(spec, attempt)
                decision = decide(
                    errors[-1], retries_used=retries, max_retries=settings.max_retries,
                    more_endpoints=False,
                    remaining=deadline - clock.monotonic(), rng=self.rng,
                )  # fmt: skip
                if decision.action == "stop":
                    raise self._final(errors, spec, attempt, deadline)
                yield Sleep(decision.delay)
                retries, tried, start = retries + 1, set(), 0
                continue
            remaining = deadline - clock.monotonic()
            if remaining <= 0 and errors:
                raise self._final(errors, spec, attempt, deadline)
            attempt += 1
            tried.add(endpoint)
            breaker = self.breaker(endpoint)
            t0 = clock.monotonic()
            reply = yield Send(self._request(spec, endpoint, max(remaining, 0.001)), deadline)
            duration = clock.monotonic() - t0
            error, data, status = self._outcome(reply, spec, endpoint, attempt)
            if error is None:
                breaker.record_success()
                self._event(spec, endpoint, attempt, True, status, duration, None, "ok")
                assert data is not None
                return data
            self._record(breaker, error)
            errors.append(error)
            decision = decide(
                error, retries_used=retries, max_retries=settings.max_retries,
                more_endpoints=self._has_untried(spec, tried),
                remaining=deadline - clock.monotonic(), rng=self.rng,
            )  # fmt: skip
            category = getattr(error, "category", None)
            outcome = "gateway_error" if isinstance(error, GatewayError) else "transport_error"
            final = decision.action == "stop"
            self._event(spec, endpoint, attempt, final, status, duration, category, outcome)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s attempt %d at %s failed (%s); next: %s",
                    spec.call, attempt, endpoint, category or status, decision.action,
                )  # fmt: skip
            if final:
                raise self._final(errors, spec, attempt, deadline)
            if decision.action == "retry":
                yield Sleep(decision.delay)
                retries, tried = retries + 1, set()
                start = (spec.urls.index(endpoint) + 1) if decision.rotate else 0

    # -- pieces ------------------------------------------------------------------------

    def _pick(
        self, spec: CallSpec, tried: set[str], start: int, reported: set[str]
    ) -> tuple[str | None, list[str]]:
        """The next endpoint to try, and the open-circuit ones skipped on the way."""
        skipped: list[str] = []
        urls = spec.urls
        order = [urls[(start + offset) % len(urls)] for offset in range(len(urls))]
        if len(order) > 1:
            # Demoted endpoints (a recent connect failure) go last; sorted() is stable.
            order.sort(key=lambda u: self.breaker(u).demoted)
        for url in order:
            if url in tried:
                continue
            if self.breaker(url).allow():
                return url, skipped
            tried.add(url)
            if url not in reported:
                reported.add(url)
                skipped.append(url)
        return None, skipped

    def _has_untried(self, spec: CallSpec, tried: set[str]) -> bool:
        return any(url not in tried for url in spec.urls)

    def _request(self, spec: CallSpec, endpoint: str, remaining: float) -> httpx.Request:
        s = self.settings
        connect = min(s.connect_timeout, remaining)
        read = min(s.read_timeout, remaining)
        headers = dict(self._base_headers)
        headers.update(spec.headers)
        return httpx.Request(
            spec.method,
            _parsed(endpoint + spec.path),
            headers=headers,
            content=spec.content,
            extensions={"timeout": {"connect": connect, "read": read, "write": read, "pool": read}},
        )

    def _outcome(
        self, reply: Reply, spec: CallSpec, endpoint: str, attempt: int
    ) -> tuple[PhonePeError | None, dict[str, Any] | None, int | None]:
        if isinstance(reply, httpx.Response):
            try:
                data = read_response(
                    reply.status_code, reply.headers, reply.content,
                    call=spec.call, endpoint=endpoint, attempts=attempt,
                )  # fmt: skip
            except (GatewayError, TransportError) as exc:
                return exc, None, reply.status_code
            return None, data, reply.status_code
        assert isinstance(reply, BaseException)
        failure = classify_exception(reply)
        category, where, detail = failure.category, endpoint, failure.detail
        if isinstance(reply, httpx.PoolTimeout):
            detail = (
                f"every pooled connection stayed busy; raise PHONEPE_CONNECTION_POOL_SIZE "
                f"(now {self.settings.connection_pool_size}) or lower the concurrency"
            )
        if self._proxy and category in _VIA_PROXY:
            # Behind a proxy every connect-phase failure is the proxy's: we only ever
            # connect to it (it resolves and connects to PhonePe for us).
            category, where = Category.PROXY_ERROR, f"{endpoint} via proxy {self._proxy}"
        error = TransportError(
            f"{spec.call}: {category.value} at {where} ({detail})",
            category=category, request_sent=failure.request_sent,
            endpoint=endpoint, attempts=attempt, call=spec.call,
        )  # fmt: skip
        error.__cause__ = reply
        return error, None, None

    def _record(self, breaker: CircuitBreaker, error: PhonePeError) -> None:
        if isinstance(error.__cause__, httpx.PoolTimeout):
            # Our own pool was exhausted: says nothing about the endpoint.
            breaker.release()
        elif isinstance(error, TransportError) and error.category in NOT_SENT_CATEGORIES:
            breaker.record_connect_failure()
        elif isinstance(error, GatewayError):
            breaker.record_success()
        else:
            breaker.release()

    def _event(
        self, spec: CallSpec, endpoint: str, attempt: int, final: bool, status: int | None,
        duration: float, category: Category | None, outcome: Any,
    ) -> None:  # fmt: skip
        if self.on_event is None:
            return
        emit(
            self.on_event,
            CallEvent(spec.call, spec.method, endpoint, spec.path.split("?", 1)[0], attempt,
                      final, status, duration, category, outcome),
        )  # fmt: skip

    # -- final errors ------------------------------------------------------------------

    def _circuit_open(self, spec: CallSpec, attempt: int) -> CircuitOpenError:
        cooldown = max((self.breaker(u).cooldown for u in spec.urls), default=0.0)
        return CircuitOpenError(
            f"{spec.call}: not attempted: every endpoint ({', '.join(spec.urls)}) failed to "
            f"connect repeatedly and is paused for up to {cooldown:g} s (circuit open). Nothing "
            "was sent. Fix connectivity (`phonepe doctor` says what is wrong) or try again later.",
            category=Category.CONNECTION_REFUSED, request_sent=False,
            endpoint=spec.urls[-1] if spec.urls else None, attempts=attempt, call=spec.call,
        )  # fmt: skip

    def _final(
        self, errors: list[PhonePeError], spec: CallSpec, attempts: int, deadline: float
    ) -> PhonePeError:
        last = errors[-1]
        maybe_sent = any(getattr(e, "request_sent", False) for e in errors[:-1])
        out_of_time = deadline - self.clock.monotonic() <= 0
        if isinstance(last, GatewayError):
            last.attempts = attempts
            last.details["after_maybe_sent"] = maybe_sent
            return last
        assert isinstance(last, TransportError)
        sent = maybe_sent or last.request_sent
        message = self._transport_message(errors, spec, attempts, sent, out_of_time)
        error = TransportError(
            message, category=last.category, request_sent=sent,
            endpoint=last.endpoint, attempts=attempts, call=spec.call,
        )  # fmt: skip
        error.__cause__ = last.__cause__
        return error

    def _transport_message(
        self, errors: list[PhonePeError], spec: CallSpec, attempts: int, sent: bool, late: bool
    ) -> str:
        last = errors[-1]
        assert isinstance(last, TransportError)
        categories = {e.category for e in errors if isinstance(e, TransportError)}
        endpoints = sorted(
            {e.endpoint for e in errors if isinstance(e, TransportError) and e.endpoint}
        )
        where = (
            f"{last.endpoint}"
            if len(endpoints) <= 1
            else f"{len(endpoints)} endpoints, last {last.endpoint}"
        )
        head = f"{spec.call} failed: {last.category.value} ({where}; {attempts} attempt{'s' * (attempts != 1)}"
        head += f", stopped at PHONEPE_TIMEOUT={self.settings.timeout:g}s)" if late else ")"
        todo = remedy(
            last.category, env=self.settings.env, hosts=_hosts(spec.urls),
            ports=_ports(spec.urls), proxy=self._proxy,
            every_endpoint=categories == {last.category} and set(spec.urls) <= set(endpoints),
        )  # fmt: skip
        state = (
            "The request may have reached the gateway: the outcome is UNKNOWN, never mark it "
            "failed; reconcile it with the status API."
            if sent
            else "Nothing reached the gateway; it is safe to retry."
        )
        return f"{head}: {last.message.partition(': ')[2] or last.message}. {todo} {state}"


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> httpx.URL:
    """``url`` parsed once: httpx's parser is ~15 % of a call's CPU, and a client sends to
    a handful of URLs (each status read of an order polls the same one). URLs are immutable."""
    return httpx.URL(url)


def _hosts(urls: tuple[str, ...]) -> str:
    """The destinations of ``urls`` as ``host:port``, each once, in order."""
    netlocs = []
    for url in urls:
        parts = urlsplit(url)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        netloc = f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        if netloc not in netlocs:
            netlocs.append(netloc)
    return ", ".join(netlocs)


def _ports(urls: tuple[str, ...]) -> str:
    """The destination port(s) of ``urls``: "443", or "443/8443" when they differ."""
    ports = []
    for url in urls:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if str(port) not in ports:
            ports.append(str(port))
    return "/".join(ports)
