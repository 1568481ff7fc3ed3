"""Webhook storm: the sandbox delivers every event several times, shuffled, to a real
receiver on a loopback port, while a thread keeps syncing and another runs the
reconciler. Every payment must make exactly one transition and send one signal."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from phonepe_gateway.django import reconcile, services
from phonepe_gateway.django.exceptions import PaymentsError
from phonepe_gateway.django.models import Payment, WebhookEvent
from phonepe_gateway.sandbox.testing import serve_app

from .conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

N = 12


def _handle(headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    try:
        event = services.receive_webhook(headers, body)
        services.process_webhook(event)
        return 200, {"id": event.pk}
    except PaymentsError as exc:
        return exc.http_status, exc.to_dict()
    finally:
        connections.close_all()  # threadpool threads are reused; do not leak connections


async def receiver(request: Request) -> JSONResponse:
    body = await request.body()
    status, data = await run_in_threadpool(_handle, dict(request.headers), body)
    return JSONResponse(data, status_code=status)


def _keep_running(stop: threading.Event, work) -> threading.Thread:
    def loop() -> None:
        try:
            while not stop.is_set():
                work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def test_webhook_storm_with_racing_sync_and_reconciler_then_one_transition_each(
    phonepe_sandbox, signal_log
) -> None:
    app = Starlette(routes=[Route("/hook", receiver, methods=["POST"])])
    with serve_app(app) as hook:
        phonepe_sandbox.webhooks(url=hook.url + "/hook", duplicates=3, shuffle=True)
        payments = [services.create_payment(amount=1000 + i) for i in range(N)]
        ids = [p.merchant_order_id for p in payments]
        stop = threading.Event()

        def sync_all() -> None:
            for mid in ids:
                with contextlib.suppress(PaymentsError):
                    services.sync_payment(mid)

        def reconcile_everything() -> None:
            # Far-future "now": every open payment is due on every pass.
            reconcile.run_once(now=timezone.now() + timedelta(days=1))

        threads = [_keep_running(stop, sync_all), _keep_running(stop, reconcile_everything)]
        try:
            for i, mid in enumerate(ids):
                (phonepe_sandbox.complete if i % 3 else phonepe_sandbox.fail)(mid)
            expected_deliveries = N * 4
            wait_for(
                lambda: (
                    sum(d["state"] == "delivered" for d in phonepe_sandbox.deliveries())
                    >= expected_deliveries
                ),
                timeout=60,
                what="every webhook delivery to be acknowledged",
            )
            wait_for(
                lambda: (
                    not Payment.objects.filter(merchant_order_id__in=ids)
                    .exclude(state__in=("COMPLETED", "FAILED"))
                    .exists()
                ),
                what="every payment to settle",
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)

    for i, mid in enumerate(ids):
        expected = "payment_completed" if i % 3 else "payment_failed"
        assert signal_log.of(mid) == [expected], mid
        assert Payment.objects.get(merchant_order_id=mid).state == expected.split("_")[1].upper()
    # Duplicates were deduplicated by body: one inbox row per event.
    assert WebhookEvent.objects.count() == N
    assert set(WebhookEvent.objects.values_list("processing_result", flat=True)) <= {
        "applied",
        "no_change",
    }
