"""Generation 2 (Standard Checkout, OAuth) endpoints.

Routes are relative to a prefix: the token call (``token_routes``, production host
``/apis/identity-manager``) and pay, SDK order, order and transaction status, refund and
refund status (``api_routes``, production host ``/apis/pg``); UAT serves both. Every error has PhonePe's shape.
This module never imports the project's client: it is the other side of the wire.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import validation as check
from .responses import api_error, json_response, oauth_error
from .runtime import Sandbox
from .state import StateError
from .views import order_json, refund_json

__all__ = [
    "api_routes",
    "flag",
    "json_body",
    "routes",
    "sandbox_of",
    "token_routes",
    "unauthorized",
]


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def token(request: Request) -> Response:
    sb = _sandbox(request)
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return api_error(
            400, "BAD_REQUEST", "Content-Type must be application/x-www-form-urlencoded."
        )
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    # PhonePe names the first blank field: "form field grant_type must not be blank."
    missing = [
        f for f in ("grant_type", "client_id", "client_secret", "client_version") if not form.get(f)
    ]
    if missing:
        return api_error(400, "BAD_REQUEST", f"form field {missing[0]} must not be blank.")
    if form["grant_type"] != "client_credentials":
        return api_error(400, "BAD_REQUEST", "form field grant_type must be client_credentials.")
    cfg = sb.config
    if not (
        hmac.compare_digest(form["client_id"], cfg.client_id)
        and hmac.compare_digest(form["client_secret"], cfg.client_secret)
        and form["client_version"] == str(cfg.client_version)
    ):
        return oauth_error(
            400,
            "INVALID_CLIENT",
            "OIM000",
            "Bad Request: Invalid Client",
            {"error_description": "Client authentication failure"},
        )
    access, issued, expires = sb.state.issue_token(cfg.token_ttl, cfg.merchant_id)
    refresh = sb.state.random_uuid()
    return json_response(
        {
            "access_token": access,
            "encrypted_access_token": access,
            "refresh_token": refresh,
            "expires_in": int(cfg.token_ttl),
            "issued_at": int(issued),
            "expires_at": int(expires),
            "session_expires_at": int(expires),
            "token_type": "O-Bearer",
        }
    )


def _unauthorized(request: Request) -> Response | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme != "O-Bearer" or not value.strip():
        return api_error(
            401, "AUTHORIZATION_FAILED", "Authorization header must be 'O-Bearer <access_token>'."
        )
    if not _sandbox(request).state.token_valid(value.strip()):
        return api_error(
            401, "AUTHORIZATION_FAILED", "The access token is invalid or expired; fetch a new one."
        )
    return None


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise StateError("BAD_REQUEST", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise StateError("BAD_REQUEST", "The request body must be a JSON object.")
    return body


def _flow(body: dict[str, Any], sdk: bool) -> tuple[str, str | None, str | None]:
    flow = body.get("paymentFlow")
    if not isinstance(flow, dict) or not isinstance(flow.get("type"), str):
        raise StateError("BAD_REQUEST", "paymentFlow.type is required (PG_CHECKOUT).")
    if flow["type"] not in ({"SDK", "PG_CHECKOUT"} if sdk else {"PG_CHECKOUT"}):
        raise StateError("BAD_REQUEST", f"paymentFlow.type {flow['type']!r} is not supported.")
    urls = flow.get("merchantUrls") or {}
    redirect = check.text(
        urls.get("redirectUrl") if isinstance(urls, dict) else None,
        "paymentFlow.merchantUrls.redirectUrl",
    )
    message = check.text(flow.get("message"), "paymentFlow.message", max_len=256)
    return flow["type"], redirect, message


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise StateError("BAD_REQUEST", f"{field} must be true or false.")
    return value


async def _create(request: Request, *, sdk: bool) -> Response:
    denied = _unauthorized(request)
    if denied:
        return denied
    sb = _sandbox(request)
    try:
        body = await _json_body(request)
        flow, redirect, message = _flow(body, sdk)
        order = sb.state.create_order(
            merchant_order_id=check.order_id(body.get("merchantOrderId"), "merchantOrderId", 63),
            generation=2,
            merchant_id=sb.config.merchant_id,
            amount=check.amount(body.get("amount")),
            expire_after=check.expire_after(body.get("expireAfter")),
            meta_info=check.meta_info(body.get("metaInfo")),
            redirect_url=redirect,
            payment_flow=flow,
            message=message,
            sdk_token=sb.state.random_digits(24) if sdk else None,
            disable_payment_retry=_flag(body.get("disablePaymentRetry"), "disablePaymentRetry"),
            payment_mode_config=check.page_modes(body["paymentFlow"].get("paymentModeConfig")),
            prefill_phone=check.prefill_phone(body.get("prefillUserLoginDetails")),
        )
    except StateError as exc:
        return api_error(exc.http_status, exc.code, exc.message)
    out: dict[str, Any] = {
        "orderId": order.order_id,
        "state": order.state,
        "expireAt": int(order.expire_at * 1000),
    }
    if sdk:
        out["token"] = order.sdk_token
    else:
        out["redirectUrl"] = sb.checkout_url(request, order)
    return json_response(out)


async def pay(request: Request) -> Response:
    return await _create(request, sdk=False)


async def sdk_order(request: Request) -> Response:
    return await _create(request, sdk=True)


async def order_status(request: Request) -> Response:
    denied = _unauthorized(request)
    if denied:
        return denied
    moid = request.path_params["merchant_order_id"]
    order = _sandbox(request).state.get_order(moid)
    if order is None:
        # PhonePe's own page shows this body for an unknown id (its HTTP status is not
        # published; the sandbox answers 404).
        return json_response(
            {
                "code": "INVALID_MERCHANT_ORDER_ID",
                "message": "No entry found for given merchant order id",
            },
            404,
        )
    query = request.query_params
    return json_response(
        order_json(
            order,
            details=query.get("details", "false").lower() == "true",
            error_context=query.get("errorContext", "false").lower() == "true",
        )
    )


async def transaction_status(request: Request) -> Response:
    denied = _unauthorized(request)
    if denied:
        return denied
    txn = request.path_params["transaction_id"]
    order = _sandbox(request).state.order_by_transaction(txn)
    if order is None:
        return api_error(404, "TRANSACTION_NOT_FOUND", f"No transaction {txn}.")
    chosen = [a for a in order.attempts if a.transaction_id == txn]
    errors = request.query_params.get("errorContext", "false").lower() == "true"
    return json_response(order_json(order, attempts=chosen, error_context=errors))


async def refund(request: Request) -> Response:
    denied = _unauthorized(request)
    if denied:
        return denied
    sb = _sandbox(request)
    try:
        body = await _json_body(request)
        created = sb.state.create_refund(
            merchant_refund_id=check.order_id(body.get("merchantRefundId"), "merchantRefundId", 63),
            original_merchant_order_id=check.order_id(
                body.get("originalMerchantOrderId"), "originalMerchantOrderId", 63
            ),
            amount=check.amount(body.get("amount"), minimum=1),
            generation=2,
            merchant_id=sb.config.merchant_id,
        )
    except StateError as exc:
        return api_error(exc.http_status, exc.code, exc.message)
    return json_response(
        {"refundId": created.refund_id, "amount": created.amount, "state": created.state}
    )


async def refund_status(request: Request) -> Response:
    denied = _unauthorized(request)
    if denied:
        return denied
    mrid = request.path_params["merchant_refund_id"]
    found = _sandbox(request).state.get_refund(mrid)
    if found is None:
        return api_error(404, "REFUND_NOT_FOUND", f"No refund found for merchantRefundId {mrid}.")
    return json_response(refund_json(found))


# The checks every generation 2 route module shares (custom checkout in ``custom``,
# AutoPay in ``subscription_api``).
unauthorized = _unauthorized
json_body = _json_body
sandbox_of = _sandbox
flag = _flag

token_routes = [Route("/v1/oauth/token", token, methods=["POST"])]
api_routes = [
    Route("/checkout/v2/pay", pay, methods=["POST"]),
    Route("/checkout/v2/sdk/order", sdk_order, methods=["POST"]),
    Route("/checkout/v2/order/{merchant_order_id}/status", order_status, methods=["GET"]),
    Route("/checkout/v2/transaction/{transaction_id}/status", transaction_status, methods=["GET"]),
    Route("/payments/v2/refund", refund, methods=["POST"]),
    Route("/payments/v2/refund/{merchant_refund_id}/status", refund_status, methods=["GET"]),
]
routes = [*token_routes, *api_routes]
