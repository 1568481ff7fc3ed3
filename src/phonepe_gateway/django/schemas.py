"""Request and response schemas of the REST API (they are also its OpenAPI document).

Amounts are integer paise. Inputs are strict about what PhonePe would reject (so a bad
request never reaches the ledger); outputs are built from the ledger models and never
carry a secret or a raw gateway payload.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StringConstraints, model_validator

from phonepe_gateway import (
    Card,
    Instrument,
    NetBanking,
    PaymentModes,
    Token,
    UpiCollect,
    UpiIntent,
    UpiQr,
)

__all__ = [
    "ID_PATTERN",
    "INSTRUMENT_TYPES",
    "CardIn",
    "CreatePaymentIn",
    "CreateRefundIn",
    "ErrorBody",
    "ErrorOut",
    "InstrumentIn",
    "NetBankingIn",
    "PaymentCreatedOut",
    "PaymentOut",
    "RefundOut",
    "SdkOrderIn",
    "TokenIn",
    "UpiCollectIn",
    "UpiIntentIn",
    "UpiQrIn",
    "WebhookAckOut",
]

#: Largest amount the API accepts: 10^11 paise (100 crore rupees), the order of PhonePe's
#: own upper limit (the client itself accepts more). Smaller per-mode limits are the
#: gateway's: its refusal is a 422.
MAX_PAISE = 10**11
ID_PATTERN = r"^[A-Za-z0-9_-]{1,63}$"

#: No NUL character: PostgreSQL cannot store one in text or jsonb (it would be a 503).
_NO_NUL = r"^[^\x00]*$"
MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_NO_NUL)]
MetaValue = Annotated[str, StringConstraints(max_length=256, pattern=_NO_NUL)]
PaymentStateName = Literal["CREATED", "PENDING", "UNKNOWN", "COMPLETED", "FAILED"]


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


# -- custom checkout (issue 12): how the customer pays, when the merchant picks it ------
# Each variant mirrors one of the core's instruments (phonepe_gateway._instruments, whose
# checks are the real ones: ``to_instrument`` may still raise its ValidationError).

#: The core's rule for free text: not blank, no control characters.
_PRINTABLE = r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$"
_Text32 = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=_PRINTABLE)]
_Text64 = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE)]
_Encrypted = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=_PRINTABLE)]
_Month = Annotated[str, StringConstraints(pattern=r"^(0?[1-9]|1[0-2])$")]
_Year = Annotated[str, StringConstraints(pattern=r"^2[01][0-9]{2}$")]


class UpiIntentIn(_In):
    """A `upi://pay` link that opens the customer's UPI app (answer: `intent_url`)."""

    type: Literal["UPI_INTENT"]
    target_app: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=_PRINTABLE,
        description="Android package of the one UPI app to open, e.g. com.phonepe.app.",
    )

    def to_instrument(self) -> Instrument:
        return UpiIntent(target_app=self.target_app)


def _exactly_one(kind: str, *names: str) -> dict[str, Any]:
    """JSON Schema for "exactly one of these fields, of JSON type ``kind``" (a null one
    counts as absent), which the model's own check enforces too."""
    return {"oneOf": [{"required": [n], "properties": {n: {"type": kind}}} for n in names]}


