"""Staff pages: occupancy, payments with their gateway state, partial refunds, the dashboard."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from lots.models import ParkingSession, SessionState
from phonepe_gateway.django import services as payments
from phonepe_gateway.django.models import GatewayCallLog, Payment, Refund


@pytest.fixture
def desk(db: None) -> Client:
    user = get_user_model().objects.create_user("asha", password="x-long-pass-1", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def paid(
    driver: Client, due: ParkingSession, gateway: Any, django_capture_on_commit_callbacks: Any
) -> Payment:
    """The ticket paid for real: checkout created, completed in the sandbox, status synced."""
    driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": due.fee})
    payment = Payment.objects.get()
    httpx.post(f"{gateway.url}/_sandbox/orders/{payment.merchant_order_id}/complete", json={})
    with django_capture_on_commit_callbacks(execute=True):  # signals are sent after commit
        payment = payments.sync_payment(payment)
    assert payment.state == "COMPLETED"
    return payment


def test_staff_pages_when_logged_in_not_staff_then_sent_to_login(db: None) -> None:
    user = get_user_model().objects.create_user("driver", password="x-long-pass-1")
    client = Client()
    client.force_login(user)
    assert client.get("/staff/").status_code == 302


def test_occupancy_when_cars_parked_then_bays_show_plates(
    desk: Client, parked: ParkingSession
) -> None:
    page = desk.get("/staff/").content.decode()
    assert "MH 12 AB 1234" in page
    assert 'aria-valuenow="1"' in page


def test_sync_signal_when_payment_completes_then_ticket_paid(
    paid: Payment, due: ParkingSession
) -> None:
    due.refresh_from_db()
    assert (due.state, due.paid_order_id) == (SessionState.PAID, paid.merchant_order_id)


def test_payments_when_listed_then_gateway_state_and_ticket_shown(
    desk: Client, paid: Payment
) -> None:
    page = desk.get("/staff/payments/").content.decode()
    assert paid.merchant_order_id in page
    assert "COMPLETED" in page
    assert "Ticket #" in page


def test_refund_when_partial_with_reason_then_refund_started_through_gateway(
    desk: Client, paid: Payment, gateway: Any
) -> None:
    url = f"/staff/payments/{paid.merchant_order_id}/refund"
    response = desk.post(url, {"amount": "40", "reason": "Charged an extra hour"}, follow=True)
    assert "Refund of ₹40.00 started" in response.content.decode()
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason) == (4000, "Charged an extra hour (by asha)")
    at_gateway = httpx.get(f"{gateway.url}/_sandbox/refunds/{refund.merchant_refund_id}").json()
    assert at_gateway["amount"] == 4000
    paid.refresh_from_db()
    assert paid.refundable_amount == 8000


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"amount": "120.01", "reason": "too much"}, "Only ₹120.00 of this payment"),
        ({"amount": "0", "reason": "nothing"}, "positive amount"),
        ({"amount": "10.005", "reason": "fractions"}, "at most two decimals"),
        ({"amount": "ten", "reason": "words"}, "Enter an amount in rupees"),
        ({"amount": "10", "reason": ""}, "This field is required"),
    ],
)
def test_refund_when_form_invalid_then_explained_and_nothing_refunded(
    desk: Client, paid: Payment, form: dict[str, str], message: str
) -> None:
    response = desk.post(f"/staff/payments/{paid.merchant_order_id}/refund", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Refund.objects.exists()


def test_dashboard_when_calls_logged_then_three_charts_drawn(desk: Client, paid: Payment) -> None:
    GatewayCallLog.objects.create(
        call="order_status",
        outcome="transport_error",
        category="CONNECTION_REFUSED",
        duration_ms=3.0,
    )
    page = desk.get("/staff/dashboard/?hours=1").content.decode()
    assert page.count('<svg class="chart"') == 3
    assert "<polyline" in page or "<circle" in page
    assert "CONNECTION_REFUSED" in page
    assert "100.0%" in page


def test_payments_api_when_anonymous_then_refused(paid: Payment) -> None:
    response = Client().get(f"/api/payments/{paid.merchant_order_id}")
    assert response.status_code in (401, 403)


def test_check_pass_when_paid_then_may_leave(
    desk: Client, paid: Payment, due: ParkingSession
) -> None:
    from lots.ownership import exit_pass_code

    due.refresh_from_db()
    page = desk.get("/staff/pass/", {"code": exit_pass_code(due)}).content.decode()
    assert 'data-pass="valid"' in page


def test_check_pass_when_unpaid_or_forged_then_refused(desk: Client, due: ParkingSession) -> None:
    from lots.ownership import exit_pass_code

    code = exit_pass_code(due)
    assert 'data-pass="unpaid"' in desk.get("/staff/pass/", {"code": code}).content.decode()
    forged = code.replace(f":{due.pk}:", f":{due.pk + 1}:")
    assert 'data-pass="invalid"' in desk.get("/staff/pass/", {"code": forged}).content.decode()
