"""Generation 2 API over real HTTP: token, pay, SDK order, status, refund, errors."""

from __future__ import annotations

import json

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox, serve_sandbox

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
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "INVALID_CLIENT",
        "errorCode": "OIM000",
        "message": "Bad Request: Invalid Client",
        "context": {"error_description": "Client authentication failure"},
    }
    assert "sandbox-client-secret" not in answer.text


def test_token_when_field_missing_or_grant_wrong_then_400_api_error_shape(
    sandbox: RunningSandbox,
) -> None:
    missing = {k: v for k, v in CREDENTIALS.items() if k != "grant_type"}
    answer = httpx.post(sandbox.base_url + "/v1/oauth/token", data=missing)
    assert answer.status_code == 400
    assert answer.json() == {  # as PhonePe answers a blank form field
        "success": False,
        "code": "BAD_REQUEST",
        "message": "form field grant_type must not be blank.",
        "data": {},
    }
    grant = httpx.post(
        sandbox.base_url + "/v1/oauth/token", data={**CREDENTIALS, "grant_type": "password"}
    )
    assert grant.status_code == 400
    assert grant.json()["code"] == "BAD_REQUEST"
    as_json = httpx.post(sandbox.base_url + "/v1/oauth/token", json=CREDENTIALS)
    assert as_json.status_code == 400


def test_token_when_issued_then_jwt_with_expiry_and_merchant(sandbox: RunningSandbox) -> None:
    import base64

    body = httpx.post(sandbox.base_url + "/v1/oauth/token", data=CREDENTIALS).json()
    header, payload, signature = body["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(claims) == {"expiresOn", "merchantId"}
    assert claims["merchantId"] == "PGSANDBOXMERCHANT"
    assert claims["expiresOn"] // 1000 == body["expires_at"]  # epoch milliseconds
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert signature
    assert body["encrypted_access_token"] == body["access_token"]
    again = httpx.post(sandbox.base_url + "/v1/oauth/token", data=CREDENTIALS).json()
    assert again["access_token"] != body["access_token"]


@pytest.mark.parametrize("prefix", ["/apis/pg-sandbox", "/apis/pg"])
def test_gen2_prefix_when_full_flow_then_served(sandbox: RunningSandbox, prefix: str) -> None:
    with httpx.Client(base_url=sandbox.url + "/apis/pg-sandbox") as auth:
        token = get_token(auth)
    with httpx.Client(base_url=sandbox.url + prefix) as client:
        client.headers["Authorization"] = "O-Bearer " + token
        created = client.post("/checkout/v2/pay", json=pay_body("prefix-order"))
        assert created.status_code == 200, created.text
        assert client.get("/checkout/v2/order/prefix-order/status").json()["state"] == "PENDING"


MAPPING_NOT_FOUND = {"message": "Bad Request - Api Mapping Not Found"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/apis/pg/v1/oauth/token"),  # the token lives on identity-manager
        ("POST", "/apis/hermes/v1/oauth/token"),
        ("POST", "/apis/identity-manager/checkout/v2/pay"),
        ("POST", "/apis/hermes/checkout/v2/pay"),  # generation 2 on the generation 1 host
        ("GET", "/apis/hermes/checkout/v2/order/x/status"),
        ("POST", "/apis/pg/pg/v1/pay"),  # generation 1 on the generation 2 host
        ("GET", "/apis/pg/pg/v1/status/M/T"),
        ("POST", "/apis/pg-sandbox/checkout/v9/whatever"),
        ("GET", "/apis/pg-sandbox/checkout/v2/pay"),  # wrong method
        ("GET", "/apis/unknown/checkout/v2/pay"),
        ("GET", "/checkout/v2/pay"),
    ],
)
def test_strict_hosts_when_path_not_mapped_then_api_mapping_not_found(
    sandbox: RunningSandbox, method: str, path: str
) -> None:
    answer = httpx.request(method, sandbox.url + path, data=CREDENTIALS)
    assert answer.status_code == 400
    assert answer.json() == MAPPING_NOT_FOUND


def test_strict_hosts_when_each_production_prefix_then_its_own_calls_work(
    sandbox: RunningSandbox,
) -> None:
    token = httpx.post(
        sandbox.url + "/apis/identity-manager/v1/oauth/token", data=CREDENTIALS
    ).json()["access_token"]
    pay = httpx.post(
        sandbox.url + "/apis/pg/checkout/v2/pay",
        json=pay_body("strict-1"),
        headers={"Authorization": "O-Bearer " + token},
    )
    assert pay.status_code == 200


