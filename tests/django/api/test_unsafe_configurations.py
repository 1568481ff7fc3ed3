"""Issue 11: every unsafe configuration is refused, each by a test through its real path."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from phonepe_gateway.django.checks import refuse_unsafe

from .conftest import API_KEY, order_event, post_json, webhook_auth

pytestmark = pytest.mark.django_db(transaction=True)

REAL = {
    "client_id": "M22PRODCLIENT",
    "client_secret": "a-real-secret-value",
    "webhook_username": "hookuser",
    "webhook_password": "hookpass123",
}


def _ids(settings, **phonepe) -> set[str]:
    settings.PHONEPE = phonepe
    return {
        m.id
        for m in run_checks(include_deployment_checks=True)
        if m.id and m.id.startswith("phonepe.")
    }


# -- system checks (serve and check --deploy stop on these) --------------------------


def test_local_when_debug_off_and_not_allowed_then_e006(settings, monkeypatch) -> None:
    monkeypatch.delenv("PHONEPE_ALLOW_LOCAL", raising=False)
    settings.PHONEPE_ALLOW_LOCAL = None
    settings.DEBUG = False
    assert _ids(settings) == {"phonepe.E006"}  # unset PHONEPE_ENV means local
    assert _ids(settings, env="local") == {"phonepe.E006"}


def test_local_when_debug_on_or_allowed_on_loopback_then_clean(settings, monkeypatch) -> None:
    monkeypatch.delenv("PHONEPE_ALLOW_LOCAL", raising=False)
    settings.PHONEPE_ALLOW_LOCAL = None
    settings.DEBUG = True
    assert "phonepe.E006" not in _ids(settings, env="local")
    settings.DEBUG = False
    monkeypatch.setenv("PHONEPE_ALLOW_LOCAL", "true")
    assert _ids(settings, env="local", local_url="http://[::1]:8300") == set()


def test_local_when_allowed_but_sandbox_not_loopback_then_e007(settings) -> None:
    settings.PHONEPE_ALLOW_LOCAL = True
    assert _ids(settings, env="local", local_url="http://10.1.2.3:8300") == {"phonepe.E007"}


def test_empty_env_when_set_then_e001(settings, monkeypatch) -> None:
    monkeypatch.setenv("PHONEPE_ENV", "")
    assert _ids(settings) == {"phonepe.E001"}
    monkeypatch.delenv("PHONEPE_ENV")
    assert "phonepe.E001" in _ids(settings, env="")


@pytest.mark.parametrize(
    "unsafe",
    [
        {"webhook_password": "sandboxpass1"},
        {"client_secret": "sandbox-client-secret"},
        {"base_urls": "http://api.phonepe.example/apis/pg"},
        {"oauth_urls": "http://api.phonepe.example/apis/identity-manager"},
        {"merchant_id": "M22\r\nX-Evil: 1", "salt_key": "a-real-salt-key"},
        {"merchant_id": "../../admin", "salt_key": "a-real-salt-key"},
    ],
    ids=[
        "sandbox-webhook-password",
        "sandbox-secret",
        "http-base",
        "http-oauth",
        "crlf-mid",
        "dotdot-mid",
    ],
)
def test_production_when_unsafe_value_then_e001_without_the_secret(settings, unsafe) -> None:
    assert _ids(settings, env="production", **{**REAL, **unsafe}) == {"phonepe.E001"}
    text = " ".join(str(m) for m in run_checks())
    assert "sandboxpass1" not in text
    assert "sandbox-client-secret" not in text


def test_production_when_safe_then_clean(settings) -> None:
    assert _ids(settings, env="production", **REAL) == set()


def test_refuse_unsafe_when_wsgi_entry_then_improperly_configured(settings, monkeypatch) -> None:
    # What wsgi.py calls: a process that runs no checks still refuses to serve.
    monkeypatch.delenv("PHONEPE_ALLOW_LOCAL", raising=False)
    settings.PHONEPE_ALLOW_LOCAL = None
    settings.PHONEPE = {"env": "local"}
    with pytest.raises(ImproperlyConfigured, match=r"phonepe\.E006"):
        refuse_unsafe()
    settings.PHONEPE = {"env": "production", **REAL}
    refuse_unsafe()


# -- the webhook: the sandbox's published credentials are not accepted outside local -------


def test_webhook_when_production_and_sandbox_credentials_then_503_without_the_reason(
    settings, phonepe, caplog
) -> None:
    settings.PHONEPE = {"env": "production", **REAL, "webhook_password": "sandboxpass1"}
    from phonepe_gateway.django import conf

    conf.reset_client()
    response = Client().post(
        "/api/webhooks/phonepe",
        data=order_event("ORDER-1", 1000),
        content_type="application/json",
        HTTP_AUTHORIZATION=webhook_auth(),
    )
    # Not accepted, and a 503: PhonePe keeps retrying until the configuration is fixed.
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    error = response.json()["error"]
    assert error["code"] == "misconfigured"
    # The caller learns nothing about the setup; the operator's log says what to fix.
    assert "PHONEPE_WEBHOOK_PASSWORD" not in response.content.decode()
    assert "sandboxpass1" not in response.content.decode()
    assert "PHONEPE_WEBHOOK_PASSWORD is the local sandbox's published value" in caplog.text
    assert "sandboxpass1" not in caplog.text


# -- CSRF: only the bearer token that authorised a request lifts the check ----------------


def allow_staff(request) -> bool:
    return bool(request.user.is_authenticated and request.user.is_staff)


def test_hook_when_session_and_foreign_bearer_without_csrf_then_refused(settings, phonepe) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "api_permission": f"{__name__}.allow_staff"}
    User.objects.create_user("ops3", password="pw-123456", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="ops3", password="pw-123456")
    # A cross-site fetch can add any Authorization header; the browser adds the cookie.
    forged = post_json(client, "/api/payments", {"amount": 1000}, HTTP_AUTHORIZATION="Bearer x")
    assert forged.status_code == 401
    keyed = post_json(
        client, "/api/payments", {"amount": 1000}, HTTP_AUTHORIZATION=f"Bearer {API_KEY}"
    )
    assert keyed.status_code == 201  # the key itself authorised it: no ambient credential


# -- /metrics and /readyz behind a token or an allow-list -----------------------------


def test_metrics_when_token_set_then_403_without_it_and_200_with_it(settings, phonepe) -> None:
    settings.PHONEPE_METRICS_TOKEN = "scrape-token-123"
    for path in ("/metrics", "/readyz"):
        refused = Client().get(path)
        assert refused.status_code == 403
        assert "PHONEPE_METRICS_TOKEN" in refused.json()["error"]["message"]
        assert Client().get(path, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
        ok = Client().get(path, HTTP_AUTHORIZATION="Bearer scrape-token-123")
        assert ok.status_code == 200
    assert Client().get("/healthz").status_code == 200  # reveals nothing, stays open


def test_metrics_when_allow_list_then_only_listed_addresses(settings, phonepe) -> None:
    settings.PHONEPE_METRICS_ALLOWED_IPS = ["10.0.0.0/8", "::1"]
    assert Client(REMOTE_ADDR="10.2.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/readyz").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.7").get("/metrics").status_code == 403


def test_metrics_when_allow_list_invalid_then_check_error(settings) -> None:
    settings.PHONEPE_METRICS_ALLOWED_IPS = ["10.0.0.0/8", "not-an-ip"]
    assert "phonepe.E008" in _ids(settings, env="local")


def test_readyz_when_ok_then_says_nothing_about_the_stack(phonepe) -> None:
    assert Client().get("/readyz").json() == {"status": "ok"}


# -- API docs: local assets, switchable -----------------------------------------------


def test_docs_when_local_then_page_and_assets_from_this_server(phonepe) -> None:
    page = Client().get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert "http://" not in html
    assert "https://" not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    bundle = Client().get("/api/docs?asset=swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert bundle["Content-Type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in b"".join(bundle.streaming_content)
    assert Client().get("/api/docs?asset=../../settings.py").status_code == 404
    assert Client().get("/api/openapi.json").status_code == 200


def test_docs_when_production_then_off_by_default_and_switchable(settings, phonepe) -> None:
    settings.PHONEPE = {"env": "production", **REAL}
    for path in ("/api/docs", "/api/openapi.json"):
        response = Client().get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    settings.PHONEPE_API_DOCS = True
    assert Client().get("/api/openapi.json").status_code == 200
    settings.PHONEPE = {"env": "local"}
    settings.PHONEPE_API_DOCS = False
    assert Client().get("/api/docs").status_code == 404


# -- oversized bodies and out-of-range integers ---------------------------------------


def test_payments_when_body_over_upload_limit_then_413_json(api) -> None:
    body = json.dumps({"amount": 1000, "metadata": {"x": "y" * (3 * 1024 * 1024)}})
    response = api.post("/api/payments", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("amount", [2**63, 2**64 + 5, -(2**63) - 1, 10**30])
def test_payments_when_amount_beyond_64_bits_then_4xx_not_500(api, amount) -> None:
    response = post_json(api, "/api/payments", {"amount": amount})
    assert response.status_code in (400, 422)
    assert "error" in response.json()


@pytest.mark.parametrize("amount", [2**63, 2**64, -(2**63) - 1])
def test_webhook_when_amount_beyond_64_bits_then_400_malformed(phonepe, amount) -> None:
    response = Client().post(
        "/api/webhooks/phonepe",
        data=order_event("ORDER-BIG", amount),
        content_type="application/json",
        HTTP_AUTHORIZATION=webhook_auth(),
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "webhook_malformed"
