"""A driver whose phone lost the ticket page finds it again on another phone and pays there."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Site, backdate_entry, shoot
from .driver_steps import answer_checkout, leave, open_checkout

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_driver_when_ticket_page_lost_then_found_by_plate_and_mobile_digits_and_paid(
    site: Site, lot: Any, browser: Any, phone: Any
) -> None:
    first = phone.new_page()
    first.goto(site.url + "/lots/phoenix-b2/")
    first.get_by_label("Vehicle number").fill("DL 3C AB 0001")
    first.get_by_label("Mobile number").fill("98765 43210")
    first.get_by_role("button", name="Park here").click()
    expect(first).to_have_url(re.compile(r"/park/\d+/$"))
    expect(first.locator(".plate-big")).to_have_text("DL 3C AB 0001")
    ticket = int(re.search(r"/park/(\d+)/", first.url).group(1))  # type: ignore[union-attr]
    backdate_entry(ticket, 50)

    # Another phone (or the same one after its cookies were cleared).
    other = browser.new_context(viewport={"width": 412, "height": 915})
    try:
        page = other.new_page()
        page.goto(site.url + "/lots/phoenix-b2/")
        page.get_by_label("Vehicle number").fill("dl-3c-ab-1")
        page.get_by_role("button", name="Park here").click()
        expect(page.get_by_text("This vehicle is already parked.")).to_be_visible()
        shoot(page, "find-1-already-parked")
        page.get_by_role("link", name="Find my ticket").click()
        expect(page.get_by_label("Vehicle number")).to_have_value("DL 3C AB 0001")

        page.get_by_label("Last 4 digits").fill("1234")
        page.get_by_role("button", name="Find my ticket").click()
        expect(page.get_by_text("No ticket matches")).to_be_visible()
        shoot(page, "find-2-wrong-digits")
        assert page.goto(f"{site.url}/park/{ticket}/").status == 404

        page.goto(site.url + "/")
        page.get_by_role("link", name="Find my ticket").click()
        page.get_by_label("Vehicle number").fill("DL 3C AB 0001")
        page.get_by_label("Last 4 digits").fill("3210")
        page.get_by_role("button", name="Find my ticket").click()
        expect(page).to_have_url(f"{site.url}/park/{ticket}/")
        expect(page.get_by_text("Found your ticket")).to_be_visible()
        shoot(page, "find-3-found")
        leave(page, "₹40")
        open_checkout(page, site)
        answer_checkout(page, site, "pay")
        expect(page.locator("[data-state=PAID]")).to_be_visible()
    finally:
        other.close()
