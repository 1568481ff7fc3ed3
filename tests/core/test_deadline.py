"""PHONEPE_TIMEOUT bounds a call even when the answer trickles in.

httpx timeouts are per socket read, so a server (or a broken middlebox) that sends the
body one byte at a time, each within the read timeout, kept a call going far past
PHONEPE_TIMEOUT. Real loopback socket; the assertion is on the outcome (a maybe-sent
READ_TIMEOUT raised before the whole body arrived), not on elapsed time.
"""

from __future__ import annotations

import json
import threading

import pytest

from phonepe_gateway import AsyncPhonePeClient, Category, PhonePeClient, Settings, TransportError

from .fakes import CLIENT_ID, CLIENT_SECRET
from .servers import GatewayServer, RawServer, read_request

pytestmark = pytest.mark.timeout(30)

BODY = json.dumps(
    {"merchantOrderId": "order-1", "orderId": "O1", "state": "PENDING", "amount": 100}
).encode()


class Trickle:
    """Answer 200 at once, then the body one byte per step; records how far it got."""

    def __init__(self) -> None:
        self.sent = 0
        self.finished = threading.Event()

    def __call__(self, conn, stop: threading.Event) -> None:
        read_request(conn)
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}"
        conn.sendall(head.encode() + b"\r\n\r\n")
        try:
            for i in range(len(BODY)):
                if stop.wait(0.15):
                    return
                conn.sendall(BODY[i : i + 1])
                self.sent = i + 1
        except OSError:
            return  # the client gave up and closed the connection
        finally:
            self.finished.set()


def _settings(server: RawServer, oauth: GatewayServer) -> Settings:
    return Settings.build(
        env="production",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_urls=server.url,
        oauth_urls=oauth.url,
        connect_timeout=0.5,
        read_timeout=0.5,  # each byte arrives well within it
        timeout=1,
        max_retries=0,
    )


@pytest.fixture
def oauth(gateway):
    with GatewayServer(gateway) as server:
        yield server


def test_status_when_answer_trickles_past_phonepe_timeout_then_read_timeout_maybe_sent(
    oauth,
) -> None:
    trickle = Trickle()
    with RawServer(trickle) as server, PhonePeClient(_settings(server, oauth)) as client:
        with pytest.raises(TransportError) as info:
            client.get_order_status("order-1")
        assert trickle.sent < len(BODY)  # stopped before the answer was complete
    assert info.value.category is Category.READ_TIMEOUT
    assert info.value.request_sent is True


@pytest.mark.anyio
async def test_async_status_when_answer_trickles_past_phonepe_timeout_then_read_timeout(
    oauth,
) -> None:
    trickle = Trickle()
    with RawServer(trickle) as server:
        async with AsyncPhonePeClient(_settings(server, oauth)) as client:
            with pytest.raises(TransportError) as info:
                await client.get_order_status("order-1")
        assert trickle.sent < len(BODY)
    assert info.value.category is Category.READ_TIMEOUT
    assert info.value.request_sent is True
