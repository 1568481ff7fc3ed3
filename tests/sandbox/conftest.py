"""Helpers for the sandbox tests: clients over real HTTP and over ASGITransport."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox

CREDENTIALS = {
    "client_id": "PGSANDBOXCLIENT",
    "client_secret": "sandbox-client-secret",
    "client_version": "1",
    "grant_type": "client_credentials",
}


def pay_body(merchant_order_id: str, amount: int = 10_000, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "merchantOrderId": merchant_order_id,
        "amount": amount,
        "paymentFlow": {
            "type": "PG_CHECKOUT",
            "message": "Parking",
            "merchantUrls": {"redirectUrl": "http://127.0.0.1:9/return"},
        },
    }
    body.update(extra)
    return body


def get_token(client: httpx.Client) -> str:
    answer = client.post("/v1/oauth/token", data=CREDENTIALS)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """An authenticated generation 2 client on the sandbox's /apis/pg-sandbox prefix."""
    with httpx.Client(base_url=sandbox.base_url, trust_env=False) as client:
        client.headers["Authorization"] = "O-Bearer " + get_token(client)
        yield client


@pytest.fixture
def control(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url + "/_sandbox", trust_env=False) as client:
        yield client
