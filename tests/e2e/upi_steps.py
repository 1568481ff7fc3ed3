"""UPI without PhonePe's page, as a person does it: the phone's UPI app, a second phone's camera.

A headless browser has no UPI app, so the steps stand in for the phone's operating system
exactly where it would act: when the page opens a ``upi://`` link (the intent), the link
is caught and opened in the sandbox's simulated UPI app (``/upi-app/pay?link=…``), which
is what a real phone would show. Everything else is the real page and the real sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from playwright.sync_api import expect

from .conftest import Site
from .driver_steps import leave, park

ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

# The phone's OS: a click on a upi:// link opens the UPI app; here the link is kept for
# the test to open in the simulated app (the page itself stays where it is, as on a phone).
CATCH_UPI_LINKS = """
window.__upiLaunched = [];
document.addEventListener("click", function (event) {
  var link = event.target && event.target.closest && event.target.closest('a[href^="upi:"]');
  if (link) { event.preventDefault(); window.__upiLaunched.push(link.href); }
}, true);
"""


def new_android(browser: Any) -> Any:
    context = browser.new_context(
        viewport={"width": 412, "height": 915},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        user_agent=ANDROID_UA,
        locale="en-IN",
        timezone_id="Asia/Kolkata",
    )
    context.set_default_timeout(15_000)
    context.add_init_script(CATCH_UPI_LINKS)
    return context


@contextmanager
def at_exit_on_android(browser: Any, site: Site, plate: str) -> Iterator[tuple[Any, Any, int]]:
    """A driver on an Android phone, parked 50 minutes in ``plate``, at the exit with ₹40
    due: ``(phone, page, ticket)``; the phone is closed afterwards."""
    phone = new_android(browser)
    try:
        page = phone.new_page()
        ticket = park(page, site, plate, minutes_ago=50)
        leave(page, "₹40")
        yield phone, page, ticket
    finally:
        phone.close()


def new_desktop(browser: Any) -> Any:
    """An exit terminal or a laptop: wide, no UPI app."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        user_agent=DESKTOP_UA,
        locale="en-IN",
        timezone_id="Asia/Kolkata",
    )
    context.set_default_timeout(15_000)
    return context


def open_intent(page: Any) -> str:
    """Press "Pay with any UPI app" and return the upi:// link the page then opened by
    itself (the next page, after the order was made)."""
    page.evaluate("window.__upiLaunched = []")  # only what this press opens
    page.get_by_role("button", name="Pay with any UPI app").click()
    page.wait_for_function("window.__upiLaunched && window.__upiLaunched.length > 0")
    links: list[str] = page.evaluate("window.__upiLaunched")
    assert len(links) == 1, links  # opened once, not on every poll
    return links[0]


def upi_app(site: Site, link: str) -> str:
    return f"{site.sandbox_url}/upi-app/pay?link={quote(link, safe='')}"


def pay_in_upi_app(app: Any, *, pin: str = "1234") -> None:
    """On the simulated UPI app's screen: enter the UPI PIN and pay."""
    expect(app.get_by_test_id("pay")).to_be_visible()
    app.get_by_test_id("pin").fill(pin)
    app.get_by_test_id("pay").click()
    expect(app.get_by_test_id("result")).to_be_visible()
