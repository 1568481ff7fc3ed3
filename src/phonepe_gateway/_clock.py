"""Injectable time: every timeout, backoff, breaker cool-down and token expiry reads it.

Production code uses :class:`SystemClock`; tests pass a :class:`FakeClock` whose
``sleep`` advances time instead of waiting, so no test ever sleeps. This module
never touches the network.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What the client needs from time: a monotonic counter, wall time and sleeping."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (``time.monotonic``, ``time.time``, ``time.sleep``, ``asyncio.sleep``)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A clock that only moves when told to (or when someone sleeps on it).

    ``sleeps`` records every requested sleep so tests can assert on backoff.
    Thread-safe, so it can be shared by the threads of a concurrency test.
    """

    def __init__(self, *, start: float = 1_000.0, wall: float = 1_750_000_000.0) -> None:
        self._lock = threading.Lock()
        self._mono = start
        self._offset = wall - start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def time(self) -> float:
        with self._lock:
            return self._mono + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._mono += max(seconds, 0.0)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
        self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"FakeClock(monotonic={self._mono:.3f})"


#: The process-wide default.
SYSTEM_CLOCK = SystemClock()
