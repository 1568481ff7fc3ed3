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


class Receiver:
    """A webhook receiver on a real loopback port: records requests, answers scripted statuses."""

    def __init__(self) -> None:
        import threading

        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self._lock:
            self.requests.append((headers, body))
            status = self.statuses.pop(0) if self.statuses else 200
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"nope"})

    def bodies(self) -> list[dict[str, Any]]:
        import json

        with self._lock:
            return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    from phonepe_gateway.sandbox.testing import serve_app

    app = Receiver()
    with serve_app(app) as running:
        yield app, running.url + "/hook"


def gen1_sign(
    payload: dict[str, Any], api_path: str, salt: str = "sandbox-salt-key", index: int = 1
) -> tuple[dict[str, str], dict[str, str]]:
    """(body, headers) of a generation 1 POST."""
    import base64
    import hashlib
    import json

    encoded = base64.b64encode(json.dumps(payload).encode()).decode()
    checksum = hashlib.sha256((encoded + api_path + salt).encode()).hexdigest() + f"###{index}"
    return {"request": encoded}, {"X-VERIFY": checksum}


def gen1_status_headers(
    merchant_id: str, transaction_id: str, salt: str = "sandbox-salt-key", index: int = 1
) -> dict[str, str]:
    import hashlib

    path = f"/pg/v1/status/{merchant_id}/{transaction_id}"
    checksum = hashlib.sha256((path + salt).encode()).hexdigest() + f"###{index}"
    return {"X-VERIFY": checksum, "X-MERCHANT-ID": merchant_id}
