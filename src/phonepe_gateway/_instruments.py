"""How a customer pays, when the merchant picks the instrument (custom checkout, AutoPay).

PhonePe's hosted checkout page lets the customer choose; custom checkout
(``/payments/v2/pay``) and subscription set-up name the instrument in the request's
``paymentFlow.paymentMode``. Each class here is one instrument: frozen, checked when
built (a :class:`ValidationError` naming the field, before anything is sent), and
turned into PhonePe's wire shape by :meth:`to_wire`. Card and token details arrive
already encrypted with the key PhonePe issued (``encryption_key_id``); this module
never sees a card number, and reprs hide the encrypted values all the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._errors import ValidationError
from ._validation import check_phone

__all__ = [
    "INSTRUMENT_TYPES",
    "REDIRECT_INSTRUMENTS",
    "Card",
    "Instrument",
    "NetBanking",
    "PaymentModes",
    "Token",
    "UpiCollect",
    "UpiIntent",
    "UpiQr",
]

#: A VPA: ``handle@bank``; NPCI allows letters, digits, dot, hyphen and underscore.
_VPA = re.compile(r"[A-Za-z0-9._-]{2,256}@[A-Za-z0-9.-]{2,64}")
_TEXT_MAX = 256
_DEVICE_OS = frozenset({"ANDROID", "IOS"})


def _text(value: object, name: str, *, limit: int = _TEXT_MAX) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-empty string.", field=name)
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise ValidationError(f"{name} must be at most {limit} printable characters.", field=name)
    return value


def _two_digits(value: object, name: str, low: int, high: int) -> str:
    text = _text(value, name, limit=4)
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationError(f"{name} must be a number from {low} to {high}.", field=name)
    return text


@dataclass(frozen=True, slots=True)
class UpiIntent:
    """A ``upi://pay`` link that opens the customer's UPI app (optionally one app)."""

    mode: ClassVar[str] = "UPI_INTENT"
    #: An Android package name such as ``com.phonepe.app``; None lets the phone choose.
    target_app: str | None = None
    #: The customer's phone OS (``ANDROID`` / ``IOS``), sent as ``deviceContext.deviceOS``.
    device_os: str | None = None
    #: The merchant app's URL scheme, which PhonePe's app returns to on iOS.
    merchant_callback_scheme: str | None = None

    def __post_init__(self) -> None:
        if self.target_app is not None:
            _text(self.target_app, "target_app", limit=128)
        if self.device_os is not None and self.device_os not in _DEVICE_OS:
            raise ValidationError("device_os must be ANDROID or IOS.", field="device_os")
        if self.merchant_callback_scheme is not None:
            _text(self.merchant_callback_scheme, "merchant_callback_scheme", limit=64)

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"type": self.mode}
        if self.target_app:
            wire["targetApp"] = self.target_app
        return wire

    def device_context(self) -> dict[str, Any] | None:
        """The request's top-level ``deviceContext``, or None when nothing was given."""
        context: dict[str, Any] = {}
        if self.device_os:
            context["deviceOS"] = self.device_os
        if self.merchant_callback_scheme:
            context["merchantCallbackScheme"] = self.merchant_callback_scheme
        return context or None


@dataclass(frozen=True, slots=True)
class UpiCollect:
    """A collect request sent to the customer's VPA or phone number (exactly one)."""

    mode: ClassVar[str] = "UPI_COLLECT"
    vpa: str | None = None
    phone: str | None = None
    #: Shown to the customer in their UPI app with the request.
    message: str | None = None

    def __post_init__(self) -> None:
        if (self.vpa is None) == (self.phone is None):
            raise ValidationError("Give exactly one of vpa or phone.", field="vpa")
        if self.vpa is not None and (not isinstance(self.vpa, str) or not _VPA.fullmatch(self.vpa)):
            raise ValidationError("vpa must look like name@bank.", field="vpa")
        check_phone(self.phone, field="phone")
        if self.message is not None:
            _text(self.message, "message", limit=50)

    def to_wire(self) -> dict[str, Any]:
        details = (
            {"type": "VPA", "vpa": self.vpa}
            if self.vpa is not None
            else {"type": "PHONE_NUMBER", "phoneNumber": self.phone}
        )
        wire: dict[str, Any] = {"type": self.mode, "details": details}
        if self.message:
            wire["message"] = self.message
        return wire


@dataclass(frozen=True, slots=True)
class UpiQr:
    """QR data (a ``upi://pay`` string) for the merchant to draw; any UPI app pays it."""

    mode: ClassVar[str] = "UPI_QR"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.mode}


@dataclass(frozen=True, slots=True)
class NetBanking:
    """Net banking at one bank (PhonePe's bank id, e.g. ``HDFC``); answers a redirect."""

    mode: ClassVar[str] = "NET_BANKING"
    bank_id: str
    merchant_user_id: str | None = None

    def __post_init__(self) -> None:
        _text(self.bank_id, "bank_id", limit=32)
        if self.merchant_user_id is not None:
            _text(self.merchant_user_id, "merchant_user_id", limit=64)

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"type": self.mode, "bankId": self.bank_id}
        if self.merchant_user_id:
            wire["merchantUserId"] = self.merchant_user_id
        return wire


