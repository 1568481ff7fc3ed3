"""PhonePe's official Python SDK (3.0.1), ``SubscriptionClient``, runs a whole UPI AutoPay
life against our sandbox: set-up, approval in the simulated UPI app, notify, the 24-hour
notice, redeem, the debit, refund, a declined collect set-up, cancel and the webhooks.

Same rig as ``test_official_sdk.py`` (a ``phonepe sandbox`` process on a free loopback
port; ``sdk_subscription_flow.py`` under the SDK's own venv). The sandbox's tokens live
ten days here: the flow moves the sandbox clock past the 24-hour notice and the SDK
judges its cached token by the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .test_official_sdk import Sandbox, run_flow, running_sandbox

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
    with running_sandbox(tmp_path, "--token-ttl=864000") as running:
        yield running


def test_official_sdk_subscription_flow_against_the_sandbox(long_token_sandbox: Sandbox) -> None:
    sandbox = long_token_sandbox
    run_flow(FLOW, sandbox, STEPS)
    # The SDK really drove this sandbox: its mandate is there, debited once and cancelled.
    found = httpx.get(sandbox.url + "/_sandbox/subscriptions", timeout=5).json()["subscriptions"]
    mine = {s["merchantSubscriptionId"]: s for s in found}
    main = next(s for k, s in mine.items() if k.startswith("SDKSUB") and not k.endswith("C"))
    assert main["state"] == "CANCELLED"
    assert [r["state"] for r in main["redemptions"]] == ["COMPLETED"]
