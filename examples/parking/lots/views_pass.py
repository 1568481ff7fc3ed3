"""Monthly pass pages: buy a pass, approve AutoPay in a UPI app, see it paid; staff lists.

A pass belongs to the browser that bought it (like a ticket, remembered in its session);
another browser gets a 404. Views only call ``lots.passes`` (the rules) and
``lots.autopay`` (reading mandates and debits); nothing here decides a pass's state.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from django import forms
from phonepe_gateway import PhonePeError
from phonepe_gateway.django.exceptions import PaymentsError

from . import autopay, passes, pay_upi
from .models import Lot
from .models_pass import MonthlyPass, PassState
from .plates import InvalidPlate, normalise_plate
from .qr import qr_svg

logger = logging.getLogger(__name__)

_KEY = "parking_passes"
_GATEWAY_DOWN = "PhonePe could not be reached just now. Nothing was set up - please try again."


class PassForm(forms.Form):
    plate = forms.CharField(
        label="Vehicle number",
        max_length=20,
        help_text="The pass is for this vehicle, e.g. MH 12 AB 1234.",
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_plate(self) -> str:
        try:
            return normalise_plate(self.cleaned_data["plate"])
        except InvalidPlate as exc:
            raise forms.ValidationError(str(exc)) from exc


# --- which passes this browser holds -----------------------------------------------------


def _remember(request: HttpRequest, monthly_pass: MonthlyPass) -> None:
    owned = [pk for pk in request.session.get(_KEY, []) if pk != monthly_pass.pk]
    request.session[_KEY] = [monthly_pass.pk, *owned][:10]


def owned_pass_ids(request: HttpRequest) -> list[int]:
    return [int(pk) for pk in request.session.get(_KEY, [])]


def _get_owned(request: HttpRequest, pk: int) -> MonthlyPass:
    if pk not in owned_pass_ids(request):
        raise Http404("No such pass in this browser.")
    try:
        return MonthlyPass.objects.select_related("lot").get(pk=pk)
    except MonthlyPass.DoesNotExist as exc:
        raise Http404("No such pass.") from exc


# --- driver pages ------------------------------------------------------------------------


def pass_new(request: HttpRequest, slug: str) -> HttpResponse:
    lot = get_object_or_404(Lot, slug=slug)
    plan = passes.plan_for(lot)
    form = PassForm(request.POST or None)
    if request.method == "POST" and plan is not None and form.is_valid():
        try:
            monthly_pass = _new_pass(request, lot, form.cleaned_data["plate"])
        except passes.PassError as exc:
            form.add_error("plate", str(exc))
        except (PaymentsError, PhonePeError):
            form.add_error("plate", _GATEWAY_DOWN)
        else:
            if monthly_pass.pk in owned_pass_ids(request):
                messages.info(request, "This vehicle already has a pass here: here it is.")
                return redirect("pass", pk=monthly_pass.pk)
            _remember(request, monthly_pass)
            _start_setup(request, monthly_pass)
            return redirect("pass", pk=monthly_pass.pk)
    context = {"lot": lot, "plan": plan, "form": form}
    return render(request, "lots/pass_new.html", context, status=400 if form.errors else 200)


def _new_pass(request: HttpRequest, lot: Lot, plate: str) -> MonthlyPass:
    """A fresh pass, or this browser's own live one for the vehicle; raises PassError."""
    try:
        return passes.create_pass(lot, plate)
    except passes.PassExists as exc:
        if exc.existing.pk in owned_pass_ids(request):
            return exc.existing
        try:
            return passes.replace_unapproved(exc.existing)
        except passes.PassExists as still:
            raise passes.PassExists(
                f"{still} If it is yours and you bought it on another phone, ask the attendant.",
                still.existing,
            ) from None


def _start_setup(request: HttpRequest, monthly_pass: MonthlyPass) -> None:
    try:
        passes.start_setup(monthly_pass)
    except passes.PassError as exc:
        messages.error(request, str(exc))
    except (PaymentsError, PhonePeError) as exc:
        logger.warning("AutoPay set-up for pass %s failed to start: %s", monthly_pass.pk, exc)
        messages.error(request, _GATEWAY_DOWN)


def _version(monthly_pass: MonthlyPass) -> str:
    return "|".join(
        [
            monthly_pass.state,
            monthly_pass.merchant_subscription_id,
            monthly_pass.mandate_state,
            monthly_pass.suspend_reason,
            monthly_pass.setup_error,
            str(monthly_pass.paid_until),
        ]
    )


