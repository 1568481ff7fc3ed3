"""The simulated UPI app and the bank page, over real HTTP, as a browser submits them."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox
from phonepe_gateway.sandbox.upi_app import (
    LINK_KINDS,
    LINK_PAGES,
    LinkKind,
    register_link_kind,
    register_link_page,
)

from .test_custom_checkout import CARD, REDIRECT, TOKEN, custom_body


def page(sandbox: RunningSandbox, link: str) -> httpx.Response:
    return httpx.get(sandbox.url + "/upi-app/pay", params={"link": link})


def submit(sandbox: RunningSandbox, link: str, **form: str) -> httpx.Response:
    return httpx.post(sandbox.url + "/upi-app/pay", data={"link": link, **form})


def intent(api: httpx.Client, moid: str, kind: str = "UPI_INTENT") -> str:
    body = api.post("/payments/v2/pay", json=custom_body(moid, {"type": kind})).json()
    return str(body["intentUrl"])


def test_pay_page_when_intent_opened_then_shows_payee_amount_and_choices(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = intent(api, "app-1")
    shown = page(sandbox, link)
    assert shown.status_code == 200
    text = shown.text
    assert sandbox.config.merchant_name in text
    assert sandbox.config.payee_vpa in text
    assert '<span class="rupee">₹</span>123<span class="paise">.45</span>' in text
    for testid in ("pay", "decline", "leave-pending", "decline-reason", "pin"):
        assert f'data-testid="{testid}"' in text
    assert "(ZM)" in text
    assert "(Z9)" in text


def test_pay_when_pin_given_then_order_completed_and_page_says_paid(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = intent(api, "app-2")
    done = submit(sandbox, link, outcome="PAY", pin="1234")
    assert done.status_code == 303
    assert sandbox.state.get_order("app-2").state == "COMPLETED"  # type: ignore[union-attr]
    after = httpx.get(sandbox.url + done.headers["location"])
    assert 'data-testid="result" data-state="ok"' in after.text


def test_pay_when_pin_missing_then_error_shown_and_nothing_changes(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = intent(api, "app-3")
    for pin in ("", "12", "12345", "abcd"):
        answer = submit(sandbox, link, outcome="PAY", pin=pin)
        assert answer.status_code == 303
        shown = httpx.get(sandbox.url + answer.headers["location"])
        assert 'data-testid="form-error"' in shown.text
    order = sandbox.state.get_order("app-3")
    assert order is not None
    assert (order.state, order.attempts) == ("PENDING", [])


def test_decline_when_reason_chosen_then_order_failed_with_npci_code(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = intent(api, "app-4")
    submit(sandbox, link, outcome="DECLINE", reason="INVALID_MPIN")
    status = api.get("/payments/v2/order/app-4/status").json()
    assert (status["state"], status["errorCode"], status["detailedErrorCode"]) == (
        "FAILED",
        "INVALID_MPIN",
        "ZM",
    )
    assert 'data-state="fail"' in page(sandbox, link).text


def test_leave_pending_when_chosen_then_pending_attempt_and_later_pay_completes_it(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = intent(api, "app-5")
    submit(sandbox, link, outcome="PENDING")
    submit(sandbox, link, outcome="PENDING")  # twice: still one attempt
    status = api.get("/payments/v2/order/app-5/status").json()
    assert [a["state"] for a in status["paymentDetails"]] == ["PENDING"]
    assert 'data-testid="waiting"' in page(sandbox, link).text
    submit(sandbox, link, outcome="PAY", pin="123456")
    status = api.get("/payments/v2/order/app-5/status?details=true").json()
    assert status["state"] == "COMPLETED"
    assert [a["state"] for a in status["paymentDetails"]] == ["COMPLETED"]


def test_hosted_checkout_qr_when_scanned_then_the_upi_app_pays_it(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    from phonepe_gateway.sandbox.checkout import upi_intent

    api.post(
        "/checkout/v2/pay",
        json={"merchantOrderId": "app-6", "amount": 1000, "paymentFlow": {"type": "PG_CHECKOUT"}},
    )
    order = sandbox.state.get_order("app-6")
    assert order is not None
    link = upi_intent(order, sandbox.config.payee_vpa, sandbox.config.merchant_name)
    submit(sandbox, link, outcome="PAY", pin="1111")
    status = api.get("/checkout/v2/order/app-6/status").json()
    assert status["state"] == "COMPLETED"
    assert status["paymentDetails"][0]["paymentMode"] == "UPI_QR"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda link: link.replace("am=123.45", "am=1.00"), "amount"),
        (lambda link: link.replace("pa=", "pa=someone.else%40ybl&x="), "payee"),
        (lambda link: link.replace("tr=", "tr=NOPE"), "No payment request"),
        (lambda link: "https://example.invalid/pay", "not a UPI link"),
        (lambda link: link.replace("upi://pay", "upi://unknownkind"), "cannot open"),
    ],
)
def test_link_when_tampered_or_unknown_then_refused_and_nothing_changes(
    sandbox: RunningSandbox, api: httpx.Client, mutate: Any, message: str
) -> None:
    link = mutate(intent(api, "app-7"))
    shown = page(sandbox, link)
    assert shown.status_code in (400, 404)
    assert message in shown.text
    answer = httpx.post(sandbox.url + "/_sandbox/upi/pay", json={"link": link, "outcome": "PAY"})
    assert answer.status_code in (400, 404)
    assert message in answer.json()["error"]["message"]
    assert sandbox.state.get_order("app-7").state == "PENDING"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"outcome": "PAY"}, "BAD_LINK"),
        ({"link": "upi://pay?tr=x"}, "BAD_REQUEST"),
        ({"link": "LINK", "outcome": "MAYBE"}, "BAD_REQUEST"),
        ({"link": "LINK", "outcome": "DECLINE", "reason": "BORED"}, "BAD_REQUEST"),
    ],
)
def test_control_pay_when_body_invalid_then_400_and_nothing_changes(
    sandbox: RunningSandbox, api: httpx.Client, body: dict[str, str], code: str
) -> None:
    link = intent(api, "app-8")
    sent = {k: (link if v == "LINK" else v) for k, v in body.items()}
    answer = httpx.post(sandbox.url + "/_sandbox/upi/pay", json=sent)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code
    order = sandbox.state.get_order("app-8")
    assert order is not None
    assert (order.state, order.attempts) == ("PENDING", [])


def test_control_when_not_loopback_host_then_refused(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = intent(api, "app-9")
    answer = httpx.post(
        sandbox.url + "/_sandbox/upi/pay",
        json={"link": link, "outcome": "PAY"},
        headers={"Host": "attacker.example"},
    )
    assert answer.status_code == 403
    assert sandbox.state.get_order("app-9").state == "PENDING"  # type: ignore[union-attr]


def test_inbox_when_collect_requests_then_listed_per_vpa_and_payable(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    for moid, vpa in (("in-1", "alice@ybl"), ("in-2", "bob@okaxis")):
        mode = {"type": "UPI_COLLECT", "details": {"type": "VPA", "vpa": vpa}, "message": "Bay"}
        api.post("/payments/v2/pay", json=custom_body(moid, mode)).raise_for_status()
    phone = {
        "type": "UPI_COLLECT",
        "details": {"type": "PHONE_NUMBER", "phoneNumber": "9123456789"},
    }
    api.post("/payments/v2/pay", json=custom_body("in-3", phone)).raise_for_status()
    api.post(
        "/payments/v2/pay", json=custom_body("in-4", {"type": "UPI_INTENT"})
    ).raise_for_status()

    everyone = httpx.get(sandbox.url + "/upi-app").text
    assert everyone.count('data-testid="collect-request"') == 3  # intents are not requests
    alice = httpx.get(sandbox.url + "/upi-app", params={"vpa": "Alice@ybl"}).text
    assert alice.count('data-testid="collect-request"') == 1
    assert 'data-order="in-1"' in alice
    by_phone = httpx.get(sandbox.url + "/upi-app", params={"phone": "9123456789"}).text
    assert 'data-order="in-3"' in by_phone
    assert 'data-order="in-1"' not in by_phone

    (href,) = re.findall(r'href="([^"]+)" data-testid="collect-request"', alice)
    href = html.unescape(href)
    assert href.startswith("/upi-app/pay?link=")
    (link,) = re.findall(r'name="link" value="([^"]+)"', httpx.get(sandbox.url + href).text)
    submit(sandbox, html.unescape(link), outcome="PAY", pin="1234")
    assert api.get("/payments/v2/order/in-1/status").json()["state"] == "COMPLETED"
    after = httpx.get(sandbox.url + "/upi-app", params={"vpa": "alice@ybl"}).text
    assert 'data-testid="inbox-empty"' in after


def test_control_collect_when_order_is_not_a_collect_then_404(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    intent(api, "app-10")
    answer = httpx.post(sandbox.url + "/_sandbox/upi/collect/app-10", json={"outcome": "PAY"})
    assert answer.status_code == 404
    assert (
        httpx.post(sandbox.url + "/_sandbox/upi/collect/none", json={"outcome": "PAY"}).status_code
        == 404
    )


def test_register_link_kind_when_new_kind_then_page_and_control_dispatch_to_it(
    sandbox: RunningSandbox,
) -> None:
    seen: list[tuple[str, str | None]] = []

    def screen(sb: Any, link: str, params: dict[str, str]) -> str:
        return f'<p data-testid="custom-kind">{params["id"]}</p>'

    def act(sb: Any, params: dict[str, str], outcome: str, reason: str | None) -> dict[str, Any]:
        seen.append((outcome, reason))
        return {"ok": params["id"]}

    register_link_kind(
        "testkind", LinkKind(screen=screen, act=act, pin_outcomes=frozenset({"APPROVE"}))
    )
    try:
        assert 'data-testid="custom-kind">42<' in page(sandbox, "upi://testkind?id=42").text
        answer = httpx.post(
            sandbox.url + "/_sandbox/upi/pay",
            json={"link": "upi://testkind?id=42", "outcome": "approve"},
        )
        assert answer.json() == {"ok": "42"}
        refused = submit(sandbox, "upi://testkind?id=42", outcome="APPROVE")  # no PIN
        assert "error=" in refused.headers["location"]
        assert seen == [("APPROVE", None)]
        submit(sandbox, "upi://testkind?id=42", outcome="APPROVE", pin="123456")
        submit(sandbox, "upi://testkind?id=42", outcome="REJECT", reason="ZA")
        assert seen == [("APPROVE", None), ("APPROVE", None), ("REJECT", "ZA")]
    finally:
        LINK_KINDS.pop("testkind")


# -- the bank page -----------------------------------------------------------------------


def bank_order(api: httpx.Client, moid: str, mode: dict[str, Any]) -> str:
    return str(api.post("/payments/v2/pay", json=custom_body(moid, mode)).json()["redirectUrl"])


@pytest.mark.parametrize(
    ("mode", "shown"),
    [
        ({"type": "NET_BANKING", "bankId": "HDFC"}, "HDFC NetBanking"),
        (CARD, "3-D Secure"),
        (TOKEN, "Card ending 4242"),
    ],
)
def test_bank_page_when_right_otp_then_completed_and_back_to_merchant(
    sandbox: RunningSandbox, api: httpx.Client, mode: dict[str, Any], shown: str
) -> None:
    url = bank_order(api, "bank-1", mode)
    text = httpx.get(url).text
    assert shown in text
    assert 'data-testid="otp"' in text
    done = httpx.post(url, data={"action": "pay", "otp": "123456"})
    assert (done.status_code, done.headers["location"]) == (303, REDIRECT)
    status = api.get("/payments/v2/order/bank-1/status").json()
    assert status["state"] == "COMPLETED"
    assert status["paymentDetails"][0]["paymentMode"] == mode["type"]
    assert status["paymentDetails"][0]["rail"]["type"] == "PG"
    assert 'data-testid="return"' in httpx.get(url).text


def test_bank_page_when_wrong_otp_then_error_and_nothing_changes(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    url = bank_order(api, "bank-2", {"type": "NET_BANKING", "bankId": "SBIN"})
    wrong = httpx.post(url, data={"action": "pay", "otp": "000000"})
    assert wrong.status_code == 303
    assert wrong.headers["location"].startswith("/bank/")
    assert 'data-testid="otp-error"' in httpx.get(sandbox.url + wrong.headers["location"]).text
    order = sandbox.state.get_order("bank-2")
    assert order is not None
    assert (order.state, order.attempts) == ("PENDING", [])


@pytest.mark.parametrize(
    ("form", "codes"),
    [
        ({"action": "cancel"}, ("PAYMENT_ERROR", "ZA")),
        ({"action": "fail", "reason": "INSUFFICIENT_BALANCE"}, ("INSUFFICIENT_BALANCE", "Z9")),
    ],
)
def test_bank_page_when_cancelled_or_failed_then_order_failed_and_back_to_merchant(
    sandbox: RunningSandbox, api: httpx.Client, form: dict[str, str], codes: tuple[str, str]
) -> None:
    url = bank_order(api, "bank-3", CARD)
    done = httpx.post(url, data=form)
    assert (done.status_code, done.headers["location"]) == (303, REDIRECT)
    status = api.get("/payments/v2/order/bank-3/status").json()
    assert (status["state"], status["errorCode"], status["detailedErrorCode"]) == ("FAILED", *codes)


def test_bank_page_when_order_is_upi_or_unknown_then_404(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    body = api.post("/payments/v2/pay", json=custom_body("bank-4", {"type": "UPI_QR"})).json()
    assert httpx.get(f"{sandbox.url}/bank/{body['orderId']}").status_code == 404
    assert (
        httpx.post(f"{sandbox.url}/bank/NOPE", data={"action": "pay", "otp": "123456"}).status_code
        == 404
    )
    assert sandbox.state.get_order("bank-4").state == "PENDING"  # type: ignore[union-attr]


def test_pay_page_link_when_url_encoded_twice_in_query_then_still_opens(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = intent(api, "app-11")
    url = f"{sandbox.url}/upi-app/pay?{urlencode({'link': link}, quote_via=quote)}"
    assert 'data-testid="pay"' in httpx.get(url).text


def test_register_link_page_when_kind_has_its_own_page_then_pay_redirects_there(
    sandbox: RunningSandbox,
) -> None:
    register_link_page("otherkind", "/upi-app/elsewhere")
    try:
        link = "upi://otherkind?id=7&pa=x@ybl"
        answer = page(sandbox, link)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/upi-app/elsewhere?" + urlencode({"link": link})
        with pytest.raises(ValueError, match="UPI app"):
            register_link_page("bad", "https://example.invalid/")
    finally:
        LINK_PAGES.pop("otherkind")


def test_mandate_link_when_opened_in_the_pay_page_then_the_mandate_screen_shows_it(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    from .autopay import setup_body

    setup = api.post("/subscriptions/v2/setup", json=setup_body(msid="sub-link"))
    assert setup.status_code == 200, setup.text
    link = setup.json()["intentUrl"]
    assert link.startswith("upi://mandate?")
    moved = page(sandbox, link)
    assert moved.status_code == 303
    screen = httpx.get(sandbox.url + moved.headers["location"])
    assert screen.status_code == 200
    assert 'data-testid="mandate" data-id="sub-link"' in screen.text
    assert 'data-testid="approve"' in screen.text
