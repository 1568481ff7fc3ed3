"""POST /api/webhooks/phonepe: 200 only once stored; 401/400/413/503; processing as a hint."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.test import Client

from phonepe_gateway.django.api_webhooks import workers
from phonepe_gateway.django.models import Payment, WebhookEvent

from .conftest import order_event, post_json, wait_for, webhook_auth

pytestmark = pytest.mark.django_db(transaction=True)

HOOK = "/api/webhooks/phonepe"


def _deliver(body: bytes, authorization: str | None = None, **extra: str):
    headers = {"HTTP_AUTHORIZATION": authorization or webhook_auth(), **extra}
    return Client().post(HOOK, data=body, content_type="application/json", **headers)


def _pending_payment(api: Client, control, amount: int = 5000) -> str:
    order_id = post_json(api, "/api/payments", {"amount": amount}).json()["merchant_order_id"]
    control.post(f"/_sandbox/orders/{order_id}/complete")
    return order_id


def test_webhook_when_authentic_then_200_stored_and_payment_confirmed(api, control) -> None:
    order_id = _pending_payment(api, control)
    response = _deliver(order_event(order_id, 5000))
    assert response.status_code == 200
    assert response.json() == {"status": "stored", "duplicate": False}
    event = WebhookEvent.objects.get()
    assert event.merchant_order_id == order_id
    assert event.processing_result == "applied"
    assert Payment.objects.get().state == "COMPLETED"


def test_webhook_when_redelivered_then_200_duplicate_one_row(api, control) -> None:
    order_id = _pending_payment(api, control)
    body = order_event(order_id, 5000)
    assert _deliver(body).json()["duplicate"] is False
    again = _deliver(body)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1


def test_webhook_when_forged_then_401_nothing_stored_no_change(api, control) -> None:
    order_id = _pending_payment(api, control)
    response = _deliver(order_event(order_id, 5000), webhook_auth("sandboxhook", "guess12345"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook_unauthenticated"
    assert not WebhookEvent.objects.exists()
    assert Payment.objects.get().state == "PENDING"


def test_webhook_when_claim_contradicted_by_gateway_then_no_transition(api, control) -> None:
    order_id = post_json(api, "/api/payments", {"amount": 5000}).json()["merchant_order_id"]
    response = _deliver(order_event(order_id, 5000))  # says COMPLETED; the gateway says PENDING
    assert response.status_code == 200
    assert WebhookEvent.objects.get().processing_result == "contradicted"
    assert Payment.objects.get().state == "PENDING"


def test_webhook_when_malformed_then_400(phonepe) -> None:
    response = _deliver(b"{this is not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_malformed"
    assert not WebhookEvent.objects.exists()


def test_webhook_when_oversized_then_413_before_verification(phonepe) -> None:
    body = b'{"event": "checkout.order.completed", "pad": "' + b"x" * (64 * 1024) + b'"}'
    response = _deliver(body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "webhook_too_large"
    assert not WebhookEvent.objects.exists()


def test_webhook_when_exactly_at_limit_then_not_413(phonepe) -> None:
    body = b"x" * (64 * 1024)
    assert _deliver(body).status_code == 400


def test_webhook_oversized_over_socket_then_413_without_reading_body(live_server, phonepe) -> None:
    # Announce 10 MB and send none of it: the answer must come from the headers alone.
    url = urlsplit(live_server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/webhooks/phonepe HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000000\r\n"
            b"Authorization: " + webhook_auth().encode() + b"\r\n\r\n"
        )
        head = sock.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413")


@contextlib.contextmanager
def database_unreachable() -> Iterator[None]:
    """Point every new connection at a database that does not exist, then restore it."""
    settings_dict = connections["default"].settings_dict
    saved = dict(settings_dict)
    if connections["default"].vendor == "postgresql":
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            free_port = probe.getsockname()[1]
        settings_dict["PORT"] = free_port
        settings_dict["HOST"] = "127.0.0.1"
    else:
        settings_dict["NAME"] = "/nonexistent-dir/phonepe.sqlite3"
    connections["default"].close()
    try:
        yield
    finally:
        settings_dict.clear()
        settings_dict.update(saved)
        connections["default"].close()


def test_webhook_when_database_down_then_503_and_processed_after_phonepe_retry(
    settings, live_server, api, control
) -> None:
    settings.PHONEPE_WEBHOOK_PROCESSING = "background"
    control.put("/_sandbox/webhooks/config", json={"url": live_server.url + HOOK})
    order_id = post_json(api, "/api/payments", {"amount": 7000}).json()["merchant_order_id"]

    with database_unreachable():
        control.post(f"/_sandbox/orders/{order_id}/complete")

        def first_attempt():
            for delivery in control.get("/_sandbox/webhooks").json()["deliveries"]:
                if delivery["attempts"]:
                    return delivery
            return None

        delivery = wait_for(first_attempt, what="the sandbox's first delivery")
    assert delivery["attempts"][0]["status"] == 503
    assert not WebhookEvent.objects.exists()
    assert Payment.objects.get().state == "PENDING"

    # PhonePe retries on its schedule; the sandbox's first retry is 5 of its seconds later.
    control.post("/_sandbox/clock/advance", json={"seconds": 6})
    wait_for(
        lambda: Payment.objects.filter(state="COMPLETED").exists(),
        what="the payment to complete after the retry",
    )
    # The transition commits before the event's processing result is written.
    wait_for(
        lambda: WebhookEvent.objects.filter(processing_result="applied").exists(),
        what="the stored event to be marked applied",
    )

    def statuses():
        attempts = control.get("/_sandbox/webhooks").json()["deliveries"][0]["attempts"]
        return [a["status"] for a in attempts]

    wait_for(lambda: len(statuses()) == 2, what="the sandbox to record the retry")
    assert statuses() == [503, 200]


def test_webhook_ack_does_not_wait_for_slow_gateway(settings, api, control) -> None:
    settings.PHONEPE_WEBHOOK_PROCESSING = "background"
    order_id = _pending_payment(api, control)
    control.post(
        "/_sandbox/faults",
        json={
            "method": "GET",
            "path": f"/checkout/v2/order/{order_id}/status",
            "action": "delay",
            "delay_ms": 1500,
            "times": 1,
        },
    )
    response = _deliver(order_event(order_id, 5000))
    assert response.status_code == 200
    # Acknowledged while the status call (which the processing needs) is still delayed.
    assert WebhookEvent.objects.get().processed_at is None
    assert workers.wait_idle(timeout=20)
    assert Payment.objects.get().state == "COMPLETED"


def test_webhook_get_then_json_405(phonepe) -> None:
    response = Client().get(HOOK)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
