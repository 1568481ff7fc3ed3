"""How fast is the payments service (`phonepe serve`)? Loopback only, bounded (~1-2 min).

Processes: the sandbox (`phonepe sandbox`) pinned to one CPU, the service (`phonepe serve`,
one gunicorn worker, no reconciler) pinned to another, the load generator (raw asyncio
sockets in its own process) and the database server unpinned. For each database
(SQLite file, PostgreSQL) it measures:

* **trivial rate**: ``GET /healthz`` requests/s with ``--connections`` keep-alive
  connections for ``--duration`` s (the server's ceiling on this machine);
* **create rate**: ``POST /api/payments`` requests/s the same way (each one writes the
  ledger and calls the sandbox), and its ratio to the trivial rate;
* **added latency**: sequential creates through the service versus sequential direct
  ``PhonePeClient.create_payment`` calls to the same sandbox, p50 and p99;
* **webhook ack**: ``--burst`` authentic deliveries sent at once on separate
  connections; p50/p99 of the time to the 200 (processing happens after the ack);
  then the same burst of ``GET /healthz``, the floor of any burst on this server.

Targets (issue 4): create >= 40 % of trivial and >= 800/s on one core with PostgreSQL;
added latency <= 3 ms p50, <= 10 ms p99; webhook ack p99 <= 50 ms.

    .venv/bin/python benchmarks/service.py [--duration 5] [--connections 16]
        [--sequential 300] [--burst 200] [--databases sqlite,postgres]
        [--worker-class gthread] [--threads 8]

PostgreSQL comes from ``PHONEPE_TEST_POSTGRES_URL`` (a fresh database is created in it)
or, when unset, a throwaway cluster started with scripts/pg-throwaway.sh.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PHONEPE = str(Path(sys.executable).with_name("phonepe"))
API_KEY = "bench-api-key-0001"
HOOK_AUTH = hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpus() -> tuple[int | None, int | None]:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        return cpus[0], cpus[1]
    return None, None


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


@contextmanager
def _process(
    command: list[str],
    cpu: int | None,
    env: dict[str, str],
    url: str,
    what: str,
    cwd: str | None = None,
) -> Iterator[int]:
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(url, proc, what)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def postgres() -> Iterator[str]:
    """A fresh database in PHONEPE_TEST_POSTGRES_URL, or in a throwaway cluster."""
    import psycopg

    started_dir = None
    base = os.environ.get("PHONEPE_TEST_POSTGRES_URL")
    if not base:
        out = subprocess.run(
            [str(ROOT / "scripts" / "pg-throwaway.sh"), "start"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        values = dict(
            line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line
        )
        base, started_dir = values["PHONEPE_TEST_POSTGRES_URL"], values["PHONEPE_PG_DIR"]
    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if started_dir:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-throwaway.sh"), "stop", started_dir], check=False
            )


# -- load generation (raw sockets in a separate process) --------------------------------


def _request(method: str, path: str, port: int, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _closed_loop(port: int, request: bytes, stop_at: float, expect: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies: list[float] = []
    try:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            if status != expect:
                raise RuntimeError(f"unexpected status {status}")
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()
    return latencies


def _load(
    port: int,
    request: bytes,
    connections: int,
    duration: float,
    expect: int,
    out: multiprocessing.Queue[tuple[int, float, list[float]]],
) -> None:
    async def run() -> tuple[int, float, list[float]]:
        started = time.monotonic()
        results = await asyncio.gather(
            *(_closed_loop(port, request, started + duration, expect) for _ in range(connections))
        )
        flat = [x for r in results for x in r]
        return len(flat), time.monotonic() - started, flat

    out.put(asyncio.run(run()))


def rate(
    port: int, request: bytes, connections: int, duration: float, expect: int
) -> tuple[float, list[float]]:
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[int, float, list[float]]] = ctx.Queue()
    worker = ctx.Process(target=_load, args=(port, request, connections, duration, expect, queue))
    worker.start()
    count, elapsed, latencies = queue.get(timeout=duration + 60)
    worker.join()
    return count / elapsed, latencies


async def _burst(port: int, requests: list[bytes]) -> list[float]:
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in requests]
    go = asyncio.Event()

    async def one(
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
    ) -> float:
        reader, writer = stream
        await go.wait()
        started = time.perf_counter()
        writer.write(request)
        status = await _read_response(reader)
        elapsed = time.perf_counter() - started
        writer.close()
        if status != 200:
            raise RuntimeError(f"burst request answered {status}")
        return elapsed

    tasks = [asyncio.create_task(one(s, r)) for s, r in zip(streams, requests, strict=True)]
    await asyncio.sleep(0.05)
    go.set()
    return list(await asyncio.gather(*tasks))


def _burst_process(
    port: int, requests: list[bytes], out: multiprocessing.Queue[list[float]]
) -> None:
    out.put(asyncio.run(_burst(port, requests)))


def webhook_burst(port: int, order_ids: list[str]) -> list[float]:
    requests = []
    for n, moid in enumerate(order_ids):
        body = json.dumps(
            {
                "event": "checkout.order.completed",
                "payload": {"merchantOrderId": moid, "state": "COMPLETED", "amount": 1000, "n": n},
            }
        ).encode()
        requests.append(
            _request("POST", "/api/webhooks/phonepe", port, body, Authorization=HOOK_AUTH)
        )
    return burst(port, requests)


def burst(port: int, requests: list[bytes]) -> list[float]:
    """Send ``requests`` at once, one connection each; seconds to each 200."""
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[list[float]] = ctx.Queue()
    worker = ctx.Process(target=_burst_process, args=(port, requests, queue))
    worker.start()
    latencies = queue.get(timeout=120)
    worker.join()
    return latencies


# -- sequential latency -------------------------------------------------------------------


def sequential_service(url: str, runs: int) -> tuple[list[float], list[str]]:
    times, ids = [], []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        for _ in range(runs):
            started = time.perf_counter()
            response = client.post("/api/payments", json={"amount": 1000})
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                raise RuntimeError(response.text)
            ids.append(response.json()["merchant_order_id"])
    return times, ids


def sequential_direct(sandbox_url: str, runs: int) -> list[float]:
    from phonepe_gateway import PhonePeClient

    times = []
    with PhonePeClient(env="local", local_url=sandbox_url) as client:
        client.create_payment(amount=1000)  # token
        for _ in range(runs):
            started = time.perf_counter()
            client.create_payment(amount=1000)
            times.append((time.perf_counter() - started) * 1000)
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- one database ----------------------------------------------------------------------------


def run_one(
    database: str, args: argparse.Namespace, sandbox_url: str, server_cpu: int | None
) -> dict[str, float]:
    data_dir = tempfile.mkdtemp(prefix="phonepe-bench-")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHONEPE_", "DJANGO_"))}
    env.update(
        {
            "PHONEPE_SERVICE_DATA_DIR": data_dir,
            "PHONEPE_SERVICE_API_KEYS": API_KEY,
            "PHONEPE_ENV": "local",
            "PHONEPE_LOCAL_URL": sandbox_url,
            "PHONEPE_SERVICE_LOG_LEVEL": "WARNING",
            "PHONEPE_SERVICE_WEBHOOK_PROCESSING": args.webhook_processing,
            "PHONEPE_ALLOW_LOCAL": "true",  # a loopback benchmark rig (phonepe.E006)
        }
    )
    env.pop("DATABASE_URL", None)
    with contextmanager_db(database) as db_url:
        if db_url:
            env["DATABASE_URL"] = db_url
        results: dict[str, float] = {}
        results.update(in_process(env, args.sequential))
        results.update(peer(env, db_url, sandbox_url, args, server_cpu))
        command = [
            PHONEPE,
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-reconciler",
            "--threads",
            str(args.threads),
            "--worker-class",
            args.worker_class,
        ]
        with _process(command, server_cpu, env, url + "/healthz", "phonepe serve", data_dir) as pid:
            results.update(measure(url, port, sandbox_url, args, pid))
        for server in [s for s in args.alternatives.split(",") if s]:
            results.update(alternative(server, env, data_dir, args, server_cpu))
    shutil.rmtree(data_dir, ignore_errors=True)
    return results


# -- the same create in-process, the peer, other servers ---------------------------------

_IN_PROCESS = """
import io, os, sys, time, django
from phonepe_gateway.service import cli
cli._setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.core.wsgi import get_wsgi_application
from phonepe_gateway.django import services
n, key = int(sys.argv[1]), sys.argv[2]
app = get_wsgi_application()
BODY = b'{"amount": 1000}'

