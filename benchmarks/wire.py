"""The sync client's wire: CPU per exchange, ``_wire.StdlibTransport`` against httpx's.

Against the real local sandbox (``phonepe sandbox`` in its own process, pinned to another
CPU when there is one, so its CPU is not counted), in one run and alternating rounds:

* one exchange (``GET`` of an order's status, body read, connection kept alive) through
  a bare ``http.client.HTTPConnection`` (the floor), ``StdlibTransport``,
  ``httpx.HTTPTransport`` and urllib3's ``PoolManager`` behind the same httpx transport
  interface (the other well-kept pool; skipped when urllib3 is not installed);
* the whole client: ``PhonePeClient.create_payment`` and ``get_order_status`` on the
  default wire and with ``httpx.HTTPTransport`` injected (what the client used before).

CPU is ``time.process_time`` of this process per call; the figures to read are the
ratios, each from the same round.

    .venv/bin/python benchmarks/wire.py [--calls 2000] [--rounds 3]

Bounded (about 20 s), loopback only.
"""

from __future__ import annotations

import argparse
import http.client
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

from phonepe_gateway import PhonePeClient

try:  # run as a script (python benchmarks/wire.py) or as a module (make bench)
    from _timing import cpu_per_call as _seconds_per_call
except ImportError:
    from benchmarks._timing import cpu_per_call as _seconds_per_call

PHONEPE = str(Path(sys.executable).with_name("phonepe"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def sandbox(options: list[str] | None = None) -> Iterator[str]:
    """``phonepe sandbox`` (with ``options``) on the last CPU, this process on the first."""
    port = _free_port()
    command = [PHONEPE, "sandbox", "--port", str(port), *(options or [])]
    if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) > 1:
        cpus = sorted(os.sched_getaffinity(0))
        command = ["taskset", "-c", str(cpus[-1]), *command]
        os.sched_setaffinity(0, {cpus[0]})
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/_sandbox/orders", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    raise RuntimeError("the sandbox exited") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


class Urllib3Transport(httpx.BaseTransport):
    """urllib3's pool behind httpx's transport interface: the baseline for "why not urllib3"."""

    def __init__(self) -> None:
        import urllib3

        self._urllib3 = urllib3
        self._pool = urllib3.PoolManager(maxsize=10, retries=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        answer = self._pool.urlopen(
            request.method,
            str(request.url),
            body=request.content or None,
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw},
            redirect=False,
            preload_content=False,
            decode_content=False,
            timeout=self._urllib3.Timeout(connect=timeout.get("connect"), read=timeout.get("read")),
        )

        class Body(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                yield from answer.stream(65_536, decode_content=False)

            def close(self) -> None:
                answer.release_conn()

        return httpx.Response(answer.status, headers=list(answer.headers.items()), stream=Body())

    def close(self) -> None:
        self._pool.clear()


def cpu_per_call(fn: Callable[[], object], calls: int) -> float:
    """Microseconds of CPU per call."""
    return _seconds_per_call(fn, calls) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with sandbox() as url:
        host, port = url.removeprefix("http://").split(":")
        with PhonePeClient(env="local", local_url=url) as setup:
            order = setup.create_payment(amount=100).merchant_order_id
        path = f"/apis/pg-sandbox/checkout/v2/order/{order}/status"
        timeouts = {"timeout": {"connect": 5, "read": 5, "write": 5, "pool": 5}}

        target = httpx.URL(url + path)  # parsed once: the transports are what is measured

        def exchange(transport: httpx.BaseTransport) -> Callable[[], object]:
            def one() -> object:
                request = httpx.Request("GET", target, extensions=timeouts)
                response = transport.handle_request(request)
                try:
                    return response.read()
                finally:
                    response.close()

            return one

        def floor(raw: http.client.HTTPConnection) -> Callable[[], object]:
            def one() -> object:
                raw.request("GET", path)
                return raw.getresponse().read()

            return one

        results: dict[str, list[float]] = {}

        def record(name: str, value: float) -> None:
            results.setdefault(name, []).append(value)

        from phonepe_gateway._wire import StdlibTransport  # here: sdk.py borrows sandbox()

        stdlib, httpx_wire = StdlibTransport(pool_size=10), httpx.HTTPTransport(retries=0)
        try:
            others: list[tuple[str, httpx.BaseTransport]] = [("urllib3", Urllib3Transport())]
        except ImportError:
            others = []
        for _ in range(args.rounds):
            raw = http.client.HTTPConnection(host, int(port))  # the sandbox drops idle ones
            record("exchange: http.client (floor)", cpu_per_call(floor(raw), args.calls))
            raw.close()
            record("exchange: StdlibTransport", cpu_per_call(exchange(stdlib), args.calls))
            record("exchange: httpx.HTTPTransport", cpu_per_call(exchange(httpx_wire), args.calls))
            for name, other in others:
                record(f"exchange: {name} PoolManager", cpu_per_call(exchange(other), args.calls))
            for name, injected in (("default wire", None), ("httpx transport", "httpx")):
                transport = httpx.HTTPTransport(retries=0) if injected else None
                with PhonePeClient(env="local", local_url=url, transport=transport) as client:
                    client.create_payment(amount=100)  # token and connection
                    record(
                        f"client create_payment: {name}",
                        cpu_per_call(
                            lambda c=client: c.create_payment(amount=100), args.calls // 2
                        ),
                    )
                    record(
                        f"client get_order_status: {name}",
                        cpu_per_call(lambda c=client: c.get_order_status(order), args.calls),
                    )
        for transport in (stdlib, httpx_wire, *(other for _, other in others)):
            transport.close()
    print(f"CPU per call in microseconds, median of {args.rounds} alternating rounds:")
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, value in medians.items():
        print(f"  {name:40s} {value:8.1f}")

    def ratio(a: str, b: str) -> str:
        return f"{medians[a] / medians[b]:.2f}x"

    print(
        "  StdlibTransport / httpx.HTTPTransport   "
        f"{ratio('exchange: StdlibTransport', 'exchange: httpx.HTTPTransport')}"
    )
    for call in ("create_payment", "get_order_status"):
        print(
            f"  client {call}, default / httpx  "
            f"{ratio(f'client {call}: default wire', f'client {call}: httpx transport')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
