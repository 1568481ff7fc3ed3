"""How fast is the local sandbox? Status calls per second and the full-flow time.

* **Status throughput**: the sandbox runs as ``phonepe sandbox`` (one uvicorn worker,
  httptools + uvloop) in its own process; a load process keeps ``--connections``
  keep-alive loopback connections busy with ``GET /checkout/v2/order/{id}/status``
  for ``--duration`` seconds (raw asyncio sockets, so the load generator costs far
  less CPU than the server). Target: >= 2,000 calls/s.
* **Full flow**: token -> pay -> complete -> status -> refund -> refund status ->
  webhook authorization check, sequential on one keep-alive ``httpx.Client``; the
  median of ``--flows`` runs, and the same flow through the project's
  ``PhonePeClient``. Target: <= 10 ms.

    .venv/bin/python benchmarks/sandbox.py [--duration 5] [--connections 16] [--flows 200]

Bounded (about 15 s), loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CREDENTIALS = {
    "client_id": "PGSANDBOXCLIENT",
    "client_secret": "sandbox-client-secret",
    "client_version": "1",
    "grant_type": "client_credentials",
}
PREFIX = "/apis/pg-sandbox"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sandbox_process() -> Iterator[tuple[str, int]]:
    """``phonepe sandbox`` in a subprocess (the real CLI, one worker): (url, pid)."""
    port = _free_port()
    phonepe = str(Path(sys.executable).with_name("phonepe"))
    command = [phonepe, "sandbox", "--port", str(port), "--refund-settlement-delay", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/_sandbox", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.05)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _token(client: httpx.Client) -> str:
    token: str = client.post(PREFIX + "/v1/oauth/token", data=CREDENTIALS).json()["access_token"]
    return token


def _pay(client: httpx.Client, moid: str) -> httpx.Response:
    return client.post(
        PREFIX + "/checkout/v2/pay",
        json={
            "merchantOrderId": moid,
            "amount": 10_000,
            "paymentFlow": {
                "type": "PG_CHECKOUT",
                "merchantUrls": {"redirectUrl": "http://127.0.0.1:9/back"},
            },
        },
    )


# -- status throughput ------------------------------------------------------------------


async def _connection(port: int, request: bytes, stop_at: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.monotonic() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


def _load(
    port: int,
    request: bytes,
    connections: int,
    duration: float,
    out: multiprocessing.Queue[tuple[int, float]],
) -> None:
    async def run() -> tuple[int, float]:
        started = time.monotonic()
        counts = await asyncio.gather(
            *(_connection(port, request, started + duration) for _ in range(connections))
        )
        return sum(counts), time.monotonic() - started

    out.put(asyncio.run(run()))


def status_throughput(url: str, pid: int, connections: int, duration: float) -> tuple[float, float]:
    """(calls per wall second, calls per server CPU second)."""
    with httpx.Client(base_url=url) as client:
        token = _token(client)
        client.headers["Authorization"] = f"O-Bearer {token}"
        _pay(client, "bench-status").raise_for_status()
        client.post("/_sandbox/orders/bench-status/complete").raise_for_status()
    port = int(url.rsplit(":", 1)[1])
    request = (
        f"GET {PREFIX}/checkout/v2/order/bench-status/status?details=false HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nAuthorization: O-Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[int, float]] = ctx.Queue()
    worker = ctx.Process(target=_load, args=(port, request, connections, duration, queue))
    worker.start()
    cpu_before = cpu_seconds(pid)
    count, elapsed = queue.get(timeout=duration + 30)
    cpu_used = cpu_seconds(pid) - cpu_before
    worker.join()
    return count / elapsed, count / max(cpu_used, 1e-9)


# -- full flow ------------------------------------------------------------------------------


def raw_flow(client: httpx.Client, n: int) -> None:
    token = _token(client)
    headers = {"Authorization": f"O-Bearer {token}"}
    moid = f"flow-{os.getpid()}-{n}"
    client.post(
        PREFIX + "/checkout/v2/pay",
        headers=headers,
        json={
            "merchantOrderId": moid,
            "amount": 10_000,
            "paymentFlow": {"type": "PG_CHECKOUT"},
        },
    ).raise_for_status()
    client.post(f"/_sandbox/orders/{moid}/complete").raise_for_status()
    status = client.get(f"{PREFIX}/checkout/v2/order/{moid}/status", headers=headers).json()
    assert status["state"] == "COMPLETED"
    client.post(
        PREFIX + "/payments/v2/refund",
        headers=headers,
        json={
            "merchantRefundId": moid + "-r",
            "originalMerchantOrderId": moid,
            "amount": 100,
        },
    ).raise_for_status()
    refund = client.get(f"{PREFIX}/payments/v2/refund/{moid}-r/status", headers=headers).json()
    assert refund["state"] in {"PENDING", "COMPLETED"}
    expected = hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()
    assert len(expected) == 64  # what a receiver compares the Authorization header with


def client_flows(url: str, runs: int) -> tuple[list[float], list[float]]:
    """The flow through ``PhonePeClient``: a new client (so a new token) per run.

    Returns (flow times, construction times) in ms; construction is timed apart
    because it is the client's one-off set-up (httpx builds an SSL context), not
    the flow.
    """
    from phonepe_gateway import PhonePeClient

    flows, builds = [], []
    auth = hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()
    with httpx.Client(base_url=url) as control:
        for _ in range(runs):
            started = time.perf_counter()
            client = PhonePeClient(env="local", local_url=url)
            builds.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with client:
                created = client.create_payment(amount=10_000)
                moid = created.merchant_order_id
                control.post(f"/_sandbox/orders/{moid}/complete").raise_for_status()
                assert client.get_order_status(moid).state == "COMPLETED"
                refund = client.refund(original_merchant_order_id=moid, amount=100)
                client.get_refund_status(refund.merchant_refund_id)
                body = json.dumps(
                    {
                        "event": "checkout.order.completed",
                        "payload": {
                            "merchantOrderId": moid,
                            "state": "COMPLETED",
                            "amount": 10_000,
                        },
                    }
                ).encode()
                client.verify_webhook({"Authorization": auth}, body)
            flows.append((time.perf_counter() - started) * 1000)
    return flows, builds


def timed(fn: Callable[[int], None], runs: int) -> list[float]:
    times = []
    for n in range(runs):
        started = time.perf_counter()
        fn(n)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _line(name: str, times: list[float], target: float | None) -> str:
    median = statistics.median(times)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    verdict = (
        ""
        if target is None
        else (f"   target <= {target:g} ms   {'ok' if median <= target else 'MISSED'}")
    )
    return f"{name}: median {median:.2f} ms, p95 {p95:.2f} ms ({len(times)} runs){verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--flows", type=int, default=200)
    args = parser.parse_args()
    with sandbox_process() as (url, pid):
        rate, per_cpu = status_throughput(url, pid, args.connections, args.duration)
        with httpx.Client(base_url=url) as client:
            raw_flow(client, -1)  # warm up
            server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
            raw = timed(lambda n: raw_flow(client, n), args.flows)
            server_ms = (cpu_seconds(pid) - server_cpu) * 1000 / args.flows
            client_ms = (time.process_time() - client_cpu) * 1000 / args.flows
        ours, builds = client_flows(url, max(20, args.flows // 4))
    print(
        f"status calls/s (1 worker, {args.connections} conns, {args.duration:g} s): "
        f"{rate:,.0f}   target >= 2,000   {'ok' if rate >= 2000 else 'MISSED'}"
    )
    print(f"status calls per server CPU-second (what one free core sustains): {per_cpu:,.0f}")
    print(_line("full flow, httpx keep-alive", raw, 10))
    print(
        f"  CPU per flow: sandbox {server_ms:.2f} ms + client {client_ms:.2f} ms "
        "(the flow's floor on an idle machine)"
    )
    print(_line("full flow, PhonePeClient (new client + token each run)", ours, 10))
    print(_line("  PhonePeClient construction (not in the flow)", builds, None))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, cpus: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
