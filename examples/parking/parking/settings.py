"""Settings of the Smart Parking example: SQLite by default, PhonePe pointed at the local sandbox.

Everything that differs between the demo, the tests and a real deployment comes from the
environment (``PARKING_*``, ``DATABASE_URL``, ``PHONEPE_*``). Never put real credentials here.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Off unless asked for (`make demo` sets PARKING_DEBUG=1): debug pages show settings and
# request data, and the public demo key below would let anyone mint return tokens.
DEBUG = _flag("PARKING_DEBUG", False)
_PHONEPE_ENV = os.environ.get("PHONEPE_ENV", "local").strip().lower()
#: Published in this repository: only for a local demo with DEBUG on.
_DEMO_SECRET_KEY = "smart-parking-demo-key-not-for-production"


def _secret_key() -> str:
    configured = os.environ.get("PARKING_SECRET_KEY", "").strip()
    if configured and configured != _DEMO_SECRET_KEY:
        return configured
    if _PHONEPE_ENV != "local" or (configured and not DEBUG):
        raise ImproperlyConfigured(
            "PARKING_SECRET_KEY must be set to a private random value (not the demo key) "
            f"with PHONEPE_ENV={_PHONEPE_ENV or '(empty)'} or DEBUG off: with the public key anyone "
            "can forge sessions and payment return tokens. Generate one with: python -c "
            '"import secrets; print(secrets.token_urlsafe(50))"'
        )
    # Local: the demo key with DEBUG on (sessions survive restarts of `make demo`); with
    # DEBUG off (tests, a loopback run) a key of this process only, never the public one.
    return _DEMO_SECRET_KEY if DEBUG else secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
if DEBUG and _PHONEPE_ENV == "production":
    raise ImproperlyConfigured(
        "PARKING_DEBUG is on with PHONEPE_ENV=production: error pages would expose settings "
        "and request data of real payments. Unset PARKING_DEBUG."
    )
ALLOWED_HOSTS = os.environ.get("PARKING_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "phonepe_gateway.django",
    "lots",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "parking.urls"
WSGI_APPLICATION = "parking.wsgi.application"

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
    },
]

_sqlite_path = os.environ.get("PARKING_DB_PATH", str(BASE_DIR / "db.sqlite3"))
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{_sqlite_path}", conn_max_age=0, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Webhooks, the reconciler and page views write at once: wait for the lock, take it early.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    # Tests use a file, not shared memory: the live server, the sandbox's webhooks and the
    # test itself then each get their own connection, as in production.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("PARKING_TEST_DB_PATH")
        or os.path.join(tempfile.gettempdir(), f"parking-test-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-in"
TIME_ZONE = os.environ.get("PARKING_TIME_ZONE", "Asia/Kolkata")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff-occupancy"
LOGOUT_REDIRECT_URL = "home"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

PHONEPE = {
    "env": _PHONEPE_ENV,
    "local_url": os.environ.get("PHONEPE_LOCAL_URL", "http://127.0.0.1:8300"),
    # The REST API under /api/ is for staff sessions; drivers only use the pages.
    "api_permission": "lots.permissions.staff_only",
    # One ticket, one payment: a second completed payment for a ticket is refunded.
    "refund_duplicates": True,
}

# A loopback run with DEBUG off (the tests, a local trial) says so explicitly (phonepe.E006).
PHONEPE_ALLOW_LOCAL = _flag("PHONEPE_ALLOW_LOCAL", False)
# /metrics and /readyz: a scraper token and/or networks (docs/OPERATIONS.md).
PHONEPE_METRICS_TOKEN = os.environ.get("PARKING_METRICS_TOKEN", "")
PHONEPE_METRICS_ALLOWED_IPS = os.environ.get("PARKING_METRICS_ALLOWED_IPS", "")

#: Where the payment return link points (the site as drivers reach it).
PARKING_PUBLIC_URL = os.environ.get("PARKING_PUBLIC_URL", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "lots": {"handlers": ["console"], "level": "INFO"},
        "phonepe_gateway": {"handlers": ["console"], "level": "INFO"},
    },
}