def through_app():
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api/payments", "SCRIPT_NAME": "",
        "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(BODY), "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(BODY)),
        "HTTP_AUTHORIZATION": "Bearer " + key,
    }
    status = []
    b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    assert status[0].startswith("201"), status

def cpu(fn):
    for _ in range(20):
        fn()  # warm-up: token, connections
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n

print(cpu(lambda: services.create_payment(amount=1000)), cpu(through_app))
"""


def in_process(env: dict[str, str], runs: int) -> dict[str, float]:
    """Process CPU of one create called directly (ledger rows + gateway call), and of the
    same create through the WSGI app called in-process (+ Django, Ninja, the view): no HTTP."""
    data_dir = tempfile.mkdtemp(prefix="phonepe-bench-inproc-")
    out = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, str(runs), API_KEY],
        env={**env, "PHONEPE_SERVICE_DATA_DIR": data_dir, "PHONEPE_SERVICE_CALL_LOG": "batched"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shutil.rmtree(data_dir, ignore_errors=True)
    service, app = (float(x) * 1000 for x in out.strip().splitlines()[-1].split())
    return {"in_process_cpu_ms": service, "in_app_cpu_ms": app}


def _server_rates(
    port: int, pid: int, args: argparse.Namespace, create: bytes, create_status: int
) -> tuple[float, float]:
    """(healthz, create) requests per server CPU-second, same load shape as the service's."""
    health = _request("GET", "/healthz", port)
    rate(port, health, args.connections, 1.0, 200)  # warm-up
    rate(port, create, args.connections, 1.0, create_status)
    cpu = cpu_seconds(pid)
    _, lat = rate(port, health, args.connections, args.duration, 200)
    health_cpu = cpu_seconds(pid) - cpu
    cpu += health_cpu
    _, create_lat = rate(port, create, args.connections, args.duration, create_status)
    create_cpu = cpu_seconds(pid) - cpu
    return len(lat) / health_cpu, len(create_lat) / create_cpu


