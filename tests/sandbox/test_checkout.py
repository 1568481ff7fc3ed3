"""The hosted checkout page: what it shows, and what its buttons do to the order."""

from __future__ import annotations

import html
import os
import re

import httpx
import pytest

from phonepe_gateway.sandbox.checkout import format_rupees, upi_intent
from phonepe_gateway.sandbox.testing import RunningSandbox

from .conftest import Receiver, gen1_sign, pay_body

RETURN = "http://127.0.0.1:9/return"


def create(api: httpx.Client, moid: str, **extra: object) -> str:
    answer = api.post("/checkout/v2/pay", json=pay_body(moid, **extra))
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["redirectUrl"]
    return url


def test_page_when_pending_then_shows_merchant_amount_order_countdown_qr_modes(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    url = create(
        api,
        "page-1",
        amount=1234567,
        paymentFlow={
            "type": "PG_CHECKOUT",
            "message": "Parking <B4>",
            "merchantUrls": {"redirectUrl": RETURN},
        },
    )
    page = httpx.get(url)
    assert page.status_code == 200
    text = page.text
    assert "Sandbox Merchant" in text
    assert "Parking &lt;B4&gt;" in text  # escaped, never raw HTML from the merchant
    assert '₹</span>12,345<span class="paise">.67' in text
    assert 'data-testid="order-id">page-1<' in text
    countdown = re.search(r'data-remaining="(\d+)"', text)
    assert countdown is not None
    assert 1190 <= int(countdown.group(1)) <= 1200
    assert "<svg" in text
    assert 'class="qrline"' in text
    for mode in ("UPI_QR", "CARD", "NET_BANKING"):
        assert f'value="{mode}"' in text
    for action in ("pay", "decline", "pending"):
        assert f'name="action" value="{action}"' in text
    assert "http://" not in text.replace(url, "").replace("http://www.w3.org", "")  # no CDN
    css = httpx.get(sandbox.url + "/_static/checkout.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_upi_intent_when_rendered_then_standard_fields(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    create(api, "page-2", amount=10050)
    order = sandbox.state.get_order("page-2")
    assert order is not None
    uri = upi_intent(order, "sandbox.merchant@ybl", "Sandbox Merchant")
    assert uri == (
        f"upi://pay?pa=sandbox.merchant@ybl&pn=Sandbox%20Merchant&am=100.50"
        f"&tr={order.order_id}&cu=INR"
    )


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (100, ("1", "00")),
        (12345, ("123", "45")),
        (123456, ("1,234", "56")),
        (12345678, ("1,23,456", "78")),
        (10000000000, ("10,00,00,000", "00")),
    ],
)
def test_format_rupees_when_large_then_indian_grouping(paise: int, text: tuple[str, str]) -> None:
    assert format_rupees(paise) == text


@pytest.mark.parametrize(
    ("action", "mode", "state"),
    [
        ("pay", "CARD", "COMPLETED"),
        ("pay", "NET_BANKING", "COMPLETED"),
        ("pending", "UPI_QR", "PENDING"),
    ],
)
def test_submit_when_action_then_order_changes_and_redirects_to_merchant(
    sandbox: RunningSandbox, api: httpx.Client, action: str, mode: str, state: str
) -> None:
    url = create(api, f"page-{action}-{mode}")
    answer = httpx.post(url, data={"action": action, "mode": mode})
    assert answer.status_code == 303
    assert answer.headers["location"] == RETURN
    order = sandbox.state.get_order(f"page-{action}-{mode}")
    assert order is not None
    assert order.state == state
    if state != "PENDING":
        assert order.attempts[-1].payment_mode == mode


