"""Typed, lenient results of PhonePe calls.

Amounts are ``int`` paise. States and payment modes are plain strings with known
values listed as constants: PhonePe adds new values (payment modes, webhook events)
and an unknown one must never fail a parse. Each result keeps the gateway's JSON in
``raw`` so nothing the gateway said is lost. Both API generations parse into the
same types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CreatePaymentResult",
    "OrderState",
    "OrderStatus",
    "PaymentDetail",
    "RefundResult",
    "RefundState",
    "RefundStatus",
    "WebhookEvent",
]


class OrderState:
    """Known order states (generation 1 codes are mapped onto these)."""

    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    FINAL = frozenset({COMPLETED, FAILED})


class RefundState:
    """Known refund states. ``CONFIRMED`` is PhonePe's interim 'accepted by the bank'."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    FINAL = frozenset({COMPLETED, FAILED})


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    raw: dict[str, Any] = Field(default_factory=dict, repr=False)


class CreatePaymentResult(_Result):
    """A created order: what the merchant needs to send the customer on to pay it.

    Hosted page: ``redirect_url``. Custom checkout (an instrument): ``instrument`` is its
    mode (``UPI_INTENT``, ``UPI_QR``, …) and ``intent_url`` (UPI intent: open it on the
    phone), ``qr_data`` (UPI QR: draw it) or ``redirect_url`` (card / net banking: the
    bank's page) says where to go. SDK order: ``token``. A result recovered after a lost
    answer comes from the status API, which repeats none of these: only the order's id,
    state and expiry.
    """

    merchant_order_id: str
    order_id: str | None = None
    state: str = OrderState.PENDING
    redirect_url: str | None = None
    expire_at: datetime | None = None
    #: SDK-order token (``/checkout/v2/sdk/order``, ``/payments/v2/sdk/order``), else None.
    token: str | None = None
    #: The custom-checkout instrument's mode (``UPI_INTENT``, …); None for the hosted page.
    instrument: str | None = None
    #: A ``upi://pay…`` link that opens the customer's UPI app (UPI intent).
    intent_url: str | None = None
    #: What the QR code encodes (UPI QR): a ``upi://pay…`` string.
    qr_data: str | None = None


class PaymentDetail(_Result):
    transaction_id: str | None = None
    payment_mode: str | None = None
    timestamp: datetime | None = None
    amount: int | None = None
    state: str | None = None
    error_code: str | None = None
    detailed_error_code: str | None = None


class OrderStatus(_Result):
    merchant_order_id: str
    order_id: str | None = None
    state: str
    amount: int | None = None
    payment_details: list[PaymentDetail] = Field(default_factory=list)
    error_code: str | None = None
    detailed_error_code: str | None = None
    expire_at: datetime | None = None

    @property
    def is_final(self) -> bool:
        return self.state in OrderState.FINAL

    @property
    def successful_payment(self) -> PaymentDetail | None:
        """The attempt that completed the order, if any."""
        for detail in self.payment_details:
            if detail.state == OrderState.COMPLETED:
                return detail
        return None


class RefundResult(_Result):
    merchant_refund_id: str
    refund_id: str | None = None
    state: str = RefundState.PENDING
    amount: int | None = None


class RefundStatus(_Result):
    merchant_refund_id: str
    original_merchant_order_id: str | None = None
    state: str
    amount: int | None = None
    error_code: str | None = None
    detailed_error_code: str | None = None

    @property
    def is_final(self) -> bool:
        return self.state in RefundState.FINAL


class WebhookEvent(_Result):
    """One verified callback, normalised over both generations.

    ``event`` is PhonePe's event name (``checkout.order.completed``, …); generation 1
    callbacks are given the equivalent generation 2 name. ``payload`` is the
    gateway's payload object as received.
    """

    event: str
    state: str | None = None
    merchant_order_id: str | None = None
    merchant_refund_id: str | None = None
    original_merchant_order_id: str | None = None
    order_id: str | None = None
    refund_id: str | None = None
    merchant_id: str | None = None
    amount: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    generation: int = 2
    # UPI AutoPay: the mandate a ``subscription.*`` event is about (top level of the
    # payload for state changes, ``payload.paymentFlow`` for set-up/redemption orders).
    merchant_subscription_id: str | None = None
    subscription_id: str | None = None

    @property
    def is_refund(self) -> bool:
        return self.event.startswith("pg.refund.") or self.merchant_refund_id is not None

    @property
    def is_subscription(self) -> bool:
        """A UPI AutoPay event (set-up, notification, redemption or mandate state)."""
        return self.event.startswith("subscription.") or self.merchant_subscription_id is not None
