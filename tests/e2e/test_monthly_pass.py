"""Monthly pass in a phone-sized Chromium: AutoPay set up in the sandbox's UPI app, free
entries, the month's debit when the sandbox clock rolls over, and suspension when the
driver revokes AutoPay or a debit fails.

The site, the payments app, the sandbox and its webhooks are all real (loopback); the
scheduled debits run as the reconciler's loop runs them, with ``now`` moved on as far
as the sandbox clock was.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Site, shoot, wait_for
from .driver_steps import park

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PRICE = 150000  # ₹1,500 a month
DAY = 86400


@pytest.fixture
def plan(lot: Any) -> Any:
    from lots.models_pass import PassPlan

    return PassPlan.objects.create(lot=lot, monthly_price=PRICE)


def _pass(pass_id: int) -> Any:
    from lots.models_pass import MonthlyPass

    return MonthlyPass.objects.get(pk=pass_id)


class Clock:
    """The sandbox clock and the site's debit loop, moved on together."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.offset = timedelta(0)

    def advance(self, seconds: int) -> None:
        self.site.control("POST", "/clock/advance", json={"seconds": seconds})
        self.offset += timedelta(seconds=seconds)

    def run_debits(self) -> int:
        from django.utils import timezone

        from phonepe_gateway.django import subscriptions

        return int(subscriptions.run_debits(now=timezone.now() + self.offset))


def approve_in_upi_app(page: Any) -> None:
    """Approve the AutoPay request with a UPI PIN, as a phone's UPI app asks."""
    page.get_by_test_id("pin").fill("1234")
    page.get_by_test_id("approve").click()


def set_up_pass(page: Any, site: Site, plate: str, *, shots: bool = False) -> int:
    """Buy a pass for ``plate`` and approve its AutoPay in the sandbox's UPI app."""
    page.goto(site.url + "/lots/phoenix-b2/")
    page.get_by_role("link", name="Get a pass").click()
    expect(page.get_by_role("heading", name="Monthly pass")).to_be_visible()
    expect(page.get_by_test_id("pass-price")).to_contain_text("₹1,500")
    if shots:
        shoot(page, "pass-0-buy")
    page.get_by_label("Vehicle number").fill(plate)
    page.get_by_role("button", name="Set up UPI AutoPay").click()
    expect(page).to_have_url(re.compile(r"/passes/\d+/$"))
    pass_id = int(re.search(r"/passes/(\d+)/", page.url).group(1))  # type: ignore[union-attr]
    expect(page.get_by_role("heading", name="Approve AutoPay in your UPI app")).to_be_visible()
    intent = page.get_by_test_id("upi-intent").get_attribute("href")
    assert intent is not None
    assert intent.startswith("upi://")
    if shots:
        shoot(page, "pass-1-approve-autopay")

    page.get_by_test_id("sandbox-upi-app").click()  # a phone would open its UPI app
    expect(page).to_have_url(re.compile("^" + re.escape(site.sandbox_url)))
    expect(page.get_by_text("₹1,500").first).to_be_visible()
    if shots:
        shoot(page, "pass-2-upi-app-mandate")
    approve_in_upi_app(page)
    expect(page.get_by_test_id("state").first).to_have_text("ACTIVE")

    page.goto(f"{site.url}/passes/{pass_id}/")  # back to the browser
    expect(page.locator("[data-pass-state=ACTIVE]")).to_be_visible()
    return pass_id


def test_pass_when_set_up_then_entries_free_and_each_month_debited(
    site: Site, plan: Any, phone: Any
) -> None:
    from phonepe_gateway.django.models import Payment

    page = phone.new_page()
    pass_id = set_up_pass(page, site, "MH 12 AB 1234", shots=True)
    shoot(page, "pass-3-active")
    first = _pass(pass_id)
    assert first.paid_until is not None
    mandate = first.merchant_subscription_id

    # Enter free: the ticket says so, and leaving costs nothing.
    ticket = park(page, site, "MH 12 AB 1234", minutes_ago=130)
    expect(page.get_by_test_id("on-pass")).to_be_visible()
    page.get_by_role("button", name="End parking & pay").click()
    expect(page.locator("[data-state=FREE]")).to_have_text(re.compile("MONTHLY PASS"))
    shoot(page, "pass-4-free-exit")
    from lots.models import ParkingSession

    session = ParkingSession.objects.get(pk=ticket)
    assert (session.state, session.fee) == ("FREE", 0)
    assert not Payment.objects.filter(reference=f"parking-session:{ticket}").exists()

    # A month later the mandate is debited: a notice first, the debit after its window.
    clock = Clock(site)
    clock.advance(31 * DAY)
    clock.run_debits()
    clock.advance(DAY + 3600)  # past the 24 h notice, inside the 48 h window
    clock.run_debits()
    wait_for(
        lambda: Payment.objects.filter(
            subscription__merchant_subscription_id=mandate, debit_period=1, state="COMPLETED"
        ).exists(),
        what="the first monthly debit to complete",
    )
    debit = Payment.objects.get(subscription__merchant_subscription_id=mandate, debit_period=1)
    assert debit.amount == PRICE
    renewed = wait_for(
        lambda: (p := _pass(pass_id)).paid_until > first.paid_until and p,  # type: ignore[operator]
        what="the pass to be paid a month further",
    )
    assert renewed.state == "ACTIVE"
    page.goto(f"{site.url}/passes/{pass_id}/")
    expect(page.get_by_test_id("debit").filter(has_text="COMPLETED").first).to_be_visible()
    shoot(page, "pass-5-debited")


