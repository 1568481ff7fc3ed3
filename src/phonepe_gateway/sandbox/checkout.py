"""The hosted checkout page at the ``redirectUrl`` a pay call returns (``/transact/{orderId}``).

Shows the merchant, the amount in ₹, the order id, an expiry countdown (on the sandbox
clock), a real UPI QR (``upi://pay?...`` as inline SVG) and a choice of UPI / card /
net banking, with Pay, Decline (for a chosen reason) and Leave pending. As at PhonePe, a
declined attempt keeps the customer here: the page says the attempt failed and offers
another try (or the way back to the merchant) until the order expires, unless the
merchant disabled retries. Submitting changes the order through the state (never
directly); paying, leaving, or a failed order returns the browser to the merchant: a 303
redirect, or for generation 1 ``redirectMode: POST`` an auto-submitting form. Templates and static
files ship in the package; nothing is loaded from a CDN.
"""

from __future__ import annotations

import hashlib
import html
from functools import cache
from importlib.resources import files
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, quote, urlsplit

import segno
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .failures import FAILURES, failure_for
from .models import Order
from .runtime import Sandbox
from .state import StateError

__all__ = ["format_rupees", "routes", "upi_intent"]

_MODES = {"UPI_QR", "UPI_INTENT", "UPI_COLLECT", "CARD", "NET_BANKING"}


@cache
def _template(name: str) -> Template:
    return Template(files(__package__).joinpath("templates", name).read_text("utf-8"))


def _render(name: str, status: int = 200, **values: object) -> HTMLResponse:
    return HTMLResponse(_template(name).substitute(values), status_code=status)


def format_rupees(paise: int) -> tuple[str, str]:
    """Indian digit grouping: 12345678 paise -> ("1,23,456", "78")."""
    rupees, minor = divmod(paise, 100)
    digits = str(rupees)
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        digits = ",".join([head, *groups, tail]) if head else ",".join([*groups, tail])
    return digits, f"{minor:02d}"


def upi_intent(order: Order, payee_vpa: str, payee_name: str) -> str:
    rupees, minor = divmod(order.amount, 100)
    return (
        f"upi://pay?pa={quote(payee_vpa, safe='@.')}&pn={quote(payee_name)}"
        f"&am={rupees}.{minor:02d}&tr={order.order_id}&cu=INR"
    )


def _qr_svg(uri: str) -> str:
    return str(
        segno.make(uri, error="m").svg_inline(scale=1, border=0, dark="#1d1d1f", omitsize=True)
    )


