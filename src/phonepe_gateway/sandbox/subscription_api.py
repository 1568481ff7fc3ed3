"""PhonePe's UPI AutoPay endpoints (``/subscriptions/v2/…``), as the official SDK's
``SubscriptionClient`` calls them: set-up, notify, redeem, subscription status, cancel,
and order and transaction status of set-up and redemption orders.

Requests are checked on PhonePe's lenient side (see ``validation``) and answered in
PhonePe's shapes; the rules themselves live in :mod:`.subscriptions`. Refunds of a
redemption use the ordinary ``/payments/v2/refund``. Never imports the client.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import validation as check
from .gen2 import flag, json_body, sandbox_of, unauthorized
from .responses import api_error, json_response
from .state import StateError

__all__ = ["routes"]


def _refused(exc: StateError) -> Response:
    # PhonePe answers a refused write with 400 (404 only for an unknown id).
    return api_error(404 if exc.http_status == 404 else 400, exc.code, exc.message)


def _epoch_ms(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise StateError("BAD_REQUEST", f"{field} must be an epoch time in milliseconds.")
    return value / 1000


def _order_expiry(body: dict[str, Any], now: float) -> float | None:
    """``expireAt`` (epoch ms, what the SDK sends) or ``expireAfter`` (seconds)."""
    at = _epoch_ms(body.get("expireAt"), "expireAt")
    after = body.get("expireAfter")
    if after is not None:
        if isinstance(after, bool) or not isinstance(after, int) or after <= 0:
            raise StateError("BAD_REQUEST", "expireAfter must be a positive number of seconds.")
        return now + after
    return at


def _flow_of(body: dict[str, Any], kind: str) -> dict[str, Any]:
    flow = body.get("paymentFlow")
    if not isinstance(flow, dict) or flow.get("type") != kind:
        raise StateError("BAD_REQUEST", f"paymentFlow.type must be {kind}.")
    return flow


def _instrument(flow: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(mode, payer VPA for collect, target app for intent)."""
    mode = flow.get("paymentMode")
    if not isinstance(mode, dict) or not isinstance(mode.get("type"), str):
        raise StateError("BAD_REQUEST", "paymentFlow.paymentMode.type is required.")
    if mode["type"] == "UPI_INTENT":
        return "UPI_INTENT", None, check.text(mode.get("targetApp"), "targetApp", max_len=128)
    if mode["type"] == "UPI_COLLECT":
        details = mode.get("details")
        if not isinstance(details, dict):
            raise StateError("BAD_REQUEST", "paymentFlow.paymentMode.details is required.")
        vpa = details.get("vpa") or details.get("phoneNumber")
        if not isinstance(vpa, str) or not vpa:
            raise StateError(
                "BAD_REQUEST", "paymentFlow.paymentMode.details needs a vpa or phoneNumber."
            )
        return "UPI_COLLECT", vpa, None
    raise StateError(
        "BAD_REQUEST", "paymentFlow.paymentMode.type must be UPI_INTENT or UPI_COLLECT."
    )


async def setup(request: Request) -> Response:
    denied = unauthorized(request)
    if denied:
        return denied
    sb = sandbox_of(request)
    try:
        body = await json_body(request)
        flow = _flow_of(body, "SUBSCRIPTION_SETUP")
        mode, vpa, target_app = _instrument(flow)
        order, mandate = sb.subscriptions.setup(
            merchant_order_id=check.order_id(body.get("merchantOrderId"), "merchantOrderId", 63),
            merchant_subscription_id=check.order_id(
                flow.get("merchantSubscriptionId"), "paymentFlow.merchantSubscriptionId", 63
            ),
            amount=check.amount(body.get("amount")),
            max_amount=check.amount(flow.get("maxAmount"), "paymentFlow.maxAmount"),
            auth_workflow=str(flow.get("authWorkflowType")),
            amount_type=str(flow.get("amountType")),
            frequency=str(flow.get("frequency")),
            instrument=mode,
            order_expire_at=_order_expiry(body, sb.clock.now()),
            subscription_expire_at=_epoch_ms(flow.get("expireAt"), "paymentFlow.expireAt"),
            payer_vpa=vpa,
            target_app=target_app,
            meta_info=check.meta_info(body.get("metaInfo")),
        )
    except StateError as exc:
        return _refused(exc)
    out: dict[str, Any] = {
        "orderId": order.order_id,
        "state": order.state,
        "expireAt": int(order.expire_at * 1000),
    }
    if mode == "UPI_INTENT":
        out["intentUrl"] = sb.subscriptions.mandate_link(mandate)
    return json_response(out)