def peer(
    env: dict[str, str],
    db_url: str | None,
    sandbox_url: str,
    args: argparse.Namespace,
    server_cpu: int | None,
) -> dict[str, float]:
    """The naive seed-style project (benchmarks/peer) under gunicorn gthread, 1 worker, 8 threads."""
    data_dir = tempfile.mkdtemp(prefix="phonepe-bench-peer-")
    peer_env = {
        **{k: v for k, v in env.items() if k != "DATABASE_URL"},
        "PEER_DATA_DIR": data_dir,
        "PEER_GATEWAY_URL": sandbox_url + "/apis/pg-sandbox",
        "DJANGO_SETTINGS_MODULE": "peer.settings",
    }
    site = str(ROOT / "benchmarks" / "peer")
    with contextmanager_peer_db(db_url) as peer_db:
        if peer_db:
            peer_env["DATABASE_URL"] = peer_db
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--run-syncdb", "-v", "0"],
            env=peer_env,
            cwd=site,
            check=True,
        )
        port = _free_port()
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "peer.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--worker-tmp-dir",
            "/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir(),
        ]
        body = json.dumps({"amount": 1000}).encode()
        create = _request("POST", "/pay", port, body)
        url = f"http://127.0.0.1:{port}"
        with _process(command, server_cpu, peer_env, url + "/healthz", "the peer", site) as pid:
            health, creates = _server_rates(port, pid, args, create, 201)
    shutil.rmtree(data_dir, ignore_errors=True)
    return {"peer_trivial_per_cpu_s": health, "peer_create_per_cpu_s": creates}


@contextmanager
def contextmanager_peer_db(db_url: str | None) -> Iterator[str | None]:
    """The peer gets its own database next to the service's (PostgreSQL) or its own file."""
    if db_url is None:
        yield None
        return
    import psycopg

    base, _, _ = db_url.rpartition("/")
    name = "peer_" + uuid.uuid4().hex[:10]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def alternative(
    server: str,
    env: dict[str, str],
    service_data_dir: str,
    args: argparse.Namespace,
    server_cpu: int | None,
) -> dict[str, float]:
    """The service's own app under another server, same database, same load."""
    port = _free_port()
    bind = ["--host", "127.0.0.1", "--port", str(port)]
    if server == "granian":
        command = [
            str(Path(sys.executable).with_name("granian")),
            "--interface",
            "wsgi",
            *bind,
            "--workers",
            "1",
            "--blocking-threads",
            str(args.threads),
            "--no-ws",
            "phonepe_gateway.service.wsgi:application",
        ]
    elif server == "uvicorn":
        command = [
            str(Path(sys.executable).with_name("uvicorn")),
            *bind,
            "--workers",
            "1",
            "--no-access-log",
            "phonepe_gateway.service.asgi:application",
        ]
    else:
        raise SystemExit(f"unknown server {server!r}")
    alt_env = {**env, "PHONEPE_SERVICE_DATA_DIR": service_data_dir}
    body = json.dumps({"amount": 1000}).encode()
    create = _request("POST", "/api/payments", port, body, Authorization=f"Bearer {API_KEY}")
    url = f"http://127.0.0.1:{port}"
    with _process(command, server_cpu, alt_env, url + "/healthz", server, service_data_dir) as pid:
        health, creates = _server_rates(port, pid, args, create, 201)
    return {f"{server}_trivial_per_cpu_s": health, f"{server}_create_per_cpu_s": creates}