def test_decline_when_retries_allowed_then_back_on_page_with_notice_and_pay_works(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    url = create(api, "page-retry")
    answer = httpx.post(url, data={"action": "decline", "mode": "CARD", "reason": "INVALID_MPIN"})
    assert answer.status_code == 303
    assert answer.headers["location"] == url.removeprefix(sandbox.url)  # same order's page
    order = sandbox.state.get_order("page-retry")
    assert order is not None
    assert order.state == "PENDING"
    assert [
        (a.state, a.payment_mode, a.error_code, a.detailed_error_code) for a in order.attempts
    ] == [("FAILED", "CARD", "INVALID_MPIN", "ZM")]
    page = httpx.get(url)
    assert page.status_code == 200
    assert 'data-testid="attempt-failed"' in page.text
    assert "That attempt failed" in page.text
    assert f'data-testid="return" href="{RETURN}"' in page.text  # or go back to the merchant
    assert 'data-testid="pay"' in page.text  # and try again on the same order
    paid = httpx.post(url, data={"action": "pay", "mode": "UPI_QR"})
    assert paid.status_code == 303
    assert paid.headers["location"] == RETURN
    order = sandbox.state.get_order("page-retry")
    assert order is not None
    assert order.state == "COMPLETED"
    assert [a.state for a in order.attempts] == ["FAILED", "COMPLETED"]


def test_decline_when_retry_disabled_then_order_failed_and_back_to_merchant(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    url = create(api, "page-noretry", disablePaymentRetry=True)
    answer = httpx.post(url, data={"action": "decline", "mode": "UPI_QR"})
    assert answer.status_code == 303
    assert answer.headers["location"] == RETURN
    order = sandbox.state.get_order("page-noretry")
    assert order is not None
    assert order.state == "FAILED"
    assert (order.error_code, order.detailed_error_code) == ("PAYMENT_ERROR", "ZA")
    assert "Payment failed" in httpx.get(url).text


def test_page_when_already_paid_then_result_with_return_link(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    url = create(api, "page-3")
    httpx.post(url, data={"action": "pay", "mode": "UPI_QR"})
    page = httpx.get(url)
    assert page.status_code == 200
    assert "Payment successful" in page.text
    assert f'href="{RETURN}"' in page.text
    again = httpx.post(url, data={"action": "decline"})
    assert again.status_code == 303
    order = sandbox.state.get_order("page-3")
    assert order is not None
    assert order.state == "COMPLETED"  # a late decline never undoes a payment


def test_submit_when_expired_then_failed_not_paid(
    sandbox: RunningSandbox, api: httpx.Client, control: httpx.Client
) -> None:
    url = create(api, "page-4", expireAfter=300)
    control.post("/clock/advance", json={"seconds": 301})
    assert httpx.post(url, data={"action": "pay"}).status_code == 303
    order = sandbox.state.get_order("page-4")
    assert order is not None
    assert order.state == "FAILED"


def test_page_when_unknown_order_then_404_page(sandbox: RunningSandbox) -> None:
    page = httpx.get(sandbox.url + "/transact/OMO0000")
    assert page.status_code == 404
    assert "Payment link not found" in page.text


def test_page_when_no_or_unsafe_redirect_then_result_page(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    body = pay_body("page-5")
    body["paymentFlow"] = {"type": "PG_CHECKOUT"}
    url = api.post("/checkout/v2/pay", json=body).json()["redirectUrl"]
    answer = httpx.post(url, data={"action": "pay"})
    assert answer.status_code == 200
    assert "Payment successful" in answer.text
    bad = create(
        api,
        "page-6",
        paymentFlow={"type": "PG_CHECKOUT", "merchantUrls": {"redirectUrl": "javascript:alert(1)"}},
    )
    answer = httpx.post(bad, data={"action": "pay"})
    assert answer.status_code == 200
    assert "javascript:" not in answer.text


def test_gen1_post_redirect_mode_when_paid_then_auto_submitting_form(
    sandbox: RunningSandbox,
) -> None:
    body, headers = gen1_sign(
        {
            "merchantId": "PGSANDBOXMERCHANT",
            "merchantTransactionId": "g1-post",
            "merchantUserId": "U",
            "amount": 500,
            "redirectUrl": "http://127.0.0.1:9/posted",
            "redirectMode": "POST",
            "paymentInstrument": {"type": "PAY_PAGE"},
        },
        "/pg/v1/pay",
    )
    created = httpx.post(sandbox.base_url + "/pg/v1/pay", json=body, headers=headers).json()
    url = created["data"]["instrumentResponse"]["redirectInfo"]["url"]
    answer = httpx.post(url, data={"action": "pay", "mode": "UPI_QR"})
    assert answer.status_code == 200
    text = answer.text
    assert 'onload="document.forms[0].submit()"' in text
    assert 'action="http://127.0.0.1:9/posted"' in text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', text))
    assert fields["code"] == "PAYMENT_SUCCESS"
    assert fields["transactionId"] == "g1-post"
    assert fields["amount"] == "500"
    assert fields["merchantId"] == "PGSANDBOXMERCHANT"
    assert html.unescape(fields["checksum"]).endswith("###1")


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="system Chromium not installed")
def test_browser_when_card_chosen_and_pay_clicked_then_back_at_merchant_and_completed(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    from playwright.sync_api import sync_playwright

    hook, merchant_url = receiver
    url = create(
        api,
        "browser-1",
        paymentFlow={
            "type": "PG_CHECKOUT",
            "merchantUrls": {"redirectUrl": merchant_url + "?back=1"},
        },
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 412, "height": 915})
            page.goto(url)
            assert page.get_by_test_id("pay").is_visible()  # above the fold on a phone
            assert page.get_by_test_id("upi-qr").is_visible()
            page.get_by_test_id("mode-card").click()
            assert not page.get_by_test_id("upi-qr").is_visible()
            page.get_by_test_id("pay").click()
            page.wait_for_url(merchant_url + "?back=1")
        finally:
            browser.close()
    order = sandbox.state.get_order("browser-1")
    assert order is not None
    assert order.state == "COMPLETED"
    assert order.attempts[0].payment_mode == "CARD"
    assert any(h.get("host", "").startswith("127.0.0.1") for h, _ in hook.requests)


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="system Chromium not installed")
def test_browser_when_gen1_post_mode_paid_then_form_posted_to_merchant(
    sandbox: RunningSandbox, receiver: tuple[Receiver, str]
) -> None:
    from urllib.parse import parse_qs

    from playwright.sync_api import sync_playwright

    hook, merchant_url = receiver
    body, headers = gen1_sign(
        {
            "merchantId": "PGSANDBOXMERCHANT",
            "merchantTransactionId": "browser-post",
            "merchantUserId": "U",
            "amount": 4000,
            "redirectUrl": merchant_url,
            "redirectMode": "POST",
            "paymentInstrument": {"type": "PAY_PAGE"},
        },
        "/pg/v1/pay",
    )
    created = httpx.post(sandbox.base_url + "/pg/v1/pay", json=body, headers=headers).json()
    url = created["data"]["instrumentResponse"]["redirectInfo"]["url"]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 412, "height": 915})
            page.goto(url)
            page.get_by_test_id("pay").click()
            page.wait_for_url(merchant_url)
        finally:
            browser.close()
    posted = [
        parse_qs(raw.decode())
        for h, raw in hook.requests
        if h.get("content-type", "").startswith("application/x-www-form-urlencoded")
    ]
    (fields,) = posted
    assert fields["code"] == ["PAYMENT_SUCCESS"]
    assert fields["transactionId"] == ["browser-post"]
    assert fields["amount"] == ["4000"]
