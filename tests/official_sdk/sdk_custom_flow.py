"""PhonePe's official Python SDK: custom checkout, SDK orders and transaction status, against
a local ``phonepe sandbox``.

Run by ``test_official_sdk_custom.py`` with the python of the SDK's own virtualenv, never
imported by pytest. As in ``sdk_flow.py`` only the SDK's base URLs change (every
``*_BASE_URL``, the PCI host of card and token payments included), telemetry is off and
every request the SDK makes must go to loopback.

Steps (``CustomCheckoutClient`` unless named): UPI intent paid in the simulated UPI app's
page (the form a person submits), order status, transaction status, refund and its
status; UPI QR declined for a wrong PIN (control API); UPI collect by VPA paid from the
app's inbox and by phone left pending; net banking, card and token paid on the bank page
with the OTP; ``create_sdk_order`` on both clients and ``StandardCheckoutClient
.get_transaction_status``; callback validation of the webhooks the sandbox delivered.
Prints one JSON line per step; exits 1 if any step failed.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
import traceback
import urllib.parse
from collections.abc import Callable
from typing import Any

from sdk_flow import LOOPBACK, WebhookReceiver, check

REDIRECT = "http://127.0.0.1:9/return"


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
    from phonepe.sdk.pg.env import Env, get_pci_pg_base_url, get_pg_base_url
    from phonepe.sdk.pg.payments.v2.custom_checkout_client import CustomCheckoutClient
    from phonepe.sdk.pg.payments.v2.models.request.create_sdk_order_request import (
        CreateSdkOrderRequest,
    )
    from phonepe.sdk.pg.payments.v2.standard_checkout_client import StandardCheckoutClient

    hooks = WebhookReceiver()
    results: list[dict[str, Any]] = []
    stamp = int(time.time() * 1000)
    ids = {
        k: f"SDKCUSTOM{k.upper()}{stamp}"
        for k in ("intent", "qr", "vpa", "phone", "nb", "card", "token", "sdkc", "sdks")
    }
    state: dict[str, Any] = {}

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

    def client() -> Any:
        return state["custom"]

    def setup() -> str:
        check(get_pg_base_url(Env.SANDBOX) == uat, get_pg_base_url(Env.SANDBOX))
        check(get_pci_pg_base_url(Env.SANDBOX) == uat, get_pci_pg_base_url(Env.SANDBOX))
        hooks.start()
        control("PUT", "/_sandbox/webhooks/config", {"url": hooks.url})
        state["custom"] = CustomCheckoutClient.get_instance(
            client_id=args.client_id,
            client_secret=args.client_secret,
            client_version=args.client_version,
            env=Env.SANDBOX,
            should_publish_events=False,
        )
        state["standard"] = StandardCheckoutClient.get_instance(
            client_id=args.client_id,
            client_secret=args.client_secret,
            client_version=args.client_version,
            env=Env.SANDBOX,
            should_publish_events=False,
        )
        return f"SDK base URLs (PCI too) -> {uat}; webhooks -> {hooks.url}"

    def upi_app_pay(link: str, outcome: str, **extra: str) -> str:
        """Submit the simulated UPI app's form, as a browser does; the page it lands on."""
        form = {"link": link, "outcome": outcome, **extra}
        done = requests.post(sandbox + "/upi-app/pay", data=form, timeout=10)
        done.raise_for_status()
        return done.text

    def pay_intent() -> str:
        request = PgPaymentRequest.build_upi_intent_pay_request(
            merchant_order_id=ids["intent"],
            amount=2500,
            device_os="ANDROID",
            target_app="com.phonepe.app",
        )
        response = client().pay(request)
        check(response.state == "PENDING" and response.order_id, response)
        check(response.intent_url and response.intent_url.startswith("upi://pay?"), response)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response.intent_url).query))
        check(query.get("am") == "25.00" and query.get("tr") == response.order_id, query)
        page = upi_app_pay(response.intent_url, "PAY", pin="1234")
        check('data-state="ok"' in page, page[-500:])
        return f"intentUrl {response.intent_url[:40]}…; paid in /upi-app"

    def intent_status() -> str:
        status = client().get_order_status(ids["intent"], details=True)
        check(status.state == "COMPLETED" and status.amount == 2500, status)
        detail = status.payment_details[0]
        check(
            str(getattr(detail.payment_mode, "value", detail.payment_mode)) == "UPI_INTENT", detail
        )
        state["intent_txn"] = detail.transaction_id
        return f"COMPLETED by UPI_INTENT, transaction {detail.transaction_id}"

    def transaction_status() -> str:
        status = client().get_transaction_status(state["intent_txn"])
        check(status.state == "COMPLETED", status)
        check(status.payment_details[0].transaction_id == state["intent_txn"], status)
        return "transaction COMPLETED"

    def refund() -> str:
        refund_id = ids["intent"] + "R"
        response = client().refund(
            RefundRequest.build_refund_request(
                merchant_refund_id=refund_id, amount=500, original_merchant_order_id=ids["intent"]
            )
        )
        check(response.state == "PENDING" and response.amount == 500, response)
        control("POST", "/_sandbox/clock/advance", {"seconds": 60})
        deadline = time.monotonic() + 10
        last = client().get_refund_status(refund_id)
        while last.state != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(0.1)
            last = client().get_refund_status(refund_id)
        check(last.state == "COMPLETED", last)
        return "partial refund 500 paise COMPLETED"

    def qr_declined() -> str:
        response = client().pay(
            PgPaymentRequest.build_upi_qr_pay_request(merchant_order_id=ids["qr"], amount=1500)
        )
        check(response.qr_data and response.qr_data.startswith("upi://pay?"), response)
        control(
            "POST",
            "/_sandbox/upi/pay",
            {"link": response.qr_data, "outcome": "DECLINE", "reason": "INVALID_MPIN"},
        )
        status = client().get_order_status(ids["qr"])
        check(
            (status.state, status.error_code, status.detailed_error_code)
            == ("FAILED", "INVALID_MPIN", "ZM"),
            status,
        )
        return "qrData declined in the UPI app: FAILED INVALID_MPIN/ZM"

    def collect_vpa() -> str:
        response = client().pay(
            PgPaymentRequest.build_upi_collect_pay_via_vpa_request(
                merchant_order_id=ids["vpa"], amount=1200, vpa="driver@ybl", message="Bay 7"
            )
        )
        check(response.state == "PENDING", response)
        inbox = requests.get(sandbox + "/upi-app", params={"vpa": "driver@ybl"}, timeout=10).text
        hrefs = re.findall(r'href="([^"]+)" data-testid="collect-request"', inbox)
        check(len(hrefs) == 1, inbox[-800:])
        page = requests.get(sandbox + html.unescape(hrefs[0]), timeout=10).text
        (link,) = re.findall(r'name="link" value="([^"]+)"', page)
        check(
            'data-state="ok"' in upi_app_pay(html.unescape(link), "PAY", pin="654321"), "paid page"
        )
        status = client().get_order_status(ids["vpa"])
        check(status.state == "COMPLETED", status)
        return "collect to driver@ybl paid from the app's inbox"

    def collect_phone() -> str:
        client().pay(
            PgPaymentRequest.build_upi_collect_pay_via_phone_number_request(
                merchant_order_id=ids["phone"],
                amount=1200,
                phone_number="9876543210",
                message="Bay 8",
            )
        )
        control("POST", f"/_sandbox/upi/collect/{ids['phone']}", {"outcome": "PENDING"})
        status = client().get_order_status(ids["phone"], details=True)
        check(status.state == "PENDING" and status.payment_details[0].state == "PENDING", status)
        return "collect by phone left pending"

    def bank(order_id: str, redirect_url: str) -> str:
        check(redirect_url.startswith(sandbox + "/bank/"), redirect_url)
        page = requests.get(redirect_url, timeout=10).text
        check("123456" in page, page[-500:])
        done = requests.post(
            redirect_url, data={"action": "pay", "otp": "123456"}, allow_redirects=False, timeout=10
        )
        check(done.status_code == 303 and done.headers["location"] == REDIRECT, done.headers)
        status = client().get_order_status(order_id)
        check(status.state == "COMPLETED", status)
        return "OTP accepted, back to the merchant, COMPLETED"

    def net_banking() -> str:
        response = client().pay(
            PgPaymentRequest.build_net_banking_pay_request(
                merchant_order_id=ids["nb"], amount=3000, bank_id="HDFC", redirect_url=REDIRECT
            )
        )
        return bank(ids["nb"], response.redirect_url)

    def card() -> str:
        response = client().pay(
            PgPaymentRequest.build_card_pay_request(
                merchant_order_id=ids["card"],
                amount=3000,
                auth_mode="3DS",
                encryption_key_id=7,
                encrypted_card_number="ENCRYPTED-CARD",
                encrypted_cvv="ENCRYPTED-CVV",
                expiry_month="12",
                expiry_year="2030",
                card_holder_name="Sandbox Driver",
                redirect_url=REDIRECT,
            )
        )
        return bank(ids["card"], response.redirect_url)

    def token_pay() -> str:
        response = client().pay(
            PgPaymentRequest.build_token_pay_request(
                merchant_order_id=ids["token"],
                amount=3000,
                auth_mode="3DS",
                encryption_key_id=7,
                encrypted_token="ENCRYPTED-TOKEN",
                encrypted_cvv="ENCRYPTED-CVV",
                cryptogram="CRYPTOGRAM",
                pan_suffix="1111",
                expiry_month="01",
                expiry_year="2031",
                redirect_url=REDIRECT,
            )
        )
        return bank(ids["token"], response.redirect_url)

    def sdk_orders() -> str:
        custom = client().create_sdk_order(
            CreateSdkOrderRequest.build_custom_checkout_request(
                merchant_order_id=ids["sdkc"], amount=1000
            )
        )
        check(custom.token and custom.state == "PENDING" and custom.order_id, custom)
        standard = state["standard"].create_sdk_order(
            CreateSdkOrderRequest.build_standard_checkout_request(
                merchant_order_id=ids["sdks"], amount=1000, redirect_url=REDIRECT
            )
        )
        check(standard.token and standard.state == "PENDING", standard)
        return "tokens for a custom and a standard SDK order"

    def standard_transaction_status() -> str:
        control("POST", f"/_sandbox/orders/{ids['sdks']}/complete", {"paymentMode": "UPI_INTENT"})
        status = state["standard"].get_order_status(ids["sdks"])
        txn = status.payment_details[0].transaction_id
        by_txn = state["standard"].get_transaction_status(txn)
        check(by_txn.state == "COMPLETED" and by_txn.amount == 1000, by_txn)
        custom = client().get_order_status(ids["sdkc"])
        check(custom.state == "PENDING", custom)
        return f"standard SDK order paid; transaction {txn} COMPLETED"

    def callback() -> str:
        wanted = {"checkout.order.completed", "checkout.order.failed", "pg.refund.completed"}
        deliveries = hooks.wait_for(wanted, timeout=10)
        seen = set()
        for header, body in deliveries:
            parsed = client().validate_callback(
                username=args.webhook_username,
                password=args.webhook_password,
                callback_header_data=header,
                callback_response_data=body,
            )
            seen.add(f"{parsed.event}:{parsed.payload.state}")
        check("checkout.order.failed:FAILED" in seen, seen)
        return ", ".join(sorted(seen))

    ok = True
    for name, action in (
        ("setup", setup),
        ("pay_intent", pay_intent),
        ("intent_status", intent_status),
        ("transaction_status", transaction_status),
        ("refund", refund),
        ("qr_declined", qr_declined),
        ("collect_vpa", collect_vpa),
        ("collect_phone", collect_phone),
        ("net_banking", net_banking),
        ("card", card),
        ("token", token_pay),
        ("sdk_orders", sdk_orders),
        ("standard_transaction_status", standard_transaction_status),
        ("callback", callback),
    ):
        if not step(name, action):
            ok = False
            break
    hooks.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
