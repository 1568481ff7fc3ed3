"""Staff pages (login required): occupancy, sessions, payments, refunds and the dashboard.

Refunds go through ``phonepe_gateway.django.services.refund_payment`` only; this module
never edits a Payment or Refund row itself.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from phonepe_gateway.django import services as payments
from phonepe_gateway.django.exceptions import PaymentsError
from phonepe_gateway.django.models import Payment, Refund

from . import bookings, dashboard, ownership, services
from .forms import RefundForm
from .models import HOLDING_STATES, Booking, Lot, ParkingSession, SessionState
from .plates import InvalidPlate, normalise_plate

logger = logging.getLogger(__name__)

staff = staff_member_required(login_url="login")


@staff
def occupancy(request: HttpRequest) -> HttpResponse:
    rows = []
    for lot in Lot.objects.prefetch_related("bays"):
        holders = {
            s.bay_id: s for s in ParkingSession.objects.filter(lot=lot, state__in=HOLDING_STATES)
        }
        bays = [(bay, holders.get(bay.pk)) for bay in lot.bays.all()]
        total = len(bays)
        used = len(holders)
        rows.append(
            {
                "lot": lot,
                "bays": bays,
                "total": total,
                "used": used,
                "percent": round(100 * used / total) if total else 0,
            }
        )
    return render(request, "lots/staff/occupancy.html", {"rows": rows, "nav": "occupancy"})


@staff
def sessions(request: HttpRequest) -> HttpResponse:
    qs = ParkingSession.objects.select_related("lot", "bay")
    state = request.GET.get("state", "")
    query = request.GET.get("q", "").strip()
    if state in SessionState.values:
        qs = qs.filter(state=state)
    if query:
        try:
            qs = qs.filter(plate=normalise_plate(query))
        except InvalidPlate:
            qs = qs.filter(Q(plate__icontains=query.replace(" ", "")) | Q(pk__in=_ints(query)))
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "q": query,
        "states": SessionState.choices,
        "nav": "sessions",
    }
    return render(request, "lots/staff/sessions.html", context)


def _ints(text: str) -> list[int]:
    return [int(text.lstrip("#"))] if text.lstrip("#").isdigit() else []


@staff
def payment_list(request: HttpRequest) -> HttpResponse:
    qs = Payment.objects.order_by("-created_at")
    state = request.GET.get("state", "")
    if state:
        qs = qs.filter(state=state)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    rows = [(p, services.session_id_from_reference(p.reference)) for p in page]
    states = ["CREATED", "PENDING", "UNKNOWN", "COMPLETED", "FAILED"]
    context = {"page": page, "rows": rows, "state": state, "states": states, "nav": "payments"}
    return render(request, "lots/staff/payments.html", context)


def _payment_context(payment: Payment, form: RefundForm) -> dict[str, Any]:
    session_id = services.session_id_from_reference(payment.reference)
    session = ParkingSession.objects.select_related("lot", "bay").filter(pk=session_id).first()
    return {
        "payment": payment,
        "session": session,
        "booking": Booking.objects.select_related("lot")
        .filter(pk=bookings.booking_id_from_reference(payment.reference))
        .first(),
        "refunds": Refund.objects.filter(payment=payment).order_by("-created_at"),
        "form": form,
        "nav": "payments",
    }


@staff
def payment_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    payment = get_object_or_404(Payment, merchant_order_id=order_id)
    form = RefundForm(refundable=payment.refundable_amount)
    return render(request, "lots/staff/payment.html", _payment_context(payment, form))


@staff
@require_POST
def refund(request: HttpRequest, order_id: str) -> HttpResponse:
    payment = get_object_or_404(Payment, merchant_order_id=order_id)
    form = RefundForm(request.POST, refundable=payment.refundable_amount)
    if payment.state != "COMPLETED":
        form.add_error(None, "Only a completed payment can be refunded.")
    elif form.is_valid():
        try:
            result = payments.refund_payment(
                payment,
                amount=form.cleaned_data["amount"],
                reason=f"{form.cleaned_data['reason']} (by {request.user.get_username()})",
            )
        except PaymentsError as exc:
            form.add_error(None, f"The refund was not started: {exc.message}")
        else:
            messages.success(
                request,
                f"Refund of ₹{result.amount / 100:,.2f} started ({result.state.lower()}).",
            )
            return redirect("staff-payment", order_id=order_id)
    context = _payment_context(payment, form)
    return render(request, "lots/staff/payment.html", context, status=400)


@staff
@require_POST
def sync(request: HttpRequest, order_id: str) -> HttpResponse:
    payment = get_object_or_404(Payment, merchant_order_id=order_id)
    try:
        payments.sync_payment(payment)
    except PaymentsError as exc:
        messages.error(request, f"PhonePe could not be asked: {exc.message}")
    else:
        messages.success(request, "Status refreshed from PhonePe.")
    return redirect("staff-payment", order_id=order_id)


@staff
def check_pass(request: HttpRequest) -> HttpResponse:
    """The exit gate: paste or scan a pass code; say whether the car may leave."""
    code = request.GET.get("code", "").strip()
    context: dict[str, Any] = {"code": code, "nav": "sessions", "checked": bool(code)}
    if code:
        context["session"] = ownership.session_from_pass(code)
    return render(request, "lots/staff/check_pass.html", context)


@staff
def dashboard_view(request: HttpRequest) -> HttpResponse:
    hours = _hours(request.GET.get("hours")) or dashboard.default_window()
    context = dashboard.build(hours=hours)
    context["nav"] = "dashboard"
    return render(request, "lots/staff/dashboard.html", context)


def _hours(text: str | None) -> int | None:
    return int(text) if text in {"1", "6", "24", "168"} else None
