"""Only the tester's own tools reach the control API: loopback Host, no cross-site
Origin, JSON bodies only; and refused requests change nothing."""

from __future__ import annotations

import httpx
import pytest

from phonepe_gateway.sandbox.guard import is_loopback_host, is_loopback_url
from phonepe_gateway.sandbox.testing import RunningSandbox, serve_sandbox

from .conftest import pay_body


@pytest.fixture
def one_order(sandbox: RunningSandbox, api: httpx.Client) -> str:
    assert api.post("/checkout/v2/pay", json=pay_body("guarded-1")).status_code == 200
    return "guarded-1"


def _still_pending(sandbox: RunningSandbox, moid: str) -> bool:
    order = sandbox.state.get_order(moid)
    return order is not None and order.state == "PENDING" and not order.attempts


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8300", "10.1.2.3:8300", "sandbox"])
def test_control_when_host_not_loopback_then_403_and_nothing_changes(
    sandbox: RunningSandbox, one_order: str, host: str
) -> None:
    answer = httpx.post(
        f"{sandbox.url}/_sandbox/orders/{one_order}/complete", json={}, headers={"Host": host}
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "FORBIDDEN_HOST"
    assert httpx.get(sandbox.url + "/_sandbox/orders", headers={"Host": host}).status_code == 403
    assert _still_pending(sandbox, one_order)


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8300", "127.0.0.1", "localhost:8300", "[::1]:8300", "127.1.2.3"]
)
def test_control_when_host_loopback_then_answers(sandbox: RunningSandbox, host: str) -> None:
    assert httpx.get(sandbox.url + "/_sandbox/clock", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://192.168.1.5:3000"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_control_when_cross_site_then_403_and_nothing_changes(
    sandbox: RunningSandbox, one_order: str, headers: dict[str, str]
) -> None:
    answer = httpx.post(
        f"{sandbox.url}/_sandbox/orders/{one_order}/complete", json={}, headers=headers
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "CROSS_SITE_REQUEST"
    reset = httpx.post(sandbox.url + "/_sandbox/reset", headers=headers)
    assert reset.status_code == 403
    assert _still_pending(sandbox, one_order)


def test_control_when_loopback_origin_then_accepted(
    sandbox: RunningSandbox, one_order: str
) -> None:
    answer = httpx.post(
        f"{sandbox.url}/_sandbox/orders/{one_order}/complete",
        json={},
        headers={"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-site"},
    )
    assert answer.status_code == 200
    assert answer.json()["state"] == "COMPLETED"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"seconds": 3600}'),  # what a cross-site "simple request" can send
        ("application/x-www-form-urlencoded", b"seconds=3600"),
        ("multipart/form-data; boundary=x", b"--x--"),
        (None, b'{"seconds": 3600}'),
        ("text/plain", b""),
    ],
)
def test_control_when_body_not_json_then_415_and_nothing_changes(
    sandbox: RunningSandbox, content_type: str | None, body: bytes
) -> None:
    before = httpx.get(sandbox.url + "/_sandbox/clock").json()["now"]
    headers = {"Content-Type": content_type} if content_type else {}
    answer = httpx.post(sandbox.url + "/_sandbox/clock/advance", content=body, headers=headers)
    if content_type is None:  # httpx sends no Content-Type for raw content
        assert "content-type" not in answer.request.headers
    assert answer.status_code == 415
    assert answer.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    after = httpx.get(sandbox.url + "/_sandbox/clock").json()["now"]
    assert after - before < 3_600_000


def test_control_when_json_or_no_body_then_accepted(
    sandbox: RunningSandbox, one_order: str
) -> None:
    charset = httpx.post(
        sandbox.url + "/_sandbox/clock/advance",
        content=b'{"seconds": 1}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert charset.status_code == 200
    bare = httpx.post(f"{sandbox.url}/_sandbox/orders/{one_order}/complete")  # curl -X POST
    assert bare.status_code == 200


def test_control_when_extra_host_configured_then_that_name_accepted() -> None:
    with serve_sandbox(control_hosts=("sandbox.internal",)) as sb:
        named = httpx.get(sb.url + "/_sandbox/clock", headers={"Host": "sandbox.internal:8300"})
        assert named.status_code == 200
        other = httpx.get(sb.url + "/_sandbox/clock", headers={"Host": "other.internal"})
        assert other.status_code == 403


def test_api_and_checkout_when_any_host_then_not_guarded(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """PhonePe's API answers whatever Host a client used; only /_sandbox is guarded."""
    answer = api.get("/checkout/v2/order/nope/status", headers={"Host": "api.example"})
    assert answer.status_code == 404
    assert answer.json()["code"] == "INVALID_MERCHANT_ORDER_ID"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("app.localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("", False),
    ],
)
def test_is_loopback_host_when_name_then_never_resolved(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_is_loopback_url_when_scheme_or_host_odd_then_false() -> None:
    assert is_loopback_url("http://127.0.0.1:8000/hook")
    assert is_loopback_url("https://localhost/hook")
    assert not is_loopback_url("ftp://127.0.0.1/hook")
    assert not is_loopback_url("http://user@evil.example/hook")
    assert not is_loopback_url("http://127.0.0.1@evil.example/hook")
    assert not is_loopback_url("not a url")