@never_cache
@require_GET
def pass_detail(request: HttpRequest, pk: int) -> HttpResponse:
    monthly_pass = _get_owned(request, pk)
    mandate = (
        autopay.get(monthly_pass.merchant_subscription_id)
        if monthly_pass.merchant_subscription_id
        else None
    )
    intent_url = str(getattr(mandate, "intent_url", "") or "")
    awaiting = (
        monthly_pass.state != PassState.ENDED
        and monthly_pass.mandate_state == "PENDING"
        and bool(intent_url)
    )
    context: dict[str, Any] = {
        "pass": monthly_pass,
        "mandate": mandate,
        "awaiting_approval": awaiting,
        "intent_url": intent_url if awaiting else "",
        "upi_app_url": pay_upi.sandbox_app_url(intent_url) if awaiting else "",
        "version": _version(monthly_pass),
        "valid": passes.is_valid(monthly_pass),
        "debits": autopay.debits(monthly_pass.reference) if monthly_pass.setups else [],
        "uses": monthly_pass.uses.select_related("session")[:5],
        "suspension": passes.suspension_message(monthly_pass)
        if monthly_pass.state == PassState.SUSPENDED
        else "",
    }
    if awaiting:
        context["intent_qr"] = qr_svg(intent_url, title="UPI AutoPay request")
    return render(request, "lots/pass_detail.html", context)


@never_cache
@require_GET
def pass_status(request: HttpRequest, pk: int) -> JsonResponse:
    monthly_pass = _get_owned(request, pk)
    return JsonResponse(
        {"pass": monthly_pass.pk, "state": monthly_pass.state, "version": _version(monthly_pass)}
    )


@require_POST
def pass_setup(request: HttpRequest, pk: int) -> HttpResponse:
    """Set up AutoPay (again): after a declined set-up, a failed debit or a revoked mandate."""
    _start_setup(request, _get_owned(request, pk))
    return redirect("pass", pk=pk)


@require_POST
def pass_check(request: HttpRequest, pk: int) -> HttpResponse:
    """ "I have approved it": ask PhonePe about the mandate now instead of waiting."""
    monthly_pass = _get_owned(request, pk)
    if monthly_pass.merchant_subscription_id:
        try:
            sub = autopay.sync(monthly_pass.merchant_subscription_id)
        except (PaymentsError, PhonePeError) as exc:
            logger.info("mandate check for pass %s failed: %s", pk, exc)
            messages.error(
                request, "PhonePe could not be reached just now; this page keeps checking."
            )
        else:
            if sub is not None:  # the signals did this already; the same news changes nothing
                passes.follow_mandate(pk, sub.merchant_subscription_id, str(sub.state))
    return redirect("pass", pk=pk)


@require_POST
def pass_end(request: HttpRequest, pk: int) -> HttpResponse:
    monthly_pass = _get_owned(request, pk)
    try:
        passes.end_pass(monthly_pass)
    except (PaymentsError, PhonePeError) as exc:
        logger.warning("cancelling the mandate of pass %s failed: %s", pk, exc)
        messages.error(
            request,
            "PhonePe could not be reached to stop AutoPay. Your pass is unchanged - "
            "please try again.",
        )
    else:
        messages.success(request, "Your pass has ended. AutoPay will not take any more money.")
    return redirect("pass", pk=pk)


# --- staff pages -------------------------------------------------------------------------

staff = staff_member_required(login_url="login")


@staff
def staff_passes(request: HttpRequest) -> HttpResponse:
    qs = MonthlyPass.objects.select_related("lot")
    state = request.GET.get("state", "")
    if state in PassState.values:
        qs = qs.filter(state=state)
    query = request.GET.get("q", "").strip()
    if query:
        try:
            qs = qs.filter(plate=normalise_plate(query))
        except InvalidPlate:
            qs = qs.filter(plate__icontains=query.replace(" ", "").replace("-", "").upper())
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "q": query,
        "states": PassState.choices,
        "nav": "passes",
    }
    return render(request, "lots/staff/pass_list.html", context)


@staff
def staff_pass(request: HttpRequest, pk: int) -> HttpResponse:
    monthly_pass = get_object_or_404(MonthlyPass.objects.select_related("lot"), pk=pk)
    context = {
        "pass": monthly_pass,
        "debits": autopay.debits(monthly_pass.reference) if monthly_pass.setups else [],
        "uses": monthly_pass.uses.select_related("session", "session__bay")[:50],
        "suspension": passes.suspension_message(monthly_pass)
        if monthly_pass.state == PassState.SUSPENDED
        else "",
        "nav": "passes",
    }
    return render(request, "lots/staff/pass_detail.html", context)
