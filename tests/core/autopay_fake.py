"""A small PhonePe AutoPay (``/subscriptions/v2``) for the client's tests, served over a
real loopback socket by :class:`tests.core.servers.GatewayServer`.

It extends :class:`FakeGateway` (token, refund, faults) with the subscription calls as
PhonePe's SDK sends and reads them (paths from ``subscription_constants``; answers in
the shapes of the SDK's own tests and PhonePe's pages), with the checks that make a
wrong request fail: the bearer token, the required fields, a reused merchant order or
subscription id (400 ``BAD_REQUEST``, PhonePe's published answer), notify only on an
ACTIVE mandate, redeem only once per notified order. The sandbox
(``phonepe_gateway.sandbox``) is the full simulation; this fake gives the tests what a
server cannot: the exact request the client sent, and "act, then lose the answer".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from .fakes import EXPIRE_AT_MS, FakeGateway


def _bad_request(message: str = "Please check the inputs you have provided.") -> httpx.Response:
    return httpx.Response(
        400, json={"code": "BAD_REQUEST", "message": message, "data": {}, "success": False}
    )


@dataclass
class AutoPayGateway(FakeGateway):
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- what the customer does in their UPI app --------------------------------------

    def approve(self, merchant_subscription_id: str) -> None:
        sub = self.subscriptions[merchant_subscription_id]
        sub["state"] = "ACTIVE"
        order = self.orders[sub["_setup_order"]]
        order["state"] = "COMPLETED"
        order["paymentDetails"] = [
            {
                "transactionId": "OM" + order["merchantOrderId"],
                "paymentMode": order["_mode"],
                "timestamp": EXPIRE_AT_MS - 1000,
                "amount": order["amount"],
                "state": "COMPLETED",
            }
        ]

    def settle(self, merchant_order_id: str, state: str = "COMPLETED") -> None:
        order = self.orders[merchant_order_id]
        order["state"] = state
        for attempt in order["paymentDetails"]:
            attempt["state"] = state

    # -- the wire -----------------------------------------------------------------------

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if "/subscriptions/v2/" not in path:
            return super()._route(request)
        header = request.headers.get("authorization", "")
        if not (header.startswith("O-Bearer ") and header[9:] in self.tokens):
            return httpx.Response(401, json={"code": "UNAUTHORIZED", "message": "UNAUTHORIZED"})
        tail = path[path.index("/subscriptions/v2/") + len("/subscriptions/v2/") :]
        body = json.loads(request.content) if request.content else {}
        if request.method == "POST" and tail == "setup":
            return self._setup(body)
        if request.method == "POST" and tail == "notify":
            return self._notify(body)
        if request.method == "POST" and tail == "redeem":
            return self._redeem(body)
        parts = tail.split("/")
        if request.method == "GET" and len(parts) == 3 and parts[0] == "order":
            found = self.orders.get(parts[1])
            return self._public(found) if found else _not_found()
        if request.method == "GET" and len(parts) == 3 and parts[0] == "transaction":
            for order in self.orders.values():
                if any(a["transactionId"] == parts[1] for a in order["paymentDetails"]):
                    return self._public(order)
            return _not_found()
        if len(parts) == 2 and parts[1] == "status" and request.method == "GET":
            found = self.subscriptions.get(parts[0])
            return self._public(found) if found else _not_found()
        if len(parts) == 2 and parts[1] == "cancel" and request.method == "POST":
            sub = self.subscriptions.get(parts[0])
            if sub is None:
                return _not_found()
            if sub["state"] not in ("ACTIVE", "PAUSED", "PENDING"):
                return _bad_request("Subscription is not in a cancellable state")
            sub["state"] = "CANCELLED"
            return httpx.Response(200, content=b"")
        return httpx.Response(404, json={"code": "NO_ROUTE", "message": "no route"})

    @staticmethod
    def _public(record: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json={k: v for k, v in record.items() if k[0] != "_"})

    def _setup(self, body: dict[str, Any]) -> httpx.Response:
        flow = body.get("paymentFlow") or {}
        mid, sid = body.get("merchantOrderId"), flow.get("merchantSubscriptionId")
        required = (mid, sid, body.get("amount"), flow.get("maxAmount"), flow.get("frequency"))
        if flow.get("type") != "SUBSCRIPTION_SETUP" or None in required:
            return _bad_request()
        if mid in self.orders or sid in self.subscriptions:
            return _bad_request()
        mode = (flow.get("paymentMode") or {}).get("type")
        if mode not in ("UPI_INTENT", "UPI_COLLECT"):
            return _bad_request()
        self.orders[mid] = {
            "merchantOrderId": mid,
            "orderId": "OMO" + mid,
            "state": "PENDING",
            "amount": body["amount"],
            "expireAt": body.get("expireAt", EXPIRE_AT_MS),
            "paymentFlow": {k: v for k, v in flow.items() if k != "paymentMode"},
            "paymentDetails": [],
            "_mode": mode,
        }
        self.subscriptions[sid] = {
            "merchantSubscriptionId": sid,
            "subscriptionId": "OMS" + sid,
            "state": "PENDING",
            "authWorkflowType": flow.get("authWorkflowType"),
            "amountType": flow.get("amountType"),
            "maxAmount": flow.get("maxAmount"),
            "frequency": flow.get("frequency"),
            "expireAt": flow.get("expireAt", 2_700_000_000_000),
            "_setup_order": mid,
        }
        answer: dict[str, Any] = {"orderId": "OMO" + mid, "state": "PENDING"}
        if mode == "UPI_INTENT":
            answer["intentUrl"] = (
                f"upi://mandate?pa=merchant@ybl&pn=Merchant&tr=OMO{mid}"
                f"&am={body['amount'] / 100:.2f}&cu=INR&recur={flow['frequency']}"
            )
        return httpx.Response(200, json=answer)

    def _notify(self, body: dict[str, Any]) -> httpx.Response:
        flow = body.get("paymentFlow") or {}
        mid, sid = body.get("merchantOrderId"), flow.get("merchantSubscriptionId")
        if flow.get("type") != "SUBSCRIPTION_REDEMPTION" or mid is None or mid in self.orders:
            return _bad_request()
        sub = self.subscriptions.get(sid or "")
        if sub is None or sub["state"] != "ACTIVE" or body.get("amount", 0) > sub["maxAmount"]:
            return _bad_request()
        self.orders[mid] = {
            "merchantOrderId": mid,
            "orderId": "OMO" + mid,
            "state": "PENDING",
            "amount": body["amount"],
            "expireAt": body.get("expireAt", EXPIRE_AT_MS),
            "paymentFlow": {
                **flow,
                "validAfter": EXPIRE_AT_MS + 86_400_000,
                "validUpto": EXPIRE_AT_MS + 2 * 86_400_000,
            },
            "paymentDetails": [],
            "_mode": "UPI_AUTOPAY",
        }
        return httpx.Response(200, json={"orderId": "OMO" + mid, "state": "PENDING"})

    def _redeem(self, body: dict[str, Any]) -> httpx.Response:
        order = self.orders.get(body.get("merchantOrderId") or "")
        if order is None or order["paymentDetails"]:
            return _bad_request()
        tid = "OM" + order["merchantOrderId"]
        order["paymentDetails"] = [
            {
                "transactionId": tid,
                "paymentMode": "UPI_AUTOPAY",
                "timestamp": EXPIRE_AT_MS,
                "amount": order["amount"],
                "state": "PENDING",
            }
        ]
        return httpx.Response(200, json={"transactionId": tid, "state": "PENDING"})


def _not_found() -> httpx.Response:
    return httpx.Response(
        400, json={"code": "INVALID_MERCHANT_ORDER_ID", "message": "No entry found"}
    )