class UpiCollectIn(_In):
    """A collect request to the customer's VPA or phone number (exactly one); it appears
    in their UPI app. The answer carries no link."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=_exactly_one("string", "vpa", "phone")
    )

    type: Literal["UPI_COLLECT"]
    vpa: str | None = Field(
        default=None, max_length=330, pattern=r"^[A-Za-z0-9._-]{2,256}@[A-Za-z0-9.-]{2,64}$"
    )
    phone: str | None = Field(
        default=None, pattern=r"^[6-9][0-9]{9}$", description="10-digit mobile, no +91."
    )
    message: str | None = Field(default=None, min_length=1, max_length=50, pattern=_PRINTABLE)

    def to_instrument(self) -> Instrument:
        return UpiCollect(vpa=self.vpa, phone=self.phone, message=self.message)


class UpiQrIn(_In):
    """QR data (a `upi://pay` string) to draw; any UPI app pays it (answer: `qr_data`)."""

    type: Literal["UPI_QR"]

    def to_instrument(self) -> Instrument:
        return UpiQr()


class NetBankingIn(_In):
    """Net banking at one bank (answer: `checkout_url`, the bank's page)."""

    type: Literal["NET_BANKING"]
    bank_id: _Text32 = Field(description="PhonePe's bank id, e.g. HDFC.")
    merchant_user_id: _Text64 | None = None

    def to_instrument(self) -> Instrument:
        return NetBanking(bank_id=self.bank_id, merchant_user_id=self.merchant_user_id)


class CardIn(_In):
    """A card, encrypted with the key PhonePe issued you; never stored (answer:
    `checkout_url`, the bank's 3-D Secure page)."""

    type: Literal["CARD"]
    encryption_key_id: int = Field(ge=0)
    encrypted_card_number: _Encrypted
    encrypted_cvv: _Encrypted
    expiry_month: _Month
    expiry_year: _Year
    card_holder_name: _Text64 | None = None
    merchant_user_id: _Text64 | None = None

    def to_instrument(self) -> Instrument:
        return Card(
            encryption_key_id=self.encryption_key_id,
            encrypted_card_number=self.encrypted_card_number,
            encrypted_cvv=self.encrypted_cvv,
            expiry_month=self.expiry_month,
            expiry_year=self.expiry_year,
            card_holder_name=self.card_holder_name,
            merchant_user_id=self.merchant_user_id,
        )


class TokenIn(_In):
    """A network token (card on file), encrypted with PhonePe's key; never stored
    (answer: `checkout_url`)."""

    type: Literal["TOKEN"]
    encryption_key_id: int = Field(ge=0)
    encrypted_token: _Encrypted
    encrypted_cvv: _Encrypted
    cryptogram: _Encrypted
    pan_suffix: str = Field(pattern=r"^[0-9]{4}$", description="The card's last 4 digits.")
    expiry_month: _Month
    expiry_year: _Year
    card_holder_name: _Text64 | None = None
    merchant_user_id: _Text64 | None = None

    def to_instrument(self) -> Instrument:
        return Token(
            encryption_key_id=self.encryption_key_id,
            encrypted_token=self.encrypted_token,
            encrypted_cvv=self.encrypted_cvv,
            cryptogram=self.cryptogram,
            pan_suffix=self.pan_suffix,
            expiry_month=self.expiry_month,
            expiry_year=self.expiry_year,
            card_holder_name=self.card_holder_name,
            merchant_user_id=self.merchant_user_id,
        )


class SdkOrderIn(_In):
    """An order your Android/iOS app completes with PhonePe's mobile SDK (answer:
    `sdk_token`, which the app hands to the SDK)."""

    type: Literal["SDK"]
    custom_checkout: bool = Field(
        default=False, description="A custom-checkout SDK order instead of a standard one."
    )


InstrumentIn = Annotated[
    UpiIntentIn | UpiCollectIn | UpiQrIn | NetBankingIn | CardIn | TokenIn | SdkOrderIn,
    Field(discriminator="type"),
]
#: Every ``instrument.type`` the API accepts.
INSTRUMENT_TYPES = ("UPI_INTENT", "UPI_COLLECT", "UPI_QR", "NET_BANKING", "CARD", "TOKEN", "SDK")


PageMode = Literal[
    "UPI_INTENT", "UPI_COLLECT", "UPI_QR", "NET_BANKING", "CARD", "DEBIT_CARD", "CREDIT_CARD"
]


class PaymentModesIn(_In):
    """Which modes PhonePe's hosted page offers: the ones to show, or the ones to hide
    (one list or the other: with ``enabled`` every other mode is hidden already)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_exactly_one("array", "enabled", "disabled"),
    )

    enabled: list[PageMode] | None = Field(default=None, min_length=1, max_length=7)
    disabled: list[PageMode] | None = Field(default=None, min_length=1, max_length=7)

    @model_validator(mode="after")
    def _one_list(self) -> PaymentModesIn:
        if (self.enabled is None) == (self.disabled is None):
            raise ValueError("give either enabled or disabled, not both or neither")
        return self

    def to_modes(self) -> PaymentModes:
        """The core's ``PaymentModes`` (its own checks apply too)."""
        return PaymentModes(enabled=tuple(self.enabled or ()), disabled=tuple(self.disabled or ()))


#: The hosted page's options shape the page: with an instrument there is none.
_PAGE_ONLY: dict[str, Any] = {
    "if": {"properties": {"instrument": {"type": "object"}}, "required": ["instrument"]},
    "then": {
        "properties": {
            "payment_modes": {"type": "null"},
            "disable_payment_retry": {"const": False},
            "prefill_phone": {"type": "null"},
        }
    },
}


#: Card, token and net banking return the customer to ``redirect_url`` after the bank's
#: page: PhonePe requires it (the app's ``redirect_url`` setting may stand in for it).
_REDIRECT_REQUIRED: dict[str, Any] = {
    "if": {
        "properties": {
            "instrument": {
                "type": "object",
                "properties": {"type": {"enum": ["NET_BANKING", "CARD", "TOKEN"]}},
                "required": ["type"],
            }
        },
        "required": ["instrument"],
    },
    "then": {"required": ["redirect_url"], "properties": {"redirect_url": {"type": "string"}}},
}


class CreatePaymentIn(_In):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"allOf": [_REDIRECT_REQUIRED, _PAGE_ONLY]}
    )

    amount: int = Field(ge=100, le=MAX_PAISE, description="Amount in paise (at least 100).")
    merchant_order_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Your order id (letters, digits, _ and -; at most 63). Generated when omitted.",
    )
    reference: str = Field(
        default="",
        max_length=255,
        pattern=_NO_NUL,
        description='Your object, e.g. "parking-session:42".',
    )
    redirect_url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://[!-.0-~][!-~]*$",  # a host: not "https:///"
        description="Where PhonePe sends the customer after checkout (http or https). "
        "Required with a NET_BANKING, CARD or TOKEN instrument unless the service has a "
        "default (`redirect_url` setting).",
    )
    metadata: dict[MetaKey, MetaValue] | None = Field(
        default=None,
        max_length=15,
        description="Free-form string pairs stored with the payment (at most 15).",
    )
    instrument: InstrumentIn | None = Field(
        default=None,
        description=(
            "How the customer pays (custom checkout). Omitted: PhonePe's hosted page "
            "(`checkout_url`). `type` picks the variant."
        ),
    )
    payment_modes: PaymentModesIn | None = Field(
        default=None,
        description="The hosted page only: which payment modes it offers "
        "(`paymentModeConfig`). Not with an `instrument`.",
    )
    disable_payment_retry: StrictBool = Field(
        default=False,
        description="The hosted page only: the first failed attempt fails the order "
        "(`disablePaymentRetry`). Not with an `instrument`.",
    )
    prefill_phone: str | None = Field(
        default=None,
        pattern=r"^[6-9][0-9]{9}$",
        description="The hosted page only: the customer's 10-digit mobile number, without "
        "+91 (`prefillUserLoginDetails`). Not with an `instrument`.",
    )


