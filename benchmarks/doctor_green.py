"""The everyday case of ``phonepe doctor``: everything healthy (the local sandbox).

    .venv/bin/python benchmarks/doctor_green.py [--runs 20]

Every check runs, including the credential check (an OAuth token plus a status call
through the real client). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import statistics
import time

from phonepe_gateway import Settings
from phonepe_gateway.doctor import run_diagnostics
from phonepe_gateway.sandbox.testing import serve_sandbox


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    timings = []
    with serve_sandbox() as sandbox:
        settings = Settings.build(env="local", local_url=sandbox.url)
        for _ in range(args.runs):
            started = time.perf_counter()
            report = run_diagnostics(settings)
            timings.append((time.perf_counter() - started) * 1000)
            assert report.ok, report.to_dict()
    print(
        f"{args.runs} healthy runs against the local sandbox ({len(report.checks)} checks): "
        f"min {min(timings):.0f} ms, median {statistics.median(timings):.0f} ms, "
        f"max {max(timings):.0f} ms"
    )


if __name__ == "__main__":
    main()
