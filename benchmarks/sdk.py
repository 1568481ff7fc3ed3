"""CPU per call: this package's ``PhonePeClient`` against PhonePe's official Python SDK.

Both talk to the same local sandbox (``phonepe sandbox`` in its own process, on the other
CPU when there is one), in the same run, alternating rounds: a standard-checkout pay and an
order-status read, each timed with ``time.process_time`` of the caller's process over
``--calls`` calls after a warm-up (token fetched, connection open). The SDK runs under the
python of its own virtualenv (``scripts/official-sdk-venv.sh``, ``.venv-sdk``; or
``PHONEPE_SDK_PYTHON``), pointed at the sandbox the way ``tests/official_sdk`` does: only
its base-URL constants change, telemetry is off and every request is checked to stay on
loopback. Skipped, with a line saying so, when that virtualenv is missing.

    .venv/bin/python benchmarks/sdk.py [--calls 500] [--rounds 3]

Bounded (about 30 s), loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from phonepe_gateway import PhonePeClient

try:  # run as a script (python benchmarks/sdk.py) or as a module (make bench)
    from wire import cpu_per_call, sandbox
except ImportError:
    from benchmarks.wire import cpu_per_call, sandbox

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID, CLIENT_SECRET = "BENCHSDKCLIENT", "bench-sdk-secret-1"

_SDK_SCRIPT = r"""
import json, sys, time, urllib.parse
sandbox, client_id, client_secret, calls, tag = sys.argv[1:6]
calls = int(calls)
uat = sandbox + "/apis/pg-sandbox"
from phonepe.sdk.pg.common.constants import base_urls
for name in dir(base_urls):
    if name.endswith("_BASE_URL"):
        setattr(base_urls, name, uat)
import requests
real_send = requests.Session.send
def loopback_only(session, request, **kwargs):
    if urllib.parse.urlsplit(request.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError("only loopback is allowed")
    return real_send(session, request, **kwargs)
requests.Session.send = loopback_only
from phonepe.sdk.pg.env import Env
from phonepe.sdk.pg.payments.v2.models.request.standard_checkout_pay_request import (
    StandardCheckoutPayRequest,
)
from phonepe.sdk.pg.payments.v2.standard_checkout_client import StandardCheckoutClient
client = StandardCheckoutClient.get_instance(
    client_id=client_id, client_secret=client_secret, client_version=1,
    env=Env.SANDBOX, should_publish_events=False,
)
n = [0]
def pay():
    n[0] += 1
    request = StandardCheckoutPayRequest.build_request(
        merchant_order_id=f"SDK{tag}{n[0]}", amount=1000, redirect_url="http://127.0.0.1:9/r"
    )
    return client.pay(request)
first = pay()
order = f"SDK{tag}1"
def status():
    return client.get_order_status(order)
def cpu(fn, count):
    for _ in range(20):
        fn()
    started = time.process_time()
    for _ in range(count):
        fn()
    return (time.process_time() - started) / count * 1e6
print(json.dumps({"pay": cpu(pay, calls), "status": cpu(status, calls)}))
"""


def sdk_python() -> Path | None:
    configured = os.environ.get("PHONEPE_SDK_PYTHON")
    path = Path(configured) if configured else ROOT / ".venv-sdk" / "bin" / "python"
    return path if path.is_file() else None


def ours(url: str, calls: int) -> dict[str, float]:
    with PhonePeClient(
        env="local", local_url=url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    ) as client:
        order = client.create_payment(amount=1000).merchant_order_id

        return {
            "pay": cpu_per_call(lambda: client.create_payment(amount=1000), calls),
            "status": cpu_per_call(lambda: client.get_order_status(order), calls),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    python = sdk_python()
    if python is None:
        print("skipped: no official-SDK virtualenv (scripts/official-sdk-venv.sh builds .venv-sdk)")
        return 0
    results: dict[str, list[float]] = {}
    options = ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    with sandbox(options) as url:
        for round_ in range(args.rounds):
            done = subprocess.run(
                [str(python), "-c", _SDK_SCRIPT, url, CLIENT_ID, CLIENT_SECRET,
                 str(args.calls), f"R{round_}T{int(time.time())}"],
                capture_output=True, text=True, check=False, timeout=300,
                env={"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1,localhost"},
            )  # fmt: skip
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                raise RuntimeError("the official SDK's run failed")
            theirs = json.loads(done.stdout.strip().splitlines()[-1])
            mine = ours(url, args.calls)
            for call in ("pay", "status"):
                results.setdefault(f"sdk {call}", []).append(theirs[call])
                results.setdefault(f"ours {call}", []).append(mine[call])
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"CPU per call in microseconds, median of {args.rounds} alternating rounds:")
    for call, label in (("pay", "standard-checkout pay"), ("status", "order status")):
        mine, theirs = medians[f"ours {call}"], medians[f"sdk {call}"]
        print(
            f"  {label:22s} PhonePeClient {mine:7.1f}   official SDK {theirs:7.1f}   "
            f"= {theirs / mine:.2f}x cheaper"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
