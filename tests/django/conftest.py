"""Fixtures for the Django app's tests: a fake gateway, signal recording, a real sandbox.

Two doubles of PhonePe serve these tests; pick the one the test is about:

* ``phonepe_sandbox``: the real client talking HTTP to the real local sandbox. Anything
  about the wire (timeouts, lost answers, retries, webhooks sent over a socket) goes here.
* ``gateway`` (:class:`FakeGateway`): stands in for the *client*, in memory. It exists
  for what the sandbox cannot give cheaply: thousands of state-machine steps per second
  (the hypothesis machine in test_state_machine_stateful.py), and a fault at an exact
  point of a service, with or without the gateway having acted (``fail_next``).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from phonepe_gateway import (
    CreatePaymentResult,
    DuplicateRequestError,
    GatewayError,
    NotFoundError,
    OrderStatus,
    PaymentDetail,
    PhonePeError,
    RefundResult,
    RefundStatus,
    Settings,
    ValidationError,
    WebhookEvent,
)
from phonepe_gateway._config import SANDBOX_CREDENTIALS
from phonepe_gateway._webhooks import authorization_for, verify_webhook
from phonepe_gateway.django import conf, signals

WEBHOOK_USER = SANDBOX_CREDENTIALS["webhook_username"]
WEBHOOK_PASSWORD = SANDBOX_CREDENTIALS["webhook_password"]
_LOCAL = Settings.build(env="local")  # what the fake's webhooks are verified with


def webhook_authorization(user: str = WEBHOOK_USER, password: str = WEBHOOK_PASSWORD) -> str:
    return authorization_for(user, password)


@dataclass
class FakeOrder:
    merchant_order_id: str
    amount: int
    state: str = "PENDING"
    order_id: str = ""
    transaction_id: str = ""
    refunded: int = 0


@dataclass
class FakeRefund:
    merchant_refund_id: str
    merchant_order_id: str
    amount: int
    state: str = "PENDING"


@dataclass
class Fault:
    """Raise ``error`` on the next ``times`` calls of ``call``; with ``act=True`` the
    gateway acts first (the answer is lost after PhonePe did the work)."""

    call: str
    error: PhonePeError
    act: bool = False
    times: int = 1


@dataclass
class FakeGateway:
    """The client's four gateway calls over in-memory orders and refunds (thread-safe).

    Only the network is faked: webhooks are verified by the real verifier, and the
    gateway's rules are the few the ledger depends on (duplicate ids, refundable
    remainder, forward-only settlement).
    """

    orders: dict[str, FakeOrder] = field(default_factory=dict)
    refunds: dict[str, FakeRefund] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    #: calls per client method, and status calls per merchant order id
    calls: Counter[str] = field(default_factory=Counter)
    status_calls: Counter[str] = field(default_factory=Counter)
    #: amount the status API reports instead of the real one (tampering), per order
    reported_amount: dict[str, int] = field(default_factory=dict)
    #: every status answer given, so tests can deliver one late (a slow request)
    answers: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # -- faults -----------------------------------------------------------------------

    def fail_next(
        self, call: str, error: PhonePeError, *, act: bool = False, times: int = 1
    ) -> None:
        self.faults.append(Fault(call, error, act, times))

    def _fault(self, call: str) -> Fault | None:
        for fault in self.faults:
            if fault.call == call and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    # -- the client's interface ---------------------------------------------------------

    def create_payment(
        self, *, amount: int, merchant_order_id: str | None = None, **_: Any
    ) -> CreatePaymentResult:
        with self._lock:
            self.calls["create_payment"] += 1
            if amount < 100:
                raise ValidationError("amount must be at least 100 paise", field="amount")
            assert merchant_order_id
            fault = self._fault("create_payment")
            if fault and not fault.act:
                raise fault.error
            if merchant_order_id in self.orders:
                raise DuplicateRequestError("duplicate", http_status=400, code="DUPLICATE_ORDER")
            order = FakeOrder(merchant_order_id, amount, order_id=f"OMO{next(self._ids)}")
            self.orders[merchant_order_id] = order
            if fault:
                raise fault.error
            return CreatePaymentResult(
                merchant_order_id=merchant_order_id,
                order_id=order.order_id,
                state="PENDING",
                redirect_url=f"http://127.0.0.1:9/checkout/{order.order_id}",
                expire_at=datetime.now(UTC) + timedelta(seconds=1200),
            )

    def get_order_status(
        self, merchant_order_id: str, *, details: bool = False, custom_checkout: bool = False
    ) -> OrderStatus:
        with self._lock:
            self.calls["order_status"] += 1
            if custom_checkout:
                self.calls["order_status_custom"] += 1
            self.status_calls[merchant_order_id] += 1
            fault = self._fault("order_status")
            if fault:
                raise fault.error
            order = self.orders.get(merchant_order_id)
            if order is None:
                raise NotFoundError("no such order", http_status=404, code="ORDER_NOT_FOUND")
            attempts = []
            if order.state != "PENDING":
                attempts.append(
                    PaymentDetail(
                        transaction_id=order.transaction_id or f"T{order.order_id}",
                        payment_mode="UPI_QR",
                        amount=order.amount,
                        state=order.state,
                    )
                )
            status = OrderStatus(
                merchant_order_id=merchant_order_id,
                order_id=order.order_id,
                state=order.state,
                amount=self.reported_amount.get(merchant_order_id, order.amount),
                payment_details=attempts,
                error_code="PAYMENT_DECLINED" if order.state == "FAILED" else None,
            )
            self.answers.append(status)
            return status

    def refund(
        self, *, original_merchant_order_id: str, amount: int, merchant_refund_id: str | None = None
    ) -> RefundResult:
        with self._lock:
            self.calls["refund"] += 1
            assert merchant_refund_id
            fault = self._fault("refund")
            if fault and not fault.act:
                raise fault.error
            order = self.orders.get(original_merchant_order_id)
            if order is None or order.state != "COMPLETED":
                raise GatewayError("not refundable", http_status=400, code="BAD_REQUEST")
            if merchant_refund_id in self.refunds:
                raise DuplicateRequestError("duplicate", http_status=400, code="DUPLICATE_REFUND")
            if order.refunded + amount > order.amount:
                raise GatewayError("exceeds", http_status=400, code="REFUND_AMOUNT_EXCEEDED")
            order.refunded += amount
            self.refunds[merchant_refund_id] = FakeRefund(
                merchant_refund_id, original_merchant_order_id, amount
            )
            if fault:
                raise fault.error
            return RefundResult(
                merchant_refund_id=merchant_refund_id,
                refund_id=f"R{next(self._ids)}",
                state="PENDING",
                amount=amount,
            )

    def get_refund_status(self, merchant_refund_id: str) -> RefundStatus:
        with self._lock:
            self.calls["refund_status"] += 1
            fault = self._fault("refund_status")
            if fault:
                raise fault.error
            refund = self.refunds.get(merchant_refund_id)
            if refund is None:
                raise NotFoundError("no such refund", http_status=404, code="REFUND_NOT_FOUND")
            answer = RefundStatus(
                merchant_refund_id=merchant_refund_id,
                original_merchant_order_id=refund.merchant_order_id,
                state=refund.state,
                amount=refund.amount,
            )
            self.answers.append(answer)
            return answer

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        return verify_webhook(_LOCAL, headers, body)  # no I/O: the real one

    # -- the gateway's side -------------------------------------------------------------

    def settle(self, merchant_order_id: str, state: str) -> None:
        with self._lock:
            order = self.orders[merchant_order_id]
            if order.state == "PENDING":
                order.state = state
                order.transaction_id = f"T{next(self._ids)}"

    def settle_refund(self, merchant_refund_id: str, state: str) -> None:
        with self._lock:
            refund = self.refunds[merchant_refund_id]
            if refund.state == "PENDING":
                refund.state = state
                if state == "FAILED":
                    self.orders[refund.merchant_order_id].refunded -= refund.amount

    def order_webhook(
        self,
        merchant_order_id: str,
        *,
        state: str | None = None,
        amount: int | None = None,
        nonce: int = 0,
    ) -> tuple[dict[str, str], bytes]:
        """A generation 2 order callback as PhonePe sends it (``state`` may lie)."""
        order = self.orders[merchant_order_id]
        state = state or order.state
        event = {"COMPLETED": "checkout.order.completed", "FAILED": "checkout.order.failed"}.get(
            state, "checkout.order.pending"
        )
        payload = {
            "merchantOrderId": merchant_order_id,
            "orderId": order.order_id,
            "state": state,
            "amount": order.amount if amount is None else amount,
            "nonce": nonce,
        }
        return _signed({"event": event, "payload": payload})

    def refund_webhook(self, merchant_refund_id: str) -> tuple[dict[str, str], bytes]:
        """A generation 2 refund callback for the refund's current state."""
        refund = self.refunds[merchant_refund_id]
        event = {"COMPLETED": "pg.refund.completed", "FAILED": "pg.refund.failed"}.get(
            refund.state, "pg.refund.accepted"
        )
        payload = {
            "merchantRefundId": merchant_refund_id,
            "originalMerchantOrderId": refund.merchant_order_id,
            "state": refund.state,
            "amount": refund.amount,
        }
        return _signed({"event": event, "payload": payload})


