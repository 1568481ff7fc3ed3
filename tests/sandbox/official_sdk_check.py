"""Manual check: PhonePe's official Python SDK against the sandbox (not collected by pytest).

The SDK pins old ``requests``/``urllib3``, so it lives in its own virtualenv, never in
the project's. Its base URLs are module constants; the check swaps them for the
sandbox's (scheme, host and port only) and runs the whole generation 2 flow: token, pay,
customer pays on the checkout page, order and transaction status, refund, refund
status, settlement, callback validation, 404 mapping. Events to PhonePe are off in the
SDK's sandbox mode, and the ingestion URL is pointed at the sandbox as well, so nothing
leaves loopback.

    python3 -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install phonepe-pg-sdk-python==3.0.1
    .venv/bin/phonepe sandbox --port 8377 &
    /tmp/sdkvenv/bin/python tests/sandbox/official_sdk_check.py http://127.0.0.1:8377
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid

import requests  # type: ignore[import-untyped]


def main(base: str) -> None:
    import phonepe.sdk.pg.common.base_client as base_client  # type: ignore[import-not-found]
    import phonepe.sdk.pg.common.token_handler.token_service as token_service  # type: ignore[import-not-found]

    base_client.get_pg_base_url = lambda env: base + "/apis/pg-sandbox"
    base_client.get_pci_pg_base_url = lambda env: base + "/apis/pg-sandbox"
    base_client.get_event_ingestion_base_url = lambda env: base + "/nowhere"
    token_service.get_oauth_base_url = lambda env: base + "/apis/pg-sandbox"

    from phonepe.sdk.pg.common.models.request.meta_info import MetaInfo  # type: ignore[import-not-found]
    from phonepe.sdk.pg.common.models.request.refund_request import RefundRequest  # type: ignore[import-not-found]
    from phonepe.sdk.pg.env import Env  # type: ignore[import-not-found]
    from phonepe.sdk.pg.payments.v2.models.request.standard_checkout_pay_request import (  # type: ignore[import-not-found]
        StandardCheckoutPayRequest,
    )
    from phonepe.sdk.pg.payments.v2.standard_checkout_client import StandardCheckoutClient  # type: ignore[import-not-found]

    client = StandardCheckoutClient.get_instance(
        "PGSANDBOXCLIENT", "sandbox-client-secret", 1, Env.SANDBOX, should_publish_events=False
    )
    moid = "sdk-" + uuid.uuid4().hex[:10]
    pay = client.pay(
        StandardCheckoutPayRequest.build_request(
            merchant_order_id=moid,
            amount=10_000,
            redirect_url="http://127.0.0.1:9/back",
            meta_info=MetaInfo(udf1="a"),
        )
    )
    assert pay.state == "PENDING", pay
    print("pay", pay.state, pay.redirect_url)
    requests.post(
        pay.redirect_url, data={"action": "pay", "mode": "UPI_QR"}, allow_redirects=False, timeout=5
    )
    status = client.get_order_status(moid, details=True)
    assert status.state == "COMPLETED"
    assert status.amount == 10_000
    txn = status.payment_details[0].transaction_id
    print("status", status.state, status.payment_details[0].payment_mode, txn)
    assert client.get_transaction_status(txn).state == "COMPLETED"
    refund = client.refund(
        RefundRequest.build_refund_request(
            merchant_refund_id=moid + "-r", original_merchant_order_id=moid, amount=1000
        )
    )
    assert refund.state == "PENDING"
    assert refund.amount == 1000
    assert client.get_refund_status(moid + "-r").state == "PENDING"
    requests.post(base + "/_sandbox/clock/advance", json={"seconds": 10}, timeout=5)
    assert client.get_refund_status(moid + "-r").state == "COMPLETED"
    print("refund", refund.refund_id, "COMPLETED after settlement")
    deliveries = requests.get(base + "/_sandbox/webhooks", timeout=5).json()["deliveries"]
    body = json.dumps(deliveries[0]["body"])
    auth = hashlib.sha256(b"sandboxhook:sandboxpass1").hexdigest()
    callback = client.validate_callback("sandboxhook", "sandboxpass1", auth, body)
    assert callback.payload.merchant_order_id == moid
    print("callback", callback.event, callback.payload.state)
    try:
        client.get_order_status("does-not-exist")
    except Exception as exc:  # the SDK's own exception type
        status_code = getattr(exc, "http_status_code", None)
        print("unknown order ->", type(exc).__name__, status_code, getattr(exc, "code", None))
    else:
        status_code = None
    if status_code != 404:
        raise AssertionError("an unknown order must be a 404")
    print("official SDK: every call OK")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8300")
