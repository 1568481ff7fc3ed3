"""The one exception tree of phonepe-gateway.

::

    PhonePeError
    ├── ConfigurationError          settings are missing or contradictory (names the variable)
    ├── ValidationError             input PhonePe would reject; nothing was sent
    ├── TransportError              the network failed; carries ``category`` and ``request_sent``
    │   └── CircuitOpenError        every endpoint's breaker is open; nothing was sent
    ├── GatewayError                PhonePe answered with an error (``http_status``, ``code``, ``message``)
    │   ├── AuthenticationError     401 / OAuth rejection: credentials, token or environment are wrong
    │   ├── NotFoundError           404: unknown order or refund
    │   ├── DuplicateRequestError   the merchant order / refund id was already used
    │   ├── RateLimitedError        429, with ``retry_after`` seconds when PhonePe said so
    │   └── GatewayServerError      5xx from PhonePe or a proxy in front of it
    └── WebhookVerificationError    a callback failed authentication or could not be parsed

Foreign exceptions (httpx, ssl, socket, json) are translated at the boundary with
``raise X(...) from exc`` and never leak. A message says what happened *and what to
do*; it never contains a secret (at most the last four characters of one).

``request_sent`` is the question that decides money handling: ``False`` means the
gateway certainly did not act (safe to retry or mark failed); ``True`` means the
outcome is unknown and must be reconciled through the status API, never reported
as a failure.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = [
    "AuthenticationError",
    "Category",
    "CircuitOpenError",
    "ConfigurationError",
    "DuplicateRequestError",
    "GatewayError",
    "GatewayServerError",
    "NotFoundError",
    "PhonePeError",
    "RateLimitedError",
    "TransportError",
    "ValidationError",
    "WebhookVerificationError",
]


class Category(StrEnum):
    """How the network failed (a :class:`TransportError`'s ``category``).

    Only what the client reports; the doctor's verdicts (``OK``, ``AUTH_FAILED`` …) are
    ``phonepe_gateway.doctor.Verdict``.
    """

    DNS_FAILURE = "DNS_FAILURE"
    CONNECTION_REFUSED = "CONNECTION_REFUSED"
    CONNECT_TIMEOUT = "CONNECT_TIMEOUT"
    CONNECTION_RESET = "CONNECTION_RESET"
    TLS_ERROR = "TLS_ERROR"
    PROXY_ERROR = "PROXY_ERROR"
    READ_TIMEOUT = "READ_TIMEOUT"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"


#: Transport categories after which the gateway certainly did not receive the request.
NOT_SENT_CATEGORIES = frozenset(
    {
        Category.DNS_FAILURE,
        Category.CONNECTION_REFUSED,
        Category.CONNECT_TIMEOUT,
        Category.TLS_ERROR,
        Category.PROXY_ERROR,
    }
)


class PhonePeError(Exception):
    """Root of every error this package raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(PhonePeError):
    """Settings are missing, malformed or contradictory. The message names the variable."""


class ValidationError(PhonePeError):
    """Input PhonePe would reject. Raised before anything is sent.

    ``field`` names the offending argument (``amount``, ``merchant_order_id`` …).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TransportError(PhonePeError):
    """The network failed before a usable answer arrived.

    ``category`` is a :class:`Category`; ``request_sent`` says whether the gateway
    may have acted; ``endpoint`` is the base URL of the last attempt and ``attempts``
    the number of attempts made for the call (across endpoints and retries).
    """

    def __init__(
        self,
        message: str,
        *,
        category: Category,
        request_sent: bool,
        endpoint: str | None = None,
        attempts: int = 1,
        call: str | None = None,
    ) -> None:
        super().__init__(message)
        self.category = category
        self.request_sent = request_sent
        self.endpoint = endpoint
        self.attempts = attempts
        self.call = call

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(category={self.category.value}, "
            f"request_sent={self.request_sent}, endpoint={self.endpoint!r}, "
            f"attempts={self.attempts}, message={self.message!r})"
        )


class CircuitOpenError(TransportError):
    """Every endpoint's circuit breaker is open; the call was not attempted."""


class GatewayError(PhonePeError):
    """PhonePe (or a proxy in front of it) answered with an error.

    ``request_sent`` is always ``True``: something answered. Whether the gateway
    *acted* depends on the code; 4xx answers other than 408/429 mean it did not.
    """

    category: Category | None = None

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        code: str | None = None,
        gateway_message: str | None = None,
        endpoint: str | None = None,
        attempts: int = 1,
        call: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.gateway_message = gateway_message
        self.endpoint = endpoint
        self.attempts = attempts
        self.call = call
        self.details = details or {}
        self.request_sent = True

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(http_status={self.http_status}, code={self.code!r}, "
            f"endpoint={self.endpoint!r}, message={self.message!r})"
        )

    @property
    def may_mean_reused_id(self) -> bool:
        """Could this refusal of a write mean "that merchant order / refund id is taken"?

        PhonePe answers a reused id with a plain ``400 BAD_REQUEST`` ("Please check the
        inputs you have provided."), never a code naming the duplicate, and a refund resent
        after the first one took the whole remainder may be refused for its amount instead.
        Credentials (401/403), an unknown order or path (404), timeouts (408) and rate
        limits (429) say nothing about the id; 5xx are not refusals. So when an earlier
        attempt of the same write may have reached PhonePe, such a refusal is answered by
        asking the status, never by trusting it.
        """
        if isinstance(self, DuplicateRequestError):
            return True
        if isinstance(self, AuthenticationError | NotFoundError | RateLimitedError):
            return False
        return 400 <= self.http_status < 500 and self.http_status not in (401, 403, 404, 408, 429)


class AuthenticationError(GatewayError):
    """PhonePe rejected the credentials or token (401, OAuth error, bad X-VERIFY)."""


class NotFoundError(GatewayError):
    """The order or refund does not exist at the gateway."""


class DuplicateRequestError(GatewayError):
    """The merchant order or refund id was already used at the gateway."""


class RateLimitedError(GatewayError):
    """429 Too Many Requests. ``retry_after`` is in seconds when the gateway said so."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class GatewayServerError(GatewayError):
    """5xx from PhonePe or from a proxy in front of it (HTML pages included)."""


class WebhookVerificationError(PhonePeError):
    """A webhook/callback failed authentication, was too large, or could not be parsed.

    ``reason`` is one of ``"unauthenticated"``, ``"malformed"``, ``"too_large"``.
    """

    def __init__(self, message: str, *, reason: str = "unauthenticated") -> None:
        super().__init__(message)
        self.reason = reason
