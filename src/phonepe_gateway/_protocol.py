"""PhonePe's API as request builders and lenient parsers (no I/O); generation 2 here.

Each method declares one call as a :class:`Prepared`: the :class:`CallSpec` to send,
the function that turns the gateway's JSON into a result model, and, for a write, how
to recover its lost answer (:class:`Confirm`). Both clients run every call the same
way (``_calls``). Generation 1 lives in ``_protocol_v1``.
Unknown fields and values are kept in ``raw`` and never fail a parse.
Secrets enter only the request headers (token, X-VERIFY); nothing here logs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from ._config import Settings
from ._errors import ConfigurationError, GatewayError
from ._instruments import Instrument, PaymentModes, UpiIntent, UpiQr
from ._models import (
    CreatePaymentResult,
    OrderState,
    OrderStatus,
    PaymentDetail,
    RefundResult,
    RefundState,
    RefundStatus,
)
from ._transport import CallSpec

__all__ = [
    "JSON_TYPE",
    "Confirm",
    "Prepared",
    "Protocol",
    "V2Protocol",
    "as_dict",
    "as_int",
    "as_str",
    "ms_to_datetime",
    "parse_order_status",
]

S = TypeVar("S")
T = TypeVar("T")
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Prepared(Generic[T]):
    """One call, declared: what to send and how to read the answer.

    Everything else (the token, the 401 refresh, retries, failover, recovering a lost
    answer) is the same for every call and lives in ``_calls`` and ``_transport``.
    """

    spec: CallSpec
    parse: Callable[[dict[str, Any]], T]
    needs_token: bool = False
    #: Turns some gateway errors into a result (generation 1 answers states with 4xx codes).
    recover: Callable[[GatewayError], T | None] | None = None
    #: A write's way back from a lost answer (see :class:`Confirm`); None for reads.
    confirm: Confirm[Any, T] | None = None


@dataclass(frozen=True, slots=True)
class Confirm(Generic[S, T]):
    """How a write learns what its lost answer said.

    PhonePe treats a write's merchant order / refund id as an idempotency key, so a
    "duplicate" answer -- or the plain 400 ``BAD_REQUEST`` PhonePe really answers a
    reused id with -- after an attempt that may have reached it means that attempt may
    have acted. ``status`` builds the status call for that id; ``adopt`` reads its
    answer as the write's result, or None when it describes another request made
    under the same id (then the call ends in a DuplicateRequestError).
    """

    status: Callable[[], Prepared[S]]
    adopt: Callable[[S], T | None]


def ms_to_datetime(value: Any) -> datetime | None:
    """Epoch milliseconds (or seconds, if small) to an aware UTC datetime; None if unusable."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number <= 0:
        return None
    if number > 1e11:
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def as_int(value: Any) -> int | None:
    """A whole number however the gateway wrote it (``100``, ``100.0``, ``"100"``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def as_str(value: Any) -> str | None:
    """A scalar as text; None for a missing value or an object/list where text belongs."""
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def as_dict(value: Any) -> dict[str, Any]:
    """An object, or ``{}`` when the gateway sent something else (so lookups never fail)."""
    return value if isinstance(value, dict) else {}


def _detail(item: Mapping[str, Any]) -> PaymentDetail:
    return PaymentDetail(
        transaction_id=as_str(item.get("transactionId")),
        payment_mode=as_str(item.get("paymentMode")),
        timestamp=ms_to_datetime(item.get("timestamp")),
        amount=as_int(item.get("amount")),
        state=as_str(item.get("state")),
        error_code=as_str(item.get("errorCode")),
        detailed_error_code=as_str(item.get("detailedErrorCode")),
        raw=dict(item),
    )


class Protocol:
    """What both generations offer; see :class:`V2Protocol` and :class:`V1Protocol`."""

    generation = 2

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def token(self) -> CallSpec | None:
        return None

    def create_payment(
        self, *, amount: int, merchant_order_id: str, redirect_url: str | None,
        expire_after: int | None, meta_info: dict[str, str] | None, callback_url: str | None,
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        raise NotImplementedError

    def order_status(self, merchant_order_id: str, *, details: bool) -> Prepared[OrderStatus]:
        raise NotImplementedError

    def refund(
        self, *, original_merchant_order_id: str, amount: int, merchant_refund_id: str
    ) -> Prepared[RefundResult]:
        raise NotImplementedError

    def refund_status(self, merchant_refund_id: str) -> Prepared[RefundStatus]:
        raise NotImplementedError

    # -- how the writes recover a lost answer (the same over both generations) ----------

    def _confirm_payment(
        self,
        merchant_order_id: str,
        amount: int,
        *,
        status: Callable[[], Prepared[OrderStatus]] | None = None,
        instrument: str | None = None,
    ) -> Confirm[OrderStatus, CreatePaymentResult]:
        """``status``: the order-status call to ask (default: this generation's own);
        ``instrument``: the custom-checkout mode the recovered result reports."""

        def adopt(found: OrderStatus) -> CreatePaymentResult | None:
            if found.amount is not None and found.amount != amount:
                return None  # another payment under this id: never adopt it
            return CreatePaymentResult(
                merchant_order_id=found.merchant_order_id,
                order_id=found.order_id,
                state=found.state,
                expire_at=found.expire_at,
                instrument=instrument,
                raw=found.raw,
            )

        if status is None:
            return Confirm(lambda: self.order_status(merchant_order_id, details=False), adopt)
        return Confirm(status, adopt)

    def _confirm_refund(
        self, merchant_refund_id: str, amount: int, original: str
    ) -> Confirm[RefundStatus, RefundResult]:
        def adopt(status: RefundStatus) -> RefundResult | None:
            if status.amount is not None and status.amount != amount:
                return None
            if status.original_merchant_order_id not in (None, original):
                return None  # the id is another order's refund: never adopt it
            return RefundResult(
                merchant_refund_id=status.merchant_refund_id,
                state=status.state,
                amount=status.amount,
                raw=status.raw,
            )

        return Confirm(lambda: self.refund_status(merchant_refund_id), adopt)


class V2Protocol(Protocol):
    """Generation 2 (Standard Checkout, OAuth)."""

    generation = 2

    def token(self) -> CallSpec:
        s = self.settings
        if not (s.client_id and s.client_secret):
            raise ConfigurationError(
                "The generation 2 API needs PHONEPE_CLIENT_ID and PHONEPE_CLIENT_SECRET."
            )
        form = urlencode(
            {
                "client_id": s.client_id,
                "client_secret": s.client_secret.reveal(),
                "client_version": str(s.client_version),
                "grant_type": "client_credentials",
            }
        ).encode()
        return CallSpec(
            "oauth_token", "POST", "/v1/oauth/token", s.oauth_urls,
            (("content-type", "application/x-www-form-urlencoded"),), form,
        )  # fmt: skip

    def create_payment(
        self, *, amount: int, merchant_order_id: str, redirect_url: str | None,
        expire_after: int | None, meta_info: dict[str, str] | None, callback_url: str | None,
        payment_modes: PaymentModes | None = None, disable_payment_retry: bool = False,
        prefill_phone: str | None = None,
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        """The hosted page (``/checkout/v2/pay``); see :meth:`custom_payment` for instruments."""
        del callback_url  # generation 2 webhooks are configured in the PhonePe dashboard
        flow = _checkout_flow(redirect_url)
        if payment_modes is not None:
            flow["paymentModeConfig"] = payment_modes.to_wire()
        body = _order_body(merchant_order_id, amount, expire_after, meta_info)
        body["paymentFlow"] = flow
        if disable_payment_retry:
            body["disablePaymentRetry"] = True
        if prefill_phone:
            body["prefillUserLoginDetails"] = {"phoneNumber": prefill_phone}
        spec = self._json("create_payment", "POST", "/checkout/v2/pay", body)
        parse = _created_order_parser(merchant_order_id, None)
        confirm = self._confirm_payment(merchant_order_id, amount)
        return Prepared(spec, parse, needs_token=True, confirm=confirm)

    def custom_payment(
        self, *, amount: int, merchant_order_id: str, instrument: Instrument,
        redirect_url: str | None, expire_after: int | None, meta_info: dict[str, str] | None,
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        """Custom checkout (``/payments/v2/pay``): the merchant names the instrument."""
        flow: dict[str, Any] = {"type": "PG", "paymentMode": instrument.to_wire()}
        if redirect_url:
            flow["merchantUrls"] = {"redirectUrl": redirect_url}
        body = _order_body(merchant_order_id, amount, expire_after, meta_info)
        if isinstance(instrument, UpiIntent) and (context := instrument.device_context()):
            body["deviceContext"] = context
        body["paymentFlow"] = flow
        spec = self._json("custom_payment", "POST", "/payments/v2/pay", body)
        parse = _created_order_parser(merchant_order_id, instrument)
        confirm = self._confirm_payment(
            merchant_order_id,
            amount,
            status=lambda: self.order_status(merchant_order_id, details=False, custom=True),
            instrument=instrument.mode,
        )
        return Prepared(spec, parse, needs_token=True, confirm=confirm)

    def sdk_order(
        self, *, amount: int, merchant_order_id: str, redirect_url: str | None,
        expire_after: int | None, meta_info: dict[str, str] | None, custom: bool,
        disable_payment_retry: bool = False,
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        """An order for PhonePe's mobile SDK: its ``token`` goes to the merchant's app.

        Standard checkout: ``/checkout/v2/sdk/order``; custom: ``/payments/v2/sdk/order``
        (the app then picks the instrument). Both send a ``PG_CHECKOUT`` flow, as
        PhonePe's SDK does."""
        body = _order_body(merchant_order_id, amount, expire_after, meta_info)
        body["paymentFlow"] = _checkout_flow(None if custom else redirect_url)
        if disable_payment_retry:
            body["disablePaymentRetry"] = True
        path = "/payments/v2/sdk/order" if custom else "/checkout/v2/sdk/order"
        spec = self._json("create_sdk_order", "POST", path, body)
        parse = _created_order_parser(merchant_order_id, None)
        confirm = self._confirm_payment(
            merchant_order_id,
            amount,
            status=lambda: self.order_status(merchant_order_id, details=False, custom=custom),
        )
        return Prepared(spec, parse, needs_token=True, confirm=confirm)

    def order_status(
        self, merchant_order_id: str, *, details: bool, custom: bool = False
    ) -> Prepared[OrderStatus]:
        """``custom``: ask custom checkout's path (``/payments/v2/order/…``)."""
        base = "/payments/v2/order" if custom else "/checkout/v2/order"
        path = f"{base}/{merchant_order_id}/status?details={str(details).lower()}"
        spec = self._json("order_status", "GET", path, None)
        return Prepared(spec, lambda data: parse_order_status(data, merchant_order_id), True)

    def transaction_status(self, transaction_id: str, *, custom: bool) -> Prepared[OrderStatus]:
        """One payment attempt's status; PhonePe answers with the order-status shape."""
        base = "/payments/v2/transaction" if custom else "/checkout/v2/transaction"
        spec = self._json("transaction_status", "GET", f"{base}/{transaction_id}/status", None)
        return Prepared(spec, lambda data: parse_order_status(data, ""), True)

    def refund(
        self, *, original_merchant_order_id: str, amount: int, merchant_refund_id: str
    ) -> Prepared[RefundResult]:
        body = {
            "merchantRefundId": merchant_refund_id,
            "originalMerchantOrderId": original_merchant_order_id,
            "amount": amount,
        }
        spec = self._json("refund", "POST", "/payments/v2/refund", body)

        def parse(data: dict[str, Any]) -> RefundResult:
            return RefundResult(
                merchant_refund_id=merchant_refund_id,
                refund_id=as_str(data.get("refundId")),
                state=as_str(data.get("state")) or RefundState.PENDING,
                amount=as_int(data.get("amount")),
                raw=data,
            )

        confirm = self._confirm_refund(merchant_refund_id, amount, original_merchant_order_id)
        return Prepared(spec, parse, needs_token=True, confirm=confirm)

    def refund_status(self, merchant_refund_id: str) -> Prepared[RefundStatus]:
        path = f"/payments/v2/refund/{merchant_refund_id}/status"
        spec = self._json("refund_status", "GET", path, None)

        def parse(data: dict[str, Any]) -> RefundStatus:
            return RefundStatus(
                merchant_refund_id=as_str(data.get("merchantRefundId")) or merchant_refund_id,
                original_merchant_order_id=as_str(data.get("originalMerchantOrderId")),
                state=as_str(data.get("state")) or RefundState.PENDING,
                amount=as_int(data.get("amount")),
                error_code=as_str(data.get("errorCode")),
                detailed_error_code=as_str(data.get("detailedErrorCode")),
                raw=data,
            )

        return Prepared(spec, parse, needs_token=True)

    def _json(self, call: str, method: str, path: str, body: dict[str, Any] | None) -> CallSpec:
        headers: tuple[tuple[str, str], ...] = ()
        content = None
        if body is not None:
            headers = (("content-type", JSON_TYPE),)
            content = json.dumps(body, separators=(",", ":")).encode()
        return CallSpec(call, method, path, self.settings.base_urls, headers, content)


def _order_body(
    merchant_order_id: str, amount: int, expire_after: int | None, meta_info: dict[str, str] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"merchantOrderId": merchant_order_id, "amount": amount}
    if expire_after is not None:
        body["expireAfter"] = expire_after
    if meta_info:
        body["metaInfo"] = meta_info
    return body


def _checkout_flow(redirect_url: str | None) -> dict[str, Any]:
    flow: dict[str, Any] = {"type": "PG_CHECKOUT"}
    if redirect_url:
        flow["merchantUrls"] = {"redirectUrl": redirect_url}
    return flow


def _nonempty(value: Any) -> str | None:
    """A link, QR string or token from the answer: only a non-empty string is one (PhonePe's UPI
    QR sample sends ``"qrData": ""``; a number or ``false`` is no link either)."""
    return value if isinstance(value, str) and value else None


def _created_order_parser(
    merchant_order_id: str, instrument: Instrument | None
) -> Callable[[dict[str, Any]], CreatePaymentResult]:
    """Reads any of the order-creating answers (hosted pay, custom pay, SDK order)."""

    def parse(data: dict[str, Any]) -> CreatePaymentResult:
        state = as_str(data.get("state")) or OrderState.PENDING
        intent_url = _nonempty(data.get("intentUrl"))
        qr_data = _nonempty(data.get("qrData"))
        if qr_data is None and isinstance(instrument, UpiQr):
            # PhonePe's UPI QR page: "intentUrl … present in case of UPI_INTENT or UPI_QR";
            # the UPI string is what the QR encodes either way.
            qr_data = intent_url
        return CreatePaymentResult(
            merchant_order_id=merchant_order_id,
            order_id=as_str(data.get("orderId")),
            state=_ORDER_STATE_ALIASES.get(state, state),
            redirect_url=_nonempty(data.get("redirectUrl")),
            expire_at=ms_to_datetime(data.get("expireAt")),
            token=_nonempty(data.get("token")),
            instrument=instrument.mode if instrument is not None else None,
            intent_url=intent_url,
            qr_data=qr_data,
            raw=data,
        )

    return parse


#: Order states PhonePe sends that mean one of ours: ``CREATED`` is an order with no
#: attempt yet (custom checkout order-status page), i.e. still open.
_ORDER_STATE_ALIASES = {"CREATED": OrderState.PENDING}


def parse_order_status(data: dict[str, Any], merchant_order_id: str) -> OrderStatus:
    details = data.get("paymentDetails")
    items = details if isinstance(details, list) else []
    state = as_str(data.get("state")) or OrderState.PENDING
    return OrderStatus(
        merchant_order_id=as_str(data.get("merchantOrderId")) or merchant_order_id,
        order_id=as_str(data.get("orderId")),
        state=_ORDER_STATE_ALIASES.get(state, state),
        amount=as_int(data.get("amount")),
        payment_details=[_detail(i) for i in items if isinstance(i, dict)],
        error_code=as_str(data.get("errorCode")),
        detailed_error_code=as_str(data.get("detailedErrorCode")),
        expire_at=ms_to_datetime(data.get("expireAt")),
        raw=data,
    )
