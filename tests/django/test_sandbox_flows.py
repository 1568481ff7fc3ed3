"""The real path: services -> PhonePeClient -> loopback sockets -> the local sandbox.

Lost answers, refused endpoints, forged and contradicted webhooks, refunds settling.
"""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import timedelta

import httpx
import pytest

from phonepe_gateway.django import reconcile, services
from phonepe_gateway.django.exceptions import GatewayUnavailable, WebhookRejected
from phonepe_gateway.django.models import GatewayCallLog, Payment

from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PAY = "/checkout/v2/pay"


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connections are refused
    return port


def test_create_payment_sandbox_then_pending_and_checkout_page_served(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=25_000, reference="parking-session:7")
    assert payment.state == "PENDING"
    assert payment.checkout_url.startswith(phonepe_sandbox.url)
    assert httpx.get(payment.checkout_url, timeout=5).status_code == 200
    assert phonepe_sandbox.order(payment.merchant_order_id)["amount"] == 25_000
    assert GatewayCallLog.objects.filter(call="create_payment", outcome="ok").count() == 1


def test_create_payment_every_answer_lost_then_unknown_then_reconciled_to_truth(
    phonepe_sandbox, signal_log
) -> None:
    # The sandbox creates the order and drops every answer (the client's retries too).
    phonepe_sandbox.fault(method="POST", path=PAY, action="drop_after_commit", times=10)
    with pytest.raises(GatewayUnavailable) as info:
        services.create_payment(amount=5000, merchant_order_id="LOST-1")
    assert info.value.code == "gateway_outcome_unknown"
    payment = Payment.objects.get(merchant_order_id="LOST-1")
    assert payment.state == "UNKNOWN"
    assert payment.error_category == "CONNECTION_RESET"
    assert phonepe_sandbox.order("LOST-1")["state"] == "PENDING"  # the gateway did act
    phonepe_sandbox.control("DELETE", "/faults")

    assert reconcile.run_once(now=payment.next_check_at) == 1  # UNKNOWN: due at once
    payment.refresh_from_db()
    assert payment.state == "PENDING"
    phonepe_sandbox.complete("LOST-1")
    assert reconcile.run_once(now=payment.next_check_at) == 1
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"
    assert payment.transaction_id
    assert signal_log.of("LOST-1") == ["payment_completed"]


def test_create_payment_answer_lost_once_then_link_healed_by_a_new_attempt(
    phonepe_sandbox,
) -> None:
    phonepe_sandbox.fault(method="POST", path=PAY, action="drop_after_commit", times=1)
    # The client's retry found the order through the status API, but its link was lost:
    # the service makes a new attempt under the same reference and returns its link.
    payment = services.create_payment(amount=5000, merchant_order_id="LOST-2", reference="t:2")
    assert payment.merchant_order_id == "LOST-2-L1"
    assert payment.state == "PENDING"
    assert payment.checkout_url.startswith(phonepe_sandbox.url)
    assert payment.reference == "t:2"
    lost = Payment.objects.get(merchant_order_id="LOST-2")
    assert lost.superseded_by == "LOST-2-L1"
    assert lost.state == "PENDING"
    assert lost.next_check_at is not None  # followed until it expires
    assert phonepe_sandbox.order("LOST-2-L1")["amount"] == 5000


def test_create_payment_refused_on_every_endpoint_then_failed_with_category(
    settings, signal_log
) -> None:
    ports = [closed_port(), closed_port()]
    settings.PHONEPE = {
        "env": "local",
        "base_urls": [f"http://127.0.0.1:{p}/apis/pg-sandbox" for p in ports],
        "connect_timeout": 1,
        "read_timeout": 2,
        "timeout": 5,
    }
    with pytest.raises(GatewayUnavailable) as info:
        services.create_payment(amount=5000, merchant_order_id="REFUSED-1")
    assert info.value.http_status == 503
    assert info.value.category is not None
    assert info.value.category.value == "CONNECTION_REFUSED"
    payment = Payment.objects.get(merchant_order_id="REFUSED-1")
    assert payment.state == "FAILED"
    assert payment.error_category == "CONNECTION_REFUSED"
    assert signal_log.of("REFUSED-1") == ["payment_failed"]


