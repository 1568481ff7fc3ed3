"""The REST API (Django Ninja): payments, refunds, the webhook inbox and diagnostics.

Views only translate HTTP to the services and back: they never change a state, never
talk to the gateway themselves, and every failure leaves as
``{"error": {"code", "message", "details"?}}`` without a secret or a traceback
(unexpected errors are logged with the request id and answered with a bare 500).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Header, NinjaAPI, Query, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel, WithJsonSchema

from phonepe_gateway import (
    ConfigurationError,
    DuplicateRequestError,
    GatewayError,
    Instrument,
    ValidationError,
    __version__,
)

from . import services
from .api_webhooks import router as webhooks_router
from .auth import ApiAuth
from .docs import LocalSwagger, docs_guard
from .exceptions import (
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    PaymentsError,
    storage_unavailable,
)
from .idempotency import Answer, derive_id, fingerprint, run_once
from .logging import current_request_id
from .models import Payment, Refund
from .schemas import (
    CardIn,
    CreatePaymentIn,
    CreateRefundIn,
    ErrorOut,
    NetBankingIn,
    PaymentCreatedOut,
    PaymentOut,
    RefundOut,
    SdkOrderIn,
    TokenIn,
    UpiCollectIn,
    UpiIntentIn,
    UpiQrIn,
)

__all__ = [
    "answer_once",
    "api",
    "dump_as",
    "error_response",
    "gateway_verdict",
    "key_id_for",
    "or_none",
]

logger = logging.getLogger("phonepe_gateway.api")

#: Documented only (a bad key is idempotency.py's 400 invalid_idempotency_key, not a 422).
_KEY_SCHEMA = WithJsonSchema(
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"}
)
IdempotencyKey = Annotated[
    Annotated[str, _KEY_SCHEMA] | None,
    Header(
        alias="Idempotency-Key",
        description="Replays the first answer for the same key (1-255 printable ASCII characters).",
    ),
]
_SORTED = {"sort_keys": True}
_ERRORS = frozenset({400, 401, 403, 404, 409, 422, 502, 503})

api = NinjaAPI(
    title="PhonePe payments",
    version=__version__,
    description="Payments, refunds and PhonePe webhooks. Amounts are integer paise.",
    urls_namespace="phonepe-api",
    auth=ApiAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs=LocalSwagger(),  # Ninja's bundled assets, no CDN (docs.py)
    docs_decorator=docs_guard,  # PHONEPE_API_DOCS; off by default in production
)


def error_response(
    status: int, code: str, message: str, details: Any = None, **headers: str
) -> JsonResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    response = JsonResponse({"error": error}, status=status, json_dumps_params=_SORTED)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


# -- error handlers: every failure is the JSON error shape ---------------------------


@api.exception_handler(PaymentsError)
def _payments_error(request: HttpRequest, exc: PaymentsError) -> HttpResponse:
    response = JsonResponse(exc.to_dict(), status=exc.http_status, json_dumps_params=_SORTED)
    if exc.http_status == 503 or exc.code == "idempotency_in_progress":
        response["Retry-After"] = str(exc.details.get("retry_after", 1))
    return response


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    return error_response(422, "invalid_request", "The request is invalid; see details.", details)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        401,
        "unauthorized",
        "Send an API key as `Authorization: Bearer <key>` (or sign in as staff).",
        WWW_Authenticate='Bearer realm="phonepe"',
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "malformed_request" if exc.status_code == 400 else f"http_{exc.status_code}"
    return error_response(exc.status_code, code, str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(
        413,
        "payload_too_large",
        f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", "No such resource.")


@api.exception_handler(DatabaseError)
def _database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    """The database went away mid-request (a restart, a failover): 503, retry later."""
    return _payments_error(request, storage_unavailable(exc))


@api.exception_handler(ConfigurationError)
def _misconfigured(request: HttpRequest, exc: ConfigurationError) -> HttpResponse:
    """This deployment's PhonePe settings are unusable (e.g. published credentials in
    production): 503, so PhonePe keeps retrying a webhook until the operator fixes them.
    The reason goes to the log, never to the caller (it would tell a stranger how the
    service is set up)."""
    logger.error(
        "refused %s %s: the PhonePe configuration is unusable: %s",
        request.method,
        request.path,
        exc,
    )
    return error_response(
        503,
        "misconfigured",
        "The payments service is misconfigured; the operator has been told. Retry later.",
        {"request_id": current_request_id()},
        Retry_After="60",
    )


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unexpected error in %s %s", request.method, request.path)
    return error_response(
        500,
        "internal_error",
        "An unexpected error occurred; it was logged. Quote the request id to support.",
        {"request_id": current_request_id()},
    )


# -- payments ------------------------------------------------------------------------

payments = Router(tags=["payments"])


def dump_as(schema: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    return schema.model_validate(data).model_dump(mode="json")


def or_none(value: str) -> str | None:
    return value or None


def payment_body(payment: Payment) -> dict[str, Any]:
    return dump_as(
        PaymentOut,
        {
            "merchant_order_id": payment.merchant_order_id,
            "state": payment.state,
            "amount": payment.amount,
            "currency": payment.currency,
            "refunded_amount": payment.refunded_amount,
            "refundable_amount": payment.refundable_amount,
            "reference": payment.reference,
            "payment_mode": or_none(payment.payment_mode),
            "transaction_id": or_none(payment.transaction_id),
            "gateway_order_id": or_none(payment.gateway_order_id),
            "expires_at": payment.expires_at,
            **instrument_fields(payment),
            "needs_review": payment.needs_review,
            "error_code": or_none(payment.error_code),
            "error_message": or_none(payment.error_message),
            "created_at": payment.created_at,
            "updated_at": payment.updated_at,
            "completed_at": payment.completed_at,
        },
    )


def instrument_fields(payment: Payment) -> dict[str, Any]:
    """What the customer pays with (custom checkout); links only while the order is open."""
    return {
        "checkout_url": payment.pay_url,
        "instrument": or_none(payment.instrument),
        "intent_url": payment.intent_url,
        "qr_data": payment.qr_data,
        "sdk_token": payment.sdk_token,
    }


def refund_body(refund: Refund) -> dict[str, Any]:
    return dump_as(
        RefundOut,
        {
            "merchant_refund_id": refund.merchant_refund_id,
            "merchant_order_id": refund.payment.merchant_order_id,
            "state": refund.state,
            "amount": refund.amount,
            "reason": refund.reason,
            "gateway_refund_id": or_none(refund.gateway_refund_id),
            "error_code": or_none(refund.error_code),
            "error_message": or_none(refund.error_message),
            "created_at": refund.created_at,
            "updated_at": refund.updated_at,
            "completed_at": refund.completed_at,
        },
    )


def gateway_verdict(exc: GatewayUnavailable) -> PaymentsError:
    """A definitive 4xx refusal of the request's content by PhonePe is the caller's error
    (422), not a bad gateway: retrying the same request cannot succeed. Credentials
    (401/403) and rate limits (429) stay 5xx: they are the service's problem."""
    cause = exc.__cause__
    if (
        exc.details.get("state") == "FAILED"  # UNKNOWN: an earlier attempt may have acted
        and isinstance(cause, GatewayError)
        and 400 <= cause.http_status < 500
        and cause.http_status not in (401, 403, 408, 429)
        and not isinstance(cause, DuplicateRequestError)
    ):
        return PaymentsError(
            exc.message, code="gateway_rejected", http_status=422, details=exc.details
        )
    return exc


