"""A circuit breaker per endpoint, so later calls skip a dead endpoint at no cost.

Hand-written because the libraries that exist (pybreaker, aiobreaker, circuitbreaker)
are either sync-only or async-only, read the wall clock, and count every exception;
this one is shared by the sync and async transports, takes an injected clock and
counts only *connect* failures (a slow or erroring gateway is not a dead endpoint).

States: CLOSED (calls pass) -> OPEN after ``threshold`` consecutive connect
failures (calls skip it) -> after ``cooldown`` seconds one caller gets a HALF_OPEN
probe (others keep skipping) -> success closes, failure re-opens. It never sleeps.

Before it opens, a CLOSED endpoint whose last attempt failed to connect is
*demoted* for ``cooldown`` seconds: the transport tries the other endpoints first
and this one only if they fail. So one refused or black-holed connect is paid
once, not by every following call, while a single-endpoint setup is never locked
out by one blip.
"""

from __future__ import annotations

import threading
from enum import StrEnum

from ._clock import Clock

__all__ = ["BreakerState", "CircuitBreaker"]

DEFAULT_THRESHOLD = 3
DEFAULT_COOLDOWN = 30.0


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        clock: Clock,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        cooldown: float = DEFAULT_COOLDOWN,
    ) -> None:
        self._clock = clock
        self.threshold = threshold
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._failed_at: float | None = None
        self._probe_started: float | None = None

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probe_started is not None:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def demoted(self) -> bool:
        """Closed, but the last connect failed less than ``cooldown`` ago: try others first."""
        with self._lock:
            return (
                self._opened_at is None
                and self._failed_at is not None
                and self._clock.monotonic() - self._failed_at < self.cooldown
            )

    def allow(self) -> bool:
        """May a request go to this endpoint now? Claims the half-open probe if due."""
        with self._lock:
            if self._opened_at is None:
                return True
            now = self._clock.monotonic()
            if self._probe_started is not None:
                # A probe that never reported back (its caller died) must not wedge the breaker.
                if now - self._probe_started < self.cooldown:
                    return False
            elif now - self._opened_at < self.cooldown:
                return False
            self._probe_started = now
            return True

    def record_success(self) -> None:
        """The endpoint answered (any HTTP status): close the circuit."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._failed_at = None
            self._probe_started = None

    def record_connect_failure(self) -> None:
        """The endpoint could not be reached (refused, DNS, connect timeout, TLS, proxy)."""
        with self._lock:
            self._failures += 1
            self._failed_at = self._clock.monotonic()
            if self._probe_started is not None or self._failures >= self.threshold:
                self._opened_at = self._clock.monotonic()
                self._probe_started = None

    def release(self) -> None:
        """An attempt ended without telling anything about reachability (e.g. read timeout)."""
        with self._lock:
            if self._probe_started is not None:
                # Reached but slow: the endpoint is up, stop probing and close.
                self._failures = 0
                self._opened_at = None
                self._failed_at = None
                self._probe_started = None

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state.value}, failures={self._failures})"
