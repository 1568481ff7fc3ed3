"""The fault campaign: a merchant, two payment services, one database, and things breaking.

Starts (loopback only, every process by PID, all stopped at the end):

* a throwaway PostgreSQL cluster (scripts/pg-throwaway.sh), restarted with
  ``pg_ctl restart -m immediate`` a few times per run;
* the sandbox (``phonepe sandbox``) with faults on every PhonePe write and read (503s,
  connection resets, timeouts, ``drop_after_commit``) and webhooks delayed, duplicated,
  shuffled and, for stretches, dropped;
* two ``phonepe serve`` instances on that database, each with its reconciler, and a test
  receiver (``benchmarks/chaos_receiver``) counting ``payment_completed`` signals;
* a killer that SIGKILLs a random gunicorn worker every ``--kill-every`` seconds.

A driver behaves like a merchant: it creates payments with an ``Idempotency-Key`` (some
for a purpose that already has one), retries every failure with the same key on either
instance, completes, declines or abandons orders through the sandbox's control API,
refunds part or all of completed ones (sometimes two at once), and replays finished keys.

UPI AutoPay rides along (``--autopay``, a share of the merchant's operations): it sets up
mandates with an ``Idempotency-Key``, approves, declines or ignores them, pauses, resumes,
revokes and cancels them, makes the payer's bank fail the next debit, while the services'
reconcilers notify and redeem each due period; the sandbox clock jumps 25 hours every
``--clock-jump`` seconds so PhonePe's 24-hour notice period passes.

Then it quiesces (faults off, the sandbox clock advanced past every expiry, settlement and
notice period, reconcilers and webhook retries left to finish) and checks the invariants
(see ``check`` and ``check_debits``: no period of a mandate is debited twice). Every violation is printed with its ids; the exit status is 1 if there is one.

    .venv/bin/python benchmarks/chaos.py [--duration 60] [--threads 6] [--kill-every 3]
        [--db-restarts 3] [--autopay 0.15] [--clock-jump 20] [--seed 1] [--json result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PHONEPE = str(Path(sys.executable).with_name("phonepe"))
API_KEY = "chaos-api-key-0001"
OPEN = ("CREATED", "PENDING", "UNKNOWN")
#: answers after which a merchant does not retry the same key
_IN_PROGRESS = "idempotency_in_progress"
_HEALED = re.compile(r"^(.*)-L\d+$")
_RULE_TIMES = 100_000


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- processes -----------------------------------------------------------------------------


@dataclass
class Cluster:
    url: str
    directory: str

    def _pg_ctl(self, *args: str) -> None:
        bindir = subprocess.run(
            ["bash", "-c", "ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if subprocess.run(["pg_config", "--bindir"], capture_output=True).returncode == 0:
            bindir = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True
            ).stdout.strip()
        command = [f"{bindir}/pg_ctl", "-D", f"{self.directory}/data", *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "phonepe-pg", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def restart_immediately(self) -> None:
        """Crash-restart: no checkpoint, every connection cut, recovery on start."""
        self._pg_ctl(
            "-l", f"{self.directory}/server.log", "-w", "-t", "60", "-m", "immediate", "restart"
        )


@contextmanager
def postgres() -> Iterator[Cluster]:
    out = subprocess.run(
        [str(ROOT / "scripts/pg-throwaway.sh"), "start"], capture_output=True, text=True, check=True
    ).stdout
    env = dict(re.findall(r"export (\w+)=(\S+)", out))
    cluster = Cluster(env["PHONEPE_TEST_POSTGRES_URL"], env["PHONEPE_PG_DIR"])
    try:
        yield cluster
    finally:
        subprocess.run(
            [str(ROOT / "scripts/pg-throwaway.sh"), "stop", cluster.directory], check=False
        )


class Processes:
    """Every process this run started, stopped by PID (process group) at the end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, args: list[str], env: dict[str, str], log_path: Path
    ) -> subprocess.Popen[bytes]:
        handle = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(
            args, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (gunicorn's workers), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# -- the merchant --------------------------------------------------------------------------


@dataclass
class Stats:
    operations: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    db_restarts: int = 0
    server_errors: list[str] = field(default_factory=list)
    #: key -> every (status, body) answered for it
    bodies: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    #: key -> (path, json body) of its request, for replays
    requests: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    completed_orders: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    #: UPI AutoPay: merchant subscription ids the merchant set up
    mandates: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _final(status: int, body: dict[str, Any]) -> bool:
    """Would a merchant stop retrying this key? (The answer is the request's outcome.)"""
    error = body.get("error") or {}
    if status == 409 and error.get("code") == _IN_PROGRESS:
        return False
    if status >= 500:
        return (error.get("details") or {}).get("state") == "FAILED"
    return True


class Merchant:
    def __init__(self, services: list[str], sandbox: str, stats: Stats, seed: int) -> None:
        self.services, self.sandbox, self.stats = services, sandbox, stats
        self.rng = random.Random(seed)
        self.http = httpx.Client(
            timeout=httpx.Timeout(20, connect=3),
            headers={"Authorization": f"Bearer {API_KEY}"},
        )

    def close(self) -> None:
        self.http.close()

    # one request with an Idempotency-Key, retried until it has an outcome
    def call(
        self, path: str, body: dict[str, Any], key: str, *, until: float
    ) -> tuple[int, dict[str, Any]] | None:
        with self.stats.lock:
            self.stats.requests[key] = (path, body)
        pause = 0.1
        while time.monotonic() < until:
            url = self.rng.choice(self.services) + path
            try:
                response = self.http.post(url, json=body, headers={"Idempotency-Key": key})
            except httpx.HTTPError as exc:
                with self.stats.lock:
                    self.stats.answers[f"transport:{type(exc).__name__}"] += 1
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            status = response.status_code
            try:
                data = response.json()
            except ValueError:
                data = {}
            with self.stats.lock:
                self.stats.answers[str(status)] += 1
                self.stats.bodies[key].append((status, response.text))
                if status == 500:
                    self.stats.server_errors.append(f"{path} key={key}: {response.text[:300]}")
            if _final(status, data):
                return status, data
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        with self.stats.lock:
            self.stats.unfinished.append(key)
        return None

    def control(self, method: str, path: str, **kw: Any) -> httpx.Response | None:
        try:
            return self.http.request(method, self.sandbox + "/_sandbox" + path, **kw)
        except httpx.HTTPError:
            return None

    def create(self, until: float) -> None:
        stats = self.stats
        with stats.lock:
            reuse = stats.references and self.rng.random() < 0.15
            reference = (
                self.rng.choice(stats.references[-50:])
                if reuse
                else f"ticket:{uuid.uuid4().hex[:10]}"
            )
            stats.references.append(reference)
        amount = self.rng.choice([100, 999, 12_000, 45_050, 250_000])
        key = f"create-{uuid.uuid4().hex}"
        answer = self.call(
            "/api/payments", {"amount": amount, "reference": reference}, key, until=until
        )
        stats.operations["create"] += 1
        if answer is None or answer[0] != 201:
            return
        order_id = answer[1]["merchant_order_id"]
        fate = self.rng.random()
        if fate < 0.55:
            response = self.control("POST", f"/orders/{order_id}/complete", json={})
            if response is not None and response.status_code == 200:
                stats.operations["complete"] += 1
                with stats.lock:
                    stats.completed_orders.append(order_id)
        elif fate < 0.7:
            self.control("POST", f"/orders/{order_id}/fail", json={})
            stats.operations["decline"] += 1
        else:
            stats.operations["abandon"] += 1

    def refund(self, until: float) -> None:
        stats = self.stats
        with stats.lock:
            if not stats.completed_orders:
                return
            order_id = self.rng.choice(stats.completed_orders[-100:])
        try:
            payment = self.http.get(
                self.rng.choice(self.services) + f"/api/payments/{order_id}?sync=true"
            )
            state = payment.json()
        except (httpx.HTTPError, ValueError):
            return
        if payment.status_code == 500:
            with stats.lock:
                stats.server_errors.append(f"GET {order_id}: {payment.text[:300]}")
        remainder = int(state.get("refundable_amount") or 0)
        if payment.status_code != 200 or remainder <= 0:
            return
        amounts = [self.rng.randint(1, remainder)]
        if self.rng.random() < 0.3:
            amounts.append(self.rng.randint(1, remainder))  # two at once: one may not fit
        path = f"/api/payments/{order_id}/refunds"
        threads = [
            threading.Thread(
                target=self.call,
                args=(path, {"amount": a}, f"refund-{uuid.uuid4().hex}"),
                kwargs={"until": until},
            )
            for a in amounts
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stats.operations["refund"] += len(amounts)

    def replay(self, until: float) -> None:
        with self.stats.lock:
            done = [
                k
                for k, answers in self.stats.bodies.items()
                if answers and _final(answers[-1][0], _json(answers[-1][1]))
            ]
            if not done:
                return
            key = self.rng.choice(done[-200:])
            path, body = self.stats.requests[key]
        self.call(path, body, key, until=until)
        self.stats.operations["replay"] += 1

    def run(self, stop: threading.Event, until: float, autopay: float = 0.0) -> None:
        while not stop.is_set():
            pick = self.rng.random()
            if pick < autopay:
                if self.rng.random() < 0.4:
                    subscribe(self, until)
                else:
                    mandate_event(self, until)
                continue
            pick = self.rng.random()
            if pick < 0.6:
                self.create(until)
            elif pick < 0.85:
                self.refund(until)
            else:
                self.replay(until)


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# -- faults, kills, restarts ---------------------------------------------------------------

WRITE_READ = [
    ("POST", "/checkout/v2/pay"),
    ("GET", "/checkout/v2/order/*"),
    ("POST", "/payments/v2/refund"),
    ("GET", "/payments/v2/refund/*"),
    # UPI AutoPay: set-up, notice, redemption, cancel; mandate and order status
    ("POST", "/subscriptions/v2/setup"),
    ("POST", "/subscriptions/v2/notify"),
    ("POST", "/subscriptions/v2/redeem"),
    ("POST", "/subscriptions/v2/*/cancel"),
    ("GET", "/subscriptions/v2/*/status"),
]


def install_faults(sandbox: str, rate: float, stats: Stats) -> None:
    rules = []
    for method, path in WRITE_READ:
        for action, extra in (
            ("status", {"status": 503}),
            ("reset", {}),
            ("delay", {"delay_ms": 2500}),  # past the services' 2 s read timeout
            ("drop_after_commit", {}),
        ):
            if action == "drop_after_commit" and method == "GET":
                continue
            rules.append(
                {
                    "method": method,
                    "path": path,
                    "action": action,
                    "times": 100_000,
                    "probability": rate,
                    **extra,
                }
            )
    for rule in rules:
        httpx.post(sandbox + "/_sandbox/faults", json=rule, timeout=10).raise_for_status()
        stats.faults[f"rule:{rule['action']}"] += 1


def count_fired(sandbox: str, stats: Stats) -> None:
    """How often each rule fired: what it had left, from what it started with."""
    data = httpx.get(sandbox + "/_sandbox/faults", timeout=10).json()
    rules = data.get("faults", data) if isinstance(data, dict) else data
    for rule in rules:
        fired = _RULE_TIMES - int(rule.get("times") or 0)
        stats.faults[f"fired:{rule['action']}:{rule['method']} {rule['path']}"] += fired
        stats.faults["fired_total"] += fired
    deliveries = httpx.get(sandbox + "/_sandbox/webhooks", timeout=30).json()["deliveries"]
    stats.faults["webhook_deliveries"] = len(deliveries)
    stats.faults["webhook_duplicates"] = sum(1 for d in deliveries if d.get("duplicate_of"))
    for state, n in Counter(str(d.get("state")) for d in deliveries).items():
        stats.faults[f"webhook_{state}"] = n


def webhook_weather(sandbox: str, hook_url: str, rng: random.Random, stats: Stats) -> None:
    """One spell of webhook weather: delayed, duplicated, shuffled, sometimes dropped."""
    config = {
        "url": hook_url,
        "username": "sandboxhook",
        "password": "sandboxpass1",
        "duplicates": rng.choice([0, 1, 2]),
        "delay_ms": rng.choice([0, 200, 1500]),
        "shuffle": rng.random() < 0.5,
        "drop": rng.random() < 0.25,
    }
    try:
        httpx.put(sandbox + "/_sandbox/webhooks/config", json=config, timeout=10).raise_for_status()
    except httpx.HTTPError:
        return
    stats.faults["webhook_spells"] += 1
    stats.faults["webhook_drop_spells"] += int(config["drop"])


def killer(
    masters: list[int], every: float, stop: threading.Event, rng: random.Random, stats: Stats
) -> None:
    while not stop.wait(every * rng.uniform(0.5, 1.5)):
        workers = [w for m in masters for w in children(m)]
        if not workers:
            continue
        victim = rng.choice(workers)
        try:
            os.kill(victim, signal.SIGKILL)  # a child of a master this run started
            stats.kills += 1
        except ProcessLookupError:
            pass


def restarter(
    cluster: Cluster, times: int, duration: float, stop: threading.Event, stats: Stats
) -> None:
    if times <= 0:
        return
    gap = duration / (times + 1)
    for _ in range(times):
        if stop.wait(gap):
            return
        try:
            cluster.restart_immediately()
            stats.db_restarts += 1
            log("PostgreSQL restarted (-m immediate)")
        except subprocess.SubprocessError as exc:
            log(f"PostgreSQL restart failed: {exc}")


# -- the invariants ------------------------------------------------------------------------


def _rows(url: str, sql: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        return list(conn.execute(sql).fetchall())


def check(url: str, sandbox: str, stats: Stats) -> list[str]:
    """Every violation, as a line with its ids."""
    v: list[str] = []
    payments = {p["merchant_order_id"]: p for p in _rows(url, "SELECT * FROM phonepe_payment")}
    refunds = {
        r["merchant_refund_id"]: r
        for r in _rows(
            url,
            "SELECT r.*, p.merchant_order_id FROM phonepe_refund r JOIN phonepe_payment p ON p.id = r.payment_id",
        )
    }
    signals = Counter(
        r["merchant_order_id"] for r in _rows(url, "SELECT merchant_order_id FROM chaos_completion")
    )
    for r in _rows(url, "SELECT merchant_order_id FROM chaos_completion_dup"):
        signals[r["merchant_order_id"]] += 1
    orders = httpx.get(sandbox + "/_sandbox/orders", timeout=60).json()["orders"]
    gateway = {o["merchantOrderId"]: o for o in orders}

    # 1. every gateway order <-> one ledger payment, same final state and amount
    for oid, order in gateway.items():
        p = payments.get(oid)
        if p is None:
            v.append(f"gateway order {oid} has no ledger payment")
            continue
        if order["state"] != p["state"]:
            v.append(f"order {oid}: gateway {order['state']}, ledger {p['state']}")
        if int(order["amount"]) != int(p["amount"]):
            v.append(f"order {oid}: gateway amount {order['amount']}, ledger {p['amount']}")
    for oid, p in payments.items():
        if oid not in gateway and p["state"] != "FAILED":
            v.append(f"ledger payment {oid} is {p['state']} but the gateway never had it")
    # 2. every gateway refund <-> one ledger refund; sums equal and within the amount
    gateway_refunded: Counter[str] = Counter()
    for order in orders:
        for gr in order.get("refunds", []):
            rid = gr["merchantRefundId"]
            lr = refunds.get(rid)
            state = {"CONFIRMED": "PENDING"}.get(gr["state"], gr["state"])
            if gr["state"] != "FAILED":
                gateway_refunded[order["merchantOrderId"]] += int(gr["amount"])
            if lr is None:
                v.append(f"gateway refund {rid} of {order['merchantOrderId']} has no ledger refund")
                continue
            if lr["merchant_order_id"] != order["merchantOrderId"]:
                v.append(
                    f"refund {rid}: gateway order {order['merchantOrderId']}, ledger {lr['merchant_order_id']}"
                )
            if state != lr["state"]:
                v.append(f"refund {rid}: gateway {gr['state']}, ledger {lr['state']}")
            if int(gr["amount"]) != int(lr["amount"]):
                v.append(f"refund {rid}: gateway amount {gr['amount']}, ledger {lr['amount']}")
    gateway_refund_ids = {gr["merchantRefundId"] for o in orders for gr in o.get("refunds", [])}
    for rid, lr in refunds.items():
        if rid not in gateway_refund_ids and lr["state"] != "FAILED":
            v.append(f"ledger refund {rid} is {lr['state']} but the gateway never had it")
    for oid, p in payments.items():
        ledger_sum = sum(
            int(r["amount"])
            for r in refunds.values()
            if r["merchant_order_id"] == oid and r["state"] != "FAILED"
        )
        if ledger_sum != int(p["refunded_amount"]):
            v.append(
                f"payment {oid}: refunded_amount {p['refunded_amount']} but its refunds sum to {ledger_sum}"
            )
        if oid in gateway and gateway_refunded[oid] != ledger_sum:
            v.append(
                f"payment {oid}: gateway refunded {gateway_refunded[oid]}, ledger {ledger_sum}"
            )
        if ledger_sum > int(p["amount"]) or gateway_refunded[oid] > int(p["amount"]):
            v.append(f"payment {oid}: refunded more than its amount {p['amount']}")
    # 3. no key produced two gateway orders or refunds (a lost link's successor excepted:
    #    the lost one is recorded as superseded), and 5. every final answer of a key is one body
    for key, answers in stats.bodies.items():
        # 400/422: nothing was stored, the key was given back (Stripe does the same).
        finals = {b for st, b in answers if _final(st, _json(b)) and st not in (400, 422)}
        if len(finals) > 1:
            v.append(
                f"key {key}: {len(finals)} different final answers: " + " | ".join(sorted(finals))
            )
        created = [_json(b) for s, b in answers if s == 201]
        if key.startswith("create-") and created:
            root_match = _HEALED.match(created[0]["merchant_order_id"])
            root = root_match.group(1) if root_match else created[0]["merchant_order_id"]
            chain = [
                oid
                for oid in gateway
                if oid == root or (_HEALED.match(oid) and _HEALED.match(oid).group(1) == root)
            ]  # type: ignore[union-attr]
            live = [oid for oid in chain if not payments.get(oid, {}).get("superseded_by")]
            if len(live) > 1:
                v.append(f"key {key}: {len(live)} live gateway orders {live}")
    # 4. each completed payment's signal exactly once
    for oid, p in payments.items():
        n = signals.get(oid, 0)
        if p["state"] == "COMPLETED" and n != 1:
            v.append(f"payment {oid}: payment_completed delivered {n} times")
        if p["state"] != "COMPLETED" and n:
            v.append(f"payment {oid} is {p['state']} but payment_completed was sent")
    # 6. nothing open after quiescence
    for oid, p in payments.items():
        if p["state"] in OPEN:
            v.append(f"payment {oid} still {p['state']} after quiescence")
    for rid, r in refunds.items():
        if r["state"] in OPEN:
            v.append(f"refund {rid} still {r['state']} after quiescence")

    # 7. no purpose paid twice unless flagged and refunded (a payment refunded in full,
    #    by the merchant or as a flagged duplicate, no longer pays its purpose)
    def refunded_of(oid: str) -> int:
        return sum(
            int(r["amount"])
            for r in refunds.values()
            if r["merchant_order_id"] == oid and r["state"] == "COMPLETED"
        )

    paid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in payments.values():
        if p["state"] == "COMPLETED" and p["reference"]:
            paid[p["reference"]].append(p)
    for reference, group in paid.items():
        group.sort(key=lambda p: (p["completed_at"], p["id"]))
        live = [
            p
            for p in group
            if refunded_of(p["merchant_order_id"]) < int(p["amount"])
            or (p["duplicate_of"] and not p["needs_review"])
        ]
        for extra in live[1:]:
            oid = extra["merchant_order_id"]
            refunded = refunded_of(oid)
            if (
                not extra["duplicate_of"]
                or not extra["needs_review"]
                or refunded < int(extra["amount"])
            ):
                v.append(
                    f"reference {reference} paid twice: {oid} after {live[0]['merchant_order_id']} (flagged={extra['needs_review']}, refunded {refunded})"
                )
    # 8. no 500 answers
    v.extend(f"500 answer: {line}" for line in stats.server_errors)
    for key in stats.unfinished:
        last = [f"{status} {text[:300]}" for status, text in stats.bodies.get(key, [])[-2:]]
        v.append(f"key {key}: no outcome before the end of the run; last answers: {last}")
    return v


# -- UPI AutoPay: the merchant's mandates and the invariants of their debits ------------------


def subscribe(merchant: Merchant, until: float) -> None:
    """Set up a DAILY mandate (period 1 due within seconds, or periods 1 and 2) and let the
    customer answer."""
    stats, rng = merchant.stats, merchant.rng
    amount = rng.choice([100, 4_900, 49_900])
    # Half the mandates start a day late: period 1 is overdue at once and period 2 falls
    # due within seconds (the service's clock is the real one), so a run debits two
    # periods of them; the others' period 1 falls due within seconds.
    first_debit = time.time() + rng.uniform(0, 5) - (86_400 if rng.random() < 0.5 else 0)
    body: dict[str, Any] = {
        "amount": amount,
        "max_amount": amount * rng.choice([1, 2]),
        "frequency": "DAILY",
        "instrument": rng.choice(
            [{"type": "UPI_INTENT"}, {"type": "UPI_COLLECT", "vpa": "chaos@ybl"}]
        ),
        "reference": f"pass:{uuid.uuid4().hex[:10]}",
        "first_debit_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first_debit)),
    }
    if body["max_amount"] == amount and rng.random() < 0.5:
        body["amount_type"] = "FIXED"
    answer = merchant.call("/api/subscriptions", body, f"subscribe-{uuid.uuid4().hex}", until=until)
    stats.operations["subscribe"] += 1
    if answer is None or answer[0] != 201:
        return
    msid = answer[1]["merchant_subscription_id"]
    fate = rng.random()
    if fate < 0.75:
        _mandate_action(merchant, msid, "APPROVE")
        with stats.lock:
            stats.mandates.append(msid)
    elif fate < 0.85:
        _mandate_action(merchant, msid, "DECLINE")
    else:
        stats.operations["mandate_ignored"] += 1


def _mandate_action(merchant: Merchant, msid: str, action: str) -> None:
    response = merchant.control("POST", f"/subscriptions/{msid}", json={"action": action})
    if response is not None and response.status_code == 200:
        merchant.stats.operations[f"mandate_{action.lower()}"] += 1


def mandate_event(merchant: Merchant, until: float) -> None:
    """What happens to a live mandate: the customer pauses, resumes or revokes it in their
    app, the bank fails the next debit, or the merchant cancels it or looks at its debits."""
    stats, rng = merchant.stats, merchant.rng
    with stats.lock:
        if not stats.mandates:
            return
        msid = rng.choice(stats.mandates[-60:])
    pick = rng.random()
    if pick < 0.2:
        _mandate_action(merchant, msid, "PAUSE")
    elif pick < 0.4:
        _mandate_action(merchant, msid, "RESUME")
    elif pick < 0.47:
        _mandate_action(merchant, msid, "REVOKE")
    elif pick < 0.75:
        response = merchant.control(
            "POST",
            f"/subscriptions/{msid}/fail-next-debit",
            json={"reason": "INSUFFICIENT_BALANCE"},
        )
        if response is not None and response.status_code == 200:
            stats.operations["debit_fail_next"] += 1
    elif pick < 0.82:
        try:
            response = merchant.http.post(
                rng.choice(merchant.services) + f"/api/subscriptions/{msid}/cancel"
            )
        except httpx.HTTPError:
            return
        stats.operations["mandate_cancel"] += 1
        if response.status_code == 500:
            with stats.lock:
                stats.server_errors.append(f"cancel {msid}: {response.text[:300]}")
    else:
        try:
            response = merchant.http.get(
                rng.choice(merchant.services) + f"/api/subscriptions/{msid}/debits"
            )
        except httpx.HTTPError:
            return
        stats.operations["debits_listed"] += 1
        if response.status_code == 500:
            with stats.lock:
                stats.server_errors.append(f"debits {msid}: {response.text[:300]}")


def clock_jumper(sandbox: str, every: float, stop: threading.Event, stats: Stats) -> None:
    """PhonePe debits no earlier than 24 h after the notice: jump the sandbox clock 25 h."""
    if every <= 0:
        return
    while not stop.wait(every):
        try:
            httpx.post(
                sandbox + "/_sandbox/clock/advance", json={"seconds": 25 * 3600}, timeout=10
            ).raise_for_status()
            stats.faults["clock_jumps_25h"] += 1
        except httpx.HTTPError:
            pass


_SUBSCRIPTION_OPEN = ("CREATED", "PENDING", "UNKNOWN")


def check_debits(url: str, sandbox: str) -> tuple[list[str], dict[str, int]]:
    """The AutoPay invariants; returns (violations, counts)."""
    from phonepe_gateway.django.schedule import debit_order_id

    v: list[str] = []
    subs = {
        s["merchant_subscription_id"]: s for s in _rows(url, "SELECT * FROM phonepe_subscription")
    }
    debits = _rows(
        url,
        "SELECT p.*, s.merchant_subscription_id FROM phonepe_payment p "
        "JOIN phonepe_subscription s ON s.id = p.subscription_id WHERE p.debit_period >= 1",
    )
    by_order = {d["merchant_order_id"]: d for d in debits}
    signals = Counter(
        r["merchant_order_id"] for r in _rows(url, "SELECT merchant_order_id FROM chaos_debit")
    )
    for r in _rows(url, "SELECT merchant_order_id FROM chaos_debit_dup"):
        signals[r["merchant_order_id"]] += 1
    mandates = httpx.get(sandbox + "/_sandbox/subscriptions", timeout=60).json()["subscriptions"]
    paid: Counter[tuple[str, int]] = Counter()
    executed = 0
    for mandate in mandates:
        msid = mandate["merchantSubscriptionId"]
        sub = subs.get(msid)
        if sub is None:
            v.append(f"gateway mandate {msid} has no ledger subscription")
            continue
        if mandate["state"] != sub["state"]:
            v.append(f"mandate {msid}: gateway {mandate['state']}, ledger {sub['state']}")
        for order in mandate.get("redemptions", []):
            oid = order["merchantOrderId"]
            runs = [d for d in order.get("paymentDetails", []) if d.get("state") == "COMPLETED"]
            executed += len(runs)
            if len(runs) > 1:
                v.append(f"redemption {oid} of {msid} executed {len(runs)} times")
            debit = by_order.get(oid)
            if debit is None:
                v.append(f"gateway redemption {oid} of {msid} has no ledger debit")
                continue
            if debit["merchant_subscription_id"] != msid:
                v.append(
                    f"redemption {oid}: gateway mandate {msid}, ledger {debit['merchant_subscription_id']}"
                )
            if order["state"] == "COMPLETED":
                paid[(msid, int(debit["debit_period"]))] += 1
    for (msid, period), n in paid.items():
        if n > 1:
            v.append(f"mandate {msid} period {period} debited {n} times")
    for oid, d in by_order.items():
        expected = debit_order_id(
            d["merchant_subscription_id"], int(d["debit_period"]), int(d["debit_attempt"] or 1)
        )
        if oid != expected:
            v.append(f"debit {oid} is not the id derived from its mandate and period ({expected})")
        n = signals.get(oid, 0)
        if d["state"] == "COMPLETED" and n != 1:
            v.append(f"debit {oid}: debit_completed delivered {n} times")
        if d["state"] != "COMPLETED" and n:
            v.append(f"debit {oid} is {d['state']} but debit_completed was sent")
    for msid, sub in subs.items():
        if sub["state"] in _SUBSCRIPTION_OPEN:
            v.append(f"subscription {msid} still {sub['state']} after quiescence")
    counts = {
        "mandates": len(subs),
        "mandates_active": sum(1 for s in subs.values() if s["state"] == "ACTIVE"),
        "debits": len(debits),
        "debits_completed": sum(1 for d in debits if d["state"] == "COMPLETED"),
        "debits_failed": sum(1 for d in debits if d["state"] == "FAILED"),
        "debit_retries": sum(1 for d in debits if int(d["debit_attempt"] or 1) > 1),
        "debits_period_2_plus": sum(1 for d in debits if int(d["debit_period"]) >= 2),
        "redemptions_executed": executed,
    }
    return v, counts


def _mandates_settled(url: str, sandbox: str) -> bool:
    """Every mandate's state in the ledger is the gateway's, and no debit is open."""
    try:
        mandates = httpx.get(sandbox + "/_sandbox/subscriptions", timeout=30).json()[
            "subscriptions"
        ]
    except (httpx.HTTPError, ValueError, KeyError):
        return False
    ledger = {
        s["merchant_subscription_id"]: s["state"]
        for s in _rows(url, "SELECT merchant_subscription_id, state FROM phonepe_subscription")
    }
    return all(ledger.get(m["merchantSubscriptionId"]) == m["state"] for m in mandates)


# -- the run -------------------------------------------------------------------------------


def _service_env(
    base: dict[str, str], cluster: Cluster, sandbox: str, data_dir: Path
) -> dict[str, str]:
    return {
        **base,
        "DATABASE_URL": cluster.url,
        "PHONEPE_ENV": "local",
        # A loopback test rig: the services run with DEBUG off, which phonepe.E006 refuses
        # in local mode unless it is allowed explicitly.
        "PHONEPE_ALLOW_LOCAL": "true",
        "PHONEPE_LOCAL_URL": sandbox,
        "PHONEPE_SERVICE_API_KEYS": API_KEY,
        "PHONEPE_SERVICE_DATA_DIR": str(data_dir),
        "PHONEPE_SERVICE_EXTRA_APPS": "benchmarks.chaos_receiver",
        "PHONEPE_SERVICE_CONN_MAX_AGE": "0",
        "PHONEPE_SERVICE_LOG_LEVEL": "WARNING",
        "PHONEPE_SERVICE_CALL_LOG": "immediate",
        "PHONEPE_CONNECT_TIMEOUT": "1",
        "PHONEPE_READ_TIMEOUT": "2",
        "PHONEPE_TIMEOUT": "6",
        "PHONEPE_IDEMPOTENCY_STALE": "8",
        "PHONEPE_REFUND_DUPLICATES": "true",
        "PHONEPE_RECONCILE_LEASE": "15",
        # UPI AutoPay on a short fuse: redeem as soon as PhonePe allows (the sandbox clock
        # jumps 25 h), retry a failed debit after 3 s, look at live mandates every 5 s
        "PHONEPE_DEBIT_NOTICE_MIN": "1",
        # (DAILY mandates: period 1 due within seconds; for the half that start a day late
        # period 2 as well)
        "PHONEPE_DEBIT_NOTIFY_AHEAD": "10",
        "PHONEPE_DEBIT_RETRY_AFTER": "3",
        "PHONEPE_SUBSCRIPTION_CHECK_INTERVAL": "5",
        "PYTHONPATH": str(ROOT),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    stats = Stats()
    work = Path(tempfile.mkdtemp(prefix="phonepe-chaos-"))
    procs = Processes()
    result: dict[str, Any] = {"logs": str(work)}
    with ExitStack() as stack:
        cluster = stack.enter_context(postgres())
        stack.callback(procs.stop_all)
        # The throwaway cluster is started with synchronous_commit=off (tests never crash
        # it; its command line beats ALTER SYSTEM): here crashes are the point, so every
        # session turns it back on and a committed row survives pg_ctl restart -m immediate.
        cluster.url += "?options=-c%20synchronous_commit%3Don"
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
            conn.execute(
                "CREATE TABLE chaos_completion (merchant_order_id text UNIQUE, pid int, duplicate_of text, at timestamptz DEFAULT now())"
            )
            conn.execute(
                "CREATE TABLE chaos_completion_dup (merchant_order_id text, pid int, duplicate_of text, at timestamptz DEFAULT now())"
            )
            conn.execute(
                "CREATE TABLE chaos_debit (merchant_order_id text UNIQUE, pid int, at timestamptz DEFAULT now())"
            )
            conn.execute(
                "CREATE TABLE chaos_debit_dup (merchant_order_id text, pid int, at timestamptz DEFAULT now())"
            )
        ports = [_free_port() for _ in range(3)]
        sandbox = f"http://127.0.0.1:{ports[0]}"
        services = [f"http://127.0.0.1:{p}" for p in ports[1:]]
        hook_url = services[0] + "/api/webhooks/phonepe"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEPE_")}
        sb = procs.start(
            [
                PHONEPE,
                "sandbox",
                "--port",
                str(ports[0]),
                "--webhook-url",
                hook_url,
                "--seed",
                str(args.seed),
            ],
            env,
            work / "sandbox.log",
        )
        _wait_http(sandbox + "/_sandbox", sb, "the sandbox")
        masters = []
        for n, port in enumerate(ports[1:]):
            data_dir = work / f"service-{n}"
            data_dir.mkdir()
            proc = procs.start(
                [PHONEPE, "serve", "--port", str(port), "--workers", str(args.workers)],
                _service_env(env, cluster, sandbox, data_dir),
                work / f"service-{n}.log",
            )
            _wait_http(f"http://127.0.0.1:{port}/healthz", proc, f"service {n}")
            masters.append(proc.pid)
        log(f"sandbox {sandbox}, services {services}, logs in {work}")

        install_faults(sandbox, args.fault_rate, stats)
        stop = threading.Event()
        started = time.monotonic()
        until = started + args.duration + args.quiesce  # keys keep retrying into quiescence
        merchants = [
            Merchant(services, sandbox, stats, args.seed * 100 + i) for i in range(args.threads)
        ]
        threads = [
            threading.Thread(target=m.run, args=(stop, until, args.autopay), daemon=True)
            for m in merchants
        ]
        if args.autopay > 0:
            threads.append(
                threading.Thread(
                    target=clock_jumper,
                    args=(sandbox, args.clock_jump, stop, stats),
                    daemon=True,
                )
            )
        threads.append(
            threading.Thread(
                target=killer,
                args=(masters, args.kill_every, stop, random.Random(args.seed + 1), stats),
                daemon=True,
            )
        )
        threads.append(
            threading.Thread(
                target=restarter,
                args=(cluster, args.db_restarts, args.duration, stop, stats),
                daemon=True,
            )
        )
        for thread in threads:
            thread.start()
        rss: list[tuple[float, list[int]]] = []
        while time.monotonic() - started < args.duration:
            webhook_weather(sandbox, hook_url, rng, stats)
            rss.append(
                (time.monotonic() - started, [rss_kib(w) for m in masters for w in children(m)])
            )
            time.sleep(min(5.0, max(0.1, args.duration - (time.monotonic() - started))))
        stop.set()
        log("quiescing: faults off, clock past every expiry and settlement")
        count_fired(sandbox, stats)
        httpx.delete(sandbox + "/_sandbox/faults", timeout=10)
        httpx.put(
            sandbox + "/_sandbox/webhooks/config",
            json={
                "url": hook_url,
                "username": "sandboxhook",
                "password": "sandboxpass1",
                "duplicates": 0,
                "delay_ms": 0,
                "shuffle": False,
                "drop": False,
            },
            timeout=10,
        )
        for thread in threads:
            thread.join(timeout=args.quiesce)
        httpx.post(sandbox + "/_sandbox/clock/advance", json={"seconds": 7200}, timeout=10)
        deadline = time.monotonic() + args.quiesce
        jumps, next_jump = 0, time.monotonic()
        while time.monotonic() < deadline:
            open_rows = _rows(
                cluster.url,
                "SELECT (SELECT count(*) FROM phonepe_payment WHERE state IN ('CREATED','PENDING','UNKNOWN')) + (SELECT count(*) FROM phonepe_refund WHERE state IN ('CREATED','PENDING','UNKNOWN')) + (SELECT count(*) FROM phonepe_subscription WHERE state IN ('CREATED','PENDING','UNKNOWN')) AS n",
            )[0]["n"]
            if args.autopay > 0 and open_rows and jumps < 12 and time.monotonic() >= next_jump:
                # A debit notified (or retried) meanwhile may run 24 h after its notice; a
                # period failing three times takes a jump per attempt.
                httpx.post(
                    sandbox + "/_sandbox/clock/advance", json={"seconds": 90_000}, timeout=10
                )
                jumps, next_jump = jumps + 1, time.monotonic() + 20
            if open_rows == 0 and (args.autopay <= 0 or _mandates_settled(cluster.url, sandbox)):
                break
            time.sleep(1)
        for merchant in merchants:
            merchant.close()
        violations = check(cluster.url, sandbox, stats)
        autopay_counts: dict[str, int] = {}
        if args.autopay > 0:
            debit_violations, autopay_counts = check_debits(cluster.url, sandbox)
            violations += debit_violations
        counts = _rows(
            cluster.url,
            "SELECT (SELECT count(*) FROM phonepe_payment) AS payments, (SELECT count(*) FROM phonepe_refund) AS refunds, (SELECT count(*) FROM phonepe_payment WHERE superseded_by <> '') AS superseded, (SELECT count(*) FROM phonepe_payment WHERE duplicate_of <> '') AS duplicates",
        )[0]
        warm = [max(s) for t, s in rss if s and t >= args.duration * 0.2]
        result.update(
            {
                "duration_s": args.duration,
                "operations": sum(stats.operations.values()),
                "by_operation": dict(stats.operations),
                "answers": dict(stats.answers),
                "worker_kills": stats.kills,
                "db_restarts": stats.db_restarts,
                "faults": dict(stats.faults),
                "fault_rate": args.fault_rate,
                "ledger": counts,
                "autopay": autopay_counts,
                "worker_rss_kib_first_last_after_warmup": [warm[0], warm[-1]] if warm else None,
                "violations": violations,
            }
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of chaos")
    parser.add_argument("--quiesce", type=float, default=150.0, help="max seconds to settle")
    parser.add_argument("--threads", type=int, default=6, help="merchant threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per service")
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between SIGKILLs")
    parser.add_argument("--db-restarts", type=int, default=3)
    parser.add_argument("--fault-rate", type=float, default=0.03, help="probability per rule")
    parser.add_argument(
        "--autopay", type=float, default=0.15, help="share of operations on mandates (0: none)"
    )
    parser.add_argument(
        "--clock-jump", type=float, default=20.0, help="seconds between 25 h sandbox clock jumps"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="write the result here")
    args = parser.parse_args(argv)
    result = run(args)
    for line in result["violations"]:
        print("VIOLATION", line)
    summary = {k: v for k, v in result.items() if k != "violations"}
    print(json.dumps({**summary, "violations": len(result["violations"])}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 1 if result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
