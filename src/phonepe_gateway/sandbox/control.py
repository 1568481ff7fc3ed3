"""The sandbox-only control API under ``/_sandbox`` (JSON): orders, refunds, faults,
webhooks, clock, reset.

Every call passes :mod:`.guard` first (loopback ``Host``, no cross-site ``Origin``,
JSON bodies only); webhook URLs set here must be loopback unless the sandbox allows
remote targets.

This is how tests and demos drive the other side of the wire ("the customer paid",
"the network dropped the answer", "an hour passed"). Errors are
``{"error": {"code", "message"}}``. Secrets are never echoed (at most 4 characters).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._config import mask
from .failures import FAILURES, Failure, failure_for
from .faults import ACTIONS
from .guard import guarded, is_loopback_url
from .models import Order
from .responses import control_error, json_response
from .runtime import Sandbox
from .state import StateError
from .views import order_json, refund_json

__all__ = ["routes"]


class _BadInput(Exception):
    pass


def _sb(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise _BadInput("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _BadInput("body must be a JSON object")
    return data


def _order_view(sb: Sandbox, order: Order) -> dict[str, Any]:
    out = {
        "merchantId": order.merchant_id,
        "merchantOrderId": order.merchant_order_id,
        "metaInfo": dict(order.meta_info),
        **order_json(order, details=True),
    }
    refunds = [sb.state.get_refund(r) for r in order.refund_ids]
    out.update(
        {
            "generation": order.generation,
            "disablePaymentRetry": order.disable_payment_retry,
            "paymentModeConfig": dict(order.payment_mode_config),
            "prefillUserLoginDetails": (
                {"phoneNumber": order.prefill_phone} if order.prefill_phone else None
            ),
            "merchantRedirectUrl": order.redirect_url,
            "callbackUrl": order.callback_url,
            "checkoutPath": f"/transact/{order.order_id}",
            # custom checkout (None / {} for the hosted page): what the customer pays with
            "instrument": order.instrument,
            "instrumentDetails": dict(order.instrument_details),
            "intentUrl": order.intent_url,
            "refundedAmount": sb.state.refunded_amount(order),
            "refunds": [refund_json(r) for r in refunds if r is not None],
        }
    )
    return out


async def info(request: Request) -> Response:
    sb = _sb(request)
    cfg = sb.config
    return json_response(
        {
            "client_id": cfg.client_id,
            "client_secret": mask(cfg.client_secret),
            "client_version": cfg.client_version,
            "merchant_id": cfg.merchant_id,
            "salt_key": mask(cfg.salt_key),
            "salt_index": cfg.salt_index,
            "merchants": sorted(cfg.merchants()),
            "token_ttl": cfg.token_ttl,
            "clock_speed": cfg.clock_speed,
            "now": sb.clock.now_ms(),
            "refund_settlement_delay": cfg.refund_settlement_delay,
            "lenient_hosts": cfg.lenient_hosts,
            "allow_remote_webhooks": cfg.allow_remote_webhooks,
            "webhooks": sb.webhooks.settings.public(),
        }
    )


async def list_orders(request: Request) -> Response:
    sb = _sb(request)
    with sb.state.lock:
        ids = list(sb.state.orders)
    orders = [sb.state.get_order(i) for i in ids]
    return json_response({"orders": [_order_view(sb, o) for o in orders if o is not None]})


async def get_order(request: Request) -> Response:
    sb = _sb(request)
    order = sb.state.get_order(request.path_params["moid"])
    if order is None:
        return control_error(404, "ORDER_NOT_FOUND", "No such order.")
    return json_response(_order_view(sb, order))


async def finish_order(request: Request) -> Response:
    """``attempt`` (the customer started paying: a PENDING attempt), ``complete`` (the
    customer paid), ``decline`` (the attempt failed; the order stays PENDING unless
    retries are disabled) or ``fail`` (the order ends FAILED now)."""
    sb = _sb(request)
    moid, action = request.path_params["moid"], request.path_params["action"]
    if action not in ("attempt", "complete", "decline", "fail"):
        return control_error(404, "NOT_FOUND", "Use /attempt, /complete, /decline or /fail.")
    try:
        body = await _body(request)
        mode = str(body.get("paymentMode") or "UPI_QR")
        if action == "attempt":
            order = sb.state.start_attempt(moid, payment_mode=mode)
        elif action == "complete":
            order = sb.state.complete_order(moid, payment_mode=mode)
        else:
            failure = _failure(body)
            if action == "decline":
                order = sb.state.decline_attempt(moid, failure=failure, payment_mode=mode)
            else:
                order = sb.state.fail_order(moid, failure=failure, payment_mode=mode)
    except _BadInput as exc:
        return control_error(400, "BAD_REQUEST", str(exc))
    except StateError as exc:
        return control_error(exc.http_status, exc.code, exc.message)
    return json_response(_order_view(sb, order))


def _failure(body: dict[str, Any]) -> Failure:
    name = body.get("reason") or body.get("errorCode")
    detailed = body.get("detailedErrorCode")
    if not isinstance(name, str | None) or not isinstance(detailed, str | None):
        raise _BadInput("reason, errorCode and detailedErrorCode must be strings")
    failure = failure_for(name, detailed)
    if failure is None:
        raise _BadInput(
            f"unknown failure {name!r}: use one of {', '.join(FAILURES)} (or an errorCode "
            "with its own, different detailedErrorCode)"
        )
    return failure


async def list_refunds(request: Request) -> Response:
    sb = _sb(request)
    with sb.state.lock:
        ids = list(sb.state.refunds)
    refunds = [sb.state.get_refund(i) for i in ids]
    return json_response({"refunds": [refund_json(r) for r in refunds if r is not None]})


async def get_refund(request: Request) -> Response:
    found = _sb(request).state.get_refund(request.path_params["mrid"])
    if found is None:
        return control_error(404, "REFUND_NOT_FOUND", "No such refund.")
    return json_response(refund_json(found))


async def finish_refund(request: Request) -> Response:
    sb = _sb(request)
    if request.path_params["action"] not in ("complete", "fail"):
        return control_error(404, "NOT_FOUND", "Use /complete or /fail.")
    try:
        body = await _body(request)
        failing = request.path_params["action"] == "fail"
        # PhonePe's webhook page shows refunds failing as AUTHORIZATION_ERROR / ZM.
        given = body.get("errorCode")
        code = str(given or "AUTHORIZATION_ERROR") if failing else None
        detailed = body.get("detailedErrorCode") or (None if given or not failing else "ZM")
        if detailed is not None and (not isinstance(detailed, str) or detailed == code):
            raise _BadInput("detailedErrorCode must be a string other than errorCode")
        done = sb.state.finish_refund(
            request.path_params["mrid"],
            state="FAILED" if failing else "COMPLETED",
            error_code=code,
            detailed_error_code=detailed,
        )
    except _BadInput as exc:
        return control_error(400, "BAD_REQUEST", str(exc))
    except StateError as exc:
        return control_error(exc.http_status, exc.code, exc.message)
    return json_response(refund_json(done))


def _fault_fields(body: dict[str, Any]) -> dict[str, Any]:
    action = body.get("action")
    if action not in ACTIONS:
        raise _BadInput(f"action must be one of {', '.join(sorted(ACTIONS))}")
    fields: dict[str, Any] = {
        "action": action,
        "path": str(body.get("path") or "*"),
        "method": str(body.get("method") or "*"),
    }
    status = body.get("status")
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise _BadInput("status must be an HTTP status code")
    fields["status"] = status
    for name in ("delay_ms", "times"):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise _BadInput(f"{name} must be a non-negative integer")
    fields["delay_ms"] = body.get("delay_ms") or 0
    fields["times"] = body.get("times")
    probability = body.get("probability", 1.0)
    if not isinstance(probability, int | float) or not 0 <= probability <= 1:
        raise _BadInput("probability must be between 0 and 1")
    fields["probability"] = float(probability)
    retry_after = body.get("retry_after")
    if retry_after is not None and (not isinstance(retry_after, int | float) or retry_after < 0):
        raise _BadInput("retry_after must be a non-negative number of seconds")
    fields["retry_after"] = retry_after
    return fields


async def faults(request: Request) -> Response:
    sb = _sb(request)
    if request.method == "DELETE":
        sb.faults.clear()
        return json_response({"faults": []})
    if request.method == "POST":
        try:
            rule = sb.faults.add(**_fault_fields(await _body(request)))
        except _BadInput as exc:
            return control_error(400, "BAD_REQUEST", str(exc))
        return json_response(rule.public(), 201)
    return json_response({"faults": sb.faults.public()})


async def webhooks(request: Request) -> Response:
    return json_response({"deliveries": _sb(request).webhooks.public()})


async def redeliver(request: Request) -> Response:
    delivery = _sb(request).webhooks.redeliver(request.path_params["wid"])
    if delivery is None:
        return control_error(404, "DELIVERY_NOT_FOUND", "No such webhook delivery.")
    return json_response(delivery.public(), 201)


_WEBHOOK_TYPES: dict[str, tuple[type, ...]] = {
    "url": (str, type(None)),
    "username": (str,),
    "password": (str,),
    "duplicates": (int,),
    "delay_ms": (int,),
    "shuffle": (bool,),
    "drop": (bool,),
}


async def webhook_config(request: Request) -> Response:
    sb = _sb(request)
    if request.method == "PUT":
        try:
            body = await _body(request)
            changes = {}
            for key, value in body.items():
                kinds = _WEBHOOK_TYPES.get(key)
                if (
                    kinds is None
                    or not isinstance(value, kinds)
                    or (isinstance(value, int) and not isinstance(value, bool) and value < 0)
                ):
                    raise _BadInput(f"invalid webhook setting {key!r}")
                if isinstance(value, str) and key == "url" and not _webhook_target_ok(sb, value):
                    raise _BadInput(
                        "webhook url must be http(s) on a loopback host (127.0.0.1, ::1, "
                        "localhost); start the sandbox with --allow-remote-webhooks for others"
                    )
                changes[key] = value
        except _BadInput as exc:
            return control_error(400, "BAD_REQUEST", str(exc))
        sb.webhooks.configure(**changes)
    return json_response(sb.webhooks.settings.public())


def _webhook_target_ok(sb: Sandbox, url: str) -> bool:
    if sb.config.allow_remote_webhooks:
        return urlsplit(url).scheme in ("http", "https")
    return is_loopback_url(url)


async def clock(request: Request) -> Response:
    sb = _sb(request)
    if request.method == "POST":
        try:
            seconds = (await _body(request)).get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise _BadInput("seconds must be a non-negative number")
        except _BadInput as exc:
            return control_error(400, "BAD_REQUEST", str(exc))
        sb.clock.advance(float(seconds))
        sb.state.run_due()  # expiries and settlements are visible when this answer arrives
    return json_response({"now": sb.clock.now_ms(), "speed": sb.clock.speed})


async def reset(request: Request) -> Response:
    _sb(request).reset()
    return json_response({"reset": True})


routes = [
    Route(path, guarded(endpoint), methods=methods)
    for path, endpoint, methods in (
        ("/_sandbox", info, ["GET"]),
        ("/_sandbox/orders", list_orders, ["GET"]),
        ("/_sandbox/orders/{moid}", get_order, ["GET"]),
        ("/_sandbox/orders/{moid}/{action:str}", finish_order, ["POST"]),
        ("/_sandbox/refunds", list_refunds, ["GET"]),
        ("/_sandbox/refunds/{mrid}", get_refund, ["GET"]),
        ("/_sandbox/refunds/{mrid}/{action:str}", finish_refund, ["POST"]),
        ("/_sandbox/faults", faults, ["GET", "POST", "DELETE"]),
        ("/_sandbox/webhooks", webhooks, ["GET"]),
        ("/_sandbox/webhooks/config", webhook_config, ["GET", "PUT"]),
        ("/_sandbox/webhooks/{wid}/redeliver", redeliver, ["POST"]),
        ("/_sandbox/clock", clock, ["GET"]),
        ("/_sandbox/clock/advance", clock, ["POST"]),
        ("/_sandbox/reset", reset, ["POST"]),
    )
]
