"""PhonePe's official Python SDK, standard checkout, against a local ``phonepe sandbox``.

Run by ``test_official_sdk.py`` with the python of the SDK's own virtualenv (the SDK pins
old requests/urllib3), never imported by pytest. Only the SDK's base URLs change: its
base-URL constants are pointed at the sandbox (with the UAT prefix ``/apis/pg-sandbox``,
as the SDK uses for ``Env.SANDBOX``) before any other SDK module reads them. Telemetry is
off (``should_publish_events=False``) and every HTTP request the SDK makes is checked to
go to 127.0.0.1, so nothing leaves the machine.

Steps: token, pay, the customer pays (sandbox control API), order status, refund,
refund status (PENDING, then COMPLETED after the sandbox clock moves), and callback
validation of the webhooks the sandbox delivered, with the sandbox's webhook
credentials. Prints one JSON line per step; exits 1 if any step failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check(condition: object, got: object) -> None:
    """Like ``assert``, but not stripped by ``python -O``."""
    if not condition:
        raise AssertionError(f"unexpected: {got!r}")


class Flow:
    """What every flow shares: its arguments, the SDK pointed at the sandbox with nothing
    leaving the machine, one JSON line per step, the sandbox's control API and a webhook
    receiver. ``start`` returns None (after saying why) when the sandbox is not loopback."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sandbox: str = args.sandbox.rstrip("/")
        self.uat = self.sandbox + "/apis/pg-sandbox"
        self.hooks = WebhookReceiver()
        self.results: list[dict[str, Any]] = []

    @classmethod
    def start(cls) -> Flow | None:
        parser = argparse.ArgumentParser()
        parser.add_argument("--sandbox", required=True, help="http://127.0.0.1:PORT")
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--client-version", type=int, default=1)
        parser.add_argument("--webhook-username", required=True)
        parser.add_argument("--webhook-password", required=True)
        flow = cls(parser.parse_args())
        if urllib.parse.urlsplit(flow.sandbox).hostname not in LOOPBACK:
            print(json.dumps({"step": "setup", "ok": False, "detail": "sandbox must be loopback"}))
            return None
        flow._point_the_sdk()
        return flow

    def _point_the_sdk(self) -> None:
        # 1. Only the base URLs change (every ``*_BASE_URL``, the PCI host of card and token
        #    payments included), before any SDK module copies them.
        from phonepe.sdk.pg.common.constants import base_urls

        for name in dir(base_urls):
            if name.endswith("_BASE_URL"):
                setattr(base_urls, name, self.uat)

        # 2. Nothing leaves the machine: refuse any non-loopback request the SDK might make.
        import requests

        real_send = requests.Session.send

        def loopback_only(session: Any, request: Any, **kwargs: Any) -> Any:
            host = urllib.parse.urlsplit(request.url).hostname
            if host not in LOOPBACK:
                raise RuntimeError(f"the SDK tried to reach {host}; only loopback is allowed")
            return real_send(session, request, **kwargs)

        requests.Session.send = loopback_only  # type: ignore[method-assign]

    def step(self, name: str, action: Callable[[], str]) -> bool:
        try:
            detail = action()
        except Exception as exc:  # every failure is reported, then fails the run
            self.results.append(
                {"step": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"}
            )
            traceback.print_exc(file=sys.stderr)
            print(json.dumps(self.results[-1]), flush=True)
            return False
        self.results.append({"step": name, "ok": True, "detail": detail})
        print(json.dumps(self.results[-1]), flush=True)
        return True

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import requests

        response = requests.request(method, self.sandbox + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def run(self, steps: Iterable[tuple[str, Callable[[], str]]]) -> int:
        """Run the steps in order, stopping at the first failure; the exit status."""
        try:
            ok = all(self.step(name, action) for name, action in steps)
        finally:
            self.hooks.stop()
        return 0 if ok else 1


def main() -> int:
    flow = Flow.start()
    if flow is None:
        return 1
    args, uat = flow.args, flow.uat

    from phonepe.sdk.pg.common.models.request.refund_request import RefundRequest
    from phonepe.sdk.pg.env import Env, get_oauth_base_url, get_pg_base_url
    from phonepe.sdk.pg.payments.v2.models.request.standard_checkout_pay_request import (
        StandardCheckoutPayRequest,
    )
    from phonepe.sdk.pg.payments.v2.standard_checkout_client import StandardCheckoutClient

    hooks, control = flow.hooks, flow.control

    order_id = f"SDKFLOW{int(time.time() * 1000)}"
    refund_id = order_id + "R"
    state: dict[str, Any] = {}

    def setup() -> str:
        check(get_pg_base_url(Env.SANDBOX) == uat, get_pg_base_url(Env.SANDBOX))
        check(get_oauth_base_url(Env.SANDBOX) == uat, get_oauth_base_url(Env.SANDBOX))
        hooks.start()
        control("PUT", "/_sandbox/webhooks/config", {"url": hooks.url})
        return f"SDK base URLs -> {uat}; webhooks -> {hooks.url}"

    def token() -> str:
        client = StandardCheckoutClient.get_instance(
            client_id=args.client_id,
            client_secret=args.client_secret,
            client_version=args.client_version,
            env=Env.SANDBOX,
            should_publish_events=False,
        )
        state["client"] = client
        header = client._token_service.get_auth_token()  # the SDK's own token service
        check(isinstance(header, str) and header.startswith("O-Bearer "), header)
        return "token fetched by the SDK: O-Bearer …" + header[-4:]

    def pay() -> str:
        request = StandardCheckoutPayRequest.build_request(
            merchant_order_id=order_id, amount=1000, redirect_url="http://127.0.0.1:9/return"
        )
        response = state["client"].pay(request)
        check(response.state == "PENDING", response)
        check(response.order_id and response.redirect_url, response)
        check(urllib.parse.urlsplit(response.redirect_url).hostname in LOOPBACK, response)
        return f"order {response.order_id} PENDING, checkout {response.redirect_url}"

    def customer_pays() -> str:
        order = control("POST", f"/_sandbox/orders/{order_id}/complete", {"paymentMode": "UPI_QR"})
        return f"sandbox order state {order.get('state')}"

    def order_status() -> str:
        status = state["client"].get_order_status(order_id, details=True)
        check(status.state == "COMPLETED", status)
        check(status.amount == 1000, status)
        check(status.payment_details and status.payment_details[0].state == "COMPLETED", status)
        return f"COMPLETED, {len(status.payment_details)} attempt(s), mode {status.payment_details[0].payment_mode}"

    def refund() -> str:
        request = RefundRequest.build_refund_request(
            merchant_refund_id=refund_id, amount=1000, original_merchant_order_id=order_id
        )
        response = state["client"].refund(request)
        check(response.state == "PENDING", response)
        check(response.refund_id and response.amount == 1000, response)
        return f"refund {response.refund_id} PENDING"

    def refund_status() -> str:
        first = state["client"].get_refund_status(refund_id)
        check(first.state in ("PENDING", "CONFIRMED"), first)
        check(first.original_merchant_order_id == order_id and first.amount == 1000, first)
        # past the refund settlement delay; far less than the token lifetime the SDK caches by
        # wall clock (it does not retry a 401 with a fresh token)
        control("POST", "/_sandbox/clock/advance", {"seconds": 60})
        deadline = time.monotonic() + 10
        last = first
        while time.monotonic() < deadline:
            last = state["client"].get_refund_status(refund_id)
            if last.state == "COMPLETED":
                break
            time.sleep(0.1)
        check(last.state == "COMPLETED", last)
        return f"{first.state} -> COMPLETED"

    def callback() -> str:
        wanted = {"checkout.order.completed", "pg.refund.completed"}
        deliveries = hooks.wait_for(wanted, timeout=10)
        seen = []
        for header, body in deliveries:
            parsed = state["client"].validate_callback(
                username=args.webhook_username,
                password=args.webhook_password,
                callback_header_data=header,
                callback_response_data=body,
            )
            check(parsed.payload.state in ("COMPLETED",), parsed)
            seen.append(f"{parsed.event}:{parsed.payload.state}")
        try:
            state["client"].validate_callback(
                username=args.webhook_username,
                password=args.webhook_password + "x",
                callback_header_data=deliveries[0][0],
                callback_response_data=deliveries[0][1],
            )
        except Exception:  # the SDK raises PhonePeException(417)
            pass
        else:
            raise AssertionError("validate_callback accepted the wrong password")
        return ", ".join(sorted(seen))

    return flow.run(
        (
            ("setup", setup),
            ("token", token),
            ("pay", pay),
            ("customer_pays", customer_pays),
            ("order_status", order_status),
            ("refund", refund),
            ("refund_status", refund_status),
            ("callback", callback),
        )
    )


class WebhookReceiver:
    """A loopback endpoint the sandbox delivers webhooks to (answers 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                with receiver.lock:
                    receiver.received.append((self.headers.get("authorization") or "", body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/phonepe/webhook"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_for(self, events: set[str], *, timeout: float) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                got = [(h, b) for h, b in self.received if json.loads(b).get("event") in events]
            if {json.loads(b).get("event") for _, b in got} >= events:
                return got
            if time.monotonic() > deadline:
                names = [json.loads(b).get("event") for _, b in self.received]
                raise AssertionError(f"webhooks received: {names}; wanted {sorted(events)}")
            time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
