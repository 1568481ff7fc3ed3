"""Generation 2 API over real HTTP: token, pay, SDK order, status, refund, errors."""

from __future__ import annotations

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox

from .conftest import CREDENTIALS, get_token, pay_body


def test_token_when_credentials_right_then_o_bearer_token_with_expiry(
    sandbox: RunningSandbox,
) -> None:
    answer = httpx.post(sandbox.base_url + "/v1/oauth/token", data=CREDENTIALS)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "O-Bearer"
    assert body["expires_at"] - body["issued_at"] == 3600
    assert body["access_token"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("client_secret", "wrong-secret"), ("client_id", "SOMEONE"), ("client_version", "2")],
)
def test_token_when_credentials_wrong_then_oauth_error_shape(
    sandbox: RunningSandbox, field: str, value: str
) -> None:
    answer = httpx.post(sandbox.base_url + "/v1/oauth/token", data={**CREDENTIALS, field: value})
    assert answer.status_code == 401
    assert answer.json() == {
        "code": "INVALID_CLIENT",
        "errorCode": "OIM000",
        "message": "Client authentication failed.",
        "context": {},
    }
    assert "sandbox-client-secret" not in answer.text


def test_token_when_field_missing_or_grant_wrong_then_400_oauth_shape(
    sandbox: RunningSandbox,
) -> None:
    missing = {k: v for k, v in CREDENTIALS.items() if k != "client_version"}
    answer = httpx.post(sandbox.base_url + "/v1/oauth/token", data=missing)
    assert answer.status_code == 400
    assert set(answer.json()) == {"code", "errorCode", "message", "context"}
    grant = httpx.post(
        sandbox.base_url + "/v1/oauth/token", data={**CREDENTIALS, "grant_type": "password"}
    )
    assert grant.status_code == 400
    assert grant.json()["code"] == "UNSUPPORTED_GRANT_TYPE"
    as_json = httpx.post(sandbox.base_url + "/v1/oauth/token", json=CREDENTIALS)
    assert as_json.status_code == 400


@pytest.mark.parametrize(
    "prefix", ["/apis/pg-sandbox", "/apis/pg", "/apis/identity-manager", "/apis/hermes"]
)
def test_every_prefix_when_full_flow_then_same_api(sandbox: RunningSandbox, prefix: str) -> None:
    with httpx.Client(base_url=sandbox.url + prefix) as client:
        client.headers["Authorization"] = "O-Bearer " + get_token(client)
        created = client.post("/checkout/v2/pay", json=pay_body("prefix-order"))
        assert created.status_code == 200, created.text
        assert client.get("/checkout/v2/order/prefix-order/status").json()["state"] == "PENDING"


def test_pay_when_valid_then_pending_order_with_checkout_url(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    answer = api.post("/checkout/v2/pay", json=pay_body("order-1", expireAfter=600))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"orderId", "state", "expireAt", "redirectUrl"}
    assert body["state"] == "PENDING"
    assert body["orderId"].startswith("OMO")
    assert body["redirectUrl"] == f"{sandbox.url}/transact/{body['orderId']}"
    order = sandbox.state.get_order("order-1")
    assert order is not None
    assert body["expireAt"] == int(order.expire_at * 1000)
    assert order.expire_at - order.created_at == 600


def test_pay_when_merchant_order_id_reused_then_rejected(api: httpx.Client) -> None:
    assert api.post("/checkout/v2/pay", json=pay_body("dup-1")).status_code == 200
    again = api.post("/checkout/v2/pay", json=pay_body("dup-1", amount=500))
    assert again.status_code == 400
    body = again.json()
    assert body["success"] is False
    assert body["code"] == "DUPLICATE_MERCHANT_ORDER_ID"
    assert body["data"] == {}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"amount": 99}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"amount": True}, "amount"),
        ({"merchantOrderId": "x" * 64}, "merchantOrderId"),
        ({"merchantOrderId": "bad id!"}, "merchantOrderId"),
        ({"expireAfter": 299}, "expireAfter"),
        ({"expireAfter": 3601}, "expireAfter"),
        ({"metaInfo": {"udf1": "x" * 257}}, "udf1"),
        ({"metaInfo": {"udf11": "no/slashes"}}, "udf11"),
        ({"metaInfo": {"udf16": "x"}}, "udf"),
        ({"paymentFlow": {"type": "SOMETHING"}}, "paymentFlow"),
        ({"paymentFlow": None}, "paymentFlow"),
    ],
)
def test_pay_when_limits_broken_then_bad_request_shape(
    api: httpx.Client, change: dict[str, object], fragment: str
) -> None:
    answer = api.post("/checkout/v2/pay", json={**pay_body("limits-1"), **change})
    assert answer.status_code == 400
    body = answer.json()
    assert body["success"] is False
    assert body["code"] == "BAD_REQUEST"
    assert fragment in body["message"]
    assert body["data"] == {}


