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
from ._instruments import INSTRUMENT_TYPES, REDIRECT_INSTRUMENTS, Instrument, PaymentModes
from ._models import CreatePaymentResult, OrderStatus, RefundResult, RefundStatus, WebhookEvent
from ._protocol import Prepared, Protocol, V2Protocol
from ._protocol_v1 import protocol_for
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
