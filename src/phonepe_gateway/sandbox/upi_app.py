"""The simulated UPI app: what a customer's phone shows when a UPI link opens it.

* ``GET /upi-app/pay?link=<urlencoded upi://…>`` - the screen a UPI app shows for an
  intent link or a scanned QR: payee, amount, note, and Pay (with a UPI PIN) / Decline
  (for a real UPI reason: NPCI's ``ZA`` declined, ``ZM`` wrong PIN, ``Z9`` insufficient
  balance, ``UT`` bank down) / Leave pending. ``POST`` the same path submits the choice
  and redirects back to the link's page (which then shows the result).
* ``GET /upi-app`` - the inbox: pending collect requests, optionally for one VPA or
  phone number (``?vpa=`` / ``?phone=``), each opening the same pay screen.
* Control API (loopback, JSON): ``POST /_sandbox/upi/pay`` ``{"link", "outcome":
  "PAY"|"DECLINE"|"PENDING", "reason"}`` does what the screen does;
  ``POST /_sandbox/upi/collect/{merchantOrderId}`` ``{"outcome", "reason"}`` answers a
  collect request.

Links are dispatched on their kind (``upi://pay`` -> ``"pay"``; the authority of the URI):
:data:`LINK_KINDS` maps a kind to how its screen looks and what an outcome does, so
another kind (an AutoPay ``upi://mandate`` link) is one :func:`register_link_kind` call
away and every route above serves it; or :func:`register_link_page` sends that kind to
its own page of the app. Every change goes through the state (never the
record directly); the order is found by the link's ``tr`` (PhonePe's order id) and the
link must match it (payee and amount), as a PSP refuses a tampered request.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from string import Template
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .failures import FAILURES
from .guard import guarded
from .models import Order
from .responses import control_error, json_response
from .state import StateError
from .views import order_json

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .runtime import Sandbox

__all__ = [
    "LINK_KINDS",
    "LINK_PAGES",
    "OUTCOMES",
    "LinkKind",
    "order_answer",
    "parse_link",
    "register_link_kind",
    "register_link_page",
    "render_screen",
    "routes",
    "upi_link",
]

#: What a tester can make the customer do with a payment request.
OUTCOMES = ("PAY", "DECLINE", "PENDING")
_UPI_MODES = {"UPI_INTENT", "UPI_QR", "UPI_COLLECT"}
_PINS = {4, 6}


# -- the link format -----------------------------------------------------------------------


def _rupees(paise: int) -> str:
    rupees, minor = divmod(paise, 100)
    return f"{rupees}.{minor:02d}"


def upi_link(order: Order, config: SandboxConfig, *, qr: bool = False) -> str:
    """NPCI's ``upi://pay`` deep link for an order: payee address and name, PhonePe's
    order id as the transaction reference, the fixed amount (``am`` = ``mam``), INR, a
    note, and the initiation mode (``04`` intent, ``01`` QR)."""
    params = {
        "pa": config.payee_vpa,
        "pn": config.merchant_name,
        "tr": order.order_id,
        "am": _rupees(order.amount),
        "cu": "INR",
        "mam": _rupees(order.amount),
        "tn": order.message or f"Payment for {order.merchant_order_id}",
        "mode": "01" if qr else "04",
    }
    return "upi://pay?" + urlencode(params, quote_via=quote, safe="@.")


def parse_link(link: str) -> tuple[str, dict[str, str]]:
    """``upi://<kind>?<params>`` -> (kind, params); StateError for anything else."""
    if not isinstance(link, str) or len(link) > 4096:
        raise StateError("BAD_LINK", "link must be a upi:// URI of at most 4096 characters.")
    parts = urlsplit(link.strip())
    if parts.scheme.lower() != "upi" or not parts.netloc:
        raise StateError("BAD_LINK", "That is not a UPI link (it must start with upi://).")
    return parts.netloc.lower(), dict(parse_qsl(parts.query, keep_blank_values=True))


