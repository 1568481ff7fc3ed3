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

from phonepe_gateway.django.models import Payment

from .qr import qr_svg

#: The instrument names the payments app records (PhonePe's paymentMode types).
INTENT = "UPI_INTENT"
QR = "UPI_QR"


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
    """The local sandbox's simulated UPI app for ``link`` (demo only: no UPI app on a laptop)."""
    conf = getattr(settings, "PHONEPE", {})
    if str(conf.get("env", "")).lower() != "local":
        return ""
    base = str(conf.get("local_url", "")).rstrip("/")
    return f"{base}/upi-app/pay?link={quote(link, safe='')}" if base else ""


def payment_panel(
    request: HttpRequest, payment: Payment, *, launch: bool = False
) -> dict[str, Any]:
    """What the page shows for an open order: ``kind`` is intent, qr or hosted."""
    kind = {INTENT: "intent", QR: "qr"}.get(instrument_of(payment), "hosted")
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
        panel["qr"] = qr_svg(data, title="UPI QR code", scale=6) if data else ""
        panel["sandbox_app"] = sandbox_app_url(data) if data else ""
    else:
        panel["checkout_url"] = payment.checkout_url
    return panel
