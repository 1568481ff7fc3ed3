"""The clients' shared half: argument checks, id generation and each call's declaration.

:class:`ClientBase` turns a public method's arguments into a :class:`~._protocol.Prepared`
call (validated before anything is sent: ``_validation``, ``_instruments``,
``_subscriptions``); ``PhonePeClient`` and ``AsyncPhonePeClient`` (``_client``) only run
it through their driver. Never touches the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

from ._auth import TokenProvider
from ._calls import CallCore
from ._clock import SYSTEM_CLOCK, Clock
from ._config import Settings
from ._errors import ConfigurationError, ValidationError
from ._events import EventHook
from ._instruments import (
    INSTRUMENT_TYPES,
    REDIRECT_INSTRUMENTS,
    Instrument,
    PaymentModes,
    UpiCollect,
    UpiIntent,
)
from ._models import CreatePaymentResult, OrderStatus, RefundResult, RefundStatus
from ._protocol import Prepared, Protocol, V2Protocol
from ._protocol_v1 import protocol_for
from ._subscriptions import (
    MAX_MANDATE_AMOUNT,
    NOTIFY_EXPIRE_AFTER_RANGE,
    SETUP_EXPIRE_AFTER_RANGE,
    RedemptionNotice,
    RedemptionResult,
    RetryStrategy,
    SubscriptionSetup,
    SubscriptionStatus,
    cancel_call,
    check_expire_after_in,
    check_setup_instrument,
    check_subscription_terms,
    notify_call,
    redeem_call,
    setup_call,
    subscription_order_status_call,
    subscription_status_call,
    subscription_transaction_status_call,
)
from ._transport import TransportCore
from ._validation import (
    CUSTOM_EXPIRE_AFTER_MAX,
    EXPIRE_AFTER_RANGE,
    MAX_ID_LENGTH,
    MAX_V1_ID_LENGTH,
    MIN_REFUND_AMOUNT,
    check_amount,
    check_expire_after,
    check_merchant_id,
    check_meta_info,
    check_phone,
    check_transaction_id,
    check_url,
    new_merchant_id,
)

__all__ = ["ClientBase"]

T = TypeVar("T")


class ClientBase:
    """What both clients share: settings, the call core over the transport core, and
    every call's argument checks and declaration (``_prepare_*``). A client adds only
    its driver (``_drivers``) and one-line public methods."""

    def __init__(
        self,
        settings: Settings | None,
        *,
        clock: Clock | None,
        on_event: EventHook | None,
        options: Mapping[str, Any],
    ) -> None:
        if settings is None:
            settings = Settings.from_env({}, **options)
        elif options:
            settings = _with_options(settings, options)
        self.settings = settings
        self.clock: Clock = clock or SYSTEM_CLOCK
        self._protocol: Protocol = protocol_for(settings)
        self._core = TransportCore(settings, self.clock, on_event)
        self._tokens = TokenProvider(self.clock)
        self._calls = CallCore(self._core, self._tokens, self._protocol.token)

    # -- shared request preparation ------------------------------------------------------

    @property
    def _max_id(self) -> int:
        return MAX_V1_ID_LENGTH if self._protocol.generation == 1 else MAX_ID_LENGTH

    def _v2_only(self, call: str) -> V2Protocol:
        """The protocol of a call only generation 2 offers (custom checkout, subscriptions):
        such a call is declared on :class:`V2Protocol` alone and reached through here."""
        if isinstance(self._protocol, V2Protocol):
            return self._protocol
        raise ConfigurationError(
            f"{call} is offered only by PhonePe's generation 2 API, and this client is set up "
            "for generation 1. Set PHONEPE_CLIENT_ID and PHONEPE_CLIENT_SECRET (and "
            "PHONEPE_API_VERSION=v2) to use it."
        )

    def _id(self, value: str | None, field: str, new_with_prefix: str | None = None) -> str:
        """``value`` checked against this generation's limit; a new id when None is allowed."""
        if value is None and new_with_prefix is not None:
            return new_merchant_id(new_with_prefix)
        return check_merchant_id(value, field=field, max_length=self._max_id)

    def _prepare_payment(
        self, amount: int, merchant_order_id: str | None, redirect_url: str | None,
        expire_after: int | None, meta_info: Mapping[str, str] | None, callback_url: str | None,
        instrument: Instrument | None = None, payment_modes: PaymentModes | None = None,
        disable_payment_retry: bool = False, prefill_phone: str | None = None,
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        if instrument is not None:
            return self._prepare_custom_payment(
                amount, merchant_order_id, redirect_url, expire_after, meta_info, instrument,
                payment_modes, disable_payment_retry, prefill_phone,
            )  # fmt: skip
        if payment_modes is not None and not isinstance(payment_modes, PaymentModes):
            raise ValidationError(
                "payment_modes must be a PaymentModes(enabled=…, disabled=…).",
                field="payment_modes",
            )
        retry_off = _flag(disable_payment_retry, "disable_payment_retry")
        phone = check_phone(prefill_phone)
        amount = check_amount(amount)
        mid = self._id(merchant_order_id, "merchant_order_id", "PP")
        redirect = check_url(redirect_url, field="redirect_url")
        expire = check_expire_after(expire_after)
        meta = check_meta_info(meta_info)
        callback = check_url(callback_url, field="callback_url")
        if payment_modes is None and not retry_off and phone is None:
            return self._protocol.create_payment(
                amount=amount, merchant_order_id=mid, redirect_url=redirect,
                expire_after=expire, meta_info=meta, callback_url=callback,
            )  # fmt: skip
        return self._v2_only("create_payment with page options").create_payment(
            amount=amount, merchant_order_id=mid, redirect_url=redirect, expire_after=expire,
            meta_info=meta, callback_url=callback, payment_modes=payment_modes,
            disable_payment_retry=retry_off, prefill_phone=phone,
        )  # fmt: skip

    def _prepare_custom_payment(
        self, amount: int, merchant_order_id: str | None, redirect_url: str | None,
        expire_after: int | None, meta_info: Mapping[str, str] | None, instrument: Instrument,
        payment_modes: PaymentModes | None, disable_payment_retry: bool,
        prefill_phone: str | None,
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        if not isinstance(instrument, INSTRUMENT_TYPES):
            raise ValidationError(
                "instrument must be one of UpiIntent, UpiCollect, UpiQr, NetBanking, Card or "
                f"Token, not {type(instrument).__name__}.",
                field="instrument",
            )
        for name, given in (
            ("payment_modes", payment_modes is not None),
            ("disable_payment_retry", disable_payment_retry),
            ("prefill_phone", prefill_phone is not None),
        ):
            if given:
                raise ValidationError(
                    f"{name} applies only to PhonePe's hosted page (instrument=None); a "
                    f"custom-checkout payment by {instrument.mode} has no such option.",
                    field=name,
                )
        redirect = check_url(redirect_url, field="redirect_url")
        if redirect is None and isinstance(instrument, REDIRECT_INSTRUMENTS):
            raise ValidationError(
                f"redirect_url is required for {instrument.mode}: PhonePe returns the customer "
                "there from the bank's page.",
                field="redirect_url",
            )
        return self._v2_only("create_payment with an instrument").custom_payment(
            amount=check_amount(amount),
            merchant_order_id=self._id(merchant_order_id, "merchant_order_id", "PP"),
            instrument=instrument,
            redirect_url=redirect,
            expire_after=check_expire_after(expire_after, maximum=CUSTOM_EXPIRE_AFTER_MAX),
            meta_info=check_meta_info(meta_info),
        )

    def _prepare_sdk_order(
        self, amount: int, merchant_order_id: str | None, redirect_url: str | None,
        expire_after: int | None, meta_info: Mapping[str, str] | None, custom_checkout: bool,
        disable_payment_retry: bool,
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        custom = _flag(custom_checkout, "custom_checkout")
        maximum = CUSTOM_EXPIRE_AFTER_MAX if custom else EXPIRE_AFTER_RANGE[1]
        return self._v2_only("create_sdk_order").sdk_order(
            amount=check_amount(amount),
            merchant_order_id=self._id(merchant_order_id, "merchant_order_id", "PP"),
            redirect_url=check_url(redirect_url, field="redirect_url"),
            expire_after=check_expire_after(expire_after, maximum=maximum),
            meta_info=check_meta_info(meta_info),
            custom=custom,
            disable_payment_retry=_flag(disable_payment_retry, "disable_payment_retry"),
        )

    def _prepare_status(
        self, merchant_order_id: str, details: bool, custom_checkout: bool = False
    ) -> Prepared[OrderStatus]:
        mid = self._id(merchant_order_id, "merchant_order_id")
        if _flag(custom_checkout, "custom_checkout"):
            return self._v2_only("get_order_status(custom_checkout=True)").order_status(
                mid, details=bool(details), custom=True
            )
        return self._protocol.order_status(mid, details=bool(details))

    def _prepare_transaction_status(
        self, transaction_id: str, custom_checkout: bool
    ) -> Prepared[OrderStatus]:
        return self._v2_only("get_transaction_status").transaction_status(
            check_transaction_id(transaction_id), custom=_flag(custom_checkout, "custom_checkout")
        )

    def _prepare_refund(
        self, original_merchant_order_id: str, amount: int, merchant_refund_id: str | None
    ) -> Prepared[RefundResult]:
        return self._protocol.refund(
            original_merchant_order_id=self._id(
                original_merchant_order_id, "original_merchant_order_id"
            ),
            amount=check_amount(amount, minimum=MIN_REFUND_AMOUNT),
            merchant_refund_id=self._id(merchant_refund_id, "merchant_refund_id", "PR"),
        )

    def _prepare_refund_status(self, merchant_refund_id: str) -> Prepared[RefundStatus]:
        return self._protocol.refund_status(self._id(merchant_refund_id, "merchant_refund_id"))

    # -- UPI AutoPay (subscriptions): argument checks and declarations --------------------

    def _expire_at_ms(self, seconds: int | None) -> int | None:
        """PhonePe's subscription calls take an order's expiry as epoch ms, not seconds."""
        return None if seconds is None else int((self.clock.time() + seconds) * 1000)

    def _prepare_setup_subscription(
        self, *, amount: int, max_amount: int, instrument: UpiIntent | UpiCollect,
        frequency: str, amount_type: str, auth_workflow: str, merchant_order_id: str | None,
        merchant_subscription_id: str | None, expire_after: int | None,
        subscription_expire_at: datetime | None, meta_info: Mapping[str, str] | None,
    ) -> Prepared[SubscriptionSetup]:  # fmt: skip
        protocol = self._v2_only("setup_subscription")
        terms = check_subscription_terms(
            amount=amount, max_amount=max_amount, frequency=frequency,
            amount_type=amount_type, auth_workflow=auth_workflow,
            subscription_expire_at=subscription_expire_at, now=self.clock.time(),
        )  # fmt: skip
        expire = check_expire_after_in(expire_after, SETUP_EXPIRE_AFTER_RANGE, "expire_after")
        return setup_call(
            protocol,
            merchant_order_id=self._id(merchant_order_id, "merchant_order_id", "PS"),
            merchant_subscription_id=self._id(
                merchant_subscription_id, "merchant_subscription_id", "MS"
            ),
            terms=terms,
            instrument=check_setup_instrument(instrument),
            order_expire_at_ms=self._expire_at_ms(expire),
            meta_info=check_meta_info(meta_info),
        )

    def _prepare_subscription_status(
        self, merchant_subscription_id: str, details: bool
    ) -> Prepared[SubscriptionStatus]:
        protocol = self._v2_only("get_subscription_status")
        mid = self._id(merchant_subscription_id, "merchant_subscription_id")
        return subscription_status_call(protocol, mid, details=bool(details))

    def _prepare_notify_redemption(
        self, *, merchant_subscription_id: str, amount: int, merchant_order_id: str | None,
        expire_after: int | None, auto_debit: bool, retry_strategy: str,
        meta_info: Mapping[str, str] | None,
    ) -> Prepared[RedemptionNotice]:  # fmt: skip
        protocol = self._v2_only("notify_redemption")
        if not isinstance(auto_debit, bool):
            raise ValidationError("auto_debit must be True or False.", field="auto_debit")
        if not isinstance(retry_strategy, str) or retry_strategy not in RetryStrategy.ALL:
            raise ValidationError(
                f"retry_strategy must be STANDARD or CUSTOM, not {retry_strategy!r}.",
                field="retry_strategy",
            )
        expire = check_expire_after_in(expire_after, NOTIFY_EXPIRE_AFTER_RANGE, "expire_after")
        amount = check_amount(amount)
        if amount > MAX_MANDATE_AMOUNT:
            raise ValidationError(
                f"amount {amount} paise is over NPCI's UPI AutoPay ceiling "
                f"({MAX_MANDATE_AMOUNT} paise).",
                field="amount",
            )
        return notify_call(
            protocol,
            merchant_order_id=self._id(merchant_order_id, "merchant_order_id", "PN"),
            merchant_subscription_id=self._id(merchant_subscription_id, "merchant_subscription_id"),
            amount=amount,
            expire_at_ms=self._expire_at_ms(expire),
            auto_debit=auto_debit,
            retry_strategy=retry_strategy,
            meta_info=check_meta_info(meta_info),
        )

    def _prepare_redeem(self, merchant_order_id: str) -> Prepared[RedemptionResult]:
        protocol = self._v2_only("redeem")
        return redeem_call(protocol, self._id(merchant_order_id, "merchant_order_id"))

    def _prepare_cancel_subscription(self, merchant_subscription_id: str) -> Prepared[bool]:
        protocol = self._v2_only("cancel_subscription")
        return cancel_call(protocol, self._id(merchant_subscription_id, "merchant_subscription_id"))

    def _prepare_subscription_order_status(
        self, merchant_order_id: str, details: bool
    ) -> Prepared[OrderStatus]:
        protocol = self._v2_only("get_subscription_order_status")
        mid = self._id(merchant_order_id, "merchant_order_id")
        return subscription_order_status_call(protocol, mid, details=bool(details))

    def _prepare_subscription_transaction_status(
        self, transaction_id: str
    ) -> Prepared[OrderStatus]:
        protocol = self._v2_only("get_subscription_transaction_status")
        tid = check_merchant_id(transaction_id, field="transaction_id", max_length=self._max_id)
        return subscription_transaction_status_call(protocol, tid)

    # -- end of UPI AutoPay ----------------------------------------------------------------

    def _describe(self) -> str:
        s = self.settings
        return f"env={s.env!r}, api_version={s.api_version!r}, base_urls={list(s.base_urls)!r}"


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False.", field=field)
    return value


def _with_options(settings: Settings, options: Mapping[str, Any]) -> Settings:
    """``settings`` with ``options`` applied, validated again like any other options."""
    raw: dict[str, Any] = {f.name: getattr(settings, f.name) for f in fields(settings)}
    follows = settings.oauth_urls == settings.base_urls
    if "base_urls" in options and "oauth_urls" not in options and follows:
        raw.pop("oauth_urls")  # the OAuth URLs followed the base URLs; keep following
    return Settings.from_env({}, **{**raw, **options})