# -- link kinds --------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkKind:
    """How the UPI app handles one kind of link.

    ``screen(sb, link, params)`` returns the screen's HTML body (see
    :func:`render_screen`); ``act(sb, params, outcome, reason)`` applies an outcome (an
    upper-case word such as ``PAY``; the kind decides which it accepts) through the state
    and returns the JSON the control API answers; both raise :class:`StateError` to
    refuse (the app shows it, the control API answers it as ``{"error": …}``).
    """

    screen: Callable[[Sandbox, str, dict[str, str]], str]
    act: Callable[[Sandbox, dict[str, str], str, str | None], dict[str, Any]]
    #: Outcomes the app's form accepts only with a 4- or 6-digit UPI PIN (``pin`` field).
    pin_outcomes: frozenset[str] = frozenset({"PAY"})


LINK_KINDS: dict[str, LinkKind] = {}


def register_link_kind(kind: str, handler: LinkKind) -> None:
    """Teach the UPI app another kind of link (``upi://<kind>?…``)."""
    LINK_KINDS[kind.lower()] = handler


#: Kinds whose screen is another page of the app: ``/upi-app/pay?link=upi://<kind>…``
#: redirects (303) there with the same ``link`` query.
LINK_PAGES: dict[str, str] = {}


def register_link_page(kind: str, path: str) -> None:
    """Send ``upi://<kind>`` links opened at ``/upi-app/pay`` to ``path?link=…`` (a page of
    the UPI app, e.g. AutoPay's mandate screen)."""
    if not path.startswith("/upi-app/"):
        raise ValueError("a link page is a page of the UPI app (/upi-app/…)")
    LINK_PAGES[kind.lower()] = path


# -- the "pay" kind: a payment request for one order --------------------------------------


def _order_for(sb: Sandbox, params: dict[str, str]) -> Order:
    ref = params.get("tr", "")
    order = sb.state.order_by_order_id(ref) if ref else None
    if order is None:
        raise StateError("ORDER_NOT_FOUND", "No payment request matches this link (tr).", 404)
    if params.get("pa", "").lower() != sb.config.payee_vpa.lower():
        raise StateError("BAD_LINK", "The link's payee (pa) is not this merchant's UPI id.")
    if params.get("am") not in (None, _rupees(order.amount)):
        raise StateError(
            "BAD_LINK",
            f"The link's amount (am={params.get('am')}) does not match the request "
            f"(₹{_rupees(order.amount)}): the bank refuses a changed amount.",
        )
    return order


def pay_outcome(sb: Sandbox, order: Order, outcome: str, reason: str | None) -> Order:
    """What the customer did in their UPI app, applied through the state."""
    mode = order.instrument if order.instrument in _UPI_MODES else "UPI_QR"
    moid = order.merchant_order_id
    if outcome == "PAY":
        return sb.state.complete_order(moid, payment_mode=mode)
    if outcome == "DECLINE":
        failure = FAILURES.get(reason or "DECLINED")
        if failure is None:
            raise StateError(
                "BAD_REQUEST", f"Unknown reason {reason!r}; use one of {', '.join(FAILURES)}."
            )
        return sb.state.decline_attempt(moid, failure=failure, payment_mode=mode)
    if outcome == "PENDING":
        last = order.last_attempt
        if last is not None and last.state == "PENDING" and order.state == "PENDING":
            return order  # already waiting on the bank: leaving it pending changes nothing
        return sb.state.start_attempt(moid, payment_mode=mode)
    raise StateError("BAD_REQUEST", f"outcome must be one of {', '.join(OUTCOMES)}.")


def order_answer(order: Order) -> dict[str, Any]:
    """What the control calls answer: the order's status (PhonePe's JSON, every attempt)
    with whose order it is and what pays it."""
    return {
        "merchantOrderId": order.merchant_order_id,
        "instrument": order.instrument,
        **order_json(order, details=True),
    }


def _pay_act(
    sb: Sandbox, params: dict[str, str], outcome: str, reason: str | None
) -> dict[str, Any]:
    return order_answer(pay_outcome(sb, _order_for(sb, params), outcome, reason))


def _reason_options() -> str:
    return "".join(
        f'<option value="{name}">{html.escape(f.description)} '
        f"({html.escape(f.detailed_error_code)})</option>"
        for name, f in FAILURES.items()
    )


