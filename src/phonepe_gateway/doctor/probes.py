"""The doctor's socket-level probes: DNS, TCP, proxy CONNECT, TLS and one HTTP request.

Each probe does one step on the wire, times it, and returns a :class:`~.verdict.Probe`
(a status and a :class:`~.verdict.Verdict`) plus what the next step needs (the
addresses, the connected socket). They are written on plain ``socket``/``ssl`` rather
than httpx because the doctor must tell apart what httpx folds together (refused vs.
unreachable, which address, which handshake step) and bound every step by its own
deadline. The TLS probe gets the context the report builds,
``httpx.create_ssl_context()``: exactly what the client's transport trusts (certifi,
or SSL_CERT_FILE / SSL_CERT_DIR when set). Probes never raise, never retry, and never
put a secret into a detail.
"""

from __future__ import annotations

import base64
import errno
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from .verdict import Probe, Verdict

__all__ = [
    "Origin",
    "Resolver",
    "connect_tcp",
    "http_get",
    "is_ip_address",
    "proxy_connect",
    "resolve",
    "system_resolver",
    "tls_handshake",
]

#: ``resolver(host, port) -> addresses``; raises ``OSError`` (``socket.gaierror``) on failure.
Resolver = Callable[[str, int], Sequence[str]]

_MAX_HEAD = 64 * 1024
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL}
_RESET = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}


@dataclass(frozen=True)
class Origin:
    """Where one endpoint lives: scheme, host and port (the unit probes work on)."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme or "https"
        host = parts.hostname or ""
        return cls(scheme, host, parts.port or (443 if scheme == "https" else 80))

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.netloc if self.port != default else self.netloc.rsplit(":", 1)[0]


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _ok(detail: str, started: float, **data: Any) -> Probe:
    return Probe("ok", Verdict.OK, detail, _ms(started), data)


def _fail(category: Verdict, detail: str, started: float, **data: Any) -> Probe:
    return Probe("fail", category, detail, _ms(started), data)


# -- DNS ------------------------------------------------------------------------------


def system_resolver(host: str, port: int) -> list[str]:
    """The system resolver (``getaddrinfo``), exactly what the client's sockets use."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_ip_address(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return True
    return False


def resolve(host: str, port: int, resolver: Resolver | None, timeout: float) -> Probe:
    """Resolve ``host``; a resolver that hangs is cut off after ``timeout`` seconds."""
    started = time.monotonic()
    if is_ip_address(host):
        return _ok(f"{host} is an IP address", started, addresses=[host], literal=True)
    result: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            result["addresses"] = list((resolver or system_resolver)(host, port))
        except Exception as exc:  # OSError, or UnicodeError for a malformed name
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name=f"phonepe-doctor-dns-{host}", daemon=True).start()
    if not done.wait(timeout):
        return _fail(
            Verdict.DNS_FAILURE,
            f"the resolver did not answer for {host} within {timeout:g} s",
            started,
        )
    error = result.get("error")
    if error is not None:
        reason = getattr(error, "strerror", None) or str(error)
        return _fail(Verdict.DNS_FAILURE, f"{host} does not resolve: {reason}", started)
    addresses: list[str] = result["addresses"]
    if not addresses:
        return _fail(Verdict.DNS_FAILURE, f"{host} resolved to no addresses", started)
    return _ok(f"{host} -> {', '.join(addresses)}", started, addresses=addresses)


# -- TCP ------------------------------------------------------------------------------


def _connect_one(
    address: str, port: int, timeout: float
) -> tuple[socket.socket | None, str, Verdict]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
    except TimeoutError:
        sock.close()
        return (
            None,
            f"timed out after {timeout:g} s (no answer: packets dropped)",
            Verdict.CONNECT_TIMEOUT,
        )
    except OSError as exc:
        sock.close()
        if exc.errno == errno.ECONNREFUSED:
            return (
                None,
                "refused (something answered with a TCP reset)",
                Verdict.CONNECTION_REFUSED,
            )
        if exc.errno in _UNREACHABLE:
            return (
                None,
                f"unreachable ({exc.strerror}: no route, or a firewall's ICMP reject)",
                Verdict.CONNECTION_REFUSED,
            )
        return None, f"failed ({exc.strerror or exc})", Verdict.CONNECTION_REFUSED
    return sock, "connected", Verdict.OK


