"""A canary secret never appears in logs, responses, admin pages or diagnostics."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client, override_settings

from django.urls import reverse
from phonepe_gateway.django.logging import JsonFormatter, RequestIdFilter
from phonepe_gateway.sandbox.testing import serve_sandbox

from .conftest import order_event, post_json
from .test_logging import MIDDLEWARE

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_SECRET = "canary-client-secret-8d1f"
HOOK_PASSWORD = "canaryHook7Q2x"
API_KEY = "canary-api-key-55e0"
CANARIES = (CLIENT_SECRET, HOOK_PASSWORD, API_KEY)


@pytest.fixture
def captured_logs() -> Iterator[list[str]]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@override_settings(MIDDLEWARE=MIDDLEWARE)
def test_canary_secrets_never_leak(settings, captured_logs, monkeypatch) -> None:
    seen: list[str] = []
    with serve_sandbox(client_secret=CLIENT_SECRET, webhook_password=HOOK_PASSWORD) as sandbox:
        settings.PHONEPE = {
            "env": "local",
            "local_url": sandbox.url,
            "client_secret": CLIENT_SECRET,
            "webhook_password": HOOK_PASSWORD,
            "service_api_keys": [API_KEY],
        }
        settings.PHONEPE_WEBHOOK_PROCESSING = "inline"
        seen += _exercise_api(sandbox, monkeypatch)
        seen += _admin_pages()
    assert captured_logs, "nothing was logged: the capture is broken"
    everything = "\n".join(seen + captured_logs)
    for canary in CANARIES:
        assert canary not in everything


def _exercise_api(sandbox, monkeypatch) -> list[str]:
    api = Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")
    out: list[str] = []

    def keep(response) -> None:
        out.append(response.serialize().decode("utf-8", "replace"))

    created = post_json(api, "/api/payments", {"amount": 5000})
    assert created.status_code == 201
    keep(created)
    order_id = created.json()["merchant_order_id"]
    with __import__("httpx").Client(base_url=sandbox.url) as control:
        control.post(f"/_sandbox/orders/{order_id}/complete")
    auth = hashlib.sha256(f"sandboxhook:{HOOK_PASSWORD}".encode()).hexdigest()
    hook = Client().post(
        "/api/webhooks/phonepe",
        data=order_event(order_id, 5000),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert hook.status_code == 200
    keep(hook)
    keep(
        Client().post(
            "/api/webhooks/phonepe",
            data=b"{}",
            content_type="application/json",
            HTTP_AUTHORIZATION=HOOK_PASSWORD,
        )
    )
    keep(api.get(f"/api/payments/{order_id}?sync=true"))
    keep(post_json(api, f"/api/payments/{order_id}/refunds", {"amount": 100}))
    keep(Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}x").get("/api/payments/x"))
    diagnostics = api.get("/api/diagnostics")
    assert diagnostics.status_code == 200
    keep(diagnostics)
    keep(Client().get("/metrics"))

    # An unexpected error whose message carries every secret: answered and logged scrubbed.
    from phonepe_gateway.django import services

    def explode(**kwargs):
        raise RuntimeError(f"leak {CLIENT_SECRET} {HOOK_PASSWORD} {API_KEY}")

    monkeypatch.setattr(services, "create_payment", explode)
    crashed = post_json(api, "/api/payments", {"amount": 5000})
    assert crashed.status_code == 500
    keep(crashed)
    return out


def _admin_pages() -> list[str]:
    User.objects.create_superuser("root", "root@example.invalid", "pw-123456")
    client = Client()
    assert client.login(username="root", password="pw-123456")
    pages = [client.get("/admin/")]
    registered = {
        m._meta.model_name for m in admin.site._registry if m._meta.app_label == "phonepe"
    }
    assert {"payment", "refund", "webhookevent"} <= registered
    for model, _model_admin in admin.site._registry.items():
        if model._meta.app_label != "phonepe":
            continue
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(client.get(reverse("admin:{}_{}_changelist".format(*info))))
        for pk in model._default_manager.values_list("pk", flat=True)[:5]:
            pages.append(client.get(reverse("admin:{}_{}_change".format(*info), args=[pk])))
    for page in pages:
        assert page.status_code == 200
    return [page.content.decode("utf-8", "replace") for page in pages]