@contextmanager
def contextmanager_db(database: str) -> Iterator[str | None]:
    if database == "postgres":
        with postgres() as url:
            yield url
    else:
        yield None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants (Linux /proc), seconds."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return total
    return total + sum(cpu_seconds(int(child)) for child in children)


def measure(
    url: str, port: int, sandbox_url: str, args: argparse.Namespace, server_pid: int
) -> dict[str, float]:
    sequential_service(url, 50)  # warm-up: token, connections, caches
    cpu = cpu_seconds(server_pid)
    trivial, trivial_lat = rate(
        port, _request("GET", "/healthz", port), args.connections, args.duration, 200
    )
    trivial_cpu = cpu_seconds(server_pid) - cpu
    cpu += trivial_cpu
    body = json.dumps({"amount": 1000}).encode()
    create_req = _request("POST", "/api/payments", port, body, Authorization=f"Bearer {API_KEY}")
    create, create_lat = rate(port, create_req, args.connections, args.duration, 201)
    create_cpu = cpu_seconds(server_pid) - cpu
    service, ids = sequential_service(url, args.sequential)
    direct = sequential_direct(sandbox_url, args.sequential)
    # The floor of any burst on this server: the same number of trivial requests at once
    # (first: after the webhooks, their background processing would still be running).
    health = [x * 1000 for x in burst(port, [_request("GET", "/healthz", port)] * args.burst)]
    acks = [x * 1000 for x in webhook_burst(port, ids[: args.burst])]
    return {
        "trivial_rps": trivial,
        "create_rps": create,
        "create_ratio": create / trivial,
        # Requests per server CPU-second: what one free core sustains, whatever the load.
        "trivial_per_cpu_s": len(trivial_lat) / trivial_cpu,
        "create_per_cpu_s": len(create_lat) / create_cpu,
        "create_p50_under_load_ms": pct(create_lat, 0.5) * 1000,
        "service_p50_ms": statistics.median(service),
        "service_p99_ms": pct(service, 0.99),
        "direct_p50_ms": statistics.median(direct),
        "direct_p99_ms": pct(direct, 0.99),
        "added_p50_ms": statistics.median(service) - statistics.median(direct),
        "added_p99_ms": pct(service, 0.99) - pct(direct, 0.99),
        "ack_p50_ms": pct(acks, 0.5),
        "ack_p99_ms": pct(acks, 0.99),
        "ack_max_ms": max(acks),
        "trivial_burst_p50_ms": pct(health, 0.5),
        "trivial_burst_p99_ms": pct(health, 0.99),
    }


def report(database: str, r: dict[str, float]) -> str:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    return "\n".join(
        [
            f"[{database}]",
            f"  trivial GET /healthz      {r['trivial_rps']:8.0f} req/s",
            f"  POST /api/payments        {r['create_rps']:8.0f} req/s  = {r['create_ratio']:.0%} of "
            f"trivial (target >= 40 %: {verdict(r['create_ratio'] >= 0.4)}; >= 800/s: "
            f"{verdict(r['create_rps'] >= 800)}), p50 under load {r['create_p50_under_load_ms']:.1f} ms",
            f"  per server CPU-second     GET /healthz {r['trivial_per_cpu_s']:.0f}, POST /api/payments "
            f"{r['create_per_cpu_s']:.0f} (= {r['create_per_cpu_s'] / r['trivial_per_cpu_s']:.0%}; "
            f"{1000 / r['create_per_cpu_s']:.2f} ms of server CPU per create)",
            f"  sequential create         service p50 {r['service_p50_ms']:.2f} ms p99 "
            f"{r['service_p99_ms']:.2f} ms; direct client p50 {r['direct_p50_ms']:.2f} ms p99 "
            f"{r['direct_p99_ms']:.2f} ms",
            f"  added latency             p50 {r['added_p50_ms']:.2f} ms (target <= 3: "
            f"{verdict(r['added_p50_ms'] <= 3)}), p99 {r['added_p99_ms']:.2f} ms (target <= 10: "
            f"{verdict(r['added_p99_ms'] <= 10)})",
            f"  webhook ack, burst        p50 {r['ack_p50_ms']:.1f} ms, p99 {r['ack_p99_ms']:.1f} ms "
            f"(target <= 50: {verdict(r['ack_p99_ms'] <= 50)}), max {r['ack_max_ms']:.1f} ms",
            f"  GET /healthz, same burst  p50 {r['trivial_burst_p50_ms']:.1f} ms, p99 "
            f"{r['trivial_burst_p99_ms']:.1f} ms (the floor of any burst of this size here)",
            *_ratios(r),
        ]
    )


