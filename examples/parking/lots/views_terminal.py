"""The exit terminal (staff login): the attendant types the plate, the screen shows a UPI QR.

At a barrier the driver may have no data or a flat phone: the terminal ends the stay,
asks the payments app for a UPI QR order for the server's fee and draws the order's QR
data with its expiry counting down; the driver scans it with any UPI app and the screen
turns to "barrier open" by itself. The fee is the server's, never typed by anyone.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from django.urls import reverse
from phonepe_gateway import UpiQr
from phonepe_gateway.django.exceptions import PaymentsError

from . import ownership, pay_upi, services
from .models import HOLDING_STATES, Lot, ParkingSession, SessionState
from .plates import InvalidPlate, normalise_plate
from .views_staff import staff

logger = logging.getLogger(__name__)


@staff
@never_cache
def terminal(request: HttpRequest, slug: str) -> HttpResponse:
    """The terminal's start screen: a plate; POST ends that car's stay and shows its QR."""
    lot = get_object_or_404(Lot, slug=slug)
    error = ""
    if request.method == "POST":
        try:
            plate = normalise_plate(request.POST.get("plate", ""))
        except InvalidPlate as exc:
            error = str(exc)
        else:
            session = ParkingSession.objects.filter(
                lot=lot, plate=plate, state__in=HOLDING_STATES
            ).first()
            if session is None:
                error = (
                    "No car with that number is parked here. Check the plate or the Sessions page."
                )
            else:
                services.request_exit(session)
                return redirect("staff-terminal-ticket", slug=slug, pk=session.pk)
    context = {"lot": lot, "error": error, "nav": "sessions"}
    return render(request, "lots/staff/terminal.html", context, status=400 if error else 200)


def _terminal_state(session: ParkingSession, payment: Any) -> str:
    if session.state in (SessionState.PAID, SessionState.FREE):
        return "OPEN"
    if session.state != SessionState.PAYMENT_DUE:
        return "PARKED"
    if payment is None or pay_upi.upi_view_state(payment) != "PENDING":
        return "DUE"
    return "QR" if pay_upi.instrument_of(payment) == pay_upi.QR else "DUE"


@staff
@never_cache
@require_GET
def terminal_ticket(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    session = get_object_or_404(
        ParkingSession.objects.select_related("lot", "bay"), pk=pk, lot__slug=slug
    )
    payment = services.latest_payment(session)
    state = _terminal_state(session, payment)
    context: dict[str, Any] = {
        "lot": session.lot,
        "session": session,
        "state": state,
        "payment": payment,
        "version": f"{session.state}:{payment.merchant_order_id if payment else ''}:{payment.state if payment else ''}",
        "nav": "sessions",
    }
    if state == "QR" and payment is not None:
        context["panel"] = pay_upi.payment_panel(request, payment)
    return render(request, "lots/staff/terminal_ticket.html", context)


@staff
@require_POST
def terminal_qr(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A UPI QR order for the session's fee (an open one is shown again, not made twice)."""
    session = get_object_or_404(ParkingSession, pk=pk, lot__slug=slug)
    try:
        services.start_payment(
            session,
            confirmed_fee=session.fee or 0,
            redirect_url=request.build_absolute_uri(
                reverse("payment-return", kwargs={"pk": session.pk})
                + f"?t={ownership.return_token(session)}"
            ),
            instrument=UpiQr(),
        )
    except services.ParkingError as exc:
        messages.error(request, str(exc))
    except PaymentsError as exc:
        logger.warning("terminal could not start a QR for session %s: %s", pk, exc)
        messages.error(request, "PhonePe could not be reached. Nothing was charged; try again.")
    return redirect("staff-terminal-ticket", slug=slug, pk=pk)


@staff
@never_cache
@require_GET
def terminal_status(request: HttpRequest, slug: str, pk: int) -> JsonResponse:
    session = get_object_or_404(ParkingSession, pk=pk, lot__slug=slug)
    payment = services.latest_payment(session)
    version = f"{session.state}:{payment.merchant_order_id if payment else ''}:{payment.state if payment else ''}"
    return JsonResponse(
        {"ticket": session.pk, "state": _terminal_state(session, payment), "version": version}
    )