def _sb(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _notice(order: Order) -> str:
    """After a failed attempt on a still-open order: say so, offer a retry or the way back."""
    last = order.last_attempt
    if last is None or last.state != "FAILED":
        return ""
    failure = failure_for(last.error_code, last.detailed_error_code)
    reason = failure.description if failure else "The payment failed."
    back = _safe_url(order.redirect_url)
    link = (
        f' or <a data-testid="return" href="{html.escape(back)}">go back to the merchant</a>'
        if back and not (order.generation == 1 and order.redirect_mode == "POST")
        else ""
    )
    return (
        '  <section class="notice" role="alert" data-testid="attempt-failed">\n'
        f"    <p><b>That attempt failed</b> ({html.escape(reason)} "
        f"{html.escape(last.error_code or '')}/{html.escape(last.detailed_error_code or '')}).</p>\n"
        f"    <p>Nothing was charged. Try again below{link}.</p>\n"
        "  </section>\n"
    )


def _reasons() -> str:
    return "".join(
        f'<option value="{name}">{html.escape(f.description)} ({f.error_code})</option>'
        for name, f in FAILURES.items()
    )


def _page(sb: Sandbox, order: Order) -> HTMLResponse:
    major, minor = format_rupees(order.amount)
    remaining = max(0, int(order.expire_at - sb.clock.now()))
    name = sb.config.merchant_name
    esc = html.escape
    return _render(
        "checkout.html",
        merchant=esc(name),
        merchant_initial=esc(name[:1].upper() or "M"),
        merchant_id=esc(order.merchant_id),
        description=esc(order.message or "Payment request"),
        amount_major=major,
        amount_minor=minor,
        amount_text=f"₹{major}.{minor}",
        merchant_order_id=esc(order.merchant_order_id),
        order_id=esc(order.order_id),
        remaining=remaining,
        remaining_text=f"{remaining // 60:02d}:{remaining % 60:02d}",
        speed=sb.clock.speed,
        qr_svg=_qr_svg(upi_intent(order, sb.config.payee_vpa, name)),
        payee_vpa=esc(sb.config.payee_vpa),
        notice=_notice(order),
        reasons=_reasons(),
    )


def _done(order: Order | None, status: int = 200, return_url: str | None = None) -> HTMLResponse:
    if order is None:
        return _render(
            "done.html",
            404,
            title="Payment link not found",
            state="UNKNOWN",
            state_class="fail",
            symbol="?",
            amount_text="–",
            merchant_order_id="–",
            return_link="",
        )
    titles = {
        "COMPLETED": ("Payment successful", "ok", "✓"),
        "FAILED": ("Payment failed", "fail", "✕"),
        "PENDING": ("Payment pending", "wait", "…"),
    }
    title, css, symbol = titles.get(order.state, (order.state, "wait", "…"))
    major, minor = format_rupees(order.amount)
    link = (
        (
            f'<a class="btn primary" data-testid="return" href="{html.escape(return_url)}">'
            "Return to merchant</a>"
        )
        if return_url
        else ""
    )
    return _render(
        "done.html",
        status,
        title=title,
        state=order.state,
        state_class=css,
        symbol=symbol,
        amount_text=f"{major}.{minor}",
        merchant_order_id=html.escape(order.merchant_order_id),
        return_link=link,
    )


def _safe_url(url: str | None) -> str | None:
    """Only http(s) URLs are followed (a javascript: URL is not a merchant)."""
    return url if url and urlsplit(url).scheme in ("http", "https") else None


async def show(request: Request) -> Response:
    sb = _sb(request)
    order = sb.state.order_by_order_id(request.path_params["order_id"])
    if order is None or order.state != "PENDING":
        return _done(
            order, 404 if order is None else 200, _safe_url(order.redirect_url) if order else None
        )
    return _page(sb, order)


async def submit(request: Request) -> Response:
    sb = _sb(request)
    order = sb.state.order_by_order_id(request.path_params["order_id"])
    if order is None:
        return _done(None)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    action = form.get("action", "pending")
    mode = str(form.get("mode") if form.get("mode") in _MODES else "UPI_QR")
    try:
        if action == "pay":
            order = sb.state.complete_order(order.merchant_order_id, payment_mode=mode)
        elif action == "decline":
            failure = FAILURES.get(form.get("reason", ""), FAILURES["DECLINED"])
            order = sb.state.decline_attempt(
                order.merchant_order_id, failure=failure, payment_mode=mode
            )
            if order.state == "PENDING":  # the customer may try again: back to this page
                return RedirectResponse(f"/transact/{order.order_id}", status_code=303)
    except StateError:
        refreshed = sb.state.get_order(order.merchant_order_id)
        order = refreshed or order  # already final or expired: report what it is
    return _return_to_merchant(sb, order)


def _return_to_merchant(sb: Sandbox, order: Order) -> Response:
    target = _safe_url(order.redirect_url)
    if target is None:
        return _done(order)
    if order.generation == 1 and order.redirect_mode == "POST":
        return _post_back(sb, order, target)
    return RedirectResponse(target, status_code=303)


def _post_back(sb: Sandbox, order: Order, target: str) -> HTMLResponse:
    code = {"COMPLETED": "PAYMENT_SUCCESS", "PENDING": "PAYMENT_PENDING"}.get(
        order.state, "PAYMENT_ERROR"
    )
    last = order.attempts[-1] if order.attempts else None
    fields = {
        "code": code,
        "merchantId": order.merchant_id,
        "transactionId": order.merchant_order_id,
        "amount": str(order.amount),
        "providerReferenceId": last.transaction_id if last else order.order_id,
    }
    salt, index = sb.config.merchants().get(order.merchant_id, (sb.config.salt_key, 1))
    signed = "".join(fields.values()) + salt
    fields["checksum"] = hashlib.sha256(signed.encode()).hexdigest() + f"###{index}"
    inputs = "\n".join(
        f'    <input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    return _render(
        "post_redirect.html",
        merchant=html.escape(sb.config.merchant_name),
        action=html.escape(target),
        fields=inputs,
    )


routes: list[BaseRoute] = [
    Route("/transact/{order_id}", show, methods=["GET"]),
    Route("/transact/{order_id}", submit, methods=["POST"]),
    Mount("/_static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
]
