"""A driver parks, leaves, and pays on the PhonePe checkout page in a phone-sized Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Site, shoot, wait_for
from .driver_steps import answer_checkout, leave, open_checkout, park

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _session(ticket: int) -> Any:
    from lots.models import ParkingSession

    return ParkingSession.objects.get(pk=ticket)


def test_driver_when_pays_on_checkout_then_paid_with_exit_pass(
    site: Site, lot: Any, phone: Any
) -> None:
    page = phone.new_page()
    ticket = park(page, site, "MH 12 AB 1234", minutes_ago=130)
    leave(page, "₹120")
    shoot(page, "driver-1-payment-due")
    open_checkout(page, site)
    answer_checkout(page, site, "pay")

    expect(page.locator("[data-state=PAID]")).to_be_visible()
    expect(page.get_by_role("heading", name="Exit pass")).to_be_visible()
    expect(page.locator(".pass-qr svg")).to_be_visible()
    expect(page.get_by_text("Bay A-01 is released")).to_be_visible()
    shoot(page, "driver-2-paid-exit-pass")
    session = _session(ticket)
    assert (session.state, session.fee) == ("PAID", 12000)
    from lots import services

    assert services.free_bays(lot) == 12


def test_driver_when_attempt_declined_then_told_to_retry_and_same_order_pays(
    site: Site, lot: Any, phone: Any
) -> None:
    page = phone.new_page()
    ticket = park(page, site, "KA 01 AB 1234", minutes_ago=50)
    leave(page, "₹40")
    open_checkout(page, site)
    # As at PhonePe, a declined attempt keeps the driver on the checkout page.
    page.get_by_test_id("decline").click()
    expect(page.get_by_test_id("attempt-failed")).to_be_visible()
    page.get_by_test_id("return").click()  # back to the site while the order is still open
    page.wait_for_url(re.compile("^" + re.escape(site.url) + r"/park/\d+/"))

    expect(page.locator("[data-state=RETRY]")).to_be_visible()
    expect(page.get_by_text("That attempt failed")).to_be_visible()
    expect(page.get_by_text("try again on the PhonePe page, or start over")).to_be_visible()
    # No second payment while the first can still complete: only the same order's page.
    expect(page.get_by_role("button", name="Pay with PhonePe")).to_have_count(0)
    shoot(page, "driver-3-attempt-failed")
    assert _session(ticket).state == "PAYMENT_DUE"

    page.get_by_role("link", name="Try again on PhonePe").click()
    expect(page).to_have_url(re.compile("^" + re.escape(site.sandbox_url)))
    answer_checkout(page, site, "pay")
    expect(page.locator("[data-state=PAID]")).to_be_visible()
    shoot(page, "driver-4-paid-after-retry")
    from phonepe_gateway.django.models import Payment

    states = list(
        Payment.objects.filter(reference=f"parking-session:{ticket}").values_list(
            "state", flat=True
        )
    )
    assert states == ["COMPLETED"]  # one order, two attempts


def test_driver_when_browser_closed_after_paying_then_webhook_makes_it_paid(
    site: Site, lot: Any, phone: Any
) -> None:
    page = phone.new_page()
    ticket = park(page, site, "22 BH 1234 AA", minutes_ago=200)
    leave(page, "₹160")
    open_checkout(page, site)
    # The phone loses the page right after paying: the checkout answers, the browser is gone.
    answered = vanish_after_paying(page)
    page.get_by_test_id("pay").click()
    wait_for(lambda: answered, what="the checkout page to take the payment")
    page.close()

    wait_for(lambda: _session(ticket).state == "PAID", what="the webhook to settle the ticket")
    deliveries = site.control("GET", "/webhooks")["deliveries"]
    assert [d["state"] for d in deliveries if d["event"] == "checkout.order.completed"] == [
        "delivered"
    ]

    again = phone.new_page()  # the driver opens the browser again later
    again.goto(f"{site.url}/park/{ticket}/")
    expect(again.locator("[data-state=PAID]")).to_be_visible()
    shoot(again, "driver-5-paid-by-webhook")


def test_driver_when_webhook_dropped_then_reconciler_makes_it_paid(
    site: Site, lot: Any, phone: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from phonepe_gateway.django import reconcile
    from phonepe_gateway.django.models import Payment

    site.control("PUT", "/webhooks/config", json={"drop": True})
    page = phone.new_page()
    ticket = park(page, site, "TN 09 CD 4821", minutes_ago=75)
    leave(page, "₹80")
    open_checkout(page, site)
    answered = vanish_after_paying(page)
    page.get_by_test_id("pay").click()
    wait_for(lambda: answered, what="the checkout page to take the payment")
    order_id = Payment.objects.get(reference=f"parking-session:{ticket}").merchant_order_id
    wait_for(
        lambda: site.control("GET", f"/orders/{order_id}").get("state") == "COMPLETED",
        what="the sandbox to complete the order",
    )
    # The aborted return trip may still be turning into an error page in this tab, so
    # the driver comes back in a fresh one (as after closing the browser).
    page.close()
    page = phone.new_page()
    page.goto(f"{site.url}/park/{ticket}/")
    expect(page.locator("[data-state=PENDING]")).to_be_visible()
    shoot(page, "driver-6-pending-webhook-lost")
    assert _session(ticket).state == "PAYMENT_DUE"
    deliveries = site.control("GET", "/webhooks")["deliveries"]
    assert {d["state"] for d in deliveries} == {"dropped"}

    # The reconciler's first check is due 20-25 s after the payment: run that pass now.
    checked = reconcile.run_once(now=timezone.now() + timedelta(seconds=30))
    assert checked >= 1
    assert _session(ticket).state == "PAID"
    expect(page.locator("[data-state=PAID]")).to_be_visible()  # the page polled and reloaded
    shoot(page, "driver-7-paid-by-reconciler")


def vanish_after_paying(page: Any) -> list[int]:
    """Let the checkout form reach the sandbox but never follow its answer back to the site."""
    answered: list[int] = []

    def handle(route: Any) -> None:
        answered.append(route.fetch(max_redirects=0).status)
        route.abort()

    page.route(re.compile(r".*/transact/.*"), handle)
    return answered
