"""A minimal host project for the Django app's tests.

SQLite by default (a file, so threads share it, with IMMEDIATE transactions so that
concurrent writers queue instead of failing); PostgreSQL when PHONEPE_TEST_DB=postgres,
from PHONEPE_TEST_POSTGRES_URL. PHONEPE is set per test to point at a sandbox.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "phonepe_gateway.django",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.django.urls"

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

if os.environ.get("PHONEPE_TEST_DB") == "postgres":
    import dj_database_url

    url = os.environ.get("PHONEPE_TEST_POSTGRES_URL")
    if not url:
        raise RuntimeError(
            "PHONEPE_TEST_DB=postgres needs PHONEPE_TEST_POSTGRES_URL "
            '(eval "$(scripts/pg-throwaway.sh start)")'
        )
    DATABASES = {"default": dj_database_url.parse(url, conn_max_age=0)}
else:
    _dir = Path(tempfile.gettempdir())
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_dir / f"phonepe-tests-{os.getpid()}.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
            "TEST": {"NAME": str(_dir / f"phonepe-tests-{os.getpid()}-test.sqlite3")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"

# Overridden per test (the `phonepe_sandbox` fixture points it at a fresh sandbox).
PHONEPE: dict[str, object] = {"env": "local"}
# The suite is a loopback demo: local mode with DEBUG off, allowed explicitly (phonepe.E006).
PHONEPE_ALLOW_LOCAL = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"], "level": "WARNING"},
}
