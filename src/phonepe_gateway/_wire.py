"""The sync client's default wire: HTTP/1.1 keep-alive over the standard library's ``http.client``.

Why not ``httpx.HTTPTransport``: on a payment API call the bytes on the wire are tiny and
the cost is the Python around them. Per exchange on loopback (``benchmarks/wire.py``,
docs/BENCHMARKS.md) httpx's transport (httpcore and h11's pure-Python state machine) costs
~1.5x the CPU of this one, and urllib3's pool behind the same interface ~1.9x; it was the
largest single piece of a create served by ``phonepe serve``. The HTTP itself (request
framing, response parsing, chunked bodies, TLS through ``ssl``) is the standard library's;
only the pool below is ours.

It speaks httpx's transport interface (an ``httpx.Request`` in, an ``httpx.Response``
with a lazy body out), so the core, the error classification, the deadline-bounded body
read and injected test transports are unchanged, and it raises httpx's exception classes
for the *phase* in which a failure happened, which is what decides "may the gateway have
acted?" (``_classify.classify_exception``):

* connecting (DNS, refused, TLS handshake, connect timeout): ``ConnectError`` /
  ``ConnectTimeout``, with the socket/ssl error as the cause: never sent;
* writing the request: ``WriteError`` (not completely written: not sent) or
  ``WriteTimeout``;
* reading the answer: ``ReadTimeout``, ``ReadError``, ``RemoteProtocolError``: maybe sent;
* every pooled connection busy past the pool timeout: ``PoolTimeout`` (nothing sent).

Pooling follows httpcore's rules: at most ``pool_size`` connections in use at once, idle
ones kept ``keepalive_expiry`` seconds, and an idle connection that has become readable
(the server closed it, or sent bytes nobody asked for) is discarded before reuse, never
written to. A response that says ``Connection: close``, or whose body was not read to the
end, closes its connection. Proxies are not handled here: with ``PHONEPE_PROXY`` set the
client uses ``httpx.HTTPTransport`` (``_drivers``). The asyncio client keeps httpx.
Nothing here reads or logs header values or bodies.
"""

from __future__ import annotations

import http.client
import os
import select
import ssl
import threading
import time
from collections.abc import Iterator
from typing import NoReturn

import httpx

__all__ = ["StdlibTransport"]

_Origin = tuple[bytes, str, int]
_CHUNK = 65_536


