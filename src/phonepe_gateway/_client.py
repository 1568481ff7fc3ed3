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
from ._errors import ConfigurationError
from ._events import EventHook
from ._models import CreatePaymentResult, OrderStatus, RefundResult, RefundStatus, WebhookEvent
from ._protocol import Prepared, Protocol, V2Protocol
from ._protocol_v1 import protocol_for
from ._transport import TransportCore
from ._validation import (
    MAX_ID_LENGTH,
    MAX_V1_ID_LENGTH,
    MIN_REFUND_AMOUNT,
    check_amount,
    check_expire_after,
    check_merchant_id,
    check_meta_info,
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
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        return self._protocol.create_payment(
            amount=check_amount(amount),
            merchant_order_id=self._id(merchant_order_id, "merchant_order_id", "PP"),
            redirect_url=check_url(redirect_url, field="redirect_url"),
            expire_after=check_expire_after(expire_after),
            meta_info=check_meta_info(meta_info),
            callback_url=check_url(callback_url, field="callback_url"),
        )

    def _prepare_status(self, merchant_order_id: str, details: bool) -> Prepared[OrderStatus]:
        mid = self._id(merchant_order_id, "merchant_order_id")
        return self._protocol.order_status(mid, details=bool(details))

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
    ) -> CreatePaymentResult:
        prepared = self._prepare_payment(
            amount, merchant_order_id, redirect_url, expire_after, meta_info, callback_url
        )
        return self._run(prepared)

    def get_order_status(self, merchant_order_id: str, *, details: bool = False) -> OrderStatus:
        return self._run(self._prepare_status(merchant_order_id, details))

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
    ) -> CreatePaymentResult:
        prepared = self._prepare_payment(
            amount, merchant_order_id, redirect_url, expire_after, meta_info, callback_url
        )
        return await self._run(prepared)

    async def get_order_status(
        self, merchant_order_id: str, *, details: bool = False
    ) -> OrderStatus:
        return await self._run(self._prepare_status(merchant_order_id, details))

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
