"""PhonePe's official Python SDK (3.0.1), ``SubscriptionClient``, runs a whole UPI AutoPay
life against our sandbox: set-up, approval in the simulated UPI app, notify, the 24-hour
notice, redeem, the debit, refund, a declined collect set-up, cancel and the webhooks.

Same rig as ``test_official_sdk.py`` (a ``phonepe sandbox`` process on a free loopback
port; ``sdk_subscription_flow.py`` under the SDK's own venv). The sandbox's tokens live
ten days here: the flow moves the sandbox clock past the 24-hour notice and the SDK
judges its cached token by the wall clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .test_official_sdk import (
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_PASSWORD,
    WEBHOOK_USERNAME,
    Sandbox,
    free_port,
    sandbox_command,
    sdk_python,
)

FLOW = Path(__file__).with_name("sdk_subscription_flow.py")
STEPS = [
    "setup",
    "token",
    "setup_mandate",
    "customer_approves",
    "subscription_status",
    "setup_order_status",
    "notify",
    "notified",
    "redeem_too_early",
    "redeem",
    "debit_completed",
    "refund",
    "collect_declined",
    "cancel",
    "callback",
]


@pytest.fixture
def long_token_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    port = free_port()
    log = (tmp_path / "sandbox.log").open("wb")
    command = [*sandbox_command(port), "--token-ttl=864000"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.flush()
                pytest.fail("phonepe sandbox exited: " + (tmp_path / "sandbox.log").read_text())
            try:
                if httpx.get(url + "/_sandbox", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("phonepe sandbox did not start within 30 s")
            time.sleep(0.1)
        yield Sandbox(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def test_official_sdk_subscription_flow_against_the_sandbox(long_token_sandbox: Sandbox) -> None:
    python = sdk_python()
    sandbox = long_token_sandbox
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(FLOW.parent),  # sdk_flow.py's receiver and checks
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
    # The SDK really drove this sandbox: its mandate is there, debited once and cancelled.
    found = httpx.get(sandbox.url + "/_sandbox/subscriptions", timeout=5).json()["subscriptions"]
    mine = {s["merchantSubscriptionId"]: s for s in found}
    main = next(s for k, s in mine.items() if k.startswith("SDKSUB") and not k.endswith("C"))
    assert main["state"] == "CANCELLED"
    assert [r["state"] for r in main["redemptions"]] == ["COMPLETED"]