@dataclass(frozen=True, slots=True)
class Card:
    """A new card, encrypted with PhonePe's key; answers a redirect (3-D Secure / OTP)."""

    mode: ClassVar[str] = "CARD"
    encryption_key_id: int
    encrypted_card_number: str = field(repr=False)
    encrypted_cvv: str = field(repr=False)
    expiry_month: str
    expiry_year: str
    card_holder_name: str | None = None
    merchant_user_id: str | None = None
    auth_mode: str = "3DS"

    def __post_init__(self) -> None:
        if not isinstance(self.encryption_key_id, int) or isinstance(self.encryption_key_id, bool):
            raise ValidationError(
                "encryption_key_id must be an integer.", field="encryption_key_id"
            )
        _text(self.encrypted_card_number, "encrypted_card_number", limit=4096)
        _text(self.encrypted_cvv, "encrypted_cvv", limit=4096)
        _two_digits(self.expiry_month, "expiry_month", 1, 12)
        _two_digits(self.expiry_year, "expiry_year", 2000, 2199)
        if self.card_holder_name is not None:
            _text(self.card_holder_name, "card_holder_name", limit=64)
        _text(self.auth_mode, "auth_mode", limit=16)

    def to_wire(self) -> dict[str, Any]:
        details: dict[str, Any] = {
            "encryptedCardNumber": self.encrypted_card_number,
            "encryptionKeyId": self.encryption_key_id,
            "expiry": {"month": self.expiry_month, "year": self.expiry_year},
            "encryptedCvv": self.encrypted_cvv,
        }
        if self.card_holder_name:
            details["cardHolderName"] = self.card_holder_name
        wire: dict[str, Any] = {
            "type": self.mode,
            "authMode": self.auth_mode,
            "cardDetails": details,
        }
        if self.merchant_user_id:
            wire["merchantUserId"] = self.merchant_user_id
        return wire


@dataclass(frozen=True, slots=True)
class Token:
    """A network token (card on file), encrypted with PhonePe's key."""

    mode: ClassVar[str] = "TOKEN"
    encryption_key_id: int
    encrypted_token: str = field(repr=False)
    encrypted_cvv: str = field(repr=False)
    cryptogram: str = field(repr=False)
    pan_suffix: str
    expiry_month: str
    expiry_year: str
    card_holder_name: str | None = None
    merchant_user_id: str | None = None
    auth_mode: str = "3DS"

    def __post_init__(self) -> None:
        if not isinstance(self.encryption_key_id, int) or isinstance(self.encryption_key_id, bool):
            raise ValidationError(
                "encryption_key_id must be an integer.", field="encryption_key_id"
            )
        _text(self.encrypted_token, "encrypted_token", limit=4096)
        _text(self.encrypted_cvv, "encrypted_cvv", limit=4096)
        _text(self.cryptogram, "cryptogram", limit=4096)
        if not isinstance(self.pan_suffix, str) or not re.fullmatch(r"[0-9]{4}", self.pan_suffix):
            raise ValidationError(
                "pan_suffix must be the card's last 4 digits.", field="pan_suffix"
            )
        _two_digits(self.expiry_month, "expiry_month", 1, 12)
        _two_digits(self.expiry_year, "expiry_year", 2000, 2199)
        if self.card_holder_name is not None:
            _text(self.card_holder_name, "card_holder_name", limit=64)

    def to_wire(self) -> dict[str, Any]:
        details: dict[str, Any] = {
            "encryptedToken": self.encrypted_token,
            "encryptedCvv": self.encrypted_cvv,
            "encryptionKeyId": self.encryption_key_id,
            "expiry": {"month": self.expiry_month, "year": self.expiry_year},
            "cryptogram": self.cryptogram,
            "panSuffix": self.pan_suffix,
        }
        if self.card_holder_name:
            details["cardHolderName"] = self.card_holder_name
        wire: dict[str, Any] = {
            "type": self.mode,
            "authMode": self.auth_mode,
            "tokenDetails": details,
        }
        if self.merchant_user_id:
            wire["merchantUserId"] = self.merchant_user_id
        return wire


#: Every instrument a custom-checkout payment accepts; AutoPay set-up takes the UPI two.
Instrument = UpiIntent | UpiCollect | UpiQr | NetBanking | Card | Token
#: The same, for ``isinstance`` checks of what a caller passed.
INSTRUMENT_TYPES = (UpiIntent, UpiCollect, UpiQr, NetBanking, Card, Token)
#: Instruments whose answer is a redirect to a bank page: PhonePe requires ``redirectUrl``.
REDIRECT_INSTRUMENTS = (NetBanking, Card, Token)

#: The hosted page's payment modes by the names PhonePe's ``paymentModeConfig`` uses.
_PAGE_MODES = frozenset(
    {"UPI_INTENT", "UPI_COLLECT", "UPI_QR", "NET_BANKING", "CARD", "DEBIT_CARD", "CREDIT_CARD"}
)


@dataclass(frozen=True, slots=True)
class PaymentModes:
    """Which modes PhonePe's hosted page offers (``paymentModeConfig``): enable or disable."""

    enabled: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("enabled", "disabled"):
            modes = getattr(self, name)
            if isinstance(modes, str) or not all(m in _PAGE_MODES for m in modes):
                raise ValidationError(
                    f"{name} must be a tuple of {', '.join(sorted(_PAGE_MODES))}.", field=name
                )
        if set(self.enabled) & set(self.disabled):
            raise ValidationError("A mode cannot be both enabled and disabled.", field="enabled")
        if not self.enabled and not self.disabled:
            raise ValidationError("Name at least one enabled or disabled mode.", field="enabled")

    def to_wire(self) -> dict[str, Any]:
        def listed(modes: tuple[str, ...]) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for mode in modes:
                if mode in ("DEBIT_CARD", "CREDIT_CARD"):
                    out.append({"type": "CARD", "cardTypes": [mode]})
                else:
                    out.append({"type": mode})
            return out

        wire: dict[str, Any] = {}
        if self.enabled:
            wire["enabledPaymentModes"] = listed(self.enabled)
        if self.disabled:
            wire["disabledPaymentModes"] = listed(self.disabled)
        return wire
