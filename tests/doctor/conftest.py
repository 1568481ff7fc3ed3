"""Real loopback servers that misbehave in the ways production networks do.

Every one listens on 127.0.0.1 and is torn down by its fixture: a refused port, a
black-holed port (accept queue full), a tiny HTTP(S) server with a configurable
``Date`` header and certificate, a tiny CONNECT proxy that records its tunnels, and a
tiny PhonePe that answers the OAuth token and the order-status call the way a real
PhonePe host is seen to (for answers the sandbox does not give).
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import json
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

from .helpers import server_context  # noqa: F401  (re-exported for fixtures)


class _Server:
    """Accept loop on a daemon thread; each connection handled on its own thread."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                continue
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        # Clients that give up mid-way are the point of these tests.
        with contextlib.closing(conn), contextlib.suppress(OSError, ssl.SSLError):
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._accepting.join(2)
        self.sock.close()
        for thread in self._threads:
            thread.join(2)


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class HttpServer(_Server):
    """Answers every request; ``reply`` picks how.

    ``"json"``: ``status`` with ``{}`` and a ``Date`` ``skew`` seconds off; ``"silent"``:
    reads the request and never answers; ``"close"``: closes without a word;
    ``"garbage"``: answers something that is not HTTP.
    """

    def __init__(
        self,
        *,
        skew: float = 0.0,
        tls: ssl.SSLContext | None = None,
        reply: str = "json",
        status: str = "200 OK",
    ) -> None:
        self.skew = skew
        self.tls = tls
        self.reply = reply
        self.status = status
        self.requests: list[bytes] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        if self.tls is None:
            self._answer(conn)
            return
        with self.tls.wrap_socket(conn, server_side=True) as wrapped:
            self._answer(wrapped)

    def _answer(self, conn: socket.socket) -> None:
        self.requests.append(_read_head(conn))
        if self.reply == "silent":
            self._stop.wait(10)
            return
        if self.reply == "close":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return  # closing with linger 0 sends RST
        if self.reply == "garbage":
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            return
        date = email.utils.formatdate(time.time() + self.skew, usegmt=True)
        conn.sendall(
            f"HTTP/1.1 {self.status}\r\nDate: {date}\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}".encode()
        )


class PhonePeAnswers(_Server):
    """Gives any OAuth token; answers the order-status call with ``status`` and ``body``.

    ``seen`` lists the request lines; every other request gets ``404 {}``.
    """

    def __init__(
        self, status: int, body: dict[str, Any], *, tls: ssl.SSLContext | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.tls = tls
        self.seen: list[str] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/apis/pg"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        if self.tls is None:
            self._converse(conn)
            return
        with self.tls.wrap_socket(conn, server_side=True) as wrapped:
            self._converse(wrapped)

    def _converse(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        while True:  # the client keeps connections alive
            request_line = reader.readline().decode("latin-1").strip()
            if not request_line:
                return
            length = 0
            while (line := reader.readline().decode("latin-1").strip()) != "":
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            reader.read(length)
            self.seen.append(request_line)
            conn.sendall(self._reply(request_line.split(" ")[1].partition("?")[0]))

    def _reply(self, path: str) -> bytes:
        if path.endswith("/v1/oauth/token"):
            status, body = (
                200,
                {
                    "access_token": "doctor-test-token",
                    "token_type": "O-Bearer",
                    "expires_at": int(time.time()) + 3600,
                },
            )
        elif "/checkout/v2/order/" in path and path.endswith("/status"):
            status, body = self.status, self.body
        else:
            status, body = 404, {}
        payload = json.dumps(body).encode()
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload


class ConnectProxy(_Server):
    """A CONNECT-only forward proxy; ``tunnels`` lists the targets it opened."""

    def __init__(self, *, credentials: str | None = None) -> None:
        self.tunnels: list[str] = []
        self.credentials = credentials  # "user:password" the proxy demands, if any
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        head = _read_head(conn).decode("latin-1")
        method, target, _ = head.split(" ", 2)
        if method != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if self.credentials is not None:
            expected = base64.b64encode(self.credentials.encode()).decode()
            if f"proxy-authorization: basic {expected}".lower() not in head.lower():
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                return
        host, _, port = target.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.tunnels.append(target)
        conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        with contextlib.closing(upstream):
            _pipe(conn, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    peers = {a: b, b: a}
    while True:
        ready, _, _ = select.select(list(peers), [], [], 5)
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            peers[sock].sendall(data)


@pytest.fixture
def http_server() -> Iterator[Callable[..., HttpServer]]:
    """``http_server(skew=0.0, tls=None)`` starts one; all are stopped after the test."""
    started: list[_Server] = []

    def start(**kwargs: Any) -> HttpServer:
        server = HttpServer(**kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def phonepe_answers() -> Iterator[Callable[..., PhonePeAnswers]]:
    """``phonepe_answers(status, body, tls=None)`` starts one; all are stopped after the test."""
    started: list[_Server] = []

    def start(
        status: int, body: dict[str, Any], *, tls: ssl.SSLContext | None = None
    ) -> PhonePeAnswers:
        server = PhonePeAnswers(status, body, tls=tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def connect_proxy() -> Iterator[ConnectProxy]:
    proxy = ConnectProxy()
    yield proxy
    proxy.close()


@pytest.fixture
def auth_proxy() -> Iterator[ConnectProxy]:
    """A CONNECT proxy that demands ``doctor:proxy-pass-1234``."""
    proxy = ConnectProxy(credentials="doctor:proxy-pass-1234")
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the test CA (what certifi is to the real client)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def refused_port() -> int:
    """A port nothing listens on (bound, then released; the kernel answers RST)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def blackhole() -> Iterator[Callable[[], int]]:
    """``blackhole()`` -> a port whose SYNs go unanswered: a listener with its accept queue full.

    Linux drops SYNs to a listener whose accept queue is full, exactly like a firewall
    DROP rule, so a connect there times out.
    """
    sockets: list[socket.socket] = []

    def make() -> int:
        listener = socket.socket()
        sockets.append(listener)
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            filler = socket.socket()
            sockets.append(filler)
            filler.setblocking(False)
            if filler.connect_ex(("127.0.0.1", port)) == 0:
                continue
            _, writable, _ = select.select([], [filler], [], 0.3)
            if not writable:
                return port  # this SYN was dropped: the queue is full
        pytest.fail("could not fill the accept queue")

    yield make
    for sock in sockets:
        sock.close()


@pytest.fixture
def blackhole_port(blackhole: Callable[[], int]) -> int:
    return blackhole()
