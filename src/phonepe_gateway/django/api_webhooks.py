"""``POST /api/webhooks/phonepe``: store first, acknowledge, then process in the background.

Order of work: size limit from ``Content-Length`` (413 before a byte is read), then the
body is read with a hard cap (413 for chunked bodies over it), then the inbox verifies
and stores it durably (401/400, or 503 when the database cannot take it so PhonePe
retries); the ``200`` leaves only after that commit.

Processing (a status-API call per event) must not delay the acknowledgement: PhonePe
wants a 2xx within 3-5 s and the gateway may be slow. So a stored event goes to a small
bounded in-process queue served by daemon threads (Django setting
``PHONEPE_WEBHOOK_PROCESSING``: ``"background"``, the default; ``"inline"`` processes before
answering, for hosts without threads; ``"deferred"`` leaves it to ``phonepe_replay_webhooks``). If the queue is
full or the process dies, the event stays unprocessed in the inbox, where the replay
command finds it, and the reconciler settles the payment anyway.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from . import signals
from .conf import app_setting
from .exceptions import WebhookRejected
from .models import WebhookEvent
from .schemas import ErrorOut, WebhookAckOut

__all__ = ["WebhookWorkers", "router", "workers"]

logger = logging.getLogger("phonepe_gateway.webhooks")

router = Router(tags=["webhooks"])


class WebhookWorkers:
    """A bounded queue of inbox event ids and the threads that process them."""

    def __init__(self, threads: int = 2, capacity: int = 1000) -> None:
        #: (event id, monotonic time it was queued)
        self._queue: queue.Queue[tuple[int, float]] = queue.Queue(maxsize=capacity)
        self._threads = threads
        self._started = False
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._queued: set[int] = set()

    def submit(self, event_id: int) -> bool:
        """Queue an event; False when the queue is full (the event waits for a replay)."""
        self._ensure_started()
        with self._lock:
            if event_id in self._queued:
                return True  # a redelivery of an event already waiting: process it once
            try:
                self._queue.put_nowait((event_id, time.monotonic()))
            except queue.Full:
                logger.warning("webhook queue full; event %s left for replay", event_id)
                return False
            self._queued.add(event_id)
            self._busy += 1
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued event was processed (tests, graceful shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _ensure_started(self) -> None:
        if self._started:
            return
        with self._lock:
            if not self._started:
                for n in range(self._threads):
                    threading.Thread(
                        target=self._run, name=f"phonepe-webhook-{n}", daemon=True
                    ).start()
                self._started = True

    def _run(self) -> None:
        from .middleware import in_flight

        while True:
            event_id, queued_at = self._queue.get()
            # Acknowledgements first: let the requests in flight (a burst of callbacks)
            # finish before spending CPU on status calls. Bounded by the event's age, so
            # under steady traffic processing runs at full speed, at most this far behind.
            in_flight.wait_quiet(max(0.0, queued_at + _YIELD_SECONDS - time.monotonic()))
            with self._lock:
                self._queued.discard(event_id)
            try:
                _process(event_id)
            finally:
                close_old_connections()
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()


def _process(event_id: int) -> None:
    from .services import process_webhook

    try:
        process_webhook(event_id)
    except Exception:  # the event stays unprocessed; the replay command retries it
        logger.exception("processing webhook event %s failed", event_id)


#: Longest a queued event is held back (from when it was queued) while requests are in flight.
_YIELD_SECONDS = 1.0

workers = WebhookWorkers()


def _too_large() -> WebhookRejected:
    signals.webhook_received.send(sender=WebhookEvent, event=None, outcome="too_large")
    return WebhookRejected("Webhook body is too large.", code="webhook_too_large", http_status=413)


def _read_body(request: HttpRequest, limit: int) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _too_large()
    body = request.read(limit + 1)
    if len(body) > limit:
        raise _too_large()
    return body


def _headers(request: HttpRequest) -> dict[str, str]:
    return {str(k): str(v) for k, v in request.headers.items()}


_outcome: contextvars.ContextVar[str] = contextvars.ContextVar(
    "phonepe_webhook_outcome", default=""
)


@receiver(signals.webhook_received, dispatch_uid="phonepe_api_webhook_outcome")
def _remember_outcome(sender: Any, outcome: str = "", **kwargs: Any) -> None:
    _outcome.set(str(outcome))


@router.post(
    "/webhooks/phonepe",
    auth=None,
    response={200: WebhookAckOut, frozenset({400, 401, 413, 503}): ErrorOut},
    summary="PhonePe callback (authenticated by the webhook credentials)",
)
def phonepe_webhook(request: HttpRequest) -> HttpResponse:
    from .services import process_webhook, receive_webhook

    body = _read_body(request, int(app_setting("webhook_max_bytes")))
    _outcome.set("")
    event = receive_webhook(_headers(request), body)
    duplicate = _outcome.get() == "duplicate"
    mode = getattr(settings, "PHONEPE_WEBHOOK_PROCESSING", "background")
    if event.processed_at is None:
        if mode == "inline":
            try:
                process_webhook(event)
            except Exception:
                logger.exception("processing webhook event %s failed", event.pk)
        elif mode == "background" and not connection.in_atomic_block:
            workers.submit(int(event.pk))
    return JsonResponse({"status": "stored", "duplicate": duplicate})