def test_pay_when_lenient_limits_then_accepted(api: httpx.Client) -> None:
    body = pay_body(
        "x" * 63, amount=100, expireAfter=3600, metaInfo={"udf1": "a" * 256, "udf15": "ok_-@.+ 1"}
    )
    assert api.post("/checkout/v2/pay", json=body).status_code == 200
    assert api.post("/checkout/v2/pay", json=pay_body("short", expireAfter=300)).status_code == 200


def test_pay_when_body_not_json_then_bad_request(api: httpx.Client) -> None:
    answer = api.post(
        "/checkout/v2/pay", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("header", [None, "Bearer {token}", "O-Bearer", "O-Bearer not-a-token"])
def test_api_when_token_missing_or_wrong_scheme_then_401(
    sandbox: RunningSandbox, header: str | None
) -> None:
    with httpx.Client(base_url=sandbox.base_url) as client:
        token = get_token(client)
        headers = {} if header is None else {"Authorization": header.format(token=token)}
        answer = client.get("/checkout/v2/order/any/status", headers=headers)
    assert answer.status_code == 401
    body = answer.json()
    assert body == {
        "success": False,
        "code": "AUTHORIZATION_FAILED",
        "message": body["message"],
        "data": {},
    }


def test_token_when_ttl_passes_then_401_and_new_token_works(
    api: httpx.Client, control: httpx.Client
) -> None:
    assert api.get("/checkout/v2/order/none/status").status_code == 404
    control.post("/clock/advance", json={"seconds": 3601})
    assert api.get("/checkout/v2/order/none/status").status_code == 401
    api.headers["Authorization"] = "O-Bearer " + get_token(api)
    assert api.get("/checkout/v2/order/none/status").status_code == 404


def test_token_ttl_when_configured_then_expires_at_follows() -> None:
    from phonepe_gateway.sandbox.testing import serve_sandbox

    with serve_sandbox(token_ttl=120) as sb, httpx.Client(base_url=sb.base_url) as client:
        body = client.post("/v1/oauth/token", data=CREDENTIALS).json()
        assert body["expires_at"] - body["issued_at"] == 120
        assert body["expires_in"] == 120


def test_status_when_unknown_order_then_404_shape(api: httpx.Client) -> None:
    answer = api.get("/checkout/v2/order/missing-1/status")
    assert answer.status_code == 404
    body = answer.json()
    assert body["success"] is False
    assert body["code"] == "ORDER_NOT_FOUND"
    assert body["data"] == {}


def test_unknown_path_when_requested_then_404_in_phonepe_shape(api: httpx.Client) -> None:
    answer = api.get("/checkout/v9/whatever")
    assert answer.status_code == 404
    assert answer.json()["success"] is False
    assert answer.json()["code"] == "NOT_FOUND"


def test_status_when_completed_then_payment_details(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("paid-1", metaInfo={"udf1": "slot 4"}))
    assert api.get("/checkout/v2/order/paid-1/status").json()["paymentDetails"] == []
    done = control.post("/orders/paid-1/complete", json={"paymentMode": "CARD"})
    assert done.status_code == 200
    status = api.get("/checkout/v2/order/paid-1/status", params={"details": "true"}).json()
    assert status["state"] == "COMPLETED"
    assert status["amount"] == 10_000
    assert status["metaInfo"] == {"udf1": "slot 4"}
    (detail,) = status["paymentDetails"]
    assert detail["paymentMode"] == "CARD"
    assert detail["state"] == "COMPLETED"
    assert detail["transactionId"].startswith("OM")
    assert isinstance(detail["timestamp"], int)
    assert detail["amount"] == 10_000
    txn = api.get(f"/checkout/v2/transaction/{detail['transactionId']}/status")
    assert txn.status_code == 200
    assert txn.json()["paymentDetails"][0]["transactionId"] == detail["transactionId"]
    assert api.get("/checkout/v2/transaction/OM000/status").status_code == 404


def test_status_when_failed_then_error_code(api: httpx.Client, control: httpx.Client) -> None:
    api.post("/checkout/v2/pay", json=pay_body("fail-1"))
    control.post("/orders/fail-1/fail", json={"errorCode": "INSUFFICIENT_FUNDS"})
    status = api.get("/checkout/v2/order/fail-1/status").json()
    assert status["state"] == "FAILED"
    assert status["errorCode"] == "INSUFFICIENT_FUNDS"
    assert status["paymentDetails"][0]["state"] == "FAILED"


def test_sdk_order_when_created_then_token_not_redirect(api: httpx.Client) -> None:
    body = pay_body("sdk-1")
    body["paymentFlow"] = {"type": "SDK"}
    answer = api.post("/checkout/v2/sdk/order", json=body)
    assert answer.status_code == 200
    assert set(answer.json()) == {"orderId", "state", "expireAt", "token"}


def test_refund_when_order_completed_then_pending_then_settles(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("refund-1"))
    control.post("/orders/refund-1/complete")
    answer = api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "r-1", "originalMerchantOrderId": "refund-1", "amount": 4000},
    )
    assert answer.status_code == 200
    assert answer.json()["state"] == "PENDING"
    assert answer.json()["amount"] == 4000
    assert answer.json()["refundId"].startswith("OMR")
    status = api.get("/payments/v2/refund/r-1/status").json()
    assert status["state"] == "PENDING"
    assert status["originalMerchantOrderId"] == "refund-1"
    control.post("/clock/advance", json={"seconds": 5})
    assert api.get("/payments/v2/refund/r-1/status").json()["state"] == "COMPLETED"


