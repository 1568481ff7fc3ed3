"""Translate what happened on the wire into the error tree: exceptions and HTTP answers.

Two pure functions carry the weight: :func:`classify_exception` maps any httpx / ssl /
socket exception to a ``(Category, request_sent)`` pair, and :func:`read_response`
turns an HTTP answer into the gateway's JSON or a :class:`GatewayError`. HTML pages
and malformed JSON become errors with the HTTP status, never a decode traceback.
Messages say what happened and what to do. Nothing here does I/O or sees a secret
(request headers are never read; proxy URLs are shown without credentials).
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ._errors import (
    AuthenticationError,
    Category,
    DuplicateRequestError,
    GatewayError,
    GatewayServerError,
    NotFoundError,
    RateLimitedError,
    TransportError,
)
from ._remedies import WRONG_PATH, remedy

__all__ = ["Failure", "classify_exception", "gateway_error", "read_response"]

_NOT_FOUND_CODES = frozenset(
    {"TRANSACTION_NOT_FOUND", "ORDER_NOT_FOUND", "REFUND_NOT_FOUND", "NOT_FOUND"}
)
#: Codes that mean "no such order/refund" on a status read only. PhonePe's order-status
#: page answers an unknown id with ``INVALID_MERCHANT_ORDER_ID`` (HTTP status not published).
_READ_NOT_FOUND_CODES = frozenset({"INVALID_MERCHANT_ORDER_ID", "INVALID_MERCHANT_REFUND_ID"})
_READ_CALLS = frozenset({"order_status", "refund_status"})
_WRITE_CALLS = frozenset({"create_payment", "refund"})
# UPI AutoPay (``_subscriptions``): its status reads and its writes keyed by a merchant id.
_READ_CALLS |= {
    "subscription_status",
    "subscription_order_status",
    "subscription_transaction_status",
}
_WRITE_CALLS |= {"setup_subscription", "notify_redemption", "redeem", "cancel_subscription"}
#: Calls whose 2xx answer has no body (PhonePe's cancel answers 200 with nothing).
_EMPTY_OK_CALLS = frozenset({"cancel_subscription"})
_AUTH_CODES = frozenset(
    {
        "AUTHORIZATION_FAILED",
        "UNAUTHORIZED",
        "INVALID_CLIENT",
        "KEY_NOT_CONFIGURED",
        "INVALID_TOKEN",
    }
)
_DNS_HINTS = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo",
    "temporary failure in name resolution",
    "no address associated",
)


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified transport failure of one attempt."""

    category: Category
    request_sent: bool
    detail: str


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _detail(exc: BaseException) -> str:
    for item in _chain(exc):
        text = str(item).strip()
        if text:
            return text[:200]
    return type(exc).__name__


def classify_exception(exc: BaseException) -> Failure:
    """Which kind of failure ``exc`` is, and could the gateway have received the request?

    Connect-phase failures (DNS, refused, connect timeout, TLS handshake, proxy, a
    request not completely written) are *certainly not sent*; anything after the
    request was written (read timeout, reset, garbage) is *maybe sent*.
    """
    chain = _chain(exc)
    detail = _detail(exc)
    lowered = detail.lower()
    if isinstance(exc, httpx.ProxyError):
        return Failure(Category.PROXY_ERROR, False, detail)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure(Category.CONNECT_TIMEOUT, False, detail)
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        return Failure(Category.READ_TIMEOUT, True, detail)
    if isinstance(exc, httpx.ConnectError):
        return Failure(_connect_category(chain, lowered), False, detail)
    if isinstance(exc, httpx.WriteError):
        # The request was not completely written: the gateway cannot have acted on it.
        return Failure(Category.CONNECTION_RESET, False, detail)
    if isinstance(exc, httpx.ReadError):
        return Failure(Category.CONNECTION_RESET, True, detail)
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in lowered or "disconnected" in lowered or "peer closed" in lowered:
            return Failure(Category.CONNECTION_RESET, True, detail)
        return Failure(Category.PROTOCOL_ERROR, True, detail)
    if isinstance(exc, httpx.LocalProtocolError | httpx.UnsupportedProtocol | httpx.InvalidURL):
        return Failure(Category.PROTOCOL_ERROR, False, detail)
    if isinstance(exc, httpx.DecodingError | httpx.ProtocolError):
        return Failure(Category.PROTOCOL_ERROR, True, detail)
    if isinstance(exc, httpx.TimeoutException):
        return Failure(Category.READ_TIMEOUT, True, detail)
    # Raw (unwrapped) socket / ssl errors, in case a custom transport lets them through.
    if any(isinstance(e, socket.gaierror) for e in chain):
        return Failure(Category.DNS_FAILURE, False, detail)
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return Failure(Category.TLS_ERROR, False, detail)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return Failure(Category.CONNECTION_REFUSED, False, detail)
    if any(isinstance(e, TimeoutError | socket.timeout) for e in chain):
        return Failure(Category.READ_TIMEOUT, True, detail)
    return Failure(Category.CONNECTION_RESET, True, detail)


def _connect_category(chain: list[BaseException], lowered: str) -> Category:
    if any(isinstance(e, socket.gaierror) for e in chain) or any(h in lowered for h in _DNS_HINTS):
        return Category.DNS_FAILURE
    if (
        any(isinstance(e, ssl.SSLError) for e in chain)
        or "ssl" in lowered
        or "certificate" in lowered
    ):
        return Category.TLS_ERROR
    if any(isinstance(e, ConnectionResetError) for e in chain) or "reset" in lowered:
        return Category.CONNECTION_RESET
    if any(isinstance(e, TimeoutError) for e in chain) or "timed out" in lowered:
        return Category.CONNECT_TIMEOUT
    # Refused, unreachable network/host: nothing accepted the connection.
    return Category.CONNECTION_REFUSED


