"""Custom checkout's routes on the tests' in-process gateway (``httpx.MockTransport``).

:class:`CustomGateway` is :class:`~tests.core.fakes.FakeGateway` (the same token, fault
queue and order book) plus ``/payments/v2/pay``, the two SDK-order paths and the
transaction-status paths, answering in the shapes PhonePe's custom-checkout pages show.
The real simulator of these calls is the sandbox; this one lets a unit test see the
exact request and place a fault at one attempt.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from .fakes import EXPIRE_AT_MS, FakeGateway, _error

__all__ = ["CustomGateway", "upi_link"]


def upi_link(order_id: str, amount: int) -> str:
    """A ``upi://pay`` string in the format NPCI's UPI linking specification gives."""
    rupees = f"{amount / 100:.2f}"
    return f"upi://pay?pa=merchant@ybl&pn={quote('Test Merchant')}&am={rupees}&tr={order_id}&cu=INR"


class CustomGateway(FakeGateway):
    """FakeGateway plus ``/payments/v2/pay``, the two SDK-order paths and the
    transaction-status paths, answering as PhonePe's custom-checkout pages show."""

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        header = request.headers.get("authorization", "")
        authorized = header.startswith("O-Bearer ") and header[9:] in self.tokens
        if path.endswith(("/payments/v2/pay", "/sdk/order")):
            if not authorized:
                return _error(401, "UNAUTHORIZED")
            return self._create(json.loads(request.content), sdk=path.endswith("/sdk/order"))
        if "/transaction/" in path:
            if not authorized:
                return _error(401, "UNAUTHORIZED")
            ident = path.removesuffix("/status").rsplit("/", 1)[1]
            for order in self.orders.values():
                for attempt in order.get("paymentDetails", []):
                    if attempt.get("transactionId") == ident:
                        body = {k: v for k, v in order.items() if k != "merchantOrderId"}
                        return httpx.Response(200, json={**body, "paymentDetails": [attempt]})
            return _error(404, "NOT_FOUND")
        return super()._route(request)

    def _create(self, body: dict[str, Any], *, sdk: bool) -> httpx.Response:
        mid = body["merchantOrderId"]
        if mid in self.orders:
            return _error(400, "BAD_REQUEST")
        order_id = "OMO" + mid
        self.orders[mid] = {
            "merchantOrderId": mid,
            "orderId": order_id,
            "state": "PENDING",
            "amount": body["amount"],
            "expireAt": EXPIRE_AT_MS,
            "paymentDetails": [],
        }
        answer: dict[str, Any] = {"orderId": order_id, "state": "PENDING", "expireAt": EXPIRE_AT_MS}
        if sdk:
            return httpx.Response(200, json={**answer, "token": "sdk-token-" + mid})
        mode = body["paymentFlow"]["paymentMode"]["type"]
        if mode == "UPI_INTENT":
            answer["intentUrl"] = upi_link(order_id, body["amount"])
        elif mode == "UPI_QR":
            answer["qrData"] = upi_link(order_id, body["amount"])
        elif mode in ("NET_BANKING", "CARD", "TOKEN"):
            answer["redirectUrl"] = f"http://127.0.0.1:8300/bank/{order_id}"
        return httpx.Response(200, json=answer)

    def attempt(self, merchant_order_id: str, transaction_id: str, mode: str) -> None:
        order = self.orders[merchant_order_id]
        order["paymentDetails"] = [
            {
                "transactionId": transaction_id,
                "paymentMode": mode,
                "timestamp": 1_750_000_000_123,
                "amount": order["amount"],
                "state": "PENDING",
            }
        ]
