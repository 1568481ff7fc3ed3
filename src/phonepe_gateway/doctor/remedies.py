"""What to do about a failed diagnostic: one remedy per (probe, category, environment).

The seeds this project grew from are teams that spent days guessing (DNS? firewall?
code?) after ``[Errno 111] Connection refused``. A remedy therefore names the cause the
evidence points to, the exact hosts and ports, and who can fix it; it also says which
popular non-fixes (more retries, longer timeouts) will not help. Pure text: this module
never touches the network and never sees a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _dns(kind: str, s: Situation, origin: Origin | None) -> str:
    host = origin.host if origin else "the host"
    if kind == "proxy":
        return (
            f"The proxy's host name {host} does not resolve: fix the host in PHONEPE_PROXY "
            "(or HTTPS_PROXY), or unset it to connect directly."
        )
    return (
        f"This machine's resolver cannot resolve {host}. Check the host name in "
        "PHONEPE_BASE_URLS / PHONEPE_OAUTH_URLS / PHONEPE_LOCAL_URL for typos, then the "
        f"resolver: `getent hosts {host}`, /etc/resolv.conf (or the container's DNS "
        "settings). If this network only reaches the internet through an egress proxy, set "
        "PHONEPE_PROXY=http://proxy-host:port: the proxy resolves names then."
    )


def _refused(kind: str, s: Situation, origin: Origin | None) -> str:
    if kind == "proxy":
        return _proxy(kind, s, origin)
    where = _where(origin, s)
    if _local(s):
        return (
            f"Nothing listens at {where}. Start the local sandbox with `phonepe sandbox` "
            f"(it listens on {s.local_url}), or point PHONEPE_LOCAL_URL at where it runs."
        )
    if s.all_refused:
        return (
            "DNS works but every PhonePe host refuses TCP from this machine: outbound "
            f"connections to port {s.ports} are blocked here (hosting firewall or egress "
            "policy) -- PhonePe itself does not refuse connections. Ask your hosting "
            f'provider: "Please allow outbound TCP from this server to {s.targets}." '
            "Or send the traffic through an egress proxy you are allowed to use: "
            f"PHONEPE_PROXY=http://proxy-host:port. {_DIRECT_BLOCKED}{_show_them(s)}"
        )
    return (
        f"{where} refused the connection (or a firewall rejected it) while other endpoints "
        "work: check that host and port in PHONEPE_BASE_URLS / PHONEPE_OAUTH_URLS; the "
        "client fails over to the working endpoints meanwhile."
    )


def _timeout(kind: str, s: Situation, origin: Origin | None) -> str:
    if kind == "proxy":
        return _proxy(kind, s, origin)
    where = _where(origin, s)
    if _local(s):
        return (
            f"Connections to {where} hang: a local firewall drops them, or the sandbox "
            "process is stuck. Restart `phonepe sandbox`."
        )
    scope = "every PhonePe host" if s.all_timed_out else where
    return (
        f"Packets to {scope} are dropped without an answer: a firewall filters outbound "
        f"port {s.ports} (a DROP rule, cloud security group or egress ACL). Ask your "
        f"hosting provider to allow outbound TCP to {s.targets}, or set "
        f"PHONEPE_PROXY=http://proxy-host:port to use an egress proxy. {_DIRECT_BLOCKED}"
        f"{_show_them(s)}"
    )


def _tls(kind: str, s: Situation, origin: Origin | None) -> str:
    host = origin.host if origin else "the host"
    return (
        f"The TLS certificate presented for {host} is not acceptable. The client trusts "
        "the certifi CA bundle (`python -m certifi` prints its path), not SSL_CERT_FILE. "
        "If the certificate comes from your company's proxy, antivirus or firewall (TLS "
        "interception), exempt the PhonePe hosts from interception. If the name does not "
        "match, you reached a different server: check the host in PHONEPE_BASE_URLS and "
        "/etc/hosts. Otherwise update the bundle (`pip install -U certifi`) and check the "
        "system clock. Never turn verification off for a payments API."
    )


def _proxy(kind: str, s: Situation, origin: Origin | None) -> str:
    proxy = s.proxy or "the proxy"
    return (
        f"The egress proxy {proxy} does not carry the connection. Check PHONEPE_PROXY "
        "(or HTTPS_PROXY): host and port, that the proxy is running, that it allows "
        f"CONNECT to {s.targets}, and credentials as http://user:password@host:port. "
        "Unset it to connect directly, or list the PhonePe hosts in NO_PROXY if they must "
        "bypass it."
    )


def _broken_conversation(kind: str, s: Situation, origin: Origin | None) -> str:
    where = _where(origin, s)
    return (
        f"TCP to {where} works but the HTTP exchange broke: something in between (an "
        "intercepting proxy, a deep-packet-inspection firewall, a load balancer) cuts "
        "or mangles the conversation, or the endpoint is overloaded. Run the doctor again; "
        "if it persists, ask your network team what sits between this server and "
        f"{s.targets}."
    )


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


_HANDLERS = {
    Verdict.DNS_FAILURE: _dns,
    Verdict.CONNECTION_REFUSED: _refused,
    Verdict.CONNECT_TIMEOUT: _timeout,
    Verdict.TLS_ERROR: _tls,
    Verdict.PROXY_ERROR: _proxy,
    Verdict.CONNECTION_RESET: _broken_conversation,
    Verdict.READ_TIMEOUT: _broken_conversation,
    Verdict.PROTOCOL_ERROR: _broken_conversation,
    Verdict.HTTP_ERROR: _http,
    Verdict.AUTH_FAILED: _auth,
    Verdict.CLOCK_SKEW: _clock,
}
