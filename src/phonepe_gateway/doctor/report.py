"""The doctor's run and its report: find out in seconds why this machine cannot pay.

:func:`run_diagnostics` checks every configured endpoint (payments and OAuth) in
parallel -- DNS, TCP, proxy, TLS, one HTTP request (:mod:`.probes`) -- then clock skew
and proxy routing (:mod:`.checks`), then makes one real credential check through
:class:`~phonepe_gateway.PhonePeClient` against the endpoints that answered
(:mod:`.credentials`). Every :class:`Check` carries a :class:`~.verdict.Verdict` and,
when it is not ``ok``, a remedy for that verdict and environment (:mod:`.remedies`).

A ``warn`` is advisory (it works, but look at it); only ``fail`` makes
:attr:`Report.ok` false. The worst case -- every endpoint black-holed -- ends after one
connect timeout. The report never contains a secret: details are scrubbed of every
configured secret before they leave this module. It never creates a payment.
"""

from __future__ import annotations

import functools
import os
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from .._config import Settings, _strip_userinfo, mask
from .._errors import ConfigurationError
from .certificates import peek_certificate
from .checks import BLOCKED, Step, clock, configuration, proxy_summary
from .credentials import check_credentials
from .probes import (
    Origin,
    Resolver,
    connect_tcp,
    http_get,
    is_ip_address,
    proxy_connect,
    resolve,
    tls_handshake,
)
from .remedies import Situation, remedy
from .verdict import Probe, Status, Verdict

__all__ = ["Check", "Report", "configuration_failure", "diagnose", "run_diagnostics"]

T = TypeVar("T")

#: The doctor waits at most this long for one HTTP answer, whatever PHONEPE_READ_TIMEOUT says.
MAX_READ_TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    """One verdict: what was checked, how it went, why, and what to do about it."""

    name: str
    status: Status
    category: Verdict  # "category" in the JSON; the values are the verdicts
    detail: str
    remedy: str = ""
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "category": self.category.value,
            "detail": self.detail,
            "remedy": self.remedy,
            "elapsed_ms": self.elapsed_ms,
        }


