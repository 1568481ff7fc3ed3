"""One way to time a call's CPU, shared by the benchmarks that compare callers."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["cpu_per_call"]


def cpu_per_call(fn: Callable[[], object], calls: int, warmup: int = 50) -> float:
    """Seconds of this process's CPU per call of ``fn``, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    started = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - started) / calls
