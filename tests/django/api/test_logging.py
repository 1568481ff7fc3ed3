"""Structured JSON logs with a request id, and secret scrubbing."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, override_settings

from phonepe_gateway.django.logging import JsonFormatter, RequestIdFilter, request_id_var, scrub

from .conftest import API_KEY

MIDDLEWARE = [
    "phonepe_gateway.django.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]


def _record(message: str, *args, **extra) -> logging.LogRecord:
    record = logging.LogRecord(
        "phonepe_gateway.test", logging.INFO, __file__, 1, message, args, None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_formatter_when_record_then_one_json_object_with_request_id_and_extra() -> None:
    token = request_id_var.set("req-123")
    try:
        record = _record("paid %s", "MO1", order="MO1")
        RequestIdFilter().filter(record)
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    payload = json.loads(line)
    assert payload["message"] == "paid MO1"
    assert payload["request_id"] == "req-123"
    assert payload["order"] == "MO1"
    assert payload["level"] == "INFO"
    assert "\n" not in line


def test_json_formatter_when_exception_then_traceback_included_and_scrubbed() -> None:
    try:
        raise RuntimeError("client_secret=supersecretvalue9 failed")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "supersecretvalue9" not in line
    assert "RuntimeError" in json.loads(line)["exc"]


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: O-Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("headers={'Authorization': 'Bearer abcdef123456'}", "abcdef123456"),
        ("client_secret=topsecret-123&grant_type=client_credentials", "topsecret-123"),
        ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
        ("proxy http://user:pa55word@proxy.local:3128", "pa55word"),
        ("X-VERIFY salt_key=abc-salt-key-9", "abc-salt-key-9"),
    ],
)
def test_scrub_when_credential_shapes_then_masked(text: str, leak: str) -> None:
    assert leak not in scrub(text)


def test_scrub_when_known_secret_anywhere_then_masked_to_last_four() -> None:
    out = scrub("the value is zz-my-known-secret-5678!", ["zz-my-known-secret-5678"])
    assert "zz-my-known-secret" not in out
    assert "5678" in out


@pytest.mark.django_db
@override_settings(MIDDLEWARE=MIDDLEWARE)
def test_request_id_when_given_then_echoed_else_generated(phonepe) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")
    given = client.get("/api/payments/NOPE", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    minted = client.get("/api/payments/NOPE")
    assert len(minted["X-Request-ID"]) == 32
    hostile = client.get("/api/payments/NOPE", HTTP_X_REQUEST_ID="x\n{fake log}")
    assert hostile["X-Request-ID"] != "x\n{fake log}"


@pytest.mark.django_db
@override_settings(MIDDLEWARE=MIDDLEWARE)
def test_access_log_when_request_then_json_line_with_request_id(phonepe) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("phonepe_gateway.access")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        Client().get("/healthz", HTTP_X_REQUEST_ID="trace-42")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "trace-42"
    assert entry["path"] == "/healthz"
    assert entry["status"] == 200


@pytest.mark.django_db
@override_settings(MIDDLEWARE=MIDDLEWARE)
def test_django_request_log_for_an_error_then_carries_the_request_id(phonepe) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        Client().get("/api/payments/NOPE", HTTP_X_REQUEST_ID="trace-404")
    finally:
        logger.removeHandler(handler)
    assert lines
    assert json.loads(lines[-1])["request_id"] == "trace-404"
