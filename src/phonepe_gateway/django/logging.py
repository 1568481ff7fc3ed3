"""Structured logs: one JSON object per line, with the request id, and no secrets.

Use in ``LOGGING``::

    "formatters": {"json": {"()": "phonepe_gateway.django.logging.JsonFormatter"}},
    "filters": {"request_id": {"()": "phonepe_gateway.django.logging.RequestIdFilter"}},

:class:`JsonFormatter` scrubs every line it writes: the configured secrets (client
secret, salt key, webhook passwords, API keys) are replaced by their masked form, and
credentials in well-known shapes (``Authorization`` values, bearer tokens, ``password=``,
``client_secret=``, URL userinfo) are masked even when no setting names them. It must
never raise: a logging failure must not turn into a failed payment.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from phonepe_gateway import mask

__all__ = [
    "JsonFormatter",
    "RequestIdFilter",
    "current_request_id",
    "known_secrets",
    "request_id_var",
    "scrub",
]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "phonepe_request_id", default=None
)

_PATTERNS = (
    # Authorization: Bearer x / O-Bearer x / Basic x / a bare hash
    re.compile(
        r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)((?:o-)?bearer\s+|basic\s+)?([^\s'\",;]+)"
    ),
    re.compile(r"(?i)\b((?:o-)?bearer\s+)([A-Za-z0-9._~+/=-]{6,})"),
    re.compile(
        r"(?i)((?:client_secret|salt_key|password|passwd|secret|api_key|access_token|token)"
        r"['\"]?\s*[:=]\s*['\"]?)([^\s'\",;&]+)"
    ),
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s/:@]+:)([^\s/@]+)(@)"),
)
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def current_request_id() -> str | None:
    return request_id_var.get()


def known_secrets() -> tuple[str, ...]:
    """Every configured secret value (longest first), best effort."""
    values: list[str] = []
    try:
        from .auth import configured_keys
        from .conf import get_settings

        settings = get_settings()
        for secret in (settings.client_secret, settings.salt_key, settings.webhook_password):
            if secret:
                values.append(secret.reveal())
        values.extend(password for _, password in settings.webhook_pairs)
        values.extend(configured_keys())
    except Exception:  # settings may be invalid or Django not ready; scrub by pattern only
        return tuple(values)
    return tuple(sorted({v for v in values if len(v) >= 4}, key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, mask(secret))
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_match, text)
    return text


def _mask_match(match: re.Match[str]) -> str:
    groups = match.groups()
    # The secret is the last group, except for URL userinfo where "@" follows it.
    if groups[-1] == "@":
        return f"{groups[0]}{mask(groups[1])}@"
    prefix = "".join(g for g in groups[:-1] if g)
    value = groups[-1]
    if value.startswith("****"):
        return match.group(0)
    return prefix + mask(value)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra, "exc"?}`` per line."""

    def __init__(self, *args: Any, secrets_ttl: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._secrets: tuple[str, ...] = ()
        self._secrets_at = float("-inf")
        self._ttl = secrets_ttl

    def _current_secrets(self) -> tuple[str, ...]:
        now = time.monotonic()
        if now - self._secrets_at > self._ttl:
            self._secrets, self._secrets_at = known_secrets(), now
        return self._secrets

    def format(self, record: logging.LogRecord) -> str:
        try:
            return scrub(json.dumps(self._payload(record), default=str), self._current_secrets())
        except Exception:  # never let a log line break the caller
            return json.dumps(
                {
                    "level": "ERROR",
                    "logger": "phonepe_gateway.logging",
                    "message": "unformattable log record",
                }
            )

    def _payload(self, record: logging.LogRecord) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in payload and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return payload