def connect_tcp(
    addresses: Sequence[str], port: int, timeout: float, *, via: str = ""
) -> tuple[Probe, socket.socket | None]:
    """Connect to every address at once; keep the first that connects (in resolver order).

    Trying them in parallel keeps the worst case (every address black-holed) at one
    connect timeout. ``via`` names what is being reached (e.g. ``"proxy "``) in details.
    """
    started = time.monotonic()
    results: list[tuple[socket.socket | None, str, Verdict] | None] = [None] * len(addresses)

    def attempt(index: int, address: str) -> None:
        try:
            results[index] = _connect_one(address, port, timeout)
        except Exception as exc:  # a probe reports; it never kills its thread
            results[index] = (None, f"failed ({exc})", Verdict.CONNECTION_REFUSED)

    threads = [
        threading.Thread(target=attempt, args=(i, a), name=f"phonepe-doctor-tcp-{a}", daemon=True)
        for i, a in enumerate(addresses)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 1.0)
    chosen: socket.socket | None = None
    chosen_address = ""
    lines: list[str] = []
    categories: list[Verdict] = []
    for address, outcome in zip(addresses, results, strict=True):
        sock, text, category = outcome or (None, "did not finish", Verdict.CONNECT_TIMEOUT)
        netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        lines.append(f"{via}{netloc} {text}")
        if sock is not None and chosen is None:
            chosen, chosen_address = sock, address
        elif sock is not None:
            sock.close()
        else:
            categories.append(category)
    detail = "; ".join(lines)
    if chosen is None:
        return _fail(categories[0], detail, started), None
    if categories:
        return Probe(
            "warn", categories[0], detail, _ms(started), {"address": chosen_address}
        ), chosen
    return _ok(detail, started, address=chosen_address), chosen


# -- HTTP heads (CONNECT and GET share the reader) --------------------------------------


class _BadResponse(Exception):
    pass