class StdlibTransport(httpx.BaseTransport):
    """A pooled HTTP/1.1 transport on ``http.client`` (see the module docstring)."""

    def __init__(
        self,
        *,
        pool_size: int,
        keepalive_expiry: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._size = pool_size
        self._slots = threading.BoundedSemaphore(pool_size)
        self._in_use = 0  # slots taken (under _lock)
        self._keepalive = keepalive_expiry
        self._ssl = ssl_context
        self._lock = threading.Lock()
        self._idle: dict[_Origin, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._closed = False
        self._pid = os.getpid()

    # -- httpx.BaseTransport ------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        if self._pid != os.getpid():
            self._forget_parent()
        timeouts = request.extensions.get("timeout", {})
        connect, read = timeouts.get("connect"), timeouts.get("read")
        write, pool = timeouts.get("write"), timeouts.get("pool")
        if not self._slots.acquire(timeout=-1 if pool is None else pool):
            raise httpx.PoolTimeout("no connection of the pool was free in time", request=request)
        with self._lock:
            self._in_use += 1
        conn: http.client.HTTPConnection | None = None
        try:
            url = request.url
            origin: _Origin = (url.raw_scheme, url.host, url.port or _default_port(url))
            conn = self._checkout(origin, request, connect)
            response = self._exchange(conn, request, write, read)
            return httpx.Response(
                response.status,
                headers=response.getheaders(),
                stream=_Body(self, origin, conn, response, request),
                extensions={
                    "http_version": b"HTTP/1.1" if response.version == 11 else b"HTTP/1.0",
                    "reason_phrase": response.reason.encode("latin-1", "replace"),
                },
            )
        except BaseException:
            if conn is not None:
                conn.close()
            self._release()
            raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for _, conn in connections:
                conn.close()

    # -- connections --------------------------------------------------------------------

    def _forget_parent(self) -> None:
        """In a forked child (a gunicorn worker of a client built before the fork): the
        parent's pooled sockets are shared with it, so two processes would write one
        request stream. Drop them (closing a descriptor here leaves the parent's open) and
        start with a pool, lock and slots of this process's own."""
        idle, self._idle = self._idle, {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self._size)
        self._in_use = 0
        self._pid = os.getpid()
        for connections in idle.values():
            for _, conn in connections:
                conn.close()

    def _checkout(
        self, origin: _Origin, request: httpx.Request, connect: float | None
    ) -> http.client.HTTPConnection:
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                since, conn = idle.pop()
                if now - since < self._keepalive and _still_quiet(conn):
                    return conn
                conn.close()
            self._make_room()
        return self._connect(origin, request, connect)

    def _make_room(self) -> None:
        """Close the longest-idle connections (any host) so that, with the one about to be
        opened, at most ``pool_size`` are open: the limit is on connections, not per host."""
        idle = [
            (since, origin, conn) for origin, pool in self._idle.items() for since, conn in pool
        ]
        excess = len(idle) + self._in_use - self._size
        idle.sort(key=lambda entry: entry[0])
        for since, origin, conn in idle[: max(excess, 0)]:
            self._idle[origin].remove((since, conn))
            conn.close()

    def _connect(
        self, origin: _Origin, request: httpx.Request, timeout: float | None
    ) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == b"https":
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls())
        elif scheme == b"http":
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        else:
            raise httpx.UnsupportedProtocol(
                f"the URL scheme must be http or https, not {scheme.decode(errors='replace')!r}",
                request=request,
            )
        try:
            conn.connect()  # TCP (with TCP_NODELAY) and, for https, the TLS handshake
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(str(exc) or "timed out", request=request) from exc
        except OSError as exc:  # DNS (gaierror), refused, unreachable, TLS (SSLError)
            conn.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return conn

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()  # certifi's roots, SSL_CERT_FILE/DIR honoured
        return self._ssl

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        request: httpx.Request,
        write: float | None,
        read: float | None,
    ) -> http.client.HTTPResponse:
        body = request.read()
        target = request.url.raw_path.decode("ascii")
        sock = conn.sock
        assert sock is not None
        sock.settimeout(write)
        try:
            # httpx.Request already carries Host and Content-Length; add nothing else.
            conn.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.raw:
                conn.putheader(name, value)
        except ValueError as exc:  # a CR/LF or other forbidden character: nothing was sent
            raise httpx.LocalProtocolError(str(exc), request=request) from exc
        try:
            conn.endheaders(body or None)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc) or "timed out", request=request) from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc
        sock.settimeout(read)
        try:
            return conn.getresponse()
        except BaseException as exc:
            _raise_read_error(exc, request)

    def _give_back(self, origin: _Origin, conn: http.client.HTTPConnection, reuse: bool) -> None:
        try:
            if reuse and conn.sock is not None:
                with self._lock:
                    if not self._closed:
                        self._idle.setdefault(origin, []).append((time.monotonic(), conn))
                        return
            conn.close()
        finally:
            self._release()

    def _release(self) -> None:
        with self._lock:
            self._in_use -= 1
        self._slots.release()


class _Body(httpx.SyncByteStream):
    """The answer's body, read lazily; hands the connection back when closed."""

    def __init__(
        self,
        transport: StdlibTransport,
        origin: _Origin,
        conn: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        request: httpx.Request,
    ) -> None:
        self._transport, self._origin, self._conn = transport, origin, conn
        self._response, self._request = response, request
        self._done = self._complete = False

    def __iter__(self) -> Iterator[bytes]:
        response = self._response
        while True:
            try:
                chunk = response.read1(_CHUNK)
            except BaseException as exc:
                _raise_read_error(exc, self._request)
            if not chunk:
                if response.length:  # the server closed before the Content-Length it promised
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body",
                        request=self._request,
                    )
                self._complete = True
                return
            yield chunk

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        reuse = self._complete and not self._response.will_close
        self._response.close()  # the connection takes its next request only once it is closed
        self._transport._give_back(self._origin, self._conn, reuse)


def _raise_read_error(exc: BaseException, request: httpx.Request) -> NoReturn:
    """Re-raise a failure while reading the answer as httpx's class for it (maybe sent)."""
    if isinstance(exc, TimeoutError):
        raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
    if isinstance(exc, http.client.RemoteDisconnected):
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        ) from exc
    if isinstance(exc, http.client.IncompleteRead):
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body", request=request
        ) from exc
    if isinstance(exc, http.client.HTTPException | ValueError):  # ValueError: defensive
        raise httpx.RemoteProtocolError(
            f"malformed answer ({type(exc).__name__}: {str(exc)[:100]})", request=request
        ) from exc
    if isinstance(exc, OSError):
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
    raise exc


def _still_quiet(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection is reusable only while the server has said nothing."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):  # no FD_SETSIZE limit: a busy server has fds past 1024
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return not poller.poll(0)
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _default_port(url: httpx.URL) -> int:
    return 443 if url.raw_scheme == b"https" else 80
