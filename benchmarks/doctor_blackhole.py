"""Worst case of ``phonepe doctor``: every endpoint black-holed. How long does it take?

Two loopback listeners with full accept queues drop every SYN (as a firewall DROP rule
does), so each TCP connect waits the whole connect timeout. Probes run in parallel,
so the run should end just after one connect timeout, not one per endpoint.

    .venv/bin/python benchmarks/doctor_blackhole.py [--runs 5] [--connect-timeout 1.0]

Prints one line per run and a summary; record the summary in docs/BENCHMARKS.md.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import select
import socket
import statistics
import time

from phonepe_gateway import Settings
from phonepe_gateway.doctor import Verdict, run_diagnostics


def blackhole(stack: contextlib.ExitStack) -> int:
    listener = stack.enter_context(socket.socket())
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    for _ in range(64):
        filler = stack.enter_context(socket.socket())
        filler.setblocking(False)
        if filler.connect_ex(("127.0.0.1", port)) == 0:
            continue
        if not select.select([], [filler], [], 0.3)[1]:
            return port
    raise SystemExit("could not fill the accept queue")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--connect-timeout", type=float, default=1.0)
    parser.add_argument("--endpoints", type=int, default=2)
    args = parser.parse_args()
    timings = []
    with contextlib.ExitStack() as stack:
        urls = [f"http://127.0.0.1:{blackhole(stack)}" for _ in range(args.endpoints)]
        settings = Settings.build(env="local", base_urls=urls, connect_timeout=args.connect_timeout)
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            report = run_diagnostics(settings)
            took = time.perf_counter() - started
            timings.append(took)
            tcp = [c for c in report.checks if c.name.startswith("tcp ")]
            assert [c.category for c in tcp] == [Verdict.CONNECT_TIMEOUT] * args.endpoints
            print(f"run {run}: {took:.3f} s ({len(tcp)} endpoints timed out)")
    budget = args.connect_timeout + 1.0
    print(
        f"{args.endpoints} black-holed endpoints, connect timeout {args.connect_timeout:g} s: "
        f"min {min(timings):.3f} s, median {statistics.median(timings):.3f} s, "
        f"max {max(timings):.3f} s (budget {budget:g} s: "
        f"{'within' if max(timings) <= budget else 'OVER'})"
    )


if __name__ == "__main__":
    main()
