"""Driver pages for booking a bay ahead: book, pay (UPI app, UPI QR, PhonePe page), enter, cancel.

As with tickets, views never decide money: the price and the refund come from
``bookings``, a booking turns PAID only through the payment signal, and a booking is
shown only to the browser that made it (or that comes back through the signed return link).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from django.urls import reverse
from phonepe_gateway import PhonePeError
from phonepe_gateway.django import services as payments
from phonepe_gateway.django.exceptions import PaymentsError
from phonepe_gateway.django.models import Payment

from . import booking_entry, bookings, ownership
from .failures import GATEWAY_DOWN
from .forms import BookingCancelForm, BookingForm, BookingPayForm
from .models import Booking, BookingState, Lot
from .pay_upi import (
    BadVpa,
    instrument_for,
    is_phone,
    payment_panel,
    remember_launch,
    take_launch,
    upi_view_state,
)

logger = logging.getLogger(__name__)

_KEY = "parking_bookings"
_SALT = "lots.booking-return"


# -- which bookings this browser may see --------------------------------------------------


def _remember(request: HttpRequest, booking: Booking) -> None:
    owned = [pk for pk in request.session.get(_KEY, []) if pk != booking.pk]
    request.session[_KEY] = [booking.pk, *owned][:20]


def owned_booking_ids(request: HttpRequest) -> list[int]:
    return [int(pk) for pk in request.session.get(_KEY, [])]


def _get_owned(request: HttpRequest, pk: int) -> Booking:
    if pk not in owned_booking_ids(request):
        raise Http404("No such booking in this browser.")
    booking = Booking.objects.select_related("lot", "bay").filter(pk=pk).first()
    if booking is None:
        raise Http404("No such booking.")
    return booking


def _return_url(request: HttpRequest, booking: Booking) -> str:
    path = reverse("booking-return", kwargs={"pk": booking.pk})
    query = f"?t={signing.dumps(booking.pk, salt=_SALT, compress=False)}"
    base = getattr(settings, "PARKING_PUBLIC_URL", "")
    return base.rstrip("/") + path + query if base else request.build_absolute_uri(path + query)


def _claim(request: HttpRequest, pk: int, token: str) -> None:
    try:
        signed = signing.loads(token, salt=_SALT, max_age=2 * 24 * 3600)
    except signing.BadSignature:
        return
    booking = Booking.objects.filter(pk=pk).first()
    if signed == pk and booking is not None:
        _remember(request, booking)


# -- booking -----------------------------------------------------------------------------


def book(request: HttpRequest, slug: str) -> HttpResponse:
    lot = get_object_or_404(Lot, slug=slug)
    now = timezone.localtime()
    initial = {"start": _next_quarter(now).strftime("%Y-%m-%dT%H:%M"), "hours": 2}
    form = BookingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            booking = bookings.create_booking(
                lot,
                form.cleaned_data["plate"],
                form.cleaned_data["start"],
                form.cleaned_data["hours"],
            )
        except bookings.BookingError as exc:
            form.add_error(None, str(exc))
        else:
            _remember(request, booking)
            return redirect("booking", pk=booking.pk)
    context = {
        "lot": lot,
        "form": form,
        "policy": bookings.POLICY,
        "policy_hours": int(bookings.POLICY.full_refund_before.total_seconds() // 3600),
    }
    return render(request, "lots/booking_new.html", context, status=400 if form.errors else 200)


def _next_quarter(now: datetime) -> datetime:
    minutes = (now.minute // 15 + 1) * 15
    return now.replace(minute=0, second=0, microsecond=0) + timezone.timedelta(minutes=minutes)


def _view_state(booking: Booking, payment: Payment | None) -> str:
    """AWAITING (nothing open to pay), PAYING (an order open), PAID, ENTERED, CANCELLED, EXPIRED."""
    if booking.state != BookingState.AWAITING_PAYMENT:
        return str(booking.state)
    if payment is not None and upi_view_state(payment) in ("PENDING", "RETRY"):
        return "PAYING"
    return "AWAITING"


def _version(booking: Booking, payment: Payment | None, refund_step: str) -> str:
    order = f"{payment.merchant_order_id}:{payment.state}" if payment else ""
    return f"{booking.state}:{order}:{refund_step}"


def _context(request: HttpRequest, booking: Booking) -> dict[str, Any]:
    now = timezone.now()
    bookings.expire_unpaid(booking, now=now)
    booking.refresh_from_db()
    payment = bookings.latest_payment(booking)
    view_state = _view_state(booking, payment)
    policy = bookings.policy_of(booking)
    refund = None
    refund_step = ""
    if booking.state == BookingState.CANCELLED and booking.refund_amount:
        found = bookings.booking_refunds(booking)
        refund = found[0] if found else None
        refund_step = bookings.refund_progress(refund)
    opens, closes = booking_entry.entry_window(booking)
    context: dict[str, Any] = {
        "booking": booking,
        "payment": payment,
        "view_state": view_state,
        "cut_off": policy.cut_off(booking.start_at),
        "late_percent": policy.late_refund_percent,
        "late_refund": booking.price * policy.late_refund_percent // 100,
        "refund_now": bookings.refund_preview(booking, now=now),
        "refund": refund,
        "refund_step": refund_step,
        "refund_timeline": _timeline(refund_step),
        "booking_pay_url": reverse("booking-pay", kwargs={"pk": booking.pk}),
        "on_phone": is_phone(request),
        "may_enter": booking.state == BookingState.PAID and opens <= now < closes,
        "entry_opens": opens,
        "missed": booking.window_missed,
        "version": _version(booking, payment, refund_step),
    }
    context["poll"] = view_state == "PAYING" or refund_step in ("PENDING", "CONFIRMED")
    return context


_STEP_LABELS = {
    "PENDING": "Requested",
    "CONFIRMED": "Accepted by PhonePe",
    "COMPLETED": "Back in your account",
}


def _timeline(current: str) -> list[tuple[str, str, str]]:
    """(step, done|now|todo, label) for PENDING -> CONFIRMED -> COMPLETED."""
    steps = bookings.REFUND_STEPS
    at = steps.index(current) if current in steps else -1
    out = []
    for i, step in enumerate(steps):
        status = (
            "done" if i < at or (i == at and step == "COMPLETED") else "now" if i == at else "todo"
        )
        out.append((step, status, _STEP_LABELS[step]))
    return out


@never_cache
@require_GET
def booking(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _get_owned(request, pk)
    context = _context(request, booking)
    payment = context["payment"]
    if context["view_state"] == "PAYING" and payment is not None:
        context["panel"] = payment_panel(request, payment, launch=take_launch(request, payment))
    return render(request, "lots/booking_detail.html", context)


@never_cache
@require_GET
def booking_status(request: HttpRequest, pk: int) -> JsonResponse:
    booking = _get_owned(request, pk)
    context = _context(request, booking)
    return JsonResponse(
        {"booking": booking.pk, "state": context["view_state"], "version": context["version"]}
    )


@require_POST
def booking_pay(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _get_owned(request, pk)
    form = BookingPayForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Missing or malformed price confirmation.")
    if form.cleaned_data["confirmed_price"] != booking.price:
        messages.error(request, "The price changed. Please check it and pay again.")
        return redirect("booking", pk=pk)
    method = form.cleaned_data["method"]
    try:
        instrument = instrument_for(method, form.cleaned_data["vpa"])
    except BadVpa as exc:
        messages.error(request, str(exc))
        return redirect("booking", pk=pk)
    try:
        payment = bookings.start_payment(
            booking, instrument=instrument, redirect_url=_return_url(request, booking)
        )
    except bookings.BookingError as exc:
        messages.error(request, str(exc))
        return redirect("booking", pk=pk)
    except PaymentsError as exc:
        logger.warning("could not start payment for booking %s: %s", pk, exc)
        messages.error(request, GATEWAY_DOWN)
        return redirect("booking", pk=pk)
    if method == "hosted" and payment.checkout_url:
        return redirect(payment.checkout_url)
    if method == "intent":
        remember_launch(request, payment)
    return redirect("booking", pk=pk)


@never_cache
@require_GET
def booking_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Where PhonePe's page sends the driver back: ask the gateway once, show the booking."""
    _claim(request, pk, request.GET.get("t", ""))
    booking = _get_owned(request, pk)
    payment = bookings.latest_payment(booking)
    if payment is not None and payment.state not in ("COMPLETED", "FAILED"):
        try:
            payments.sync_payment(payment)
        except (PaymentsError, PhonePeError) as exc:
            logger.info("status check on return failed for %s: %s", payment.merchant_order_id, exc)
    return redirect("booking", pk=pk)


@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _get_owned(request, pk)
    form = BookingCancelForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Missing or malformed refund confirmation.")
    if form.cleaned_data["confirmed_refund"] != bookings.refund_preview(booking):
        messages.error(
            request,
            "The refund for cancelling has changed (a cut-off passed). Please check it again.",
        )
        return redirect("booking", pk=pk)
    try:
        bookings.cancel(booking)
    except bookings.BookingError as exc:
        messages.error(request, str(exc))
    return redirect("booking", pk=pk)


@require_POST
def booking_retry_refund(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _get_owned(request, pk)
    bookings.ensure_refund(booking)
    return redirect("booking", pk=pk)


@require_POST
def booking_enter(request: HttpRequest, pk: int) -> HttpResponse:
    """At the barrier: the paid booking lets the car in and becomes a parking ticket."""
    booking = _get_owned(request, pk)
    try:
        session = booking_entry.enter(booking)
    except bookings.BookingError as exc:
        messages.error(request, str(exc))
        return redirect("booking", pk=pk)
    ownership.remember(request, session)
    messages.success(request, f"Welcome! The barrier is open. Park in bay {session.bay.code}.")
    return redirect("ticket", pk=session.pk)
