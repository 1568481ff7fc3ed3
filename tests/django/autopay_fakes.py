"""An in-memory PhonePe for UPI AutoPay, beside conftest's :class:`FakeGateway`.

It stands in for the client's subscription calls (the contract's names and result
attributes) where a test needs thousands of steps or a fault at an exact point; anything
about the wire goes through the real sandbox instead. Its rules are the ones the ledger
depends on: one mandate per merchant subscription id, one order per merchant order id,
notify only an ACTIVE mandate, redeem only a NOTIFIED order of an ACTIVE mandate, and an
order is executed (money moves) at most once. ``executed`` counts executions per order
so a test can prove no period was debited twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from phonepe_gateway import (
    GatewayError,
    NotFoundError,
    OrderStatus,
    PaymentDetail,
    ValidationError,
)
from phonepe_gateway.django import conf

from .conftest import FakeGateway, FakeOrder, _signed


@dataclass
class FakeMandate:
    merchant_subscription_id: str
    subscription_id: str
    setup_order_id: str
    amount: int
    max_amount: int
    frequency: str
    state: str = "PENDING"


@dataclass
class FakeAutoPay(FakeGateway):
    mandates: dict[str, FakeMandate] = field(default_factory=dict)
    #: merchant order id -> its mandate (set-up and redemption orders)
    order_mandate: dict[str, str] = field(default_factory=dict)
    #: executions (money moved) per redemption order: never above 1
    executed: Counter[str] = field(default_factory=Counter)
    #: what a redemption ends in when executed: COMPLETED, FAILED or PENDING (settle later)
    debit_outcome: str = "COMPLETED"

    # -- the client's subscription calls ------------------------------------------------

    def setup_subscription(
        self,
        *,
        amount: int,
        max_amount: int,
        instrument: Any,
        frequency: str,
        merchant_order_id: str | None = None,
        merchant_subscription_id: str | None = None,
        **_: Any,
    ) -> SimpleNamespace:
        with self._lock:
            self.calls["setup_subscription"] += 1
            if max_amount < amount:
                raise ValidationError("max_amount below amount", field="max_amount")
            assert merchant_order_id
            assert merchant_subscription_id
            fault = self._fault("setup_subscription")
            if fault and not fault.act:
                raise fault.error
            if merchant_subscription_id in self.mandates or merchant_order_id in self.orders:
                raise GatewayError("Bad Request", http_status=400, code="BAD_REQUEST")
            n = next(self._ids)
            self.mandates[merchant_subscription_id] = FakeMandate(
                merchant_subscription_id,
                f"OMS{n}",
                merchant_order_id,
                amount,
                max_amount,
                frequency,
            )
            self.orders[merchant_order_id] = FakeOrder(
                merchant_order_id, amount, order_id=f"OMO{n}"
            )
            self.order_mandate[merchant_order_id] = merchant_subscription_id
            if fault:
                raise fault.error
            return SimpleNamespace(
                merchant_order_id=merchant_order_id,
                merchant_subscription_id=merchant_subscription_id,
                order_id=f"OMO{n}",
                state="PENDING",
                intent_url=f"upi://mandate?pa=merchant@ybl&tr=OMO{n}&am={amount / 100:.2f}",
                expire_at=datetime.now(UTC) + timedelta(minutes=10),
            )

    def get_subscription_status(
        self, merchant_subscription_id: str, *, details: bool = False
    ) -> SimpleNamespace:
        with self._lock:
            self.calls["subscription_status"] += 1
            fault = self._fault("subscription_status")
            if fault:
                raise fault.error
            mandate = self.mandates.get(merchant_subscription_id)
            if mandate is None:
                raise NotFoundError("no such subscription", http_status=404, code="NOT_FOUND")
            return SimpleNamespace(
                merchant_subscription_id=merchant_subscription_id,
                subscription_id=mandate.subscription_id,
                state=mandate.state,
                frequency=mandate.frequency,
                amount_type="VARIABLE",
                max_amount=mandate.max_amount,
                auth_workflow="TRANSACTION",
                expire_at=None,
                raw={},
            )

    def notify_redemption(
        self,
        *,
        merchant_subscription_id: str,
        amount: int,
        merchant_order_id: str | None = None,
        **_: Any,
    ) -> SimpleNamespace:
        with self._lock:
            self.calls["notify"] += 1
            assert merchant_order_id
            fault = self._fault("notify")
            if fault and not fault.act:
                raise fault.error
            mandate = self.mandates.get(merchant_subscription_id)
            if merchant_order_id in self.orders:
                raise GatewayError("Bad Request", http_status=400, code="BAD_REQUEST")
            if mandate is None or mandate.state != "ACTIVE":
                raise GatewayError(
                    "Subscription is not active", http_status=400, code="SUBSCRIPTION_NOT_ACTIVE"
                )
            if amount > mandate.max_amount:
                raise GatewayError("amount above the cap", http_status=400, code="BAD_REQUEST")
            n = next(self._ids)
            self.orders[merchant_order_id] = FakeOrder(
                merchant_order_id, amount, state="NOTIFIED", order_id=f"OMO{n}"
            )
            self.order_mandate[merchant_order_id] = merchant_subscription_id
            if fault:
                raise fault.error
            return SimpleNamespace(
                merchant_order_id=merchant_order_id,
                order_id=f"OMO{n}",
                state="NOTIFIED",
                expire_at=datetime.now(UTC) + timedelta(hours=48),
            )

    def redeem(self, merchant_order_id: str) -> SimpleNamespace:
        with self._lock:
            self.calls["redeem"] += 1
            fault = self._fault("redeem")
            if fault and not fault.act:
                raise fault.error
            order = self.orders.get(merchant_order_id)
            if order is None:
                raise NotFoundError("no such order", http_status=404, code="ORDER_NOT_FOUND")
            if order.state != "NOTIFIED":
                raise GatewayError("Bad Request", http_status=400, code="BAD_REQUEST")
            mandate = self.mandates[self.order_mandate[merchant_order_id]]
            if mandate.state != "ACTIVE":
                raise GatewayError(
                    "Subscription is not active", http_status=400, code="SUBSCRIPTION_NOT_ACTIVE"
                )
            self.executed[merchant_order_id] += 1
            order.state = self.debit_outcome
            order.transaction_id = f"T{next(self._ids)}"
            if fault:
                raise fault.error
            return SimpleNamespace(
                merchant_order_id=merchant_order_id,
                transaction_id=order.transaction_id,
                state=order.state,
            )

    def cancel_subscription(self, merchant_subscription_id: str) -> None:
        with self._lock:
            self.calls["cancel"] += 1
            fault = self._fault("cancel")
            if fault and not fault.act:
                raise fault.error
            mandate = self.mandates.get(merchant_subscription_id)
            if mandate is None:
                raise NotFoundError("no such subscription", http_status=404, code="NOT_FOUND")
            if mandate.state not in ("ACTIVE", "PAUSED", "PENDING"):
                raise GatewayError("Bad Request", http_status=400, code="BAD_REQUEST")
            mandate.state = "CANCELLED"
            if fault:
                raise fault.error

    def get_subscription_order_status(
        self, merchant_order_id: str, *, details: bool = False
    ) -> OrderStatus:
        with self._lock:
            self.calls["subscription_order_status"] += 1
            self.status_calls[merchant_order_id] += 1
            fault = self._fault("subscription_order_status")
            if fault:
                raise fault.error
            order = self.orders.get(merchant_order_id)
            if order is None or merchant_order_id not in self.order_mandate:
                raise NotFoundError("no such order", http_status=404, code="ORDER_NOT_FOUND")
            attempts = []
            if order.state in ("COMPLETED", "FAILED"):
                attempts.append(
                    PaymentDetail(
                        transaction_id=order.transaction_id or f"T{order.order_id}",
                        payment_mode="UPI_AUTOPAY",
                        amount=order.amount,
                        state=order.state,
                    )
                )
            return OrderStatus(
                merchant_order_id=merchant_order_id,
                order_id=order.order_id,
                state=order.state,
                amount=order.amount,
                payment_details=attempts,
                error_code="INSUFFICIENT_BALANCE" if order.state == "FAILED" else None,
            )

    # -- the customer's side (their UPI app) and the bank --------------------------------

    def approve(self, merchant_subscription_id: str) -> None:
        with self._lock:
            mandate = self.mandates[merchant_subscription_id]
            mandate.state = "ACTIVE"
            self.orders[mandate.setup_order_id].state = "COMPLETED"

    def decline(self, merchant_subscription_id: str) -> None:
        with self._lock:
            mandate = self.mandates[merchant_subscription_id]
            mandate.state = "FAILED"
            self.orders[mandate.setup_order_id].state = "FAILED"

    def set_mandate(self, merchant_subscription_id: str, state: str) -> None:
        """PAUSED / ACTIVE (resume) / REVOKED / EXPIRED, as the customer or time does."""
        with self._lock:
            self.mandates[merchant_subscription_id].state = state

    def settle_debit(self, merchant_order_id: str, state: str) -> None:
        with self._lock:
            order = self.orders[merchant_order_id]
            if order.state == "PENDING":
                order.state = state

    def mandate_webhook(
        self, merchant_subscription_id: str, event: str
    ) -> tuple[dict[str, str], bytes]:
        mandate = self.mandates[merchant_subscription_id]
        payload = {
            "merchantSubscriptionId": merchant_subscription_id,
            "subscriptionId": mandate.subscription_id,
            "state": mandate.state,
        }
        return _signed({"event": event, "payload": payload})

    def debits_of(self, merchant_subscription_id: str) -> list[str]:
        return [
            order_id
            for order_id, sub_id in self.order_mandate.items()
            if sub_id == merchant_subscription_id
            and order_id != self.mandates[sub_id].setup_order_id
        ]


@pytest.fixture
def autopay() -> Iterator[FakeAutoPay]:
    """A fresh in-memory AutoPay gateway installed as the app's client."""
    fake = FakeAutoPay()
    conf.set_client(fake)
    yield fake
    conf.reset_client()
