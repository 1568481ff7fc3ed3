"""A canary secret never appears in any error text, repr, event or log line.

Every failure path the client has is driven with the canary as client secret, salt
key and webhook password (and a canary-shaped access token from the gateway); then
every string the run produced is searched for it. At most the last 4 characters may show.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from phonepe_gateway import CallEvent, PhonePeClient, PhonePeError, Settings
from phonepe_gateway._clock import FakeClock

from .conftest import CANARY
from .servers import BlackHole, RawServer, answer, hang_after_read, http, refused_port

TOKEN = "TOKEN-" + CANARY


def token_then(behaviour):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(200, json={"access_token": TOKEN, "expires_at": 1_750_003_600})
        return behaviour(request)

    return handler


def raise_(exc: Exception):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def echo_secret_page(request: httpx.Request) -> httpx.Response:
    return httpx.Response(502, text="<html>upstream</html>", headers={"content-type": "text/html"})


def test_canary_when_every_failure_path_runs_then_secret_never_shown(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    seen: list[str] = []
    events: list[CallEvent] = []

    def settings(**kw: object) -> Settings:
        options: dict[str, object] = {
            "env": "production",
            "client_id": "CLIENTID",
            "client_secret": CANARY,
            "merchant_id": "M",
            "salt_key": CANARY,
            "webhook_username": "hookuser",
            "webhook_password": CANARY,
            "base_urls": "http://127.0.0.1:9/x",
            "timeout": 5,
            "connect_timeout": 0.3,
            "read_timeout": 0.3,
            "max_retries": 1,
            "proxy": f"http://user:{CANARY}@127.0.0.1:3128",
        }
        options.update(kw)
        return Settings.build(**options)

    handlers = [
        token_then(lambda r: httpx.Response(401, json={"code": "UNAUTHORIZED", "message": "bad"})),
        token_then(echo_secret_page),
        token_then(lambda r: httpx.Response(200, text="{broken")),
        token_then(raise_(httpx.ConnectError("[Errno 111] Connection refused"))),
        token_then(raise_(httpx.ReadTimeout("timed out"))),
        lambda r: httpx.Response(401, json={"code": "INVALID_CLIENT", "message": "no"}),
    ]
    for api_version in ("v2", "v1"):
        for handler in handlers:
            s = settings(api_version=api_version)
            client = PhonePeClient(
                s, transport=httpx.MockTransport(handler), clock=clock, on_event=events.append
            )
            seen += [repr(client), str(s), repr(s)]
            for name, args, kwargs in (
                (
                    "create_payment",
                    (),
                    {
                        "amount": 100,
                        "merchant_order_id": "o1",
                        "redirect_url": "http://127.0.0.1/b",
                    },
                ),
                ("get_order_status", ("o1",), {}),
                ("refund", (), {"original_merchant_order_id": "o1", "amount": 100}),
                ("verify_webhook", ({"Authorization": "x"}, b"{}"), {}),
                ("create_payment", (), {"amount": 1}),
            ):
                try:
                    getattr(client, name)(*args, **kwargs)
                except PhonePeError as exc:
                    seen += [str(exc), repr(exc), str(exc.__dict__)]
            seen += [repr(client._tokens), repr(client._tokens.current())]
            client.close()

    # Real sockets too: refused, black hole, hang, HTML.
    with (
        BlackHole() as hole,
        RawServer(hang_after_read) as hang,
        RawServer(answer(http(502, b"<html>"))) as html,
    ):
        for url in (f"http://127.0.0.1:{refused_port()}", hole.url, hang.url, html.url):
            s = settings(base_urls=url, proxy=None, max_retries=0)
            with PhonePeClient(s, clock=clock, on_event=events.append) as client:
                with pytest.raises(PhonePeError) as info:
                    client.get_order_status("o1")
                seen += [str(info.value), repr(info.value)]

    seen += [repr(e) for e in events]
    seen += [r.getMessage() for r in caplog.records] + [caplog.text]
    blob = "\n".join(seen)
    assert len(seen) > 100
    assert "attempt 1 at" in caplog.text  # the transport's debug lines were captured too
    assert CANARY not in blob
    assert CANARY[:-4] not in blob
    assert TOKEN[:-4] not in blob
