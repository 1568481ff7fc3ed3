"""Tiny real servers on 127.0.0.1 for the failure classes the client must classify.

* :func:`refused_port` - a port nothing listens on (connect is refused);
* :class:`BlackHole` - a listening socket whose accept queue is full, so a new
  connect gets no SYN-ACK and times out;
* :class:`RawServer` - accepts connections and runs a per-connection script
  (reset, hang after reading, answer raw bytes);
* :class:`GatewayServer` - a keep-alive HTTP/1.1 server in front of a FakeGateway.
Everything binds to 127.0.0.1 port 0 and is torn down by the context manager.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from .fakes import FakeGateway


def refused_port() -> int:
    """A loopback port that was just free: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BlackHole:
    """A listener with ``listen(0)`` whose queue is filled by connections never accepted."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = int(self.sock.getsockname()[1])
        self.fillers: list[socket.socket] = []

    def __enter__(self) -> BlackHole:
        deadline = time.monotonic() + 5
        while not self._full():
            if time.monotonic() > deadline:
                raise RuntimeError("could not fill the accept queue")
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self.fillers.append(filler)
        return self

    def _full(self) -> bool:
        if len(self.fillers) < 2:
            return False
        probe = socket.socket()
        probe.settimeout(0.1)
        try:
            probe.connect(("127.0.0.1", self.port))
        except TimeoutError:
            return True
        except OSError:
            return False
        else:
            self.fillers.append(probe)  # it got in: the queue had room; keep it as a filler
            return False
        finally:
            if probe not in self.fillers:
                probe.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        for filler in self.fillers:
            filler.close()
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    """Read one HTTP request (headers + Content-Length body) from ``conn``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def reset(conn: socket.socket) -> None:
    """Close with RST (SO_LINGER 0) instead of FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


Script = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """Accept loop on 127.0.0.1 running ``script(conn, stop)`` per connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self.requests: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            worker = threading.Thread(target=self._run, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _run(self, conn: socket.socket) -> None:
        try:
            self.script(conn, self.stop)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(2)


# -- ready-made scripts ----------------------------------------------------------------


def answer(raw: bytes) -> Script:
    """Read the request, send ``raw`` (a whole HTTP response), close."""

    def script(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(raw)

    return script


def answers(*raws: bytes) -> Script:
    """Like :func:`answer`, one response per connection in turn (the last one repeats)."""
    queue = list(raws)
    lock = threading.Lock()

    def script(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        with lock:
            raw = queue.pop(0) if len(queue) > 1 else queue[0]
        conn.sendall(raw)

    return script


def reset_after_read(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    reset(conn)


def reset_on_accept(conn: socket.socket, stop: threading.Event) -> None:
    reset(conn)


def hang_after_read(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    stop.wait(10)


def http(status: int, body: bytes, content_type: str = "application/json", **headers: str) -> bytes:
    lines = [
        f"HTTP/1.1 {status} X",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# -- a real HTTP server in front of FakeGateway -------------------------------------------


class GatewayServer:
    """Keep-alive HTTP/1.1 on 127.0.0.1 answering with a :class:`FakeGateway`."""

    def __init__(self, gateway: FakeGateway, prefix: str = "/apis/pg-sandbox") -> None:
        self.gateway = gateway
        self.prefix = prefix
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = httpx.Request(
                    self.command,
                    f"http://127.0.0.1{self.path}",
                    headers=dict(self.headers),
                    content=body,
                )
                try:
                    response = outer.gateway(request)
                except httpx.HTTPError:
                    self.close_connection = True
                    return
                content = response.content
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in {"content-length", "connection"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def __enter__(self) -> GatewayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(2)
