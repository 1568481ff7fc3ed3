"""An in-process PhonePe for the core client's unit tests (``httpx.MockTransport``).

Why it exists next to the sandbox: the sandbox (``phonepe_gateway.sandbox``) is the real
thing on a socket, and the contract, socket and end-to-end tests use it. These unit
tests need what a server cannot give: the exact ``httpx.Request`` the client built (to
assert headers, signatures, bodies), a fault placed at one precise attempt, including
"act, then lose the answer" as a plain function, a token clock that follows the test's
``FakeClock``, and generation 1 response codes set by hand. It also keeps the client's
tests independent of the sandbox's own correctness.

So it is deliberately small: the four calls of each generation and the OAuth token,
with the checks that make a wrong request fail (bearer token, X-VERIFY, a reused
generation 2 id), and nothing a test does not use. ``gw.queue(path_fragment, fault)`` answers the next
matching request with a response, an exception, or a function of the request.
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
TOKEN_TTL = 3600
EXPIRE_AT_MS = 1_750_001_200_000

Fault = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


def v1_checksum(payload: str, salt: str = SALT_KEY, index: int = 1) -> str:
    return hashlib.sha256((payload + salt).encode()).hexdigest() + f"###{index}"


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"success": False, "code": code, "message": code})


@dataclass
class FakeGateway:
    now: Callable[[], float] = lambda: 1_750_000_000.0
    #: Orders by merchant order id (generation 1: transactions, refunds included).
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    faults: list[tuple[str, Fault]] = field(default_factory=list)
    #: When set, token requests wait for it (to hold concurrent callers in one fetch).
    token_barrier: threading.Event | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    # -- test helpers ---------------------------------------------------------------

    def queue(self, fragment: str, fault: Fault, times: int = 1) -> None:
        self.faults.extend([(fragment, fault)] * times)

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
                "someNewField": {"x": 1},  # unknown fields must survive in ``raw``
            }
        ]

    # -- the wire ---------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
            fault = self._take_fault(request.url.path)
        if fault is None:
            return self._route(request)
        if isinstance(fault, BaseException):
            raise fault
        return fault if isinstance(fault, httpx.Response) else fault(request)

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
            return self._v1(request, path[path.index("/pg/v1/") :])
        header = request.headers.get("authorization", "")
        if not (header.startswith("O-Bearer ") and header[9:] in self.tokens):
            return _error(401, "UNAUTHORIZED")
        if path.endswith("/checkout/v2/pay"):
            return self._pay(json.loads(request.content))
        if path.endswith("/payments/v2/refund"):
            return self._refund(json.loads(request.content))
        if path.endswith("/status"):
            kind, _, ident = path.removesuffix("/status").rpartition("/")
            found = (self.orders if kind.endswith("/order") else self.refunds).get(ident)
            return httpx.Response(200, json=found) if found else _error(404, "NOT_FOUND")
        return _error(404, "NO_ROUTE")

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
        expires_at = int(self.now() + TOKEN_TTL)
        # PhonePe sends expires_in as null: the lifetime is in expires_at (epoch seconds).
        body = {"access_token": token, "expires_in": None, "expires_at": expires_at}
        return httpx.Response(200, json={**body, "token_type": "O-Bearer"})

    def _pay(self, body: dict[str, Any]) -> httpx.Response:
        mid = body["merchantOrderId"]
        if mid in self.orders:
            return _error(400, "DUPLICATE_ORDER")
        self.orders[mid] = {
            "merchantOrderId": mid,
            "orderId": "OMO" + mid,
            "state": "PENDING",
            "amount": body["amount"],
            "expireAt": EXPIRE_AT_MS,
            "paymentDetails": [],
        }
        answer = {"orderId": "OMO" + mid, "state": "PENDING", "expireAt": EXPIRE_AT_MS}
        return httpx.Response(
            200, json={**answer, "redirectUrl": f"http://127.0.0.1/checkout/{mid}"}
        )

    def _refund(self, body: dict[str, Any]) -> httpx.Response:
        rid = body["merchantRefundId"]
        if rid in self.refunds:
            return _error(400, "DUPLICATE_REFUND")
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

    def _v1(self, request: httpx.Request, api_path: str) -> httpx.Response:
        if request.method == "GET":
            if request.headers.get("x-verify") != v1_checksum(api_path):
                return _error(401, "AUTHORIZATION_FAILED")
            return self._v1_status(api_path.rsplit("/", 1)[1])
        encoded = json.loads(request.content)["request"]
        if request.headers.get("x-verify") != v1_checksum(encoded + api_path):
            return _error(401, "AUTHORIZATION_FAILED")
        body = json.loads(base64.b64decode(encoded))
        tid = body["merchantTransactionId"]
        # A refund is a transaction too: its status is asked at the same path as a payment's.
        self.orders[tid] = {"amount": body["amount"], "code": "PAYMENT_PENDING"}
        data = {"merchantId": MERCHANT_ID, "merchantTransactionId": tid}
        if api_path == "/pg/v1/pay":
            redirect = {"url": f"http://127.0.0.1/pay/{tid}", "method": "GET"}
            data["instrumentResponse"] = {"type": "PAY_PAGE", "redirectInfo": redirect}
            return httpx.Response(
                200, json={"success": True, "code": "PAYMENT_INITIATED", "data": data}
            )
        data.update(transactionId="RT" + tid, amount=body["amount"], state="PENDING")
        return httpx.Response(200, json={"success": True, "code": "PAYMENT_PENDING", "data": data})

    def _v1_status(self, tid: str) -> httpx.Response:
        order = self.orders.get(tid)
        if order is None:
            return _error(400, "TRANSACTION_NOT_FOUND")
        code = order["code"]
        data = {
            "merchantId": MERCHANT_ID,
            "merchantTransactionId": tid,
            "transactionId": "T" + tid,
            "amount": order["amount"],
            "paymentInstrument": {"type": "UPI", "utr": "123"},
        }
        status = 200 if code in {"PAYMENT_SUCCESS", "PAYMENT_PENDING"} else 400
        success = code == "PAYMENT_SUCCESS"
        return httpx.Response(status, json={"success": success, "code": code, "data": data})
