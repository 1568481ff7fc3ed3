"""The credential check and the all-green run, against the real local sandbox."""

from __future__ import annotations

import json

import httpx

from phonepe_gateway import Category, Settings
from phonepe_gateway._diagnostics import run_diagnostics

from .helpers import CANARY, check


def sandbox_settings(sandbox, **options) -> Settings:
    options.setdefault("connect_timeout", 1.0)
    return Settings.build(env="local", local_url=sandbox.url, **options)


def test_run_when_sandbox_and_its_credentials_then_every_check_passes(sandbox):
    report = run_diagnostics(sandbox_settings(sandbox))

    assert report.ok, [c for c in report.checks if c.status != "ok"]
    assert {c.status for c in report.checks} == {"ok"}
    assert {c.category for c in report.checks} == {Category.OK}
    creds = check(report, "credentials")
    assert "PGSANDBOXCLIENT" in creds.detail
    assert "accepted" in creds.detail
    assert all(c.remedy == "" for c in report.checks)


def test_run_when_generation_1_credentials_then_credentials_pass(sandbox):
    settings = sandbox_settings(
        sandbox, api_version="v1", merchant_id="PGSANDBOXMERCHANT", salt_key="sandbox-salt-key"
    )
    report = run_diagnostics(settings)

    assert check(report, "credentials").status == "ok"
    assert report.ok


def test_credentials_when_client_secret_wrong_then_auth_failed_with_gateway_message(sandbox):
    settings = sandbox_settings(sandbox, client_id="PGSANDBOXCLIENT", client_secret=CANARY)
    report = run_diagnostics(settings)

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("fail", Category.AUTH_FAILED)
    assert "PhonePe rejected client id PGSANDBOXCLIENT" in creds.detail
    assert "HTTP 4" in creds.detail
    assert "built-in credentials" in creds.remedy  # local env: the sandbox's own ids
    assert not report.ok
    # Connectivity is fine: only the credentials fail.
    assert [c.name for c in report.checks if c.status == "fail"] == ["credentials"]
    assert CANARY not in json.dumps(report.to_dict())


def test_credentials_when_salt_key_wrong_then_auth_failed(sandbox):
    settings = sandbox_settings(
        sandbox, api_version="v1", merchant_id="PGSANDBOXMERCHANT", salt_key=CANARY
    )
    report = run_diagnostics(settings)

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("fail", Category.AUTH_FAILED)
    assert "merchant id PGSANDBOXMERCHANT" in creds.detail
    assert CANARY not in json.dumps(report.to_dict())


def test_credentials_when_production_credentials_wrong_then_remedy_mentions_environment(
    sandbox,
):
    # A production configuration pointed at the sandbox: the advice is the production one.
    settings = Settings.build(
        env="production",
        client_id="M22PRODUCTION",
        client_secret=CANARY,
        base_urls=[sandbox.base_url],
        connect_timeout=1.0,
    )
    report = run_diagnostics(settings)

    creds = check(report, "credentials")
    assert creds.category is Category.AUTH_FAILED
    assert "PHONEPE_ENV=sandbox" in creds.remedy
    assert "PHONEPE_CLIENT_SECRET" in creds.remedy
    assert CANARY not in json.dumps(report.to_dict())


def fault(sandbox, **rule) -> None:
    response = httpx.post(sandbox.url + "/_sandbox/faults", json=rule, timeout=5)
    assert response.status_code < 300, response.text


def test_credentials_when_token_endpoint_answers_503_then_http_error(sandbox):
    fault(sandbox, method="POST", path="/v1/oauth/token", action="status", status=503, times=5)
    report = run_diagnostics(sandbox_settings(sandbox))

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("fail", Category.HTTP_ERROR)
    assert "HTTP 503" in creds.detail
    assert "PhonePe's side or a proxy" in creds.remedy


def test_credentials_when_rate_limited_then_warns(sandbox):
    fault(sandbox, method="POST", path="/v1/oauth/token", action="status", status=429, times=5)
    report = run_diagnostics(sandbox_settings(sandbox))

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("warn", Category.HTTP_ERROR)
    assert report.ok


def test_credentials_when_connection_reset_mid_call_then_transport_category(sandbox):
    fault(sandbox, method="POST", path="/v1/oauth/token", action="reset", times=5)
    report = run_diagnostics(sandbox_settings(sandbox))

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("fail", Category.CONNECTION_RESET)
    assert "something in between" in creds.remedy
