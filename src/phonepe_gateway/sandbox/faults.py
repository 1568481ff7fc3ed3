"""Fault injection: rules matched per request, and the ASGI middleware that obeys them.

A rule matches by method and path glob (relative to the PhonePe prefix, e.g.
``/checkout/v2/pay``, or the full path), fires with ``probability`` (seeded, so runs
are repeatable) at most ``times`` times, and then:

* ``status`` - answer ``status`` in PhonePe's error shape (``Retry-After`` on 429);
* ``delay`` - wait ``delay_ms``, then answer normally (any rule may add a delay);
* ``reset`` - close the connection without answering, *before* the request is acted on;
* ``drop_after_commit`` - act on the request, then close without answering;
* ``malformed`` - invalid JSON; ``html`` - a proxy's HTML error page.

Closing "without an answer" uses the server's transport (uvicorn): SO_LINGER 0 then
abort, so the client sees a TCP reset and zero bytes. Where there is no transport (an
in-process ASGI client) :class:`ConnectionDropped` — an ``httpx.ReadError``, what a
client sees on a reset — is raised instead. The control API (``/_sandbox``) is never
faulted, so faults can always be cleared.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
import socket
import struct
import threading
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .responses import status_code_name

__all__ = [
    "ACTIONS",
    "PREFIXES",
    "ConnectionDropped",
    "FaultMiddleware",
    "FaultRule",
    "FaultRules",
    "relative_path",
]

PREFIXES = ("/apis/pg-sandbox", "/apis/pg", "/apis/identity-manager", "/apis/hermes")
ACTIONS = frozenset({"status", "delay", "reset", "drop_after_commit", "malformed", "html"})

_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


class ConnectionDropped(httpx.ReadError):
    """The sandbox closed the connection without answering (in-process ASGI clients)."""


def relative_path(path: str) -> str:
    for prefix in PREFIXES:
        if path.startswith(prefix + "/"):
            return path[len(prefix) :]
    return path


@dataclass
class FaultRule:
    id: int
    action: str
    path: str = "*"
    method: str = "*"
    status: int | None = None
    delay_ms: int = 0
    retry_after: float | None = None
    #: How many more times the rule fires; None = every time.
    times: int | None = None
    probability: float = 1.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        return fnmatch.fnmatchcase(relative_path(path), self.path) or fnmatch.fnmatchcase(
            path, self.path
        )

    def public(self) -> dict[str, Any]:
        return asdict(self)


class FaultRules:
    def __init__(self, *, seed: int | None = None) -> None:
        self._seed = seed
        self._rng = random.Random(seed)  # noqa: S311 -- seeded on purpose: --seed replays a run
        self._lock = threading.Lock()
        self._next_id = 1
        self.rules: list[FaultRule] = []

    def add(self, **fields: Any) -> FaultRule:
        with self._lock:
            rule = FaultRule(id=self._next_id, **fields)
            rule.method = rule.method.upper()
            self._next_id += 1
            self.rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self._rng = random.Random(self._seed)  # noqa: S311 -- seeded on purpose: --seed replays a run

    def match(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule that fires (consuming one of its ``times``)."""
        with self._lock:
            for rule in self.rules:
                if rule.times is not None and rule.times <= 0:
                    continue
                if not rule.matches(method, path):
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.hits += 1
                if rule.times is not None:
                    rule.times -= 1
                return rule
            return None

    def public(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.public() for r in self.rules]


async def _send_simple(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def drop_connection(receive: Receive) -> None:
    """Close the client connection with a reset and no bytes (see module docstring)."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped("Connection reset by peer (sandbox fault)")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Wait until the server has seen the connection go, so it does not answer a 500.
    while (await receive())["type"] != "http.disconnect":
        pass


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now; return a receive that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # blocks until the client goes away, as ASGI expects
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class FaultMiddleware:
    def __init__(self, app: ASGIApp, *, faults: FaultRules) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.faults.rules
            or scope["path"].startswith("/_sandbox")
        ):
            await self.app(scope, receive, send)
            return
        rule = self.faults.match(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        # The gateway has the whole request before it is slow or drops the line, so a
        # client that gives up early still leaves the request acted on (the UNKNOWN case).
        replay = await _buffered(receive)
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        await self._act(rule, scope, receive, replay, send)

    async def _act(
        self, rule: FaultRule, scope: Scope, receive: Receive, replay: Receive, send: Send
    ) -> None:
        if rule.action == "delay":
            await self.app(scope, replay, send)
        elif rule.action == "reset":
            await drop_connection(receive)
        elif rule.action == "drop_after_commit":

            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, replay, swallow)
            await drop_connection(receive)
        elif rule.action == "malformed":
            await _send_simple(
                send,
                rule.status or 200,
                b'{"success": true, "code": "SUCCESS", "data": {"orderId": "OMO',
                "application/json",
            )
        elif rule.action == "html":
            status = rule.status or 502
            page = _HTML.format(status=status, reason=_REASONS.get(status, "Error"))
            await _send_simple(send, status, page.encode(), "text/html")
        else:
            await self._status(rule, scope, send)

    async def _status(self, rule: FaultRule, scope: Scope, send: Send) -> None:
        status = rule.status or 503
        code = status_code_name(status)
        message = f"Injected fault: HTTP {status}."
        if relative_path(scope["path"]) == "/v1/oauth/token":
            body: dict[str, Any] = {
                "code": code,
                "errorCode": "OIM999",
                "message": message,
                "context": {},
            }
        else:
            body = {"success": False, "code": code, "message": message, "data": {}}
        extra: list[tuple[bytes, bytes]] = []
        retry_after = (
            rule.retry_after if rule.retry_after is not None else (1 if status == 429 else None)
        )
        if retry_after is not None:
            extra.append(
                (
                    b"retry-after",
                    str(int(retry_after)).encode()
                    if float(retry_after).is_integer()
                    else str(retry_after).encode(),
                )
            )
        await _send_simple(send, status, json.dumps(body).encode(), "application/json", extra)
