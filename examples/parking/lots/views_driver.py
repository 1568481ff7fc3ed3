"""Driver pages: pick a lot, park, leave, pay with PhonePe, show the exit pass.

Views never decide money: the fee comes from ``services`` and a session turns PAID only
through the payment signal. Every ticket URL is checked against this browser's tickets;
a lost ticket page is found again only through ``recovery`` (plate + mobile digits).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from django.urls import reverse
from phonepe_gateway import NotFoundError, PhonePeError
from phonepe_gateway.django import services as payments
from phonepe_gateway.django.exceptions import PaymentsError
from phonepe_gateway.django.models import Payment

from . import booking_entry, bookings, ownership, pay_upi, recovery, services
from .failures import GATEWAY_DOWN
from .forms import EntryForm, FindTicketForm, PayForm
from .models import HOLDING_STATES, Booking, Lot, ParkingSession, SessionState
from .plates import InvalidPlate, display_plate, normalise_plate
from .qr import qr_svg

logger = logging.getLogger(__name__)

FINAL_PAYMENT_STATES = ("COMPLETED", "FAILED")
#: After this long without an answer the page tells the driver what else to do.
STUCK_AFTER_SECONDS = 120


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    lots = []
    for lot in Lot.objects.all():
        total, free = lot.bays.count(), services.free_bays(lot)
        used = round(100 * (total - free) / total) if total else 100
        lots.append({"lot": lot, "free": free, "total": total, "used": used})
    tickets = ParkingSession.objects.filter(pk__in=ownership.owned_ids(request)).select_related(
        "lot", "bay"
    )[:5]
    from .views_booking import owned_booking_ids

    booked = Booking.objects.filter(pk__in=owned_booking_ids(request)).select_related("lot")[:5]
    return render(request, "lots/home.html", {"lots": lots, "tickets": tickets, "bookings": booked})


def lot_entry(request: HttpRequest, slug: str) -> HttpResponse:
    lot = get_object_or_404(Lot, slug=slug)
    form = EntryForm(request.POST or None)
    already_parked = ""
    if request.method == "POST" and form.is_valid():
        plate = form.cleaned_data["plate"]
        booked = booking_entry.booking_for_entry(lot, plate)
        if booked is not None:  # booked ahead and paid: the barrier opens on its bay
            return _enter_booked(request, booked, form)
        try:
            session = recovery.park(lot, plate, mobile=form.cleaned_data["mobile"])
        except services.AlreadyParked:
            open_ticket = ParkingSession.objects.filter(
                plate=plate, state__in=HOLDING_STATES
            ).first()
            if open_ticket is not None and open_ticket.pk in ownership.owned_ids(request):
                messages.info(request, "This vehicle is already parked: here is its ticket.")
                return redirect("ticket", pk=open_ticket.pk)
            form.add_error("plate", "This vehicle is already parked.")
            already_parked = plate
        except services.ParkingError as exc:
            form.add_error("plate", str(exc))
        else:
            ownership.remember(request, session)
            return redirect("ticket", pk=session.pk)
    context = {
        "lot": lot,
        "form": form,
        "free": services.free_bays(lot),
        "total": lot.bays.count(),
        "already_parked": already_parked,
    }
    return render(request, "lots/entry.html", context, status=400 if form.errors else 200)


def _enter_booked(request: HttpRequest, booked: Booking, form: EntryForm) -> HttpResponse:
    try:
        session = booking_entry.enter(booked)
    except bookings.BookingError as exc:
        form.add_error("plate", str(exc))
        lot = booked.lot
        context = {
            "lot": lot,
            "form": form,
            "free": services.free_bays(lot),
            "total": lot.bays.count(),
        }
        return render(request, "lots/entry.html", context, status=400)
    ownership.remember(request, session)
    messages.success(
        request, f"Booking #{booked.pk} found: the barrier is open. Park in bay {session.bay.code}."
    )
    return redirect("ticket", pk=session.pk)


@never_cache
def find_ticket(request: HttpRequest) -> HttpResponse:
    """A lost ticket page, found again by the vehicle number and the mobile's last 4 digits."""
    typed = request.GET.get("plate", "")[:20]
    with contextlib.suppress(InvalidPlate):  # else shown as typed; the form explains on submit
        typed = display_plate(normalise_plate(typed))
    initial = {"plate": typed}
    form = FindTicketForm(request.POST or None, initial=initial)
    locked = False
    if request.method == "POST" and form.is_valid():
        try:
            session = recovery.find(form.cleaned_data["plate"], form.cleaned_data["digits"])
        except recovery.TooManyTries:
            locked = True
        except recovery.NotFound:
            form.add_error(
                None,
                "No ticket matches that vehicle number and those digits. If you gave no "
                "mobile number when you parked, the attendant at the exit can find your "
                "ticket by its vehicle number.",
            )
        else:
            ownership.remember(request, session)
            messages.success(request, "Found your ticket. It is on this phone now.")
            return redirect("ticket", pk=session.pk)
    status = 200 if request.method == "GET" else (429 if locked else 400)
    context = {"form": form, "locked": locked}
    return render(request, "lots/find.html", context, status=status)


