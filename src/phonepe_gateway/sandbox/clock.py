"""The sandbox clock: one source of time for expiry, settlement, tokens and webhook retries.

Time runs at ``speed`` sandbox seconds per real second and can be pushed forward with
:meth:`SandboxClock.advance`. Values are epoch seconds (float). It never goes backwards
and never sleeps; whoever waits on it asks :meth:`real_delay` how long to wait for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["SandboxClock"]


class SandboxClock:
    def __init__(
        self,
        speed: float = 1.0,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError("clock speed must be positive")
        self._speed = speed
        self._wall = wall
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._start_wall = wall()
        self._start_mono = monotonic()
        self._offset = 0.0
        self._listeners: list[Callable[[], None]] = []

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        """Sandbox time in epoch seconds."""
        elapsed = self._monotonic() - self._start_mono
        return self._start_wall + elapsed * self._speed + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> float:
        """Jump forward ``seconds`` sandbox seconds; wakes whoever waits on due work."""
        if seconds < 0:
            raise ValueError("the sandbox clock never goes backwards")
        with self._lock:
            self._offset += seconds
        for listener in list(self._listeners):
            listener()
        return self.now()

    def reset(self) -> None:
        """Back to real time (times speed) from now; used by ``/_sandbox/reset``."""
        with self._lock:
            self._start_wall = self._wall()
            self._start_mono = self._monotonic()
            self._offset = 0.0

    def real_delay(self, until: float) -> float:
        """Real seconds until sandbox time ``until`` (0 when already due)."""
        return max(0.0, (until - self.now()) / self._speed)

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