# -- HTTP answers --------------------------------------------------------------------


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), None when absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _describe_body(content: bytes, content_type: str) -> str:
    head = content[:200].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<")):
        return "an HTML page"
    if not content.strip():
        return "an empty body"
    return "a body that is not JSON"


def read_response(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    call: str,
    endpoint: str,
    attempts: int,
) -> dict[str, Any]:
    """The JSON object of a 2xx answer, or the matching error.

    A 2xx whose body cannot be read is a ``TransportError(PROTOCOL_ERROR,
    request_sent=True)``: the gateway accepted the request and its outcome is unknown.
    """
    data: Any = None
    try:
        data = json.loads(content) if content else None
    except ValueError:
        data = None
    if 200 <= status < 300 and data is None and call in _EMPTY_OK_CALLS and not content.strip():
        return {}
    if 200 <= status < 300:
        if isinstance(data, dict) and not (call in _READ_CALLS and _is_error_body(data)):
            return data
        if isinstance(data, dict):
            # A status read answered 2xx with an error body ({code, message}, nothing about
            # an order): the same error as with a 4xx, never an order in a default state.
            raise gateway_error(status, data, call=call, endpoint=endpoint, attempts=attempts)
        what = _describe_body(content, headers.get("content-type", ""))
        raise TransportError(
            f"{call}: {endpoint} answered HTTP {status} with {what} instead of PhonePe's JSON "
            f"(attempt {attempts}). The request was received, so its outcome is unknown: check "
            f"the status API. {remedy(Category.PROTOCOL_ERROR)}",
            category=Category.PROTOCOL_ERROR,
            request_sent=True,
            endpoint=endpoint,
            attempts=attempts,
            call=call,
        )
    body = data if isinstance(data, dict) else None
    error = gateway_error(
        status,
        body,
        call=call,
        endpoint=endpoint,
        attempts=attempts,
        retry_after=retry_after_seconds(headers.get("retry-after")),
    )
    if body is None:
        error.category = Category.PROTOCOL_ERROR
        what = _describe_body(content, headers.get("content-type", ""))
        error.message = (
            f"{call}: {endpoint} answered HTTP {status} with {what}, not PhonePe's JSON "
            f"(attempt {attempts}). {remedy(Category.PROTOCOL_ERROR)}"
        )
        error.args = (error.message,)
    raise error


def _is_error_body(data: Mapping[str, Any]) -> bool:
    """A generation 2 error object: a ``code`` and nothing describing an order or refund."""
    if "success" in data or not _text(data.get("code")):
        return False
    return not any(k in data for k in ("state", "orderId", "refundId", "merchantRefundId"))


def _unmapped_path(message: str | None) -> bool:
    """PhonePe's edge answers a path its host prefix does not serve with this message."""
    return "api mapping not found" in (message or "").lower()


def gateway_error(
    status: int,
    body: Mapping[str, Any] | None,
    *,
    call: str,
    endpoint: str,
    attempts: int,
    retry_after: float | None = None,
) -> GatewayError:
    """The :class:`GatewayError` subclass for an HTTP status and PhonePe's error JSON."""
    body = body or {}
    code = _text(body.get("code")) or _text(body.get("errorCode"))
    gateway_message = _text(body.get("message"))
    upper = (code or "").upper()
    kind: type[GatewayError]
    if status == 429:
        kind = RateLimitedError
        todo = "PhonePe is rate limiting; slow down" + (
            f" (it asked to wait {retry_after:g} s)" if retry_after is not None else ""
        )
    elif status == 401 or upper in _AUTH_CODES or (status == 403 and not code):
        kind = AuthenticationError
        todo = (
            "check the credentials and that PHONEPE_ENV matches them (sandbox credentials do "
            "not work in production and vice versa)"
        )
    elif _unmapped_path(gateway_message):
        # Never "not found": that would read as "no such order" when the base URL is wrong.
        kind = GatewayError
        todo = WRONG_PATH.rstrip(".")
    elif (
        status == 404
        or upper in _NOT_FOUND_CODES
        or (call in _READ_CALLS and upper in _READ_NOT_FOUND_CODES)
    ):
        kind = NotFoundError
        todo = "the order or refund id is unknown to the gateway"
    elif status == 409 or "DUPLICATE" in upper or "ALREADY_EXISTS" in upper:
        kind = DuplicateRequestError
        todo = "this merchant id was already used; check its status instead of creating it again"
    elif status >= 500:
        kind = GatewayServerError
        todo = "PhonePe or a proxy in front of it failed; try again later"
    else:
        kind = GatewayError
        todo = "the gateway rejected the request"
        if status == 400 and call in _WRITE_CALLS:
            # PhonePe's published answer to a reused merchant order id: it names nothing.
            todo += (
                " (PhonePe also answers so when the merchant order / refund id was already "
                "used: check its status, or use a new id)"
            )
    said = f" {code}" if code else ""
    said += f": {gateway_message}" if gateway_message else ""
    message = f"{call}: {endpoint} answered HTTP {status}{said} (attempt {attempts}). {todo[0].upper()}{todo[1:]}."
    extra: dict[str, Any] = {"retry_after": retry_after} if kind is RateLimitedError else {}
    return kind(
        message,
        http_status=status,
        code=code,
        gateway_message=gateway_message,
        endpoint=endpoint,
        attempts=attempts,
        call=call,
        details={"body": dict(body)} if body else {},
        **extra,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