def _payment_view_state(
    session: ParkingSession, payment: Payment | None, request: HttpRequest | None = None
) -> str:
    """One word for the page: PARKED, DUE, PENDING, RETRY, FAILED, REVIEW, PAID or FREE.

    RETRY: the order is still open but the driver's last attempt on PhonePe's page failed
    (PhonePe lets them try again there until the order expires).
    """
    if session.state == SessionState.PAID:
        return "PAID"
    if session.state == SessionState.FREE:
        return "FREE"
    if session.state == SessionState.PARKED:
        return "PARKED"
    if payment is None or (payment.state != "COMPLETED" and not pay_upi.has_pay_link(payment)):
        # The driver never saw a checkout page for it, so cannot have paid it.
        return "DUE"
    if payment.state == "FAILED":
        return "FAILED"
    if payment.state != "COMPLETED" and payment.expires_at and payment.expires_at < timezone.now():
        return "DUE"  # the checkout link expired unpaid: offer a fresh one
    if payment.state == "COMPLETED":
        return "REVIEW"  # money moved but it does not settle this ticket: staff must look
    if request is not None and _attempt_failed(request, payment):
        return "RETRY"
    return "PENDING"


_FAILED_ATTEMPTS = "parking-failed-attempt"


def _attempt_failed(request: HttpRequest, payment: Payment) -> bool:
    return bool(request.session.get(_FAILED_ATTEMPTS, {}).get(payment.merchant_order_id))


def _remember_attempt(request: HttpRequest, payment: Payment, failed: bool) -> None:
    seen = dict(request.session.get(_FAILED_ATTEMPTS, {}))
    if failed:
        seen = {payment.merchant_order_id: True, **seen}
    else:
        seen.pop(payment.merchant_order_id, None)
    request.session[_FAILED_ATTEMPTS] = dict(list(seen.items())[:20])


def _version(session: ParkingSession, payment: Payment | None) -> str:
    return f"{session.state}:{payment.merchant_order_id if payment else ''}:{payment.state if payment else ''}"


@never_cache
@require_GET
def ticket(request: HttpRequest, pk: int) -> HttpResponse:
    session = ownership.get_owned(request, pk)
    payment = services.latest_payment(session)
    view_state = _payment_view_state(session, payment, request)
    context: dict[str, Any] = {
        "session": session,
        "payment": payment,
        "view_state": view_state,
        "fee": services.current_fee(session),
        "version": _version(session, payment),
        "pay_form_fee": session.fee,
        "stay_seconds": ((session.exit_at or timezone.now()) - session.entry_at).total_seconds(),
    }
    if view_state in ("PENDING", "RETRY") and payment is not None:
        waited = (timezone.now() - payment.created_at).total_seconds()
        context["stuck"] = waited > STUCK_AFTER_SECONDS
        if pay_upi.instrument_of(payment):  # UPI intent / QR / collect: no PhonePe page
            context["panel"] = pay_upi.payment_panel(
                request, payment, launch=pay_upi.take_launch(request, payment)
            )
        elif payment.checkout_url:
            context["checkout_qr"] = qr_svg(payment.checkout_url, title="PhonePe checkout link")
    context["on_phone"] = pay_upi.is_phone(request)
    if view_state in ("PAID", "FREE"):
        context["exit_qr"] = qr_svg(
            ownership.exit_pass_code(session), title=f"Exit pass for ticket {session.pk}", scale=6
        )
    return render(request, "lots/ticket.html", context)