def _scope(request: HttpRequest, route: str) -> str:
    """An Idempotency-Key's scope: the route and the caller (API key or user)."""
    return f"{route} {request.auth}"[:255]  # type: ignore[attr-defined]


def key_id_for(request: HttpRequest, route: str, key: str | None, prefix: str) -> str | None:
    """The merchant id a keyed request uses when it names none: derived from the key, so
    that a retry after any crash names the same order/refund at the gateway."""
    return None if key is None else derive_id(prefix, _scope(request, route), key)


def answer_once(
    request: HttpRequest,
    route: str,
    key: str | None,
    payload: Any,
    action: Any,
    finish: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None,
) -> HttpResponse:
    """Run ``action`` (-> Answer) once per Idempotency-Key; without a key, just run it.
    ``finish`` completes the (stored or replayed) body with what is never stored."""
    replayed = False
    if key is None:
        status, body = action()
    else:
        (status, body), replayed = run_once(
            scope=_scope(request, route),
            key=key,
            request_fingerprint=fingerprint(payload),
            action=action,
        )
    if finish is not None:
        body = finish(status, body)
    # Sorted keys: a replay comes from a JSON column (PostgreSQL's jsonb reorders keys)
    # and must be byte-identical to the first answer.
    response = JsonResponse(body, status=status, json_dumps_params=_SORTED)
    if status == 503:
        response["Retry-After"] = "1"
    if key is not None:
        response["Idempotent-Replayed"] = "true" if replayed else "false"
    return response


