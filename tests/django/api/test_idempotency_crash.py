"""Idempotency-Key under crashes: whatever died where, a retry never makes a second order or
refund at the gateway, and it gets the one outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from phonepe_gateway.django import states
from phonepe_gateway.django.models import IdempotencyRecord, Payment, Refund

from .conftest import post_json

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerKilled(BaseException):
    """What SIGKILL looks like from inside: nothing after this point runs."""


def _kill_after_gateway(monkeypatch, name: str) -> None:
    """Make the next ``states.<name>`` (the write after the gateway answered) die once."""
    real = getattr(states, name)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise WorkerKilled
        return real(*args, **kwargs)

    monkeypatch.setattr(states, name, dying)


def _as_if_killed(key: str) -> None:
    """A SIGKILLed worker leaves its record in progress, claimed long ago."""
    IdempotencyRecord.objects.filter(key=key).update(
        response_status=None,
        response_body=None,
        claimed_at=timezone.now() - timedelta(hours=1),
    )


def _paid_order(api: Client, control) -> str:
    order_id = post_json(api, "/api/payments", {"amount": 5000}).json()["merchant_order_id"]
    control.post(f"/_sandbox/orders/{order_id}/complete")
    assert api.get(f"/api/payments/{order_id}?sync=true").json()["state"] == "COMPLETED"
    return order_id


def _gateway_refunds(control, order_id: str) -> list[dict]:
    return control.get(f"/_sandbox/orders/{order_id}").json()["refunds"]


def test_refund_crash_after_gateway_call_then_retry_one_gateway_refund(
    api, control, monkeypatch
) -> None:
    order_id = _paid_order(api, control)
    path = f"/api/payments/{order_id}/refunds"
    _kill_after_gateway(monkeypatch, "move_refund")
    with pytest.raises(WorkerKilled):
        post_json(api, path, {"amount": 500}, HTTP_IDEMPOTENCY_KEY="refund-1")
    retry = post_json(api, path, {"amount": 500}, HTTP_IDEMPOTENCY_KEY="refund-1")
    assert retry.status_code == 201
    assert len(_gateway_refunds(control, order_id)) == 1
    assert Refund.objects.count() == 1
    assert api.get(f"/api/payments/{order_id}").json()["refunded_amount"] == 500
    again = post_json(api, path, {"amount": 500}, HTTP_IDEMPOTENCY_KEY="refund-1")
    assert again.content == retry.content


def test_refund_worker_killed_then_stale_key_taken_over_one_gateway_refund(
    api, control, monkeypatch
) -> None:
    order_id = _paid_order(api, control)
    path = f"/api/payments/{order_id}/refunds"
    _kill_after_gateway(monkeypatch, "move_refund")
    with pytest.raises(WorkerKilled):
        post_json(api, path, {"amount": 700}, HTTP_IDEMPOTENCY_KEY="refund-2")
    _as_if_killed("refund-2")
    retry = post_json(api, path, {"amount": 700}, HTTP_IDEMPOTENCY_KEY="refund-2")
    assert retry.status_code == 201
    assert retry.json()["amount"] == 700
    assert [r["amount"] for r in _gateway_refunds(control, order_id)] == [700]


def test_create_worker_killed_after_gateway_call_then_one_order_and_a_link(
    api, control, monkeypatch
) -> None:
    _kill_after_gateway(monkeypatch, "acknowledge_payment")
    with pytest.raises(WorkerKilled):
        post_json(api, "/api/payments", {"amount": 4100}, HTTP_IDEMPOTENCY_KEY="pay-1")
    _as_if_killed("pay-1")
    retry = post_json(api, "/api/payments", {"amount": 4100}, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert retry.status_code == 201
    body = retry.json()
    assert body["checkout_url"]
    orders = control.get("/_sandbox/orders").json()["orders"]
    # The first attempt's order exists but its link died with the worker: the retry made
    # one new attempt for the link, and marked the first as superseded by it.
    ids = sorted(o["merchantOrderId"] for o in orders)
    first = Payment.objects.exclude(superseded_by="").get()
    assert ids == sorted([first.merchant_order_id, body["merchant_order_id"]])
    assert first.superseded_by == body["merchant_order_id"]


def test_create_worker_killed_before_gateway_call_then_retry_sends_the_same_order(
    api, control, monkeypatch
) -> None:
    from phonepe_gateway.django import services

    real = services._request_order
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise WorkerKilled
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_request_order", dying)
    with pytest.raises(WorkerKilled):
        post_json(api, "/api/payments", {"amount": 4200}, HTTP_IDEMPOTENCY_KEY="pay-2")
    assert Payment.objects.get().state == "CREATED"
    retry = post_json(api, "/api/payments", {"amount": 4200}, HTTP_IDEMPOTENCY_KEY="pay-2")
    assert retry.status_code == 201
    orders = control.get("/_sandbox/orders").json()["orders"]
    assert [o["merchantOrderId"] for o in orders] == [retry.json()["merchant_order_id"]]
    assert Payment.objects.count() == 1


def test_derived_ids_differ_per_api_key_and_per_key(settings, api) -> None:
    from .conftest import API_KEY

    settings.PHONEPE = {**settings.PHONEPE, "service_api_keys": [API_KEY, "second-key-22"]}
    other = Client(HTTP_AUTHORIZATION="Bearer second-key-22")
    a = post_json(api, "/api/payments", {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="k")
    b = post_json(other, "/api/payments", {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="k")
    c = post_json(api, "/api/payments", {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="k2")
    ids = {r.json()["merchant_order_id"] for r in (a, b, c)}
    assert len(ids) == 3


# -- holes the chaos campaign found ---------------------------------------------------------


def test_database_down_while_claiming_the_key_then_503_not_500(api, monkeypatch) -> None:
    from django.db import OperationalError

    from phonepe_gateway.django import idempotency

    def down(record):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(idempotency, "insert", down)  # the claim's one write
    response = post_json(api, "/api/payments", {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="db-1")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"


def test_database_down_inside_the_action_then_503_not_stored_and_retry_succeeds(
    api, monkeypatch
) -> None:
    from phonepe_gateway.django import services
    from phonepe_gateway.django.exceptions import StorageUnavailable

    real = services.create_payment
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise StorageUnavailable("The payments database is unavailable; try again shortly.")
        return real(**kwargs)

    monkeypatch.setattr(services, "create_payment", flaky)
    first = post_json(api, "/api/payments", {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="db-2")
    assert first.status_code == 503
    retry = post_json(api, "/api/payments", {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="db-2")
    assert retry.status_code == 201


def test_database_down_when_storing_the_answer_then_503_and_retry_gets_the_same_payment(
    api, control, monkeypatch
) -> None:
    from django.db import OperationalError

    from phonepe_gateway.django import idempotency

    real = idempotency._store_answer
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(idempotency, "_store_answer", flaky)
    first = post_json(api, "/api/payments", {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="db-3")
    assert first.status_code == 503
    _as_if_killed("db-3")  # the claim could not be released either: it goes stale
    retry = post_json(api, "/api/payments", {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="db-3")
    assert retry.status_code == 201
    assert Payment.objects.count() == 1
    assert len(control.get("/_sandbox/orders").json()["orders"]) == 1


def test_database_down_on_a_read_then_503_not_500(api, monkeypatch) -> None:
    from django.db import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(Payment.objects, "get", down)
    response = api.get("/api/payments/MO-anything?sync=true")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert response["Retry-After"] == "1"