class CreateRefundIn(_In):
    amount: int = Field(ge=1, le=MAX_PAISE, description="Amount to refund in paise.")
    merchant_refund_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Your refund id; generated when omitted."
    )
    reason: str = Field(default="", max_length=255, pattern=_NO_NUL)


_INSTRUMENT_OUT = "The instrument asked for (`UPI_INTENT`, ..., `SDK`); null: the hosted page."
_OPEN_ONLY = " Only while the order is open (null once it completes, fails or expires)."


class PaymentCreatedOut(Schema):
    merchant_order_id: str
    state: PaymentStateName
    amount: int
    checkout_url: str | None = Field(
        description="Where to send the customer's browser: PhonePe's hosted page, or the "
        "bank's page of a card / net banking / token payment."
    )
    expires_at: datetime | None
    instrument: str | None = Field(default=None, description=_INSTRUMENT_OUT)
    intent_url: str | None = Field(
        default=None, description="UPI_INTENT: the `upi://pay` link to open." + _OPEN_ONLY
    )
    qr_data: str | None = Field(
        default=None, description="UPI_QR: the `upi://pay` string to draw as a QR." + _OPEN_ONLY
    )
    sdk_token: str | None = Field(
        default=None, description="SDK: the token for PhonePe's mobile SDK." + _OPEN_ONLY
    )


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
    instrument: str | None = Field(default=None, description=_INSTRUMENT_OUT)
    intent_url: str | None = Field(default=None, description=_OPEN_ONLY.strip())
    qr_data: str | None = Field(default=None, description=_OPEN_ONLY.strip())
    sdk_token: str | None = Field(default=None, description=_OPEN_ONLY.strip())
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
