"""What failover costs: healthy vs refused vs black-holed primary, and client CPU overhead.

Against a loopback PhonePe stand-in (uvicorn in a subprocess, so its CPU is not
counted as the client's), with a second base URL that is healthy:

* healthy: first call of a new client (token + status on fresh connections) and
  steady state;
* refused primary (a closed loopback port): first call and steady state;
* black-holed primary (a listener with a full accept queue; SYNs are dropped) with a
  1 s connect timeout: first call and steady state;
* client CPU per status call vs a bare ``httpx.Client.get(...).json()`` to the same
  server (``time.process_time``, the whole process; three alternating rounds, best
  of each, because the machine is shared).

    .venv/bin/python benchmarks/failover.py [--calls 400] [--firsts 15]

Bounded (about 20 s), loopback only; prints a table with the issue's targets.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from phonepe_gateway import PhonePeClient, Settings

try:  # run as a script (python benchmarks/failover.py) or as a module (make bench)
    from _timing import cpu_per_call
except ImportError:
    from benchmarks._timing import cpu_per_call
from phonepe_gateway._wire import StdlibTransport

SERVER = r"""
import json, socket, sys, time
import uvicorn

TOKEN = json.dumps({"access_token": "bench-token-0123456789", "token_type": "O-Bearer",
                    "expires_at": int(time.time()) + 86400}).encode()
STATUS = json.dumps({"merchantId": "M", "merchantOrderId": "bench-1", "orderId": "OMO1",
                     "state": "COMPLETED", "amount": 10000, "expireAt": 1750001200000,
                     "paymentDetails": [{"transactionId": "T1", "paymentMode": "UPI_QR",
                                         "timestamp": 1750000000000, "amount": 10000,
                                         "state": "COMPLETED"}]}).encode()

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    body = TOKEN if scope["path"].endswith("/v1/oauth/token") else STATUS
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
uvicorn.Server(config).run(sockets=[sock])
"""

PREFIX = "/apis/pg"


@contextmanager
def server() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(url + "/ping", trust_env=False)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url + PREFIX
    finally:
        proc.terminate()
        proc.wait(5)


def refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}{PREFIX}"


@contextmanager
def blackhole() -> Iterator[str]:
    """A listener with listen(0) whose accept queue is filled by never-accepted connects."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        while True:
            probe = socket.socket()
            probe.settimeout(0.1)
            try:
                probe.connect(("127.0.0.1", port))
            except TimeoutError:
                probe.close()
                if fillers:  # the queue is full: this SYN was dropped
                    break
                continue
            fillers.append(probe)
        yield f"http://127.0.0.1:{port}{PREFIX}"
    finally:
        for f in fillers:
            f.close()
        listener.close()


def settings(*urls: str, connect_timeout: float = 1.0) -> Settings:
    return Settings.build(
        env="production",
        client_id="BENCHCLIENT",
        client_secret="bench-secret-value",
        base_urls=",".join(urls),
        connect_timeout=connect_timeout,
        read_timeout=5,
        timeout=30,
    )


def first_call(s: Settings) -> float:
    with PhonePeClient(s) as client:
        t0 = time.perf_counter()
        client.get_order_status("bench-1")
        return time.perf_counter() - t0


def steady(s: Settings, calls: int) -> list[float]:
    with PhonePeClient(s) as client:
        for _ in range(20):
            client.get_order_status("bench-1")
        out = []
        for _ in range(calls):
            t0 = time.perf_counter()
            client.get_order_status("bench-1")
            out.append(time.perf_counter() - t0)
        return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--firsts", type=int, default=15)
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with server() as good:
        healthy = settings(good)
        first_call(healthy)  # warm-up: imports, first model validation, server caches
        refused = settings(refused_url(), good)
        # Interleaved, so both see the same machine load.
        h_firsts, r_firsts = [], []
        for _ in range(args.firsts):
            h_firsts.append(first_call(healthy))
            r_firsts.append(first_call(refused))
        h_first, r_first = statistics.median(h_firsts), statistics.median(r_firsts)
        h_steady = statistics.median(steady(healthy, args.calls))
        rows.append(("healthy", ms(h_first), ms(h_steady), "-"))

        r_steady = statistics.median(steady(refused, args.calls))
        ok = r_first <= h_first + 0.005 and r_steady <= h_steady + 0.001
        rows.append(
            (
                "refused primary",
                ms(r_first),
                ms(r_steady),
                f"first <= healthy+5 ms, steady <= healthy+1 ms: {'MET' if ok else 'MISSED'}",
            )
        )

        with blackhole() as hole:
            dropped = settings(hole, good, connect_timeout=1.0)
            b_first = statistics.median(first_call(dropped) for _ in range(3))
            b_steady = statistics.median(steady(dropped, args.calls))
        ok = b_first <= 1.0 + 0.5 and b_steady <= h_steady + 0.002
        rows.append(
            (
                "black-holed primary (1 s connect timeout)",
                ms(b_first),
                ms(b_steady),
                f"first <= 1.5 s, steady <= healthy+2 ms: {'MET' if ok else 'MISSED'}",
            )
        )

        calls = args.calls * 5
        with PhonePeClient(healthy) as client, httpx.Client(trust_env=False) as bare:
            url = good + "/checkout/v2/order/bench-1/status?details=false"
            headers = {"authorization": "O-Bearer bench-token-0123456789"}
            # Alternate rounds so both see the same machine load; keep each side's best.
            ours_rounds, theirs_rounds, floor_rounds = [], [], []
            # The floor is the client's own wire (the sync client's default transport).
            with StdlibTransport(pool_size=10) as raw:

                def floor() -> Any:
                    response = raw.handle_request(httpx.Request("GET", url, headers=headers))
                    response.read()
                    response.close()
                    return response.json()

                for _ in range(3):
                    ours_rounds.append(
                        cpu_per_call(lambda: client.get_order_status("bench-1"), calls)
                    )
                    theirs_rounds.append(
                        cpu_per_call(lambda: bare.get(url, headers=headers).json(), calls)
                    )
                    floor_rounds.append(cpu_per_call(floor, calls))
            ours, theirs, bottom = min(ours_rounds), min(theirs_rounds), min(floor_rounds)
    ratio = ours / theirs
    print(f"{'scenario':<44} {'first call':>12} {'steady (median)':>16}  target")
    for name, first, steady_ms, target in rows:
        print(f"{name:<44} {first:>12} {steady_ms:>16}  {target}")
    print(
        f"\nclient CPU per status call: {ours * 1e6:.0f} µs (PhonePeClient, parsed to OrderStatus) vs "
        f"{theirs * 1e6:.0f} µs (bare httpx get + .json()) = {ratio:.2f}x "
        f"(target <= 1.10x: {'MET' if ratio <= 1.10 else 'MISSED'})"
    )
    print(
        f"floor: the same request straight on the client's wire (StdlibTransport) + .json(): "
        f"{bottom * 1e6:.0f} µs; "
        f"this package's own work (validation, failover loop, typed parse): "
        f"{(ours - bottom) * 1e6:.0f} µs per call"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
