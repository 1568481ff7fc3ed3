"""The sandbox's records: orders, payment attempts, refunds, and the events they emit.

Plain mutable dataclasses owned by :class:`~.state.SandboxState`; only the state
changes them, under its lock. Times are sandbox epoch seconds (see ``clock``).
Nothing here renders JSON for the wire (that is ``views``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Attempt", "Event", "Order", "Refund"]

Generation = Literal[1, 2]


@dataclass
class Attempt:
    """One payment attempt (PhonePe's ``paymentDetails`` entry)."""

    transaction_id: str
    payment_mode: str
    timestamp: float
    amount: int
    state: str
    error_code: str | None = None
    detailed_error_code: str | None = None


@dataclass
class Order:
    merchant_order_id: str
    order_id: str
    generation: Generation
    merchant_id: str
    amount: int
    created_at: float
    expire_at: float
    state: str = "PENDING"
    meta_info: dict[str, str] = field(default_factory=dict)
    redirect_url: str | None = None
    #: Generation 1: REDIRECT (GET back to the merchant) or POST (auto-submitted form).
    redirect_mode: str = "REDIRECT"
    callback_url: str | None = None
    merchant_user_id: str | None = None
    payment_flow: str = "PG_CHECKOUT"
    #: ``paymentFlow.message``: what the customer is paying for.
    message: str | None = None
    sdk_token: str | None = None
    #: ``disablePaymentRetry``: the first failed attempt fails the order.
    disable_payment_retry: bool = False
    #: the hosted page's ``paymentModeConfig`` and ``prefillUserLoginDetails.phoneNumber``,
    #: as the merchant sent them (recorded and shown on the control API)
    payment_mode_config: dict[str, Any] = field(default_factory=dict)
    prefill_phone: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    error_code: str | None = None
    detailed_error_code: str | None = None
    completed_at: float | None = None
    refund_ids: list[str] = field(default_factory=list)
    # -- custom checkout (``/payments/v2/pay``; see ``custom``) ----------------------------
    #: ``paymentFlow.paymentMode.type`` (UPI_INTENT, UPI_COLLECT, UPI_QR, NET_BANKING,
    #: CARD, TOKEN); None for the hosted page and SDK orders.
    instrument: str | None = None
    #: What the instrument names that is safe to show: ``targetApp``, the collect
    #: ``vpa`` / ``phone``, ``bankId``, a token's ``panSuffix``. Never encrypted values.
    instrument_details: dict[str, str] = field(default_factory=dict)
    #: The ``upi://pay`` link of an intent or QR order (the UPI app opens it).
    intent_url: str | None = None

    # -- UPI AutoPay (sandbox/subscriptions.py owns these orders' transitions) --
    #: The mandate a SUBSCRIPTION_SETUP / SUBSCRIPTION_REDEMPTION order belongs to.
    merchant_subscription_id: str | None = None

    @property
    def retries_allowed(self) -> bool:
        """May the customer try again after a failed attempt? On the hosted page, yes
        (unless ``disablePaymentRetry``); a custom-checkout order is one attempt: the
        merchant's own page must start a new order."""
        return not self.disable_payment_retry and self.instrument is None

    @property
    def last_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def successful_attempt(self) -> Attempt | None:
        for attempt in self.attempts:
            if attempt.state == "COMPLETED":
                return attempt
        return None


@dataclass
class Refund:
    merchant_refund_id: str
    refund_id: str
    original_merchant_order_id: str
    generation: Generation
    merchant_id: str
    amount: int
    created_at: float
    settle_at: float
    #: When PhonePe confirms the refund (PENDING -> CONFIRMED), before it settles.
    confirm_at: float
    #: The refund's own transaction (``OMR…``), shown in its ``paymentDetails``.
    transaction_id: str
    state: str = "PENDING"
    callback_url: str | None = None
    completed_at: float | None = None
    error_code: str | None = None
    detailed_error_code: str | None = None
    #: How the refunded payment was made (the refund goes back the same way).
    payment_mode: str | None = None


@dataclass(frozen=True)
class Event:
    """A state change worth a webhook. ``record`` is a copy taken when it happened."""

    name: str
    record: Order | Refund
    #: A ready webhook payload (subscription events); None: derived from ``record``.
    payload: dict[str, Any] | None = None

    @property
    def generation(self) -> Generation:
        return self.record.generation
