"""Staff log in, watch occupancy and the payments dashboard, and refund part of a payment."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Site, shoot
from .driver_steps import answer_checkout, leave, open_checkout, park

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STAFF, PASSWORD = "asha", "refund-desk-2026"


@pytest.fixture
def staff_user(transactional_db: None) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(STAFF, password=PASSWORD, is_staff=True)


def _log_in(page: Any, site: Site) -> None:
    page.goto(site.url + "/staff/")
    expect(page).to_have_url(re.compile("/staff/login/"))
    page.get_by_label("Username").fill(STAFF)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Live occupancy")).to_be_visible()


def test_staff_when_refunding_part_of_a_payment_then_refund_completes(
    site: Site, lot: Any, staff_user: Any, browser: Any, phone: Any
) -> None:
    from django.utils import timezone

    from phonepe_gateway.django import reconcile
    from phonepe_gateway.django.models import Payment

    driver = phone.new_page()
    park(driver, site, "MH 02 CD 4821", minutes_ago=130)
    park_other = phone.new_page()
    park(park_other, site, "KA 05 MN 7777", minutes_ago=20)  # still parked: shows on the map
    leave(driver, "₹120")
    open_checkout(driver, site)
    answer_checkout(driver, site, "pay")
    expect(driver.locator("[data-state=PAID]")).to_be_visible()
    payment = Payment.objects.get(state="COMPLETED")

    desk = browser.new_context(viewport={"width": 412, "height": 915}, locale="en-IN")
    try:
        page = desk.new_page()
        _log_in(page, site)
        expect(page.locator(".bay-busy")).to_have_count(1)
        shoot(page, "staff-1-occupancy")

        page.get_by_role("link", name="Payments").click()
        page.get_by_role("link", name=re.compile(payment.merchant_order_id)).click()
        expect(page.locator("[data-state=COMPLETED]")).to_be_visible()

        page.get_by_label("Amount to refund (₹)").fill("500")
        page.get_by_label("Reason").fill("Charged for an extra hour")
        page.get_by_role("button", name="Refund to the driver").click()
        expect(page.get_by_role("alert").first).to_contain_text(
            "Only ₹120.00 of this payment can still be refunded"
        )

        page.get_by_label("Amount to refund (₹)").fill("40")
        page.get_by_label("Reason").fill("Charged for an extra hour")
        page.get_by_role("button", name="Refund to the driver").click()
        expect(page.get_by_text("Refund of ₹40.00 started")).to_be_visible()
        expect(page.get_by_text("Charged for an extra hour (by asha)")).to_be_visible()

        # The sandbox settles refunds after a delay; move its clock, then let the reconciler ask.
        site.control("POST", "/clock/advance", json={"seconds": 60})
        reconcile.run_once(now=timezone.now() + timedelta(minutes=2))
        page.reload()
        expect(page.locator("[data-refund-state=COMPLETED]")).to_be_visible()
        shoot(page, "staff-2-partial-refund")

        payment.refresh_from_db()
        assert (payment.refunded_amount, payment.refundable_amount) == (4000, 8000)

        # PhonePe stops answering status calls: staff see it, and so does the dashboard.
        site.control(
            "POST",
            "/faults",
            json={
                "method": "GET",
                "path": "/checkout/v2/order/*/status",
                "action": "reset",
                "times": 3,
            },
        )
        page.get_by_role("button", name="Refresh from PhonePe").click()
        expect(page.get_by_text("PhonePe could not be asked")).to_be_visible()
        site.control("DELETE", "/faults")

        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_role("img", name="Payment success rate")).to_be_visible()
        expect(page.get_by_role("img", name="Gateway latency")).to_be_visible()
        expect(page.get_by_role("img", name="Connection errors")).to_be_visible()
        expect(page.locator(".kpi-value").first).to_have_text("100.0%")
        expect(
            page.get_by_role("img", name="Connection errors").locator("rect[fill]").first
        ).to_be_attached()
        shoot(page, "staff-3-dashboard")
    finally:
        desk.close()