@dataclass(frozen=True)
class Report:
    """All checks of one run. ``ok`` is true when no check failed (warnings pass)."""

    checks: tuple[Check, ...]
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON (docs/OPERATIONS.md): ``{"ok": bool, "checks": [...]}``.

        Its field names and ``category`` strings are a public contract: scripts parse them.
        """
        return {"ok": self.ok, "checks": [check.to_dict() for check in self.checks]}


@dataclass
class _Run:
    settings: Settings
    resolver: Resolver | None
    environ: Mapping[str, str]
    context: ssl.SSLContext
    custom_context: bool
    routes: dict[Origin, str | None] = field(default_factory=dict)

    @property
    def read_timeout(self) -> float:
        return min(self.settings.read_timeout, MAX_READ_TIMEOUT)


_CREDENTIAL_NAMES = ("CLIENT_ID", "CLIENT_SECRET", "MERCHANT_ID", "SALT_KEY")


def configuration_failure(error: ConfigurationError) -> Report:
    """The report for settings that could not even be built.

    The category list has no "configuration" entry: missing or malformed credentials
    are reported as AUTH_FAILED (no call could authenticate), anything else as
    PROTOCOL_ERROR (the client could not speak to the gateway as configured).
    """
    credentials = any(name in error.message for name in _CREDENTIAL_NAMES)
    category = Verdict.AUTH_FAILED if credentials else Verdict.PROTOCOL_ERROR
    detail = "invalid settings: " + error.message.split(". ")[0].rstrip(".")
    check = Check("configuration", "fail", category, detail, error.message)
    return Report((check,))


def diagnose(
    settings_factory: Callable[[], Settings] = Settings.from_env, base_urls: Sequence[str] = ()
) -> Report:
    """Build settings (``Settings.from_env`` unless a factory is given) and run the checks.

    Settings that cannot even be built are reported, not raised.
    """
    try:
        return run_diagnostics(settings_factory(), base_urls=list(base_urls) or None)
    except ConfigurationError as exc:
        return configuration_failure(exc)


def run_diagnostics(
    settings: Settings,
    *,
    base_urls: Sequence[str] | None = None,
    resolver: Resolver | None = None,
    environ: Mapping[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Report:
    """Check every endpoint of ``settings`` (or ``base_urls``) and the credentials.

    ``resolver(host, port) -> addresses`` replaces the system resolver (tests use it so
    no DNS traffic leaves the machine); ``environ`` replaces ``os.environ`` for proxy
    variables; ``ssl_context`` replaces the CA bundle httpx would use.
    """
    started = time.monotonic()
    if base_urls:
        urls = tuple(_checked_url(url) for url in base_urls)
        settings = settings.replace(base_urls=urls, oauth_urls=urls)
    run = _Run(
        settings,
        resolver,
        os.environ if environ is None else environ,
        ssl_context or httpx.create_ssl_context(),  # what the client's transport trusts
        ssl_context is not None,
    )
    paths = _origins(settings)
    run.routes = {origin: settings.proxy for origin in paths}
    budget = 3 * settings.connect_timeout + run.read_timeout + 1.0
    jobs = [functools.partial(_guarded, run, origin, path) for origin, path in paths.items()]
    chains = _in_parallel(jobs, budget)
    steps = [configuration(settings), proxy_summary(settings, list(paths), run.environ)]
    for (origin, _), chain in zip(paths.items(), chains, strict=True):
        steps.extend(chain or [_unfinished(origin, budget)])
    blocker = next((s.probe.verdict for s in steps if s.probe.status == "fail"), Verdict.OK)
    steps.append(clock([s for s in steps if s.kind == "http"], blocker))
    answered = {s.origin for s in steps if s.kind == "http" and s.probe.ok}
    steps.append(_credentials(run, answered, blocker))
    return _report(steps, run, started)


# -- endpoints ------------------------------------------------------------------------


def _checked_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(
            f"--base-url must be an http(s) URL like https://host[:port][/path], "
            f"not {_strip_userinfo(url)!r}."
        )
    return url.strip().rstrip("/")


def _origins(settings: Settings) -> dict[Origin, str]:
    """Every distinct (scheme, host, port), with the path of its first URL."""
    out: dict[Origin, str] = {}
    for url in (*settings.base_urls, *settings.oauth_urls):
        out.setdefault(Origin.of(url), (urlsplit(url).path.rstrip("/") or "") + "/")
    return out


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


def _guarded(run: _Run, origin: Origin, path: str) -> list[Step]:
    try:
        return _probe_origin(run, origin, path)
    except Exception as exc:  # a bug in a probe must not hide the other endpoints' results
        probe = Probe("fail", Verdict.PROTOCOL_ERROR, f"the probe crashed: {exc!r}", 0.0)
        return [Step("http", f"endpoint {origin.netloc}", probe, origin)]


def _probe_origin(run: _Run, origin: Origin, path: str) -> list[Step]:
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
    run: _Run, origin: Origin, hop: Origin, address: str, proxy: str | None
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


# -- the other checks -----------------------------------------------------------------


def _credentials(run: _Run, answered: set[Origin | None], blocker: Verdict) -> Step:
    s = run.settings
    base = tuple(u for u in s.base_urls if Origin.of(u) in answered)
    oauth = tuple(u for u in s.oauth_urls if Origin.of(u) in answered)
    if not base or (s.api_version == "v2" and not oauth):
        category = blocker if blocker is not Verdict.OK else Verdict.HTTP_ERROR
        probe = Probe("warn", category, "not checked: no endpoint answered", 0.0)
        return Step("credentials", "credentials", probe, remedy=BLOCKED)
    # The client resolves through the system, not an injected resolver: it would not
    # reach the addresses the probes saw (and tests must not send DNS queries).
    if run.resolver is not None and not all(is_ip_address(Origin.of(u).host) for u in base + oauth):
        probe = Probe("warn", Verdict.OK, "not checked: names came from an injected resolver", 0.0)
        return Step("credentials", "credentials", probe, remedy="")
    settings = s.replace(
        base_urls=base,
        oauth_urls=oauth or base,
        max_retries=0,
        read_timeout=run.read_timeout,
        timeout=s.connect_timeout + run.read_timeout,  # one attempt per call
    )
    context = run.context if run.custom_context else None
    probe = check_credentials(settings, context)
    return Step("credentials", "credentials", probe, remedy=probe.data.get("remedy"))


# -- assembly -------------------------------------------------------------------------


def _situation(steps: Sequence[Step], run: _Run) -> Situation:
    connect = [s for s in steps if s.kind == "tcp"]
    dns_ok = all(s.probe.ok for s in steps if s.kind == "dns")
    refused = [s.probe.verdict is Verdict.CONNECTION_REFUSED for s in connect]
    timed_out = [s.probe.verdict is Verdict.CONNECT_TIMEOUT for s in connect]
    return Situation(
        env=run.settings.env,
        api_version=run.settings.api_version,
        origins=tuple(run.routes),
        proxy=_strip_userinfo(run.settings.proxy) if run.settings.proxy else None,
        local_url=run.settings.local_url,
        all_refused=dns_ok and bool(refused) and all(refused),
        all_timed_out=dns_ok and bool(timed_out) and all(timed_out),
    )


def _report(steps: Sequence[Step], run: _Run, started: float) -> Report:
    situation = _situation(steps, run)
    scrub = _scrubber(run)
    checks = []
    for step in steps:
        probe = step.probe
        advice = step.remedy
        if advice is None:
            advice = remedy(step.kind, probe.verdict, situation, step.origin)
        if probe.status == "ok":
            advice = ""
        checks.append(
            Check(
                step.name,
                probe.status,
                probe.verdict,
                scrub(probe.detail),
                scrub(advice),
                probe.elapsed_ms,
            )
        )
    return Report(tuple(checks), round((time.monotonic() - started) * 1000, 1))


def _scrubber(run: _Run) -> Callable[[str], str]:
    """Replace every configured secret (and the proxy password) by its mask."""
    s = run.settings
    values = [v.reveal() for v in (s.client_secret, s.salt_key, s.webhook_password) if v]
    values += [pw.reveal() for _, pw in s.webhook_credentials]
    for proxy in {*run.routes.values(), s.proxy}:
        password = urlsplit(proxy).password if proxy else None
        if password:
            values.append(password)
    secrets_ = sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)

    def scrub(text: str) -> str:
        for value in secrets_:
            text = text.replace(value, mask(value))
        return text

    return scrub
