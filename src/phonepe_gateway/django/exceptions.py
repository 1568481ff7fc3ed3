"""Errors the Django app's services raise, each with a stable ``code`` and an HTTP status.

Views turn them into ``{"error": {"code", "message", "details"?}}``. A message says
what happened and what to do; it never contains a secret. Gateway (core client)
errors are translated here at the boundary and never leak to callers of services.
"""

from __future__ import annotations

from typing import Any

from phonepe_gateway._errors import Category

__all__ = [
    "Conflict",
    "GatewayUnavailable",
    "InvalidRequest",
    "NotFound",
    "PaymentsError",
    "RefundExceedsRemainder",
    "StorageUnavailable",
    "WebhookRejected",
]


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
