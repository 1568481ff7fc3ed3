"""Paying by UPI without PhonePe's page (lots/pay_upi.py): which order a button makes or
reuses, what the page shows for it, and bad input refused before anything is created."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.test import Client

from lots.models import ParkingSession
from phonepe_gateway.django.models import Payment

ANDROID = {"HTTP_USER_AGENT": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36"}
DESKTOP = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36"}


def _pay(driver: Client, due: ParkingSession, method: str, **extra: str) -> Any:
    return driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": due.fee, "method": method, **extra})


def test_intent_when_pressed_then_page_opens_the_link_once_and_polls(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    response = _pay(driver, due, "intent")
    assert response["Location"] == f"/park/{due.pk}/"
    payment = Payment.objects.get()
    assert payment.instrument == "UPI_INTENT"
    assert payment.intent_url.startswith("upi://pay?")
    first = driver.get(f"/park/{due.pk}/").content.decode()
    assert f'href="{payment.intent_url.replace("&", "&amp;")}"' in first
    assert "data-launch" in first  # opened right after the press ...
    assert "data-poll=" in first
    again = driver.get(f"/park/{due.pk}/").content.decode()
    assert "data-launch" not in again  # ... and not again on every reload


def test_qr_when_pressed_then_upi_qr_of_the_order_with_its_expiry(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    _pay(driver, due, "qr")
    payment = Payment.objects.get()
    assert payment.instrument == "UPI_QR"
    page = driver.get(f"/park/{due.pk}/").content.decode()
    assert "<title>UPI QR code</title>" in page
    assert "PhonePe checkout link" not in page  # not a QR of a web page
    assert "This QR expires in" in page
    assert 'data-seconds="4' in page  # PhonePe's UPI QR lives 8 minutes (480 s)


def test_same_method_when_pressed_twice_then_open_order_reused_other_method_new_order(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    _pay(driver, due, "intent")
    _pay(driver, due, "intent")
    assert Payment.objects.count() == 1
    _pay(driver, due, "qr")
    assert sorted(Payment.objects.values_list("instrument", flat=True)) == [
        "UPI_INTENT",
        "UPI_QR",
    ]


@pytest.mark.parametrize("vpa", ["", "driver", "driver@", "@okaxis", "a b@okaxis"])
def test_collect_when_vpa_malformed_then_explained_and_nothing_created(
    driver: Client, due: ParkingSession, gateway: Any, vpa: str
) -> None:
    page = _pay(driver, due, "collect", vpa=vpa)
    assert page.status_code == 302
    assert "Enter your UPI ID" in driver.get(page["Location"]).content.decode()
    assert not Payment.objects.exists()


def test_collect_when_vpa_given_then_request_in_that_upi_apps_inbox(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    _pay(driver, due, "collect", vpa="Driver@OkAxis")
    payment = Payment.objects.get()
    assert payment.instrument == "UPI_COLLECT"
    page = driver.get(f"/park/{due.pk}/").content.decode()
    assert "Request sent" in page
    inbox = httpx.get(f"{gateway.url}/upi-app", params={"vpa": "driver@okaxis"}).text
    assert f'data-order="{payment.merchant_order_id}"' in inbox  # lower-cased like a PSP does


def test_choices_when_on_phone_then_upi_app_first_on_desktop_qr_first(
    driver: Client, due: ParkingSession
) -> None:
    phone = driver.get(f"/park/{due.pk}/", **ANDROID).content.decode()
    desktop = driver.get(f"/park/{due.pk}/", **DESKTOP).content.decode()
    assert phone.index('value="intent"') < phone.index('value="qr"')
    assert desktop.index('value="qr"') < desktop.index('value="intent"')
    for page in (phone, desktop):
        assert "More ways to pay" in page
        assert 'value="redirect">Pay with PhonePe' in page