def test_pass_when_revoked_in_upi_app_then_suspended_and_fixed_by_new_setup(
    site: Site, plan: Any, phone: Any
) -> None:
    page = phone.new_page()
    pass_id = set_up_pass(page, site, "KA 01 AB 1234")
    mandate = _pass(pass_id).merchant_subscription_id

    # The driver removes AutoPay in the UPI app.
    page.goto(f"{site.sandbox_url}/upi-app/mandates")
    card = page.locator(f'[data-testid=mandate][data-id="{mandate}"]')
    card.get_by_test_id("revoke").click()
    expect(card.get_by_test_id("state")).to_have_text("REVOKED")

    wait_for(lambda: _pass(pass_id).state == "SUSPENDED", what="the pass to be suspended")
    page.goto(f"{site.url}/passes/{pass_id}/")
    expect(page.locator("[data-pass-state=SUSPENDED]")).to_be_visible()
    expect(page.get_by_test_id("suspension")).to_contain_text("revoked in your UPI app")
    shoot(page, "pass-6-suspended-revoked")

    # Suspended: an entry is charged as for anyone.
    ticket = park(page, site, "KA 01 AB 1234", minutes_ago=50)
    expect(page.get_by_test_id("on-pass")).to_have_count(0)
    page.get_by_role("button", name="End parking & pay").click()
    expect(page.locator(".amount")).to_have_text("₹40")
    from lots.models import ParkingSession

    assert ParkingSession.objects.get(pk=ticket).fee == 4000

    # The way to fix it: set up AutoPay again, approve, active.
    page.goto(f"{site.url}/passes/{pass_id}/")
    page.get_by_role("button", name="Set up AutoPay again").click()
    expect(page.get_by_role("heading", name="Approve AutoPay in your UPI app")).to_be_visible()
    page.get_by_test_id("sandbox-upi-app").click()
    approve_in_upi_app(page)
    expect(page.get_by_test_id("state").first).to_have_text("ACTIVE")
    page.goto(f"{site.url}/passes/{pass_id}/")
    expect(page.locator("[data-pass-state=ACTIVE]")).to_be_visible()
    assert _pass(pass_id).merchant_subscription_id != mandate


def test_pass_when_monthly_debit_fails_then_suspended_with_reason_for_driver_and_staff(
    site: Site, plan: Any, phone: Any, browser: Any
) -> None:
    from django.contrib.auth import get_user_model

    page = phone.new_page()
    pass_id = set_up_pass(page, site, "DL 3C AB 1234")
    mandate = _pass(pass_id).merchant_subscription_id

    site.control(
        "POST", "/subscriptions/balance", json={"merchantSubscriptionId": mandate, "balance": 0}
    )
    clock = Clock(site)
    clock.advance(31 * DAY)
    clock.run_debits()
    clock.advance(DAY + 3600)  # past the 24 h notice, inside the 48 h window
    clock.run_debits()
    wait_for(lambda: _pass(pass_id).state == "SUSPENDED", what="the failed debit to suspend")
    page.goto(f"{site.url}/passes/{pass_id}/")
    expect(page.get_by_test_id("suspension")).to_contain_text("did not have enough money")
    expect(page.get_by_role("button", name="Set up AutoPay again")).to_be_visible()
    shoot(page, "pass-7-suspended-debit-failed")

    # Staff see the pass, why it is suspended, and its debits.
    get_user_model().objects.create_user("asha", password="refund-desk-2026", is_staff=True)
    desk = browser.new_context(viewport={"width": 412, "height": 915})
    try:
        staff = desk.new_page()
        staff.goto(site.url + "/staff/passes/")
        staff.get_by_label("Username").fill("asha")
        staff.get_by_label("Password").fill("refund-desk-2026")
        staff.get_by_role("button", name="Log in").click()
        expect(staff.get_by_role("heading", name="Monthly passes")).to_be_visible()
        staff.get_by_role("link", name="DL 3C AB 1234").click()
        expect(staff.get_by_test_id("suspension")).to_contain_text("did not have enough money")
        expect(staff.locator("[data-debit-state=FAILED]").first).to_be_visible()
        expect(staff.locator("[data-debit-state=COMPLETED]").first).to_be_visible()  # set-up
        shoot(staff, "pass-8-staff-pass")
    finally:
        desk.close()


def test_pass_when_paused_then_resumed_in_upi_app_then_suspended_then_active_again(
    site: Site, plan: Any, phone: Any
) -> None:
    page = phone.new_page()
    pass_id = set_up_pass(page, site, "TN 09 CD 4821")
    mandate = _pass(pass_id).merchant_subscription_id

    page.goto(f"{site.sandbox_url}/upi-app/mandates")
    card = page.locator(f'[data-testid=mandate][data-id="{mandate}"]')
    card.get_by_test_id("pause").click()
    expect(card.get_by_test_id("state")).to_have_text("PAUSED")
    wait_for(lambda: _pass(pass_id).state == "SUSPENDED", what="the pause to suspend the pass")
    page.goto(f"{site.url}/passes/{pass_id}/")
    expect(page.get_by_test_id("suspension")).to_contain_text("paused in your UPI app")

    page.goto(f"{site.sandbox_url}/upi-app/mandates")
    card.get_by_test_id("resume").click()
    expect(card.get_by_test_id("state")).to_have_text("ACTIVE")
    wait_for(lambda: _pass(pass_id).state == "ACTIVE", what="the resume to reactivate the pass")
    assert _pass(pass_id).merchant_subscription_id == mandate  # the same mandate, no new set-up
