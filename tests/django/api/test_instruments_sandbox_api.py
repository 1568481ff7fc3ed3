"""`POST /api/payments` with an instrument against the real sandbox, settled by the
sandbox's own webhooks over a socket into `/api/webhooks/phonepe`: the customer pays in
the simulated UPI app (its web form, as a person would, or its control call)."""

from __future__ import annotations

import re

import httpx
import pytest

from phonepe_gateway.django.models import Payment, WebhookEvent

from .conftest import post_json, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

HOOK = "/api/webhooks/phonepe"


@pytest.fixture
def hooked(live_server, control) -> httpx.Client:
    """The sandbox sends its webhooks to this app over a real socket."""
    control.put("/_sandbox/webhooks/config", json={"url": live_server.url + HOOK})
    return control


def _settled(api, order_id: str):
    def check():
        body = api.get(f"/api/payments/{order_id}").json()
        return body if body["state"] in ("COMPLETED", "FAILED") else None

    return wait_for(check, what=f"{order_id} to settle by webhook")


def test_intent_paid_in_upi_app_page_then_webhook_completes_and_link_gone(api, hooked) -> None:
    created = post_json(
        api,
        "/api/payments",
        {
            "amount": 4200,
            "redirect_url": "http://127.0.0.1:8000/paid",
            "instrument": {"type": "UPI_INTENT"},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["instrument"] == "UPI_INTENT"
    assert body["intent_url"].startswith("upi://pay?")
    assert body["checkout_url"] is None
    order_id = body["merchant_order_id"]

    # What a phone does with the link: the UPI app shows it; the customer enters a PIN, pays.
    page = hooked.get("/upi-app/pay", params={"link": body["intent_url"]})
    assert page.status_code == 200
    assert re.search(r"42(\.00)?", page.text)
    paid = hooked.post(
        "/upi-app/pay",
        data={"link": body["intent_url"], "outcome": "PAY", "pin": "1234"},
        follow_redirects=False,
    )
    assert paid.status_code == 303

    shown = _settled(api, order_id)
    assert shown["state"] == "COMPLETED"
    assert shown["intent_url"] is None
    assert shown["instrument"] == "UPI_INTENT"
    assert shown["transaction_id"]
    assert Payment.objects.get(merchant_order_id=order_id).instrument_data == {}
    # The transition commits before the event's processing result is written.
    wait_for(
        lambda: WebhookEvent.objects.filter(
            merchant_order_id=order_id, processing_result="applied"
        ).exists(),
        what="the webhook event to be marked applied",
    )


def test_qr_declined_then_webhook_fails_it_and_qr_gone(api, hooked) -> None:
    body = post_json(
        api, "/api/payments", {"amount": 1500, "instrument": {"type": "UPI_QR"}}
    ).json()
    assert body["qr_data"].startswith("upi://pay?")
    hooked.post(
        "/_sandbox/upi/pay",
        json={"link": body["qr_data"], "outcome": "DECLINE", "reason": "INVALID_MPIN"},
    ).raise_for_status()
    shown = _settled(api, body["merchant_order_id"])
    assert shown["state"] == "FAILED"
    assert shown["qr_data"] is None
    assert shown["intent_url"] is None


def test_collect_by_phone_then_paid_then_refunded(api, hooked) -> None:
    body = post_json(
        api,
        "/api/payments",
        {"amount": 2500, "instrument": {"type": "UPI_COLLECT", "phone": "9876543210"}},
    ).json()
    assert body["instrument"] == "UPI_COLLECT"
    order_id = body["merchant_order_id"]
    hooked.post(f"/_sandbox/upi/collect/{order_id}", json={"outcome": "PAY"}).raise_for_status()
    assert _settled(api, order_id)["state"] == "COMPLETED"
    refund = post_json(api, f"/api/payments/{order_id}/refunds", {"amount": 2500})
    assert refund.status_code == 201, refund.content


def test_sdk_order_then_token_answered(api, control) -> None:
    created = post_json(api, "/api/payments", {"amount": 3000, "instrument": {"type": "SDK"}})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["instrument"] == "SDK"
    assert body["sdk_token"]
    assert body["checkout_url"] is None


def test_card_without_redirect_then_422_nothing_stored_and_no_secret(api, control) -> None:
    """PhonePe returns a card's customer to the redirect URL after 3-D Secure: without one
    (and no default) the request is refused before anything is stored or sent."""
    card = {
        "type": "CARD",
        "encryption_key_id": 1,
        "encrypted_card_number": "ENC-CARD-SENTINEL",
        "encrypted_cvv": "ENC-CVV-SENTINEL",
        "expiry_month": "12",
        "expiry_year": "2031",
    }
    response = post_json(api, "/api/payments", {"amount": 5000, "instrument": card})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"field": "redirect_url"}
    assert b"SENTINEL" not in response.content
    assert not Payment.objects.exists()
    assert control.get("/_sandbox/orders").json()["orders"] == []


def test_card_with_redirect_then_bank_page(api, control) -> None:
    card = {
        "type": "CARD",
        "encryption_key_id": 1,
        "encrypted_card_number": "ENC-CARD-SENTINEL",
        "encrypted_cvv": "ENC-CVV-SENTINEL",
        "expiry_month": "12",
        "expiry_year": "2031",
    }
    created = post_json(
        api,
        "/api/payments",
        {"amount": 5000, "redirect_url": "http://127.0.0.1:8000/paid", "instrument": card},
    )
    assert created.status_code == 201, created.content
    bank = created.json()["checkout_url"]
    assert bank.startswith(str(control.base_url).rstrip("/"))
    assert control.get(bank).status_code == 200


def test_custom_checkout_and_sdk_orders_count_as_initiations(api, control) -> None:
    from .test_ops import _scrape, _value

    before = _value(_scrape(), "phonepe_payment_initiations_total", outcome="ok")
    for instrument in ({"type": "UPI_QR"}, {"type": "SDK"}):
        created = post_json(api, "/api/payments", {"amount": 1000, "instrument": instrument})
        assert created.status_code == 201, created.content
    after = _value(_scrape(), "phonepe_payment_initiations_total", outcome="ok")
    assert after - before == 2
