"""The doctor's checks that need no socket: configuration, proxy routing, clock skew.

They read settings, the environment and the HTTP probes' ``Date`` headers, and judge
them by what the client really does: its transport (``_drivers``) is an
``httpx.HTTPTransport(proxy=settings.proxy)``, so ``PHONEPE_PROXY`` -- or
``HTTPS_PROXY``, folded in by ``Settings.from_env`` -- carries every endpoint, while
``NO_PROXY``, ``HTTP_PROXY`` and ``ALL_PROXY`` are never read. Secrets appear only masked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .._config import Settings, mask, strip_userinfo
from .probes import Origin
from .verdict import Probe, Verdict

__all__ = ["BLOCKED", "SKEW_FAIL", "SKEW_WARN", "Step", "clock", "configuration", "proxy_summary"]

#: Clock skew (seconds) above which the doctor warns, and above which it fails.
SKEW_WARN, SKEW_FAIL = 30.0, 300.0

BLOCKED = "Fix the failures above first; this check runs once an endpoint answers."


@dataclass
class Step:
    """A probe's verdict with what it was about; the report turns it into a ``Check``."""

    kind: str  # config | proxy | dns | tcp | tls | http | clock | credentials
    name: str
    probe: Probe
    origin: Origin | None = None
    remedy: str | None = None  # overrides the category's remedy


def _since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _secret(value: object) -> str:
    reveal = getattr(value, "reveal", None)
    return mask(reveal() if reveal else None)


def configuration(settings: Settings) -> Step:
    """Environment, API generation, which credentials are set (masked), endpoints, timeouts."""
    started = time.monotonic()
    s = settings
    if s.api_version == "v2":
        creds = (
            f"client_id={s.client_id or '<unset>'}, client_secret={_secret(s.client_secret)}, "
            f"client_version={s.client_version}"
        )
    else:
        creds = (
            f"merchant_id={s.merchant_id or '<unset>'}, salt_key={_secret(s.salt_key)}, "
            f"salt_index={s.salt_index}"
        )
    webhook = (
        f"webhook user {s.webhook_username}, password {_secret(s.webhook_password)}"
        if s.webhook_username
        else "webhook credentials unset"
    )
    detail = (
        f"env={s.env}, API {s.api_version}; {creds}; {webhook}; payments "
        f"{', '.join(s.base_urls)}; oauth {', '.join(s.oauth_urls)}; timeouts connect "
        f"{s.connect_timeout:g} s, read {s.read_timeout:g} s"
    )
    return Step("config", "configuration", Probe("ok", Verdict.OK, detail, _since(started)))


def _env(environ: Mapping[str, str], name: str) -> str | None:
    return environ.get(name) or environ.get(name.lower()) or None


def proxy_summary(
    settings: Settings, origins: Sequence[Origin], environ: Mapping[str, str]
) -> Step:
    """Which proxy each endpoint goes through, and proxy variables the client ignores."""
    started = time.monotonic()
    proxy = strip_userinfo(settings.proxy) if settings.proxy else None
    parts = [f"settings proxy={proxy or '<unset>'}"]
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        value = _env(environ, name)
        if value:
            parts.append(f"{name}={strip_userinfo(value)}")
    route = f"via {proxy}" if proxy else "direct"
    parts.extend(f"{origin.netloc} {route}" for origin in origins)
    ignored = _ignored(settings, environ)
    detail = "; ".join(parts)
    if not ignored:
        return Step("proxy", "proxy settings", Probe("ok", Verdict.OK, detail, _since(started)))
    probe = Probe("warn", Verdict.PROXY_ERROR, detail, _since(started))
    return Step("proxy", "proxy settings", probe, remedy=" ".join(ignored))


def _ignored(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    notes = []
    if not settings.proxy and (_env(environ, "HTTPS_PROXY") or _env(environ, "ALL_PROXY")):
        notes.append(
            "A proxy is set in the environment but not in the PhonePe settings, so the client "
            "connects directly. If this machine must use that proxy, set PHONEPE_PROXY (or "
            "PHONEPE['proxy'] in Django settings)."
        )
    if settings.proxy and _env(environ, "NO_PROXY"):
        notes.append(
            "NO_PROXY is not applied by the PhonePe client: its proxy carries every PhonePe "
            "endpoint. Unset PHONEPE_PROXY if they must bypass the proxy."
        )
    return notes


def clock(http_steps: Sequence[Step], blocker: Verdict) -> Step:
    """Skew between this machine and the servers' ``Date`` headers (largest one wins)."""
    started = time.monotonic()
    skews = [
        (s.probe.data["date"] - s.probe.data["received"], s.origin)
        for s in http_steps
        if "date" in s.probe.data
    ]
    if not skews:
        if blocker is not Verdict.OK:
            probe = Probe("warn", blocker, "not measured: no endpoint answered", 0.0)
            return Step("clock", "clock skew", probe, remedy=BLOCKED)
        probe = Probe("warn", Verdict.CLOCK_SKEW, "not measured: no Date header in any answer", 0.0)
        return Step("clock", "clock skew", probe, remedy="Compare with an NTP server by hand.")
    skew, origin = max(skews, key=lambda item: abs(item[0]))
    # Date carries whole seconds; allow one second of truncation before judging.
    judged = max(0.0, abs(skew) - 1.0)
    where = origin.netloc if origin else "the server"
    side = "behind" if skew > 0 else "ahead of"
    detail = f"this machine's clock is {abs(skew):.0f} s {side} {where}"
    if not judged:
        detail = f"this machine's clock agrees with {where} (Date headers have 1 s resolution)"
    if judged > SKEW_FAIL:
        probe = Probe("fail", Verdict.CLOCK_SKEW, detail, _since(started))
    elif judged > SKEW_WARN:
        probe = Probe("warn", Verdict.CLOCK_SKEW, detail, _since(started))
    else:
        probe = Probe("ok", Verdict.OK, detail, _since(started))
    return Step("clock", "clock skew", probe, origin)
