"""PhonePe's official Python SDK (3.0.1): ``CustomCheckoutClient`` for every instrument,
``create_sdk_order`` on both clients and ``get_transaction_status``, against the sandbox.

Same rig as ``test_official_sdk.py`` (its ``sandbox`` fixture starts ``phonepe sandbox``
on a free loopback port; ``sdk_custom_flow.py`` runs under the SDK's own venv). The
customer's side is the sandbox's real pages: the simulated UPI app's form, its collect
inbox, the bank page's OTP step; the control API only where a tester would use it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx

from .test_official_sdk import (
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_PASSWORD,
    WEBHOOK_USERNAME,
    Sandbox,
    sandbox,  # noqa: F401 -- the fixture
    sdk_python,
)

FLOW = Path(__file__).with_name("sdk_custom_flow.py")
STEPS = [
    "setup",
    "pay_intent",
    "intent_status",
    "transaction_status",
    "refund",
    "qr_declined",
    "collect_vpa",
    "collect_phone",
    "net_banking",
    "card",
    "token",
    "sdk_orders",
    "standard_transaction_status",
    "callback",
]


def test_official_sdk_custom_checkout_flows_against_the_sandbox(sandbox: Sandbox) -> None:  # noqa: F811
    python = sdk_python()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [
            str(python),
            str(FLOW),
            f"--sandbox={sandbox.url}",
            f"--client-id={CLIENT_ID}",
            f"--client-secret={CLIENT_SECRET}",
            f"--webhook-username={WEBHOOK_USERNAME}",
            f"--webhook-password={WEBHOOK_PASSWORD}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    failed = [s for s in steps if not s["ok"]]
    why = f"official SDK step failed: {failed}\n{done.stderr[-3000:]}"
    assert not failed, why
    assert done.returncode == 0, why
    assert [s["step"] for s in steps] == STEPS
    # The SDK really drove this sandbox: every instrument's order is there, as expected.
    orders = httpx.get(sandbox.url + "/_sandbox/orders", timeout=5).json()["orders"]
    by_kind = {
        o["merchantOrderId"].removeprefix("SDKCUSTOM").rstrip("0123456789"): o
        for o in orders
        if o["merchantOrderId"].startswith("SDKCUSTOM")
    }
    assert {k: o["state"] for k, o in by_kind.items()} == {
        "INTENT": "COMPLETED",
        "QR": "FAILED",
        "VPA": "COMPLETED",
        "PHONE": "PENDING",
        "NB": "COMPLETED",
        "CARD": "COMPLETED",
        "TOKEN": "COMPLETED",
        "SDKC": "PENDING",
        "SDKS": "COMPLETED",
    }
    assert by_kind["INTENT"]["refundedAmount"] == 500
    modes = {
        k: o["paymentDetails"][0]["paymentMode"] for k, o in by_kind.items() if o["paymentDetails"]
    }
    assert (modes["CARD"], modes["TOKEN"], modes["NB"]) == ("CARD", "TOKEN", "NET_BANKING")
    assert "ENCRYPTED" not in json.dumps(orders)
