"""Settings of the bundled payments service (``phonepe serve``), all from the environment.

| variable | meaning | default |
|---|---|---|
| ``DATABASE_URL`` | database (PostgreSQL recommended in production) | SQLite file in the data dir |
| ``PHONEPE_SERVICE_DATA_DIR`` | where the SQLite file and the generated secret key live | current directory |
| ``PHONEPE_SERVICE_API_KEYS`` | comma-separated API keys for ``Authorization: Bearer`` | none (API closed) |
| ``PHONEPE_SERVICE_SECRET_KEY`` | Django ``SECRET_KEY`` (sessions of the admin) | generated, kept in the data dir |
| ``PHONEPE_SERVICE_ALLOWED_HOSTS`` | comma-separated host names | ``localhost,127.0.0.1,[::1]`` |
| ``PHONEPE_SERVICE_DEBUG`` | Django ``DEBUG`` (never in production) | ``false`` |
| ``PHONEPE_SERVICE_LOG_LEVEL`` | level of the JSON logs on stderr | ``INFO`` |
| ``PHONEPE_SERVICE_CONN_MAX_AGE`` | seconds a database connection is reused | ``600`` |
| ``PHONEPE_SERVICE_CONN_HEALTH_CHECKS`` | check a reused connection before each request | ``true`` |
| ``PHONEPE_SERVICE_WEBHOOK_PROCESSING`` | ``background`` / ``inline`` / ``deferred`` (see api_webhooks) | ``background`` |
| ``PHONEPE_SERVICE_ACCESS_LOG`` | one JSON access line per request | ``false`` |
| ``PHONEPE_SERVICE_CALL_LOG`` | gateway call log: ``batched`` (off the request path), ``immediate``, ``off`` | ``batched`` |
| ``PHONEPE_SERVICE_METRICS_TOKEN`` | bearer token ``/metrics`` and ``/readyz`` require | none (open) |
| ``PHONEPE_SERVICE_METRICS_ALLOWED_IPS`` | addresses/networks that may scrape without the token | none |
| ``PHONEPE_SERVICE_API_DOCS`` | serve ``/api/docs`` and ``/api/openapi.json`` | on, except ``PHONEPE_ENV=production`` |
| ``PHONEPE_ALLOW_LOCAL`` | allow ``PHONEPE_ENV=local`` (a loopback demo) although ``DEBUG`` is off | ``false`` |
| ``PHONEPE_SERVICE_EXTRA_APPS`` | comma-separated extra ``INSTALLED_APPS`` (e.g. signal receivers) | none |

The PhonePe options themselves are the usual ``PHONEPE_*`` variables (README.md, "Configuration").
This module never prints or logs a secret.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


def _flag(name: str) -> bool:
    return _env(name).lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(_env("PHONEPE_SERVICE_DATA_DIR") or os.getcwd()).resolve()


SECRET_KEY_FILE = DATA_DIR / ".phonepe-secret-key"


def _secret_key() -> str:
    configured = _env("PHONEPE_SERVICE_SECRET_KEY") or _env("DJANGO_SECRET_KEY")
    if configured:
        return configured
    try:
        # `phonepe serve` creates it (0600) before loading these settings.
        return SECRET_KEY_FILE.read_text().strip()
    except FileNotFoundError:
        # Importing settings has no side effects: a one-off process (a check, a type
        # checker) gets a throwaway key; only admin sessions depend on it.
        return secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
DEBUG = _flag("PHONEPE_SERVICE_DEBUG")
ALLOWED_HOSTS = _list("PHONEPE_SERVICE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "phonepe_gateway.service.urls"
WSGI_APPLICATION = "phonepe_gateway.service.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "phonepe_gateway.django",
    # the host's own apps (signal receivers, say): PHONEPE_SERVICE_EXTRA_APPS=a.b,c.d
    *_list("PHONEPE_SERVICE_EXTRA_APPS"),
]

MIDDLEWARE = [
    "phonepe_gateway.django.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

_conn_max_age = int(_env("PHONEPE_SERVICE_CONN_MAX_AGE", "600"))
_database = dj_database_url.config(
    default=f"sqlite:///{DATA_DIR / 'phonepe-service.sqlite3'}",
    conn_max_age=_conn_max_age,
    # One "SELECT 1" per request on a reused connection: the first request after a database
    # restart then succeeds instead of failing. Off saves that round trip.
    conn_health_checks=_env("PHONEPE_SERVICE_CONN_HEALTH_CHECKS", "true").lower() != "false",
)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE makes writers queue instead of
    # failing with "database is locked" halfway through a transaction.
    _database.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES = {"default": _database}

_CALL_LOG = {"batched": "batched", "immediate": True, "off": False}
PHONEPE = {
    "service_api_keys": _list("PHONEPE_SERVICE_API_KEYS"),
    # Batched: a gateway call's log row costs the request a queue put, not an INSERT.
    "call_log": _CALL_LOG.get(_env("PHONEPE_SERVICE_CALL_LOG", "batched").lower(), "batched"),
}
PHONEPE_WEBHOOK_PROCESSING = _env("PHONEPE_SERVICE_WEBHOOK_PROCESSING", "background")
PHONEPE_METRICS_TOKEN = _env("PHONEPE_SERVICE_METRICS_TOKEN")
PHONEPE_METRICS_ALLOWED_IPS = _list("PHONEPE_SERVICE_METRICS_ALLOWED_IPS")
PHONEPE_API_DOCS = _flag("PHONEPE_SERVICE_API_DOCS") if _env("PHONEPE_SERVICE_API_DOCS") else None

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "phonepe_gateway.django.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "phonepe_gateway.django.logging.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["stderr"], "level": _env("PHONEPE_SERVICE_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        # The access line per request is useful but verbose; opt in with ..._ACCESS_LOG=true.
        "phonepe_gateway.access": {
            "level": "INFO" if _flag("PHONEPE_SERVICE_ACCESS_LOG") else "WARNING"
        },
        "django.server": {"level": "WARNING"},
        # 4xx answers are the caller's business (and scanners'); 5xx stay visible.
        "django.request": {"level": "ERROR"},
    },
}
