"""The sandbox's simulated UPI app and bank page in a real Chromium the size of a phone.

A tester (or the parking site's customer in the other browser tests) opens a UPI intent
link, a scanned QR's link, a collect request from the inbox, or a card / net-banking
redirect, and settles it by hand. Each screen is photographed at 412x915 into
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


def custom_pay(sandbox: RunningSandbox, moid: str, mode: dict[str, Any], **flow: Any) -> Any:
    with httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=10) as api:
        token = api.post("/v1/oauth/token", data=CREDENTIALS).json()["access_token"]
        body = {
            "merchantOrderId": moid,
            "amount": 24_900,
            "paymentFlow": {"type": "PG", "paymentMode": mode, **flow},
        }
        answer = api.post(
            "/payments/v2/pay", json=body, headers={"Authorization": f"O-Bearer {token}"}
        )
        answer.raise_for_status()
        return answer.json()


def state_of(sandbox: RunningSandbox, moid: str) -> str:
    order = sandbox.state.get_order(moid)
    assert order is not None
    return order.state


def in_first_screen(page: Any, testid: str) -> bool:
    box = page.get_by_test_id(testid).bounding_box()
    return box is not None and box["y"] + box["height"] <= 915


def test_intent_link_when_opened_on_a_phone_then_pin_and_pay_completes_the_order(
    sandbox: RunningSandbox, phone: Any
) -> None:
    from playwright.sync_api import expect

    link = custom_pay(sandbox, "e2e-upi-1", {"type": "UPI_INTENT"})["intentUrl"]
    page = phone.new_page()
    page.goto(f"{sandbox.url}/upi-app/pay?link={quote(link, safe='')}")
    expect(page.get_by_test_id("amount")).to_have_text("₹249.00")
    expect(page.get_by_test_id("payee")).to_have_text(sandbox.config.merchant_name)
    assert in_first_screen(page, "pay"), "Pay must be visible without scrolling at 412×915"
    page.screenshot(path=str(screenshot_dir() / "upi-app-pay-412x915.png"))

    page.get_by_test_id("pay").click()  # no PIN yet: refused on the page
    expect(page.get_by_test_id("form-error")).to_be_visible()
    assert state_of(sandbox, "e2e-upi-1") == "PENDING"

    page.get_by_test_id("pin").fill("1234")
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("result")).to_have_attribute("data-state", "ok")
    page.screenshot(path=str(screenshot_dir() / "upi-app-paid-412x915.png"))
    assert state_of(sandbox, "e2e-upi-1") == "COMPLETED"


def test_collect_request_when_declined_from_the_inbox_then_order_failed_with_reason(
    sandbox: RunningSandbox, phone: Any
) -> None:
    from playwright.sync_api import expect

    mode = {
        "type": "UPI_COLLECT",
        "details": {"type": "VPA", "vpa": "driver@ybl"},
        "message": "Bay 12, 2 h",
    }
    custom_pay(sandbox, "e2e-upi-2", mode)
    page = phone.new_page()
    page.goto(f"{sandbox.url}/upi-app?vpa=driver@ybl")
    request = page.get_by_test_id("collect-request")
    expect(request).to_have_count(1)
    page.screenshot(path=str(screenshot_dir() / "upi-app-inbox-412x915.png"))
    request.click()
    expect(page.get_by_test_id("note")).to_have_text("Bay 12, 2 h")
    page.get_by_test_id("decline-reason").select_option("INSUFFICIENT_BALANCE")
    page.get_by_test_id("decline").click()
    expect(page.get_by_test_id("result")).to_have_attribute("data-state", "fail")
    order = sandbox.state.get_order("e2e-upi-2")
    assert order is not None
    assert (order.state, order.error_code, order.detailed_error_code) == (
        "FAILED",
        "INSUFFICIENT_BALANCE",
        "Z9",
    )


def test_net_banking_when_otp_entered_then_completed_and_back_to_the_merchant(
    sandbox: RunningSandbox, phone: Any
) -> None:
    from playwright.sync_api import expect

    back = f"{sandbox.url}/upi-app?returned=1"  # any loopback page stands in for the merchant
    answer = custom_pay(
        sandbox,
        "e2e-bank-1",
        {"type": "NET_BANKING", "bankId": "HDFC"},
        merchantUrls={"redirectUrl": back},
    )
    page = phone.new_page()
    page.goto(answer["redirectUrl"])
    expect(page.get_by_test_id("instrument")).to_have_text("Account at HDFC")
    assert in_first_screen(page, "submit-otp"), "Submit must be visible without scrolling"
    page.screenshot(path=str(screenshot_dir() / "bank-otp-412x915.png"))

    page.get_by_test_id("otp").fill("000000")
    page.get_by_test_id("submit-otp").click()
    expect(page.get_by_test_id("otp-error")).to_be_visible()
    page.screenshot(path=str(screenshot_dir() / "bank-otp-wrong-412x915.png"))
    assert state_of(sandbox, "e2e-bank-1") == "PENDING"

    page.get_by_test_id("otp").fill("123456")
    page.get_by_test_id("submit-otp").click()
    page.wait_for_url(back)
    assert state_of(sandbox, "e2e-bank-1") == "COMPLETED"
