"""Request and response schemas of the REST API (they are also its OpenAPI document).

Amounts are integer paise. Inputs are strict about what PhonePe would reject (so a bad
request never reaches the ledger); outputs are built from the ledger models and never
carry a secret or a raw gateway payload.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

__all__ = [
    "CreatePaymentIn",
    "CreateRefundIn",
    "ErrorBody",
    "ErrorOut",
    "PaymentCreatedOut",
    "PaymentOut",
    "RefundOut",
    "WebhookAckOut",
]

#: Largest amount the API accepts: 10^11 paise (100 crore rupees), the order of PhonePe's
#: own upper limit (the client itself accepts more). Smaller per-mode limits are the
#: gateway's: its refusal is a 422.
MAX_PAISE = 10**11
_ID_PATTERN = r"^[A-Za-z0-9_-]{1,63}$"

MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetaValue = Annotated[str, StringConstraints(max_length=256)]
PaymentStateName = Literal["CREATED", "PENDING", "UNKNOWN", "COMPLETED", "FAILED"]


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class CreatePaymentIn(_In):
    amount: int = Field(ge=100, le=MAX_PAISE, description="Amount in paise (at least 100).")
    merchant_order_id: str | None = Field(
        default=None,
        pattern=_ID_PATTERN,
        description="Your order id (letters, digits, _ and -; at most 63). Generated when omitted.",
    )
    reference: str = Field(
        default="", max_length=255, description='Your object, e.g. "parking-session:42".'
    )
    redirect_url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://[!-~]+$",
        description="Where PhonePe sends the customer after checkout (http or https).",
    )
    metadata: dict[MetaKey, MetaValue] | None = Field(
        default=None,
        max_length=15,
        description="Free-form string pairs stored with the payment (at most 15).",
    )


class CreateRefundIn(_In):
    amount: int = Field(ge=1, le=MAX_PAISE, description="Amount to refund in paise.")
    merchant_refund_id: str | None = Field(
        default=None, pattern=_ID_PATTERN, description="Your refund id; generated when omitted."
    )
    reason: str = Field(default="", max_length=255)


class PaymentCreatedOut(Schema):
    merchant_order_id: str
    state: PaymentStateName
    amount: int
    checkout_url: str | None
    expires_at: datetime | None


class PaymentOut(Schema):
    merchant_order_id: str
    state: PaymentStateName
    amount: int
    currency: str
    refunded_amount: int
    refundable_amount: int
    reference: str
    payment_mode: str | None
    transaction_id: str | None
    gateway_order_id: str | None
    checkout_url: str | None
    expires_at: datetime | None
    needs_review: bool
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class RefundOut(Schema):
    merchant_refund_id: str
    merchant_order_id: str
    state: PaymentStateName
    amount: int
    reason: str
    gateway_refund_id: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class WebhookAckOut(Schema):
    status: Literal["stored"]
    duplicate: bool


class ErrorBody(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorBody
