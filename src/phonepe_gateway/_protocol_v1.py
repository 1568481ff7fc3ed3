"""Generation 1 (Pay Page API): base64 body + X-VERIFY checksum, codes mapped to states.

Generation 1 response codes are mapped onto the generation 2 states (PENDING /
COMPLETED / FAILED) here, in one table (:data:`V1_STATES`); a code we do not know
never becomes FAILED. Same :class:`Prepared` results as generation 2, so the clients
do not care which generation they speak. No I/O; the salt key only enters X-VERIFY.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._auth import ChecksumSigner
from ._classify import gateway_error
from ._config import Settings
from ._errors import ConfigurationError, GatewayError, ValidationError
from ._models import (
    CreatePaymentResult,
    OrderState,
    OrderStatus,
    PaymentDetail,
    RefundResult,
    RefundState,
    RefundStatus,
)
from ._protocol import JSON_TYPE, Prepared, Protocol, V2Protocol, as_dict, as_int, as_str
from ._transport import CallSpec

__all__ = ["V1_STATES", "V1Protocol", "protocol_for", "v1_state"]

T = TypeVar("T")

#: Generation 1 response codes -> generation 2 state. Unlisted codes fall back to the
#: ``data.state`` field, else PENDING (never FAILED on a code we do not know).
V1_STATES: Mapping[str, str] = {
    "PAYMENT_SUCCESS": OrderState.COMPLETED,
    "PAYMENT_ERROR": OrderState.FAILED,
    "PAYMENT_DECLINED": OrderState.FAILED,
    "PAYMENT_CANCELLED": OrderState.FAILED,
    "TIMED_OUT": OrderState.FAILED,
    "PAYMENT_PENDING": OrderState.PENDING,
    "PAYMENT_INITIATED": OrderState.PENDING,
    "INTERNAL_SERVER_ERROR": OrderState.PENDING,
}
_V1_ERRORS = {"BAD_REQUEST": 400, "AUTHORIZATION_FAILED": 401, "TRANSACTION_NOT_FOUND": 404}


def v1_state(body: Mapping[str, Any]) -> str:
    code = as_str(body.get("code")) or ""
    if code in V1_STATES:
        return V1_STATES[code]
    state = as_str(as_dict(body.get("data")).get("state"))
    return state.upper() if state else OrderState.PENDING


class V1Protocol(Protocol):
    """Generation 1 (Pay Page API: base64 body + X-VERIFY checksum)."""

    generation = 1

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if not (settings.merchant_id and settings.salt_key):
            raise ConfigurationError(
                "The generation 1 API needs PHONEPE_MERCHANT_ID and PHONEPE_SALT_KEY."
            )
        self.merchant_id: str = settings.merchant_id
        self.signer = ChecksumSigner(settings.salt_key, settings.salt_index)

    def create_payment(
        self, *, amount: int, merchant_order_id: str, redirect_url: str | None,
        expire_after: int | None, meta_info: dict[str, str] | None, callback_url: str | None,
    ) -> Prepared[CreatePaymentResult]:  # fmt: skip
        del expire_after, meta_info  # not part of the generation 1 pay request
        if not redirect_url:
            raise ValidationError(
                "redirect_url is required on the generation 1 API (PhonePe sends the customer "
                "back there after paying).",
                field="redirect_url",
            )
        body: dict[str, Any] = {
            "merchantId": self.merchant_id,
            "merchantTransactionId": merchant_order_id,
            "merchantUserId": _user_id(merchant_order_id),
            "amount": amount,
            "paymentInstrument": {"type": "PAY_PAGE"},
        }
        body["redirectUrl"] = redirect_url
        body["redirectMode"] = "REDIRECT"
        if callback_url:
            body["callbackUrl"] = callback_url
        spec = self._post("create_payment", "/pg/v1/pay", body)

        def parse(data: dict[str, Any]) -> CreatePaymentResult:
            self._raise_unless_success(data, "create_payment")
            inner = as_dict(data.get("data"))
            redirect = as_dict(as_dict(inner.get("instrumentResponse")).get("redirectInfo"))
            return CreatePaymentResult(
                merchant_order_id=merchant_order_id,
                order_id=as_str(inner.get("transactionId")),
                state=OrderState.PENDING,
                redirect_url=as_str(redirect.get("url")),
                raw=data,
            )

        return Prepared(spec, parse, confirm=self._confirm_payment(merchant_order_id, amount))

    def order_status(self, merchant_order_id: str, *, details: bool) -> Prepared[OrderStatus]:
        del details  # generation 1 always answers with the one transaction
        spec = self._status_spec("order_status", merchant_order_id)

        def parse(data: dict[str, Any]) -> OrderStatus:
            self._raise_if_error_code(data, "order_status")
            inner = as_dict(data.get("data"))
            state = v1_state(data)
            detail_state = state if inner else None
            instrument = as_dict(inner.get("paymentInstrument"))
            details_list = [
                PaymentDetail(
                    transaction_id=as_str(inner.get("transactionId")),
                    payment_mode=as_str(instrument.get("type")),
                    amount=as_int(inner.get("amount")),
                    state=detail_state,
                    error_code=None if state == OrderState.COMPLETED else as_str(data.get("code")),
                    raw=inner,
                )
            ] if inner.get("transactionId") else []  # fmt: skip
            return OrderStatus(
                merchant_order_id=merchant_order_id,
                order_id=as_str(inner.get("transactionId")),
                state=state,
                amount=as_int(inner.get("amount")),
                payment_details=details_list,
                error_code=None if state != OrderState.FAILED else as_str(data.get("code")),
                raw=data,
            )

        return Prepared(spec, parse, recover=_recover_with(parse))

    def refund(
        self, *, original_merchant_order_id: str, amount: int, merchant_refund_id: str
    ) -> Prepared[RefundResult]:
        body = {
            "merchantId": self.merchant_id,
            "merchantUserId": _user_id(original_merchant_order_id),
            "originalTransactionId": original_merchant_order_id,
            "merchantTransactionId": merchant_refund_id,
            "amount": amount,
        }
        spec = self._post("refund", "/pg/v1/refund", body)

        def parse(data: dict[str, Any]) -> RefundResult:
            self._raise_unless_success(data, "refund")
            inner = as_dict(data.get("data"))
            return RefundResult(
                merchant_refund_id=merchant_refund_id,
                refund_id=as_str(inner.get("transactionId")),
                state=_refund_state(data),
                amount=as_int(inner.get("amount")) or amount,
                raw=data,
            )

        confirm = self._confirm_refund(merchant_refund_id, amount, original_merchant_order_id)
        return Prepared(spec, parse, confirm=confirm)

    def refund_status(self, merchant_refund_id: str) -> Prepared[RefundStatus]:
        spec = self._status_spec("refund_status", merchant_refund_id)

        def parse(data: dict[str, Any]) -> RefundStatus:
            self._raise_if_error_code(data, "refund_status")
            inner = as_dict(data.get("data"))
            state = _refund_state(data)
            return RefundStatus(
                merchant_refund_id=merchant_refund_id,
                state=state,
                amount=as_int(inner.get("amount")),
                error_code=as_str(data.get("code")) if state == RefundState.FAILED else None,
                raw=data,
            )

        return Prepared(spec, parse, recover=_recover_with(parse))

    # -- helpers -----------------------------------------------------------------------

    def _post(self, call: str, path: str, body: dict[str, Any]) -> CallSpec:
        encoded = base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
        headers = (("content-type", JSON_TYPE), ("x-verify", self.signer.sign(encoded, path)))
        content = json.dumps({"request": encoded}).encode()
        return CallSpec(call, "POST", path, self.settings.base_urls, headers, content)

    def _status_spec(self, call: str, transaction_id: str) -> CallSpec:
        path = f"/pg/v1/status/{self.merchant_id}/{transaction_id}"
        headers = (
            ("x-verify", self.signer.sign(path)),
            ("x-merchant-id", self.merchant_id),
        )
        return CallSpec(call, "GET", path, self.settings.base_urls, headers)

    def _raise_unless_success(self, data: dict[str, Any], call: str) -> None:
        if data.get("success") is False:
            # Only a definitive refusal's code may read as one; any other code
            # (INTERNAL_SERVER_ERROR, PAYMENT_PENDING, one we do not know) leaves the
            # outcome of this write unknown, like a 5xx: never "not acted".
            raise self._error(data, call, _V1_ERRORS.get(as_str(data.get("code")) or "", 500))

    def _raise_if_error_code(self, data: dict[str, Any], call: str) -> None:
        code = as_str(data.get("code")) or ""
        if code in _V1_ERRORS:
            raise self._error(data, call, _V1_ERRORS[code])

    def _error(self, data: dict[str, Any], call: str, status: int) -> GatewayError:
        endpoint = self.settings.base_urls[0] if self.settings.base_urls else ""
        return gateway_error(status, data, call=call, endpoint=endpoint, attempts=1)


def _recover_with(parse: Callable[[dict[str, Any]], T]) -> Callable[[GatewayError], T | None]:
    """Generation 1 may answer a final state (e.g. PAYMENT_ERROR) with HTTP 400: parse it."""

    def recover(error: GatewayError) -> T | None:
        body = error.details.get("body")
        if error.http_status >= 500 or not isinstance(body, dict):
            return None
        about_transaction = bool(as_dict(body.get("data")).get("merchantTransactionId"))
        if body.get("code") in V1_STATES or about_transaction:
            return parse(body)
        return None

    return recover


def _refund_state(body: Mapping[str, Any]) -> str:
    state = as_str(as_dict(body.get("data")).get("state"))
    if state:
        return state.upper()
    return {
        OrderState.COMPLETED: RefundState.COMPLETED,
        OrderState.FAILED: RefundState.FAILED,
    }.get(v1_state(body), RefundState.PENDING)


def _user_id(merchant_order_id: str) -> str:
    """A stable, opaque merchantUserId (generation 1 requires one; we have no user)."""
    return "MU" + hashlib.sha256(merchant_order_id.encode()).hexdigest()[:30].upper()


def protocol_for(settings: Settings) -> Protocol:
    """The protocol of ``settings.api_version``."""
    return V1Protocol(settings) if settings.api_version == "v1" else V2Protocol(settings)
