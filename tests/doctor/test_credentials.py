"""The credential check and the all-green run, against the real local sandbox."""

from __future__ import annotations

import json

import httpx
import pytest

from phonepe_gateway import Settings
from phonepe_gateway.doctor import Verdict, run_diagnostics

from .helpers import CANARY, check, local_settings


def sandbox_settings(sandbox, **options) -> Settings:
    options.setdefault("connect_timeout", 1.0)
    return Settings.build(env="local", local_url=sandbox.url, **options)


def test_run_when_sandbox_and_its_credentials_then_every_check_passes(sandbox):
    report = run_diagnostics(sandbox_settings(sandbox))

    assert report.ok, [c for c in report.checks if c.status != "ok"]
    assert {c.status for c in report.checks} == {"ok"}
    assert {c.category for c in report.checks} == {Verdict.OK}
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
    assert (creds.status, creds.category) == ("fail", Verdict.AUTH_FAILED)
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
    assert (creds.status, creds.category) == ("fail", Verdict.AUTH_FAILED)
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
    assert creds.category is Verdict.AUTH_FAILED
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
    assert (creds.status, creds.category) == ("fail", Verdict.HTTP_ERROR)
    assert "HTTP 503" in creds.detail
    assert "PhonePe's side or a proxy" in creds.remedy


def test_credentials_when_rate_limited_then_warns(sandbox):
    fault(sandbox, method="POST", path="/v1/oauth/token", action="status", status=429, times=5)
    report = run_diagnostics(sandbox_settings(sandbox))

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("warn", Verdict.HTTP_ERROR)
    assert report.ok


def test_credentials_when_connection_reset_mid_call_then_transport_category(sandbox):
    fault(sandbox, method="POST", path="/v1/oauth/token", action="reset", times=5)
    report = run_diagnostics(sandbox_settings(sandbox))

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("fail", Verdict.CONNECTION_RESET)
    assert "something in between" in creds.remedy


# -- what PhonePe says about an order that does not exist -------------------------------

UNKNOWN_ORDER_ANSWERS = [
    pytest.param(
        400,
        {
            "success": False,
            "code": "INVALID_MERCHANT_ORDER_ID",
            "message": "No entry found for given merchant order id",
            "data": {},
        },
        id="400-INVALID_MERCHANT_ORDER_ID",
    ),
    pytest.param(
        404,
        {
            "success": False,
            "code": "INVALID_MERCHANT_ORDER_ID",
            "message": "No entry found for given merchant order id",
            "data": {},
        },
        id="404-INVALID_MERCHANT_ORDER_ID",
    ),
    pytest.param(
        400,
        {
            "errorCode": "INVALID_MERCHANT_ORDER_ID",
            "message": "No entry found for given merchant order id",
        },
        id="400-errorCode-INVALID_MERCHANT_ORDER_ID",
    ),
    pytest.param(
        404,
        {"success": False, "code": "ORDER_NOT_FOUND", "message": "No order found", "data": {}},
        id="404-ORDER_NOT_FOUND",
    ),
]


@pytest.mark.parametrize(("status", "body"), UNKNOWN_ORDER_ANSWERS)
def test_credentials_when_gateway_says_no_such_order_then_credentials_work(
    phonepe_answers, status, body
):
    server = phonepe_answers(status, body)
    report = run_diagnostics(local_settings(server.url))

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("ok", Verdict.OK), creds
    assert "PGSANDBOXCLIENT (version 1) accepted" in creds.detail
    assert f"HTTP {status} {body.get('code') or body.get('errorCode')}" in creds.detail
    assert report.ok
    # It really went over the wire: a token, then the made-up order's status.
    assert any(line.startswith("POST /apis/pg/v1/oauth/token ") for line in server.seen)
    assert any(
        line.startswith("GET /apis/pg/checkout/v2/order/DOCTOR-PROBE-") for line in server.seen
    )


def test_credentials_when_other_400_then_warns_instead_of_claiming_success(phonepe_answers):
    server = phonepe_answers(
        400, {"success": False, "code": "BAD_REQUEST", "message": "Bad request", "data": {}}
    )
    report = run_diagnostics(local_settings(server.url))

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("warn", Verdict.HTTP_ERROR)
    assert "HTTP 400, code BAD_REQUEST" in creds.detail


def test_credentials_when_status_path_not_mapped_then_fails_and_names_the_base_url(
    phonepe_answers,
):
    server = phonepe_answers(404, {"message": "Bad Request - Api Mapping Not Found", "code": "404"})
    report = run_diagnostics(local_settings(server.url))

    creds = check(report, "credentials")
    assert (creds.status, creds.category) == ("fail", Verdict.HTTP_ERROR)
    assert "Api Mapping Not Found" in creds.detail
    assert "PHONEPE_BASE_URLS" in creds.remedy
    assert "/apis/pg" in creds.remedy