@payments.post(
    "/payments",
    response={201: PaymentCreatedOut, _ERRORS: ErrorOut},
    summary="Create a payment",
)
def create_payment(
    request: HttpRequest,
    payload: CreatePaymentIn,
    idempotency_key: IdempotencyKey = None,
) -> HttpResponse:
    route = "POST /payments"
    order_id = payload.merchant_order_id or key_id_for(request, route, idempotency_key, "MO")

    def action() -> Answer:
        common: dict[str, Any] = {
            "amount": payload.amount,
            "merchant_order_id": order_id,
            "reference": payload.reference,
            "redirect_url": payload.redirect_url,
            "metadata": payload.metadata,
            "resume": idempotency_key is not None,
        }
        chosen = payload.instrument
        try:
            if isinstance(chosen, SdkOrderIn):
                payment = services.create_sdk_order(
                    **common, custom_checkout=chosen.custom_checkout
                )
            else:
                instrument = None if chosen is None else _instrument(chosen)
                payment = services.create_payment(
                    **common, instrument=instrument, **_page_options(payload)
                )
        except GatewayUnavailable as exc:
            raise gateway_verdict(exc) from exc
        created.append(payment)
        body = dump_as(
            PaymentCreatedOut,
            {
                "merchant_order_id": payment.merchant_order_id,
                "state": payment.state,
                "amount": payment.amount,
                "expires_at": payment.expires_at,
                **instrument_fields(payment),
                **dict.fromkeys(_LINKS),  # never stored with the key: see with_links
            },
        )
        return 201, body

    def with_links(status: int, body: dict[str, Any]) -> dict[str, Any]:
        """The links as the ledger has them now: a replay while the order is open is the
        first answer byte for byte; once it closed or expired they are null, and the
        idempotency record never held them."""
        if status != 201:
            return body
        payment = created[0] if created else _stored_payment(body)
        if payment is None:
            return body
        links = instrument_fields(payment)
        return {**body, **{name: links[name] for name in _LINKS}}

    created: list[Payment] = []
    signed = payload.model_dump(mode="json")
    # Fields left at their defaults are not signed: a key stored before they existed keeps
    # its fingerprint (the hosted page with no options, as then).
    for name, default in _UNSIGNED_DEFAULTS.items():
        if signed[name] == default:
            del signed[name]
    return answer_once(request, route, idempotency_key, signed, action, with_links)


#: The fields of a created payment's answer that are read from the ledger every time.
_LINKS = ("checkout_url", "intent_url", "qr_data", "sdk_token")


#: create fields added after Idempotency-Keys were first stored, with their defaults
_UNSIGNED_DEFAULTS: dict[str, Any] = {
    "instrument": None,
    "payment_modes": None,
    "disable_payment_retry": False,
    "prefill_phone": None,
}


def _page_options(payload: CreatePaymentIn) -> dict[str, Any]:
    """The hosted page's options of a create request (the schema already holds them to
    what ``PaymentModes`` accepts: one non-empty list of known modes)."""
    modes = payload.payment_modes
    return {
        "payment_modes": None if modes is None else modes.to_modes(),
        "disable_payment_retry": payload.disable_payment_retry,
        "prefill_phone": payload.prefill_phone,
    }