def _read_head(sock: socket.socket) -> tuple[int, str, dict[str, str]]:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(4096)
        if not chunk:
            if not buffer:
                raise ConnectionResetError(errno.ECONNRESET, "closed without answering")
            raise _BadResponse("the connection closed in the middle of the response head")
        buffer += chunk
        if len(buffer) > _MAX_HEAD:
            raise _BadResponse("the response head is larger than 64 KiB")
    head = buffer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise _BadResponse(f"not an HTTP response: {status_line[:60]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def _io_failure(exc: BaseException, what: str, timeout: float) -> tuple[Verdict, str]:
    if isinstance(exc, TimeoutError):
        return Verdict.READ_TIMEOUT, f"{what}: no answer within {timeout:g} s"
    if isinstance(exc, _BadResponse):
        return Verdict.PROTOCOL_ERROR, f"{what}: {exc}"
    if isinstance(exc, ssl.SSLError):
        return Verdict.TLS_ERROR, f"{what}: {exc.reason or exc}"
    if isinstance(exc, OSError) and (exc.errno in _RESET or isinstance(exc, ConnectionError)):
        return Verdict.CONNECTION_RESET, f"{what}: connection reset ({exc.strerror or exc})"
    return Verdict.PROTOCOL_ERROR, f"{what}: {exc}"


def proxy_connect(sock: socket.socket, proxy_url: str, target: Origin, timeout: float) -> Probe:
    """Ask the proxy for a tunnel to ``target`` (``CONNECT host:port``)."""
    started = time.monotonic()
    parts = urlsplit(proxy_url)
    lines = [f"CONNECT {target.netloc} HTTP/1.1", f"Host: {target.netloc}"]
    if parts.username:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        lines.append("Proxy-Authorization: Basic " + base64.b64encode(token.encode()).decode())
    sock.settimeout(timeout)
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status, reason, _ = _read_head(sock)
    except (OSError, _BadResponse) as exc:
        _, text = _io_failure(exc, "the proxy's answer to CONNECT", timeout)
        return _fail(Verdict.PROXY_ERROR, text, started)
    if status == 407:
        return _fail(
            Verdict.PROXY_ERROR,
            f"the proxy wants credentials (407 {reason}); put them in the proxy URL",
            started,
            http_status=status,
        )
    if not 200 <= status < 300:
        return _fail(
            Verdict.PROXY_ERROR,
            f"the proxy refused a tunnel to {target.netloc}: {status} {reason}",
            started,
            http_status=status,
        )
    return _ok(f"tunnel to {target.netloc} open through the proxy ({status} {reason})", started)


# -- TLS ------------------------------------------------------------------------------


def _name(entries: Any) -> str:
    values = {key: value for rdn in entries or () for key, value in rdn}
    return str(values.get("commonName") or values.get("organizationName") or "?")


def tls_handshake(
    sock: socket.socket, hostname: str, context: ssl.SSLContext, timeout: float
) -> tuple[Probe, ssl.SSLSocket | None]:
    """Handshake, verify the chain and the host name, and describe the certificate."""
    started = time.monotonic()
    sock.settimeout(timeout)
    try:
        tls = context.wrap_socket(sock, server_hostname=hostname)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        reason = str(exc.verify_message).rstrip(".")
        if exc.verify_code in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH
            text = f"the certificate is not valid for {hostname}: {reason}"
        else:
            text = f"the certificate is not trusted: {reason}"
        return _fail(Verdict.TLS_ERROR, text, started, verify_code=exc.verify_code), None
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        category, text = _io_failure(exc, "TLS handshake", timeout)
        if category is Verdict.READ_TIMEOUT:
            category = Verdict.TLS_ERROR
        return _fail(category, text, started), None
    cert = tls.getpeercert() or {}
    expires = ssl.cert_time_to_seconds(str(cert["notAfter"])) if "notAfter" in cert else None
    days = (expires - time.time()) / 86400 if expires else None
    detail = (
        f"{tls.version()}, certificate for {_name(cert.get('subject'))} issued by "
        f"{_name(cert.get('issuer'))}, host name matches"
    )
    if days is not None:
        detail += f", expires in {days:.0f} days"
    if days is not None and days < 14:
        return Probe("warn", Verdict.TLS_ERROR, detail, _ms(started)), tls
    return _ok(detail, started), tls


# -- HTTP -----------------------------------------------------------------------------


def http_get(
    sock: socket.socket,
    target: Origin,
    path: str,
    timeout: float,
    *,
    user_agent: str,
    absolute_form: bool = False,
) -> Probe:
    """Send one ``GET`` and read the response head. ``data["date"]`` is the server's clock.

    Any well-formed answer below 500 proves the endpoint is reachable (an API path
    without credentials answers 401 or 404); 5xx and proxy errors fail.
    """
    started = time.monotonic()
    origin = f"{target.scheme}://{target.host_header}"
    request_target = origin + path if absolute_form else path
    request = (
        f"GET {request_target} HTTP/1.1\r\nHost: {target.host_header}\r\n"
        f"User-Agent: {user_agent}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    sock.settimeout(timeout)
    try:
        sock.sendall(request.encode("latin-1"))
        status, reason, headers = _read_head(sock)
    except (OSError, _BadResponse) as exc:
        category, text = _io_failure(exc, f"GET {origin}{path}", timeout)
        return _fail(category, text, started)
    finally:
        sock.close()
    received = time.time()
    data: dict[str, Any] = {"http_status": status, "received": received}
    date = headers.get("date")
    if date:
        try:
            data["date"] = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            data["bad_date"] = date
    server = headers.get("server")
    detail = f"GET {origin}{path} -> {status} {reason}".rstrip()
    if server:
        detail += f" (server: {server[:40]})"
    if status == 407:
        return _fail(Verdict.PROXY_ERROR, detail + ": a proxy wants credentials", started, **data)
    if status >= 500:
        return _fail(Verdict.HTTP_ERROR, detail, started, **data)
    return _ok(detail, started, **data)
