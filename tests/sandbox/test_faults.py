"""Fault injection over real sockets (and in-process): every action, matching, dice."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from phonepe_gateway.sandbox import create_app
from phonepe_gateway.sandbox.faults import ConnectionDropped
from phonepe_gateway.sandbox.testing import RunningSandbox, serve_sandbox

from .conftest import get_token, pay_body, wait_for


def raw_exchange(sandbox: RunningSandbox, token: str, body: dict[str, object]) -> bytes:
    """Send one pay request on a raw socket; return every byte the server sent back."""
    payload = json.dumps(body).encode()
    request = (
        b"POST /apis/pg-sandbox/checkout/v2/pay HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: O-Bearer {token}\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    received = b""
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


def add_fault(sandbox: RunningSandbox, **rule: object) -> dict[str, object]:
    answer = httpx.post(sandbox.url + "/_sandbox/faults", json=rule)
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


def test_reset_when_pay_then_no_bytes_and_no_order(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    add_fault(sandbox, method="POST", path="/checkout/v2/pay", action="reset", times=1)
    token = api.headers["Authorization"].split()[1]
    assert raw_exchange(sandbox, token, pay_body("reset-1")) == b""
    assert sandbox.state.get_order("reset-1") is None
    # times=1: the next identical request goes through
    assert api.post("/checkout/v2/pay", json=pay_body("reset-1")).status_code == 200


def test_drop_after_commit_when_pay_then_no_bytes_but_order_exists(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    add_fault(sandbox, method="POST", path="/checkout/v2/pay", action="drop_after_commit")
    token = api.headers["Authorization"].split()[1]
    assert raw_exchange(sandbox, token, pay_body("drop-1")) == b""
    order = sandbox.state.get_order("drop-1")
    assert order is not None
    assert order.state == "PENDING"
    # The retry with the same id is what a naive client does: PhonePe refuses it with a
    # plain BAD_REQUEST that does not say "duplicate".
    httpx.delete(sandbox.url + "/_sandbox/faults")
    again = api.post("/checkout/v2/pay", json=pay_body("drop-1"))
    assert (again.status_code, again.json()["code"]) == (400, "BAD_REQUEST")


@pytest.mark.parametrize("action", ["reset", "drop_after_commit"])
def test_dropped_connection_when_httpx_client_then_transport_error(
    sandbox: RunningSandbox, api: httpx.Client, action: str
) -> None:
    add_fault(sandbox, path="/checkout/v2/pay", action=action)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api.post("/checkout/v2/pay", json=pay_body("drop-2"))
    assert (sandbox.state.get_order("drop-2") is not None) is (action == "drop_after_commit")


def test_refund_when_drop_after_commit_then_refund_exists(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    api.post("/checkout/v2/pay", json=pay_body("drop-3"))
    httpx.post(sandbox.url + "/_sandbox/orders/drop-3/complete")
    add_fault(sandbox, method="POST", path="/payments/v2/refund", action="drop_after_commit")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api.post(
            "/payments/v2/refund",
            json={
                "merchantRefundId": "drop-3-r",
                "originalMerchantOrderId": "drop-3",
                "amount": 100,
            },
        )
    assert sandbox.state.get_refund("drop-3-r") is not None


def test_status_fault_when_429_then_retry_after_and_phonepe_shape(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    add_fault(
        sandbox,
        method="GET",
        path="/checkout/v2/order/*/status",
        action="status",
        status=429,
        retry_after=7,
        times=2,
    )
    for _ in range(2):
        answer = api.get("/checkout/v2/order/x/status")
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "7"
        assert answer.json() == {
            "success": False,
            "code": "TOO_MANY_REQUESTS",
            "message": "Injected fault: HTTP 429.",
            "data": {},
        }
    assert api.get("/checkout/v2/order/x/status").status_code == 404


def test_status_fault_when_no_status_given_then_503(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    add_fault(sandbox, path="/checkout/v2/pay", action="status")
    answer = api.post("/checkout/v2/pay", json=pay_body("s-1"))
    assert answer.status_code == 503
    assert answer.json()["code"] == "SERVICE_UNAVAILABLE"
    assert sandbox.state.get_order("s-1") is None


def test_status_fault_when_429_without_retry_after_then_default_header(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    add_fault(sandbox, path="/checkout/v2/pay", action="status", status=429)
    assert api.post("/checkout/v2/pay", json=pay_body("s-2")).headers["retry-after"] == "1"


def test_status_fault_when_oauth_path_then_oauth_shape(sandbox: RunningSandbox) -> None:
    add_fault(sandbox, path="/v1/oauth/token", action="status", status=500)
    answer = httpx.post(sandbox.base_url + "/v1/oauth/token", data={})
    assert answer.status_code == 500
    assert set(answer.json()) == {"code", "errorCode", "message", "context"}


def test_malformed_when_fired_then_invalid_json_200(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    add_fault(sandbox, path="/checkout/v2/pay", action="malformed")
    answer = api.post("/checkout/v2/pay", json=pay_body("m-1"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_html_when_fired_then_proxy_error_page(sandbox: RunningSandbox, api: httpx.Client) -> None:
    add_fault(sandbox, path="/checkout/v2/pay", action="html")
    answer = api.post("/checkout/v2/pay", json=pay_body("h-1"))
    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in answer.text


def test_delay_when_client_times_out_then_order_still_created(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    add_fault(sandbox, path="/checkout/v2/pay", action="delay", delay_ms=600)
    with pytest.raises(httpx.ReadTimeout):
        api.post("/checkout/v2/pay", json=pay_body("d-1"), timeout=0.1)
    wait_for(lambda: sandbox.state.get_order("d-1"), what="the delayed order")


def test_match_when_full_path_or_other_method_then_only_matching_requests(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    add_fault(
        sandbox, method="GET", path="/apis/pg/checkout/v2/order/*", action="status", status=500
    )
    with httpx.Client(base_url=sandbox.url + "/apis/pg", headers=api.headers) as pg:
        assert pg.get("/checkout/v2/order/a/status").status_code == 500
    # other prefix, same relative path: the full-path glob does not match it
    assert api.get("/checkout/v2/order/a/status").status_code == 404
    assert api.post("/checkout/v2/pay", json=pay_body("other")).status_code == 200


def test_control_api_when_catch_all_fault_then_never_faulted(sandbox: RunningSandbox) -> None:
    add_fault(sandbox, path="*", action="reset")
    listed = httpx.get(sandbox.url + "/_sandbox/faults").json()["faults"]
    assert listed[0]["action"] == "reset"
    assert httpx.delete(sandbox.url + "/_sandbox/faults").json() == {"faults": []}


def test_fault_rule_when_invalid_then_400(sandbox: RunningSandbox) -> None:
    for rule in (
        {"action": "explode"},
        {"action": "status", "status": 42},
        {"action": "status", "probability": 2},
        {"action": "delay", "delay_ms": -1},
        {"action": "status", "times": "x"},
    ):
        answer = httpx.post(sandbox.url + "/_sandbox/faults", json=rule)
        assert answer.status_code == 400, rule
        assert answer.json()["error"]["code"] == "BAD_REQUEST"


def _dice(seed: int) -> list[int]:
    with serve_sandbox(seed=seed) as sb, httpx.Client(base_url=sb.base_url) as client:
        httpx.post(
            sb.url + "/_sandbox/faults",
            json={
                "path": "/checkout/v2/order/*/status",
                "action": "status",
                "status": 500,
                "probability": 0.5,
            },
        )
        client.headers["Authorization"] = "O-Bearer " + get_token(client)
        return [client.get("/checkout/v2/order/x/status").status_code for _ in range(24)]


def test_probability_when_same_seed_then_same_sequence() -> None:
    first, second = _dice(7), _dice(7)
    assert first == second
    assert set(first) == {404, 500}


@pytest.mark.anyio
@pytest.mark.parametrize("action", ["reset", "drop_after_commit"])
async def test_dropped_connection_when_in_process_asgi_then_read_error(action: str) -> None:
    app = create_app()
    app.state.sandbox.faults.add(action=action, path="/checkout/v2/pay")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sb/apis/pg-sandbox"
    ) as client:
        token = (
            await client.post(
                "/v1/oauth/token",
                data={
                    "client_id": "PGSANDBOXCLIENT",
                    "client_secret": "sandbox-client-secret",
                    "client_version": "1",
                    "grant_type": "client_credentials",
                },
            )
        ).json()["access_token"]
        with pytest.raises(ConnectionDropped):
            await client.post(
                "/checkout/v2/pay",
                json=pay_body("asgi-1"),
                headers={"Authorization": f"O-Bearer {token}"},
            )
    created = app.state.sandbox.state.get_order("asgi-1") is not None
    assert created is (action == "drop_after_commit")
    assert issubclass(ConnectionDropped, httpx.ReadError)


@pytest.mark.parametrize("http", ["h11", "httptools"])
@pytest.mark.parametrize("action", ["reset", "drop_after_commit"])
def test_dropped_connection_when_either_uvicorn_protocol_then_no_bytes_no_500(
    http: str, action: str, capfd: pytest.CaptureFixture[str]
) -> None:
    from phonepe_gateway.sandbox.testing import RunningSandbox as Running
    from phonepe_gateway.sandbox.testing import serve_app

    app = create_app()
    with serve_app(app, http=http) as running:  # type: ignore[arg-type]
        sb = Running(url=running.url, port=running.port, app=app)
        with httpx.Client(base_url=sb.base_url) as client:
            token = get_token(client)
        add_fault(sb, path="/checkout/v2/pay", action=action)
        assert raw_exchange(sb, token, pay_body(f"{http}-{action}")) == b""
        created = sb.state.get_order(f"{http}-{action}") is not None
        assert created is (action == "drop_after_commit")
    logged = capfd.readouterr().err
    assert "Exception in ASGI application" not in logged
    assert "without starting response" not in logged