def test_refund_when_beyond_remainder_then_rejected(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("refund-2", amount=1000))
    control.post("/orders/refund-2/complete")

    def refund(mrid: str, amount: int) -> httpx.Response:
        return api.post(
            "/payments/v2/refund",
            json={
                "merchantRefundId": mrid,
                "originalMerchantOrderId": "refund-2",
                "amount": amount,
            },
        )

    assert refund("r-a", 600).status_code == 200
    too_much = refund("r-b", 401)
    assert too_much.status_code == 400
    assert too_much.json()["code"] == "REFUND_AMOUNT_EXCEEDED"
    assert refund("r-c", 400).status_code == 200
    assert refund("r-d", 1).json()["code"] == "REFUND_AMOUNT_EXCEEDED"
    duplicate = refund("r-a", 1)
    assert duplicate.json()["code"] == "DUPLICATE_MERCHANT_REFUND_ID"


def test_refund_when_order_not_completed_or_unknown_then_rejected(api: httpx.Client) -> None:
    api.post("/checkout/v2/pay", json=pay_body("refund-3"))
    pending = api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "r-x", "originalMerchantOrderId": "refund-3", "amount": 100},
    )
    assert pending.status_code == 400
    assert pending.json()["code"] == "REFUND_NOT_ALLOWED"
    unknown = api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "r-y", "originalMerchantOrderId": "nobody", "amount": 100},
    )
    assert unknown.status_code == 404
    assert unknown.json()["success"] is False
    assert api.get("/payments/v2/refund/r-y/status").status_code == 404


def test_order_when_expire_after_passes_then_failed(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("expire-1", expireAfter=300))
    control.post("/clock/advance", json={"seconds": 299})
    assert api.get("/checkout/v2/order/expire-1/status").json()["state"] == "PENDING"
    control.post("/clock/advance", json={"seconds": 2})
    status = api.get("/checkout/v2/order/expire-1/status").json()
    assert status["state"] == "FAILED"
    assert status["errorCode"] == "TXN_AUTO_FAILED"
    late = control.post("/orders/expire-1/complete")
    assert late.status_code == 409
