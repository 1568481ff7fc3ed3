"""The sandbox bank: where a custom-checkout card, token or net-banking payment sends the
customer (the ``redirectUrl`` of ``/payments/v2/pay``), with an OTP step.

``GET /bank/{orderId}`` shows the bank (net banking: the ``bankId``; card: 3-D Secure;
token: the card's last four digits), the merchant, the amount and an OTP field.
``POST`` with ``action=pay`` and the OTP (the sandbox's is :data:`SANDBOX_OTP`) completes
the order; a wrong OTP is refused on the page and changes nothing; ``action=cancel``
declines (the customer abandoned authentication: the order fails, as a custom-checkout
attempt does) and ``action=fail`` fails it for a chosen reason (e.g. insufficient
balance). Then the customer goes back to the merchant's ``redirectUrl`` (303). Every
change goes through the state.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from string import Template
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .checkout import format_rupees
from .failures import FAILURES
from .models import Order
from .state import StateError

if TYPE_CHECKING:
    from .runtime import Sandbox

__all__ = ["SANDBOX_OTP", "routes"]

#: The one-time password the sandbox bank accepts (shown on the page: it is a test bank).
SANDBOX_OTP = "123456"
_BANKED = {"NET_BANKING", "CARD", "TOKEN"}
#: What a bank (not a UPI app) can answer: no funds, or the bank is down.
_BANK_FAILURES = ("INSUFFICIENT_BALANCE", "BANK_TECHNICAL_ISSUE")
_KIND = {"NET_BANKING": "net banking", "CARD": "card 3-D Secure", "TOKEN": "card 3-D Secure"}


@cache
def _template() -> Template:
    return Template(files(__package__).joinpath("templates", "bank.html").read_text("utf-8"))


def _sb(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _bank_name(order: Order) -> str:
    if order.instrument == "NET_BANKING":
        return f"{order.instrument_details.get('bankId', 'Bank')} NetBanking"
    return "Sandbox Card Services"


def _render(order: Order, title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        _template().substitute(
            title=html.escape(title),
            bank=html.escape(_bank_name(order)),
            kind=_KIND.get(order.instrument or "", "bank"),
            body=body,
        ),
        status_code=status,
    )


def _order(request: Request) -> Order | None:
    order = _sb(request).state.order_by_order_id(request.path_params["order_id"])
    return order if order is not None and order.instrument in _BANKED else None


def _not_found() -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><title>Not found</title><p>No bank authentication is waiting here.</p>",
        status_code=404,
    )


def _what(order: Order) -> str:
    if order.instrument == "TOKEN":
        return f"Card ending {order.instrument_details.get('panSuffix', '????')}"
    if order.instrument == "CARD":
        return "Card (details encrypted by the merchant)"
    return f"Account at {order.instrument_details.get('bankId', '')}"


def _summary(sb: Sandbox, order: Order) -> str:
    major, minor = format_rupees(order.amount)
    esc = html.escape
    return (
        '<section class="card payee">\n'
        f'  <div class="payee-name" data-testid="merchant">{esc(sb.config.merchant_name)}</div>\n'
        f'  <div class="amount" data-testid="amount"><span class="rupee">₹</span>{major}'
        f'<span class="paise">.{minor}</span></div>\n'
        '  <dl class="facts-list">\n'
        f'    <dt>Paying with</dt><dd data-testid="instrument">{esc(_what(order))}</dd>\n'
        f"    <dt>Order</dt><dd>{esc(order.merchant_order_id)}</dd>\n"
        "  </dl>\n"
        "</section>\n"
    )


def _reasons() -> str:
    return "".join(
        f'<option value="{name}">{html.escape(f.description)} ({html.escape(f.error_code)})</option>'
        for name, f in FAILURES.items()
        if name in _BANK_FAILURES
    )


def _form(sb: Sandbox, order: Order, error: str) -> str:
    remaining = max(0, int(order.expire_at - sb.clock.now()))
    alert = (
        f'<p class="banner fail" role="alert" data-testid="otp-error">{html.escape(error)}</p>\n'
        if error
        else ""
    )
    return (
        alert
        + f'<form method="post" action="/bank/{html.escape(order.order_id)}" class="card actions">\n'
        "  <p>We sent a one-time password to your registered mobile number.</p>\n"
        f'  <p class="otp-hint" data-testid="otp-hint">Sandbox OTP: <b>{SANDBOX_OTP}</b></p>\n'
        '  <label class="field">One-time password<input name="otp" inputmode="numeric" '
        'autocomplete="one-time-code" maxlength="6" data-testid="otp" required></label>\n'
        f'  <p class="muted">Session expires in {remaining // 60:02d}:{remaining % 60:02d}</p>\n'
        '  <button type="submit" name="action" value="pay" class="btn primary" '
        'data-testid="submit-otp">Submit OTP</button>\n'
        '  <label class="field">To simulate a bank failure<select name="reason" '
        f'data-testid="fail-reason">{_reasons()}</select></label>\n'
        '  <div class="row">\n'
        '    <button type="submit" name="action" value="fail" class="btn ghost danger" '
        'data-testid="fail" formnovalidate>Fail</button>\n'
        '    <button type="submit" name="action" value="cancel" class="btn ghost" '
        'data-testid="cancel" formnovalidate>Cancel payment</button>\n'
        "  </div>\n"
        "</form>\n"
    )


def _closed(sb: Sandbox, order: Order) -> str:
    css, symbol, title = {
        "COMPLETED": ("ok", "✓", "Payment authorised"),
        "FAILED": ("fail", "✕", "Payment not completed"),
    }.get(order.state, ("wait", "…", order.state))
    back = (
        f'<a class="btn primary" data-testid="return" href="{html.escape(order.redirect_url)}">'
        "Return to merchant</a>"
        if order.redirect_url and order.redirect_url.startswith(("http://", "https://"))
        else ""
    )
    return (
        _summary(sb, order)
        + f'<section class="card result" data-testid="result" data-state="{css}">\n'
        f'  <div class="badge badge-{css}" aria-hidden="true">{symbol}</div>\n'
        f"  <h1>{title}</h1>\n  {back}\n</section>\n"
    )


async def show(request: Request) -> Response:
    order = _order(request)
    if order is None:
        return _not_found()
    sb = _sb(request)
    if order.state != "PENDING":
        return _render(order, "Done", _closed(sb, order))
    body = _summary(sb, order) + _form(sb, order, request.query_params.get("error", ""))
    return _render(order, "Authenticate payment", body)


async def submit(request: Request) -> Response:
    order = _order(request)
    if order is None:
        return _not_found()
    sb = _sb(request)
    raw = (await request.body()).decode("utf-8", "replace")
    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    action, here = form.get("action", ""), f"/bank/{quote(order.order_id)}"
    moid, mode = order.merchant_order_id, order.instrument or "CARD"
    try:
        if action == "pay":
            if form.get("otp", "").strip() != SANDBOX_OTP:
                error = "Incorrect OTP. Check the code and try again."
                return RedirectResponse(f"{here}?{urlencode({'error': error})}", status_code=303)
            order = sb.state.complete_order(moid, payment_mode=mode)
        elif action == "cancel":
            order = sb.state.decline_attempt(moid, failure=FAILURES["DECLINED"], payment_mode=mode)
        elif action == "fail":
            reason = form.get("reason", "")
            failure = FAILURES[reason if reason in _BANK_FAILURES else "BANK_TECHNICAL_ISSUE"]
            order = sb.state.fail_order(moid, failure=failure, payment_mode=mode)
        else:
            return RedirectResponse(here, status_code=303)
    except StateError:
        order = sb.state.get_order(moid) or order  # expired or already settled: say so
    target = order.redirect_url
    if target and target.startswith(("http://", "https://")) and order.state != "PENDING":
        return RedirectResponse(target, status_code=303)
    return RedirectResponse(here, status_code=303)


routes: list[BaseRoute] = [
    Route("/bank/{order_id}", show, methods=["GET"]),
    Route("/bank/{order_id}", submit, methods=["POST"]),
]
