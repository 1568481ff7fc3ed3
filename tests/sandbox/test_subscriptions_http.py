"""UPI AutoPay over a real socket: set-up, mandate states, notify / redeem with PhonePe's
24-hour rule, failure modes, webhooks, refunds of a redemption, faults and host mapping."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox

from .autopay import DAY, AutoPay, ap, notify_body, setup_body
from .conftest import Receiver, wait_for

__all__ = ["ap"]  # the fixture

AUTH = hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()


# -- set-up ------------------------------------------------------------------------------


def test_setup_by_intent_then_pending_order_and_mandate_intent_link(ap: AutoPay) -> None:
    answer = ap.api.post("/subscriptions/v2/setup", json=setup_body())
    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "PENDING"
    assert body["orderId"].startswith("OMO")
    link = body["intentUrl"]
    assert link.startswith("upi://mandate?pa=")
    assert f"tr={body['orderId']}" in link
    assert "am=1.00" in link
    assert "mam=500.00" in link
    assert "recur=MONTHLY" in link
    status = ap.status()
    assert status["state"] == "PENDING"
    assert status["subscriptionId"].startswith("OMS")
    assert (status["maxAmount"], status["frequency"], status["amountType"]) == (
        50_000,
        "MONTHLY",
        "VARIABLE",
    )


def test_setup_approved_in_upi_app_then_active_and_order_completed_with_flow(
    ap: AutoPay,
) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    assert ap.act("sub-1", "APPROVE").json()["state"] == "ACTIVE"
    order = ap.order("setup-1")
    assert order["state"] == "COMPLETED"
    assert order["paymentDetails"][0]["paymentMode"] == "UPI_INTENT"
    flow = order["paymentFlow"]
    assert flow["type"] == "SUBSCRIPTION_SETUP"
    assert flow["merchantSubscriptionId"] == "sub-1"
    assert flow["subscriptionId"] == ap.status()["subscriptionId"]
    assert ap.events() == [("subscription.setup.order.completed", "COMPLETED")]


def test_setup_declined_then_order_and_mandate_failed_with_upi_reason(ap: AutoPay) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    answer = ap.act("sub-1", "DECLINE", reason="INVALID_MPIN")
    assert answer.json()["state"] == "FAILED"
    order = ap.order("setup-1")
    assert (order["state"], order["errorCode"], order["detailedErrorCode"]) == (
        "FAILED",
        "INVALID_MPIN",
        "ZM",
    )
    assert ap.events() == [("subscription.setup.order.failed", "FAILED")]


def test_setup_never_answered_then_fails_at_expiry_on_sandbox_clock(ap: AutoPay) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    ap.advance(599)
    assert ap.status()["state"] == "PENDING"
    ap.advance(2)
    assert ap.status()["state"] == "FAILED"
    order = ap.order("setup-1")
    assert (order["errorCode"], order["detailedErrorCode"]) == (
        "TXN_NOT_COMPLETED",
        "TXN_AUTO_FAILED",
    )
    assert ap.act("sub-1", "APPROVE").status_code == 409  # too late to approve


def test_setup_by_collect_then_request_shown_for_that_vpa(
    ap: AutoPay, sandbox: RunningSandbox
) -> None:
    mode = {"type": "UPI_COLLECT", "details": {"type": "VPA", "vpa": "driver@ybl"}}
    answer = ap.api.post("/subscriptions/v2/setup", json=setup_body(mode=mode))
    assert answer.status_code == 200
    assert "intentUrl" not in answer.json()
    page = httpx.get(sandbox.url + "/upi-app/mandates", params={"vpa": "driver@ybl"})
    assert 'data-id="sub-1"' in page.text
    other = httpx.get(sandbox.url + "/upi-app/mandates", params={"vpa": "someone@ybl"})
    assert 'data-id="sub-1"' not in other.text


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"paymentFlow": {"type": "PG_CHECKOUT"}}, "paymentFlow.type"),
        ({"amount": 99}, "amount"),
        ({"merchantOrderId": "bad id!"}, "merchantOrderId"),
    ],
)
def test_setup_bad_input_then_400_and_nothing_created(
    ap: AutoPay, change: dict[str, Any], needle: str
) -> None:
    body = setup_body()
    body.update(change)
    answer = ap.api.post("/subscriptions/v2/setup", json=body)
    assert answer.status_code == 400
    assert needle in answer.json()["message"]
    assert ap.control.get("/subscriptions").json()["subscriptions"] == []


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"frequency": "HOURLY"}, "frequency"),
        ({"amount_type": "SOMETIMES"}, "amountType"),
        ({"auth": "PENNY_DROP", "amount": 100}, "PENNY_DROP"),
        ({"amount": 60_000}, "maxAmount"),
        ({"mode": {"type": "CARD"}}, "paymentMode"),
        ({"mode": {"type": "UPI_COLLECT", "details": {"type": "VPA"}}}, "vpa"),
    ],
)
def test_setup_refused_by_rules_then_400(ap: AutoPay, kwargs: dict[str, Any], needle: str) -> None:
    answer = ap.api.post("/subscriptions/v2/setup", json=setup_body(**kwargs))
    assert answer.status_code == 400, answer.text
    assert needle in answer.json()["message"]


def test_setup_reused_ids_then_plain_400(ap: AutoPay) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    again = ap.api.post("/subscriptions/v2/setup", json=setup_body(moid="setup-2"))
    assert again.status_code == 400
    same_order = ap.api.post("/subscriptions/v2/setup", json=setup_body(msid="sub-2"))
    assert same_order.status_code == 400


def test_setup_without_token_then_401(sandbox: RunningSandbox) -> None:
    answer = httpx.post(sandbox.base_url + "/subscriptions/v2/setup", json=setup_body())
    assert answer.status_code == 401


# -- customer and merchant changes ----------------------------------------------------------


def test_pause_then_paused_with_dates_and_unpaused_when_pause_ends(ap: AutoPay) -> None:
    ap.active()
    now_ms = ap.control.get("/clock").json()["now"]
    until = now_ms + 3 * DAY * 1000
    paused = ap.act("sub-1", "PAUSE", until=until).json()
    assert paused["state"] == "PAUSED"
    status = ap.status()
    assert status["pauseEndDate"] == until
    assert status["pauseStartDate"] >= now_ms
    ap.advance(3 * DAY + 1)
    assert ap.status()["state"] == "ACTIVE"
    assert ap.status()["pauseStartDate"] is None
    assert [e for e, _ in ap.events()][-2:] == ["subscription.paused", "subscription.unpaused"]


def test_resume_and_revoke_then_webhooks_and_revoked_is_final(ap: AutoPay) -> None:
    ap.active()
    ap.act("sub-1", "PAUSE")
    assert ap.act("sub-1", "RESUME").json()["state"] == "ACTIVE"
    assert ap.act("sub-1", "REVOKE").json()["state"] == "REVOKED"
    for action in ("RESUME", "PAUSE", "APPROVE", "REVOKE"):
        refused = ap.act("sub-1", action)
        assert refused.status_code == 409, action
        assert refused.json()["error"]["code"] == "INVALID_SUBSCRIPTION_STATE"
    assert ap.api.post("/subscriptions/v2/sub-1/cancel").status_code == 400
    assert [e for e, _ in ap.events()][1:] == [
        "subscription.paused",
        "subscription.unpaused",
        "subscription.revoked",
    ]


def test_merchant_cancel_then_204_cancelled_and_webhook(ap: AutoPay) -> None:
    ap.active()
    answer = ap.api.post("/subscriptions/v2/sub-1/cancel")
    assert answer.status_code == 204
    assert ap.status()["state"] == "CANCELLED"
    assert ap.events()[-1] == ("subscription.cancelled", "CANCELLED")


def test_mandate_end_date_then_expired(ap: AutoPay) -> None:
    now_ms = ap.control.get("/clock").json()["now"]
    flow_end = now_ms + 40 * DAY * 1000
    body = setup_body()
    body["paymentFlow"]["expireAt"] = flow_end
    ap.api.post("/subscriptions/v2/setup", json=body)
    ap.act("sub-1", "APPROVE")
    assert ap.status()["expireAt"] == flow_end
    ap.advance(41 * DAY)
    assert ap.status()["state"] == "EXPIRED"
    refused = ap.api.post("/subscriptions/v2/notify", json=notify_body("red-1"))
    assert refused.status_code == 200  # accepted, then the notification fails
    ap.advance(2)
    order = ap.order("red-1")
    assert (order["state"], order["errorCode"]) == ("FAILED", "MANDATE_EXPIRED")


def test_unknown_subscription_then_404_everywhere(ap: AutoPay) -> None:
    assert ap.api.get("/subscriptions/v2/nope/status").status_code == 404
    assert ap.api.post("/subscriptions/v2/nope/cancel").status_code == 404
    assert ap.api.get("/subscriptions/v2/order/nope/status").status_code == 404
    assert ap.api.get("/subscriptions/v2/transaction/OMnope/status").status_code == 404
    assert (
        ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "nope"}).status_code == 404
    )
    assert ap.act("nope", "APPROVE").status_code == 404


# -- notify and redeem ------------------------------------------------------------------------


def test_notify_then_notified_with_24h_window_and_redeem_refused_before_it(ap: AutoPay) -> None:
    ap.active()
    answer = ap.api.post("/subscriptions/v2/notify", json=notify_body("red-1"))
    assert answer.status_code == 200
    assert answer.json()["state"] == "NOTIFICATION_IN_PROGRESS"
    ap.advance(2)
    order = ap.order("red-1")
    flow = order["paymentFlow"]
    assert order["state"] == "NOTIFIED"
    assert order["paymentDetails"] == []
    assert flow["type"] == "SUBSCRIPTION_REDEMPTION"
    assert flow["redemptionRetryStrategy"] == "STANDARD"
    assert flow["autoDebit"] is False
    assert flow["validAfter"] - flow["notifiedAt"] == DAY * 1000
    assert flow["validUpto"] == order["expireAt"]
    early = ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    assert early.status_code == 400
    assert early.json()["code"] == "REDEMPTION_NOT_ALLOWED"
    assert ap.order("red-1")["state"] == "NOTIFIED"  # a refused redeem changes nothing
    assert ap.events()[-1] == ("subscription.notification.completed", "NOTIFIED")


def test_redeem_after_window_then_pending_then_completed_with_webhooks(ap: AutoPay) -> None:
    ap.active()
    ap.notified("red-1")
    ap.advance(DAY)
    answer = ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "PENDING"
    assert body["transactionId"].startswith("OM")
    ap.advance(3)
    order = ap.order("red-1")
    assert order["state"] == "COMPLETED"
    detail = order["paymentDetails"][0]
    assert (detail["paymentMode"], detail["state"], detail["amount"]) == (
        "UPI_AUTO_PAY",
        "COMPLETED",
        30_000,
    )
    assert detail["rail"]["umn"].endswith("@ybl")
    txn = ap.api.get(f"/subscriptions/v2/transaction/{body['transactionId']}/status").json()
    assert txn["state"] == "COMPLETED"
    assert [d["transactionId"] for d in txn["paymentDetails"]] == [body["transactionId"]]
    assert ap.events()[-2:] == [
        ("subscription.redemption.transaction.completed", "COMPLETED"),
        ("subscription.redemption.order.completed", "COMPLETED"),
    ]
    again = ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    assert again.status_code == 400  # one debit per redemption order


def test_notify_above_max_or_not_fixed_amount_then_400(ap: AutoPay) -> None:
    ap.active()
    over = ap.api.post("/subscriptions/v2/notify", json=notify_body("red-1", amount=50_001))
    assert over.status_code == 400
    assert "maxAmount" in over.json()["message"]
    ap.active("sub-2", moid="setup-2", amount_type="FIXED", max_amount=20_000)
    wrong = ap.api.post("/subscriptions/v2/notify", json=notify_body("red-2", "sub-2", 10_000))
    assert wrong.status_code == 400
    assert "FIXED" in wrong.json()["message"]
    exact = ap.api.post("/subscriptions/v2/notify", json=notify_body("red-3", "sub-2", 20_000))
    assert exact.status_code == 200


def test_second_notify_while_one_open_then_refused(ap: AutoPay) -> None:
    ap.active()
    ap.notified("red-1")
    second = ap.api.post("/subscriptions/v2/notify", json=notify_body("red-2"))
    assert second.status_code == 400
    assert second.json()["code"] == "REDEMPTION_IN_PROGRESS"


def test_notify_reused_order_id_then_400(ap: AutoPay) -> None:
    ap.active()
    reused = ap.api.post("/subscriptions/v2/notify", json=notify_body("setup-1"))
    assert reused.status_code == 400


def test_notify_autodebit_with_custom_retry_then_400(ap: AutoPay) -> None:
    ap.active()
    body = notify_body("red-1", autoDebit=True, redemptionRetryStrategy="CUSTOM")
    assert ap.api.post("/subscriptions/v2/notify", json=body).status_code == 400


def test_insufficient_balance_then_debit_fails_with_z9(ap: AutoPay) -> None:
    ap.active()
    answer = ap.control.post(
        "/subscriptions/balance", json={"merchantSubscriptionId": "sub-1", "balance": 10_000}
    )
    assert answer.status_code == 200
    ap.notified("red-1")
    ap.advance(DAY)
    ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    ap.advance(3)
    order = ap.order("red-1")
    assert (order["state"], order["errorCode"], order["detailedErrorCode"]) == (
        "FAILED",
        "INSUFFICIENT_BALANCE",
        "Z9",
    )
    assert ap.events()[-2:] == [
        ("subscription.redemption.transaction.failed", "FAILED"),
        ("subscription.redemption.order.failed", "FAILED"),
    ]
    view = ap.control.get("/subscriptions/sub-1").json()
    assert view["balance"] == 10_000  # nothing taken


def test_balance_covers_debit_then_taken_from_it(ap: AutoPay) -> None:
    ap.control.post("/subscriptions/balance", json={"balance": 40_000})  # for new mandates
    ap.active()
    ap.notified("red-1")
    ap.advance(DAY)
    ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    ap.advance(3)
    assert ap.order("red-1")["state"] == "COMPLETED"
    assert ap.control.get("/subscriptions/sub-1").json()["balance"] == 10_000


def test_paused_between_notify_and_debit_then_debit_fails(ap: AutoPay) -> None:
    ap.active()
    ap.notified("red-1")
    ap.act("sub-1", "PAUSE")
    ap.advance(DAY)
    assert (
        ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"}).status_code
        == 200
    )
    ap.advance(3)
    order = ap.order("red-1")
    assert (order["state"], order["errorCode"]) == ("FAILED", "MANDATE_PAUSED")


def test_revoked_after_notify_then_debit_fails(ap: AutoPay) -> None:
    ap.active()
    ap.notified("red-1")
    ap.act("sub-1", "REVOKE")
    ap.advance(DAY)
    ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    ap.advance(3)
    order = ap.order("red-1")
    assert (order["state"], order["errorCode"]) == ("FAILED", "MANDATE_REVOKED")
    assert ("subscription.revoked", "REVOKED") in ap.events()


def test_notify_while_paused_then_notification_failed(ap: AutoPay) -> None:
    ap.active()
    ap.act("sub-1", "PAUSE")
    order = ap.notified("red-1")
    assert (order["state"], order["errorCode"]) == ("FAILED", "MANDATE_PAUSED")
    assert ap.events()[-1] == ("subscription.notification.failed", "FAILED")


def test_auto_debit_then_phonepe_debits_at_valid_after_without_redeem(ap: AutoPay) -> None:
    ap.active()
    ap.notified("red-1", autoDebit=True)
    refused = ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    assert refused.status_code == 400
    ap.advance(DAY - 10)
    assert ap.order("red-1")["state"] == "NOTIFIED"
    ap.advance(20)
    order = ap.order("red-1")
    assert order["state"] == "COMPLETED"
    flow = order["paymentFlow"]
    # Started at validAfter; the debit took the sandbox's 2 s.
    assert order["paymentDetails"][0]["timestamp"] == flow["validAfter"] + 2000


def test_never_redeemed_then_order_fails_at_valid_upto(ap: AutoPay) -> None:
    ap.active()
    ap.notified("red-1")
    ap.advance(2 * DAY)
    order = ap.order("red-1")
    assert (order["state"], order["detailedErrorCode"]) == ("FAILED", "TXN_AUTO_FAILED")
    ap.advance(1)
    late = ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    assert late.status_code == 400


def test_custom_retry_then_merchant_may_redeem_again_up_to_four_tries(ap: AutoPay) -> None:
    ap.active()
    for _ in range(4):
        ap.control.post(
            "/subscriptions/sub-1/fail-next-debit", json={"reason": "BANK_TECHNICAL_ISSUE"}
        )
    ap.notified("red-1", redemptionRetryStrategy="CUSTOM")
    ap.advance(DAY)
    for attempt in range(4):
        answer = ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
        assert answer.status_code == 200, (attempt, answer.text)
        ap.advance(3)
        expected = "FAILED" if attempt == 3 else "NOTIFIED"
        assert ap.order("red-1")["state"] == expected
    order = ap.order("red-1")
    assert len(order["paymentDetails"]) == 4
    assert {d["state"] for d in order["paymentDetails"]} == {"FAILED"}


def test_standard_retry_failed_debit_then_order_failed_at_once(ap: AutoPay) -> None:
    ap.active()
    ap.control.post("/subscriptions/sub-1/fail-next-debit", json={})
    ap.notified("red-1")
    ap.advance(DAY)
    ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    ap.advance(3)
    assert ap.order("red-1")["state"] == "FAILED"


def test_month_of_debits_in_one_clock_jump_then_replayed_in_order(ap: AutoPay) -> None:
    ap.active()
    ap.notified("red-1", autoDebit=True)
    ap.act("sub-1", "PAUSE", until=ap.control.get("/clock").json()["now"] + 2 * DAY * 1000)
    ap.advance(30 * DAY)  # the auto debit fell inside the pause: it failed, then the pause ended
    assert ap.order("red-1")["errorCode"] == "MANDATE_PAUSED"
    assert ap.status()["state"] == "ACTIVE"


def test_redemption_refund_then_accepted_like_any_order(ap: AutoPay) -> None:
    ap.active()
    ap.notified("red-1")
    ap.advance(DAY)
    ap.api.post("/subscriptions/v2/redeem", json={"merchantOrderId": "red-1"})
    ap.advance(3)
    body = {"merchantRefundId": "rf-1", "originalMerchantOrderId": "red-1", "amount": 10_000}
    refund = ap.api.post("/payments/v2/refund", json=body)
    assert refund.status_code == 200, refund.text
    assert refund.json()["state"] == "PENDING"
    too_much = {"merchantRefundId": "rf-2", "originalMerchantOrderId": "red-1", "amount": 20_001}
    assert ap.api.post("/payments/v2/refund", json=too_much).status_code == 400


def test_generic_order_control_refuses_subscription_orders(ap: AutoPay) -> None:
    ap.api.post("/subscriptions/v2/setup", json=setup_body())
    answer = ap.control.post("/orders/setup-1/complete", json={})
    assert answer.status_code == 409
    assert "/_sandbox/subscriptions/sub-1" in answer.json()["error"]["message"]


# -- webhooks, faults, hosts --------------------------------------------------------------------


def test_subscription_webhooks_then_signed_and_retried_like_the_rest(
    ap: AutoPay, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    hook.statuses = [500]  # the first delivery fails, the retry succeeds
    ap.control.put("/webhooks/config", json={"url": url})
    ap.active()
    wait_for(lambda: len(hook.requests) >= 1, what="first delivery")
    ap.advance(5)
    wait_for(lambda: len(hook.requests) >= 2, what="retry")
    headers, _ = hook.requests[1]
    assert headers["authorization"] == AUTH
    body = hook.bodies()[1]
    assert body["event"] == "subscription.setup.order.completed"
    assert body["type"] == "SUBSCRIPTION_SETUP_ORDER_COMPLETED"
    assert body["payload"]["paymentFlow"]["merchantSubscriptionId"] == "sub-1"
    ap.act("sub-1", "REVOKE")
    wait_for(lambda: len(hook.requests) >= 3, what="revoke webhook")
    revoked = hook.bodies()[2]
    assert revoked["type"] == "SUBSCRIPTION_REVOKED"
    assert set(revoked["payload"]) == {
        "merchantSubscriptionId",
        "subscriptionId",
        "state",
        "authWorkflowType",
        "amountType",
        "maxAmount",
        "frequency",
        "expireAt",
        "pauseStartDate",
        "pauseEndDate",
    }


def test_fault_on_notify_dropped_after_commit_then_order_exists(ap: AutoPay) -> None:
    ap.active()
    rule = {"action": "drop_after_commit", "path": "/subscriptions/v2/notify", "times": 1}
    assert ap.control.post("/faults", json=rule).status_code == 201
    with pytest.raises(httpx.TransportError):
        ap.api.post("/subscriptions/v2/notify", json=notify_body("red-1"))
    ap.advance(2)
    assert ap.order("red-1")["state"] == "NOTIFIED"  # acted on, answer lost
    again = ap.api.post("/subscriptions/v2/notify", json=notify_body("red-1"))
    assert again.status_code == 400  # a retry with the same id is refused, not a 2nd debit


def test_production_pg_prefix_serves_subscriptions(ap: AutoPay, sandbox: RunningSandbox) -> None:
    with httpx.Client(base_url=sandbox.url + "/apis/pg", trust_env=False) as pg:
        pg.headers["Authorization"] = ap.api.headers["Authorization"]
        assert pg.post("/subscriptions/v2/setup", json=setup_body()).status_code == 200
    hermes = httpx.post(sandbox.url + "/apis/hermes/subscriptions/v2/setup", json=setup_body())
    assert hermes.json() == {"message": "Bad Request - Api Mapping Not Found"}


def test_reset_then_mandates_forgotten(ap: AutoPay) -> None:
    ap.active()
    assert ap.control.post("/reset").status_code == 200
    assert ap.control.get("/subscriptions").json()["subscriptions"] == []


def test_webhook_chaos_settings_then_apply_to_subscription_events(
    ap: AutoPay, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    ap.control.put("/webhooks/config", json={"url": url, "duplicates": 1})
    ap.active()
    wait_for(lambda: len(hook.requests) >= 2, what="the event and its duplicate")
    assert [b["event"] for b in hook.bodies()] == ["subscription.setup.order.completed"] * 2
    ap.control.put("/webhooks/config", json={"duplicates": 0, "drop": True})
    ap.act("sub-1", "REVOKE")
    logged = ap.control.get("/webhooks").json()["deliveries"]
    assert (logged[-1]["event"], logged[-1]["state"]) == ("subscription.revoked", "dropped")
