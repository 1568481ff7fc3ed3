"""The sandbox's AutoPay screens in a real Chromium the size of a phone.

The set-up's intent link opens in the UPI app (``/upi-app/pay?link=upi://mandate…``
goes on to the mandate screen); the customer approves with the UPI PIN, then pauses and
removes AutoPay from the mandates list. Each screen is photographed at 412x915 into
``$TEST_OUTPUT_DIR/screenshots``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox

from .conftest import screenshot_dir

pytestmark = pytest.mark.usefixtures("sandbox")

CREDENTIALS = {
    "client_id": "PGSANDBOXCLIENT",
    "client_secret": "sandbox-client-secret",
    "client_version": "1",
    "grant_type": "client_credentials",
}


def set_up(sandbox: RunningSandbox, msid: str) -> str:
    """A monthly ₹599 pass mandate by UPI intent; returns its intent link."""
    with httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=10) as api:
        token = api.post("/v1/oauth/token", data=CREDENTIALS).json()["access_token"]
        body = {
            "merchantOrderId": msid + "-setup",
            "amount": 100,
            "paymentFlow": {
                "type": "SUBSCRIPTION_SETUP",
                "merchantSubscriptionId": msid,
                "authWorkflowType": "TRANSACTION",
                "amountType": "VARIABLE",
                "maxAmount": 59_900,
                "frequency": "MONTHLY",
                "paymentMode": {"type": "UPI_INTENT"},
            },
        }
        answer = api.post(
            "/subscriptions/v2/setup", json=body, headers={"Authorization": f"O-Bearer {token}"}
        )
        answer.raise_for_status()
        link: str = answer.json()["intentUrl"]
        return link


def state_of(sandbox: RunningSandbox, msid: str) -> str:
    mandate = sandbox.sandbox.subscriptions.get(msid)
    assert mandate is not None
    return mandate.state


def in_first_screen(page: Any, testid: str) -> bool:
    box = page.get_by_test_id(testid).first.bounding_box()
    return box is not None and box["y"] + box["height"] <= 915


def test_mandate_link_when_opened_on_a_phone_then_pin_approves_then_pause_and_remove(
    sandbox: RunningSandbox, phone: Any
) -> None:
    from playwright.sync_api import expect

    link = set_up(sandbox, "e2e-pass-1")
    page = phone.new_page()
    page.goto(f"{sandbox.url}/upi-app/pay?link={quote(link, safe='')}")  # the UPI app
    expect(page.get_by_test_id("state")).to_have_text("PENDING")
    expect(page.get_by_text("₹599.00 monthly")).to_be_visible()
    assert in_first_screen(page, "approve"), "Approve must be visible without scrolling"
    page.screenshot(path=str(screenshot_dir() / "upi-mandate-setup-412x915.png"))

    page.get_by_test_id("approve").click()  # no PIN: refused on the page
    expect(page.get_by_test_id("form-error")).to_be_visible()
    assert state_of(sandbox, "e2e-pass-1") == "PENDING"

    page.get_by_test_id("pin").fill("1234")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("state")).to_have_text("ACTIVE")
    page.screenshot(path=str(screenshot_dir() / "upi-mandate-approved-412x915.png"))
    assert state_of(sandbox, "e2e-pass-1") == "ACTIVE"

    page.goto(f"{sandbox.url}/upi-app/mandates")
    page.get_by_test_id("pause").click()
    expect(page.get_by_test_id("state")).to_have_text("PAUSED")
    expect(page.get_by_text("Paused until")).to_be_visible()
    page.get_by_test_id("revoke").click()
    expect(page.get_by_test_id("state")).to_have_text("REVOKED")
    page.screenshot(path=str(screenshot_dir() / "upi-mandates-revoked-412x915.png"))
    assert state_of(sandbox, "e2e-pass-1") == "REVOKED"
    assert page.get_by_role("button").count() == 0  # nothing left to do


def test_mandate_decline_when_chosen_reason_then_failed_with_it(
    sandbox: RunningSandbox, phone: Any
) -> None:
    from playwright.sync_api import expect

    link = set_up(sandbox, "e2e-pass-2")
    page = phone.new_page()
    page.goto(f"{sandbox.url}/upi-app/mandate?link={quote(link, safe='')}")
    page.get_by_label("Why decline").select_option("INSUFFICIENT_BALANCE")
    page.get_by_test_id("decline").click()
    expect(page.get_by_test_id("state")).to_have_text("FAILED")
    setup = sandbox.state.get_order("e2e-pass-2-setup")
    assert setup is not None
    assert (setup.state, setup.error_code) == ("FAILED", "INSUFFICIENT_BALANCE")