async def notify(request: Request) -> Response:
    denied = unauthorized(request)
    if denied:
        return denied
    sb = sandbox_of(request)
    try:
        body = await json_body(request)
        flow = _flow_of(body, "SUBSCRIPTION_REDEMPTION")
        order = sb.subscriptions.notify(
            merchant_order_id=check.order_id(body.get("merchantOrderId"), "merchantOrderId", 63),
            merchant_subscription_id=check.order_id(
                flow.get("merchantSubscriptionId"), "paymentFlow.merchantSubscriptionId", 63
            ),
            amount=check.amount(body.get("amount")),
            retry_strategy=str(flow.get("redemptionRetryStrategy") or "STANDARD"),
            auto_debit=flag(flow.get("autoDebit"), "paymentFlow.autoDebit"),
            expire_at=_order_expiry(body, sb.clock.now()),
            meta_info=check.meta_info(body.get("metaInfo")),
        )
    except StateError as exc:
        return _refused(exc)
    return json_response(
        {"orderId": order.order_id, "state": order.state, "expireAt": int(order.expire_at * 1000)}
    )


async def redeem(request: Request) -> Response:
    denied = unauthorized(request)
    if denied:
        return denied
    sb = sandbox_of(request)
    try:
        body = await json_body(request)
        moid = check.order_id(body.get("merchantOrderId"), "merchantOrderId", 63)
        order, attempt = sb.subscriptions.redeem(moid)
    except StateError as exc:
        return _refused(exc)
    return json_response({"transactionId": attempt.transaction_id, "state": order.state})


async def subscription_status(request: Request) -> Response:
    denied = unauthorized(request)
    if denied:
        return denied
    sb = sandbox_of(request)
    mandate = sb.subscriptions.get(request.path_params["merchant_subscription_id"])
    if mandate is None:
        return json_response(
            {
                "code": "INVALID_MERCHANT_SUBSCRIPTION_ID",
                "message": "No entry found for given merchant subscription id",
            },
            404,
        )
    return json_response(sb.subscriptions.subscription_json(mandate))


async def cancel(request: Request) -> Response:
    denied = unauthorized(request)
    if denied:
        return denied
    try:
        sandbox_of(request).subscriptions.cancel(request.path_params["merchant_subscription_id"])
    except StateError as exc:
        return _refused(exc)
    return Response(status_code=204)


async def order_status(request: Request) -> Response:
    denied = unauthorized(request)
    if denied:
        return denied
    subs = sandbox_of(request).subscriptions
    order = subs.order(request.path_params["merchant_order_id"])
    if order is None:
        return json_response(
            {
                "code": "INVALID_MERCHANT_ORDER_ID",
                "message": "No entry found for given merchant order id",
            },
            404,
        )
    details = request.query_params.get("details", "false").lower() == "true"
    return json_response(subs.order_status_json(order, details=details))


async def transaction_status(request: Request) -> Response:
    denied = unauthorized(request)
    if denied:
        return denied
    subs = sandbox_of(request).subscriptions
    txn = request.path_params["transaction_id"]
    order = subs.order_by_transaction(txn)
    if order is None:
        return api_error(404, "TRANSACTION_NOT_FOUND", f"No transaction {txn}.")
    chosen = [a for a in order.attempts if a.transaction_id == txn]
    return json_response(subs.order_status_json(order, attempts=chosen))


routes = [
    Route("/subscriptions/v2/setup", setup, methods=["POST"]),
    Route("/subscriptions/v2/notify", notify, methods=["POST"]),
    Route("/subscriptions/v2/redeem", redeem, methods=["POST"]),
    Route("/subscriptions/v2/order/{merchant_order_id}/status", order_status, methods=["GET"]),
    Route(
        "/subscriptions/v2/transaction/{transaction_id}/status",
        transaction_status,
        methods=["GET"],
    ),
    Route(
        "/subscriptions/v2/{merchant_subscription_id}/status",
        subscription_status,
        methods=["GET"],
    ),
    Route("/subscriptions/v2/{merchant_subscription_id}/cancel", cancel, methods=["POST"]),
]
