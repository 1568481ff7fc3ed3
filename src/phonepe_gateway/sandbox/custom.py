"""Custom checkout (``/payments/v2/*``): the merchant picks the instrument, no hosted page.

``POST /payments/v2/pay`` takes ``paymentFlow: {"type": "PG", "paymentMode": {...},
"merchantUrls": {"redirectUrl"}}`` and answers what the merchant needs to act:

* ``UPI_INTENT`` - ``intentUrl``, a ``upi://pay?pa=…&pn=…&tr=…&am=…&cu=INR…`` link that
  opens the customer's UPI app (here: the simulated one, ``/upi-app/pay?link=…``);
* ``UPI_QR`` - ``qrData`` (the same kind of link, to draw as a QR) and ``intentUrl``;
* ``UPI_COLLECT`` - nothing extra: the request lands in the UPI app's inbox for that VPA
  or phone number (``/upi-app``), as a PENDING attempt;
* ``NET_BANKING`` / ``CARD`` / ``TOKEN`` - ``redirectUrl``: the sandbox bank's page with
  an OTP step (``/bank/{orderId}``), which returns the customer to ``merchantUrls``.

The order is the same record the hosted page uses (one state machine, webhooks, faults
and the clock apply unchanged), with ``Order.instrument`` set. A failed attempt ends a
custom-checkout order (there is no PhonePe page to retry on). Expiry follows PhonePe's
published defaults per instrument and its 300 s … 60 days range. Encrypted card and
token values are checked for presence and never stored or echoed.

SDK orders (``/payments/v2/sdk/order``) and the status calls share the standard
checkout's handlers in ``gen2``: the wire shapes are the same on both path families.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import gen2
from . import validation as check
from .models import Order
from .responses import api_error, json_response
from .runtime import Sandbox
from .state import StateError
from .upi_app import upi_link

__all__ = ["DEFAULT_EXPIRY", "INSTRUMENTS", "public_base", "routes"]

#: PhonePe's published default ``expireAfter`` per instrument (seconds; custom-checkout
#: "Initiate payment" pages). TOKEN is not listed there; it is a card.
DEFAULT_EXPIRY = {
    "UPI_QR": 480,
    "UPI_INTENT": 600,
    "UPI_COLLECT": 480,
    "CARD": 720,
    "TOKEN": 720,
    "NET_BANKING": 480,
}
INSTRUMENTS = frozenset(DEFAULT_EXPIRY)
#: The published range of a custom-checkout ``expireAfter`` (300 s … 60 days).
EXPIRY_RANGE = (300, 5_184_000)
#: Instruments that answer a ``redirectUrl`` (to the bank) and so need ``merchantUrls``.
REDIRECTED = frozenset({"NET_BANKING", "CARD", "TOKEN"})

_VPA = re.compile(r"^[A-Za-z0-9._-]{2,256}@[A-Za-z0-9.-]{2,64}$")
_PHONE = re.compile(r"^(\+91|91)?[6-9][0-9]{9}$")
_CARD_FIELDS = ("encryptedCardNumber", "encryptedCvv")
_TOKEN_FIELDS = ("encryptedToken", "encryptedCvv", "cryptogram", "panSuffix")


def _bad(message: str) -> StateError:
    return StateError("BAD_REQUEST", message)


def public_base(sb: Sandbox, request: Request) -> str:
    """The sandbox's own base URL as the customer's browser reaches it."""
    return (sb.config.public_url or str(request.base_url)).rstrip("/")


def _expire_after(value: Any, instrument: str) -> int:
    if value is None:
        return DEFAULT_EXPIRY[instrument]
    low, high = EXPIRY_RANGE
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad("expireAfter must be an integer number of seconds.")
    if not low <= value <= high:
        raise _bad(f"expireAfter must be between {low} and {high} seconds, got {value}.")
    return value


def _obj(value: Any, field: str, *, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"{field} is required and must be an object.")
    return value


def _required_text(mode: dict[str, Any], field: str, prefix: str) -> str:
    value = check.text(mode.get(field), f"{prefix}.{field}", required=True, max_len=4096)
    assert value is not None
    return value


def _expiry(details: dict[str, Any], prefix: str) -> None:
    expiry = _obj(details.get("expiry"), f"{prefix}.expiry")
    month, year = expiry.get("month"), expiry.get("year")
    if not (isinstance(month, str) and month.isdigit() and 1 <= int(month) <= 12):
        raise _bad(f"{prefix}.expiry.month must be a month number 01-12.")
    if not (isinstance(year, str) and year.isdigit() and len(year) in (2, 4)):
        raise _bad(f"{prefix}.expiry.year must be a 2- or 4-digit year.")


def _key_id(details: dict[str, Any], prefix: str) -> None:
    key = details.get("encryptionKeyId")
    if isinstance(key, bool) or not isinstance(key, int):
        raise _bad(f"{prefix}.encryptionKeyId must be an integer (the key PhonePe issued).")


def instrument_details(mode: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Check ``paymentFlow.paymentMode``; its type and what is safe to keep of it."""
    kind = mode.get("type")
    if kind not in INSTRUMENTS:
        raise _bad(
            f"paymentFlow.paymentMode.type must be one of {', '.join(sorted(INSTRUMENTS))}, "
            f"got {kind!r}."
        )
    prefix = "paymentFlow.paymentMode"
    kept: dict[str, str] = {}
    if kind == "UPI_INTENT":
        target = check.text(mode.get("targetApp"), f"{prefix}.targetApp", max_len=128)
        if target:
            kept["targetApp"] = target
    elif kind == "UPI_COLLECT":
        details = _obj(mode.get("details"), f"{prefix}.details")
        dtype = details.get("type")
        if dtype == "VPA":
            vpa = details.get("vpa")
            if not isinstance(vpa, str) or not _VPA.match(vpa):
                raise _bad(f"{prefix}.details.vpa must be a UPI id like name@bank.")
            kept["vpa"] = vpa.lower()
        elif dtype in ("PHONE_NUMBER", "UPI_NUMBER"):
            field = "phoneNumber" if dtype == "PHONE_NUMBER" else "upiNumber"
            phone = details.get(field)
            if not isinstance(phone, str) or not _PHONE.match(phone):
                raise _bad(f"{prefix}.details.{field} must be a 10-digit Indian mobile number.")
            kept["phone"] = phone[-10:]
        else:
            raise _bad(f"{prefix}.details.type must be VPA, PHONE_NUMBER or UPI_NUMBER.")
        message = check.text(mode.get("message"), f"{prefix}.message", max_len=256)
        if message:
            kept["message"] = message
    elif kind == "NET_BANKING":
        bank = _required_text(mode, "bankId", prefix)
        if len(bank) > 32:
            raise _bad(f"{prefix}.bankId must be at most 32 characters.")
        kept["bankId"] = bank
    elif kind == "CARD":
        _required_text(mode, "authMode", prefix)
        details = _obj(mode.get("cardDetails"), f"{prefix}.cardDetails")
        for name in _CARD_FIELDS:
            _required_text(details, name, f"{prefix}.cardDetails")
        _key_id(details, f"{prefix}.cardDetails")
        _expiry(details, f"{prefix}.cardDetails")
    elif kind == "TOKEN":
        _required_text(mode, "authMode", prefix)
        details = _obj(mode.get("tokenDetails"), f"{prefix}.tokenDetails")
        for name in _TOKEN_FIELDS:
            _required_text(details, name, f"{prefix}.tokenDetails")
        _key_id(details, f"{prefix}.tokenDetails")
        _expiry(details, f"{prefix}.tokenDetails")
        suffix = str(details["panSuffix"])
        if not (suffix.isdigit() and len(suffix) == 4):
            raise _bad(f"{prefix}.tokenDetails.panSuffix must be the card's last 4 digits.")
        kept["panSuffix"] = suffix
    if kind in ("CARD", "TOKEN", "NET_BANKING"):
        user = check.text(mode.get("merchantUserId"), f"{prefix}.merchantUserId", max_len=64)
        if user:
            kept["merchantUserId"] = user
    return str(kind), kept


