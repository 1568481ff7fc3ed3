"""Idempotency-Key: same key and body -> the same answer and one payment; other body -> 409."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from phonepe_gateway.django.models import IdempotencyRecord, Payment

from .conftest import API_KEY, post_json

pytestmark = pytest.mark.django_db(transaction=True)


def _create(client: Client, body: dict, key: str):
    return post_json(client, "/api/payments", body, HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_same_body_then_identical_answer_and_one_payment(api, control) -> None:
    body = {"amount": 2500, "reference": "booking:7"}
    first = _create(api, body, "key-1")
    second = _create(api, body, "key-1")
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert first["Idempotent-Replayed"] == "false"
    assert second["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert len(control.get("/_sandbox/orders").json()["orders"]) == 1


def test_same_key_other_body_then_409_and_nothing_new(api, control) -> None:
    assert _create(api, {"amount": 2500}, "key-2").status_code == 201
    response = _create(api, {"amount": 2600}, "key-2")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1


def test_without_key_then_two_payments(api) -> None:
    assert post_json(api, "/api/payments", {"amount": 2500}).status_code == 201
    assert post_json(api, "/api/payments", {"amount": 2500}).status_code == 201
    assert Payment.objects.count() == 2


def test_key_is_scoped_per_api_key(settings, api) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "service_api_keys": [API_KEY, "second-key-22"]}
    other = Client(HTTP_AUTHORIZATION="Bearer second-key-22")
    assert _create(api, {"amount": 2500}, "shared").status_code == 201
    assert _create(other, {"amount": 9900}, "shared").status_code == 201
    assert Payment.objects.count() == 2


def test_invalid_request_then_key_released_for_a_corrected_request(api) -> None:
    assert _create(api, {"amount": 1}, "key-3").status_code == 422
    assert not IdempotencyRecord.objects.exists()
    assert _create(api, {"amount": 1000}, "key-3").status_code == 201


def test_gateway_error_with_open_outcome_then_retry_resumes_it_and_no_second_order(
    api, control
) -> None:
    control.post(
        "/_sandbox/faults",
        json={
            "method": "POST",
            "path": "/checkout/v2/pay",
            "action": "status",
            "status": 503,
            "times": 1,
        },
    )
    first = _create(api, {"amount": 1000}, "key-4")
    assert first.status_code == 502  # a 503 from the gateway: it may have acted
    assert first.json()["error"]["details"]["state"] == "UNKNOWN"
    # Not a final answer: the retry resumes the same payment under the same order id ...
    second = _create(api, {"amount": 1000}, "key-4")
    assert second.status_code == 201
    assert (
        second.json()["merchant_order_id"] == first.json()["error"]["details"]["merchant_order_id"]
    )
    # ... and from then on the answer is final and replayed byte for byte.
    third = _create(api, {"amount": 1000}, "key-4")
    assert third.content == second.content
    assert third["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert len(control.get("/_sandbox/orders").json()["orders"]) == 1


def test_gateway_refused_for_certain_then_same_error_replayed(api, control) -> None:
    control.post(
        "/_sandbox/faults",
        json={"method": "POST", "path": "/checkout/v2/pay", "action": "reset", "times": 5},
    )
    first = _create(api, {"amount": 1000}, "key-5")
    second = _create(api, {"amount": 1000}, "key-5")
    assert first.status_code >= 500
    assert second.content == first.content
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("key", ["k" * 256, "ключ-1", "key\x7f", "tab\there", "₹100"])
def test_key_when_too_long_or_not_printable_ascii_then_400_and_nothing_created(api, key) -> None:
    response = _create(api, {"amount": 1000}, key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert Payment.objects.count() == 0


def test_key_when_printable_ascii_with_spaces_and_symbols_then_accepted(api) -> None:
    key = "order 42/retry #1 ~ " + "k" * 235  # 255 characters, the limit
    first = _create(api, {"amount": 1000}, key)
    second = _create(api, {"amount": 1000}, key)
    assert first.status_code == 201
    assert second.content == first.content
    assert Payment.objects.count() == 1


def test_refund_with_key_then_replayed(api, control) -> None:
    order_id = post_json(api, "/api/payments", {"amount": 5000}).json()["merchant_order_id"]
    control.post(f"/_sandbox/orders/{order_id}/complete")
    api.get(f"/api/payments/{order_id}?sync=true")
    path = f"/api/payments/{order_id}/refunds"
    first = post_json(api, path, {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="rk")
    second = post_json(api, path, {"amount": 1000}, HTTP_IDEMPOTENCY_KEY="rk")
    assert first.status_code == 201
    assert first.content == second.content
    assert api.get(f"/api/payments/{order_id}").json()["refunded_amount"] == 1000


def test_50_concurrent_creates_with_one_key_then_one_payment_one_order_identical(
    api, control
) -> None:
    body = {"amount": 4321, "reference": "race"}
    barrier = threading.Barrier(50)

    def attempt(_: int):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")
        barrier.wait(timeout=30)
        try:
            response = _create(client, body, "the-one-key")
            return response.status_code, response.content
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(attempt, range(50)))

    assert {status for status, _ in answers} == {201}
    assert len({content for _, content in answers}) == 1
    assert Payment.objects.count() == 1
    orders = control.get("/_sandbox/orders").json()["orders"]
    assert [o["merchantOrderId"] for o in orders] == [Payment.objects.get().merchant_order_id]


def test_concurrent_same_key_other_body_then_409(api) -> None:
    barrier = threading.Barrier(10)

    def attempt(n: int):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")
        barrier.wait(timeout=30)
        try:
            return _create(client, {"amount": 1000 + (n % 2)}, "mixed").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(10)))
    assert statuses.count(201) == 5
    assert statuses.count(409) == 5
    assert Payment.objects.count() == 1


@pytest.fixture
def atomic_requests():
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    saved = settings_dict.get("ATOMIC_REQUESTS", False)
    settings_dict["ATOMIC_REQUESTS"] = True
    yield
    settings_dict["ATOMIC_REQUESTS"] = saved


def test_host_with_atomic_requests_then_record_committed_before_gateway_call(
    atomic_requests, api, control, monkeypatch
) -> None:
    from phonepe_gateway.django import services

    seen_outside: list[bool] = []
    real = services.create_payment

    def spy(**kwargs):
        # Another connection must already see the in-progress record (the view is not atomic).
        seen_outside.append(not connection.in_atomic_block)
        return real(**kwargs)

    monkeypatch.setattr(services, "create_payment", spy)
    first = _create(api, {"amount": 1000}, "atomic-key")
    second = _create(api, {"amount": 1000}, "atomic-key")
    assert first.status_code == 201
    assert first.content == second.content
    assert seen_outside == [True]
    assert Payment.objects.count() == 1
