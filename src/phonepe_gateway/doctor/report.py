"""The doctor's run and its report: find out in seconds why this machine cannot pay.

:func:`run_diagnostics` checks every configured endpoint (payments and OAuth) in
parallel -- DNS, TCP, proxy, TLS, one HTTP request (:mod:`.endpoints`) -- then clock skew
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

import os
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._config import Settings, mask, strip_userinfo
from .._errors import ConfigurationError
from .checks import BLOCKED, Step, clock, configuration, proxy_summary
from .credentials import check_credentials
from .endpoints import Run, origins, probe_endpoints
from .probes import Origin, Resolver, is_ip_address
from .remedies import Situation, remedy
from .verdict import Probe, Status, Verdict

__all__ = ["Check", "Report", "configuration_failure", "diagnose", "run_diagnostics"]


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
    run = Run(
        settings,
        resolver,
        os.environ if environ is None else environ,
        ssl_context or httpx.create_ssl_context(),  # what the client's transport trusts
        ssl_context is not None,
    )
    paths = origins(settings)
    run.routes = {origin: settings.proxy for origin in paths}
    steps = [configuration(settings), proxy_summary(settings, list(paths), run.environ)]
    steps.extend(probe_endpoints(run, paths))
    blocker = next((s.probe.verdict for s in steps if s.probe.status == "fail"), Verdict.OK)
    steps.append(clock([s for s in steps if s.kind == "http"], blocker))
    answered = {s.origin for s in steps if s.kind == "http" and s.probe.ok}
    steps.append(_credentials(run, answered, blocker))
    return _report(steps, run, started)


# -- endpoints and the other checks -----------------------------------------------


def _checked_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(
            f"--base-url must be an http(s) URL like https://host[:port][/path], "
            f"not {strip_userinfo(url)!r}."
        )
    return url.strip().rstrip("/")


def _credentials(run: Run, answered: set[Origin | None], blocker: Verdict) -> Step:
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


def _situation(steps: Sequence[Step], run: Run) -> Situation:
    connect = [s for s in steps if s.kind == "tcp"]
    dns_ok = all(s.probe.ok for s in steps if s.kind == "dns")
    refused = [s.probe.verdict is Verdict.CONNECTION_REFUSED for s in connect]
    timed_out = [s.probe.verdict is Verdict.CONNECT_TIMEOUT for s in connect]
    return Situation(
        env=run.settings.env,
        api_version=run.settings.api_version,
        origins=tuple(run.routes),
        proxy=strip_userinfo(run.settings.proxy) if run.settings.proxy else None,
        local_url=run.settings.local_url,
        all_refused=dns_ok and bool(refused) and all(refused),
        all_timed_out=dns_ok and bool(timed_out) and all(timed_out),
    )


def _report(steps: Sequence[Step], run: Run, started: float) -> Report:
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


def _scrubber(run: Run) -> Callable[[str], str]:
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
