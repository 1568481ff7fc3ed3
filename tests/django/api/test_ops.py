"""/healthz, /readyz, /metrics and the system checks."""

from __future__ import annotations

import re

import pytest
from django.core.checks import run_checks
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from .conftest import order_event, post_json, webhook_auth
from .test_webhooks_api import database_unreachable

pytestmark = pytest.mark.django_db(transaction=True)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _scrape() -> dict:
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return _samples(response.content.decode())


def test_healthz_then_200_without_database(phonepe) -> None:
    with database_unreachable():
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]  # never cached by a proxy in between


def test_healthz_when_not_get_then_405(phonepe) -> None:
    assert Client().post("/healthz").status_code == 405


def test_readyz_when_database_up_then_200(phonepe) -> None:
    assert Client().get("/readyz").json()["status"] == "ok"


def test_readyz_when_database_down_then_503_json(phonepe) -> None:
    with database_unreachable():
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


def test_metrics_when_payments_made_then_counts_outcomes_states_latency(api, control) -> None:
    before = _scrape()
    ok = post_json(api, "/api/payments", {"amount": 1000}).json()["merchant_order_id"]
    control.post(f"/_sandbox/orders/{ok}/complete")
    Client().post(
        "/api/webhooks/phonepe",
        data=order_event(ok, 1000),
        content_type="application/json",
        HTTP_AUTHORIZATION=webhook_auth(),
    )
    Client().post("/api/webhooks/phonepe", data=b"{}", content_type="application/json")
    control.post(
        "/_sandbox/faults",
        json={"method": "POST", "path": "/checkout/v2/pay", "action": "reset", "times": 1},
    )
    post_json(api, "/api/payments", {"amount": 1000})
    after = _scrape()

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("phonepe_payment_initiations_total", outcome="ok") == 1
    assert delta("phonepe_payment_initiations_total", outcome="transport_error") == 1
    assert delta("phonepe_webhooks_total", outcome="stored") == 1
    assert delta("phonepe_webhooks_total", outcome="unauthenticated") == 1
    assert delta("phonepe_final_states_total", kind="payment", state="COMPLETED") == 1
    assert sum(
        v
        for (name, labels), v in after.items()
        if name == "phonepe_gateway_connection_errors_total"
    ) > sum(
        v
        for (name, labels), v in before.items()
        if name == "phonepe_gateway_connection_errors_total"
    )
    latency = [
        dict(labels)
        for (name, labels) in after
        if name == "phonepe_gateway_call_duration_seconds_count"
    ]
    assert {"endpoint": phonepe_endpoint(control), "call": "create_payment"} in latency
    assert _value(after, "phonepe_payments", state="COMPLETED") == 1
    assert (
        _value(after, "phonepe_payments", state="PENDING")
        + _value(after, "phonepe_payments", state="UNKNOWN")
        + _value(after, "phonepe_payments", state="FAILED")
        == 1
    )
    assert ("phonepe_reconciliation_overdue_seconds", (("kind", "payment"),)) in after


def phonepe_endpoint(control) -> str:
    return str(control.base_url).rstrip("/") + "/apis/pg-sandbox"


def test_metrics_when_retry_succeeds_then_counted(settings, api, control) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "max_retries": 2}
    before = _scrape()
    order_id = post_json(api, "/api/payments", {"amount": 1000}).json()["merchant_order_id"]
    control.post(
        "/_sandbox/faults",
        json={
            "method": "GET",
            "path": f"/checkout/v2/order/{order_id}/status",
            "action": "status",
            "status": 503,
            "times": 1,
        },
    )
    assert api.get(f"/api/payments/{order_id}?sync=true").status_code == 200
    after = _scrape()
    assert (
        _value(after, "phonepe_gateway_retries_total", call="order_status")
        - _value(before, "phonepe_gateway_retries_total", call="order_status")
        == 1
    )
    assert (
        _value(after, "phonepe_gateway_retry_successes_total", call="order_status")
        - _value(before, "phonepe_gateway_retry_successes_total", call="order_status")
        == 1
    )


def test_metrics_labels_never_carry_ids(api) -> None:
    order_id = post_json(api, "/api/payments", {"amount": 1000}).json()["merchant_order_id"]
    text = Client().get("/metrics").content.decode()
    assert order_id not in text


# -- system checks ------------------------------------------------------------------


def _ids(settings, **phonepe) -> set[str]:
    settings.PHONEPE = phonepe
    return {m.id for m in run_checks() if m.id and m.id.startswith("phonepe.")}


def test_checks_when_local_defaults_then_clean(settings) -> None:
    assert _ids(settings, env="local") == set()


def test_checks_when_production_without_credentials_then_e001(settings) -> None:
    assert "phonepe.E001" in _ids(settings, env="production")


def test_checks_when_debug_in_production_then_e002(settings) -> None:
    settings.DEBUG = True
    ids = _ids(
        settings,
        env="production",
        client_id="CID",
        client_secret="a-real-secret-value",
        webhook_username="hookuser",
        webhook_password="hookpass123",
    )
    assert ids == {"phonepe.E002"}


def test_checks_when_no_webhook_credentials_outside_local_then_w003(settings, monkeypatch) -> None:
    for name in ("PHONEPE_WEBHOOK_USERNAME", "PHONEPE_WEBHOOK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    ids = _ids(settings, env="sandbox", client_id="CID", client_secret="a-real-secret-value")
    assert ids == {"phonepe.W003"}


def test_checks_when_http_redirect_in_production_then_e004(settings) -> None:
    ids = _ids(
        settings,
        env="production",
        client_id="CID",
        client_secret="a-real-secret-value",
        webhook_username="hookuser",
        webhook_password="hookpass123",
        redirect_url="http://shop.example/return",
        callback_url="https://shop.example/cb",
    )
    assert ids == {"phonepe.E004"}


def test_checks_when_permission_hook_not_importable_then_e005(settings) -> None:
    assert "phonepe.E005" in _ids(settings, env="local", api_permission="nowhere.nothing")


def test_checks_messages_never_contain_the_secret(settings) -> None:
    secret = "canary-secret-7f3a9c"
    settings.PHONEPE = {
        "env": "production",
        "client_id": "CID",
        "client_secret": secret,
        "connect_timeout": "not-a-number",
    }
    text = " ".join(str(m) for m in run_checks())
    assert re.search("phonepe.E001", text)
    assert secret not in text


def test_diagnostics_when_api_key_then_doctor_report_of_the_sandbox(api) -> None:
    response = api.get("/api/diagnostics")
    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is True
    assert report["checks"]
    for check in report["checks"]:
        assert {"name", "status", "category", "detail", "remedy", "elapsed_ms"} <= set(check)


def test_diagnostics_when_gateway_down_then_report_says_what_failed(settings, api) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "local_url": "http://127.0.0.1:9"}
    report = api.get("/api/diagnostics").json()
    assert report["ok"] is False
    assert any(c["category"] == "CONNECTION_REFUSED" for c in report["checks"])