def _signed(callback: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    headers = {"Authorization": webhook_authorization(), "Content-Type": "application/json"}
    return headers, json.dumps(callback).encode()


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    """A fresh fake gateway installed as the app's client."""
    fake = FakeGateway()
    conf.set_client(fake)
    yield fake
    conf.reset_client()


class SignalLog:
    """Every payment/refund signal sent, as (signal name, merchant id)."""

    NAMES = ("payment_completed", "payment_failed", "refund_completed", "refund_failed")

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._receivers: list[tuple[Any, Callable[..., None]]] = []
        for name in self.NAMES:
            signal = getattr(signals, name)

            def receiver(sender: Any, _name: str = name, **kw: Any) -> None:
                obj = kw.get("payment") or kw.get("refund")
                ident = getattr(obj, "merchant_order_id", None) or obj.merchant_refund_id
                with self._lock:
                    self.events.append((_name, ident))

            signal.connect(receiver, weak=False)
            self._receivers.append((signal, receiver))

    def count(self, name: str, ident: str) -> int:
        with self._lock:
            return self.events.count((name, ident))

    def of(self, ident: str) -> list[str]:
        with self._lock:
            return [name for name, who in self.events if who == ident]

    def close(self) -> None:
        for signal, receiver in self._receivers:
            signal.disconnect(receiver)


@pytest.fixture
def signal_log() -> Iterator[SignalLog]:
    log = SignalLog()
    yield log
    log.close()


@dataclass
class LiveSandbox:
    """The real sandbox (tests/conftest.py `sandbox`) driven through its control API."""

    running: Any

    @property
    def url(self) -> str:
        return str(self.running.url)

    def control(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        response = httpx.request(method, self.url + "/_sandbox" + path, timeout=10, **kw)
        response.raise_for_status()
        return response.json() if response.content else None

    def order(self, merchant_order_id: str) -> dict[str, Any]:
        return self.control("GET", f"/orders/{merchant_order_id}")

    def complete(self, merchant_order_id: str) -> None:
        self.control("POST", f"/orders/{merchant_order_id}/complete", json={})

    def fail(self, merchant_order_id: str) -> None:
        self.control("POST", f"/orders/{merchant_order_id}/fail", json={})

    def fault(self, **rule: Any) -> None:
        self.control("POST", "/faults", json=rule)

    def webhooks(self, **config: Any) -> None:
        self.control("PUT", "/webhooks/config", json=config)

    def deliveries(self) -> list[dict[str, Any]]:
        data = self.control("GET", "/webhooks")
        return list(data["deliveries"])

    def advance(self, seconds: float) -> None:
        self.control("POST", "/clock/advance", json={"seconds": seconds})


@pytest.fixture
def phonepe_sandbox(sandbox: Any, settings: Any) -> LiveSandbox:
    """Point the app at a fresh sandbox (changing ``PHONEPE`` renews the app's client)."""
    settings.PHONEPE = {
        "env": "local",
        "local_url": sandbox.url,
        "connect_timeout": 1,
        "read_timeout": 3,
        "timeout": 8,
        "redirect_url": "http://127.0.0.1:8000/paid",
    }
    return LiveSandbox(sandbox)


def wait_for(
    condition: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition"
) -> Any:
    """Poll ``condition`` until it is truthy (no fixed sleeps); fail after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
