"""Django system checks for the PhonePe settings (``manage.py check``, run before ``serve``).

* ``phonepe.E001`` the settings cannot be built (e.g. production without credentials)
* ``phonepe.E002`` ``DEBUG = True`` with ``PHONEPE_ENV=production``
* ``phonepe.W003`` no webhook credentials outside the local sandbox (every callback is rejected)
* ``phonepe.E004`` a redirect/callback URL that is not HTTPS in production
* ``phonepe.E005`` ``PHONEPE["api_permission"]`` does not name a callable

Messages name the setting and the fix; they never contain a secret value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.module_loading import import_string

from phonepe_gateway import ConfigurationError, Settings

__all__ = ["check_phonepe_settings"]

#: PHONEPE keys that are client options, not URLs customers or PhonePe are sent to.
_CLIENT_URL_OPTIONS = frozenset({"local_url", "base_urls", "oauth_urls", "proxy"})


def _phonepe_dict() -> dict[str, Any]:
    value = getattr(django_settings, "PHONEPE", None) or {}
    return dict(value) if isinstance(value, dict) else {}


def _load() -> Settings:
    from .conf import get_settings

    return get_settings()


@register(Tags.security, "phonepe")
def check_phonepe_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    try:
        phonepe = _load()
    except ConfigurationError as exc:
        return [
            Error(
                f"The PhonePe settings are invalid: {exc}",
                hint="Fix the PHONEPE settings dict or the PHONEPE_* environment variables.",
                id="phonepe.E001",
            )
        ]
    messages: list[CheckMessage] = []
    production = phonepe.env == "production"
    if production and django_settings.DEBUG:
        messages.append(
            Error(
                "DEBUG is True while PHONEPE_ENV=production: error pages would expose "
                "settings and request data of real payments.",
                hint="Set DEBUG = False in production.",
                id="phonepe.E002",
            )
        )
    if phonepe.env != "local" and not phonepe.webhook_pairs:
        messages.append(
            Warning(
                f"No webhook credentials are set for PHONEPE_ENV={phonepe.env}: every PhonePe "
                "callback will be rejected with 401 and payments only settle by reconciliation.",
                hint="Set PHONEPE_WEBHOOK_USERNAME and PHONEPE_WEBHOOK_PASSWORD to the values "
                "configured in the PhonePe business dashboard.",
                id="phonepe.W003",
            )
        )
    if production:
        messages.extend(_insecure_urls())
    messages.extend(_permission_hook())
    return messages


def _insecure_urls() -> list[CheckMessage]:
    out: list[CheckMessage] = []
    for key, value in sorted(_phonepe_dict().items()):
        if not key.endswith("_url") or key in _CLIENT_URL_OPTIONS or not value:
            continue
        if urlsplit(str(value)).scheme != "https":
            out.append(
                Error(
                    f'PHONEPE["{key}"] is not an HTTPS URL while PHONEPE_ENV=production: '
                    "customers and PhonePe would be sent over an unencrypted connection.",
                    hint=f'Use an https:// URL for PHONEPE["{key}"].',
                    id="phonepe.E004",
                )
            )
    return out


def _permission_hook() -> list[CheckMessage]:
    path = _phonepe_dict().get("api_permission")
    if not path or callable(path):
        return []
    try:
        hook = import_string(str(path))
    except ImportError:
        hook = None
    if callable(hook):
        return []
    return [
        Error(
            f'PHONEPE["api_permission"] = {path!r} is not an importable callable.',
            hint='Point it at a function taking the request and returning a bool, e.g. "myproject.auth.can_use_payments_api".',
            id="phonepe.E005",
        )
    ]
