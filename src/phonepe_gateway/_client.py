"""``PhonePeClient`` and ``AsyncPhonePeClient``: the API surface over both generations.

Both twins share :class:`_Base`: settings, argument validation and id generation
(``_validation``), the calls' declarations (``_protocol``), and the call core
(``_calls``: token, 401 refresh, lost-answer recovery) over the transport core. A
twin's public method is one line that hands the prepared call to its driver
(``_drivers``); only that differs between sync and async. Construction never
touches the network; the first call does. Errors are only those of ``_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from ._auth import TokenProvider
from ._calls import CallCore
from ._clock import SYSTEM_CLOCK, Clock
from ._config import Settings
from ._drivers import AsyncTransport, SyncTransport
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
from ._models import CreatePaymentResult, OrderStatus, RefundResult, RefundStatus, WebhookEvent
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
from ._webhooks import verify_webhook

__all__ = ["AsyncPhonePeClient", "PhonePeClient"]

T = TypeVar("T")


class _Base:
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


class PhonePeClient(_Base):
    """Synchronous PhonePe client (thread-safe; one connection pool per instance)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        on_event: EventHook | None = None,
        **options: Any,
    ) -> None:
        super().__init__(settings, clock=clock, on_event=on_event, options=options)
        self._transport = SyncTransport(self._core, transport)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        on_event: EventHook | None = None,
        **options: Any,
    ) -> PhonePeClient:
        settings = Settings.from_env(environ, **options)
        return cls(settings, transport=transport, clock=clock, on_event=on_event)

    def create_payment(
        self,
        *,
        amount: int,
        merchant_order_id: str | None = None,
        redirect_url: str | None = None,
        expire_after: int | None = None,
        meta_info: dict[str, str] | None = None,
        callback_url: str | None = None,
        instrument: Instrument | None = None,
        payment_modes: PaymentModes | None = None,
        disable_payment_retry: bool = False,
        prefill_phone: str | None = None,
    ) -> CreatePaymentResult:
        """Create an order for ``amount`` paise.

        ``instrument=None``: PhonePe's hosted page (``result.redirect_url``), where
        ``payment_modes``, ``disable_payment_retry`` and ``prefill_phone`` shape the page.
        An instrument (``UpiIntent``, ``UpiQr``, ``UpiCollect``, ``NetBanking``, ``Card``,
        ``Token``): custom checkout, answered with ``intent_url``, ``qr_data`` or a bank
        ``redirect_url`` (card, net banking and token need ``redirect_url``);
        ``expire_after`` may then reach 5 184 000 s. Generation 2 only beyond the plain page.
        """
        return self._run(
            self._prepare_payment(
                amount,
                merchant_order_id,
                redirect_url,
                expire_after,
                meta_info,
                callback_url,
                instrument,
                payment_modes,
                disable_payment_retry,
                prefill_phone,
            )
        )

    def create_sdk_order(
        self,
        *,
        amount: int,
        merchant_order_id: str | None = None,
        redirect_url: str | None = None,
        expire_after: int | None = None,
        meta_info: dict[str, str] | None = None,
        custom_checkout: bool = False,
        disable_payment_retry: bool = False,
    ) -> CreatePaymentResult:
        """An order for PhonePe's Android/iOS SDK: hand ``result.token`` to the app.
        ``custom_checkout``: the custom-checkout SDK order (the app picks the instrument)."""
        return self._run(
            self._prepare_sdk_order(
                amount,
                merchant_order_id,
                redirect_url,
                expire_after,
                meta_info,
                custom_checkout,
                disable_payment_retry,
            )
        )

    def get_order_status(
        self, merchant_order_id: str, *, details: bool = False, custom_checkout: bool = False
    ) -> OrderStatus:
        """The order's state. ``custom_checkout``: ask custom checkout's status path, as
        PhonePe's ``CustomCheckoutClient`` does for orders paid by an instrument."""
        return self._run(self._prepare_status(merchant_order_id, details, custom_checkout))

    def get_transaction_status(
        self, transaction_id: str, *, custom_checkout: bool = False
    ) -> OrderStatus:
        """One payment attempt (``PaymentDetail.transaction_id``), in the order-status
        shape; ``merchant_order_id`` is empty when PhonePe's answer leaves it out."""
        return self._run(self._prepare_transaction_status(transaction_id, custom_checkout))

    def refund(
        self, *, original_merchant_order_id: str, amount: int, merchant_refund_id: str | None = None
    ) -> RefundResult:
        return self._run(
            self._prepare_refund(original_merchant_order_id, amount, merchant_refund_id)
        )

    def get_refund_status(self, merchant_refund_id: str) -> RefundStatus:
        return self._run(self._prepare_refund_status(merchant_refund_id))

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Authenticate and parse a callback (no I/O); raises ``WebhookVerificationError``."""
        return verify_webhook(self.settings, headers, body)

    # -- UPI AutoPay (subscriptions; PhonePe's SubscriptionClient) ------------------------

    def setup_subscription(
        self,
        *,
        amount: int,
        max_amount: int,
        instrument: UpiIntent | UpiCollect,
        frequency: str,
        amount_type: str = "VARIABLE",
        auth_workflow: str = "TRANSACTION",
        merchant_order_id: str | None = None,
        merchant_subscription_id: str | None = None,
        expire_after: int | None = None,
        subscription_expire_at: datetime | None = None,
        meta_info: dict[str, str] | None = None,
    ) -> SubscriptionSetup:
        """Start a UPI AutoPay mandate (``POST /subscriptions/v2/setup``).

        The customer approves it from ``intent_url`` (``UpiIntent``) or in their UPI app
        (``UpiCollect(vpa=...)``); then ``get_subscription_status`` turns ``ACTIVE``.
        ``amount`` is the first debit (``TRANSACTION``) or 200 (``PENNY_DROP``);
        ``max_amount`` caps every later debit. Terms PhonePe would refuse raise
        ``ValidationError`` before anything is sent (see ``check_subscription_terms``).
        An intent set-up sends ``deviceContext`` (the intent's device OS, else ANDROID).
        A lost answer is recovered through the subscription order status (the recovered
        result has no ``intent_url``: PhonePe gives the link only in the set-up answer).
        """
        return self._run(
            self._prepare_setup_subscription(
                amount=amount, max_amount=max_amount, instrument=instrument,
                frequency=frequency, amount_type=amount_type, auth_workflow=auth_workflow,
                merchant_order_id=merchant_order_id,
                merchant_subscription_id=merchant_subscription_id,
                expire_after=expire_after, subscription_expire_at=subscription_expire_at,
                meta_info=meta_info,
            )
        )  # fmt: skip

    def get_subscription_status(
        self, merchant_subscription_id: str, *, details: bool = False
    ) -> SubscriptionStatus:
        """The mandate's state (``PENDING``, ``ACTIVE``, ``PAUSED``, ``REVOKED``, …)."""
        return self._run(self._prepare_subscription_status(merchant_subscription_id, details))

    def notify_redemption(
        self,
        *,
        merchant_subscription_id: str,
        amount: int,
        merchant_order_id: str | None = None,
        expire_after: int | None = None,
        auto_debit: bool = False,
        retry_strategy: str = "STANDARD",
        meta_info: dict[str, str] | None = None,
    ) -> RedemptionNotice:
        """Tell the customer about a coming debit (``POST /subscriptions/v2/notify``).

        The debit is :meth:`redeem` of the returned ``merchant_order_id``, once PhonePe's
        notice period has passed (or PhonePe debits by itself with ``auto_debit=True``).
        """
        return self._run(
            self._prepare_notify_redemption(
                merchant_subscription_id=merchant_subscription_id, amount=amount,
                merchant_order_id=merchant_order_id, expire_after=expire_after,
                auto_debit=auto_debit, retry_strategy=retry_strategy, meta_info=meta_info,
            )
        )  # fmt: skip

    def redeem(self, merchant_order_id: str) -> RedemptionResult:
        """Debit a notified order (``POST /subscriptions/v2/redeem``); usually PENDING:
        confirm with :meth:`get_subscription_order_status`."""
        return self._run(self._prepare_redeem(merchant_order_id))

    def cancel_subscription(self, merchant_subscription_id: str) -> None:
        """Cancel the mandate (``POST /subscriptions/v2/{id}/cancel``); no later debit."""
        self._run(self._prepare_cancel_subscription(merchant_subscription_id))

    def get_subscription_order_status(
        self, merchant_order_id: str, *, details: bool = False
    ) -> OrderStatus:
        """A set-up or redemption order (``GET /subscriptions/v2/order/{id}/status``)."""
        return self._run(self._prepare_subscription_order_status(merchant_order_id, details))

    def get_subscription_transaction_status(self, transaction_id: str) -> OrderStatus:
        """One attempt of a subscription order, by PhonePe's transaction id."""
        return self._run(self._prepare_subscription_transaction_status(transaction_id))

    # -- end of UPI AutoPay ----------------------------------------------------------------

    # -- sending ------------------------------------------------------------------------

    def _run(self, prepared: Prepared[T]) -> T:
        return self._transport.run(self._calls.run(prepared))

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.close()

    def __repr__(self) -> str:
        return f"PhonePeClient({self._describe()})"


class AsyncPhonePeClient(_Base):
    """asyncio PhonePe client (one connection pool per instance). Every call is awaited."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        on_event: EventHook | None = None,
        **options: Any,
    ) -> None:
        super().__init__(settings, clock=clock, on_event=on_event, options=options)
        self._transport = AsyncTransport(self._core, transport)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        on_event: EventHook | None = None,
        **options: Any,
    ) -> AsyncPhonePeClient:
        settings = Settings.from_env(environ, **options)
        return cls(settings, transport=transport, clock=clock, on_event=on_event)

    async def create_payment(
        self,
        *,
        amount: int,
        merchant_order_id: str | None = None,
        redirect_url: str | None = None,
        expire_after: int | None = None,
        meta_info: dict[str, str] | None = None,
        callback_url: str | None = None,
        instrument: Instrument | None = None,
        payment_modes: PaymentModes | None = None,
        disable_payment_retry: bool = False,
        prefill_phone: str | None = None,
    ) -> CreatePaymentResult:
        """See :meth:`PhonePeClient.create_payment`."""
        return await self._run(
            self._prepare_payment(
                amount,
                merchant_order_id,
                redirect_url,
                expire_after,
                meta_info,
                callback_url,
                instrument,
                payment_modes,
                disable_payment_retry,
                prefill_phone,
            )
        )

    async def create_sdk_order(
        self,
        *,
        amount: int,
        merchant_order_id: str | None = None,
        redirect_url: str | None = None,
        expire_after: int | None = None,
        meta_info: dict[str, str] | None = None,
        custom_checkout: bool = False,
        disable_payment_retry: bool = False,
    ) -> CreatePaymentResult:
        """See :meth:`PhonePeClient.create_sdk_order`."""
        return await self._run(
            self._prepare_sdk_order(
                amount,
                merchant_order_id,
                redirect_url,
                expire_after,
                meta_info,
                custom_checkout,
                disable_payment_retry,
            )
        )

    async def get_order_status(
        self, merchant_order_id: str, *, details: bool = False, custom_checkout: bool = False
    ) -> OrderStatus:
        """See :meth:`PhonePeClient.get_order_status`."""
        return await self._run(self._prepare_status(merchant_order_id, details, custom_checkout))

    async def get_transaction_status(
        self, transaction_id: str, *, custom_checkout: bool = False
    ) -> OrderStatus:
        """See :meth:`PhonePeClient.get_transaction_status`."""
        return await self._run(self._prepare_transaction_status(transaction_id, custom_checkout))

    async def refund(
        self, *, original_merchant_order_id: str, amount: int, merchant_refund_id: str | None = None
    ) -> RefundResult:
        return await self._run(
            self._prepare_refund(original_merchant_order_id, amount, merchant_refund_id)
        )

    async def get_refund_status(self, merchant_refund_id: str) -> RefundStatus:
        return await self._run(self._prepare_refund_status(merchant_refund_id))

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Awaitable for symmetry with the other calls; does no I/O."""
        return verify_webhook(self.settings, headers, body)

    # -- UPI AutoPay (subscriptions; PhonePe's SubscriptionClient) ------------------------

    async def setup_subscription(
        self,
        *,
        amount: int,
        max_amount: int,
        instrument: UpiIntent | UpiCollect,
        frequency: str,
        amount_type: str = "VARIABLE",
        auth_workflow: str = "TRANSACTION",
        merchant_order_id: str | None = None,
        merchant_subscription_id: str | None = None,
        expire_after: int | None = None,
        subscription_expire_at: datetime | None = None,
        meta_info: dict[str, str] | None = None,
    ) -> SubscriptionSetup:
        """Start a UPI AutoPay mandate (``POST /subscriptions/v2/setup``).

        The customer approves it from ``intent_url`` (``UpiIntent``) or in their UPI app
        (``UpiCollect(vpa=...)``); then ``get_subscription_status`` turns ``ACTIVE``.
        ``amount`` is the first debit (``TRANSACTION``) or 200 (``PENNY_DROP``);
        ``max_amount`` caps every later debit. Terms PhonePe would refuse raise
        ``ValidationError`` before anything is sent (see ``check_subscription_terms``).
        An intent set-up sends ``deviceContext`` (the intent's device OS, else ANDROID).
        A lost answer is recovered through the subscription order status (the recovered
        result has no ``intent_url``: PhonePe gives the link only in the set-up answer).
        """
        return await self._run(
            self._prepare_setup_subscription(
                amount=amount, max_amount=max_amount, instrument=instrument,
                frequency=frequency, amount_type=amount_type, auth_workflow=auth_workflow,
                merchant_order_id=merchant_order_id,
                merchant_subscription_id=merchant_subscription_id,
                expire_after=expire_after, subscription_expire_at=subscription_expire_at,
                meta_info=meta_info,
            )
        )  # fmt: skip

    async def get_subscription_status(
        self, merchant_subscription_id: str, *, details: bool = False
    ) -> SubscriptionStatus:
        """The mandate's state (``PENDING``, ``ACTIVE``, ``PAUSED``, ``REVOKED``, …)."""
        return await self._run(self._prepare_subscription_status(merchant_subscription_id, details))

    async def notify_redemption(
        self,
        *,
        merchant_subscription_id: str,
        amount: int,
        merchant_order_id: str | None = None,
        expire_after: int | None = None,
        auto_debit: bool = False,
        retry_strategy: str = "STANDARD",
        meta_info: dict[str, str] | None = None,
    ) -> RedemptionNotice:
        """Tell the customer about a coming debit (``POST /subscriptions/v2/notify``).

        The debit is :meth:`redeem` of the returned ``merchant_order_id``, once PhonePe's
        notice period has passed (or PhonePe debits by itself with ``auto_debit=True``).
        """
        return await self._run(
            self._prepare_notify_redemption(
                merchant_subscription_id=merchant_subscription_id, amount=amount,
                merchant_order_id=merchant_order_id, expire_after=expire_after,
                auto_debit=auto_debit, retry_strategy=retry_strategy, meta_info=meta_info,
            )
        )  # fmt: skip

    async def redeem(self, merchant_order_id: str) -> RedemptionResult:
        """Debit a notified order (``POST /subscriptions/v2/redeem``); usually PENDING:
        confirm with :meth:`get_subscription_order_status`."""
        return await self._run(self._prepare_redeem(merchant_order_id))

    async def cancel_subscription(self, merchant_subscription_id: str) -> None:
        """Cancel the mandate (``POST /subscriptions/v2/{id}/cancel``); no later debit."""
        await self._run(self._prepare_cancel_subscription(merchant_subscription_id))

    async def get_subscription_order_status(
        self, merchant_order_id: str, *, details: bool = False
    ) -> OrderStatus:
        """A set-up or redemption order (``GET /subscriptions/v2/order/{id}/status``)."""
        return await self._run(self._prepare_subscription_order_status(merchant_order_id, details))

    async def get_subscription_transaction_status(self, transaction_id: str) -> OrderStatus:
        """One attempt of a subscription order, by PhonePe's transaction id."""
        return await self._run(self._prepare_subscription_transaction_status(transaction_id))

    # -- end of UPI AutoPay ----------------------------------------------------------------

    # -- sending ------------------------------------------------------------------------

    async def _run(self, prepared: Prepared[T]) -> T:
        return await self._transport.run(self._calls.run(prepared))

    # -- lifecycle ----------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._transport.aclose()

    close = aclose

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncPhonePeClient({self._describe()})"
