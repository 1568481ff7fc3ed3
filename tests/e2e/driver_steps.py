"""What a driver does in the browser, as reusable steps for the end-to-end tests."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import Site, backdate_entry


def park(page: Any, site: Site, plate: str, *, minutes_ago: int) -> int:
    """Open the site, choose the lot, enter ``plate``; pretend it was ``minutes_ago``."""
    page.goto(site.url + "/")
    expect(page.get_by_role("heading", name="Park, pay by UPI, drive out.")).to_be_visible()
    page.locator('a[href="/lots/phoenix-b2/"]').click()
    page.get_by_label("Vehicle number").fill(plate)
    page.get_by_role("button", name="Park here").click()
    expect(page).to_have_url(re.compile(r"/park/\d+/$"))
    ticket = int(re.search(r"/park/(\d+)/", page.url).group(1))  # type: ignore[union-attr]
    backdate_entry(ticket, minutes_ago)
    return ticket


def leave(page: Any, expected_fee: str) -> None:
    page.reload()
    page.get_by_role("button", name="End parking & pay").click()
    expect(page.locator(".amount")).to_have_text(expected_fee)


def open_checkout(page: Any, site: Site, *, retry: bool = False) -> None:
    name = "Try again with PhonePe" if retry else "Pay with PhonePe"
    page.get_by_role("button", name=name).click()
    expect(page).to_have_url(re.compile("^" + re.escape(site.sandbox_url)))
    expect(page.get_by_test_id("pay")).to_be_visible()


def answer_checkout(page: Any, site: Site, action: str) -> None:
    """Press pay / decline on the sandbox's hosted checkout page and come back to the site."""
    page.get_by_test_id(action).click()
    page.wait_for_url(re.compile("^" + re.escape(site.url) + r"/park/\d+/"))
