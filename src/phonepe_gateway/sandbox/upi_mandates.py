"""The simulated UPI app's AutoPay side, and the control API for mandates.

Pages (what the customer's UPI app shows; no sign-in, like the checkout page):

* ``GET /upi-app/mandates?vpa=…`` — the customer's mandates: Approve / Decline a set-up
  request, Pause / Resume / Revoke an active one;
* ``GET /upi-app/mandate?link=upi://mandate?…`` — what the set-up intent link (or a
  scanned mandate QR) opens: the one request, to approve or decline;
* ``POST /upi-app/mandates/{merchantSubscriptionId}`` — the buttons (a form post, then
  a 303 back to the page).

Control API (JSON, behind :mod:`.guard` like the rest of ``/_sandbox``):
``GET /_sandbox/subscriptions``, ``GET``/``POST /_sandbox/subscriptions/{id}``
(``{"action": "APPROVE"|"DECLINE"|"PAUSE"|"RESUME"|"REVOKE"}``),
``POST /_sandbox/subscriptions/balance`` and ``POST /_sandbox/subscriptions/{id}/fail-next-debit``.
Every change goes through :mod:`.subscriptions`; nothing here moves state itself.
"""

from __future__ import annotations

import html
import json
import time
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .failures import FAILURES
from .guard import guarded
from .responses import control_error, json_response
from .runtime import Sandbox
from .state import StateError
from .subscription_rules import DEBIT_FAILURES, Mandate
from .subscriptions import Subscriptions

__all__ = ["control_routes", "page_routes"]

ACTIONS = ("APPROVE", "DECLINE", "PAUSE", "RESUME", "REVOKE")
_DONE = {
    "APPROVE": "AutoPay approved. The first debit is done.",
    "DECLINE": "AutoPay request declined.",
    "PAUSE": "AutoPay paused.",
    "RESUME": "AutoPay resumed.",
    "REVOKE": "AutoPay removed. No further debits.",
}
#: What the customer may do in each mandate state, as (action, label, button class).
_BUTTONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "PENDING": (("APPROVE", "Approve", "primary"), ("DECLINE", "Decline", "danger")),
    "ACTIVE": (("PAUSE", "Pause", ""), ("REVOKE", "Remove AutoPay", "danger")),
    "PAUSED": (("RESUME", "Resume", "primary"), ("REVOKE", "Remove AutoPay", "danger")),
}


#: What the customer may answer when declining (UPI's reasons, as the app words them).
_REASONS = {
    "DECLINED": "I don't want this AutoPay",
    "INVALID_MPIN": "Wrong UPI PIN",
    "INSUFFICIENT_BALANCE": "Not enough balance",
    "BANK_TECHNICAL_ISSUE": "My bank is down",
}


