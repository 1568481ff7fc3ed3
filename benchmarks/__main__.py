"""Run every benchmark module in this package that exists (``make bench``).

Known ones first (failover, sandbox, service), then any other ``benchmarks/*.py``
with a ``main()``. Each runs with no arguments (its defaults); exits non-zero if
one fails, after running the rest.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

FIRST = ("failover", "sandbox", "service")


def modules() -> list[str]:
    found = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]))
    found = [m for m in found if not m.startswith("_")]
    return [m for m in FIRST if m in found] + [m for m in found if m not in FIRST]


def run() -> int:
    failed: list[str] = []
    saved_argv = sys.argv
    for name in modules():
        module = importlib.import_module(f"benchmarks.{name}")
        entry = getattr(module, "main", None)
        if entry is None:
            continue
        print(f"\n=== benchmarks/{name}.py", flush=True)
        sys.argv = [f"benchmarks/{name}.py"]
        started = time.monotonic()
        try:
            result = entry()
        except Exception as exc:  # keep going; report at the end
            print(f"!!! {name} failed: {type(exc).__name__}: {exc}", flush=True)
            failed.append(name)
            continue
        finally:
            sys.argv = saved_argv
        if isinstance(result, int) and result != 0:
            failed.append(name)
        print(f"=== {name}: {time.monotonic() - started:.1f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run())
