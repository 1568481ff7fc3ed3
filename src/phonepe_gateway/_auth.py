"""Authentication: the generation 2 OAuth token provider and the generation 1 X-VERIFY signer.

The token provider is lazy (nothing is fetched until a call needs a token), caches
the token, refreshes it before ``expires_at`` (at half-life or 60 s before expiry,
whichever is sooner) and is single-flight: any number of concurrent callers, threads
or asyncio tasks, cause one token request. It does not do I/O itself; the client
passes it a ``fetch`` function that goes through the transport.
Nothing here ever logs, prints or reprs a token or a salt key.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._clock import Clock
from ._config import Secret
from ._errors import Category, TransportError

__all__ = ["ChecksumSigner", "Token", "TokenProvider"]

#: Refresh this long before expiry at the latest.
REFRESH_MARGIN = 60.0
#: Assumed lifetime when the gateway states none.
DEFAULT_LIFETIME = 300.0


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token and when to stop using it (wall-clock epoch seconds)."""

    value: Secret
    token_type: str
    expires_at: float
    refresh_at: float

    @property
    def header(self) -> str:
        return f"{self.token_type} {self.value.reveal()}"

    def __repr__(self) -> str:
        return f"Token({self.value!r}, expires_at={self.expires_at:.0f})"


def parse_token(data: Mapping[str, Any], now: float) -> Token:
    """Read PhonePe's token answer; lifetime from ``expires_at`` (epoch s), else ``expires_in``."""
    value = data.get("access_token")
    if not isinstance(value, str) or not value:
        raise TransportError(
            "The OAuth answer has no access_token: the OAuth URL does not point at PhonePe's "
            "token endpoint. Check PHONEPE_OAUTH_URLS.",
            category=Category.PROTOCOL_ERROR,
            request_sent=True,
            call="oauth_token",
        )
    expires_at = _number(data.get("expires_at"))
    if expires_at is not None and expires_at > 1e11:  # milliseconds, be lenient
        expires_at /= 1000.0
    if expires_at is None or expires_at <= now:
        expires_in = _number(data.get("expires_in"))
        expires_at = now + (expires_in if expires_in and expires_in > 0 else DEFAULT_LIFETIME)
    lifetime = expires_at - now
    refresh_at = now + max(min(lifetime / 2.0, lifetime - REFRESH_MARGIN), 0.0)
    token_type = data.get("token_type")
    return Token(
        value=Secret(value),
        token_type=token_type if isinstance(token_type, str) and token_type else "O-Bearer",
        expires_at=expires_at,
        refresh_at=refresh_at,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class TokenProvider:
    """Cached, single-flight OAuth token (thread-safe for sync, task-safe for asyncio).

    ``get(fetch)`` / ``aget(fetch)`` return a usable token, calling ``fetch()`` (which
    returns the gateway's JSON) only when none is cached or it is due for refresh.
    Callers that waited on a fetch that failed get that same error rather than
    starting a fetch each (100 waiters on a dead gateway cost one attempt).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._token: Token | None = None
        self._fetches = 0
        #: Fetches that have finished (either way); waiters compare it to what they saw.
        self._finished = 0
        self._last_error: BaseException | None = None
        self._thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    @property
    def fetch_count(self) -> int:
        """How many token requests were made (for tests and diagnostics)."""
        return self._fetches

    def current(self) -> Token | None:
        """The cached token if it is not yet due for refresh."""
        token = self._token
        if token is not None and self._clock.time() < token.refresh_at:
            return token
        return None

    def invalidate(self, token: Token | None = None) -> None:
        """Forget the token (after a 401). With ``token``, only if it is still the cached one."""
        if token is None or self._token is token:
            self._token = None

    def get(self, fetch: Callable[[], Mapping[str, Any]]) -> Token:
        token = self.current()
        if token is not None:
            return token
        seen = self._finished
        with self._thread_lock:
            token = self._settled(seen)
            if token is not None:
                return token
            return self._store(self._run(fetch))

    async def aget(self, fetch: Callable[[], Awaitable[Mapping[str, Any]]]) -> Token:
        token = self.current()
        if token is not None:
            return token
        seen = self._finished
        async with self._lock_for_loop():
            token = self._settled(seen)
            if token is not None:
                return token
            self._fetches += 1
            try:
                data = await fetch()
            except BaseException as exc:
                self._failed(exc)
                raise
            return self._store(data)

    # -- shared --------------------------------------------------------------------

    def _settled(self, seen: int) -> Token | None:
        """After waiting for the lock: use what the fetch we waited on produced."""
        token = self.current()
        if token is not None:
            return token
        if self._finished != seen and self._last_error is not None:
            raise self._last_error
        return None

    def _run(self, fetch: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
        self._fetches += 1
        try:
            return fetch()
        except BaseException as exc:
            self._failed(exc)
            raise

    def _failed(self, exc: BaseException) -> None:
        self._last_error = exc
        self._finished += 1

    def _store(self, data: Mapping[str, Any]) -> Token:
        try:
            token = parse_token(data, self._clock.time())
        except BaseException as exc:
            self._failed(exc)
            raise
        self._last_error = None
        self._token = token
        self._finished += 1
        return token

    def _lock_for_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._async_lock is None or self._async_loop is not loop:
            self._async_lock = asyncio.Lock()
            self._async_loop = loop
        return self._async_lock

    def __repr__(self) -> str:
        return f"TokenProvider(cached={self._token is not None}, fetches={self._fetches})"


class ChecksumSigner:
    """Generation 1 ``X-VERIFY``: ``sha256hex(payload + salt_key) + "###" + salt_index``."""

    def __init__(self, salt_key: Secret, salt_index: int) -> None:
        self._salt_key = salt_key
        self._salt_index = salt_index

    def sign(self, *parts: str) -> str:
        digest = hashlib.sha256(("".join(parts) + self._salt_key.reveal()).encode()).hexdigest()
        return f"{digest}###{self._salt_index}"

    def verify(self, header: str | None, *parts: str) -> bool:
        """Constant-time check of an ``X-VERIFY`` header (hex compared case-insensitively)."""
        if not header:
            return False
        digest, _, index = header.strip().partition("###")
        expected = self.sign(*parts).partition("###")[0]
        ok = hmac.compare_digest(digest.lower().encode(), expected.encode())
        return ok and (not index or index.strip() == str(self._salt_index))

    def __repr__(self) -> str:
        return f"ChecksumSigner(salt_key={self._salt_key!r}, salt_index={self._salt_index})"
