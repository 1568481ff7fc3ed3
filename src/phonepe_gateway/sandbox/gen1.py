"""Generation 1 (Pay Page, salt key + X-VERIFY) endpoints: pay, status, refund.

Checksums are verified exactly: ``sha256hex(base64Body + apiPath + saltKey) + "###" +
saltIndex`` for POSTs and ``sha256hex(apiPath + saltKey) + "###" + saltIndex`` for
status, with the API path relative to the prefix. Orders and refunds share the
sandbox state with generation 2 (one namespace of merchant transaction ids).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import validation as check
from .responses import api_error, json_response
from .runtime import Sandbox
from .state import StateError
from .views import gen1_order_json, gen1_refund_json

__all__ = ["checksum", "routes"]


def checksum(payload: str, salt_key: str, salt_index: int) -> str:
    return hashlib.sha256((payload + salt_key).encode()).hexdigest() + f"###{salt_index}"


def _sb(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _verify(sb: Sandbox, merchant_id: str, signed: str, header: str | None) -> None:
    known = sb.config.merchants().get(merchant_id)
    if known is None:
        raise StateError("KEY_NOT_CONFIGURED", "Key not found for the merchant.", 401)
    if not header or not hmac.compare_digest(header.strip(), checksum(signed, *known)):
        raise StateError(
            "AUTHORIZATION_FAILED",
            "X-VERIFY header is missing or incorrect for this merchant.",
            401,
        )


async def _signed_request(request: Request, api_path: str) -> tuple[Sandbox, dict[str, Any]]:
    sb = _sb(request)
    try:
        encoded = json.loads(await request.body())["request"]
        payload = json.loads(base64.b64decode(encoded, validate=True))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise StateError("BAD_REQUEST", 'The body must be {"request": base64(JSON)}.') from None
    if not isinstance(payload, dict) or not isinstance(payload.get("merchantId"), str):
        raise StateError("BAD_REQUEST", "merchantId is required.")
    _verify(sb, payload["merchantId"], encoded + api_path, request.headers.get("x-verify"))
    return sb, payload


def _instrument(payload: dict[str, Any]) -> None:
    instrument = payload.get("paymentInstrument")
    if not isinstance(instrument, dict) or instrument.get("type") != "PAY_PAGE":
        raise StateError("BAD_REQUEST", 'paymentInstrument must be {"type": "PAY_PAGE"}.')


async def pay(request: Request) -> Response:
    try:
        sb, payload = await _signed_request(request, "/pg/v1/pay")
        _instrument(payload)
        mode = payload.get("redirectMode") or "REDIRECT"
        if mode not in ("REDIRECT", "POST"):
            raise StateError("BAD_REQUEST", "redirectMode must be REDIRECT or POST.")
        order = sb.state.create_order(
            merchant_order_id=check.order_id(
                payload.get("merchantTransactionId"), "merchantTransactionId", 38
            ),
            generation=1,
            merchant_id=payload["merchantId"],
            amount=check.amount(payload.get("amount")),
            expire_after=1200,
            redirect_url=check.text(payload.get("redirectUrl"), "redirectUrl", required=True),
            redirect_mode=mode,
            callback_url=check.text(payload.get("callbackUrl"), "callbackUrl"),
            merchant_user_id=check.text(
                payload.get("merchantUserId"), "merchantUserId", max_len=36
            ),
        )
    except StateError as exc:
        return api_error(exc.http_status, exc.code, exc.message)
    return json_response(
        {
            "success": True,
            "code": "PAYMENT_INITIATED",
            "message": "Payment initiated",
            "data": {
                "merchantId": order.merchant_id,
                "merchantTransactionId": order.merchant_order_id,
                "instrumentResponse": {
                    "type": "PAY_PAGE",
                    "redirectInfo": {"url": sb.checkout_url(request, order), "method": "GET"},
                },
            },
        }
    )


async def status(request: Request) -> Response:
    sb = _sb(request)
    mid, tid = request.path_params["merchant_id"], request.path_params["transaction_id"]
    try:
        _verify(sb, mid, f"/pg/v1/status/{mid}/{tid}", request.headers.get("x-verify"))
        if request.headers.get("x-merchant-id") != mid:
            raise StateError("BAD_REQUEST", "X-MERCHANT-ID header must be the merchant id.")
    except StateError as exc:
        return api_error(exc.http_status, exc.code, exc.message)
    order = sb.state.get_order(tid)
    if order is not None and order.merchant_id == mid:
        return json_response(gen1_order_json(order))
    refund = sb.state.get_refund(tid)
    if refund is not None and refund.merchant_id == mid:
        return json_response(gen1_refund_json(refund))
    return api_error(404, "TRANSACTION_NOT_FOUND", f"No transaction {tid} for merchant {mid}.")


async def refund(request: Request) -> Response:
    try:
        sb, payload = await _signed_request(request, "/pg/v1/refund")
        created = sb.state.create_refund(
            merchant_refund_id=check.order_id(
                payload.get("merchantTransactionId"), "merchantTransactionId", 38
            ),
            original_merchant_order_id=check.order_id(
                payload.get("originalTransactionId"), "originalTransactionId", 38
            ),
            amount=check.amount(payload.get("amount"), minimum=1),
            generation=1,
            merchant_id=payload["merchantId"],
            callback_url=check.text(payload.get("callbackUrl"), "callbackUrl"),
        )
    except StateError as exc:
        return api_error(exc.http_status, exc.code, exc.message)
    # An accepted refund is a successful call even though the refund itself is pending.
    return json_response(
        {
            **gen1_refund_json(created),
            "success": True,
            "message": "Your request is in pending state.",
        }
    )


routes = [
    Route("/pg/v1/pay", pay, methods=["POST"]),
    Route("/pg/v1/status/{merchant_id}/{transaction_id}", status, methods=["GET"]),
    Route("/pg/v1/refund", refund, methods=["POST"]),
]
