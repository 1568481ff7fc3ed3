"""PhonePe's official Python SDK, ``SubscriptionClient`` (UPI AutoPay), against a local
``phonepe sandbox``.

Run by ``test_official_sdk_subscriptions.py`` with the python of the SDK's own virtualenv,
never imported by pytest. As in ``sdk_flow.py``: only the SDK's base URLs change (pointed
at the sandbox's ``/apis/pg-sandbox`` before any SDK module reads them), telemetry is
off, and every request the SDK makes must go to loopback.

Steps: token; set-up by UPI intent (the customer approves in the simulated UPI app:
control API); subscription and set-up order status; notify; the notification lands; a
redeem inside the 24-hour notice is refused; redeem after it; the debit completes
(order and transaction status); refund of the debit; a UPI collect set-up the customer
declines; merchant cancel; callback validation of the subscription webhooks. Prints one
JSON line per step; exits 1 if any step failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import urllib.parse
from collections.abc import Callable
from typing import Any

from sdk_flow import LOOPBACK, WebhookReceiver, check

DAY = 86400


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sandbox", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--client-version", type=int, default=1)
    parser.add_argument("--webhook-username", required=True)
    parser.add_argument("--webhook-password", required=True)
    args = parser.parse_args()
    sandbox = args.sandbox.rstrip("/")
    if urllib.parse.urlsplit(sandbox).hostname not in LOOPBACK:
        print(json.dumps({"step": "setup", "ok": False, "detail": "sandbox must be loopback"}))
        return 1

    from phonepe.sdk.pg.common.constants import base_urls

    uat = sandbox + "/apis/pg-sandbox"
    for name in dir(base_urls):
        if name.endswith("_BASE_URL"):
            setattr(base_urls, name, uat)

    import requests

    real_send = requests.Session.send

    def loopback_only(self: Any, request: Any, **kwargs: Any) -> Any:
        host = urllib.parse.urlsplit(request.url).hostname
        if host not in LOOPBACK:
            raise RuntimeError(f"the SDK tried to reach {host}; only loopback is allowed")
        return real_send(self, request, **kwargs)

    requests.Session.send = loopback_only  # type: ignore[method-assign]

    from phonepe.sdk.pg.common.models.request.pg_payment_request import PgPaymentRequest
    from phonepe.sdk.pg.common.models.request.refund_request import RefundRequest
    from phonepe.sdk.pg.env import Env, get_pg_base_url
    from phonepe.sdk.pg.subscription.v2.models.request.amount_type import AmountType
    from phonepe.sdk.pg.subscription.v2.models.request.auth_workflow_type import (
        AuthWorkflowType,
    )
    from phonepe.sdk.pg.subscription.v2.models.request.frequency import Frequency
    from phonepe.sdk.pg.subscription.v2.models.request.redemption_retry_strategy import (
        RedemptionRetryStrategy,
    )
    from phonepe.sdk.pg.subscription.v2.subscription_client import SubscriptionClient

    hooks = WebhookReceiver()
    results: list[dict[str, Any]] = []

    def step(name: str, action: Callable[[], str]) -> bool:
        try:
            detail = action()
        except Exception as exc:  # every failure is reported, then fails the run
            results.append({"step": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"})
            traceback.print_exc(file=sys.stderr)
            print(json.dumps(results[-1]), flush=True)
            return False
        results.append({"step": name, "ok": True, "detail": detail})
        print(json.dumps(results[-1]), flush=True)
        return True

    def control(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, sandbox + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def advance(seconds: float) -> None:
        control("POST", "/_sandbox/clock/advance", {"seconds": seconds})

    stamp = int(time.time() * 1000)
    sub_id, setup_id, debit_id = f"SDKSUB{stamp}", f"SDKSET{stamp}", f"SDKRED{stamp}"
    state: dict[str, Any] = {}

    def setup() -> str:
        check(get_pg_base_url(Env.SANDBOX) == uat, get_pg_base_url(Env.SANDBOX))
        hooks.start()
        control("PUT", "/_sandbox/webhooks/config", {"url": hooks.url})
        return f"SDK base URLs -> {uat}; webhooks -> {hooks.url}"

    def token() -> str:
        client = SubscriptionClient.get_instance(
            client_id=args.client_id,
            client_secret=args.client_secret,
            client_version=args.client_version,
            env=Env.SANDBOX,
            should_publish_events=False,
        )
        state["client"] = client
        header = client._token_service.get_auth_token()  # the SDK's own token service
        check(isinstance(header, str) and header.startswith("O-Bearer "), header)
        return "token fetched by the SDK"

    def setup_mandate() -> str:
        request = PgPaymentRequest.build_subscription_setup_upi_intent(
            merchant_order_id=setup_id,
            merchant_subscription_id=sub_id,
            amount=100,
            max_amount=59_900,
            auth_workflow_type=AuthWorkflowType.TRANSACTION,
            amount_type=AmountType.VARIABLE,
            frequency=Frequency.MONTHLY,
            device_os="ANDROID",
            target_app="com.phonepe.app",
        )
        response = state["client"].setup(request)
        check(response.state == "PENDING", response)
        check(response.intent_url and response.intent_url.startswith("upi://mandate?"), response)
        state["intent_url"] = response.intent_url
        return f"set-up order {response.order_id} PENDING, {response.intent_url[:40]}…"

    def customer_approves() -> str:
        link = urllib.parse.quote(state["intent_url"], safe="")
        page = requests.get(f"{sandbox}/upi-app/mandate?link={link}", timeout=10)
        check(page.status_code == 200 and sub_id in page.text, page.status_code)
        view = control("POST", f"/_sandbox/subscriptions/{sub_id}", {"action": "APPROVE"})
        check(view["state"] == "ACTIVE", view)
        return "approved in the simulated UPI app"

    def subscription_status() -> str:
        status = state["client"].get_subscription_status(sub_id)
        check(status.state == "ACTIVE", status)
        check(status.max_amount == 59_900 and status.frequency == Frequency.MONTHLY, status)
        check(status.subscription_id and status.subscription_id.startswith("OMS"), status)
        return f"ACTIVE, {status.subscription_id}"

    def setup_order_status() -> str:
        status = state["client"].get_order_status(setup_id)
        check(status.state == "COMPLETED", status)
        flow = status.payment_flow
        check(type(flow).__name__ == "SubscriptionSetupPaymentFlowResponse", flow)
        check(flow.merchant_subscription_id == sub_id, flow)
        return f"COMPLETED, flow {flow.type}"

    def notify() -> str:
        request = PgPaymentRequest.build_subscription_notify_request(
            merchant_order_id=debit_id,
            merchant_subscription_id=sub_id,
            amount=59_900,
            redemption_retry_strategy=RedemptionRetryStrategy.STANDARD,
            auto_debit=False,
        )
        response = state["client"].notify(request)
        check(response.state == "NOTIFICATION_IN_PROGRESS", response)
        return f"redemption {response.order_id} {response.state}"

    def notified() -> str:
        advance(2)
        status = state["client"].get_order_status(debit_id)
        check(status.state == "NOTIFIED", status)
        flow = status.payment_flow
        check(type(flow).__name__ == "SubscriptionRedemptionPaymentFlowResponse", flow)
        check(flow.valid_after - flow.notified_at == DAY * 1000, flow)
        return f"NOTIFIED; debit allowed from {flow.valid_after}"

    def redeem_too_early() -> str:
        try:
            state["client"].redeem(debit_id)
        except Exception as exc:  # the SDK raises BadRequest (400)
            check(getattr(exc, "http_status_code", None) == 400, exc)
            return "refused inside the 24-hour notice (400)"
        raise AssertionError("redeem inside the notice period was accepted")

    def redeem() -> str:
        advance(DAY)
        response = state["client"].redeem(debit_id)
        check(response.state == "PENDING" and response.transaction_id, response)
        state["transaction_id"] = response.transaction_id
        return f"transaction {response.transaction_id} PENDING"

    def debit_completed() -> str:
        advance(3)
        status = state["client"].get_order_status(debit_id)
        check(status.state == "COMPLETED" and status.amount == 59_900, status)
        detail = status.payment_details[0]
        check(detail.payment_mode.value == "UPI_AUTO_PAY", detail)
        txn = state["client"].get_transaction_status(state["transaction_id"])
        check(txn.state == "COMPLETED", txn)
        return f"COMPLETED by {detail.payment_mode.value}"

    def refund() -> str:
        refund_id = debit_id + "R"
        request = RefundRequest.build_refund_request(
            merchant_refund_id=refund_id, amount=10_000, original_merchant_order_id=debit_id
        )
        response = state["client"].refund(request)
        check(response.state == "PENDING", response)
        status = state["client"].get_refund_status(refund_id)
        check(status.original_merchant_order_id == debit_id, status)
        return f"refund {response.refund_id} {status.state}"

    def collect_declined() -> str:
        request = PgPaymentRequest.build_subscription_setup_upi_collect(
            merchant_order_id=setup_id + "C",
            merchant_subscription_id=sub_id + "C",
            amount=100,
            max_amount=10_000,
            vpa="sdk.driver@ybl",
            auth_workflow_type=AuthWorkflowType.TRANSACTION,
            amount_type=AmountType.FIXED,
            frequency=Frequency.WEEKLY,
        )
        response = state["client"].setup(request)
        check(response.state == "PENDING" and not response.intent_url, response)
        control(
            "POST",
            f"/_sandbox/subscriptions/{sub_id}C",
            {"action": "DECLINE", "reason": "DECLINED"},
        )
        status = state["client"].get_subscription_status(sub_id + "C")
        check(status.state == "FAILED", status)
        return "collect set-up declined -> FAILED"

    def cancel() -> str:
        check(state["client"].cancel_subscription(sub_id) is None, "cancel")
        status = state["client"].get_subscription_status(sub_id)
        check(status.state == "CANCELLED", status)
        return "CANCELLED by the merchant"

    def callback() -> str:
        wanted = {
            "subscription.setup.order.completed",
            "subscription.notification.completed",
            "subscription.redemption.order.completed",
            "subscription.setup.order.failed",
            "subscription.cancelled",
        }
        seen = []
        for header, body in hooks.wait_for(wanted, timeout=10):
            parsed = state["client"].validate_callback(
                username=args.webhook_username,
                password=args.webhook_password,
                callback_header_data=header,
                callback_response_data=body,
            )
            check(parsed.type is not None and parsed.payload.state, parsed)
            seen.append(f"{parsed.type.value}:{parsed.payload.state}")
        return ", ".join(sorted(set(seen)))

    ok = True
    for name, action in (
        ("setup", setup),
        ("token", token),
        ("setup_mandate", setup_mandate),
        ("customer_approves", customer_approves),
        ("subscription_status", subscription_status),
        ("setup_order_status", setup_order_status),
        ("notify", notify),
        ("notified", notified),
        ("redeem_too_early", redeem_too_early),
        ("redeem", redeem),
        ("debit_completed", debit_completed),
        ("refund", refund),
        ("collect_declined", collect_declined),
        ("cancel", cancel),
        ("callback", callback),
    ):
        if not step(name, action):
            ok = False
            break
    hooks.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
