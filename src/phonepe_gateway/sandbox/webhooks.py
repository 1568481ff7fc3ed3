"""The webhook sender: PhonePe's callbacks, with retries, a delivery log and chaos options.

Generation 2 events are POSTed as ``{"event", "type", "payload"}`` with
``Authorization: sha256hex(username:password)``; generation 1 events go to the order's
``callbackUrl`` as ``{"response": base64(json)}`` with ``X-VERIFY``. A non-2xx answer
(or none) is retried after :data:`RETRY_DELAYS` sandbox seconds. ``duplicates``,
``delay_ms``, ``shuffle`` and ``drop`` imitate PhonePe's delivery guarantees (at least
once, no order). Targets must be loopback unless the config allows remote ones (a
refused target is logged as a failed attempt, never contacted). The sender never
changes order or refund state.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from .._config import mask
from .clock import SandboxClock
from .config import SandboxConfig
from .guard import is_loopback_url
from .models import Event, Order
from .views import gen1_order_json, gen1_refund_json, webhook_body

__all__ = ["RETRY_DELAYS", "Delivery", "WebhookSender", "WebhookSettings"]

#: Sandbox seconds to wait after failed attempt 1, 2, …; then the delivery is given up.
RETRY_DELAYS: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600)
#: Deliveries kept in the log; the oldest finished ones are forgotten beyond this.
MAX_LOG = 10_000


@dataclass
class WebhookSettings:
    url: str | None
    username: str
    password: str = field(repr=False)
    duplicates: int = 0
    delay_ms: int = 0
    shuffle: bool = False
    drop: bool = False

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["password"] = mask(self.password)
        return out


@dataclass
class Delivery:
    id: str
    event: str
    generation: int
    body: bytes
    merchant_id: str
    callback_url: str | None
    created_at: float
    next_attempt_at: float | None
    state: str = "pending"  # pending | delivered | failed | dropped | no_url
    attempts: list[dict[str, Any]] = field(default_factory=list)
    duplicate_of: str | None = None
    redelivery_of: str | None = None
    in_flight: bool = False

    def public(self) -> dict[str, Any]:
        try:
            body: Any = json.loads(self.body)
        except ValueError:
            body = self.body.decode("utf-8", "replace")
        return {
            "id": self.id,
            "event": self.event,
            "generation": self.generation,
            "state": self.state,
            "url": self.callback_url,
            "body": body,
            "created_at": int(self.created_at * 1000),
            "next_attempt_at": None
            if self.next_attempt_at is None
            else int(self.next_attempt_at * 1000),
            "attempts": list(self.attempts),
            "duplicate_of": self.duplicate_of,
            "redelivery_of": self.redelivery_of,
        }


def authorization(username: str, password: str) -> str:
    return hashlib.sha256(f"{username}:{password}".encode()).hexdigest()


class WebhookSender:
    def __init__(
        self, config: SandboxConfig, clock: SandboxClock, *, wake: Callable[[], None] = lambda: None
    ) -> None:
        self.config = config
        self.clock = clock
        self._wake = wake
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)  # noqa: S311 -- seeded on purpose: --seed replays a run
        self._seq = 0
        self.deliveries: dict[str, Delivery] = {}
        #: Deliveries still to be attempted (the ticker scans only these).
        self._pending: dict[str, Delivery] = {}
        self.settings = self._default_settings()

    def _default_settings(self) -> WebhookSettings:
        return WebhookSettings(
            self.config.webhook_url, self.config.webhook_username, self.config.webhook_password
        )

    # -- queueing (any thread) --------------------------------------------------------------

    def enqueue(self, event: Event) -> None:
        """State listener: turn an event into one delivery (plus configured duplicates)."""
        body, callback = self._body(event)
        with self._lock:
            now = self.clock.now()
            first = now + self.settings.delay_ms / 1000
            original: Delivery | None = None
            for _ in range(1 + max(0, self.settings.duplicates)):
                due = first
                if self.settings.shuffle:
                    due += self._rng.uniform(0, max(self.settings.delay_ms / 1000, 2.0))
                delivery = self._new(
                    event.name, event.generation, body, event.record.merchant_id, callback, due
                )
                delivery.duplicate_of = original.id if original else None
                if self.settings.drop:
                    delivery.state, delivery.next_attempt_at = "dropped", None
                    self._pending.pop(delivery.id, None)
                elif (callback or self.settings.url) is None:
                    # Nowhere to send: logged, never attempted (redeliver once a URL is set).
                    delivery.state, delivery.next_attempt_at = "no_url", None
                    self._pending.pop(delivery.id, None)
                original = original or delivery
        self._wake()

    def _new(
        self,
        name: str,
        generation: int,
        body: bytes,
        merchant_id: str,
        callback: str | None,
        due: float,
    ) -> Delivery:
        self._seq += 1
        delivery = Delivery(
            id=f"wh_{self._seq}",
            event=name,
            generation=generation,
            body=body,
            merchant_id=merchant_id,
            callback_url=callback,
            created_at=self.clock.now(),
            next_attempt_at=due,
        )
        self.deliveries[delivery.id] = delivery
        self._pending[delivery.id] = delivery
        if len(self.deliveries) > MAX_LOG:  # forget the oldest finished deliveries
            for key in [
                k for k in list(self.deliveries)[: MAX_LOG // 10] if k not in self._pending
            ]:
                del self.deliveries[key]
        return delivery

    def _body(self, event: Event) -> tuple[bytes, str | None]:
        record = event.record
        if event.generation == 2:
            return json.dumps(webhook_body(event.name, record, event.payload)).encode(), None
        data = gen1_order_json(record) if isinstance(record, Order) else gen1_refund_json(record)
        encoded = base64.b64encode(json.dumps(data).encode()).decode()
        return json.dumps({"response": encoded}).encode(), record.callback_url

    def redeliver(self, delivery_id: str) -> Delivery | None:
        with self._lock:
            old = self.deliveries.get(delivery_id)
            if old is None:
                return None
            new = self._new(
                old.event,
                old.generation,
                old.body,
                old.merchant_id,
                old.callback_url,
                self.clock.now(),
            )
            new.redelivery_of = old.id
        self._wake()
        return new

    def configure(self, **changes: Any) -> WebhookSettings:
        with self._lock:
            for key, value in changes.items():
                setattr(self.settings, key, value)
            return self.settings

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self._pending.clear()
            self._seq = 0
            self._rng = random.Random(self.config.seed)  # noqa: S311 -- seeded on purpose: --seed replays a run
            self.settings = self._default_settings()

    def public(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d.public() for d in self.deliveries.values()]

    # -- sending (the event loop) -----------------------------------------------------------

    def take_due(self) -> list[Delivery]:
        """Deliveries whose next attempt is due, marked in flight (shuffled if configured)."""
        with self._lock:
            now = self.clock.now()
            due = [
                d
                for d in self._pending.values()
                if d.state == "pending"
                and not d.in_flight
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
            ]
            if self.settings.shuffle:
                self._rng.shuffle(due)
            for d in due:
                d.in_flight = True
            return due

    def next_due(self) -> float | None:
        with self._lock:
            times = [
                d.next_attempt_at
                for d in self._pending.values()
                if d.state == "pending" and not d.in_flight and d.next_attempt_at is not None
            ]
        return min(times) if times else None

    def _target(self, delivery: Delivery) -> tuple[str | None, dict[str, str]]:
        headers = {"Content-Type": "application/json", "User-Agent": "PhonePe-Sandbox-Webhook"}
        if delivery.generation == 2:
            s = self.settings
            headers["Authorization"] = authorization(s.username, s.password)
            return s.url, headers
        salt, index = self.config.merchants().get(
            delivery.merchant_id, (self.config.salt_key, self.config.salt_index)
        )
        encoded = json.loads(delivery.body)["response"]
        headers["X-VERIFY"] = hashlib.sha256((encoded + salt).encode()).hexdigest() + f"###{index}"
        return delivery.callback_url or self.settings.url, headers

    async def send(self, delivery: Delivery, client: httpx.AsyncClient) -> None:
        url, headers = self._target(delivery)
        number = len(delivery.attempts) + 1
        record: dict[str, Any] = {
            "attempt": number,
            "at": self.clock.now_ms(),
            "url": url,
            "status": None,
            "response": None,
            "error": None,
        }
        started = time.perf_counter()
        try:
            if url is None:
                record["error"] = "no webhook URL configured (PUT /_sandbox/webhooks/config)"
            elif not (self.config.allow_remote_webhooks or is_loopback_url(url)):
                record["error"] = (
                    "not sent: webhooks go to loopback hosts only "
                    "(start the sandbox with --allow-remote-webhooks)"
                )
            else:
                answer = await client.post(
                    url, content=delivery.body, headers=headers, timeout=self.config.webhook_timeout
                )
                record["status"] = answer.status_code
                record["response"] = answer.text[:1000]
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        record["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
        record["authorization"] = mask(headers.get("Authorization") or headers.get("X-VERIFY"))
        self._finish(delivery, record)

    def _finish(self, delivery: Delivery, record: dict[str, Any]) -> None:
        with self._lock:
            delivery.attempts.append(record)
            delivery.in_flight = False
            status = record["status"]
            if status is not None and 200 <= status < 300:
                delivery.state, delivery.next_attempt_at = "delivered", None
                self._pending.pop(delivery.id, None)
            elif len(delivery.attempts) <= len(RETRY_DELAYS):
                delivery.next_attempt_at = (
                    self.clock.now() + RETRY_DELAYS[len(delivery.attempts) - 1]
                )
            else:
                delivery.state, delivery.next_attempt_at = "failed", None
                self._pending.pop(delivery.id, None)
