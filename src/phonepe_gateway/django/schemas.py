"""Request and response schemas of the REST API (they are also its OpenAPI document).

Amounts are integer paise. Inputs are strict about what PhonePe would reject (so a bad
request never reaches the ledger); outputs are built from the ledger models and never
carry a secret or a raw gateway payload.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

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

MAX_PAISE = 2**63 - 1
_ID_PATTERN = r"^[A-Za-z0-9_-]{1,63}$"

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
        description="Where PhonePe sends the customer after checkout (http or https).",
    )
    metadata: dict[str, str] | None = Field(
        default=None, description="Free-form string pairs stored with the payment."
    )

    @field_validator("redirect_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and (
            len(value) > 15 or any(len(k) > 64 or len(v) > 256 for k, v in value.items())
        ):
            raise ValueError("at most 15 entries, keys up to 64 and values up to 256 characters")
        return value


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
