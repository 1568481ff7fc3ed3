"""An in-memory PhonePe (both generations) for ``httpx.MockTransport`` tests.

Deliberately small: it answers the calls the client makes, records every request,
and lets a test queue faults (``gw.queue(path_fragment, response_or_exception)``).
The full simulator is ``phonepe_gateway.sandbox``; this is the unit-test double.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

CLIENT_ID = "PGSANDBOXCLIENT"
CLIENT_SECRET = "sandbox-client-secret"
MERCHANT_ID = "PGSANDBOXMERCHANT"
SALT_KEY = "sandbox-salt-key"

Fault = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


def v1_checksum(payload: str, salt: str = SALT_KEY, index: int = 1) -> str:
    return hashlib.sha256((payload + salt).encode()).hexdigest() + f"###{index}"


@dataclass
class FakeGateway:
    now: Callable[[], float] = lambda: 1_750_000_000.0
    token_ttl: float = 3600.0
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    faults: list[tuple[str, Fault]] = field(default_factory=list)
    token_barrier: threading.Event | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    # -- test helpers ---------------------------------------------------------------

    def queue(self, fragment: str, fault: Fault, times: int = 1) -> None:
        for _ in range(times):
            self.faults.append((fragment, fault))

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def complete(self, merchant_order_id: str, mode: str = "UPI_QR") -> None:
        order = self.orders[merchant_order_id]
        order["state"] = "COMPLETED"
        order["paymentDetails"] = [
            {
                "transactionId": "T" + merchant_order_id,
                "paymentMode": mode,
                "timestamp": 1_750_000_000_123,
                "amount": order["amount"],
                "state": "COMPLETED",
                "someNewField": {"x": 1},
            }
        ]

    # -- the wire ---------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
            fault = self._take_fault(request.url.path)
        if fault is not None:
            if isinstance(fault, BaseException):
                raise fault
            if isinstance(fault, httpx.Response):
                return fault
            return fault(request)
        return self._route(request)

    def _take_fault(self, path: str) -> Fault | None:
        for i, (fragment, fault) in enumerate(self.faults):
            if fragment in path:
                del self.faults[i]
                return fault
        return None

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/v1/oauth/token"):
            return self._token(request)
        if "/pg/v1/" in path:
            return self._v1(request, path)
        if not self._authorized(request):
            return httpx.Response(401, json={"code": "UNAUTHORIZED", "message": "bad token"})
        if path.endswith("/checkout/v2/pay"):
            return self._pay(json.loads(request.content))
        if path.endswith("/status") and "/checkout/v2/order/" in path:
            oid = path.split("/checkout/v2/order/")[1].split("/")[0]
            return self._order(oid)
        if path.endswith("/payments/v2/refund"):
            return self._refund(json.loads(request.content))
        if path.endswith("/status") and "/payments/v2/refund/" in path:
            rid = path.split("/payments/v2/refund/")[1].split("/")[0]
            if rid not in self.refunds:
                return httpx.Response(404, json={"code": "NOT_FOUND", "message": "no refund"})
            return httpx.Response(200, json=self.refunds[rid])
        return httpx.Response(404, text="no route")

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self.token_barrier is not None:
            self.token_barrier.wait(5)
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return httpx.Response(
                401, json={"code": "INVALID_CLIENT", "errorCode": "OIM000", "message": "bad client"}
            )
        with self._lock:
            token = f"tok-{len(self.tokens) + 1}-abcdefghijkl"
            self.tokens.append(token)
        now = self.now()
        return httpx.Response(
            200,
            json={
                "access_token": token,
                "encrypted_access_token": "x",
                "expires_in": None,
                "issued_at": int(now),
                "expires_at": int(now + self.token_ttl),
                "session_expires_at": int(now + self.token_ttl),
                "token_type": "O-Bearer",
            },
        )

    def _authorized(self, request: httpx.Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("O-Bearer ") and header[9:] in self.tokens

    def _pay(self, body: dict[str, Any]) -> httpx.Response:
        mid = body["merchantOrderId"]
        if mid in self.orders:
            return httpx.Response(
                400,
                json={"success": False, "code": "DUPLICATE_ORDER", "message": "exists", "data": {}},
            )
        self.orders[mid] = {
            "merchantId": MERCHANT_ID,
            "merchantOrderId": mid,
            "orderId": "OMO" + mid,
            "state": "PENDING",
            "amount": body["amount"],
            "expireAt": 1_750_001_200_000,
            "paymentDetails": [],
        }
        return httpx.Response(
            200,
            json={
                "orderId": "OMO" + mid,
                "state": "PENDING",
                "expireAt": 1_750_001_200_000,
                "redirectUrl": f"http://127.0.0.1/checkout/{mid}",
            },
        )

    def _order(self, mid: str) -> httpx.Response:
        if mid not in self.orders:
            return httpx.Response(
                404, json={"success": False, "code": "NOT_FOUND", "message": "no order"}
            )
        return httpx.Response(200, json=self.orders[mid])

    def _refund(self, body: dict[str, Any]) -> httpx.Response:
        rid = body["merchantRefundId"]
        if rid in self.refunds:
            return httpx.Response(
                400, json={"success": False, "code": "DUPLICATE_REFUND", "message": "exists"}
            )
        self.refunds[rid] = {
            "merchantRefundId": rid,
            "originalMerchantOrderId": body["originalMerchantOrderId"],
            "amount": body["amount"],
            "state": "PENDING",
            "refundId": "R" + rid,
        }
        return httpx.Response(
            200, json={"refundId": "R" + rid, "amount": body["amount"], "state": "PENDING"}
        )

    # -- generation 1 -------------------------------------------------------------------

    def _v1(self, request: httpx.Request, path: str) -> httpx.Response:
        api_path = path[path.index("/pg/v1/") :]
        if request.method == "POST":
            encoded = json.loads(request.content)["request"]
            if request.headers.get("x-verify") != v1_checksum(encoded + api_path):
                return httpx.Response(
                    401, json={"success": False, "code": "AUTHORIZATION_FAILED", "message": "x"}
                )
            body = json.loads(base64.b64decode(encoded))
            if api_path == "/pg/v1/pay":
                tid = body["merchantTransactionId"]
                if tid in self.orders:
                    return httpx.Response(
                        400, json={"success": False, "code": "DUPLICATE_TXN_REQUEST"}
                    )
                self.orders[tid] = {"amount": body["amount"], "code": "PAYMENT_PENDING", "tid": tid}
                return httpx.Response(
                    200,
                    json={
                        "success": True,
                        "code": "PAYMENT_INITIATED",
                        "data": {
                            "merchantId": MERCHANT_ID,
                            "merchantTransactionId": tid,
                            "instrumentResponse": {
                                "type": "PAY_PAGE",
                                "redirectInfo": {
                                    "url": f"http://127.0.0.1/pay/{tid}",
                                    "method": "GET",
                                },
                            },
                        },
                    },
                )
            rid = body["merchantTransactionId"]
            self.orders[rid] = {"amount": body["amount"], "code": "PAYMENT_PENDING", "tid": rid}
            return httpx.Response(
                200,
                json={
                    "success": True,
                    "code": "PAYMENT_PENDING",
                    "data": {
                        "merchantId": MERCHANT_ID,
                        "merchantTransactionId": rid,
                        "transactionId": "RT" + rid,
                        "amount": body["amount"],
                        "state": "PENDING",
                        "responseCode": "PENDING",
                    },
                },
            )
        if request.headers.get("x-verify") != v1_checksum(api_path):
            return httpx.Response(401, json={"success": False, "code": "AUTHORIZATION_FAILED"})
        tid = api_path.rsplit("/", 1)[1]
        order = self.orders.get(tid)
        if order is None:
            return httpx.Response(
                400, json={"success": False, "code": "TRANSACTION_NOT_FOUND", "message": "none"}
            )
        code = order["code"]
        data = {
            "merchantId": MERCHANT_ID,
            "merchantTransactionId": tid,
            "transactionId": "T" + tid,
            "amount": order["amount"],
            "responseCode": "SUCCESS",
            "paymentInstrument": {"type": "UPI", "utr": "123"},
        }
        status = 200 if code in {"PAYMENT_SUCCESS", "PAYMENT_PENDING"} else 400
        return httpx.Response(
            status, json={"success": code == "PAYMENT_SUCCESS", "code": code, "data": data}
        )
