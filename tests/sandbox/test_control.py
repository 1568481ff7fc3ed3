"""The control API (/_sandbox), the clock, reset, and correctness under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from phonepe_gateway.sandbox.clock import SandboxClock
from phonepe_gateway.sandbox.testing import RunningSandbox, serve_sandbox

from .conftest import get_token, pay_body


def test_info_when_requested_then_ids_shown_secrets_masked(sandbox: RunningSandbox) -> None:
    info = httpx.get(sandbox.url + "/_sandbox").json()
    assert info["client_id"] == "PGSANDBOXCLIENT"
    assert info["merchant_id"] == "PGSANDBOXMERCHANT"
    assert "sandbox-client-secret" not in str(info)
    assert "sandbox-salt-key" not in str(info)
    assert "sandboxpass1" not in str(info)


def test_orders_when_listed_then_every_order_with_refunds(
    sandbox: RunningSandbox, api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("c-1"))
    api.post("/checkout/v2/pay", json=pay_body("c-2"))
    control.post("/orders/c-1/complete", json={"paymentMode": "NET_BANKING"})
    api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "c-1-r", "originalMerchantOrderId": "c-1", "amount": 100},
    )
    listed = control.get("/orders").json()["orders"]
    assert [o["merchantOrderId"] for o in listed] == ["c-1", "c-2"]
    one = control.get("/orders/c-1").json()
    assert one["state"] == "COMPLETED"
    assert one["refundedAmount"] == 100
    assert one["refunds"][0]["merchantRefundId"] == "c-1-r"
    assert one["paymentDetails"][0]["paymentMode"] == "NET_BANKING"
    assert one["checkoutPath"].startswith("/transact/OMO")
    assert control.get("/orders/nope").status_code == 404
    assert control.get("/refunds").json()["refunds"][0]["state"] == "PENDING"


def test_complete_when_not_pending_or_unknown_then_error(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("c-3"))
    unknown = control.post("/orders/c-3/fail", json={"errorCode": "TXN_CANCELLED"})
    assert unknown.status_code == 400  # an unknown code needs its own detailed code
    failed = control.post(
        "/orders/c-3/fail", json={"errorCode": "TXN_CANCELLED", "detailedErrorCode": "U30"}
    )
    assert failed.status_code == 200
    assert (failed.json()["errorCode"], failed.json()["detailedErrorCode"]) == (
        "TXN_CANCELLED",
        "U30",
    )
    conflict = control.post("/orders/c-3/complete")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "INVALID_ORDER_STATE"
    assert control.post("/orders/none/complete").status_code == 404
    assert control.post("/orders/c-3/explode").status_code == 404
    json_list = control.post(
        "/orders/c-3/complete", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert json_list.status_code == 400


def test_decline_when_retries_allowed_then_attempt_failed_and_order_pending(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("c-dec"))
    declined = control.post("/orders/c-dec/decline", json={"reason": "INSUFFICIENT_BALANCE"})
    assert declined.status_code == 200
    body = declined.json()
    assert body["state"] == "PENDING"
    (attempt,) = body["paymentDetails"]
    assert (attempt["state"], attempt["errorCode"], attempt["detailedErrorCode"]) == (
        "FAILED",
        "INSUFFICIENT_BALANCE",
        "Z9",
    )
    again = control.post("/orders/c-dec/decline", json={})
    assert again.json()["paymentDetails"][-1]["detailedErrorCode"] == "ZA"
    paid = control.post("/orders/c-dec/complete", json={"paymentMode": "CARD"})
    assert paid.json()["state"] == "COMPLETED"
    assert [d["state"] for d in paid.json()["paymentDetails"]] == ["FAILED", "FAILED", "COMPLETED"]
    assert control.post("/orders/c-dec/decline", json={}).status_code == 409  # paid: final


def test_decline_when_unknown_reason_then_400_and_nothing_changes(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("c-bad"))
    answer = control.post("/orders/c-bad/decline", json={"reason": "NOPE"})
    assert answer.status_code == 400
    assert "INVALID_MPIN" in answer.json()["error"]["message"]
    assert control.get("/orders/c-bad").json()["paymentDetails"] == []


def test_decline_when_retry_disabled_then_order_failed(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("c-once", disablePaymentRetry=True))
    answer = control.post("/orders/c-once/decline", json={"reason": "INVALID_MPIN"})
    assert answer.json()["state"] == "FAILED"
    assert answer.json()["disablePaymentRetry"] is True
    assert (answer.json()["errorCode"], answer.json()["detailedErrorCode"]) == (
        "INVALID_MPIN",
        "ZM",
    )


def test_refund_control_when_failed_then_remainder_restored(
    api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("c-4", amount=1000))
    control.post("/orders/c-4/complete")
    api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "c-4-r", "originalMerchantOrderId": "c-4", "amount": 1000},
    )
    failed = control.post("/refunds/c-4-r/fail", json={"errorCode": "REFUND_REJECTED"})
    assert failed.json()["state"] == "FAILED"
    assert api.get("/payments/v2/refund/c-4-r/status").json()["errorCode"] == "REFUND_REJECTED"
    again = api.post(
        "/payments/v2/refund",
        json={"merchantRefundId": "c-4-r2", "originalMerchantOrderId": "c-4", "amount": 1000},
    )
    assert again.status_code == 200
    assert control.post("/refunds/c-4-r2/complete").json()["state"] == "COMPLETED"
    assert control.post("/refunds/c-4-r2/complete").status_code == 409


def test_clock_when_advanced_then_now_moves_and_negative_rejected(control: httpx.Client) -> None:
    before = control.get("/clock").json()["now"]
    after = control.post("/clock/advance", json={"seconds": 3600}).json()["now"]
    assert after - before >= 3_600_000
    assert control.post("/clock/advance", json={"seconds": -1}).status_code == 400
    assert control.post("/clock/advance", json={"seconds": "1"}).status_code == 400


def test_clock_when_speed_set_then_sandbox_time_runs_faster() -> None:
    real = [100.0]
    clock = SandboxClock(60, wall=lambda: 1_000.0, monotonic=lambda: real[0])
    real[0] += 2
    assert clock.now() == pytest.approx(1_120.0)
    assert clock.real_delay(1_180.0) == pytest.approx(1.0)
    clock.advance(10)
    assert clock.now() == pytest.approx(1_130.0)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_expiry_when_clock_runs_fast_then_ticker_expires_without_reads() -> None:
    with serve_sandbox(clock_speed=600) as sb, httpx.Client(base_url=sb.base_url) as client:
        client.headers["Authorization"] = "O-Bearer " + get_token(client)
        client.post("/checkout/v2/pay", json=pay_body("fast-1", expireAfter=300))
        # 300 sandbox seconds = 0.5 real seconds; the ticker (not a read) must expire it.
        from .conftest import wait_for

        wait_for(lambda: sb.state.orders["fast-1"].state == "FAILED", what="ticker expiry")


def test_reset_when_called_then_everything_fresh(
    sandbox: RunningSandbox, api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("c-5"))
    control.post("/faults", json={"action": "status", "path": "/nothing"})
    control.put("/webhooks/config", json={"url": "http://127.0.0.1:9/x", "duplicates": 3})
    control.post("/clock/advance", json={"seconds": 100_000})
    assert control.post("/reset").json() == {"reset": True}
    assert control.get("/orders").json() == {"orders": []}
    assert control.get("/faults").json() == {"faults": []}
    assert control.get("/webhooks").json() == {"deliveries": []}
    config = control.get("/webhooks/config").json()
    assert config["url"] is None
    assert config["duplicates"] == 0
    assert api.get("/checkout/v2/order/c-5/status").status_code == 401  # tokens too


def test_concurrent_requests_when_same_order_id_then_exactly_one_created(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    token = api.headers["Authorization"]

    def attempt(n: int) -> int:
        with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": token}) as c:
            return c.post("/checkout/v2/pay", json=pay_body("race-1", amount=100 + n)).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(32)))
    assert statuses.count(200) == 1
    assert statuses.count(400) == 31


def test_concurrent_refunds_when_racing_then_never_beyond_amount(
    sandbox: RunningSandbox, api: httpx.Client, control: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("race-2", amount=1000))
    control.post("/orders/race-2/complete")
    token = api.headers["Authorization"]

    def attempt(n: int) -> int:
        with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": token}) as c:
            return c.post(
                "/payments/v2/refund",
                json={
                    "merchantRefundId": f"race-2-{n}",
                    "originalMerchantOrderId": "race-2",
                    "amount": 300,
                },
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(24)))
    assert statuses.count(200) == 3
    order = sandbox.state.get_order("race-2")
    assert order is not None
    assert sandbox.state.refunded_amount(order) == 900


def test_page_options_when_sent_then_recorded_and_shown(
    api: httpx.Client, control: httpx.Client
) -> None:
    body = pay_body("c-page", prefillUserLoginDetails={"phoneNumber": "9876543210"})
    body["paymentFlow"]["paymentModeConfig"] = {
        "enabledPaymentModes": [{"type": "UPI_QR"}, {"type": "CARD", "cardTypes": ["DEBIT_CARD"]}],
        "disabledPaymentModes": None,  # PhonePe's own SDK sends an unset list as null
    }
    assert api.post("/checkout/v2/pay", json=body).status_code == 200
    order = control.get("/orders/c-page").json()
    assert order["paymentModeConfig"] == {
        "enabledPaymentModes": [{"type": "UPI_QR"}, {"type": "CARD", "cardTypes": ["DEBIT_CARD"]}]
    }
    assert order["prefillUserLoginDetails"] == {"phoneNumber": "9876543210"}
    plain = pay_body("c-plain")
    api.post("/checkout/v2/pay", json=plain)
    shown = control.get("/orders/c-plain").json()
    assert (shown["paymentModeConfig"], shown["prefillUserLoginDetails"]) == ({}, None)


@pytest.mark.parametrize(
    "bad",
    [
        {"paymentModeConfig": {"enabledPaymentModes": [{"type": "WALLET"}]}},
        {"paymentModeConfig": {"disabledPaymentModes": [{"type": "CARD", "cardTypes": ["AMEX"]}]}},
        {"paymentModeConfig": "UPI_QR"},
        {"prefill": {"phoneNumber": "+91 98765 43210"}},
        {"prefill": "9876543210"},
    ],
)
def test_page_options_when_malformed_then_400_and_no_order(
    api: httpx.Client, control: httpx.Client, bad: dict
) -> None:
    body = pay_body("c-bad-page")
    if "prefill" in bad:
        body["prefillUserLoginDetails"] = bad["prefill"]
    else:
        body["paymentFlow"]["paymentModeConfig"] = bad["paymentModeConfig"]
    answer = api.post("/checkout/v2/pay", json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "BAD_REQUEST"
    assert control.get("/orders/c-bad-page").status_code == 404
