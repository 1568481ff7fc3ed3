"""What to do about a failed check: one remedy per (check, verdict, situation).

The seeds this project grew from are teams that spent days guessing (DNS? firewall?
code?) after ``[Errno 111] Connection refused``. A remedy therefore names the cause the
evidence points to, the exact hosts and ports, and who can fix it; it also says which
popular non-fixes (more retries, longer timeouts) will not help.

For a transport verdict the fix itself is the client's own remedy
(``phonepe_gateway._remedies``, the one text the client's errors also quote); this
module frames it with what only the probes know -- which host or address, which hop,
a command that shows it. The doctor's own verdicts (``HTTP_ERROR``, ``AUTH_FAILED``,
``CLOCK_SKEW``) and a host whose addresses only partly work have advice that lives
only here. Pure text: never touches the network, never sees a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._remedies import remedy as client_remedy
from .probes import Origin
from .verdict import Verdict

__all__ = ["Situation", "remedy"]


@dataclass(frozen=True)
class Situation:
    """The facts about the whole run that change the advice for one check."""

    env: str
    api_version: str
    origins: tuple[Origin, ...]
    proxy: str | None
    local_url: str
    all_refused: bool = False
    all_timed_out: bool = False

    @property
    def targets(self) -> str:
        return ", ".join(o.netloc for o in self.origins) or "the PhonePe hosts"

    @property
    def ports(self) -> str:
        return "/".join(sorted({str(o.port) for o in self.origins})) or "443"


_DIRECT_BLOCKED = (
    "Retrying, failover and longer timeouts will not help: the packets never reach PhonePe."
)


def _show_them(s: Situation) -> str:
    first = s.origins[0] if s.origins else None
    if first is None:
        return ""
    return f" To show it: `nc -vz {first.host} {first.port}` fails on this server."


def remedy(kind: str, verdict: Verdict, situation: Situation, origin: Origin | None) -> str:
    """The advice for one failed or warned check of type ``kind``."""
    if verdict is Verdict.OK:
        return ""
    if kind == "tcp-partial":
        return _some_addresses(situation, origin)
    handler = _HANDLERS.get(verdict)
    return handler(kind, situation, origin) if handler else ""


def _where(origin: Origin | None, situation: Situation) -> str:
    return origin.netloc if origin else situation.targets


def _local(situation: Situation) -> bool:
    return situation.env == "local"


def _some_addresses(s: Situation, origin: Origin | None) -> str:
    host = origin.host if origin else "the host"
    return (
        f"Some addresses of {host} work and some do not. The client tries them in the "
        "resolver's order, so a dead address listed first costs a connect timeout on "
        "new connections. Usually IPv6 is resolved but not routed here: fix IPv6 "
        "egress, or prefer IPv4 (precedence ::ffff:0:0/96 100 in /etc/gai.conf)."
    )


def _client(verdict: Verdict, s: Situation, *, every: bool = False) -> str:
    """The client's remedy for a transport verdict, for this run's hosts."""
    category = verdict.category
    assert category is not None, verdict
    return client_remedy(
        category,
        env=s.env,
        hosts=s.targets,
        ports=s.ports,
        every_endpoint=every,
        proxy=s.proxy,
        doctor_hint=False,
    )


def _dns(kind: str, s: Situation, origin: Origin | None) -> str:
    host = origin.host if origin else "the host"
    if kind == "proxy":
        return (
            f"The proxy's host name {host} does not resolve: fix the host in PHONEPE_PROXY "
            "(or HTTPS_PROXY), or unset it to connect directly."
        )
    return (
        f"This machine's resolver cannot resolve {host}. "
        f"{_client(Verdict.DNS_FAILURE, s)} To see it: `getent hosts {host}`."
    )


def _refused(kind: str, s: Situation, origin: Origin | None) -> str:
    if kind == "proxy":
        return _proxy(kind, s, origin)
    where = _where(origin, s)
    advice = _client(Verdict.CONNECTION_REFUSED, s, every=s.all_refused)
    if _local(s):
        return f"Nothing listens at {where}. {advice}"
    if s.all_refused:
        return f"DNS works. {advice} {_DIRECT_BLOCKED}{_show_them(s)}"
    return (
        f"{where} refused the connection (or a firewall rejected it) while other endpoints "
        f"work. {advice} The client fails over to the working endpoints meanwhile."
    )


def _timeout(kind: str, s: Situation, origin: Origin | None) -> str:
    if kind == "proxy":
        return _proxy(kind, s, origin)
    advice = _client(Verdict.CONNECT_TIMEOUT, s, every=s.all_timed_out)
    if _local(s):
        return advice
    where = "" if s.all_timed_out else f"No answer from {_where(origin, s)}. "
    return f"{where}{advice} {_DIRECT_BLOCKED}{_show_them(s)}"


def _tls(kind: str, s: Situation, origin: Origin | None) -> str:
    host = origin.host if origin else "the host"
    return (
        f"The TLS certificate presented for {host} is not acceptable. "
        f"{_client(Verdict.TLS_ERROR, s)}"
    )


def _proxy(kind: str, s: Situation, origin: Origin | None) -> str:
    return _client(Verdict.PROXY_ERROR, s)


def _broken_conversation(
    verdict: Verdict,
) -> Callable[[str, Situation, Origin | None], str]:
    def advise(kind: str, s: Situation, origin: Origin | None) -> str:
        return (
            f"TCP to {_where(origin, s)} works but the HTTP exchange broke. "
            f"{_client(verdict, s)} Run the doctor again; if it persists, ask your network "
            f"team what sits between this server and {s.targets}."
        )

    return advise


def _http(kind: str, s: Situation, origin: Origin | None) -> str:
    if kind == "credentials":
        return (
            "The gateway answered the credential check with an error that is not about "
            "credentials (see detail). A 5xx is PhonePe's side or a proxy in front of it: "
            "retry later; the client fails over and retries safe calls meanwhile."
        )
    where = _where(origin, s)
    return (
        f"{where} answered with a server error: PhonePe or a proxy in front of it is "
        "failing. Retry later; if an HTML error page comes from your own proxy, fix the "
        "proxy. The client fails over and retries safe calls meanwhile."
    )


def _auth(kind: str, s: Situation, origin: Origin | None) -> str:
    if _local(s):
        return (
            "The local sandbox accepts only its built-in credentials (client id "
            "PGSANDBOXCLIENT, client version 1; merchant id PGSANDBOXMERCHANT, salt index "
            "1): unset PHONEPE_CLIENT_ID / PHONEPE_CLIENT_SECRET / PHONEPE_MERCHANT_ID / "
            "PHONEPE_SALT_KEY, or start `phonepe sandbox` with --client-id/--client-secret "
            "matching yours."
        )
    other = "sandbox" if s.env == "production" else "production"
    if s.api_version == "v1":
        names = "PHONEPE_MERCHANT_ID, PHONEPE_SALT_KEY and PHONEPE_SALT_INDEX"
    else:
        names = "PHONEPE_CLIENT_ID, PHONEPE_CLIENT_SECRET and PHONEPE_CLIENT_VERSION"
    return (
        f"PhonePe rejected the credentials. Compare {names} with the PhonePe business "
        f"dashboard (Developer settings) for the {s.env.upper()} environment, without "
        f"stray spaces or quotes. Credentials of one environment do not work in the other: "
        f"if these are {other} credentials, set PHONEPE_ENV={other}. Check that "
        f"PHONEPE_API_VERSION={s.api_version} is the API generation your account uses."
    )


def _clock(kind: str, s: Situation, origin: Origin | None) -> str:
    return (
        "Synchronise this machine's clock: enable NTP (`timedatectl set-ntp true`, chrony "
        "or ntpd; in a container, fix the host's clock). Token lifetimes and certificate "
        "validity are judged by this clock."
    )


_HANDLERS: dict[Verdict, Callable[[str, Situation, Origin | None], str]] = {
    Verdict.DNS_FAILURE: _dns,
    Verdict.CONNECTION_REFUSED: _refused,
    Verdict.CONNECT_TIMEOUT: _timeout,
    Verdict.TLS_ERROR: _tls,
    Verdict.PROXY_ERROR: _proxy,
    Verdict.CONNECTION_RESET: _broken_conversation(Verdict.CONNECTION_RESET),
    Verdict.READ_TIMEOUT: _broken_conversation(Verdict.READ_TIMEOUT),
    Verdict.PROTOCOL_ERROR: _broken_conversation(Verdict.PROTOCOL_ERROR),
    Verdict.HTTP_ERROR: _http,
    Verdict.AUTH_FAILED: _auth,
    Verdict.CLOCK_SKEW: _clock,
}