@require_POST
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    session = ownership.get_owned(request, pk)
    services.request_exit(session)
    return redirect("ticket", pk=pk)


def _return_url(request: HttpRequest, session: ParkingSession) -> str:
    path = reverse("payment-return", kwargs={"pk": session.pk})
    query = f"?t={ownership.return_token(session)}"
    base = getattr(settings, "PARKING_PUBLIC_URL", "")
    if base:
        return base.rstrip("/") + path + query
    return request.build_absolute_uri(path + query)


@require_POST
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    session = ownership.get_owned(request, pk)
    form = PayForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Missing or malformed fee confirmation.")
    method = form.cleaned_data.get("method") or "redirect"
    try:
        instrument = pay_upi.instrument_for(method, form.cleaned_data.get("vpa") or "")
    except pay_upi.BadVpa as exc:
        messages.error(request, str(exc))
        return redirect("ticket", pk=pk)
    try:
        payment = services.start_payment(
            session,
            confirmed_fee=form.cleaned_data["confirmed_fee"],
            redirect_url=_return_url(request, session),
            instrument=instrument,
        )
    except services.FeeMismatch as exc:
        messages.error(request, str(exc))
        return (
            redirect("ticket", pk=pk)
            if _wants_html(request)
            else HttpResponse(str(exc), status=409)
        )
    except services.ParkingError as exc:
        messages.error(request, str(exc))
        return redirect("ticket", pk=pk)
    except PaymentsError as exc:
        logger.warning("could not start payment for session %s: %s", pk, exc)
        messages.error(request, GATEWAY_DOWN)
        return redirect("ticket", pk=pk)
    if method == "intent":
        pay_upi.remember_launch(request, payment)  # the next page opens the UPI app, once
    if instrument is not None or not payment.checkout_url:
        return redirect("ticket", pk=pk)
    return redirect(payment.checkout_url)


def _wants_html(request: HttpRequest) -> bool:
    return "text/html" in request.headers.get("Accept", "")


@never_cache
@require_GET
def payment_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Where PhonePe sends the driver back: ask the gateway once, then show the ticket."""
    if not ownership.claim(request, pk, request.GET.get("t", "")):
        ownership.get_owned(request, pk)  # 404 unless already ours
    session = ownership.get_owned(request, pk)
    payment = services.latest_payment(session)
    if payment is not None and payment.state not in FINAL_PAYMENT_STATES:
        try:
            _remember_attempt(request, payment, _check_on_return(payment))
        except (PaymentsError, PhonePeError) as exc:
            # The webhook or the reconciler will settle it; the page keeps polling.
            logger.info("status check on return failed for %s: %s", payment.merchant_order_id, exc)
    return redirect("ticket", pk=pk)


def _check_on_return(payment: Payment) -> bool:
    """Record PhonePe's answer; True when the order is still open but its last attempt
    failed (the driver declined, or the bank said no, and may try again on PhonePe's page).
    """
    try:
        status = payments.ask_order_status(payment)
    except NotFoundError:
        payments.sync_payment(payment)  # the service knows what an unknown order means
        return False
    payments.observe_order_status(payment, status)
    last = status.payment_details[-1] if status.payment_details else None
    return status.state == "PENDING" and last is not None and last.state == "FAILED"


@never_cache
@require_GET
def ticket_status(request: HttpRequest, pk: int) -> JsonResponse:
    session = ownership.get_owned(request, pk)
    payment = services.latest_payment(session)
    return JsonResponse(
        {
            "ticket": session.pk,
            "state": _payment_view_state(session, payment, request),
            "session_state": session.state,
            "payment_state": payment.state if payment else None,
            "version": _version(session, payment),
        }
    )
