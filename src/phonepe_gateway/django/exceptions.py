"""Errors the Django app's services raise, each with a stable ``code`` and an HTTP status.

Views turn them into ``{"error": {"code", "message", "details"?}}``. A message says
what happened and what to do; it never contains a secret. Gateway (core client)
errors are translated here at the boundary and never leak to callers of services.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError

from phonepe_gateway import (
    Category,
    DuplicateRequestError,
    GatewayError,
    PhonePeError,
    TransportError,
    ValidationError,
)

__all__ = [
    "Conflict",
    "GatewayUnavailable",
    "InvalidRequest",
    "NotFound",
    "PaymentsError",
    "RefundExceedsRemainder",
    "StorageUnavailable",
    "WebhookRejected",
    "checked",
    "db_guard",
    "gateway_error_info",
    "gateway_may_have_acted",
    "gateway_sync_unavailable",
    "gateway_unavailable",
    "storage_unavailable",
]

logger = logging.getLogger("phonepe_gateway.django")
_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


class PaymentsError(Exception):
    """Base of the app's errors: ``code`` (machine), ``message`` (human), ``http_status``."""

    code = "payments_error"
    http_status = 500

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, http_status={self.http_status}, message={self.message!r})"

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``{"error": {"code", "message", "details"?}}``."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class NotFound(PaymentsError):
    code = "not_found"
    http_status = 404


class InvalidRequest(PaymentsError):
    """Input that cannot be accepted; nothing was stored or sent. 400, or 422 with details."""

    code = "invalid_request"
    http_status = 422


class RefundExceedsRemainder(PaymentsError):
    code = "refund_exceeds_remainder"
    http_status = 422


class Conflict(PaymentsError):
    """The request contradicts stored state (duplicate id, payment not refundable, ...)."""

    code = "conflict"
    http_status = 409


class WebhookRejected(PaymentsError):
    """401 unauthenticated, 400 malformed, 413 too large. Nothing was stored."""

    code = "webhook_rejected"
    http_status = 401


class StorageUnavailable(PaymentsError):
    """The database could not durably store something; the caller should retry (503)."""

    code = "storage_unavailable"
    http_status = 503


class GatewayUnavailable(PaymentsError):
    """The gateway could not be reached or refused the call.

    ``category`` is the transport :class:`Category` when there was one. ``details``
    carries ``state`` and the merchant id of the stored payment or refund, and the
    stored object is attached as ``payment`` / ``refund`` when there is one:
    ``state == "UNKNOWN"`` means the request may have reached PhonePe and the
    reconciler will settle it; ``"FAILED"`` means PhonePe certainly did not act.
    """

    code = "gateway_unavailable"
    http_status = 503

    def __init__(
        self,
        message: str,
        *,
        category: Category | str | None = None,
        code: str | None = None,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
        payment: Any = None,
        refund: Any = None,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status, details=details)
        self.category = Category(category) if category else None
        self.payment = payment
        self.refund = refund


# -- translation at the boundary --------------------------------------------------------


def gateway_error_info(exc: PhonePeError) -> dict[str, Any]:
    """The error columns of a ledger row, from a core client error."""
    category = getattr(exc, "category", None)
    return {
        "error_category": category.value if category is not None else "",
        "error_code": getattr(exc, "code", None) or type(exc).__name__,
        "error_message": str(exc)[:1000],
    }


def gateway_may_have_acted(exc: PhonePeError) -> bool:
    """Could the gateway have acted on a request that ended in ``exc``?"""
    if isinstance(exc, TransportError):
        return exc.request_sent
    if isinstance(exc, GatewayError) and exc.details.get("after_maybe_sent"):
        return True  # an earlier attempt of this call may have acted: a later 4xx proves nothing
    if isinstance(exc, DuplicateRequestError):
        return True  # an order/refund with this id exists there: find out what it is
    if isinstance(exc, GatewayError):
        return exc.http_status >= 500 or exc.http_status == 408
    return False


def _gateway_error(
    exc: PhonePeError, obj: Any, kind: str, message: str, code: str, http_status: int
) -> GatewayUnavailable:
    is_refund = hasattr(obj, "merchant_refund_id")
    ident = obj.merchant_refund_id if is_refund else obj.merchant_order_id
    details = {"state": obj.state, f"merchant_{kind}_id": ident}
    category = getattr(exc, "category", None)
    if category is not None:
        details["category"] = category.value
    return GatewayUnavailable(
        message,
        category=category,
        code=code,
        http_status=http_status,
        details=details,
        payment=getattr(obj, "payment", None) if is_refund else obj,
        refund=obj if is_refund else None,
    )


def gateway_unavailable(exc: PhonePeError, obj: Any, kind: str) -> GatewayUnavailable:
    """The error to raise after ``exc`` left ``obj`` (a Payment or Refund) in its state."""
    ident = obj.merchant_refund_id if hasattr(obj, "merchant_refund_id") else obj.merchant_order_id
    category = getattr(exc, "category", None)
    if obj.state == "UNKNOWN":
        message = (
            f"The gateway may have received the {kind} request but its answer was lost "
            f"({type(exc).__name__}); {ident} is UNKNOWN and will be reconciled."
        )
        code, status = "gateway_outcome_unknown", 502
    elif isinstance(exc, TransportError):
        message = f"The gateway could not be reached ({category}); nothing was sent. Try again."
        code, status = "gateway_unreachable", 503
    else:
        message = f"The gateway refused the {kind} request: {exc}"
        code, status = "gateway_refused", 502
    return _gateway_error(exc, obj, kind, message, code, status)


def gateway_sync_unavailable(exc: PhonePeError, obj: Any, kind: str) -> GatewayUnavailable:
    """The error to raise when asking the gateway about ``obj`` failed: nothing changed."""
    ident = obj.merchant_refund_id if hasattr(obj, "merchant_refund_id") else obj.merchant_order_id
    category = getattr(exc, "category", None)
    reason = category.value if category is not None else type(exc).__name__
    message = f"The gateway could not be asked about {kind} {ident} ({reason}); it stays {obj.state}. Try again."
    return _gateway_error(exc, obj, kind, message, "gateway_unreachable", 503)


def checked(check: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """The core's own input check, its ValidationError as :class:`InvalidRequest`."""
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        raise InvalidRequest(str(exc), details={"field": exc.field}) from exc


def storage_unavailable(exc: DatabaseError) -> StorageUnavailable:
    """The 503 for a database failure; the message names no internals."""
    logger.warning("database unavailable: %s", type(exc).__name__)
    return StorageUnavailable("The payments database is unavailable; try again shortly.")


def db_guard(func: _F) -> _F:
    """A database failure becomes StorageUnavailable (503), never a bare 500. What was
    committed before it stays; the reconciler picks up anything left open."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IntegrityError:
            raise
        except DatabaseError as exc:
            raise storage_unavailable(exc) from exc

    return wrapper  # type: ignore[return-value]
