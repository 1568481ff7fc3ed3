"""Paying by UPI without PhonePe's page: the intent link and the UPI QR, for tickets and bookings.

PhonePe's custom checkout gives an order either a ``upi://pay?...`` intent link (the phone
opens the driver's UPI app with it) or the data of a UPI QR (any UPI app scans it, so a
second phone, or a phone in front of the exit terminal or a desktop, can pay). This module
turns an open order of either kind into what a page shows: the link, the QR drawn from the
QR data (never a QR of a web page) and the seconds left before the order expires.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from phonepe_gateway import UpiCollect, UpiIntent, UpiQr, ValidationError
from phonepe_gateway.django.conf import get_settings
from phonepe_gateway.django.models import Payment

from .qr import qr_svg

#: The instrument names the payments app records (PhonePe's paymentMode types).
INTENT = "UPI_INTENT"
QR = "UPI_QR"
COLLECT = "UPI_COLLECT"
#: The pay buttons' ``method`` values that pay by an instrument (the rest: PhonePe's page).
METHODS = ("intent", "qr", "collect")


class BadVpa(ValueError):
    """The UPI ID typed for a collect request is not one; the message says what is expected."""


def instrument_for(method: str, vpa: str = "") -> UpiIntent | UpiQr | UpiCollect | None:
    """The instrument a pay button asks for; None for PhonePe's hosted page."""
    if method == "intent":
        return UpiIntent()
    if method == "qr":
        return UpiQr()
    if method == "collect":
        try:
            return UpiCollect(vpa=vpa.strip().lower(), message="Smart Parking")
        except ValidationError as exc:
            raise BadVpa("Enter your UPI ID, e.g. name@okaxis.") from exc
    return None


def has_pay_link(payment: Payment) -> bool:
    """Whether the driver was given something to pay this order with (page, link, QR, request)."""
    if payment.checkout_url:
        return True
    # A UPI order PhonePe accepted came with its link, QR or request (the ledger drops
    # the link and the QR once the order closes; the order id stays).
    return bool(instrument_of(payment) and payment.gateway_order_id)


def instrument_of(payment: Payment) -> str:
    return str(getattr(payment, "instrument", "") or "")


def seconds_left(payment: Payment) -> int | None:
    if payment.expires_at is None:
        return None
    return max(0, int((payment.expires_at - timezone.now()).total_seconds()))


def upi_view_state(payment: Payment) -> str:
    """PENDING (can still be paid), EXPIRED (its time ran out unpaid), FAILED or COMPLETED."""
    if payment.state in ("COMPLETED", "FAILED"):
        return str(payment.state)
    left = seconds_left(payment)
    if left is not None and left <= 0:
        return "EXPIRED"
    return "PENDING"


def sandbox_app_url(link: str) -> str:
    """The local sandbox's simulated UPI app for a ``upi://`` link (demo and tests only).

    On a phone the link itself opens the driver's UPI app; a desktop browser or a test has
    none, so with ``PHONEPE_ENV=local`` the page also links the sandbox's stand-in (which
    opens a payment, or AutoPay's mandate screen for a ``upi://mandate`` set-up). Empty
    for any other environment.
    """
    gateway = get_settings()
    if gateway.env != "local" or not link:
        return ""
    return f"{gateway.local_url.rstrip('/')}/upi-app/pay?link={quote(link, safe='')}"


def payment_panel(
    request: HttpRequest, payment: Payment, *, launch: bool = False
) -> dict[str, Any]:
    """What the page shows for an open order: ``kind`` is intent, qr or hosted."""
    kind = {INTENT: "intent", QR: "qr", COLLECT: "collect"}.get(instrument_of(payment), "hosted")
    panel: dict[str, Any] = {
        "kind": kind,
        "payment": payment,
        "expires_at": payment.expires_at,
        "seconds_left": seconds_left(payment),
        "launch": launch,
    }
    if kind == "intent":
        link = str(getattr(payment, "intent_url", "") or "")
        panel["intent_url"] = link
        panel["sandbox_app"] = sandbox_app_url(link) if link else ""
    elif kind == "qr":
        data = str(getattr(payment, "qr_data", "") or "")
        panel["qr_data"] = data
        panel["qr"] = qr_svg(data, title="UPI QR code", scale=6, fluid=True) if data else ""
        panel["sandbox_app"] = sandbox_app_url(data) if data else ""
    elif kind == "collect":
        conf = getattr(settings, "PHONEPE", {})
        local = str(conf.get("env", "")).lower() == "local"
        panel["sandbox_app"] = (
            f"{str(conf.get('local_url', '')).rstrip('/')}/upi-app" if local else ""
        )
    else:
        panel["checkout_url"] = payment.checkout_url
    return panel


def is_phone(request: HttpRequest) -> bool:
    """A phone's browser (the UPI app is on it) rather than a desktop or an exit terminal."""
    if request.headers.get("Sec-CH-UA-Mobile") == "?1":
        return True
    agent = request.headers.get("User-Agent", "")
    return any(word in agent for word in ("Mobi", "Android", "iPhone"))


_LAUNCH = "parking-launch-intent"


def remember_launch(request: HttpRequest, payment: Payment) -> None:
    """The driver pressed "Pay with any UPI app": the next page opens the intent link."""
    request.session[_LAUNCH] = payment.merchant_order_id


def take_launch(request: HttpRequest, payment: Payment) -> bool:
    """True once, on the first page shown after :func:`remember_launch` for this order."""
    if request.session.get(_LAUNCH) == payment.merchant_order_id:
        del request.session[_LAUNCH]
        return True
    return False
