"""Django system checks for the PhonePe settings (``manage.py check``, run before ``serve``).

* ``phonepe.E001`` the settings cannot be built (e.g. production without credentials)
* ``phonepe.E002`` ``DEBUG = True`` with ``PHONEPE_ENV=production``
* ``phonepe.W003`` no webhook credentials outside the local sandbox (every callback is rejected)
* ``phonepe.E004`` a redirect/callback URL that is not HTTPS in production
* ``phonepe.E005`` ``PHONEPE["api_permission"]`` does not name a callable
* ``phonepe.E006`` ``PHONEPE_ENV=local`` (the sandbox's public credentials) with ``DEBUG``
  off, i.e. a deployment-like process, without ``PHONEPE_ALLOW_LOCAL`` (a loopback demo)
* ``phonepe.E007`` ``PHONEPE_ALLOW_LOCAL`` while the local sandbox is not on loopback
* ``phonepe.E008`` ``PHONEPE_METRICS_ALLOWED_IPS`` holds something that is not an address

The E001 family includes everything :mod:`phonepe_gateway._safety` refuses while the
settings load (empty ``PHONEPE_ENV``, published credentials outside ``local``, plain http
gateway URLs in production, an unsafe merchant id). ``serve`` runs these checks and stops
on an error; so does ``check --deploy``. A WSGI server runs no checks: call
:func:`refuse_unsafe` from ``wsgi.py`` (the service and the example do) so an unsafe
process never answers a request.

Messages name the setting and the fix; they never contain a secret value.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from phonepe_gateway import ConfigurationError, Settings, is_loopback_url

__all__ = ["check_phonepe_settings", "is_loopback_url", "local_allowed", "refuse_unsafe"]

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
    if phonepe.env == "local":
        messages.extend(_local_mode(phonepe))
    messages.extend(_permission_hook())
    messages.extend(_metrics_allow_list())
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


def local_allowed() -> bool:
    """``PHONEPE_ALLOW_LOCAL`` (Django setting, else environment variable) is true."""
    value = getattr(django_settings, "PHONEPE_ALLOW_LOCAL", None)
    if value is None:
        value = os.environ.get("PHONEPE_ALLOW_LOCAL", "")
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _local_mode(phonepe: Settings) -> list[CheckMessage]:
    if not local_allowed():
        if django_settings.DEBUG:
            return []  # a developer's machine: debug pages already say "not a deployment"
        return [
            Error(
                "PHONEPE_ENV is local (also when it is unset) while DEBUG is False: this "
                "process looks like a deployment but accepts the local sandbox's published "
                "credentials, so anyone can sign a webhook it will believe.",
                hint="Set PHONEPE_ENV=production (or sandbox) with real credentials. For a "
                "demo on this machine only, set PHONEPE_ALLOW_LOCAL=true.",
                id="phonepe.E006",
            )
        ]
    if not is_loopback_url(phonepe.local_url):
        return [
            Error(
                f"PHONEPE_ALLOW_LOCAL is set but PHONEPE_LOCAL_URL ({urlsplit(phonepe.local_url).hostname}) "
                "is not a loopback address: the allowance is for a demo on one machine.",
                hint="Run the sandbox on 127.0.0.1 or ::1, or configure a real PHONEPE_ENV.",
                id="phonepe.E007",
            )
        ]
    return []


def _metrics_allow_list() -> list[CheckMessage]:
    from .ops import allowed_networks

    try:
        allowed_networks()
    except ValueError as exc:
        return [
            Error(
                f"PHONEPE_METRICS_ALLOWED_IPS is invalid: {exc}.",
                hint='List addresses or networks, e.g. ["10.0.0.0/8", "127.0.0.1"].',
                id="phonepe.E008",
            )
        ]
    return []


def refuse_unsafe() -> None:
    """Raise ImproperlyConfigured when the PhonePe checks report an error.

    For entry points that run no system checks (a WSGI/ASGI module under gunicorn or
    uWSGI): an unsafe configuration then fails at start instead of serving.
    """
    errors = [m for m in check_phonepe_settings() if m.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "Unsafe PhonePe configuration:\n"
            + "\n".join(f"{m.id}: {m.msg} HINT: {m.hint}" for m in errors)
        )


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
