"""Who may call the REST API: bearer API keys, a host's permission hook, or a staff session.

Order of decision:

1. ``PHONEPE["api_permission"]`` (dotted path or callable ``(request) -> bool``) when set:
   the host decides alone.
2. Otherwise ``Authorization: Bearer <key>`` matching one of ``PHONEPE["service_api_keys"]``
   (the standalone service fills it from ``PHONEPE_SERVICE_API_KEYS``), compared in
   constant time against every key.
3. Otherwise a logged-in staff user's session.

Unsafe methods that carry a session need a CSRF token in every mode, unless the bearer
token itself matched a configured key (a hook that accepts its own bearer scheme does
not lift the CSRF check for a request that also carries a session cookie).

The result is a *principal* string (``key:<hash prefix>``, ``user:<pk>``, ``hook:...``)
used to scope idempotency keys. This module never logs or returns a key, only a
SHA-256 prefix of it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest
from django.utils.module_loading import import_string
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from .conf import app_setting

__all__ = ["ApiAuth", "bearer_token", "configured_keys", "principal_for"]

Hook = Callable[[HttpRequest], bool]


def configured_keys() -> tuple[str, ...]:
    raw = app_setting("service_api_keys")
    if not raw:
        return ()
    items: Iterable[Any] = raw.split(",") if isinstance(raw, str) else raw
    return tuple(str(k).strip() for k in items if str(k).strip())


def bearer_token(request: HttpRequest) -> str | None:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _match_key(token: str, keys: tuple[str, ...]) -> bool:
    # Compare against every key (no early exit) so timing reveals neither which nor how many.
    found = False
    for key in keys:
        found |= hmac.compare_digest(token.encode(), key.encode())
    return found


def _hook() -> Hook | None:
    value = app_setting("api_permission")
    if not value:
        return None
    hook: Hook = value if callable(value) else import_string(str(value))
    return hook


def _user_principal(request: HttpRequest) -> str | None:
    user = _session_user(request)
    if user is not None and user.is_active and user.is_staff:
        return f"user:{user.pk}"
    return None


def _session_user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _csrf_failed(request: HttpRequest, *, token_authorised: bool) -> bool:
    """A session is an ambient credential: a cross-site form must not spend it.

    Unsafe requests that carry a session cookie need the CSRF token unless the bearer token
    *itself* authorised the request (it matched a configured API key). A bearer header the
    permission hook may ignore proves nothing about who sent the request: a cross-site
    ``fetch`` can add any ``Authorization`` value while the browser adds the cookie.
    """
    if token_authorised or request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if _session_user(request) is None:
        return False
    return check_csrf(request) is not None


def principal_for(request: HttpRequest) -> str | None:
    """The caller's principal, or None when the request may not use the API."""
    token = bearer_token(request)
    keyed = token is not None and _match_key(token, configured_keys())
    hook = _hook()
    if hook is not None:
        if not hook(request) or _csrf_failed(request, token_authorised=keyed):
            return None
        if token:
            return f"hook:key:{_fingerprint(token)}"
        user = _session_user(request)
        return f"hook:user:{user.pk}" if user is not None else "hook:anonymous"
    if token is not None:
        return f"key:{_fingerprint(token)}" if keyed else None
    principal = _user_principal(request)
    if principal is None or _csrf_failed(request, token_authorised=False):
        return None
    return principal


class ApiAuth(AuthBase):
    """Django Ninja auth: returns the principal (truthy) or None (-> 401)."""

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_description = "An API key of the service, or a staff session."

    def __call__(self, request: HttpRequest) -> str | None:
        return principal_for(request)
