"""``PhonePeClient`` and ``AsyncPhonePeClient``: the API surface over both generations.

Both twins share :class:`_Base`: settings, validation, id generation, request
building and parsing (``_protocol``), the token cache and the transport core. Only
the few methods that send are written twice. Construction never touches the
network; the first call does. Errors are only those of ``_errors``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import fields
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from ._auth import Token, TokenProvider
from ._clock import SYSTEM_CLOCK, Clock
from ._config import Settings
from ._drivers import AsyncTransport, SyncTransport
from ._errors import (
    AuthenticationError,
    DuplicateRequestError,
    GatewayError,
    PhonePeError,
    TransportError,
)
from ._events import EventHook
from ._models import CreatePaymentResult, OrderStatus, RefundResult, RefundStatus, WebhookEvent
from ._protocol import Prepared, Protocol
from ._protocol_v1 import protocol_for
from ._transport import CallSpec, TransportCore
from ._validation import (
    MAX_ID_LENGTH,
    MAX_V1_ID_LENGTH,
    MIN_REFUND_AMOUNT,
    check_amount,
    check_expire_after,
    check_id,
    check_meta_info,
    check_url,
)
from ._webhooks import verify_webhook

__all__ = ["AsyncPhonePeClient", "PhonePeClient", "new_merchant_id"]

T = TypeVar("T")


def new_merchant_id(prefix: str = "PP") -> str:
    """A fresh id: prefix + 12 hex digits of epoch ms (sortable) + 16 random hex = 30 chars.

    Short enough for generation 1 (35) and made only of ``[A-Za-z0-9]``.
    """
    return f"{prefix}{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}".upper()


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

    # -- shared request preparation ------------------------------------------------------

    @property
    def _max_id(self) -> int:
        return MAX_V1_ID_LENGTH if self._protocol.generation == 1 else MAX_ID_LENGTH

    def _id(self, value: str | None, field: str, prefix: str) -> str:
        if value is None:
            return new_merchant_id(prefix)
        return check_id(value, field=field, max_length=self._max_id)

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
        mid = check_id(merchant_order_id, field="merchant_order_id", max_length=self._max_id)
        return self._protocol.order_status(mid, details=bool(details))

    def _prepare_refund(
        self, original_merchant_order_id: str, amount: int, merchant_refund_id: str | None
    ) -> Prepared[RefundResult]:
        original = check_id(
            original_merchant_order_id, field="original_merchant_order_id", max_length=self._max_id
        )
        return self._protocol.refund(
            original_merchant_order_id=original,
            amount=check_amount(amount, minimum=MIN_REFUND_AMOUNT),
            merchant_refund_id=self._id(merchant_refund_id, "merchant_refund_id", "PR"),
        )

    def _prepare_refund_status(self, merchant_refund_id: str) -> Prepared[RefundStatus]:
        rid = check_id(merchant_refund_id, field="merchant_refund_id", max_length=self._max_id)
        return self._protocol.refund_status(rid)

    def _token_spec(self) -> CallSpec:
        spec = self._protocol.token()
        assert spec is not None
        return spec

    @staticmethod
    def _authorized(prepared: Prepared[Any], token: Token | None) -> CallSpec:
        if token is None:
            return prepared.spec
        return prepared.spec.with_header("authorization", token.header)

    @staticmethod
    def _recovered(prepared: Prepared[T], error: GatewayError) -> T | None:
        return prepared.recover(error) if prepared.recover is not None else None

    @staticmethod
    def _lost_answer(error: DuplicateRequestError) -> bool:
        """A duplicate that our own earlier (maybe-sent) attempt of this call caused."""
        return bool(error.details.get("after_maybe_sent"))

    @staticmethod
    def _maybe_sent(error: PhonePeError, earlier: GatewayError) -> None:
        """``error`` ends a call an ``earlier`` attempt of which may have reached the gateway:
        whatever the later attempts say, the outcome is unknown (never "not acted")."""
        if not earlier.details.get("after_maybe_sent"):
            return
        if isinstance(error, TransportError) and not error.request_sent:
            error.request_sent = True
            error.message = (
                f"{error.message} An earlier attempt may have reached the gateway: the "
                "outcome is UNKNOWN; reconcile it with the status API."
            )
            error.args = (error.message,)
        elif isinstance(error, GatewayError):
            error.details["after_maybe_sent"] = True

    @staticmethod
    def _payment_from_status(
        status: OrderStatus, amount: int, error: DuplicateRequestError
    ) -> CreatePaymentResult:
        if status.amount is not None and status.amount != amount:
            raise error
        return CreatePaymentResult(
            merchant_order_id=status.merchant_order_id,
            order_id=status.order_id,
            state=status.state,
            expire_at=status.expire_at,
            raw=status.raw,
        )

    @staticmethod
    def _refund_from_status(
        status: RefundStatus, amount: int, original: str, error: DuplicateRequestError
    ) -> RefundResult:
        if status.amount is not None and status.amount != amount:
            raise error
        if status.original_merchant_order_id not in (None, original):
            raise error  # the id is another order's refund: never adopt it
        return RefundResult(
            merchant_refund_id=status.merchant_refund_id,
            state=status.state,
            amount=status.amount,
            raw=status.raw,
        )

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
        deadline = self._core.deadline()
        try:
            return self._execute(prepared, deadline)
        except DuplicateRequestError as exc:
            if not self._lost_answer(exc):
                raise
            try:
                status = self._execute(self._prepare_status(prepared.key, False), deadline)
            except PhonePeError as failure:
                raise exc from failure  # it exists there: the outcome stays unknown
            return self._payment_from_status(status, amount, exc)

    def get_order_status(self, merchant_order_id: str, *, details: bool = False) -> OrderStatus:
        return self._execute(self._prepare_status(merchant_order_id, details), None)

    def refund(
        self, *, original_merchant_order_id: str, amount: int, merchant_refund_id: str | None = None
    ) -> RefundResult:
        prepared = self._prepare_refund(original_merchant_order_id, amount, merchant_refund_id)
        deadline = self._core.deadline()
        try:
            return self._execute(prepared, deadline)
        except DuplicateRequestError as exc:
            if not self._lost_answer(exc):
                raise
            try:
                status = self._execute(self._prepare_refund_status(prepared.key), deadline)
            except PhonePeError as failure:
                raise exc from failure  # it exists there: the outcome stays unknown
            return self._refund_from_status(status, amount, original_merchant_order_id, exc)

    def get_refund_status(self, merchant_refund_id: str) -> RefundStatus:
        return self._execute(self._prepare_refund_status(merchant_refund_id), None)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Authenticate and parse a callback (no I/O); raises ``WebhookVerificationError``."""
        return verify_webhook(self.settings, headers, body)

    # -- sending ------------------------------------------------------------------------

    def _token(self, deadline: float | None) -> Token:
        return self._tokens.get(lambda: self._transport.send(self._token_spec(), deadline))

    def _execute(self, prepared: Prepared[T], deadline: float | None) -> T:
        deadline = self._core.deadline() if deadline is None else deadline
        token = self._token(deadline) if prepared.needs_token else None
        try:
            data = self._transport.send(self._authorized(prepared, token), deadline)
        except AuthenticationError as exc:
            if token is None or exc.http_status != 401:
                raise
            self._tokens.invalidate(token)
            try:
                token = self._token(deadline)
                data = self._transport.send(self._authorized(prepared, token), deadline)
            except PhonePeError as again:
                self._maybe_sent(again, exc)
                raise
        except GatewayError as exc:
            recovered = self._recovered(prepared, exc)
            if recovered is None:
                raise
            return recovered
        return prepared.parse(data)

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
        deadline = self._core.deadline()
        try:
            return await self._execute(prepared, deadline)
        except DuplicateRequestError as exc:
            if not self._lost_answer(exc):
                raise
            status_call = self._prepare_status(prepared.key, False)
            try:
                status = await self._execute(status_call, deadline)
            except PhonePeError as failure:
                raise exc from failure  # it exists there: the outcome stays unknown
            return self._payment_from_status(status, amount, exc)

    async def get_order_status(
        self, merchant_order_id: str, *, details: bool = False
    ) -> OrderStatus:
        return await self._execute(self._prepare_status(merchant_order_id, details), None)

    async def refund(
        self, *, original_merchant_order_id: str, amount: int, merchant_refund_id: str | None = None
    ) -> RefundResult:
        prepared = self._prepare_refund(original_merchant_order_id, amount, merchant_refund_id)
        deadline = self._core.deadline()
        try:
            return await self._execute(prepared, deadline)
        except DuplicateRequestError as exc:
            if not self._lost_answer(exc):
                raise
            status_call = self._prepare_refund_status(prepared.key)
            try:
                status = await self._execute(status_call, deadline)
            except PhonePeError as failure:
                raise exc from failure  # it exists there: the outcome stays unknown
            return self._refund_from_status(status, amount, original_merchant_order_id, exc)

    async def get_refund_status(self, merchant_refund_id: str) -> RefundStatus:
        return await self._execute(self._prepare_refund_status(merchant_refund_id), None)

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Awaitable for symmetry with the other calls; does no I/O."""
        return verify_webhook(self.settings, headers, body)

    # -- sending ------------------------------------------------------------------------

    async def _token(self, deadline: float | None) -> Token:
        return await self._tokens.aget(lambda: self._transport.send(self._token_spec(), deadline))

    async def _execute(self, prepared: Prepared[T], deadline: float | None) -> T:
        deadline = self._core.deadline() if deadline is None else deadline
        token = await self._token(deadline) if prepared.needs_token else None
        try:
            data = await self._transport.send(self._authorized(prepared, token), deadline)
        except AuthenticationError as exc:
            if token is None or exc.http_status != 401:
                raise
            self._tokens.invalidate(token)
            try:
                token = await self._token(deadline)
                data = await self._transport.send(self._authorized(prepared, token), deadline)
            except PhonePeError as again:
                self._maybe_sent(again, exc)
                raise
        except GatewayError as exc:
            recovered = self._recovered(prepared, exc)
            if recovered is None:
                raise
            return recovered
        return prepared.parse(data)

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