def _pay_screen(sb: Sandbox, link: str, params: dict[str, str]) -> str:
    order = _order_for(sb, params)
    esc = html.escape
    amount = _rupees(order.amount)
    major, minor = amount.split(".")
    head = (
        '<section class="card payee">\n'
        f'  <div class="avatar" aria-hidden="true">{esc(params.get("pn", "?")[:1].upper())}</div>\n'
        f'  <div><div class="payee-name" data-testid="payee">{esc(params.get("pn", ""))}</div>\n'
        f'  <div class="muted" data-testid="payee-vpa">{esc(params.get("pa", ""))}</div></div>\n'
        f'  <div class="amount" data-testid="amount"><span class="rupee">₹</span>{major}'
        f'<span class="paise">.{minor}</span></div>\n'
        f'  <div class="muted note" data-testid="note">{esc(params.get("tn", ""))}</div>\n'
        f'  <div class="muted ref">Ref {esc(order.order_id)}</div>\n'
        "</section>\n"
    )
    last = order.last_attempt
    if order.state == "COMPLETED":
        return head + _result(
            "ok", "✓", "Payment successful", f"₹{amount} paid to {params.get('pn', '')}."
        )
    if order.state == "FAILED":
        code = f"{order.error_code or ''} / {order.detailed_error_code or ''}"
        return head + _result("fail", "✕", "Payment failed", f"Nothing was debited ({code}).")
    waiting = ""
    if last is not None and last.state == "PENDING":
        waiting = (
            '<p class="banner wait" data-testid="waiting">Waiting for your bank to confirm. '
            "You can still complete or decline it below.</p>\n"
        )
    remaining = max(0, int(order.expire_at - sb.clock.now()))
    return (
        head
        + waiting
        + '<form method="post" action="/upi-app/pay" class="card actions" id="upi-form">\n'
        f'  <input type="hidden" name="link" value="{esc(link)}">\n'
        f'  <p class="muted">Request expires in <b data-testid="expires-in">'
        f"{remaining // 60:02d}:{remaining % 60:02d}</b></p>\n"
        '  <label class="field">Enter UPI PIN<input name="pin" type="password" '
        'inputmode="numeric" autocomplete="off" pattern="[0-9]{4}|[0-9]{6}" maxlength="6" '
        'placeholder="4 or 6 digits" data-testid="pin"></label>\n'
        '  <button type="submit" name="outcome" value="PAY" class="btn primary" '
        f'data-testid="pay">Pay ₹{amount}</button>\n'
        '  <label class="field">If declined, because<select name="reason" '
        f'data-testid="decline-reason">{_reason_options()}</select></label>\n'
        '  <div class="row">\n'
        '    <button type="submit" name="outcome" value="DECLINE" class="btn ghost danger" '
        'data-testid="decline" formnovalidate>Decline</button>\n'
        '    <button type="submit" name="outcome" value="PENDING" class="btn ghost" '
        'data-testid="leave-pending" formnovalidate>Leave pending</button>\n'
        "  </div>\n"
        "</form>\n"
    )


def _result(css: str, symbol: str, title: str, text: str) -> str:
    return (
        f'<section class="card result" data-testid="result" data-state="{css}">\n'
        f'  <div class="badge badge-{css}" aria-hidden="true">{symbol}</div>\n'
        f"  <h1>{html.escape(title)}</h1>\n"
        f'  <p class="muted">{html.escape(text)}</p>\n'
        '  <a class="btn ghost" href="/upi-app" data-testid="home">Back to inbox</a>\n'
        "</section>\n"
    )


register_link_kind("pay", LinkKind(screen=_pay_screen, act=_pay_act))
# AutoPay's set-up intents (upi://mandate?…) open the mandate screen (``upi_mandates``).
register_link_page("mandate", "/upi-app/mandate")


# -- pages -------------------------------------------------------------------------------


@cache
def _template() -> Template:
    return Template(files(__package__).joinpath("templates", "upi_app.html").read_text("utf-8"))


def render_screen(title: str, body: str, status: int = 200) -> HTMLResponse:
    """One UPI-app screen (the app's frame around ``body``, which must be escaped HTML)."""
    return HTMLResponse(
        _template().substitute(title=html.escape(title), body=body), status_code=status
    )


