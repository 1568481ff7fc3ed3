"""What to do about a network failure: the one source of remedy text per :class:`Category`.

The client's errors quote it (``_transport`` for a failed call, ``_classify`` for an
answer that is not PhonePe's JSON or names a path the host does not serve); the doctor (``phonepe_gateway.doctor.remedies``)
frames the same sentences with what only its probes know (which address, which hop, a
command that shows it). A remedy is shaped by what the caller knows: the environment,
the hosts and ports, whether every endpoint failed the same way, the proxy.

It says what to do, not whether money moved: that is ``request_sent``, which the
caller states. Pure text: no I/O, never a secret (proxy URLs arrive without
credentials).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._errors import Category

__all__ = ["WRONG_PATH", "remedy"]

#: PhonePe's edge answered "Api Mapping Not Found": the host serves no such path.
WRONG_PATH = (
    "PhonePe's host does not serve this path: check PHONEPE_BASE_URLS / PHONEPE_OAUTH_URLS "
    "(production: generation 2 on /apis/pg, generation 1 on /apis/hermes, the token on "
    "/apis/identity-manager; UAT: /apis/pg-sandbox)."
)

_DOCTOR = "`phonepe doctor` on this machine shows where the connection breaks."
_LOCAL_DOWN = (
    "Is the local sandbox running? Start it with `phonepe sandbox`, or point "
    "PHONEPE_LOCAL_URL at where it runs."
)
_IN_BETWEEN = "an intercepting proxy, a deep-packet-inspection firewall, a load balancer"


def remedy(
    category: Category,
    *,
    env: str = "production",
    hosts: str = "the PhonePe hosts",
    ports: str = "443",
    every_endpoint: bool = False,
    proxy: str | None = None,
    doctor_hint: bool = True,
) -> str:
    """The advice for ``category``, in whole sentences.

    ``hosts`` (``"api.phonepe.com:443, …"``) and ``ports`` (``"443"`` or ``"443/8443"``)
    name the destinations; ``every_endpoint`` says every endpoint failed this way (a
    pattern, not one bad host); ``proxy`` is the egress proxy without credentials.
    ``doctor_hint`` adds a pointer to ``phonepe doctor`` where it would help (the
    doctor itself leaves it out).
    """
    text, hint = _TEXTS[category](_Facts(env, hosts, ports, every_endpoint, proxy))
    return f"{text} {_DOCTOR}" if hint and doctor_hint else text


@dataclass(frozen=True, slots=True)
class _Facts:
    env: str
    hosts: str
    ports: str
    every: bool
    proxy: str | None

    @property
    def local(self) -> bool:
        return self.env == "local"


def _dns(f: _Facts) -> tuple[str, bool]:
    return (
        "Check the host name in PHONEPE_BASE_URLS / PHONEPE_OAUTH_URLS / PHONEPE_LOCAL_URL "
        "for typos, then this machine's resolver (/etc/resolv.conf, or the container's DNS "
        "settings). If this network reaches the internet only through an egress proxy, set "
        "PHONEPE_PROXY=http://proxy-host:port: the proxy resolves names then.",
        True,
    )


def _refused(f: _Facts) -> tuple[str, bool]:
    if f.local:
        return _LOCAL_DOWN, False
    if f.every:
        return (
            f"Every PhonePe endpoint refused the connection, so outbound connections to port "
            f"{f.ports} are blocked on this host (PhonePe itself does not refuse connections): "
            f"ask the hosting provider to allow outbound TCP from this server to {f.hosts}, "
            "or send the traffic through an egress proxy you may use "
            "(PHONEPE_PROXY=http://proxy-host:port).",
            True,
        )
    return (
        "Check that host and port in PHONEPE_BASE_URLS / PHONEPE_OAUTH_URLS, and whether a "
        "firewall on this host rejects outbound connections to it.",
        True,
    )


def _connect_timeout(f: _Facts) -> tuple[str, bool]:
    if f.local:
        return (
            "Connections to the local sandbox hang: a local firewall drops them, or the "
            "`phonepe sandbox` process is stuck; restart it.",
            False,
        )
    scope = "every PhonePe endpoint" if f.every else "the endpoint"
    return (
        f"Packets to {scope} are dropped without an answer: a firewall filters outbound port "
        f"{f.ports} (a DROP rule, cloud security group or egress ACL), or the host is down. "
        f"Ask the hosting provider to allow outbound TCP from this server to {f.hosts}, or "
        "set PHONEPE_PROXY=http://proxy-host:port to use an egress proxy.",
        True,
    )


def _tls(f: _Facts) -> tuple[str, bool]:
    return (
        "If your company's proxy, antivirus or firewall intercepts TLS, exempt the PhonePe "
        "hosts from interception. If the name does not match, you reached a different "
        "server: check the host in PHONEPE_BASE_URLS and /etc/hosts. Otherwise update the CA "
        "certificates the client trusts (certifi: `pip install -U certifi`; SSL_CERT_FILE "
        "or SSL_CERT_DIR instead when set) and check the system clock. Never turn "
        "verification off for a payments API.",
        True,
    )


def _proxy(f: _Facts) -> tuple[str, bool]:
    which = f"The egress proxy {f.proxy}" if f.proxy else "The egress proxy"
    return (
        f"{which} does not carry the connection. Check PHONEPE_PROXY (or HTTPS_PROXY): host "
        f"and port, that the proxy is running and allows CONNECT to {f.hosts}, and its "
        "credentials as http://user:password@host:port. Unset it to connect directly.",
        False,
    )


def _read_timeout(f: _Facts) -> tuple[str, bool]:
    return (
        f"No answer came in time: PhonePe is slow, or something in between ({_IN_BETWEEN}) "
        "holds the connection.",
        False,
    )


def _reset(f: _Facts) -> tuple[str, bool]:
    return (
        f"The connection was cut before an answer arrived: something in between "
        f"({_IN_BETWEEN}) closes it, or the endpoint is overloaded.",
        False,
    )


def _protocol(f: _Facts) -> tuple[str, bool]:
    return (
        "The answer was not PhonePe's API (often a page from a proxy or load balancer in "
        "between, or a wrong path): check the URLs in PHONEPE_BASE_URLS and any proxy in "
        "between.",
        False,
    )


_TEXTS: dict[Category, Callable[[_Facts], tuple[str, bool]]] = {
    Category.DNS_FAILURE: _dns,
    Category.CONNECTION_REFUSED: _refused,
    Category.CONNECT_TIMEOUT: _connect_timeout,
    Category.TLS_ERROR: _tls,
    Category.PROXY_ERROR: _proxy,
    Category.READ_TIMEOUT: _read_timeout,
    Category.CONNECTION_RESET: _reset,
    Category.PROTOCOL_ERROR: _protocol,
}