def _pay_flow(body: dict[str, Any]) -> tuple[str, dict[str, str], str | None]:
    flow = body.get("paymentFlow")
    if not isinstance(flow, dict) or flow.get("type") != "PG":
        raise _bad("paymentFlow.type must be PG for /payments/v2/pay.")
    kind, kept = instrument_details(_obj(flow.get("paymentMode"), "paymentFlow.paymentMode"))
    urls = flow.get("merchantUrls") or {}
    redirect = check.text(
        urls.get("redirectUrl") if isinstance(urls, dict) else None,
        "paymentFlow.merchantUrls.redirectUrl",
    )
    if kind in REDIRECTED and not redirect:
        raise _bad(f"paymentFlow.merchantUrls.redirectUrl is mandatory for {kind}.")
    return kind, kept, redirect


def pay_answer(sb: Sandbox, request: Request, order: Order) -> dict[str, Any]:
    """The pay call's answer for this order's instrument (PhonePe's field names)."""
    out: dict[str, Any] = {
        "orderId": order.order_id,
        "state": order.state,
        "expireAt": int(order.expire_at * 1000),
    }
    if order.instrument == "UPI_INTENT":
        out["intentUrl"] = order.intent_url
    elif order.instrument == "UPI_QR":
        out["intentUrl"] = order.intent_url
        out["qrData"] = order.intent_url
    elif order.instrument in REDIRECTED:
        out["redirectUrl"] = f"{public_base(sb, request)}/bank/{order.order_id}"
    return out


async def pay(request: Request) -> Response:
    denied = gen2.unauthorized(request)
    if denied:
        return denied
    sb: Sandbox = request.app.state.sandbox
    try:
        body = await gen2.json_body(request)
        kind, kept, redirect = _pay_flow(body)
        order = sb.state.create_order(
            merchant_order_id=check.order_id(body.get("merchantOrderId"), "merchantOrderId", 63),
            generation=2,
            merchant_id=sb.config.merchant_id,
            amount=check.amount(body.get("amount")),
            expire_after=_expire_after(body.get("expireAfter"), kind),
            meta_info=check.meta_info(body.get("metaInfo")),
            redirect_url=redirect,
            payment_flow="PG",
            message=kept.get("message"),
            instrument=kind,
            instrument_details=kept,
        )
        if kind in ("UPI_INTENT", "UPI_QR"):
            with sb.state.lock:
                order.intent_url = upi_link(order, sb.config, qr=kind == "UPI_QR")
        elif kind == "UPI_COLLECT":  # the request is raised now: it awaits the customer's PIN
            order = sb.state.start_attempt(order.merchant_order_id, payment_mode=kind)
    except StateError as exc:
        return api_error(exc.http_status, exc.code, exc.message)
    return json_response(pay_answer(sb, request, order))


routes = [
    Route("/payments/v2/pay", pay, methods=["POST"]),
    Route("/payments/v2/sdk/order", gen2.sdk_order, methods=["POST"]),
    Route("/payments/v2/order/{merchant_order_id}/status", gen2.order_status, methods=["GET"]),
    Route(
        "/payments/v2/transaction/{transaction_id}/status",
        gen2.transaction_status,
        methods=["GET"],
    ),
]
