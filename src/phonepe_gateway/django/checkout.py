"""The three ways a payment's order is asked for, and what of the answer must be kept.

PhonePe's hosted page (the default: ``checkout_url``), custom checkout by instrument
(``/payments/v2/pay``: an intent link, QR data, a collect request, a bank redirect) and a
mobile-SDK order (a token for the merchant's app). :mod:`.services` stores and records;
this module only knows which client call each kind is and which part of its answer the
customer pays with. That part lives in ``Payment.instrument_data`` only while the order
is open (:mod:`.states` empties it when the order closes). Nothing here touches the
ledger or keeps an instrument's (encrypted) card details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from phonepe_gateway import CreatePaymentResult, Instrument, PaymentModes, PhonePeClient

from .models import Payment

__all__ = ["HOSTED", "SDK", "SDK_CUSTOM", "Checkout", "answer_info", "has_link"]

#: ``Payment.instrument`` of the hosted page, and of the two kinds of mobile-SDK order.
HOSTED = ""
SDK = "SDK"
SDK_CUSTOM = "SDK_CUSTOM"
#: A collect request goes to the customer's UPI app: there is no link to hand over.
_NOTHING_TO_HAND_OVER = frozenset({"UPI_COLLECT"})
_DATA_KEYS = ("intent_url", "qr_data", "redirect_url", "sdk_token")


@dataclass(frozen=True, slots=True)
class Checkout:
    """How to ask for one payment's order (also how to ask again for its successor)."""

    #: the caller's redirect after payment; None: the app's ``redirect_url`` setting
    redirect_url: str | None = None
    instrument: Instrument | None = None
    #: ``SDK`` / ``SDK_CUSTOM`` for a mobile-SDK order, else "".
    sdk: str = ""
    #: the hosted page's options (``paymentModeConfig``, ``disablePaymentRetry``,
    #: ``prefillUserLoginDetails``); never with an instrument or an SDK order
    payment_modes: PaymentModes | None = None
    disable_payment_retry: bool = False
    prefill_phone: str | None = None

    @property
    def shapes_page(self) -> bool:
        """Whether any of the hosted page's options is set."""
        return (
            self.payment_modes is not None
            or self.disable_payment_retry
            or self.prefill_phone is not None
        )

    @property
    def mode(self) -> str:
        """What ``Payment.instrument`` records for this kind of order."""
        if self.sdk:
            return self.sdk
        return self.instrument.mode if self.instrument is not None else HOSTED

    def request(
        self,
        client: PhonePeClient,
        *,
        redirect_url: str | None,
        amount: int,
        merchant_order_id: str,
        expire_after: int | None,
        meta_info: dict[str, str] | None,
        callback_url: str | None,
    ) -> CreatePaymentResult:
        if self.sdk:
            return client.create_sdk_order(
                amount=amount,
                merchant_order_id=merchant_order_id,
                redirect_url=redirect_url,
                expire_after=expire_after,
                meta_info=meta_info,
                custom_checkout=self.sdk == SDK_CUSTOM,
            )
        return client.create_payment(  # instrument None: the hosted page
            amount=amount,
            merchant_order_id=merchant_order_id,
            redirect_url=redirect_url,
            expire_after=expire_after,
            meta_info=meta_info,
            callback_url=callback_url,
            instrument=self.instrument,
            payment_modes=self.payment_modes,
            disable_payment_retry=self.disable_payment_retry,
            prefill_phone=self.prefill_phone,
        )


def answer_info(mode: str, result: CreatePaymentResult) -> tuple[dict[str, Any], bool]:
    """The information to record from a create answer, and whether the answer carries
    what the customer pays with (False: it was lost, the order needs a successor)."""
    info: dict[str, Any] = {"gateway_order_id": result.order_id, "expires_at": result.expire_at}
    if mode == HOSTED:
        info["checkout_url"] = result.redirect_url
        return info, bool(result.redirect_url)
    found = {
        "intent_url": result.intent_url,
        "qr_data": result.qr_data,
        "redirect_url": result.redirect_url,
        "sdk_token": result.token,
    }
    data = {key: value for key, value in found.items() if isinstance(value, str) and value}
    if data:
        info["instrument_data"] = data
    if mode in _NOTHING_TO_HAND_OVER:
        return info, True
    if mode in (SDK, SDK_CUSTOM):
        return info, "sdk_token" in data
    return info, bool(data)


def has_link(payment: Payment) -> bool:
    """Does an open payment still have what its customer pays with? (An expired one's
    data was emptied on purpose: it has nothing to lose.)"""
    if payment.instrument == HOSTED:
        return bool(payment.checkout_url)
    if payment.instrument in _NOTHING_TO_HAND_OVER:
        return True
    if payment.expires_at is not None and payment.expires_at <= timezone.now():
        return True
    data = payment.instrument_data or {}
    return any(data.get(key) for key in _DATA_KEYS)