def test_lenient_hosts_when_enabled_then_every_api_under_every_prefix() -> None:
    with serve_sandbox(lenient_hosts=True) as sb:
        for prefix in ("/apis/pg", "/apis/identity-manager", "/apis/hermes"):
            with httpx.Client(base_url=sb.url + prefix) as client:
                client.headers["Authorization"] = "O-Bearer " + get_token(client)
                created = client.post("/checkout/v2/pay", json=pay_body("len" + prefix[6:9]))
                assert created.status_code == 200, created.text
        unknown = httpx.get(sb.url + "/apis/pg/checkout/v9/x")
        assert unknown.json() == MAPPING_NOT_FOUND


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
    # As PhonePe's pay page publishes it: a plain BAD_REQUEST that does not name the duplicate.
    assert body["success"] is False
    assert body["code"] == "BAD_REQUEST"
    assert body["message"] == "Please check the inputs you have provided."
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
    assert answer.json() == {  # the body PhonePe's order-status page shows
        "code": "INVALID_MERCHANT_ORDER_ID",
        "message": "No entry found for given merchant order id",
    }


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
    control.post("/orders/fail-1/fail", json={"errorCode": "INSUFFICIENT_BALANCE"})
    status = api.get("/checkout/v2/order/fail-1/status").json()
    assert status["state"] == "FAILED"
    assert (status["errorCode"], status["detailedErrorCode"]) == ("INSUFFICIENT_BALANCE", "Z9")
    assert status["paymentDetails"][0]["state"] == "FAILED"
    assert status["paymentDetails"][0]["detailedErrorCode"] == "Z9"
    assert "errorContext" not in status
    context = api.get("/checkout/v2/order/fail-1/status", params={"errorContext": "true"}).json()
    assert context["errorContext"] == {
        "errorCode": "INSUFFICIENT_BALANCE",
        "detailedErrorCode": "Z9",
        "source": "CUSTOMER",
        "stage": "AUTHORIZATION",
        "description": "Payment failed due to insufficient balance in customer's account.",
    }


def test_attempt_when_declined_then_order_pending_with_failed_attempt_then_retry_pays(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("retry-1"))
    control.post("/orders/retry-1/decline", json={"reason": "INVALID_MPIN"})
    status = api.get("/checkout/v2/order/retry-1/status", params={"details": "true"}).json()
    assert status["state"] == "PENDING"
    (attempt,) = status["paymentDetails"]
    assert (attempt["state"], attempt["errorCode"], attempt["detailedErrorCode"]) == (
        "FAILED",
        "INVALID_MPIN",
        "ZM",
    )
    with_context = api.get("/checkout/v2/order/retry-1/status?errorContext=true").json()
    assert "errorContext" not in with_context  # only a FAILED order carries it
    control.post("/orders/retry-1/complete", json={"paymentMode": "UPI_INTENT"})
    status = api.get("/checkout/v2/order/retry-1/status", params={"details": "true"}).json()
    assert status["state"] == "COMPLETED"
    assert [d["state"] for d in status["paymentDetails"]] == ["FAILED", "COMPLETED"]
    latest = api.get("/checkout/v2/order/retry-1/status").json()  # details=false: latest only
    assert [d["state"] for d in latest["paymentDetails"]] == ["COMPLETED"]


def test_pay_when_disable_payment_retry_not_boolean_then_bad_request(api: httpx.Client) -> None:
    answer = api.post("/checkout/v2/pay", json=pay_body("retry-x", disablePaymentRetry="yes"))
    assert answer.status_code == 400
    assert "disablePaymentRetry" in answer.json()["message"]


