"""Load-time refusals: settings that must never reach a request, refused while they load.

Called by :class:`~phonepe_gateway._config.Settings` when it is built, so a bad value
fails as a :class:`ConfigurationError` (one of the error tree) at start-up, not as a
stray ``ValueError`` at the first payment. Refused here:

* an empty ``PHONEPE_ENV`` (it would silently mean ``local``);
* a merchant id, client id, webhook username or User-Agent with control characters,
  whitespace inside or path segments (``../``): they end up in URLs and headers;
* the local sandbox's published credentials (and PhonePe's public UAT merchant in
  production) outside ``local``: anyone can sign a webhook with them;
* a gateway or OAuth URL that is not ``https://`` in production (loopback excepted:
  a local TLS sidecar's plain hop never crosses a network).

Messages name the variable and the fix; they never contain a secret's value.
This module never touches the network.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._errors import ConfigurationError

if TYPE_CHECKING:
    from ._config import Settings

__all__ = ["check_environ", "check_settings", "is_loopback_host", "is_loopback_url"]

#: PhonePe merchant ids are letters and digits (``M22…``, ``PGTESTPAYUAT86``); ``_``/``-``
#: are allowed for safety margin. Anything else would be spliced into a URL path or header.
_MERCHANT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: PhonePe's published UAT merchant: shared by everyone, so never a production identity.
_UAT_MERCHANT_ID = "PGTESTPAYUAT"
_UAT_SALT_KEY = "099eb0cd-02cf-4e2a-8aca-3e6c6aff0399"


def check_environ(environ: Mapping[str, str]) -> None:
    """Refuse variables whose emptiness would silently change the meaning."""
    value = environ.get("PHONEPE_ENV")
    if value is not None and not value.strip():
        raise ConfigurationError(
            "PHONEPE_ENV is set but empty, which would silently mean the local sandbox. "
            "Set it to production, sandbox or local, or unset it."
        )


def check_settings(settings: Settings) -> None:
    """Raise :class:`ConfigurationError` for the first unsafe value in ``settings``."""
    _check_identifiers(settings)
    if settings.env != "local":
        _check_public_credentials(settings)
    if settings.env == "production":
        _check_https(settings)


def _check_identifiers(settings: Settings) -> None:
    merchant_id = settings.merchant_id
    if merchant_id is not None and not _MERCHANT_ID.fullmatch(merchant_id):
        raise ConfigurationError(
            "PHONEPE_MERCHANT_ID may contain only letters, digits, '_' and '-' (at most 64): "
            f"got {_shown(merchant_id)}. Copy it again from the PhonePe business dashboard."
        )
    for name in ("client_id", "webhook_username", "user_agent"):
        value = getattr(settings, name)
        if value is not None and (
            _CONTROL.search(value) or (name == "client_id" and ("/" in value or ".." in value))
        ):
            raise ConfigurationError(
                f"PHONEPE_{name.upper()} contains a control character or a path segment "
                f"(got {_shown(value)}); it is sent in requests. Set it without them."
            )


def _check_public_credentials(settings: Settings) -> None:
    from ._config import SANDBOX_CREDENTIALS

    # What authenticates *inbound* traffic (webhook credentials; the generation 1 salt key
    # also verifies callbacks) is refused outright: with it anyone can forge a payment
    # notification. The client secret only proves us to the gateway; a published one is
    # refused unless every gateway URL is loopback (a test rig talking to the sandbox).
    inbound = {
        "PHONEPE_SALT_KEY": settings.salt_key,
        "PHONEPE_WEBHOOK_PASSWORD": settings.webhook_password,
        **{
            f"PHONEPE_WEBHOOK_CREDENTIALS ({user})": pw for user, pw in settings.webhook_credentials
        },
    }
    published = {
        SANDBOX_CREDENTIALS["client_secret"],
        SANDBOX_CREDENTIALS["salt_key"],
        SANDBOX_CREDENTIALS["webhook_password"],
    }
    if not all(is_loopback_url(url) for url in (*settings.base_urls, *settings.oauth_urls)):
        inbound["PHONEPE_CLIENT_SECRET"] = settings.client_secret
    for name, secret in inbound.items():
        if secret is not None and secret.reveal() in published:
            raise ConfigurationError(
                f"{name} is the local sandbox's published value while PHONEPE_ENV={settings.env}: "
                "anyone could use it (e.g. sign a webhook). Set your own from the PhonePe "
                "business dashboard, or use PHONEPE_ENV=local for the sandbox."
            )
    if settings.env == "production" and (
        settings.merchant_id == _UAT_MERCHANT_ID
        or (settings.salt_key is not None and settings.salt_key.reveal() == _UAT_SALT_KEY)
    ):
        raise ConfigurationError(
            "PHONEPE_MERCHANT_ID/PHONEPE_SALT_KEY are PhonePe's public UAT test merchant while "
            "PHONEPE_ENV=production. Use your production credentials, or PHONEPE_ENV=sandbox."
        )


def _check_https(settings: Settings) -> None:
    for name, urls in (
        ("PHONEPE_BASE_URLS", settings.base_urls),
        ("PHONEPE_OAUTH_URLS", settings.oauth_urls),
    ):
        for url in urls:
            # Plain http to loopback never crosses a network (e.g. a local TLS egress sidecar).
            if urlsplit(url).scheme != "https" and not is_loopback_url(url):
                raise ConfigurationError(
                    f"{name} has a non-https URL ({urlsplit(url).hostname}) while "
                    "PHONEPE_ENV=production: the client secret and tokens would travel in clear. "
                    "Use https:// URLs."
                )


_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback_host(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` or a localhost name (RFC 6761; never resolved)."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """An ``http(s)`` URL whose host is loopback (the one rule for the client's safety
    checks, the Django system checks, ``serve``'s bind check and the sandbox's guard)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and host is not None and is_loopback_host(host)


def _shown(value: str) -> str:
    """A bounded, escaped rendering of a bad (non-secret) identifier for a message."""
    return repr(value[:70])
