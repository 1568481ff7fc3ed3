"""Fixtures for the REST API tests: the app pointed at a real sandbox, keyed clients, helpers."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.test import Client

API_KEY = "test-api-key-0001"
WEBHOOK_USER, WEBHOOK_PASSWORD = "sandboxhook", "sandboxpass1"


def webhook_auth(user: str = WEBHOOK_USER, password: str = WEBHOOK_PASSWORD) -> str:
    return hashlib.sha256(f"{user}:{password}".encode()).hexdigest()


def order_event(merchant_order_id: str, amount: int, *, state: str = "COMPLETED") -> bytes:
    event = "checkout.order.completed" if state == "COMPLETED" else "checkout.order.failed"
    payload = {
        "merchantOrderId": merchant_order_id,
        "orderId": "OMO-" + merchant_order_id,
        "state": state,
        "amount": amount,
        "expireAt": 1_900_000_000_000,
    }
    return json.dumps({"event": event, "payload": payload}).encode()


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it is truthy (no fixed sleeps); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


@pytest.fixture
def phonepe(settings: Any, sandbox: Any) -> Any:
    """The app configured against a fresh sandbox (``sandbox`` fixture), with one API key."""
    settings.PHONEPE = {
        "env": "local",
        "local_url": sandbox.url,
        "service_api_keys": [API_KEY],
        "max_retries": 0,
    }
    settings.PHONEPE_WEBHOOK_PROCESSING = "inline"
    return sandbox


@pytest.fixture(autouse=True)
def _webhook_workers_idle() -> Iterator[None]:
    """No background webhook processing may outlive its test (it would touch the next one)."""
    yield
    from phonepe_gateway.django.api_webhooks import workers

    assert workers.wait_idle(timeout=30), "background webhook processing did not finish"


@pytest.fixture
def api(phonepe: Any) -> Client:
    """A test client that sends the API key."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")


@pytest.fixture
def control(phonepe: Any) -> Iterator[httpx.Client]:
    """The sandbox's control API (``/_sandbox/...``)."""
    with httpx.Client(base_url=phonepe.url, timeout=10) as client:
        yield client


def post_json(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)