def _ratios(r: dict[str, float]) -> list[str]:
    """The issue 11 targets, as ratios measured in this run."""

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    create_vs_peer = r["create_per_cpu_s"] / r["peer_create_per_cpu_s"]
    health_vs_peer = r["trivial_per_cpu_s"] / r["peer_trivial_per_cpu_s"]
    over_http = (1000 / r["create_per_cpu_s"]) / r["in_process_cpu_ms"]
    ack_vs_health = r["ack_p99_ms"] / r["trivial_burst_p99_ms"]
    lines = [
        f"  peer (naive project)      GET /healthz {r['peer_trivial_per_cpu_s']:.0f}, create "
        f"{r['peer_create_per_cpu_s']:.0f} per server CPU-second",
        f"  create vs peer            {create_vs_peer:.2f}x per server CPU-second "
        f"(target >= 1.3: {verdict(create_vs_peer >= 1.3)})",
        f"  /healthz vs peer          {health_vs_peer:.2f}x (target >= 0.9: "
        f"{verdict(health_vs_peer >= 0.9)})",
        f"  create over HTTP          {1000 / r['create_per_cpu_s']:.2f} ms server CPU vs "
        f"{r['in_process_cpu_ms']:.2f} ms in-process = {over_http:.2f}x (target <= 1.3: "
        f"{verdict(over_http <= 1.3)})",
        f"  where a create's CPU goes service {r['in_process_cpu_ms']:.2f} ms + Django/Ninja/view "
        f"{r['in_app_cpu_ms'] - r['in_process_cpu_ms']:.2f} ms (the WSGI app in-process: "
        f"{r['in_app_cpu_ms']:.2f} ms) + server {1000 / r['create_per_cpu_s'] - r['in_app_cpu_ms']:.2f} ms",
        f"  webhook ack burst p99     {ack_vs_health:.2f}x the /healthz burst (target <= 1.5: "
        f"{verdict(ack_vs_health <= 1.5)})",
    ]
    for server in ("granian", "uvicorn"):
        if f"{server}_create_per_cpu_s" in r:
            lines.append(
                f"  {server + ' (same app)':<25} GET /healthz {r[f'{server}_trivial_per_cpu_s']:.0f} "
                f"({r[f'{server}_trivial_per_cpu_s'] / r['trivial_per_cpu_s']:.2f}x gthread), create "
                f"{r[f'{server}_create_per_cpu_s']:.0f} "
                f"({r[f'{server}_create_per_cpu_s'] / r['create_per_cpu_s']:.2f}x gthread) per server CPU-second"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sequential", type=int, default=300)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="server processes (pinned: 1)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and sandbox")
    parser.add_argument(
        "--webhook-processing", default="background", choices=["background", "inline", "deferred"]
    )
    parser.add_argument(
        "--alternatives",
        default="granian",
        help="other servers to run the same app under, comma-separated: granian, uvicorn ('' for none)",
    )
    args = parser.parse_args()
    args.sequential = max(args.sequential, args.burst)
    server_cpu, sandbox_cpu = (None, None) if args.no_pin or args.workers > 1 else _cpus()
    sandbox_port = _free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    print(
        f"load average {os.getloadavg()[0]:.2f}; server on CPU {server_cpu}, sandbox on CPU "
        f"{sandbox_cpu}; worker class {args.worker_class}, {args.threads} threads; webhook "
        f"processing {args.webhook_processing}",
        flush=True,
    )
    sandbox_cmd = [PHONEPE, "sandbox", "--port", str(sandbox_port)]
    with _process(
        sandbox_cmd, sandbox_cpu, dict(os.environ), sandbox_url + "/_sandbox", "the sandbox"
    ):
        for database in args.databases.split(","):
            print(report(database, run_one(database, args, sandbox_url, server_cpu)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
