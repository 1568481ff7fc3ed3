"""Custom checkout over real HTTP: /payments/v2/pay for every instrument, SDK orders,
status calls, refunds, webhooks, faults and the clock for these orders."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox

from .conftest import Receiver, wait_for

REDIRECT = "http://127.0.0.1:9/return"
CARD = {
    "type": "CARD",
    "authMode": "3DS",
    "cardDetails": {
        "encryptedCardNumber": "ENC-CARD-NUMBER-SECRET",
        "encryptionKeyId": 10,
        "encryptedCvv": "ENC-CVV-SECRET",
        "expiry": {"month": "12", "year": "2030"},
        "cardHolderName": "A Driver",
    },
}
TOKEN = {
    "type": "TOKEN",
    "authMode": "3DS",
    "tokenDetails": {
        "encryptedToken": "ENC-TOKEN-SECRET",
        "encryptionKeyId": 10,
        "encryptedCvv": "ENC-CVV-SECRET",
        "cryptogram": "CRYPTOGRAM-SECRET",
        "panSuffix": "4242",
        "expiry": {"month": "01", "year": "2031"},
    },
}


def custom_body(
    moid: str, mode: dict[str, Any], amount: int = 12_345, **extra: Any
) -> dict[str, Any]:
    flow: dict[str, Any] = {"type": "PG", "paymentMode": mode}
    if mode["type"] in ("CARD", "TOKEN", "NET_BANKING"):
        flow["merchantUrls"] = {"redirectUrl": REDIRECT}
    return {"merchantOrderId": moid, "amount": amount, "paymentFlow": flow, **extra}


def link_params(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc) == ("upi", "pay")
    return dict(parse_qsl(parts.query))


def test_upi_intent_when_paid_then_real_upi_link_and_status_completed(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    answer = api.post(
        "/payments/v2/pay",
        json=custom_body("cc-intent", {"type": "UPI_INTENT", "targetApp": "com.phonepe.app"}),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"orderId", "state", "expireAt", "intentUrl"}
    assert body["state"] == "PENDING"
    assert body["intentUrl"].startswith("upi://pay?pa=")
    params = link_params(body["intentUrl"])
    assert params["pa"] == sandbox.config.payee_vpa
    assert params["pn"] == sandbox.config.merchant_name
    assert params["tr"] == body["orderId"]
    assert params["am"] == "123.45"
    assert params["cu"] == "INR"
    assert params["mode"] == "04"
    view = httpx.get(sandbox.url + "/_sandbox/orders/cc-intent").json()
    assert view["instrument"] == "UPI_INTENT"
    assert view["instrumentDetails"] == {"targetApp": "com.phonepe.app"}
    assert view["intentUrl"] == body["intentUrl"]
    # PhonePe's published default expiry of a UPI intent order: 600 s.
    assert body["expireAt"] == int(sandbox.state.get_order("cc-intent").created_at * 1000) + 600_000

    status = api.get("/payments/v2/order/cc-intent/status").json()
    assert (status["state"], status["paymentDetails"]) == ("PENDING", [])

    paid = httpx.post(
        sandbox.url + "/_sandbox/upi/pay", json={"link": body["intentUrl"], "outcome": "PAY"}
    )
    assert paid.status_code == 200, paid.text
    status = api.get("/payments/v2/order/cc-intent/status").json()
    assert status["state"] == "COMPLETED"
    (attempt,) = status["paymentDetails"]
    assert attempt["paymentMode"] == "UPI_INTENT"
    assert attempt["rail"]["type"] == "UPI"

    txn = api.get(f"/payments/v2/transaction/{attempt['transactionId']}/status")
    assert txn.status_code == 200
    assert txn.json()["paymentDetails"][0]["transactionId"] == attempt["transactionId"]


def test_upi_qr_when_created_then_qr_data_is_a_qr_mode_upi_link(api: httpx.Client) -> None:
    body = api.post("/payments/v2/pay", json=custom_body("cc-qr", {"type": "UPI_QR"})).json()
    assert set(body) == {"orderId", "state", "expireAt", "intentUrl", "qrData"}
    params = link_params(body["qrData"])
    assert params["mode"] == "01"
    assert params["tr"] == body["orderId"]


@pytest.mark.parametrize(
    ("details", "shown"),
    [
        ({"type": "VPA", "vpa": "Driver.One@ybl"}, {"vpa": "driver.one@ybl"}),
        ({"type": "PHONE_NUMBER", "phoneNumber": "9876543210"}, {"phone": "9876543210"}),
        ({"type": "UPI_NUMBER", "upiNumber": "9876543210"}, {"phone": "9876543210"}),
    ],
)
def test_upi_collect_when_raised_then_pending_attempt_and_declined_fails_order(
    sandbox: RunningSandbox, api: httpx.Client, details: dict[str, str], shown: dict[str, str]
) -> None:
    mode = {"type": "UPI_COLLECT", "details": details, "message": "Bay 12"}
    body = api.post("/payments/v2/pay", json=custom_body("cc-collect", mode)).json()
    assert set(body) == {"orderId", "state", "expireAt"}
    status = api.get("/payments/v2/order/cc-collect/status").json()
    assert status["state"] == "PENDING"
    assert [a["state"] for a in status["paymentDetails"]] == ["PENDING"]
    assert status["paymentDetails"][0]["paymentMode"] == "UPI_COLLECT"
    order = sandbox.state.get_order("cc-collect")
    assert order is not None
    assert order.instrument_details == {**shown, "message": "Bay 12"}

    answer = httpx.post(
        sandbox.url + "/_sandbox/upi/collect/cc-collect",
        json={"outcome": "DECLINE", "reason": "INSUFFICIENT_BALANCE"},
    )
    assert answer.status_code == 200, answer.text
    status = api.get("/payments/v2/order/cc-collect/status").json()
    # One attempt per custom-checkout order: a decline ends it.
    assert (status["state"], status["errorCode"], status["detailedErrorCode"]) == (
        "FAILED",
        "INSUFFICIENT_BALANCE",
        "Z9",
    )


@pytest.mark.parametrize("mode", [CARD, TOKEN, {"type": "NET_BANKING", "bankId": "HDFC"}])
def test_card_token_net_banking_when_created_then_redirect_to_bank_page_and_no_secret_kept(
    sandbox: RunningSandbox, api: httpx.Client, mode: dict[str, Any]
) -> None:
    body = api.post("/payments/v2/pay", json=custom_body("cc-bank", mode)).json()
    assert set(body) == {"orderId", "state", "expireAt", "redirectUrl"}
    assert body["redirectUrl"] == f"{sandbox.url}/bank/{body['orderId']}"
    order = sandbox.state.get_order("cc-bank")
    assert order is not None
    assert order.instrument == mode["type"]
    everything = json.dumps(httpx.get(sandbox.url + "/_sandbox/orders/cc-bank").json())
    everything += repr(order) + httpx.get(body["redirectUrl"]).text
    assert "SECRET" not in everything
    expected = {"CARD": 720, "TOKEN": 720, "NET_BANKING": 480}[mode["type"]]
    assert order.expire_at - order.created_at == expected


@pytest.mark.parametrize(
    ("mode", "flow_extra", "field"),
    [
        ({"type": "WALLET"}, {}, "paymentMode.type"),
        ({"type": "UPI_COLLECT", "details": {"type": "VPA", "vpa": "nobody"}}, {}, "vpa"),
        (
            {"type": "UPI_COLLECT", "details": {"type": "PHONE_NUMBER", "phoneNumber": "12"}},
            {},
            "phoneNumber",
        ),
        ({"type": "UPI_COLLECT"}, {}, "details"),
        ({"type": "NET_BANKING"}, {"merchantUrls": {"redirectUrl": REDIRECT}}, "bankId"),
        ({"type": "NET_BANKING", "bankId": "SBIN"}, {}, "redirectUrl"),
        (
            {**CARD, "cardDetails": {**CARD["cardDetails"], "encryptedCvv": None}},
            {"merchantUrls": {"redirectUrl": REDIRECT}},
            "encryptedCvv",
        ),
        (
            {
                **CARD,
                "cardDetails": {**CARD["cardDetails"], "expiry": {"month": "13", "year": "2030"}},
            },
            {"merchantUrls": {"redirectUrl": REDIRECT}},
            "expiry.month",
        ),
        (
            {**TOKEN, "tokenDetails": {**TOKEN["tokenDetails"], "panSuffix": "42"}},
            {"merchantUrls": {"redirectUrl": REDIRECT}},
            "panSuffix",
        ),
    ],
)
def test_pay_when_instrument_invalid_then_400_naming_field_and_nothing_created(
    sandbox: RunningSandbox,
    api: httpx.Client,
    mode: dict[str, Any],
    flow_extra: dict[str, Any],
    field: str,
) -> None:
    body = {
        "merchantOrderId": "cc-bad",
        "amount": 1000,
        "paymentFlow": {"type": "PG", "paymentMode": mode, **flow_extra},
    }
    answer = api.post("/payments/v2/pay", json=body)
    assert answer.status_code == 400
    error = answer.json()
    assert (error["success"], error["code"]) == (False, "BAD_REQUEST")
    assert field in error["message"]
    assert "SECRET" not in answer.text
    assert sandbox.state.get_order("cc-bad") is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"expireAfter": 299}, "expireAfter"),
        ({"expireAfter": 5_184_001}, "expireAfter"),
        ({"amount": 99}, "amount"),
        ({"paymentFlow": {"type": "PG_CHECKOUT", "paymentMode": {"type": "UPI_QR"}}}, "PG"),
    ],
)
def test_pay_when_order_fields_invalid_then_400(
    sandbox: RunningSandbox, api: httpx.Client, extra: dict[str, Any], message: str
) -> None:
    answer = api.post("/payments/v2/pay", json=custom_body("cc-bad2", {"type": "UPI_QR"}, **extra))
    assert answer.status_code == 400
    assert message in answer.json()["message"]
    assert sandbox.state.get_order("cc-bad2") is None


def test_pay_when_long_expiry_then_accepted_up_to_sixty_days(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    body = api.post(
        "/payments/v2/pay", json=custom_body("cc-long", {"type": "UPI_QR"}, expireAfter=5_184_000)
    )
    assert body.status_code == 200
    order = sandbox.state.get_order("cc-long")
    assert order is not None
    assert order.expire_at - order.created_at == 5_184_000


def test_pay_when_token_missing_or_id_reused_then_refused_like_standard_checkout(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    anonymous = httpx.post(
        sandbox.base_url + "/payments/v2/pay", json=custom_body("cc-anon", {"type": "UPI_QR"})
    )
    assert anonymous.status_code == 401
    assert (
        api.post("/payments/v2/pay", json=custom_body("cc-dup", {"type": "UPI_QR"})).status_code
        == 200
    )
    again = api.post("/payments/v2/pay", json=custom_body("cc-dup", {"type": "UPI_INTENT"}))
    assert again.status_code == 400
    assert sandbox.state.get_order("cc-dup").instrument == "UPI_QR"  # type: ignore[union-attr]


def test_production_prefix_when_custom_paths_then_served_under_apis_pg(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    token = api.headers["Authorization"]
    with httpx.Client(base_url=sandbox.url + "/apis/pg", headers={"Authorization": token}) as pg:
        assert (
            pg.post("/payments/v2/pay", json=custom_body("cc-prod", {"type": "UPI_QR"})).status_code
            == 200
        )
        assert pg.get("/payments/v2/order/cc-prod/status").json()["state"] == "PENDING"
    hermes = httpx.post(sandbox.url + "/apis/hermes/payments/v2/pay", json={})
    assert hermes.json() == {"message": "Bad Request - Api Mapping Not Found"}


@pytest.mark.parametrize("path", ["/payments/v2/sdk/order", "/checkout/v2/sdk/order"])
def test_sdk_order_when_created_then_token_and_order_payable(
    sandbox: RunningSandbox, api: httpx.Client, path: str
) -> None:
    body = {
        "merchantOrderId": "cc-sdk",
        "amount": 5000,
        "paymentFlow": {"type": "PG_CHECKOUT"},
        "disablePaymentRetry": True,
    }
    answer = api.post(path, json=body)
    assert answer.status_code == 200, answer.text
    created = answer.json()
    assert set(created) == {"orderId", "state", "expireAt", "token"}
    assert created["token"]
    assert created["state"] == "PENDING"
    httpx.post(sandbox.url + "/_sandbox/orders/cc-sdk/complete", json={"paymentMode": "UPI_INTENT"})
    status_path = path.replace("sdk/order", "order/cc-sdk/status")
    assert api.get(status_path).json()["state"] == "COMPLETED"


def test_refund_when_custom_order_paid_then_refund_settles_on_the_clock(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = api.post("/payments/v2/pay", json=custom_body("cc-ref", {"type": "UPI_INTENT"})).json()[
        "intentUrl"
    ]
    httpx.post(sandbox.url + "/_sandbox/upi/pay", json={"link": link, "outcome": "PAY"})
    refund = api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "cc-ref-r", "originalMerchantOrderId": "cc-ref", "amount": 2345},
    )
    assert refund.status_code == 200
    assert refund.json()["state"] == "PENDING"
    httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": 10})
    status = api.get("/payments/v2/refund/cc-ref-r/status").json()
    assert status["state"] == "COMPLETED"
    assert status["paymentDetails"][0]["paymentMode"] == "UPI_INTENT"


def test_clock_when_intent_never_paid_then_order_expires_and_link_refuses(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    link = api.post("/payments/v2/pay", json=custom_body("cc-exp", {"type": "UPI_INTENT"})).json()[
        "intentUrl"
    ]
    httpx.post(sandbox.url + "/_sandbox/upi/pay", json={"link": link, "outcome": "PENDING"})
    httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": 601})
    status = api.get("/payments/v2/order/cc-exp/status").json()
    assert (status["state"], status["errorCode"]) == ("FAILED", "TXN_NOT_COMPLETED")
    assert status["paymentDetails"][0]["detailedErrorCode"] == "TXN_AUTO_FAILED"
    late = httpx.post(sandbox.url + "/_sandbox/upi/pay", json={"link": link, "outcome": "PAY"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "INVALID_ORDER_STATE"


def test_webhook_when_intent_paid_then_order_completed_event_with_instrument(
    sandbox: RunningSandbox, api: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    httpx.put(sandbox.url + "/_sandbox/webhooks/config", json={"url": url}).raise_for_status()
    link = api.post("/payments/v2/pay", json=custom_body("cc-wh", {"type": "UPI_QR"})).json()[
        "qrData"
    ]
    httpx.post(sandbox.url + "/_sandbox/upi/pay", json={"link": link, "outcome": "PAY"})
    (event,) = wait_for(lambda: hook.bodies(), what="the webhook")
    assert event["event"] == "checkout.order.completed"
    assert event["payload"]["merchantOrderId"] == "cc-wh"
    assert event["payload"]["paymentDetails"][0]["paymentMode"] == "UPI_QR"


def test_fault_when_pay_answer_dropped_after_commit_then_order_exists_for_status(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    rule = {"method": "POST", "path": "/payments/v2/pay", "action": "drop_after_commit", "times": 1}
    httpx.post(sandbox.url + "/_sandbox/faults", json=rule).raise_for_status()
    with pytest.raises(httpx.TransportError):
        api.post("/payments/v2/pay", json=custom_body("cc-lost", {"type": "UPI_INTENT"}))
    status = api.get("/payments/v2/order/cc-lost/status")
    assert status.status_code == 200
    assert status.json()["state"] == "PENDING"
