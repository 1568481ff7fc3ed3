"""The payments and refunds endpoints through the Django test client, against a real sandbox."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from phonepe_gateway.django.models import Payment, Refund

from .conftest import API_KEY, post_json

pytestmark = pytest.mark.django_db(transaction=True)


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


def _completed_payment(api: Client, control, amount: int = 10_000) -> str:
    created = post_json(api, "/api/payments", {"amount": amount}).json()
    order_id = created["merchant_order_id"]
    assert control.post(f"/_sandbox/orders/{order_id}/complete").status_code == 200
    synced = api.get(f"/api/payments/{order_id}?sync=true").json()
    assert synced["state"] == "COMPLETED"
    return order_id


def test_create_payment_when_valid_then_201_pending_with_checkout_url(api, control) -> None:
    response = post_json(
        api,
        "/api/payments",
        {"amount": 12_345, "reference": "parking-session:42", "metadata": {"plate": "KA01"}},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "merchant_order_id",
        "state",
        "amount",
        "checkout_url",
        "expires_at",
        *("instrument", "intent_url", "qr_data", "sdk_token"),  # custom checkout: all null
    }
    assert body["instrument"] is body["intent_url"] is body["qr_data"] is body["sdk_token"] is None
    assert body["state"] == "PENDING"
    assert body["amount"] == 12_345
    assert body["checkout_url"].startswith(control.base_url.__str__().rstrip("/"))
    payment = Payment.objects.get(merchant_order_id=body["merchant_order_id"])
    assert payment.reference == "parking-session:42"
    assert payment.metadata == {"plate": "KA01"}
    sandbox_order = control.get(f"/_sandbox/orders/{body['merchant_order_id']}").json()
    assert sandbox_order["amount"] == 12_345


def test_create_payment_with_own_order_id_twice_then_409(api) -> None:
    first = post_json(api, "/api/payments", {"amount": 1000, "merchant_order_id": "ORDER-1"})
    assert first.status_code == 201
    second = post_json(api, "/api/payments", {"amount": 1000, "merchant_order_id": "ORDER-1"})
    assert second.status_code == 409
    assert _error(second)["code"] == "duplicate_merchant_order_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 99}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({}, "amount"),
        ({"amount": 1000, "merchant_order_id": "has space"}, "merchant_order_id"),
        ({"amount": 1000, "merchant_order_id": "x" * 64}, "merchant_order_id"),
        ({"amount": 1000, "redirect_url": "javascript:alert(1)"}, "redirect_url"),
        ({"amount": 1000, "surprise": True}, "surprise"),
    ],
)
def test_create_payment_when_invalid_then_422_names_field_and_nothing_stored(
    api, control, body, field
) -> None:
    response = post_json(api, "/api/payments", body)
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "invalid_request"
    assert any(field in detail["loc"] for detail in error["details"])
    assert not Payment.objects.exists()
    assert control.get("/_sandbox/orders").json()["orders"] == []


def test_create_payment_when_body_not_json_then_400(api) -> None:
    response = api.post("/api/payments", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_request"


def test_get_payment_when_sync_then_reflects_gateway_completion(api, control) -> None:
    order_id = post_json(api, "/api/payments", {"amount": 5000}).json()["merchant_order_id"]
    control.post(f"/_sandbox/orders/{order_id}/complete", json={"paymentMode": "UPI_QR"})
    assert api.get(f"/api/payments/{order_id}").json()["state"] == "PENDING"  # no sync: ledger
    body = api.get(f"/api/payments/{order_id}", {"sync": "true"}).json()
    assert body["state"] == "COMPLETED"
    assert body["payment_mode"] == "UPI_QR"
    assert body["transaction_id"]
    assert body["refundable_amount"] == 5000
    assert body["refunded_amount"] == 0


def test_get_payment_when_unknown_then_404_json(api) -> None:
    response = api.get("/api/payments/NOPE")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_refund_when_within_remainder_then_201_and_refund_readable(api, control) -> None:
    order_id = _completed_payment(api, control)
    response = post_json(
        api, f"/api/payments/{order_id}/refunds", {"amount": 4000, "merchant_refund_id": "R-1"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["merchant_refund_id"] == "R-1"
    assert body["merchant_order_id"] == order_id
    assert body["amount"] == 4000
    assert body["state"] in ("PENDING", "COMPLETED")
    fetched = api.get("/api/refunds/R-1")
    assert fetched.status_code == 200
    assert fetched.json()["amount"] == 4000
    payment = api.get(f"/api/payments/{order_id}").json()
    assert payment["refundable_amount"] == 6000


def test_refund_when_more_than_remainder_then_422_and_nothing_sent(api, control) -> None:
    order_id = _completed_payment(api, control, amount=10_000)
    assert post_json(api, f"/api/payments/{order_id}/refunds", {"amount": 7000}).status_code == 201
    response = post_json(api, f"/api/payments/{order_id}/refunds", {"amount": 3001})
    assert response.status_code == 422
    assert _error(response)["code"] == "refund_exceeds_remainder"
    assert Refund.objects.count() == 1
    assert len(control.get(f"/_sandbox/orders/{order_id}").json()["refunds"]) == 1


def test_refund_when_payment_unknown_then_404(api) -> None:
    response = post_json(api, "/api/payments/NOPE/refunds", {"amount": 100})
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_get_refund_when_unknown_then_404(api) -> None:
    assert _error(api.get("/api/refunds/NOPE"))["code"] == "not_found"


def test_create_payment_when_gateway_answers_503_then_json_error_not_500(api, control) -> None:
    control.post(
        "/_sandbox/faults",
        json={
            "method": "POST",
            "path": "/checkout/v2/pay",
            "action": "status",
            "status": 503,
            "times": 10,
        },
    )
    response = post_json(api, "/api/payments", {"amount": 1000})
    assert response.status_code in (502, 503)
    error = _error(response)
    assert error["code"].startswith("gateway_")
    assert error["details"]["merchant_order_id"]
    assert error["details"]["state"] in ("FAILED", "UNKNOWN")


def test_create_payment_when_gateway_unreachable_then_503_with_category(settings, api) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "local_url": "http://127.0.0.1:9"}
    response = post_json(api, "/api/payments", {"amount": 1000})
    assert response.status_code == 503
    error = _error(response)
    assert error["code"] == "gateway_unreachable"
    assert error["details"]["category"] == "CONNECTION_REFUSED"
    assert response["Retry-After"]


def test_get_payment_sync_when_gateway_down_then_503_json(api, control) -> None:
    order_id = post_json(api, "/api/payments", {"amount": 1000}).json()["merchant_order_id"]
    control.post(
        "/_sandbox/faults",
        json={
            "method": "GET",
            "path": "/checkout/v2/order/" + order_id + "/status",
            "action": "html",
            "status": 502,
            "times": 10,
        },
    )
    response = api.get(f"/api/payments/{order_id}?sync=true")
    assert response.status_code == 503
    assert _error(response)["code"] == "gateway_unreachable"


def test_unknown_api_path_then_json_404(api) -> None:
    response = api.get("/api/nothing/here")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_wrong_method_then_json_405_with_allow(api) -> None:
    response = api.delete("/api/payments")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_unexpected_exception_then_json_500_without_details(api, monkeypatch) -> None:
    from phonepe_gateway.django import services

    def explode(**kwargs):
        raise RuntimeError(f"boom with {API_KEY}")

    monkeypatch.setattr(services, "create_payment", explode)
    response = post_json(api, "/api/payments", {"amount": 1000})
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert "boom" not in response.content.decode()
    assert API_KEY not in response.content.decode()


def test_payment_json_has_no_internal_fields(api) -> None:
    order_id = post_json(api, "/api/payments", {"amount": 1000}).json()["merchant_order_id"]
    body = json.loads(api.get(f"/api/payments/{order_id}").content)
    assert "metadata" not in body
    assert "id" not in body
    assert "review_reason" not in body
