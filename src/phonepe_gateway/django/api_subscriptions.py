"""The REST API of UPI AutoPay mandates: create, get, cancel, list debits.

Like the payments routes in :mod:`.api`: views translate HTTP to
:mod:`.subscriptions` and back, never change a state themselves, and answer every
failure with the JSON error shape. ``POST /api/subscriptions`` takes an
``Idempotency-Key``; without explicit ids they are derived from it, so a retry after any
crash resumes the same mandate at PhonePe instead of setting up a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from phonepe_gateway import UpiCollect, UpiIntent, ValidationError

from . import subscriptions
from .api import (
    IdempotencyKey,
    SyncQuery,
    answer_once,
    dump_as,
    gateway_verdict,
    key_id_for,
    or_none,
    payment_body,
)
from .exceptions import GatewayUnavailable, InvalidRequest, NotFound
from .models import Payment, Subscription
from .schedule import FREQUENCIES
from .schemas import ID_PATTERN, ErrorOut, MetaKey, MetaValue

__all__ = ["router", "subscription_body"]

router = Router(tags=["subscriptions"])
#: NPCI's ceiling for one UPI AutoPay debit, ₹1,00,000 (the client refuses more too; it
#: is stated here so the OpenAPI document says it)
MAX_MANDATE_AMOUNT = 10_000_000
_ERRORS = frozenset({400, 401, 403, 404, 409, 422, 502, 503})

SubscriptionStateName = Literal[
    "CREATED", "PENDING", "UNKNOWN", "ACTIVE", "PAUSED", "REVOKED", "CANCELLED", "EXPIRED", "FAILED"
]


Frequency = Literal[
    "DAILY",
    "WEEKLY",
    "FORTNIGHTLY",
    "MONTHLY",
    "BIMONTHLY",
    "QUARTERLY",
    "HALFYEARLY",
    "YEARLY",
    "ON_DEMAND",
]
assert set(get_args(Frequency)) == set(FREQUENCIES)  # one list of frequencies


class MandateUpiIntentIn(Schema):
    """Set up the mandate by a ``upi://`` link the customer's UPI app opens."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["UPI_INTENT"]
    target_app: str | None = Field(
        default=None,
        pattern=r"^[^\x00-\x1f]{1,128}$",
        description="An Android package, e.g. com.phonepe.app; omitted: the phone chooses.",
    )


class MandateUpiCollectIn(Schema):
    """Set up the mandate by a request sent to the payer's UPI id."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["UPI_COLLECT"]
    vpa: str = Field(
        pattern=r"^[A-Za-z0-9._-]{2,256}@[A-Za-z0-9.-]{2,64}$",
        description="The payer's UPI id (PhonePe offers AutoPay collect to a VPA only).",
    )


MandateInstrumentIn = Annotated[
    MandateUpiIntentIn | MandateUpiCollectIn, Field(discriminator="type")
]


class CreateSubscriptionIn(Schema):
    """A UPI AutoPay mandate to set up; amounts in paise."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(
        ge=100, le=MAX_MANDATE_AMOUNT, description="Paise debited each period (and at set-up)."
    )
    max_amount: int = Field(
        ge=100,
        le=MAX_MANDATE_AMOUNT,
        description="The mandate's cap, paise (at least amount; NPCI: at most ₹1,00,000).",
    )
    frequency: Frequency
    instrument: MandateInstrumentIn
    amount_type: Literal["FIXED", "VARIABLE"] = "VARIABLE"
    auth_workflow: Literal["TRANSACTION", "PENNY_DROP"] = "TRANSACTION"
    merchant_subscription_id: str | None = Field(default=None, pattern=ID_PATTERN)
    merchant_order_id: str | None = Field(default=None, pattern=ID_PATTERN)
    reference: str = Field(default="", max_length=255)
    first_debit_at: datetime | None = Field(
        default=None, description="When period 1 falls due (default: a period after approval)."
    )
    mandate_expires_at: datetime | None = None
    metadata: dict[MetaKey, MetaValue] | None = Field(default=None, max_length=15)


class SubscriptionOut(Schema):
    merchant_subscription_id: str
    merchant_order_id: str
    state: SubscriptionStateName
    amount: int
    max_amount: int
    currency: str
    frequency: str
    amount_type: str
    auth_workflow: str
    instrument: str
    reference: str
    subscription_id: str | None
    intent_url: str | None
    expires_at: datetime | None
    mandate_expires_at: datetime | None
    activated_at: datetime | None
    ended_at: datetime | None
    next_period: int
    next_debit_at: datetime | None
    needs_review: bool
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime


class DebitOut(Schema):
    merchant_order_id: str
    state: str
    amount: int
    debit_period: int
    debit_attempt: int
    period_start: datetime | None
    debit_due_at: datetime | None
    transaction_id: str | None
    error_code: str | None
    needs_review: bool
    refunded_amount: int
    created_at: datetime
    completed_at: datetime | None


class DebitsOut(Schema):
    merchant_subscription_id: str
    debits: list[DebitOut]


