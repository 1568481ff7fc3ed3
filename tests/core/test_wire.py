"""The sync client's wire (``_wire.StdlibTransport``) over real loopback sockets.

The failure classes a payment call must tell apart (refused, DNS, TLS, timeouts, resets,
proxies) run through the whole client in test_sockets.py, test_deadline.py and
test_maybe_sent_writes.py, on this wire. Here: what pooling must get right, because a
request written to a dead keep-alive connection is a payment whose outcome is unknown.
"""

from __future__ import annotations

import gzip
import os
import select
import socket
import ssl
import threading
from collections.abc import Callable

import httpx
import pytest
import trustme

from phonepe_gateway import Category, PhonePeClient
from phonepe_gateway._classify import classify_exception
from phonepe_gateway._wire import StdlibTransport

from .servers import RawServer, read_request

pytestmark = pytest.mark.timeout(30)

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


def keep_alive(reply: Callable[[int], bytes], *, close_after: int = 1_000) -> Callable[..., None]:
    """Answer every request on a connection with ``reply(n)`` (n counts across the server),
    then close the connection after ``close_after`` answers, without saying so."""
    count = [0]
    lock = threading.Lock()

    def script(conn: socket.socket, stop: threading.Event) -> None:
        for _ in range(close_after):
            if not read_request(conn):
                return
            with lock:
                count[0] += 1
                n = count[0]
            conn.sendall(reply(n))

    return script


def get(transport: httpx.BaseTransport, url: str, **timeouts: float) -> httpx.Response:
    extensions = {"timeout": {"connect": 1, "read": 1, "write": 1, "pool": 1, **timeouts}}
    response = transport.handle_request(httpx.Request("GET", url, extensions=extensions))
    try:
        response.read()
    finally:
        response.close()
    return response


def test_keep_alive_when_sequential_calls_then_one_connection() -> None:
    with RawServer(keep_alive(lambda n: OK)) as server:
        wire = StdlibTransport(pool_size=4)
        for _ in range(5):
            assert get(wire, server.url + "/x").json() == {"ok": True}
        wire.close()
    assert server.connections == 1


def test_keep_alive_when_server_closed_idle_connection_then_new_one_and_nothing_lost() -> None:
    """The server closes after each answer without saying so: the idle connection has
    become readable (EOF), so it is dropped before reuse, never written to."""
    seen: list[int] = []

    def reply(n: int) -> bytes:
        seen.append(n)
        return OK

    with RawServer(keep_alive(reply, close_after=1)) as server:
        wire = StdlibTransport(pool_size=2)
        first = get(wire, server.url + "/a")
        # Let the server's FIN arrive before the next call looks at the idle connection.
        assert _wait_until(lambda: server.connections == 1 and len(seen) == 1)
        _wait_for_eof(wire)
        second = get(wire, server.url + "/b")
        wire.close()
    assert (first.status_code, second.status_code) == (200, 200)
    assert server.connections == 2
    assert seen == [1, 2]