def signed(body: dict, password: str = "sandboxpass1") -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    auth = hashlib.sha256(f"sandboxhook:{password}".encode()).hexdigest()
    return {"Authorization": auth, "Content-Type": "application/json"}, raw


def completed_event(payment: Payment) -> dict:
    return {
        "event": "checkout.order.completed",
        "payload": {
            "merchantOrderId": payment.merchant_order_id,
            "orderId": payment.gateway_order_id,
            "state": "COMPLETED",
            "amount": payment.amount,
        },
    }


def test_receive_webhook_forged_then_rejected_and_nothing_changes(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=5000)
    headers, body = signed(completed_event(payment), password="not-the-password1")
    with pytest.raises(WebhookRejected) as info:
        services.receive_webhook(headers, body)
    assert info.value.http_status == 401
    payment.refresh_from_db()
    assert payment.state == "PENDING"


def test_process_webhook_authentic_but_gateway_says_pending_then_no_transition(
    phonepe_sandbox, signal_log
) -> None:
    payment = services.create_payment(amount=5000)
    # Correct credentials (the header is static, so anyone who saw one can replay it),
    # but the gateway has not seen a payment.
    event = services.receive_webhook(*signed(completed_event(payment)))
    services.process_webhook(event)
    event.refresh_from_db()
    payment.refresh_from_db()
    assert event.processing_result == "contradicted"
    assert payment.state == "PENDING"
    assert signal_log.of(payment.merchant_order_id) == []


def test_refund_payment_sandbox_then_pending_then_completed_after_settlement(
    phonepe_sandbox, signal_log
) -> None:
    payment = services.create_payment(amount=10_000)
    phonepe_sandbox.complete(payment.merchant_order_id)
    assert services.sync_payment(payment).state == "COMPLETED"
    refund = services.refund_payment(payment, amount=4000, merchant_refund_id="RF-1")
    assert refund.state == "PENDING"
    payment.refresh_from_db()
    assert payment.refundable_amount == 6000
    phonepe_sandbox.advance(60)
    refund = services.sync_refund("RF-1")
    assert refund.state == "COMPLETED"
    assert signal_log.of("RF-1") == ["refund_completed"]
    payment.refresh_from_db()
    assert payment.refunded_amount == 4000


def test_sync_payment_order_unknown_to_sandbox_then_failed_after_in_flight_window(
    phonepe_sandbox,
) -> None:
    payment = Payment.objects.create(merchant_order_id="NEVER-SENT", amount=1000, state="UNKNOWN")
    assert services.sync_payment(payment).state == "UNKNOWN"
    later = payment.created_at + timedelta(minutes=5)
    assert services.sync_payment(payment, now=later).state == "FAILED"


def test_late_authorisation_after_local_failed_then_completed_and_flagged(
    phonepe_sandbox, settings, signal_log
) -> None:
    # The pay request is held up in the network long enough for us to give up on it ...
    settings.PHONEPE = {**settings.PHONEPE, "read_timeout": 1, "timeout": 2, "max_retries": 0}
    phonepe_sandbox.fault(method="POST", path=PAY, action="delay", delay_ms=2500, times=1)
    with pytest.raises(GatewayUnavailable):
        services.create_payment(amount=5000, merchant_order_id="LATE-1")
    payment = Payment.objects.get(merchant_order_id="LATE-1")
    assert payment.state == "UNKNOWN"
    # ... the gateway does not know the order and no call can be in flight by our clock ...
    assert (
        services.sync_payment(payment, now=payment.created_at + timedelta(minutes=5)).state
        == "FAILED"
    )
    # ... then the held-up request lands, and the customer pays.
    wait_for(
        lambda: any(
            o["merchantOrderId"] == "LATE-1"
            for o in phonepe_sandbox.control("GET", "/orders")["orders"]
        ),
        what="the delayed pay request to land",
    )
    phonepe_sandbox.complete("LATE-1")
    late = services.sync_payment("LATE-1")
    assert late.state == "COMPLETED"
    assert late.needs_review
    assert "late authorisation" in late.review_reason
    assert signal_log.of("LATE-1") == ["payment_failed", "payment_completed"]
