"""The simulated UPI app's AutoPay pages and the mandate control API."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx

from phonepe_gateway.sandbox.testing import RunningSandbox

from .autopay import AutoPay, ap, setup_body

__all__ = ["ap"]


def _open_link(sandbox: RunningSandbox, link: str) -> httpx.Response:
    return httpx.get(sandbox.url + "/upi-app/mandate", params={"link": link}, trust_env=False)


def _press(
    sandbox: RunningSandbox, msid: str, action: str, back: str, **extra: str
) -> httpx.Response:
    return httpx.post(
        f"{sandbox.url}/upi-app/mandates/{msid}",
        data={"action": action, "back": back, **extra},
        trust_env=False,
    )


def test_intent_link_opens_the_request_with_amounts_and_buttons(
    ap: AutoPay, sandbox: RunningSandbox
) -> None:
    link = ap.api.post("/subscriptions/v2/setup", json=setup_body()).json()["intentUrl"]
    page = _open_link(sandbox, link)
    assert page.status_code == 200
    assert "Set up AutoPay" in page.text
    assert "₹1.00" in page.text
    assert "₹500.00" in page.text
    assert 'data-testid="approve"' in page.text
    assert 'data-testid="decline"' in page.text
    assert 'data-testid="pause"' not in page.text


def test_approve_button_then_303_back_and_active(ap: AutoPay, sandbox: RunningSandbox) -> None:
    link = ap.api.post("/subscriptions/v2/setup", json=setup_body()).json()["intentUrl"]
    back = "/upi-app/mandate?link=" + quote(link, safe="")
    answer = _press(sandbox, "sub-1", "APPROVE", back, pin="1234")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(back)
    assert ap.status()["state"] == "ACTIVE"
    shown = httpx.get(sandbox.url + answer.headers["location"], trust_env=False)
    assert "AutoPay approved" in shown.text
    assert re.search(r'data-testid="state">ACTIVE<', shown.text)
    assert 'data-testid="pause"' in shown.text
    assert 'data-testid="revoke"' in shown.text


def test_approve_without_a_upi_pin_then_refused_on_the_page(
    ap: AutoPay, sandbox: RunningSandbox
) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    for pin in ("", "12", "12ab", "12345"):
        answer = _press(sandbox, "sub-1", "APPROVE", "/upi-app/mandates", pin=pin)
        assert "error=" in answer.headers["location"], pin
    shown = httpx.get(sandbox.url + answer.headers["location"], trust_env=False)
    assert 'data-testid="form-error"' in shown.text
    assert "UPI PIN" in shown.text
    assert ap.status()["state"] == "PENDING"
    _press(sandbox, "sub-1", "APPROVE", "/upi-app/mandates", pin="123456")
    assert ap.status()["state"] == "ACTIVE"


def test_decline_with_reason_then_failed_with_that_reason(
    ap: AutoPay, sandbox: RunningSandbox
) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    _press(sandbox, "sub-1", "DECLINE", "/upi-app/mandates", reason="INSUFFICIENT_BALANCE")
    assert ap.status()["state"] == "FAILED"
    assert ap.order("setup-1")["errorCode"] == "INSUFFICIENT_BALANCE"


def test_pause_resume_revoke_buttons_follow_the_state(ap: AutoPay, sandbox: RunningSandbox) -> None:
    ap.active()
    _press(sandbox, "sub-1", "PAUSE", "/upi-app/mandates")
    page = httpx.get(sandbox.url + "/upi-app/mandates", trust_env=False).text
    assert 'data-testid="resume"' in page
    assert "Paused until" in page
    _press(sandbox, "sub-1", "RESUME", "/upi-app/mandates")
    _press(sandbox, "sub-1", "REVOKE", "/upi-app/mandates")
    page = httpx.get(sandbox.url + "/upi-app/mandates", trust_env=False).text
    assert re.search(r'data-testid="state">REVOKED<', page)
    assert "<button" not in page  # nothing left to do


def test_refused_action_then_error_banner_and_nothing_changes(
    ap: AutoPay, sandbox: RunningSandbox
) -> None:
    ap.active()
    answer = _press(sandbox, "sub-1", "RESUME", "/upi-app/mandates")
    assert "error=" in answer.headers["location"]
    shown = httpx.get(sandbox.url + answer.headers["location"], trust_env=False)
    assert 'role="alert"' in shown.text
    assert ap.status()["state"] == "ACTIVE"


def test_back_outside_the_upi_app_then_never_redirected_there(
    ap: AutoPay, sandbox: RunningSandbox
) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    for back in ("https://evil.example/", "//evil.example/x", "/_sandbox/reset"):
        answer = _press(sandbox, "sub-1", "PAUSE", back)
        assert answer.headers["location"].startswith("/upi-app/mandates?"), back


def test_unknown_or_non_mandate_link_then_404_page(sandbox: RunningSandbox) -> None:
    assert _open_link(sandbox, "upi://mandate?tr=OMO-nope").status_code == 404
    assert _open_link(sandbox, "upi://pay?pa=x@ybl&tr=1").status_code == 404
    assert _open_link(sandbox, "https://example.com").status_code == 404


def test_empty_list_then_friendly_message(sandbox: RunningSandbox) -> None:
    page = httpx.get(sandbox.url + "/upi-app/mandates", trust_env=False)
    assert page.status_code == 200
    assert 'data-testid="empty"' in page.text


def test_page_escapes_what_the_merchant_sent(ap: AutoPay, sandbox: RunningSandbox) -> None:
    mode = {"type": "UPI_COLLECT", "details": {"type": "VPA", "vpa": "<script>x</script>@ybl"}}
    ap.api.post("/subscriptions/v2/setup", json=setup_body(mode=mode))
    page = httpx.get(sandbox.url + "/upi-app/mandates", trust_env=False).text
    assert "<script>x" not in page
    assert "&lt;script&gt;x" in page


def test_control_api_view_then_orders_history_and_link(ap: AutoPay) -> None:
    ap.active()
    view = ap.control.get("/subscriptions/sub-1").json()
    assert view["state"] == "ACTIVE"
    assert view["setupOrder"]["state"] == "COMPLETED"
    assert view["intentUrl"].startswith("upi://mandate?")
    assert [(h["from"], h["to"]) for h in view["history"]] == [("PENDING", "ACTIVE")]
    assert view["mandatesPath"] == "/upi-app/mandates?vpa=sandbox.payer%40ybl"


def test_control_api_bad_input_then_400_and_nothing_changes(ap: AutoPay) -> None:
    ap.active()
    assert ap.act("sub-1", "EXPLODE").status_code == 400
    assert ap.act("sub-1", "PAUSE", until="tomorrow").status_code == 400
    assert ap.act("sub-1", "DECLINE", reason="BORED").status_code in (400, 409)
    bad = ap.control.post("/subscriptions/balance", json={"balance": -1})
    assert bad.status_code == 400
    reason = ap.control.post("/subscriptions/sub-1/fail-next-debit", json={"reason": "NOPE"})
    assert reason.status_code == 400
    assert ap.status()["state"] == "ACTIVE"


def test_control_api_cross_site_or_form_then_refused(ap: AutoPay, sandbox: RunningSandbox) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    cross = httpx.post(
        sandbox.url + "/_sandbox/subscriptions/sub-1",
        json={"action": "APPROVE"},
        headers={"Origin": "https://evil.example"},
        trust_env=False,
    )
    assert cross.status_code == 403
    form = httpx.post(
        sandbox.url + "/_sandbox/subscriptions/sub-1", data={"action": "APPROVE"}, trust_env=False
    )
    assert form.status_code == 415
    assert ap.status()["state"] == "PENDING"


def test_collect_mandate_request_then_in_the_upi_app_inbox_for_that_vpa(
    ap: AutoPay, sandbox: RunningSandbox
) -> None:
    mode = {"type": "UPI_COLLECT", "details": {"type": "VPA", "vpa": "driver@ybl"}}
    ap.api.post("/subscriptions/v2/setup", json=setup_body(mode=mode))
    inbox = httpx.get(sandbox.url + "/upi-app", params={"vpa": "driver@ybl"}, trust_env=False)
    assert 'data-testid="mandate-request" data-id="sub-1"' in inbox.text
    other = httpx.get(sandbox.url + "/upi-app", params={"vpa": "x@ybl"}, trust_env=False)
    assert "mandate-request" not in other.text
    link = re.search(
        r'href="(/upi-app/mandate\?link=[^"]+)" data-testid="mandate-request"', inbox.text
    )
    assert link is not None
    screen = httpx.get(sandbox.url + link.group(1).replace("&amp;", "&"), trust_env=False)
    assert 'data-testid="approve"' in screen.text
    ap.act("sub-1", "APPROVE")
    inbox = httpx.get(sandbox.url + "/upi-app", params={"vpa": "driver@ybl"}, trust_env=False)
    assert "mandate-request" not in inbox.text  # answered: no longer waiting