@pytest.mark.parametrize(
    ("mode", "rail", "instrument", "instrument_fields"),
    [
        (
            "UPI_QR",
            "UPI",
            "ACCOUNT",
            {"maskedAccountNumber", "ifsc", "accountHolderName", "accountType"},
        ),
        (
            "UPI_INTENT",
            "UPI",
            "ACCOUNT",
            {"maskedAccountNumber", "ifsc", "accountHolderName", "accountType"},
        ),
        (
            "CARD",
            "PG",
            "CREDIT_CARD",
            {
                "bankTransactionId",
                "bankId",
                "brn",
                "arn",
                "geoScope",
                "cardNetwork",
                "maskedCardNumber",
            },
        ),
        ("NET_BANKING", "PG", "NET_BANKING", {"bankTransactionId", "bankId", "brn", "arn"}),
    ],
)
def test_status_when_paid_by_mode_then_rail_instrument_and_split_instruments(
    api: httpx.Client,
    control: httpx.Client,
    mode: str,
    rail: str,
    instrument: str,
    instrument_fields: set[str],
) -> None:
    moid = "mode-" + mode.replace("_", "-")
    api.post("/checkout/v2/pay", json=pay_body(moid))
    control.post(f"/orders/{moid}/complete", json={"paymentMode": mode})
    (detail,) = api.get(f"/checkout/v2/order/{moid}/status").json()["paymentDetails"]
    assert detail["rail"]["type"] == rail
    assert detail["instrument"]["type"] == instrument
    assert set(detail["instrument"]) == {"type", *instrument_fields}
    (split,) = detail["splitInstruments"]
    assert split == {"instrument": detail["instrument"], "rail": detail["rail"], "amount": 10_000}


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
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "BAD_REQUEST"
    assert duplicate.json()["message"] == "Please check the inputs you have provided."


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
    assert (status["errorCode"], status["detailedErrorCode"]) == (
        "TXN_NOT_COMPLETED",
        "TXN_AUTO_FAILED",
    )
    late = control.post("/orders/expire-1/complete")
    assert late.status_code == 409


def test_refund_when_clock_runs_then_pending_confirmed_completed_with_own_transaction(
    sandbox: RunningSandbox, api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("rf-1"))
    paid = control.post("/orders/rf-1/complete", json={"paymentMode": "UPI_INTENT"}).json()
    payment_txn = paid["paymentDetails"][0]["transactionId"]
    created = api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "rf-1-r", "originalMerchantOrderId": "rf-1", "amount": 500},
    ).json()
    assert created["state"] == "PENDING"
    assert created["refundId"].startswith("OMR")
    states = []
    for _ in range(3):  # the sandbox's default settlement: CONFIRMED at 2.5 s, COMPLETED at 5 s
        status = api.get("/payments/v2/refund/rf-1-r/status").json()
        states.append(status["state"])
        control.post("/clock/advance", json={"seconds": 2.5})
    assert states == ["PENDING", "CONFIRMED", "COMPLETED"]
    (detail,) = status["paymentDetails"]
    assert detail["transactionId"].startswith("OMR")  # the refund's own, not the payment's
    assert detail["transactionId"] != payment_txn
    assert detail["paymentMode"] == "UPI_INTENT"
    assert detail["rail"]["type"] == "UPI"
    assert status["currency"] == "INR"


def test_refund_when_failed_by_control_then_failed_with_codes(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("rf-2"))
    control.post("/orders/rf-2/complete", json={})
    api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "rf-2-r", "originalMerchantOrderId": "rf-2", "amount": 500},
    )
    failed = control.post("/refunds/rf-2-r/fail", json={}).json()
    assert (failed["state"], failed["errorCode"], failed["detailedErrorCode"]) == (
        "FAILED",
        "AUTHORIZATION_ERROR",
        "ZM",
    )
    status = api.get("/payments/v2/refund/rf-2-r/status").json()
    assert status["state"] == "FAILED"
    assert control.post("/refunds/rf-2-r/complete", json={}).status_code == 409


def test_attempt_when_started_then_pending_transaction_resolved_by_next_outcome(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("att-1"))
    started = control.post("/orders/att-1/attempt", json={"paymentMode": "UPI_COLLECT"})
    assert started.status_code == 200
    assert control.post("/orders/att-1/attempt", json={}).status_code == 409  # one at a time
    (attempt,) = api.get("/checkout/v2/order/att-1/status").json()["paymentDetails"]
    assert attempt["state"] == "PENDING"
    assert "rail" not in attempt
    txn = api.get(f"/checkout/v2/transaction/{attempt['transactionId']}/status").json()
    assert txn["state"] == "PENDING"
    assert txn["paymentDetails"][0]["state"] == "PENDING"
    control.post("/orders/att-1/complete", json={})
    (done,) = api.get("/checkout/v2/order/att-1/status").json()["paymentDetails"]
    assert (done["transactionId"], done["state"], done["paymentMode"]) == (
        attempt["transactionId"],
        "COMPLETED",
        "UPI_COLLECT",
    )


def test_attempt_when_order_expires_during_it_then_attempt_auto_failed(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("att-2", expireAfter=300))
    control.post("/orders/att-2/attempt", json={})
    control.post("/clock/advance", json={"seconds": 301})
    status = api.get("/checkout/v2/order/att-2/status").json()
    assert status["state"] == "FAILED"
    (attempt,) = status["paymentDetails"]
    assert (attempt["state"], attempt["detailedErrorCode"]) == ("FAILED", "TXN_AUTO_FAILED")
