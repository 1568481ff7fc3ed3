"""Booking a bay ahead in a phone-sized Chromium: book -> pay by UPI -> enter at the barrier;
book -> pay -> cancel -> refund followed PENDING -> CONFIRMED -> COMPLETED; an unpaid
booking expiring with its order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import WEBHOOK_PATH, Site, shoot, wait_for
from .upi_steps import new_android, open_intent, pay_in_upi_app, upi_app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_refund_site(live_server: Any, settings: Any) -> Iterator[Site]:
    """Like ``site``, but refunds move only when the test moves the sandbox's clock
    (PENDING -> CONFIRMED after 5 min, COMPLETED after 10), so each step can be seen."""
    from phonepe_gateway.sandbox.testing import serve_sandbox

    with serve_sandbox(
        webhook_url=live_server.url + WEBHOOK_PATH, refund_settlement_delay=600
    ) as sandbox:
        settings.PHONEPE = {**settings.PHONEPE, "local_url": sandbox.url}
        yield Site(url=live_server.url, sandbox=sandbox)


def _booking() -> Any:
    from lots.models import Booking

    return Booking.objects.get()


def _local(minutes_ahead: int) -> str:
    """A datetime-local value ``minutes_ahead`` from now in the car park's time zone."""
    when = timezone.localtime(timezone.now() + timedelta(minutes=minutes_ahead))
    return when.strftime("%Y-%m-%dT%H:%M")


def book(page: Any, site: Site, plate: str, *, minutes_ahead: int, hours: int = 2) -> None:
    page.goto(site.url + "/lots/phoenix-b2/")
    page.get_by_role("link", name="Book a bay ahead & pay now").click()
    expect(page.get_by_role("heading", name="Book a bay ahead")).to_be_visible()
    page.get_by_label("Vehicle number").fill(plate)
    page.get_by_label("From").fill(_local(minutes_ahead))
    page.get_by_label("For").select_option(str(hours))
    page.get_by_role("button", name="See price & cancellation terms").click()
    expect(page).to_have_url(re.compile(r"/bookings/\d+/$"))


def test_driver_when_books_pays_by_upi_app_then_enters_at_barrier_on_booked_bay(
    site: Site, lot: Any, browser: Any
) -> None:
    phone = new_android(browser)
    try:
        page = phone.new_page()
        book(page, site, "MH 12 AB 1234", minutes_ahead=10)
        # The price and the cancellation terms, before paying; no bay held yet.
        expect(page.locator(".ticket-head .fee")).to_have_text("₹80")
        expect(page.get_by_text("Full refund (₹80) if you cancel before")).to_be_visible()
        expect(page.get_by_text("No refund once the booking has started")).to_be_visible()
        expect(page.get_by_text("held once paid")).to_be_visible()
        shoot(page, "booking-1-quote-and-terms")
        booking = _booking()
        assert (booking.state, booking.bay_id, booking.price) == ("AWAITING_PAYMENT", None, 8000)

        link = open_intent(page)
        expect(page.get_by_text("AWAITING PAYMENT")).to_be_visible()
        shoot(page, "booking-2-paying-by-intent")
        app = phone.new_page()
        app.goto(upi_app(site, link))
        pay_in_upi_app(app)
        app.close()

        expect(page.locator("[data-state=BOOKED]")).to_be_visible()
        expect(page.get_by_role("heading", name="Bay A-01 is yours")).to_be_visible()
        shoot(page, "booking-3-booked")
        booking = _booking()
        assert booking.state == "PAID"
        assert booking.bay.code == "A-01"

        page.get_by_role("button", name="I'm at the barrier — let me in").click()
        expect(page).to_have_url(re.compile(r"/park/\d+/$"))
        expect(page.get_by_text("The barrier is open. Park in bay A-01.")).to_be_visible()
        expect(page.get_by_text("Prepaid by booking")).to_be_visible()
        shoot(page, "booking-4-entered")
        booking = _booking()
        assert booking.state == "ENTERED"
        assert (booking.session.bay_id, booking.session.plate) == (booking.bay_id, "MH12AB1234")
    finally:
        phone.close()


def test_driver_when_cancels_paid_booking_then_refund_followed_to_completed(
    slow_refund_site: Site, lot: Any, browser: Any
) -> None:
    site = slow_refund_site
    phone = new_android(browser)
    try:
        page = phone.new_page()
        book(page, site, "KA 01 AB 1234", minutes_ahead=5 * 60)
        page.get_by_role("button", name="Show a UPI QR to scan").click()
        expect(page.get_by_role("img", name="UPI QR code")).to_be_visible()
        shoot(page, "booking-5a-upi-qr-phone")
        from phonepe_gateway.django.models import Payment

        qr_data = Payment.objects.get().qr_data
        # Another phone scans it and pays (the sandbox UPI app's control call does the same).
        site.control("POST", "/upi/pay", json={"link": qr_data, "outcome": "PAY"})
        expect(page.locator("[data-state=BOOKED]")).to_be_visible()

        expect(page.get_by_text("Cancelling now refunds ₹80 (in full")).to_be_visible()
        shoot(page, "booking-5-cancel-offer")
        page.get_by_role("button", name="Cancel booking & refund ₹80").click()
        expect(page.locator("[data-state=CANCELLED]")).to_be_visible()
        expect(page.get_by_role("heading", name="Refund of ₹80")).to_be_visible()
        steps = page.get_by_role("list", name="Refund progress")
        expect(steps).to_have_attribute("data-refund", "PENDING")
        shoot(page, "booking-6-refund-pending")
        booking = _booking()
        assert (booking.state, booking.refund_amount) == ("CANCELLED", 8000)

        site.control("POST", "/clock/advance", json={"seconds": 301})
        expect(steps).to_have_attribute("data-refund", "CONFIRMED")  # webhook, page polled
        shoot(page, "booking-7-refund-confirmed")
        site.control("POST", "/clock/advance", json={"seconds": 300})
        expect(steps).to_have_attribute("data-refund", "COMPLETED")
        shoot(page, "booking-8-refund-completed")

        from phonepe_gateway.django.models import Refund

        refund = Refund.objects.get()
        assert (refund.state, refund.amount) == ("COMPLETED", 8000)
        assert Payment.objects.get().refunded_amount == 8000
    finally:
        phone.close()


def test_driver_when_booking_left_unpaid_then_it_expires_with_its_order(
    site: Site, lot: Any, browser: Any
) -> None:
    phone = new_android(browser)
    try:
        page = phone.new_page()
        book(page, site, "22 BH 1234 AA", minutes_ahead=60)
        page.get_by_role("button", name="Show a UPI QR to scan").click()
        expect(page.get_by_role("img", name="UPI QR code")).to_be_visible()
        # Nobody scans it; PhonePe expires a UPI QR order after 8 minutes.
        site.control("POST", "/clock/advance", json={"seconds": 540})
        wait_for(lambda: _booking().state == "EXPIRED", what="the booking to expire")
        expect(page.locator("[data-state=EXPIRED]")).to_be_visible()
        expect(page.get_by_text("no bay was held and nothing was charged")).to_be_visible()
        shoot(page, "booking-9-expired")
        assert _booking().bay_id is None
    finally:
        phone.close()
