"""``PhonePeClient`` and ``AsyncPhonePeClient``: the API surface over both generations.

Both twins share :class:`~._prepare.ClientBase`: settings, argument validation and id
generation, the calls' declarations (``_protocol``, ``_subscriptions``), and the call core
(``_calls``: token, 401 refresh, lost-answer recovery) over the transport core. A
twin's public method is one line that hands the prepared call to its driver
(``_drivers``); only that differs between sync and async. Construction never
touches the network; the first call does. Errors are only those of ``_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from ._clock import Clock
from ._config import Settings
from ._drivers import AsyncTransport, SyncTransport
from ._events import EventHook
from ._instruments import (
    Instrument,
    PaymentModes,
    UpiCollect,
    UpiIntent,
)
from ._models import CreatePaymentResult, OrderStatus, RefundResult, RefundStatus, WebhookEvent
from ._prepare import ClientBase
from ._protocol import Prepared
from ._subscriptions import (
    RedemptionNotice,
    RedemptionResult,
    SubscriptionSetup,
    SubscriptionStatus,
)
from ._webhooks import verify_webhook

__all__ = ["AsyncPhonePeClient", "PhonePeClient"]

T = TypeVar("T")


class PhonePeClient(ClientBase):
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


class AsyncPhonePeClient(ClientBase):
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
