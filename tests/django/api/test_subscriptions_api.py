"""The REST API of AutoPay mandates: create (with Idempotency-Key), get, cancel, debits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from phonepe_gateway import Category, TransportError
from phonepe_gateway.django import debits
from phonepe_gateway.django.models import Subscription

from .. import autopay_fakes

pytestmark = pytest.mark.django_db(transaction=True)

API_KEY = "test-api-key-autopay"
BODY = {
    "amount": 49_900,
    "max_amount": 99_900,
    "frequency": "MONTHLY",
    "instrument": {"type": "UPI_INTENT"},
    "reference": "pass:lot-7:car-42",
}


@pytest.fixture
def api(settings: Any) -> Client:
    settings.PHONEPE = {"env": "local", "service_api_keys": [API_KEY]}
    return Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")


@pytest.fixture
def autopay(api: Client) -> Any:
    fake = autopay_fakes.FakeAutoPay()
    from phonepe_gateway.django import conf

    conf.set_client(fake)
    yield fake
    conf.reset_client()


def post(client: Client, path: str, body: Any = None, **headers: str) -> Any:
    data = json.dumps(body) if body is not None else ""
    return client.post(path, data=data, content_type="application/json", **headers)


def test_post_subscription_then_201_pending_with_intent_url(api, autopay) -> None:
    response = post(api, "/api/subscriptions", BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "PENDING"
    assert body["intent_url"].startswith("upi://")
    assert body["amount"] == 49_900
    assert body["frequency"] == "MONTHLY"


def test_post_subscription_same_key_then_one_mandate_replayed(api, autopay) -> None:
    first = post(api, "/api/subscriptions", BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(api, "/api/subscriptions", BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again["Idempotent-Replayed"] == "true"
    assert len(autopay.mandates) == 1
    assert Subscription.objects.count() == 1


def test_post_subscription_answer_lost_then_retry_resumes_same_mandate(api, autopay) -> None:
    lost = TransportError("read timed out", category=Category.READ_TIMEOUT, request_sent=True)
    autopay.fail_next("setup_subscription", lost, act=True)
    first = post(api, "/api/subscriptions", BODY, HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == 502
    assert first.json()["error"]["details"]["state"] == "UNKNOWN"
    again = post(api, "/api/subscriptions", BODY, HTTP_IDEMPOTENCY_KEY="k-2")
    assert again.status_code == 201, again.content
    assert again.json()["state"] == "PENDING"
    assert len(autopay.mandates) == 1
    assert autopay.calls["setup_subscription"] == 2  # the same ids, refused, then synced


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_amount": 100}, "max_amount"),
        ({"frequency": "HOURLY"}, "frequency"),
        ({"instrument": {"type": "UPI_COLLECT"}}, "instrument.vpa"),
        ({"instrument": {"type": "UPI_QR"}}, "instrument"),
        ({"amount_type": "FIXED"}, "max_amount"),
        ({"amount": 99}, "amount"),
    ],
)
def test_post_subscription_bad_input_then_422_and_nothing_stored(
    api, autopay, change, field
) -> None:
    response = post(api, "/api/subscriptions", {**BODY, **change})
    assert response.status_code == 422, response.content
    assert field.split(".")[0] in json.dumps(response.json()["error"])
    assert Subscription.objects.count() == 0
    assert autopay.calls["setup_subscription"] == 0


def test_get_subscription_sync_then_active(api, autopay) -> None:
    sub_id = post(api, "/api/subscriptions", BODY).json()["merchant_subscription_id"]
    autopay.approve(sub_id)
    assert api.get(f"/api/subscriptions/{sub_id}").json()["state"] == "PENDING"
    body = api.get(f"/api/subscriptions/{sub_id}?sync=true").json()
    assert body["state"] == "ACTIVE"
    assert body["intent_url"] is None
    assert body["next_debit_at"] is not None


def test_cancel_then_cancelled_and_unknown_id_404(api, autopay) -> None:
    sub_id = post(api, "/api/subscriptions", BODY).json()["merchant_subscription_id"]
    autopay.approve(sub_id)
    response = post(api, f"/api/subscriptions/{sub_id}/cancel")
    assert response.status_code == 200
    assert response.json()["state"] == "CANCELLED"
    assert api.get("/api/subscriptions/NOPE").status_code == 404
    assert post(api, "/api/subscriptions/NOPE/cancel").status_code == 404


def test_debits_then_listed_newest_first(api, autopay) -> None:
    first = datetime.now(UTC) + timedelta(hours=1)
    body = {**BODY, "first_debit_at": first.isoformat()}
    sub_id = post(api, "/api/subscriptions", body).json()["merchant_subscription_id"]
    autopay.approve(sub_id)
    api.get(f"/api/subscriptions/{sub_id}?sync=true")
    Subscription.objects.update(next_check_at=datetime.now(UTC))
    debits.run_debits()
    listed = api.get(f"/api/subscriptions/{sub_id}/debits").json()
    assert listed["merchant_subscription_id"] == sub_id
    assert [(d["debit_period"], d["state"]) for d in listed["debits"]] == [
        (1, "PENDING"),
        (0, "COMPLETED"),  # the set-up transaction
    ]
    assert listed["debits"][0]["debit_due_at"] is not None


def test_subscriptions_without_key_then_401(autopay) -> None:
    assert Client().get("/api/subscriptions/X").status_code == 401


def test_openapi_mandate_instruments_then_own_components_beside_the_payment_ones(api) -> None:
    components = api.get("/api/openapi.json").json()["components"]["schemas"]
    # Ninja names components by class: a mandate's instruments must not replace the
    # payment API's (UPI_COLLECT by phone, QR, cards... are not mandate set-ups)
    assert set(components["MandateUpiCollectIn"]["required"]) == {"type", "vpa"}
    assert "phone" in components["UpiCollectIn"]["properties"]
    assert components["MandateUpiIntentIn"]["description"]
