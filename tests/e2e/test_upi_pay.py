"""Paying a ticket by UPI without PhonePe's page: intent on the phone, QR on a desktop or
exit terminal paid from a second phone, a collect request to a UPI ID, an abandoned intent
that expires on the sandbox clock."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Site, shoot, wait_for
from .driver_steps import leave, park
from .upi_steps import (
    at_exit_on_android,
    new_android,
    new_desktop,
    open_intent,
    pay_in_upi_app,
    upi_app,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _session(ticket: int) -> Any:
    from lots.models import ParkingSession

    return ParkingSession.objects.get(pk=ticket)


def _payment(ticket: int) -> Any:
    from phonepe_gateway.django.models import Payment

    return Payment.objects.filter(reference=f"parking-session:{ticket}").latest("created_at")


def test_driver_when_pays_with_any_upi_app_then_intent_opens_app_and_page_turns_paid(
    site: Site, lot: Any, browser: Any
) -> None:
    with at_exit_on_android(browser, site, "MH 12 AB 1234") as (phone, page, ticket):
        # On a phone the UPI app is the first choice; PhonePe's page is "More ways to pay".
        buttons = page.locator(".pay-methods button")
        expect(buttons.first).to_have_text("Pay with any UPI app")
        expect(page.get_by_text("More ways to pay")).to_be_visible()
        shoot(page, "upi-1-pay-choices-phone")
        link = open_intent(page)  # the page opened the UPI app by itself
        assert link.startswith("upi://pay?")
        assert "am=40.00" in link
        assert "cu=INR" in link
        payment = _payment(ticket)
        assert (payment.instrument, payment.intent_url) == ("UPI_INTENT", link)
        expect(page.locator("[data-state=PENDING]")).to_be_visible()
        expect(page.locator(".countdown")).to_contain_text(re.compile(r"expires in \d+:\d\d"))
        shoot(page, "upi-2-intent-waiting")

        app = phone.new_page()  # the phone's UPI app, opened by the link
        app.goto(upi_app(site, link))
        expect(app.get_by_test_id("amount")).to_contain_text("40")
        pay_in_upi_app(app)
        app.close()

        expect(page.locator("[data-state=PAID]")).to_be_visible()  # polled and reloaded
        shoot(page, "upi-3-intent-paid")
        assert _session(ticket).state == "PAID"
        assert _payment(ticket).intent_url is None  # cleared once the order closed


def test_driver_when_paying_ticket_by_upi_qr_on_desktop_then_second_phone_pays_it(
    site: Site, lot: Any, browser: Any
) -> None:
    from lots.qr import qr_svg

    desktop = new_desktop(browser)
    second = new_android(browser)
    try:
        page = desktop.new_page()
        ticket = park(page, site, "DL 3C AB 1234", minutes_ago=30)
        leave(page, "₹40")
        expect(page.locator(".pay-methods button").first).to_have_text("Show a UPI QR to scan")
        page.get_by_role("button", name="Show a UPI QR to scan").click()
        expect(page.locator("[data-state=PENDING]")).to_be_visible()
        qr = page.get_by_role("img", name="UPI QR code")
        expect(qr).to_be_visible()
        payment = _payment(ticket)
        assert payment.instrument == "UPI_QR"
        assert payment.qr_data.startswith("upi://pay?")
        # The QR drawn is the order's UPI QR data itself, not a QR of a web page.
        drawn = page.locator(".upi-qr svg path").first.get_attribute("d")
        assert drawn
        assert drawn in str(qr_svg(payment.qr_data, title="UPI QR code", scale=6, fluid=True))
        countdown = page.locator(".countdown-left")
        first = countdown.inner_text()
        assert re.fullmatch(r"\d+:\d\d", first)
        expect(countdown).not_to_have_text(first)  # it counts down
        shoot(page, "upi-4-qr-desktop")

        phone = second.new_page()  # a friend's phone scans the QR with its UPI app
        phone.goto(upi_app(site, payment.qr_data))
        pay_in_upi_app(phone)

        expect(page.locator("[data-state=PAID]")).to_be_visible()
        assert _session(ticket).state == "PAID"
    finally:
        second.close()
        desktop.close()


def test_driver_when_requests_collect_to_vpa_then_approves_in_upi_app_inbox(
    site: Site, lot: Any, browser: Any
) -> None:
    with at_exit_on_android(browser, site, "KA 01 AB 1234") as (phone, page, ticket):
        page.get_by_label("Or get a payment request in your UPI app").fill("not-a-vpa")
        page.get_by_role("button", name="Send request").click()
        expect(page.get_by_text("Enter your UPI ID")).to_be_visible()  # nothing sent
        from phonepe_gateway.django.models import Payment

        assert not Payment.objects.exists()

        page.get_by_label("Or get a payment request in your UPI app").fill("driver@okaxis")
        page.get_by_role("button", name="Send request").click()
        expect(page.locator("[data-upi=collect]")).to_contain_text("Request sent")
        shoot(page, "upi-5-collect-sent")
        assert _payment(ticket).instrument == "UPI_COLLECT"

        app = phone.new_page()  # the driver's UPI app: its inbox of requests
        app.goto(f"{site.sandbox_url}/upi-app?vpa=driver@okaxis")
        app.get_by_test_id("collect-request").first.click()
        pay_in_upi_app(app)
        app.close()

        expect(page.locator("[data-state=PAID]")).to_be_visible()
        assert _session(ticket).state == "PAID"


def test_driver_when_intent_abandoned_then_order_expires_and_pay_again_offered(
    site: Site, lot: Any, browser: Any
) -> None:
    with at_exit_on_android(browser, site, "TN 09 CD 4821") as (_, page, ticket):
        open_intent(page)
        expect(page.locator("[data-state=PENDING]")).to_be_visible()
        # The driver never approves it. PhonePe expires a UPI intent order after 10 minutes:
        # the sandbox's clock jumps past that; its webhook tells the site.
        site.control("POST", "/clock/advance", json={"seconds": 660})
        wait_for(lambda: _payment(ticket).state == "FAILED", what="the order to expire")

        expect(page.locator("[data-state=FAILED]")).to_be_visible()  # polled and reloaded
        expect(page.get_by_text("Nothing was charged")).to_be_visible()
        expect(page.get_by_role("button", name="Pay with any UPI app")).to_be_visible()
        shoot(page, "upi-6-intent-expired")
        assert _session(ticket).state == "PAYMENT_DUE"
        assert _payment(ticket).intent_url is None


def test_driver_when_upi_app_declines_then_page_says_why_and_paying_again_works(
    site: Site, lot: Any, browser: Any
) -> None:
    with at_exit_on_android(browser, site, "KA 01 EF 7788") as (phone, page, ticket):
        link = open_intent(page)
        app = phone.new_page()
        app.goto(upi_app(site, link))
        # The bank says no: NPCI's Z9. Custom checkout allows one attempt per order.
        app.get_by_test_id("decline-reason").select_option("INSUFFICIENT_BALANCE")
        app.get_by_test_id("decline").click()
        app.close()

        expect(page.locator("[data-state=FAILED]")).to_be_visible()  # polled and reloaded
        expect(page.locator("[data-failure]")).to_contain_text(
            "your bank account did not have enough money"
        )
        shoot(page, "upi-7-intent-declined")
        first = _payment(ticket)
        assert (first.state, first.error_code) == ("FAILED", "INSUFFICIENT_BALANCE")
        assert _session(ticket).state == "PAYMENT_DUE"

        link = open_intent(page)  # a new order
        second = _payment(ticket)
        assert second.merchant_order_id != first.merchant_order_id
        app = phone.new_page()
        app.goto(upi_app(site, link))
        pay_in_upi_app(app)
        app.close()
        expect(page.locator("[data-state=PAID]")).to_be_visible()
        assert _session(ticket).state == "PAID"
