"""Generation 1 (Pay Page, X-VERIFY) over real HTTP: pay, status, refund, checksums."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from phonepe_gateway.sandbox.config import UAT_MERCHANT_ID, UAT_SALT_KEY
from phonepe_gateway.sandbox.testing import RunningSandbox

from .conftest import gen1_sign, gen1_status_headers

MID = "PGSANDBOXMERCHANT"


def pay_payload(tid: str, **extra: Any) -> dict[str, Any]:
    payload = {
        "merchantId": MID,
        "merchantTransactionId": tid,
        "merchantUserId": "U-1",
        "amount": 10_000,
        "redirectUrl": "http://127.0.0.1:9/back",
        "redirectMode": "REDIRECT",
        "callbackUrl": "http://127.0.0.1:9/callback",
        "mobileNumber": "9999999999",
        "paymentInstrument": {"type": "PAY_PAGE"},
    }
    payload.update(extra)
    return payload


def gen1_pay(sandbox: RunningSandbox, payload: dict[str, Any], **sign: Any) -> httpx.Response:
    body, headers = gen1_sign(payload, "/pg/v1/pay", **sign)
    return httpx.post(sandbox.base_url + "/pg/v1/pay", json=body, headers=headers)


def gen1_status(sandbox: RunningSandbox, tid: str, mid: str = MID, **sign: Any) -> httpx.Response:
    return httpx.get(
        f"{sandbox.base_url}/pg/v1/status/{mid}/{tid}",
        headers=gen1_status_headers(mid, tid, **sign),
    )


def test_pay_when_checksum_right_then_pay_page_url(sandbox: RunningSandbox) -> None:
    answer = gen1_pay(sandbox, pay_payload("T1"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["success"] is True
    assert body["code"] == "PAYMENT_INITIATED"
    assert body["data"]["merchantTransactionId"] == "T1"
    redirect = body["data"]["instrumentResponse"]["redirectInfo"]
    assert redirect["method"] == "GET"
    assert redirect["url"].startswith(sandbox.url + "/transact/OMO")


@pytest.mark.parametrize("prefix", ["/apis/hermes", "/apis/pg-sandbox"])
def test_pay_when_prefix_then_checksum_over_relative_path(
    sandbox: RunningSandbox, prefix: str
) -> None:
    body, headers = gen1_sign(pay_payload("T-prefix"), "/pg/v1/pay")
    assert (
        httpx.post(sandbox.url + prefix + "/pg/v1/pay", json=body, headers=headers).status_code
        == 200
    )


def test_pay_when_salt_wrong_then_authorization_failed(sandbox: RunningSandbox) -> None:
    answer = gen1_pay(sandbox, pay_payload("T2"), salt="not-the-salt")
    assert answer.status_code == 401
    assert answer.json() == {
        "success": False,
        "code": "AUTHORIZATION_FAILED",
        "message": answer.json()["message"],
        "data": {},
    }
    assert "sandbox-salt-key" not in answer.text
    assert sandbox.state.get_order("T2") is None


def test_pay_when_salt_index_wrong_or_header_missing_then_rejected(sandbox: RunningSandbox) -> None:
    assert gen1_pay(sandbox, pay_payload("T3"), index=2).status_code == 401
    body, _ = gen1_sign(pay_payload("T3"), "/pg/v1/pay")
    assert httpx.post(sandbox.base_url + "/pg/v1/pay", json=body).status_code == 401


def test_pay_when_unknown_merchant_then_key_not_configured(sandbox: RunningSandbox) -> None:
    answer = gen1_pay(sandbox, pay_payload("T4", merchantId="SOMEONE"))
    assert answer.status_code == 401
    assert answer.json()["code"] == "KEY_NOT_CONFIGURED"


def test_pay_when_public_uat_merchant_then_accepted(sandbox: RunningSandbox) -> None:
    answer = gen1_pay(sandbox, pay_payload("T5", merchantId=UAT_MERCHANT_ID), salt=UAT_SALT_KEY)
    assert answer.status_code == 200
    status = gen1_status(sandbox, "T5", mid=UAT_MERCHANT_ID, salt=UAT_SALT_KEY)
    assert status.json()["code"] == "PAYMENT_PENDING"


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 99},
        {"merchantTransactionId": "x" * 39},
        {"redirectMode": "GET"},
        {"paymentInstrument": {"type": "UPI_INTENT"}},
        {"redirectUrl": None},
    ],
)
def test_pay_when_limits_broken_then_bad_request(
    sandbox: RunningSandbox, change: dict[str, Any]
) -> None:
    answer = gen1_pay(sandbox, {**pay_payload("T6"), **change})
    assert answer.status_code == 400
    assert answer.json()["success"] is False
    assert answer.json()["code"] == "BAD_REQUEST"


def test_pay_when_body_not_base64_json_then_bad_request(sandbox: RunningSandbox) -> None:
    answer = httpx.post(
        sandbox.base_url + "/pg/v1/pay", json={"request": "%%%"}, headers={"X-VERIFY": "x###1"}
    )
    assert answer.status_code == 400


def test_pay_when_38_char_id_then_accepted_and_duplicate_rejected(sandbox: RunningSandbox) -> None:
    assert gen1_pay(sandbox, pay_payload("t" * 38)).status_code == 200
    again = gen1_pay(sandbox, pay_payload("t" * 38))
    assert again.status_code == 400
    assert again.json()["code"] == "DUPLICATE_TRANSACTION_ID"


def test_status_when_pending_then_completed_codes(sandbox: RunningSandbox) -> None:
    gen1_pay(sandbox, pay_payload("T7"))
    pending = gen1_status(sandbox, "T7").json()
    # A pending payment is a successful request at PhonePe: success true, nothing attempted.
    assert pending["success"] is True
    assert pending["code"] == "PAYMENT_PENDING"
    assert pending["message"] == "Your request is in pending state."
    assert pending["data"]["state"] == "PENDING"
    assert pending["data"]["transactionId"] is None
    assert pending["data"]["paymentInstrument"] is None
    httpx.post(sandbox.url + "/_sandbox/orders/T7/complete", json={"paymentMode": "CARD"})
    done = gen1_status(sandbox, "T7").json()
    assert done["success"] is True
    assert done["code"] == "PAYMENT_SUCCESS"
    assert done["data"]["amount"] == 10_000
    assert done["data"]["paymentInstrument"]["type"] == "CARD"
    assert done["data"]["transactionId"].startswith("OM")


@pytest.mark.parametrize(
    ("mode", "fields"),
    [
        ("UPI_QR", {"type", "utr", "upiTransactionId", "cardNetwork", "accountType"}),
        (
            "CARD",
            {
                "type",
                "cardType",
                "pgTransactionId",
                "bankTransactionId",
                "pgAuthorizationCode",
                "arn",
                "bankId",
                "brn",
            },
        ),
        (
            "NET_BANKING",
            {"type", "pgTransactionId", "pgServiceTransactionId", "bankTransactionId", "bankId"},
        ),
    ],
)
def test_status_when_paid_by_mode_then_payment_instrument_of_that_type(
    sandbox: RunningSandbox, mode: str, fields: set[str]
) -> None:
    gen1_pay(sandbox, pay_payload(f"T-{mode}"))
    httpx.post(sandbox.url + f"/_sandbox/orders/T-{mode}/complete", json={"paymentMode": mode})
    instrument = gen1_status(sandbox, f"T-{mode}").json()["data"]["paymentInstrument"]
    assert set(instrument) == fields


def test_status_when_declined_then_payment_error_with_reason(sandbox: RunningSandbox) -> None:
    gen1_pay(sandbox, pay_payload("T8"))
    httpx.post(sandbox.url + "/_sandbox/orders/T8/fail", json={})
    body = gen1_status(sandbox, "T8").json()
    assert body["success"] is False
    assert body["code"] == "PAYMENT_ERROR"
    assert body["data"]["state"] == "FAILED"
    assert body["data"]["responseCode"] == "REQUEST_DECLINE_BY_REQUESTEE"
    assert body["data"]["paymentInstrument"] is None


def test_status_when_attempt_declined_then_still_pending_with_its_transaction(
    sandbox: RunningSandbox,
) -> None:
    gen1_pay(sandbox, pay_payload("T9a"))
    httpx.post(sandbox.url + "/_sandbox/orders/T9a/decline", json={"reason": "INVALID_MPIN"})
    body = gen1_status(sandbox, "T9a").json()
    assert (body["success"], body["code"]) == (True, "PAYMENT_PENDING")
    assert body["data"]["transactionId"].startswith("OM")
    assert body["data"]["responseCode"] == "ZM"


def test_status_when_checksum_or_merchant_header_wrong_then_rejected(
    sandbox: RunningSandbox,
) -> None:
    gen1_pay(sandbox, pay_payload("T9"))
    assert gen1_status(sandbox, "T9", salt="bad").status_code == 401
    headers = gen1_status_headers(MID, "T9")
    headers.pop("X-MERCHANT-ID")
    answer = httpx.get(f"{sandbox.base_url}/pg/v1/status/{MID}/T9", headers=headers)
    assert answer.status_code == 400


def test_status_when_unknown_then_transaction_not_found(sandbox: RunningSandbox) -> None:
    answer = gen1_status(sandbox, "NOPE")
    assert answer.status_code == 404
    assert answer.json()["code"] == "TRANSACTION_NOT_FOUND"
    assert answer.json()["success"] is False


def refund(sandbox: RunningSandbox, tid: str, original: str, amount: int) -> httpx.Response:
    body, headers = gen1_sign(
        {
            "merchantId": MID,
            "merchantUserId": "U-1",
            "originalTransactionId": original,
            "merchantTransactionId": tid,
            "amount": amount,
            "callbackUrl": "http://127.0.0.1:9/callback",
        },
        "/pg/v1/refund",
    )
    return httpx.post(sandbox.base_url + "/pg/v1/refund", json=body, headers=headers)


def test_refund_when_completed_then_pending_and_status_by_refund_id(
    sandbox: RunningSandbox,
) -> None:
    gen1_pay(sandbox, pay_payload("T10"))
    assert refund(sandbox, "T10-R", "T10", 100).json()["code"] == "REFUND_NOT_ALLOWED"
    httpx.post(sandbox.url + "/_sandbox/orders/T10/complete")
    answer = refund(sandbox, "T10-R", "T10", 4000)
    assert answer.status_code == 200
    assert answer.json()["success"] is True  # the call succeeded; the refund is pending
    assert answer.json()["code"] == "PAYMENT_PENDING"
    assert answer.json()["data"]["state"] == "PENDING"
    assert refund(sandbox, "T10-R2", "T10", 6001).json()["code"] == "REFUND_AMOUNT_EXCEEDED"
    httpx.post(sandbox.url + "/_sandbox/clock/advance", json={"seconds": 5})
    status = gen1_status(sandbox, "T10-R").json()
    assert status["code"] == "PAYMENT_SUCCESS"
    assert status["data"]["state"] == "COMPLETED"
    assert status["data"]["amount"] == 4000


def test_refund_when_checksum_wrong_then_rejected(sandbox: RunningSandbox) -> None:
    body, _ = gen1_sign({"merchantId": MID}, "/pg/v1/refund")
    _, wrong = gen1_sign({"merchantId": MID}, "/pg/v1/pay")
    answer = httpx.post(sandbox.base_url + "/pg/v1/refund", json=body, headers=wrong)
    assert answer.status_code == 401