def _sb(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


@cache
def _template() -> Template:
    return Template(
        files(__package__).joinpath("templates", "upi_mandates.html").read_text("utf-8")
    )


def _rupees(paise: int) -> str:
    return f"₹{paise // 100:,}.{paise % 100:02d}"


def _date(seconds: float | None) -> str:
    return "—" if seconds is None else time.strftime("%d %b %Y", time.gmtime(seconds))


# -- pages ------------------------------------------------------------------------------


def _card(subs: Subscriptions, mandate: Mandate, merchant: str, back: str) -> str:
    e = html.escape
    setup = subs.state.orders[mandate.setup_order_id]
    msid = mandate.merchant_subscription_id
    if mandate.state == "PENDING":
        headline = (
            f"{_rupees(setup.amount)} <small>now, then up to {_rupees(mandate.max_amount)} "
            f"{e(mandate.frequency.lower().replace('_', ' '))}</small>"
        )
    else:
        headline = f"{_rupees(mandate.max_amount)} <small>max per debit</small>"
    facts = [
        ("Mandate", msid),
        ("Frequency", mandate.frequency.replace("_", " ").title()),
        ("Amount", "Fixed" if mandate.amount_type == "FIXED" else "Up to the max"),
        ("Valid until", _date(mandate.expire_at)),
        ("Paying from", mandate.payer_vpa),
    ]
    if mandate.state == "PAUSED":
        facts.append(("Paused until", _date(mandate.pause_end)))
    done = [setup, *(subs.state.orders[i] for i in mandate.redemption_ids)]
    paid = sum(o.amount for o in done if o.state == "COMPLETED")  # the set-up's first debit too
    facts.append(("Debited so far", _rupees(paid)))
    rows = "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in facts)
    buttons = []
    for action, label, css in _BUTTONS.get(mandate.state, ()):
        reason = ""
        if action == "APPROVE":  # a mandate is authorised with the UPI PIN, as a payment is
            reason = (
                '<input name="pin" type="password" inputmode="numeric" autocomplete="off" '
                'maxlength="6" placeholder="UPI PIN" aria-label="UPI PIN" data-testid="pin">'
            )
        if action == "DECLINE":
            options = "".join(
                f'<option value="{e(k)}">{e(label)}</option>' for k, label in _REASONS.items()
            )
            reason = f'<select name="reason" aria-label="Why decline">{options}</select>'
        buttons.append(
            f'<form method="post" action="/upi-app/mandates/{quote(msid)}"'
            f' class="{action.lower()}">'
            f'<input type="hidden" name="action" value="{action}">'
            f'<input type="hidden" name="back" value="{e(back)}">{reason}'
            f'<button type="submit" class="{css}" data-testid="{action.lower()}">{e(label)}</button>'
            f"</form>"
        )
    actions = f'<div class="actions">{"".join(buttons)}</div>' if buttons else ""
    return (
        f'<section class="card" data-testid="mandate" data-id="{e(msid)}">'
        f'<div class="row"><div class="avatar" aria-hidden="true">{e(merchant[:1].upper())}</div>'
        f'<div><div class="name">{e(merchant)}</div><div class="muted">UPI AutoPay</div></div>'
        f'<span class="badge {e(mandate.state)}" data-testid="state">{e(mandate.state)}</span></div>'
        f'<div class="amount">{headline}</div><dl>{rows}</dl>{actions}</section>'
    )


def _render(
    request: Request, title: str, subtitle: str, cards: str, status: int = 200
) -> HTMLResponse:
    flash = request.query_params.get("done", "")
    error = request.query_params.get("error", "")
    banner = ""
    if flash in _DONE:
        banner = f'<div class="flash" role="status">{html.escape(_DONE[flash])}</div>'
    elif error:
        banner = (
            f'<div class="flash error" role="alert" data-testid="form-error">'
            f"{html.escape(error[:300])}</div>"
        )
    page = _template().substitute(
        title=html.escape(title),
        subtitle=html.escape(subtitle),
        flash=banner,
        cards=cards,
        footnote=(
            "Debits need a notification 24 hours ahead; you can pause or remove AutoPay "
            "here at any time. Sandbox: nothing is charged."
        ),
    )
    return HTMLResponse(page, status_code=status)


async def mandates_page(request: Request) -> Response:
    sb = _sb(request)
    vpa = request.query_params.get("vpa") or None
    found = sb.subscriptions.by_vpa(vpa)
    back = "/upi-app/mandates" + (f"?vpa={quote(vpa)}" if vpa else "")
    # Set-up requests first, then the newest.
    found.sort(key=lambda m: (m.state != "PENDING", -m.created_at))
    cards = "".join(_card(sb.subscriptions, m, sb.config.merchant_name, back) for m in found)
    if not cards:
        cards = '<div class="card empty" data-testid="empty">No AutoPay mandates yet.</div>'
    return _render(request, "AutoPay", f"Mandates for {vpa}" if vpa else "All payers", cards)


def inbox_items(sb: Sandbox, who: str) -> list[str]:
    """The inbox's entries (``/upi-app``) for AutoPay set-ups awaiting this payer: a UPI
    collect mandate request shows up next to collect payment requests."""
    e = html.escape
    items = []
    for mandate in sb.subscriptions.by_vpa(who or None):
        if mandate.state != "PENDING" or mandate.instrument != "UPI_COLLECT":
            continue
        link = sb.subscriptions.mandate_link(mandate)
        href = "/upi-app/mandate?link=" + quote(link, safe="")
        items.append(
            f'<li><a class="request" href="{e(href)}" data-testid="mandate-request" '
            f'data-id="{e(mandate.merchant_subscription_id)}">'
            f"<span><b>{e(sb.config.merchant_name)}</b> requests AutoPay "
            f"<b>up to {_rupees(mandate.max_amount)}</b>"
            f"<small>{e(mandate.frequency.replace('_', ' ').lower())} · to "
            f"{e(mandate.payer_vpa)}</small></span>"
            '<span class="chev" aria-hidden="true">›</span></a></li>'
        )
    return items


def mandate_for_link(subs: Subscriptions, link: str) -> Mandate | None:
    """The mandate a ``upi://mandate?…`` link asks the customer to approve."""
    parts = urlsplit(link)
    if parts.scheme != "upi" or parts.netloc != "mandate":
        return None
    order_id = (parse_qs(parts.query).get("tr") or [""])[0]
    return subs.by_setup_order_id(order_id) if order_id else None


async def mandate_link_page(request: Request) -> Response:
    sb = _sb(request)
    link = request.query_params.get("link", "")
    mandate = mandate_for_link(sb.subscriptions, link)
    if mandate is None:
        card = '<div class="card empty" data-testid="empty">This AutoPay request is unknown.</div>'
        return _render(request, "AutoPay request", "Not found", card, 404)
    back = "/upi-app/mandate?link=" + quote(link, safe="")
    card = _card(sb.subscriptions, mandate, sb.config.merchant_name, back)
    return _render(request, "Set up AutoPay", f"Requested by {sb.config.merchant_name}", card)


def _safe_back(value: str | None) -> str:
    # Only back into the UPI app: never an open redirect.
    if value and value.startswith("/upi-app/") and not value.startswith("//"):
        return value
    return "/upi-app/mandates"


def _with(url: str, key: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{key}={quote(value)}"


async def mandate_action(request: Request) -> Response:
    sb = _sb(request)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    back = _safe_back(form.get("back"))
    action = form.get("action", "")
    pin = form.get("pin", "")
    if action == "APPROVE" and not (pin.isdigit() and len(pin) in (4, 6)):
        message = "Enter your 4- or 6-digit UPI PIN to approve AutoPay."
        return RedirectResponse(_with(back, "error", message), status_code=303)
    try:
        apply(sb.subscriptions, request.path_params["msid"], action, form)
    except (StateError, _BadInput) as exc:
        return RedirectResponse(_with(back, "error", str(exc)), status_code=303)
    return RedirectResponse(_with(back, "done", action), status_code=303)


class _BadInput(Exception):
    pass


def apply(subs: Subscriptions, msid: str, action: str, body: dict[str, Any]) -> Mandate:
    """One customer action on a mandate (shared by the page and the control API)."""
    if action == "APPROVE":
        return subs.approve(msid)
    if action == "DECLINE":
        reason = body.get("reason") or "DECLINED"
        if reason not in FAILURES:
            raise _BadInput(f"reason must be one of {', '.join(FAILURES)}")
        return subs.decline(msid, str(reason))
    if action == "PAUSE":
        until = body.get("until")
        if until is not None and (isinstance(until, bool) or not isinstance(until, int)):
            raise _BadInput("until must be an epoch time in milliseconds")
        return subs.pause(msid, None if until is None else until / 1000)
    if action == "RESUME":
        return subs.resume(msid)
    if action == "REVOKE":
        return subs.revoke(msid)
    raise _BadInput(f"action must be one of {', '.join(ACTIONS)}")


# -- control API ------------------------------------------------------------------------


def mandate_view(subs: Subscriptions, mandate: Mandate) -> dict[str, Any]:
    setup = subs.state.orders[mandate.setup_order_id]
    out = {
        "merchantId": mandate.merchant_id,
        **subs.subscription_json(mandate),
        "instrument": mandate.instrument,
        "payerVpa": mandate.payer_vpa,
        "balance": mandate.balance,
        "setupOrder": subs.order_status_json(setup),
        "redemptions": [
            subs.order_status_json(subs.state.orders[i]) for i in mandate.redemption_ids
        ],
        "history": [{"at": int(at * 1000), "from": a, "to": b} for at, a, b in mandate.history],
        "mandatesPath": "/upi-app/mandates?vpa=" + quote(mandate.payer_vpa),
    }
    if mandate.instrument == "UPI_INTENT":
        out["intentUrl"] = subs.mandate_link(mandate)
    return out


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise _BadInput("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _BadInput("body must be a JSON object")
    return data


async def list_subscriptions(request: Request) -> Response:
    subs = _sb(request).subscriptions
    return json_response({"subscriptions": [mandate_view(subs, m) for m in subs.all()]})


async def subscription(request: Request) -> Response:
    subs = _sb(request).subscriptions
    msid = request.path_params["msid"]
    try:
        if request.method == "POST":
            body = await _json(request)
            mandate = apply(subs, msid, str(body.get("action", "")).upper(), body)
        else:
            found = subs.get(msid)
            if found is None:
                raise StateError("SUBSCRIPTION_NOT_FOUND", "No such subscription.", 404)
            mandate = found
    except _BadInput as exc:
        return control_error(400, "BAD_REQUEST", str(exc))
    except StateError as exc:
        return control_error(exc.http_status, exc.code, exc.message)
    return json_response(mandate_view(subs, mandate))


async def balance(request: Request) -> Response:
    """``{"merchantSubscriptionId": …, "balance": paise | null}``: the payer's money for
    that mandate (without an id: for mandates set up from now on); null = unlimited."""
    subs = _sb(request).subscriptions
    try:
        body = await _json(request)
        amount = body.get("balance")
        if amount is not None and (
            isinstance(amount, bool) or not isinstance(amount, int) or amount < 0
        ):
            raise _BadInput("balance must be a non-negative integer number of paise, or null")
        msid = body.get("merchantSubscriptionId")
        if msid is not None and not isinstance(msid, str):
            raise _BadInput("merchantSubscriptionId must be a string")
        subs.set_balance(msid, amount)
    except _BadInput as exc:
        return control_error(400, "BAD_REQUEST", str(exc))
    except StateError as exc:
        return control_error(exc.http_status, exc.code, exc.message)
    return json_response({"merchantSubscriptionId": msid, "balance": amount})


async def fail_next_debit(request: Request) -> Response:
    subs = _sb(request).subscriptions
    msid = request.path_params["msid"]
    try:
        body = await _json(request)
        reason = str(body.get("reason") or "INSUFFICIENT_BALANCE")
        if reason not in DEBIT_FAILURES:
            raise _BadInput(f"reason must be one of {', '.join(DEBIT_FAILURES)}")
        subs.fail_next_debit(msid, reason)
        mandate = subs.get(msid)
        assert mandate is not None
    except _BadInput as exc:
        return control_error(400, "BAD_REQUEST", str(exc))
    except StateError as exc:
        return control_error(exc.http_status, exc.code, exc.message)
    return json_response(mandate_view(subs, mandate))


page_routes: list[BaseRoute] = [
    Route("/upi-app/mandates", mandates_page, methods=["GET"]),
    Route("/upi-app/mandate", mandate_link_page, methods=["GET"]),
    Route("/upi-app/mandates/{msid}", mandate_action, methods=["POST"]),
]
control_routes: list[BaseRoute] = [
    Route(path, guarded(endpoint), methods=methods)
    for path, endpoint, methods in (
        ("/_sandbox/subscriptions", list_subscriptions, ["GET"]),
        ("/_sandbox/subscriptions/balance", balance, ["POST"]),
        ("/_sandbox/subscriptions/{msid}", subscription, ["GET", "POST"]),
        ("/_sandbox/subscriptions/{msid}/fail-next-debit", fail_next_debit, ["POST"]),
    )
]
