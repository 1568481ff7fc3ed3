"""The exit terminal in a desktop-sized Chromium: the attendant types the plate, the screen
shows the order's UPI QR counting down, the driver pays it from their phone's UPI app, the
screen turns to "barrier open" by itself."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Site, backdate_entry, shoot
from .upi_steps import new_android, new_desktop, pay_in_upi_app, upi_app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STAFF, PASSWORD = "gate-1", "exit-terminal-2026"


def test_terminal_when_driver_scans_upi_qr_then_barrier_opens(
    site: Site, lot: Any, browser: Any
) -> None:
    from django.contrib.auth import get_user_model
    from lots import services

    from phonepe_gateway.django.models import Payment

    get_user_model().objects.create_user(STAFF, password=PASSWORD, is_staff=True)
    session = services.start_session(lot, "MH 14 EF 2468")
    backdate_entry(session.pk, 100)

    kiosk = new_desktop(browser)
    driver = new_android(browser)
    try:
        screen = kiosk.new_page()
        screen.goto(site.url + "/staff/")
        screen.get_by_label("Username").fill(STAFF)
        screen.get_by_label("Password").fill(PASSWORD)
        screen.get_by_role("button", name="Log in").click()
        screen.get_by_role("link", name="Exit terminal (UPI QR)").click()
        screen.get_by_label("Vehicle number").fill("MH 14 EF 2468")
        screen.get_by_role("button", name="End stay & show fee").click()
        expect(screen.locator(".amount")).to_have_text("₹80")
        screen.get_by_role("button", name="Show UPI QR").click()
        expect(screen.get_by_role("img", name="UPI QR code")).to_be_visible()
        countdown = screen.locator(".countdown-left")
        expect(countdown).to_have_text(re.compile(r"^[78]:\d\d$"))
        shoot(screen, "terminal-1-upi-qr")

        qr_data = Payment.objects.get().qr_data
        phone = driver.new_page()  # the driver's UPI app, camera on the screen
        phone.goto(upi_app(site, qr_data))
        expect(phone.get_by_test_id("amount")).to_contain_text("80")
        pay_in_upi_app(phone)

        expect(screen.locator("[data-state=OPEN]")).to_contain_text("BARRIER OPEN")
        shoot(screen, "terminal-2-barrier-open")
        session.refresh_from_db()
        assert session.state == "PAID"
    finally:
        driver.close()
        kiosk.close()
