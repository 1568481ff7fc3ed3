"""The exit terminal: staff only, ends the stay of the plate typed, shows the order's UPI QR."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from lots.models import Lot, ParkingSession
from phonepe_gateway.django import services as payments
from phonepe_gateway.django.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)  # payment signals are sent after commit


@pytest.fixture
def desk(lot: Lot) -> Client:
    user = get_user_model().objects.create_user("asha", password="x-long-pass-1", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_terminal_when_not_staff_then_sent_to_login(lot: Lot, parked: ParkingSession) -> None:
    response = Client().post(f"/staff/terminal/{lot.slug}/", {"plate": "MH 12 AB 1234"})
    assert response.status_code == 302
    assert "/staff/login/" in response["Location"]
    parked.refresh_from_db()
    assert parked.state == "PARKED"


def test_terminal_when_plate_unknown_then_explained_and_nothing_changed(
    desk: Client, lot: Lot, parked: ParkingSession
) -> None:
    response = desk.post(f"/staff/terminal/{lot.slug}/", {"plate": "KA 01 AB 0001"})
    assert response.status_code == 400
    assert "No car with that number is parked here" in response.content.decode()
    parked.refresh_from_db()
    assert parked.state == "PARKED"


def test_terminal_when_plate_parked_then_fee_fixed_and_upi_qr_paid_opens_barrier(
    desk: Client, lot: Lot, parked: ParkingSession, gateway: Any
) -> None:
    response = desk.post(f"/staff/terminal/{lot.slug}/", {"plate": "mh12ab1234"})
    assert response["Location"] == f"/staff/terminal/{lot.slug}/{parked.pk}/"
    parked.refresh_from_db()
    assert (parked.state, parked.fee) == ("PAYMENT_DUE", 12000)

    desk.post(f"/staff/terminal/{lot.slug}/{parked.pk}/qr")
    desk.post(f"/staff/terminal/{lot.slug}/{parked.pk}/qr")  # pressed twice: one order
    payment = Payment.objects.get()
    assert (payment.instrument, payment.amount) == ("UPI_QR", 12000)
    page = desk.get(response["Location"]).content.decode()
    assert "<title>UPI QR code</title>" in page
    assert "This QR expires in" in page
    assert 'data-state="QR"' in page

    pay = {"link": payment.qr_data, "outcome": "PAY"}
    httpx.post(f"{gateway.url}/_sandbox/upi/pay", json=pay).raise_for_status()
    payments.sync_payment(payment)
    page = desk.get(response["Location"]).content.decode()
    assert 'data-state="OPEN"' in page
    assert "BARRIER OPEN" in page
    assert desk.get(f"/staff/terminal/{lot.slug}/{parked.pk}/status").json()["state"] == "OPEN"