def test_keep_alive_when_socket_numbers_pass_1024_then_still_reused() -> None:
    """select() cannot watch a descriptor past FD_SETSIZE; the idle check must still work."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("cannot open 1,100 descriptors here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        with RawServer(keep_alive(lambda n: OK)) as server:
            wire = StdlibTransport(pool_size=2)
            for _ in range(3):
                assert get(wire, server.url + "/x").status_code == 200
            pooled = [conn for idle in wire._idle.values() for _, conn in idle]
            wire.close()
        assert pooled
        assert server.connections == 1
    finally:
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_connection_close_answer_then_not_reused() -> None:
    closing = OK.replace(b"Content-Length", b"Connection: close\r\nContent-Length")
    with RawServer(keep_alive(lambda n: closing)) as server:
        wire = StdlibTransport(pool_size=2)
        for _ in range(3):
            assert get(wire, server.url + "/x").status_code == 200
        wire.close()
    assert server.connections == 3


def test_threads_when_sharing_one_wire_then_each_gets_its_own_answer_within_the_pool() -> None:
    """Eight threads, a pool of four: no answer reaches the wrong caller, no fifth connection."""

    def script(conn: socket.socket, stop: threading.Event) -> None:
        while request := read_request(conn):
            path = request.split(b" ", 2)[1]
            body = b'{"path": "%s"}' % path
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    wrong: list[tuple[str, object]] = []
    with RawServer(script) as server:
        wire = StdlibTransport(pool_size=4)

        def caller(n: int) -> None:
            for i in range(25):
                path = f"/t{n}/r{i}"
                answer = get(wire, server.url + path, pool=10).json()
                if answer != {"path": path}:
                    wrong.append((path, answer))

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        wire.close()
    assert wrong == []
    assert 1 <= server.connections <= 4


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_when_child_calls_then_it_opens_its_own_connection_and_parent_keeps_its() -> None:
    with RawServer(keep_alive(lambda n: OK)) as server:
        wire = StdlibTransport(pool_size=2)
        assert get(wire, server.url + "/parent-1").status_code == 200
        child = os.fork()
        if child == 0:  # pragma: no cover - the child's outcome is its exit status
            try:
                ok = get(wire, server.url + "/child").status_code == 200
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(child, 0)
        assert get(wire, server.url + "/parent-2").status_code == 200
        wire.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert server.connections == 2  # the parent's, reused; the child's own


def test_body_when_chunked_and_gzip_then_decoded_and_connection_reused() -> None:
    packed = gzip.compress(b'{"amount": 100}')
    half = len(packed) // 2
    chunked = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + f"{half:x}\r\n".encode() + packed[:half] + b"\r\n"
        + f"{len(packed) - half:x}\r\n".encode() + packed[half:] + b"\r\n0\r\n\r\n"
    )  # fmt: skip
    with RawServer(keep_alive(lambda n: chunked)) as server:
        wire = StdlibTransport(pool_size=2)
        answers = [get(wire, server.url + "/x").json() for _ in range(2)]
        wire.close()
    assert answers == [{"amount": 100}] * 2
    assert server.connections == 1


def test_body_when_shorter_than_content_length_then_protocol_error_maybe_sent() -> None:
    truncated = b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"ok":'
    with RawServer(keep_alive(lambda n: truncated, close_after=1)) as server:
        wire = StdlibTransport(pool_size=2)
        with pytest.raises(httpx.RemoteProtocolError) as info:
            get(wire, server.url + "/x")
        wire.close()
    failure = classify_exception(info.value)
    assert (failure.category, failure.request_sent) == (Category.CONNECTION_RESET, True)


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort",
        b"HTTP/9 banana\r\n\r\n",
    ],
    ids=["chunk size not hex", "chunk cut short", "no status line"],
)
def test_answer_when_malformed_then_protocol_error_maybe_sent(raw: bytes) -> None:
    with RawServer(keep_alive(lambda n: raw, close_after=1)) as server:
        wire = StdlibTransport(pool_size=1)
        with pytest.raises(httpx.RemoteProtocolError) as info:
            get(wire, server.url + "/x")
        wire.close()
    assert classify_exception(info.value).request_sent is True


def test_answer_when_not_read_to_the_end_then_connection_not_reused() -> None:
    big = b"x" * 200_000
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big
    with RawServer(keep_alive(lambda n: raw)) as server:
        wire = StdlibTransport(pool_size=2)
        extensions = {"timeout": {"connect": 1, "read": 1, "write": 1, "pool": 1}}
        response = wire.handle_request(
            httpx.Request("GET", server.url + "/x", extensions=extensions)
        )
        next(iter(response.stream))  # one chunk of a much longer body
        response.close()
        assert get(wire, server.url + "/y").content == big
        wire.close()
    assert server.connections == 2


def test_pool_when_every_connection_busy_then_pool_timeout_and_nothing_sent() -> None:
    with RawServer(keep_alive(lambda n: OK)) as server:
        wire = StdlibTransport(pool_size=1)
        extensions = {"timeout": {"connect": 1, "read": 1, "write": 1, "pool": 0.05}}
        held = wire.handle_request(httpx.Request("GET", server.url + "/a", extensions=extensions))
        with pytest.raises(httpx.PoolTimeout) as info:
            wire.handle_request(httpx.Request("GET", server.url + "/b", extensions=extensions))
        held.read()
        held.close()
        assert get(wire, server.url + "/c").status_code == 200  # the slot came back
        wire.close()
    assert classify_exception(info.value).request_sent is False
    assert server.connections == 1


def test_pool_when_another_host_is_called_then_idle_connections_make_room() -> None:
    """The limit is on open connections, all hosts together (PHONEPE_CONNECTION_POOL_SIZE)."""
    with RawServer(keep_alive(lambda n: OK)) as a, RawServer(keep_alive(lambda n: OK)) as b:
        wire = StdlibTransport(pool_size=2)
        extensions = {"timeout": {"connect": 1, "read": 1, "write": 1, "pool": 1}}
        held = [
            wire.handle_request(httpx.Request("GET", a.url + f"/{n}", extensions=extensions))
            for n in range(2)
        ]
        for response in held:
            response.read()
            response.close()
        assert sum(len(pooled) for pooled in wire._idle.values()) == 2  # both kept alive
        assert get(wire, b.url + "/x").status_code == 200
        open_now = {origin[2]: len(pooled) for origin, pooled in wire._idle.items()}
        wire.close()
    assert open_now == {a.port: 1, b.port: 1}


def test_header_when_it_carries_a_line_break_then_refused_before_anything_is_sent() -> None:
    received: list[bytes] = []

    def script(conn: socket.socket, stop: threading.Event) -> None:
        received.append(read_request(conn))

    with RawServer(script) as server:
        wire = StdlibTransport(pool_size=1)
        request = httpx.Request("GET", server.url + "/x")
        request.headers["x-note"] = "a"
        request.headers._list[-1] = (b"x-note", b"x-note", b"a\r\nX-Injected: 1")  # past httpx
        with pytest.raises(httpx.LocalProtocolError) as info:
            wire.handle_request(request)
        wire.close()
    assert classify_exception(info.value).request_sent is False
    assert not any(b"X-Injected" in r for r in received)


def test_ipv6_loopback_when_served_then_answered() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    server = socket.socket(socket.AF_INET6)
    try:
        server.bind(("::1", 0))
    except OSError:
        server.close()
        pytest.skip("::1 is not configured here")
    server.listen(1)
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            read_request(conn)
            conn.sendall(OK)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    wire = StdlibTransport(pool_size=1)
    try:
        assert get(wire, f"http://[::1]:{port}/x").json() == {"ok": True}
    finally:
        wire.close()
        server.close()
        thread.join(2)


def test_client_when_no_proxy_then_stdlib_wire_and_calls_reuse_one_connection(sandbox) -> None:
    with PhonePeClient(env="local", local_url=sandbox.url) as client:
        assert isinstance(client._transport._http, StdlibTransport)  # type: ignore[attr-defined]
        created = [client.create_payment(amount=100) for _ in range(3)]
        statuses = {client.get_order_status(c.merchant_order_id).state for c in created}
        wire = client._transport._http  # type: ignore[attr-defined]
        idle = [conn for pooled in wire._idle.values() for _, conn in pooled]
    assert statuses == {"PENDING"}
    assert len(idle) == 1  # token, three pays and three status reads on one connection


def test_client_when_proxy_set_then_httpx_transport() -> None:
    client = PhonePeClient(
        env="production", client_id="id", client_secret="secret", proxy="http://127.0.0.1:9"
    )
    try:
        assert isinstance(client._transport._http, httpx.HTTPTransport)  # type: ignore[attr-defined]
    finally:
        client.close()


def test_refused_through_wire_then_transport_error_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    wire = StdlibTransport(pool_size=1)
    with pytest.raises(httpx.ConnectError) as info:
        get(wire, f"http://127.0.0.1:{port}/x")
    wire.close()
    failure = classify_exception(info.value)
    assert (failure.category, failure.request_sent) == (Category.CONNECTION_REFUSED, False)


# -- helpers ---------------------------------------------------------------------------


def _wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    event = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():
            return True
        event.wait(0.01)
    return condition()


def _wait_for_eof(wire: StdlibTransport) -> None:
    """Block until the pooled connection has seen the server's FIN (select, no sleep)."""
    conns = [c for idle in wire._idle.values() for _, c in idle]
    assert conns
    assert conns[0].sock is not None
    readable, _, _ = select.select([conns[0].sock], [], [], 5)
    assert readable


def _tls_server(ca: trustme.CA) -> RawServer:
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_side)
    answer_all = keep_alive(lambda n: OK)

    def script(conn: socket.socket, stop: threading.Event) -> None:
        with server_side.wrap_socket(conn, server_side=True) as tls:
            answer_all(tls, stop)

    return RawServer(script)


def test_tls_when_certificate_trusted_then_answered_on_one_kept_alive_connection() -> None:
    ca = trustme.CA()
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    with _tls_server(ca) as server:
        wire = StdlibTransport(pool_size=2, ssl_context=trusting)
        url = server.url.replace("http://", "https://")
        answers = [get(wire, url + "/x").json() for _ in range(3)]
        wire.close()
    assert answers == [{"ok": True}] * 3
    assert server.connections == 1


def test_tls_when_certificate_not_trusted_then_tls_error_not_sent() -> None:
    with _tls_server(trustme.CA()) as server:
        wire = StdlibTransport(pool_size=1)  # the default roots: certifi's, not this CA
        with pytest.raises(httpx.ConnectError) as info:
            get(wire, server.url.replace("http://", "https://") + "/x")
        wire.close()
    failure = classify_exception(info.value)
    assert (failure.category, failure.request_sent) == (Category.TLS_ERROR, False)
