"""`POST /api/payments` with an `instrument` (fake gateway): each variant answers what the
customer pays with, bad instruments are 422 with nothing stored, encrypted card details
are never stored or echoed, idempotency covers the instrument, and the OpenAPI document
names every variant. (test_instruments_sandbox_api.py: the same over the real sandbox.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from phonepe_gateway.django import conf, services
from phonepe_gateway.django.models import IdempotencyRecord, Payment
from phonepe_gateway.django.schemas import INSTRUMENT_TYPES

from ..test_instruments import CheckoutGateway
from .conftest import API_KEY, post_json

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {
    "type": "CARD",
    "encryption_key_id": 7,
    "encrypted_card_number": "ENC-CARD-NUMBER-SENTINEL-4111",
    "encrypted_cvv": "ENC-CVV-SENTINEL-123",
    "expiry_month": "12",
    "expiry_year": "2031",
    "card_holder_name": "A Driver",
}
TOKEN = {
    "type": "TOKEN",
    "encryption_key_id": 7,
    "encrypted_token": "ENC-TOKEN-SENTINEL",
    "encrypted_cvv": "ENC-CVV-SENTINEL-456",
    "cryptogram": "CRYPTOGRAM-SENTINEL",
    "pan_suffix": "1111",
    "expiry_month": "01",
    "expiry_year": "2030",
}


@pytest.fixture
def fake(settings: Any) -> Iterator[CheckoutGateway]:
    settings.PHONEPE = {"env": "local", "service_api_keys": [API_KEY]}
    gateway = CheckoutGateway()
    conf.set_client(gateway)
    yield gateway
    conf.reset_client()


@pytest.fixture
def client(fake: CheckoutGateway) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")


def _create(client: Client, instrument: dict[str, Any] | None, **extra: Any) -> Any:
    body: dict[str, Any] = {"amount": 4200, **extra}
    if instrument is not None:
        body["instrument"] = instrument
    return post_json(client, "/api/payments", body)


@pytest.mark.parametrize(
    ("instrument", "fields"),
    [
        ({"type": "UPI_INTENT"}, {"intent_url"}),
        ({"type": "UPI_INTENT", "target_app": "com.phonepe.app"}, {"intent_url"}),
        ({"type": "UPI_QR"}, {"qr_data", "intent_url"}),
        ({"type": "NET_BANKING", "bank_id": "HDFC"}, {"checkout_url"}),
        (CARD, {"checkout_url"}),
        (TOKEN, {"checkout_url"}),
        ({"type": "SDK"}, {"sdk_token"}),
        ({"type": "SDK", "custom_checkout": True}, {"sdk_token"}),
    ],
)
def test_create_with_instrument_then_201_with_what_to_pay_with(
    client, fake, instrument, fields
) -> None:
    response = _create(client, instrument)
    assert response.status_code == 201, response.content
    body = response.json()
    expected_mode = instrument["type"]
    if instrument == {"type": "SDK", "custom_checkout": True}:
        expected_mode = "SDK_CUSTOM"
    assert body["instrument"] == expected_mode
    assert body["state"] == "PENDING"
    assert body["expires_at"]
    links = {k: body[k] for k in ("intent_url", "qr_data", "checkout_url", "sdk_token")}
    assert {k for k, v in links.items() if v} == fields
    stored = Payment.objects.get(merchant_order_id=body["merchant_order_id"])
    assert stored.instrument == expected_mode
    shown = client.get(f"/api/payments/{body['merchant_order_id']}").json()
    assert {k: shown[k] for k in links} == links
    assert shown["instrument"] == expected_mode


def test_create_with_target_app_then_the_gateway_is_asked_for_that_app(client, fake) -> None:
    body = _create(client, {"type": "UPI_INTENT", "target_app": "com.phonepe.app"}).json()
    assert fake.instruments[body["merchant_order_id"]].target_app == "com.phonepe.app"


def test_create_collect_by_vpa_or_phone_then_201_without_link(client, fake) -> None:
    for instrument in (
        {"type": "UPI_COLLECT", "vpa": "driver@okaxis", "message": "Bay 12"},
        {"type": "UPI_COLLECT", "phone": "9876543210"},
    ):
        body = _create(client, instrument).json()
        assert body["instrument"] == "UPI_COLLECT"
        assert body["intent_url"] is body["qr_data"] is body["checkout_url"] is None
        sent = fake.instruments[body["merchant_order_id"]]
        assert (sent.vpa, sent.phone) == (instrument.get("vpa"), instrument.get("phone"))


@pytest.mark.parametrize(
    ("instrument", "where"),
    [
        ({"type": "UPI_COLLECT", "vpa": "driver@okaxis", "phone": "9876543210"}, "instrument.vpa"),
        ({"type": "UPI_COLLECT"}, "instrument.vpa"),
        ({"type": "UPI_COLLECT", "vpa": "not-a-vpa"}, None),
        ({"type": "WALLET"}, None),
        ({"type": "UPI_QR", "extra": 1}, None),
        ({"type": "NET_BANKING"}, None),
        ({**CARD, "expiry_month": "13"}, None),
        ({"vpa": "driver@okaxis"}, None),
    ],
)
def test_create_with_bad_instrument_then_422_and_nothing_stored(
    client, fake, instrument, where
) -> None:
    response = _create(client, instrument)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    if where:
        assert error["details"] == {"field": where}
    assert not Payment.objects.exists()
    assert fake.calls["create_payment"] == 0


def test_card_details_never_stored_logged_or_echoed(client, fake, caplog) -> None:
    caplog.set_level("DEBUG")
    for instrument in (CARD, TOKEN):
        response = _create(client, instrument)
        keyed = post_json(
            client,
            "/api/payments",
            {"amount": 4200, "instrument": instrument},
            HTTP_IDEMPOTENCY_KEY=f"card-{instrument['type']}",
        )
        bad = _create(client, {**instrument, "expiry_year": "1999"})
        assert bad.status_code == 422
        for answer in (response, keyed, bad):
            assert b"SENTINEL" not in answer.content
    stored = json.dumps(
        [list(Payment.objects.values()), list(IdempotencyRecord.objects.values())], default=str
    )
    assert "SENTINEL" not in stored
    assert "SENTINEL" not in caplog.text
    assert all(repr(i).count("SENTINEL") == 0 for i in fake.instruments.values())


def test_same_key_same_instrument_then_replayed_other_instrument_then_409(client, fake) -> None:
    headers = {"HTTP_IDEMPOTENCY_KEY": "pay-by-qr-1"}
    body = {"amount": 4200, "instrument": {"type": "UPI_QR"}}
    first = post_json(client, "/api/payments", body, **headers)
    again = post_json(client, "/api/payments", body, **headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    other = post_json(
        client, "/api/payments", {**body, "instrument": {"type": "UPI_INTENT"}}, **headers
    )
    assert other.status_code == 409
    assert fake.calls["create_payment"] == 1


def test_hosted_key_fingerprint_unchanged_by_the_instrument_field(client, fake) -> None:
    """A key first used before `instrument` existed must still replay the same body."""
    from phonepe_gateway.django.idempotency import fingerprint

    headers = {"HTTP_IDEMPOTENCY_KEY": "hosted-1"}
    post_json(client, "/api/payments", {"amount": 4200}, **headers)
    record = IdempotencyRecord.objects.get(key="hosted-1")
    old_style = {
        "amount": 4200,
        "merchant_order_id": None,
        "reference": "",
        "redirect_url": None,
        "metadata": None,
    }
    assert record.request_fingerprint == fingerprint(old_style)


def test_order_closed_then_get_shows_no_link_but_the_instrument(client, fake) -> None:
    body = _create(client, {"type": "UPI_INTENT"}).json()
    order_id = body["merchant_order_id"]
    fake.settle(order_id, "COMPLETED")
    services.process_webhook(services.receive_webhook(*fake.order_webhook(order_id)))
    shown = client.get(f"/api/payments/{order_id}").json()
    assert shown["state"] == "COMPLETED"
    assert shown["instrument"] == "UPI_INTENT"
    assert shown["intent_url"] is None


def test_openapi_documents_every_instrument_variant(client) -> None:
    schema = client.get("/api/openapi.json").json()
    create = schema["paths"]["/api/payments"]["post"]["requestBody"]["content"]
    ref = create["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    components = schema["components"]["schemas"]
    instrument = components[ref]["properties"]["instrument"]
    union = next(part for part in instrument["anyOf"] if "oneOf" in part)
    assert set(union["discriminator"]["mapping"]) == set(INSTRUMENT_TYPES)
    for variant in union["oneOf"]:
        name = variant["$ref"].rsplit("/", 1)[-1]
        assert components[name]["description"], f"{name} is not described"
        assert components[name]["properties"]["type"]["const"] in INSTRUMENT_TYPES
    created = schema["paths"]["/api/payments"]["post"]["responses"]["201"]["content"]
    out = created["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"instrument", "intent_url", "qr_data", "sdk_token", "expires_at"} <= set(
        components[out]["properties"]
    )


def test_idempotency_record_never_holds_the_link_and_replay_after_close_has_none(
    client, fake
) -> None:
    headers = {"HTTP_IDEMPOTENCY_KEY": "intent-close-1"}
    body = {"amount": 4200, "instrument": {"type": "UPI_INTENT"}}
    first = post_json(client, "/api/payments", body, **headers)
    order_id = first.json()["merchant_order_id"]
    assert first.json()["intent_url"]
    stored = IdempotencyRecord.objects.get(key="intent-close-1").response_body
    assert stored["intent_url"] is None
    assert "upi://" not in json.dumps(stored)

    fake.settle(order_id, "COMPLETED")
    services.process_webhook(services.receive_webhook(*fake.order_webhook(order_id)))
    replay = post_json(client, "/api/payments", body, **headers)
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == {**first.json(), "intent_url": None}


def test_hosted_page_replay_keeps_its_checkout_url(client, fake) -> None:
    headers = {"HTTP_IDEMPOTENCY_KEY": "hosted-replay-1"}
    first = post_json(client, "/api/payments", {"amount": 4200}, **headers)
    again = post_json(client, "/api/payments", {"amount": 4200}, **headers)
    assert first.json()["checkout_url"]
    assert again.content == first.content


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 1500, "reference": "bay\u000012"},
        {"amount": 1500, "metadata": {"\u0004": "a\u0000b"}},
    ],
)
def test_nul_in_text_then_422_not_503(client, fake, body) -> None:
    response = post_json(client, "/api/payments", body)
    assert response.status_code == 422
    assert not Payment.objects.exists()