def _stored_payment(body: dict[str, Any]) -> Payment | None:
    return Payment.objects.filter(merchant_order_id=body.get("merchant_order_id", "")).first()


def _instrument(
    chosen: UpiIntentIn | UpiCollectIn | UpiQrIn | NetBankingIn | CardIn | TokenIn,
) -> Instrument:
    """The core instrument of an ``instrument`` object; its checks' error as a 422."""
    try:
        return chosen.to_instrument()
    except ValidationError as exc:
        field = f"instrument.{exc.field}" if exc.field else "instrument"
        raise InvalidRequest(str(exc), details={"field": field}) from exc


class SyncQuery(BaseModel):
    sync: bool = False


def _get_payment(merchant_order_id: str) -> Payment:
    try:
        return Payment.objects.get(merchant_order_id=merchant_order_id)
    except Payment.DoesNotExist:
        raise NotFound(f"No payment with merchant_order_id {merchant_order_id!r}.") from None


@payments.get(
    "/payments/{merchant_order_id}",
    response={200: PaymentOut, _ERRORS: ErrorOut},
    summary="A payment (sync=true asks the gateway first)",
)
def get_payment(
    request: HttpRequest, merchant_order_id: str, query: Query[SyncQuery]
) -> HttpResponse:
    payment = _get_payment(merchant_order_id)
    if query.sync:
        payment = services.sync_payment(payment)
    return JsonResponse(payment_body(payment))


@payments.post(
    "/payments/{merchant_order_id}/refunds",
    response={201: RefundOut, _ERRORS: ErrorOut},
    summary="Refund (part of) a completed payment",
)
def create_refund(
    request: HttpRequest,
    merchant_order_id: str,
    payload: CreateRefundIn,
    idempotency_key: IdempotencyKey = None,
) -> HttpResponse:
    route = f"POST /payments/{merchant_order_id}/refunds"
    refund_id = payload.merchant_refund_id or key_id_for(request, route, idempotency_key, "MR")

    def action() -> Answer:
        try:
            refund = services.refund_payment(
                _get_payment(merchant_order_id),
                amount=payload.amount,
                merchant_refund_id=refund_id,
                reason=payload.reason,
                resume=idempotency_key is not None,
            )
        except GatewayUnavailable as exc:
            raise gateway_verdict(exc) from exc
        return 201, refund_body(refund)

    return answer_once(request, route, idempotency_key, payload.model_dump(mode="json"), action)


@payments.get(
    "/refunds/{merchant_refund_id}",
    response={200: RefundOut, _ERRORS: ErrorOut},
    summary="A refund (sync=true asks the gateway first)",
)
def get_refund(
    request: HttpRequest, merchant_refund_id: str, query: Query[SyncQuery]
) -> HttpResponse:
    try:
        refund = Refund.objects.select_related("payment").get(merchant_refund_id=merchant_refund_id)
    except Refund.DoesNotExist:
        raise NotFound(f"No refund with merchant_refund_id {merchant_refund_id!r}.") from None
    if query.sync:
        refund = services.sync_refund(refund)
    return JsonResponse(refund_body(refund))


# -- diagnostics ---------------------------------------------------------------------

ops = Router(tags=["operations"])


@ops.get(
    "/diagnostics", response={200: dict[str, Any], _ERRORS: ErrorOut}, summary="The doctor's report"
)
def diagnostics(request: HttpRequest) -> HttpResponse:
    from phonepe_gateway import ConfigurationError
    from phonepe_gateway.doctor import configuration_failure, run_diagnostics

    from .conf import get_settings

    try:
        report = run_diagnostics(get_settings())
    except ConfigurationError as exc:
        report = configuration_failure(exc)
    return JsonResponse(report.to_dict())


api.add_router("", payments)
api.add_router("", webhooks_router)
api.add_router("", ops)

# -- UPI AutoPay mandates (api_subscriptions.py imports the helpers above) ----------------
from .api_subscriptions import router as subscriptions_router  # noqa: E402

api.add_router("", subscriptions_router)
