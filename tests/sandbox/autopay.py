"""Shared helpers for the UPI AutoPay tests: request bodies and a merchant-plus-control
client whose clock jumps re-login (a jump may outlive the OAuth token)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox

from .conftest import get_token

DAY = 86400


def setup_body(
    moid: str = "setup-1",
    msid: str = "sub-1",
    *,
    amount: int = 100,
    max_amount: int = 50_000,
    amount_type: str = "VARIABLE",
    frequency: str = "MONTHLY",
    auth: str = "TRANSACTION",
    mode: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "merchantOrderId": moid,
        "amount": amount,
        "paymentFlow": {
            "type": "SUBSCRIPTION_SETUP",
            "merchantSubscriptionId": msid,
            "authWorkflowType": auth,
            "amountType": amount_type,
            "maxAmount": max_amount,
            "frequency": frequency,
            "paymentMode": mode or {"type": "UPI_INTENT", "targetApp": "com.phonepe.app"},
        },
        "deviceContext": {"deviceOS": "ANDROID"},
    }
    body.update(extra)
    return body


def notify_body(
    moid: str, msid: str = "sub-1", amount: int = 30_000, **flow: Any
) -> dict[str, Any]:
    return {
        "merchantOrderId": moid,
        "amount": amount,
        "paymentFlow": {"type": "SUBSCRIPTION_REDEMPTION", "merchantSubscriptionId": msid, **flow},
    }


class AutoPay:
    """The merchant's API client plus the sandbox's control API and clock."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.sandbox = sandbox
        self.api = httpx.Client(base_url=sandbox.base_url, trust_env=False)
        self.control = httpx.Client(base_url=sandbox.url + "/_sandbox", trust_env=False)
        self._login()

    def _login(self) -> None:
        self.api.headers["Authorization"] = "O-Bearer " + get_token(self.api)

    def advance(self, seconds: float) -> None:
        answer = self.control.post("/clock/advance", json={"seconds": seconds})
        assert answer.status_code == 200, answer.text
        self._login()  # the old token may have expired on the way

    def act(self, msid: str, action: str, **extra: Any) -> httpx.Response:
        return self.control.post(f"/subscriptions/{msid}", json={"action": action, **extra})

    def status(self, msid: str = "sub-1") -> dict[str, Any]:
        answer = self.api.get(f"/subscriptions/v2/{msid}/status")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def order(self, moid: str) -> dict[str, Any]:
        answer = self.api.get(f"/subscriptions/v2/order/{moid}/status", params={"details": "true"})
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def active(self, msid: str = "sub-1", **setup: Any) -> dict[str, Any]:
        answer = self.api.post("/subscriptions/v2/setup", json=setup_body(msid=msid, **setup))
        assert answer.status_code == 200, answer.text
        assert self.act(msid, "APPROVE").status_code == 200
        return self.status(msid)

    def notified(self, moid: str, msid: str = "sub-1", **notify: Any) -> dict[str, Any]:
        answer = self.api.post("/subscriptions/v2/notify", json=notify_body(moid, msid, **notify))
        assert answer.status_code == 200, answer.text
        self.advance(2)
        return self.order(moid)

    def events(self) -> list[tuple[str, str]]:
        deliveries = self.control.get("/webhooks").json()["deliveries"]
        return [(d["event"], d["body"]["payload"]["state"]) for d in deliveries]

    def close(self) -> None:
        self.api.close()
        self.control.close()


@pytest.fixture
def ap(sandbox: RunningSandbox) -> Iterator[AutoPay]:
    client = AutoPay(sandbox)
    yield client
    client.close()