def subscription_body(sub: Subscription) -> dict[str, Any]:
    return dump_as(
        SubscriptionOut,
        {
            "merchant_subscription_id": sub.merchant_subscription_id,
            "merchant_order_id": sub.merchant_order_id,
            "state": sub.state,
            "amount": sub.amount,
            "max_amount": sub.max_amount,
            "currency": sub.currency,
            "frequency": sub.frequency,
            "amount_type": sub.amount_type,
            "auth_workflow": sub.auth_workflow,
            "instrument": sub.instrument,
            "reference": sub.reference,
            "subscription_id": or_none(sub.subscription_id),
            "intent_url": or_none(sub.intent_url),
            "expires_at": sub.expires_at,
            "mandate_expires_at": sub.mandate_expires_at,
            "activated_at": sub.activated_at,
            "ended_at": sub.ended_at,
            "next_period": sub.next_period,
            "next_debit_at": sub.next_debit_at,
            "needs_review": sub.needs_review,
            "error_code": or_none(sub.error_code),
            "error_message": or_none(sub.error_message),
            "created_at": sub.created_at,
            "updated_at": sub.updated_at,
        },
    )


def debit_body(payment: Payment) -> dict[str, Any]:
    body = payment_body(payment)
    return dump_as(
        DebitOut,
        {
            **{k: body[k] for k in DebitOut.model_fields if k in body},
            "debit_period": payment.debit_period,
            "debit_attempt": payment.debit_attempt or 1,
            "period_start": payment.period_start,
            "debit_due_at": payment.debit_due_at,
        },
    )


def _instrument(data: MandateUpiIntentIn | MandateUpiCollectIn) -> UpiIntent | UpiCollect:
    try:
        if isinstance(data, MandateUpiIntentIn):
            return UpiIntent(target_app=data.target_app)
        return UpiCollect(vpa=data.vpa)
    except ValidationError as exc:
        raise InvalidRequest(str(exc), details={"field": f"instrument.{exc.field}"}) from exc


def _get(merchant_subscription_id: str) -> Subscription:
    try:
        return Subscription.objects.get(merchant_subscription_id=merchant_subscription_id)
    except Subscription.DoesNotExist:
        raise NotFound(
            f"No subscription with merchant_subscription_id {merchant_subscription_id!r}."
        ) from None


@router.post(
    "/subscriptions",
    response={201: SubscriptionOut, _ERRORS: ErrorOut},
    summary="Set up a UPI AutoPay mandate",
)
def create_subscription(
    request: HttpRequest,
    payload: CreateSubscriptionIn,
    idempotency_key: IdempotencyKey = None,
) -> HttpResponse:
    route = "POST /subscriptions"
    sub_id = payload.merchant_subscription_id or key_id_for(request, route, idempotency_key, "MS")
    order_id = payload.merchant_order_id or key_id_for(request, route, idempotency_key, "MO")

    def action() -> tuple[int, dict[str, Any]]:
        try:
            sub = subscriptions.create_subscription(
                amount=payload.amount,
                max_amount=payload.max_amount,
                frequency=payload.frequency,
                instrument=_instrument(payload.instrument),
                amount_type=payload.amount_type,
                auth_workflow=payload.auth_workflow,
                merchant_subscription_id=sub_id,
                merchant_order_id=order_id,
                reference=payload.reference,
                first_debit_at=payload.first_debit_at,
                mandate_expires_at=payload.mandate_expires_at,
                metadata=payload.metadata,
                idempotency_key=idempotency_key,
            )
        except GatewayUnavailable as exc:
            raise gateway_verdict(exc) from exc
        return 201, subscription_body(sub)

    return answer_once(request, route, idempotency_key, payload.model_dump(mode="json"), action)


@router.get(
    "/subscriptions/{merchant_subscription_id}",
    response={200: SubscriptionOut, _ERRORS: ErrorOut},
    summary="A mandate (sync=true asks the gateway first)",
)
def get_subscription(
    request: HttpRequest, merchant_subscription_id: str, query: Query[SyncQuery]
) -> HttpResponse:
    sub = _get(merchant_subscription_id)
    if query.sync:
        sub = subscriptions.sync_subscription(sub)
    return JsonResponse(subscription_body(sub))


@router.post(
    "/subscriptions/{merchant_subscription_id}/cancel",
    response={200: SubscriptionOut, _ERRORS: ErrorOut},
    summary="Cancel a mandate (no debit is notified or redeemed after this)",
)
def cancel_subscription(request: HttpRequest, merchant_subscription_id: str) -> HttpResponse:
    sub = subscriptions.cancel_subscription(_get(merchant_subscription_id))
    return JsonResponse(subscription_body(sub))


@router.get(
    "/subscriptions/{merchant_subscription_id}/debits",
    response={200: DebitsOut, _ERRORS: ErrorOut},
    summary="A mandate's debits, newest period first (period 0: the set-up transaction)",
)
def list_debits(request: HttpRequest, merchant_subscription_id: str) -> HttpResponse:
    sub = _get(merchant_subscription_id)
    rows = subscriptions.subscription_debits(sub)[:500]
    body = {
        "merchant_subscription_id": sub.merchant_subscription_id,
        "debits": [debit_body(p) for p in rows],
    }
    return JsonResponse(body)