def _error_screen(exc: StateError, link: str = "") -> HTMLResponse:
    shown = html.escape(link[:160] + ("…" if len(link) > 160 else ""))
    return render_screen(
        "Cannot pay",
        '<section class="card result" data-testid="link-error">\n'
        '  <div class="badge badge-fail" aria-hidden="true">!</div>\n'
        "  <h1>This request cannot be paid</h1>\n"
        f'  <p data-testid="error-message">{html.escape(exc.message)}</p>\n'
        + (f'  <p class="muted mono">{shown}</p>\n' if shown else "")
        + '  <a class="btn ghost" href="/upi-app">Back to inbox</a>\n'
        "</section>\n",
        exc.http_status if exc.http_status >= 400 else 400,
    )


def _sb(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _handler(link: str) -> tuple[LinkKind, dict[str, str]]:
    kind, params = parse_link(link)
    handler = LINK_KINDS.get(kind)
    if handler is None:
        raise StateError("BAD_LINK", f"This UPI app cannot open upi://{kind} links.")
    return handler, params


async def pay_page(request: Request) -> Response:
    link = request.query_params.get("link", "")
    error = request.query_params.get("error", "")
    try:
        page = LINK_PAGES.get(parse_link(link)[0])
        if page is not None:
            return RedirectResponse(page + "?" + urlencode({"link": link}), status_code=303)
        handler, params = _handler(link)
        body = handler.screen(_sb(request), link, params)
    except StateError as exc:
        return _error_screen(exc, link)
    if error:
        body = (
            f'<p class="banner fail" role="alert" data-testid="form-error">{html.escape(error)}</p>\n'
            + body
        )
    return render_screen("Pay", body)


async def pay_submit(request: Request) -> Response:
    raw = (await request.body()).decode("utf-8", "replace")
    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    link = form.get("link", "")
    outcome = form.get("outcome", "").upper()
    reason = form.get("reason") or None
    back = "/upi-app/pay?" + urlencode({"link": link}, quote_via=quote)
    pin = form.get("pin", "")
    try:
        handler, params = _handler(link)
        if outcome in handler.pin_outcomes and not (pin.isdigit() and len(pin) in _PINS):
            message = "Enter your 4- or 6-digit UPI PIN to continue."
            return RedirectResponse(back + "&" + urlencode({"error": message}), status_code=303)
        handler.act(_sb(request), params, outcome, reason)
    except StateError as exc:
        if exc.code in ("INVALID_ORDER_STATE", "ATTEMPT_IN_PROGRESS"):
            return RedirectResponse(back, status_code=303)  # already settled: show it
        return _error_screen(exc, link)
    return RedirectResponse(back, status_code=303)


def _collect_requests(sb: Sandbox, vpa: str, phone: str) -> list[Order]:
    with sb.state.lock:
        ids = [m for m, o in sb.state.orders.items() if o.instrument == "UPI_COLLECT"]
    found: list[Order] = []
    for moid in ids:
        order = sb.state.get_order(moid)  # applies a due expiry
        if order is None or order.state != "PENDING":
            continue
        details = order.instrument_details
        if vpa and details.get("vpa") != vpa.lower():
            continue
        if phone and details.get("phone") != phone[-10:]:
            continue
        found.append(order)
    return sorted(found, key=lambda o: o.created_at, reverse=True)


def collect_link(sb: Sandbox, order: Order) -> str:
    """The pay screen's link for a collect request (the app shows it like any request)."""
    return upi_link(order, sb.config)


async def inbox(request: Request) -> Response:
    sb = _sb(request)
    vpa = request.query_params.get("vpa", "").strip()
    phone = request.query_params.get("phone", "").strip()
    esc = html.escape
    items = []
    for order in _collect_requests(sb, vpa, phone):
        target = order.instrument_details.get("vpa") or order.instrument_details.get("phone", "")
        href = "/upi-app/pay?" + urlencode({"link": collect_link(sb, order)}, quote_via=quote)
        items.append(
            f'<li><a class="request" href="{esc(href)}" data-testid="collect-request" '
            f'data-order="{esc(order.merchant_order_id)}">'
            f"<span><b>{esc(sb.config.merchant_name)}</b> requests "
            f"<b>₹{_rupees(order.amount)}</b>"
            f"<small>{esc(order.message or 'Payment request')} · to {esc(target)}</small></span>"
            '<span class="chev" aria-hidden="true">›</span></a></li>'
        )
    who = vpa or phone
    # AutoPay set-ups by UPI collect wait here too (upi_mandates.py).
    from .upi_mandates import inbox_items

    items += inbox_items(sb, who)
    listing = (
        f'<ul class="requests">{"".join(items)}</ul>'
        if items
        else '<p class="muted empty" data-testid="inbox-empty">No pending requests.</p>'
    )
    body = (
        '<section class="card">\n'
        '  <form method="get" action="/upi-app" class="who">\n'
        '    <label class="field">Your UPI id<input name="vpa" placeholder="name@bank" '
        f'value="{esc(vpa)}" data-testid="inbox-vpa"></label>\n'
        '    <label class="field">or UPI number<input name="phone" inputmode="numeric" '
        f'placeholder="10-digit mobile" value="{esc(phone)}"></label>\n'
        '    <button class="btn ghost" type="submit">Show requests</button>\n'
        "  </form>\n"
        "</section>\n"
        f'<section class="card"><h2>Requests{" for " + esc(who) if who else " (everyone)"}</h2>\n'
        f"{listing}\n</section>\n"
        '<section class="card"><h2>Scan or open a link</h2>\n'
        '  <form method="get" action="/upi-app/pay">\n'
        '    <label class="field">UPI link (what a QR holds)<input name="link" '
        'placeholder="upi://pay?pa=…" data-testid="link-input"></label>\n'
        '    <button class="btn ghost" type="submit">Open</button>\n'
        "  </form>\n</section>\n"
    )
    return render_screen("Inbox", body)


# -- control API -------------------------------------------------------------------------


async def _control_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise StateError("BAD_REQUEST", "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise StateError("BAD_REQUEST", "body must be a JSON object")
    return data


def _outcome(body: dict[str, Any]) -> tuple[str, str | None]:
    outcome, reason = body.get("outcome"), body.get("reason")
    if not isinstance(outcome, str) or not outcome:
        raise StateError("BAD_REQUEST", "outcome is required (e.g. PAY, DECLINE or PENDING).")
    if reason is not None and not isinstance(reason, str):
        raise StateError("BAD_REQUEST", "reason must be a string.")
    return outcome.upper(), reason


async def control_pay(request: Request) -> Response:
    """``{"link": "upi://…", "outcome": …, "reason": …}``: the customer's choice."""
    try:
        body = await _control_body(request)
        outcome, reason = _outcome(body)
        handler, params = _handler(body.get("link"))  # type: ignore[arg-type]
        return json_response(handler.act(_sb(request), params, outcome, reason))
    except StateError as exc:
        return control_error(exc.http_status, exc.code, exc.message)


async def control_collect(request: Request) -> Response:
    """Answer the collect request of one order: ``{"outcome": …, "reason": …}``."""
    sb = _sb(request)
    moid = request.path_params["moid"]
    try:
        body = await _control_body(request)
        outcome, reason = _outcome(body)
        order = sb.state.get_order(moid)
        if order is None or order.instrument != "UPI_COLLECT":
            raise StateError("ORDER_NOT_FOUND", f"No collect request for order {moid}.", 404)
        return json_response(order_answer(pay_outcome(sb, order, outcome, reason)))
    except StateError as exc:
        return control_error(exc.http_status, exc.code, exc.message)


routes: list[BaseRoute] = [
    Route("/upi-app", inbox, methods=["GET"]),
    Route("/upi-app/pay", pay_page, methods=["GET"]),
    Route("/upi-app/pay", pay_submit, methods=["POST"]),
    Route("/_sandbox/upi/pay", guarded(control_pay), methods=["POST"]),
    Route("/_sandbox/upi/collect/{moid}", guarded(control_collect), methods=["POST"]),
]
