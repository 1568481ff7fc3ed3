"""The per-endpoint chain: DNS -> TCP -> (proxy CONNECT) -> (TLS) -> HTTP, all endpoints at once.

Every distinct origin (scheme, host, port) of the payments and OAuth URLs is probed on
its own daemon thread, so the worst case -- every endpoint black-holed -- costs one
connect timeout, not one per endpoint. A chain stops at its first failure; a chain
that does not finish within the budget is reported as such, and a probe that crashes
is reported instead of hiding the other endpoints' results.
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from .._config import Settings
from .certificates import peek_certificate
from .checks import Step
from .probes import (
    Origin,
    Resolver,
    connect_tcp,
    http_get,
    proxy_connect,
    resolve,
    tls_handshake,
)
from .verdict import Probe, Verdict

__all__ = ["MAX_READ_TIMEOUT", "Run", "origins", "probe_endpoints"]

T = TypeVar("T")

#: The doctor waits at most this long for one HTTP answer, whatever PHONEPE_READ_TIMEOUT says.
MAX_READ_TIMEOUT = 5.0


@dataclass
class Run:
    """What every probe of one doctor run shares."""

    settings: Settings
    resolver: Resolver | None
    environ: Mapping[str, str]
    context: ssl.SSLContext
    custom_context: bool
    routes: dict[Origin, str | None] = field(default_factory=dict)

    @property
    def read_timeout(self) -> float:
        return min(self.settings.read_timeout, MAX_READ_TIMEOUT)


def origins(settings: Settings) -> dict[Origin, str]:
    """Every distinct (scheme, host, port), with the path of its first URL."""
    out: dict[Origin, str] = {}
    for url in (*settings.base_urls, *settings.oauth_urls):
        out.setdefault(Origin.of(url), (urlsplit(url).path.rstrip("/") or "") + "/")
    return out


def probe_endpoints(run: Run, paths: Mapping[Origin, str]) -> list[Step]:
    """Probe every origin in parallel; the steps of each chain, in ``paths`` order."""
    budget = 3 * run.settings.connect_timeout + run.read_timeout + 1.0
    jobs = [functools.partial(_guarded, run, origin, path) for origin, path in paths.items()]
    steps: list[Step] = []
    for origin, chain in zip(paths, _in_parallel(jobs, budget), strict=True):
        steps.extend(chain or [_unfinished(origin, budget)])
    return steps


def _in_parallel(jobs: Sequence[Callable[[], T]], timeout: float) -> list[T | None]:
    """Run ``jobs`` in daemon threads; ``None`` for any still running after ``timeout``."""
    results: list[T | None] = [None] * len(jobs)

    def work(index: int) -> None:
        results[index] = jobs[index]()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(jobs))]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return results


def _guarded(run: Run, origin: Origin, path: str) -> list[Step]:
    try:
        return _probe_origin(run, origin, path)
    except Exception as exc:  # a bug in a probe must not hide the other endpoints' results
        probe = Probe("fail", Verdict.PROTOCOL_ERROR, f"the probe crashed: {exc!r}", 0.0)
        return [Step("http", f"endpoint {origin.netloc}", probe, origin)]


def _probe_origin(run: Run, origin: Origin, path: str) -> list[Step]:
    """DNS -> TCP -> (proxy CONNECT) -> (TLS) -> HTTP for one origin; stop at the first failure."""
    timeout = run.settings.connect_timeout
    proxy = run.routes.get(origin)
    hop = Origin.of(proxy) if proxy else origin
    steps: list[Step] = []
    kind = "proxy" if proxy else "dns"
    name = f"dns {hop.host}" + (" (proxy)" if proxy else "")
    dns = resolve(hop.host, hop.port, run.resolver, timeout)
    if not dns.data.get("literal"):
        steps.append(Step(kind, name, dns, hop))
    if not dns.ok:
        return steps
    tcp, sock = connect_tcp(dns.data["addresses"], hop.port, timeout, via="proxy " if proxy else "")
    if proxy and tcp.verdict is not Verdict.OK:
        tcp.verdict = Verdict.PROXY_ERROR
    kind = "proxy" if proxy else ("tcp-partial" if tcp.status == "warn" else "tcp")
    steps.append(Step(kind, f"tcp {hop.netloc}", tcp, hop))
    if sock is None:
        return steps
    if proxy and origin.scheme == "https":
        tunnel = proxy_connect(sock, proxy, origin, run.read_timeout)
        steps.append(Step("proxy", f"proxy {hop.netloc} -> {origin.netloc}", tunnel, hop))
        if not tunnel.ok:
            sock.close()
            return steps
    if origin.scheme == "https":
        tls, tls_sock = tls_handshake(sock, origin.host, run.context, timeout)
        steps.append(Step("tls", f"tls {origin.netloc}", tls, origin))
        if tls_sock is None:
            if "verify_code" in tls.data:
                presented = _presented(run, origin, hop, tcp.data["address"], proxy)
                tls.detail += f"; it presented a {presented}" if presented else ""
            return steps
        sock = tls_sock
    forward = bool(proxy) and origin.scheme == "http"
    http = http_get(
        sock,
        origin,
        path,
        run.read_timeout,
        user_agent=run.settings.user_agent,
        absolute_form=forward,
    )
    steps.append(Step("http", f"http {origin.scheme}://{origin.host_header}{path}", http, origin))
    return steps


def _presented(
    run: Run, origin: Origin, hop: Origin, address: str, proxy: str | None
) -> str | None:
    """Connect again the same way and read the rejected certificate's subject and issuer."""
    _, sock = connect_tcp([address], hop.port, run.settings.connect_timeout)
    if sock is None:
        return None
    if proxy and not proxy_connect(sock, proxy, origin, run.read_timeout).ok:
        sock.close()
        return None
    return peek_certificate(sock, origin.host, run.settings.connect_timeout)


def _unfinished(origin: Origin, budget: float) -> Step:
    probe = Probe(
        "fail",
        Verdict.READ_TIMEOUT,
        f"the checks of {origin.netloc} did not finish within {budget:g} s",
        budget * 1000,
    )
    return Step("http", f"endpoint {origin.netloc}", probe, origin)
