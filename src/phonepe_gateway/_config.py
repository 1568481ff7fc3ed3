"""Settings: environment variables and keyword options folded into one frozen object.

Every option has one name in two spellings: ``PHONEPE_CLIENT_ID`` in the environment,
``client_id`` as a keyword (and in Django's ``PHONEPE = {...}`` dict). Keywords win.
Validation errors name the variable and say how to fix it. Secrets are wrapped in
:class:`Secret`, whose repr and str show at most the last four characters.
This module never touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from ._errors import ConfigurationError
from ._version import __version__

__all__ = ["ENVIRONMENTS", "SANDBOX_CREDENTIALS", "Secret", "Settings", "mask", "strip_userinfo"]

Environment = Literal["local", "sandbox", "production"]
ApiVersion = Literal["v1", "v2"]


def mask(value: str | None) -> str:
    """Show at most the last four characters of a secret (none of a short one)."""
    if not value:
        return "<unset>"
    if len(value) <= 8:
        return "****"
    return "****" + value[-4:]


class Secret:
    """A string that does not show itself. Call :meth:`reveal` where the value is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({mask(self._value)!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


#: Built-in credentials of the local sandbox (``phonepe sandbox``); public by design.
SANDBOX_CREDENTIALS: Mapping[str, str] = {
    "client_id": "PGSANDBOXCLIENT",
    "client_secret": "sandbox-client-secret",
    "client_version": "1",
    "merchant_id": "PGSANDBOXMERCHANT",
    "salt_key": "sandbox-salt-key",
    "salt_index": "1",
    "webhook_username": "sandboxhook",
    "webhook_password": "sandboxpass1",
}

#: Base URLs per environment and generation: (payments, oauth).
ENVIRONMENTS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "sandbox": {
        "v2": (
            "https://api-preprod.phonepe.com/apis/pg-sandbox",
            "https://api-preprod.phonepe.com/apis/pg-sandbox",
        ),
        "v1": (
            "https://api-preprod.phonepe.com/apis/pg-sandbox",
            "https://api-preprod.phonepe.com/apis/pg-sandbox",
        ),
    },
    "production": {
        "v2": ("https://api.phonepe.com/apis/pg", "https://api.phonepe.com/apis/identity-manager"),
        "v1": ("https://api.phonepe.com/apis/hermes", "https://api.phonepe.com/apis/hermes"),
    },
}

_SECRET_FIELDS = frozenset({"client_secret", "salt_key", "webhook_password"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the client needs, validated. Build with :meth:`from_env` or :meth:`build`."""

    env: Environment = "local"
    api_version: ApiVersion = "v2"
    client_id: str | None = None
    client_secret: Secret | None = None
    client_version: int = 1
    merchant_id: str | None = None
    salt_key: Secret | None = None
    salt_index: int = 1
    base_urls: tuple[str, ...] = ()
    oauth_urls: tuple[str, ...] = ()
    local_url: str = "http://127.0.0.1:8300"
    connect_timeout: float = 3.5
    read_timeout: float = 10.0
    timeout: float = 30.0
    max_retries: int = 2
    connection_pool_size: int = 10
    user_agent: str = f"phonepe-gateway/{__version__}"
    proxy: str | None = None
    webhook_username: str | None = None
    webhook_password: Secret | None = None
    #: Extra (username, password) pairs accepted on webhooks, for credential rotation.
    webhook_credentials: tuple[tuple[str, Secret], ...] = field(default=())

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Settings:
        """Read ``PHONEPE_*`` variables from ``environ`` (default ``os.environ``).

        ``options`` use the lower-case names without the prefix and win over the
        environment (this is how Django's ``PHONEPE`` settings dict is applied).
        """
        environ = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        for name in _OPTION_NAMES:
            value = environ.get("PHONEPE_" + name.upper())
            if value is not None and value != "":
                raw[name] = value
        if "proxy" not in raw:
            proxy = environ.get("HTTPS_PROXY") or environ.get("https_proxy")
            if proxy:
                raw["proxy"] = proxy
        for key, value in options.items():
            if key.lower() not in _OPTION_NAMES:
                raise ConfigurationError(
                    f"Unknown PhonePe option {key!r}. Known options: {', '.join(sorted(_OPTION_NAMES))}."
                )
            if value is not None:
                raw[key.lower()] = value
        return cls.build(**raw)

    @classmethod
    def build(cls, **raw: Any) -> Settings:
        """Validate loosely typed options (strings from the environment, or Python values)."""
        env = _environment(raw)
        creds = SANDBOX_CREDENTIALS if env == "local" else {}
        has_v2 = bool(raw.get("client_id"))
        has_v1 = bool(raw.get("merchant_id") or raw.get("salt_key"))
        version = _choice(raw, "api_version", ("v1", "v2"), "v1" if has_v1 and not has_v2 else "v2")

        values: dict[str, Any] = {"env": env, "api_version": version}
        for name in ("client_id", "merchant_id", "webhook_username"):
            values[name] = _text(raw.get(name)) or creds.get(name)
        for name in ("client_secret", "salt_key", "webhook_password"):
            secret = _text(raw.get(name)) or creds.get(name)
            values[name] = Secret(secret) if secret else None
        # The defaults are the field defaults above: stated once, there.
        for name in ("client_version", "salt_index"):
            values[name] = _int(raw, name, int(creds.get(name, getattr(cls, name))), 1)
        for name in ("connect_timeout", "read_timeout", "timeout"):
            values[name] = _float(raw, name, getattr(cls, name))
        values["max_retries"] = _int(raw, "max_retries", cls.max_retries, 0)
        values["connection_pool_size"] = _int(
            raw, "connection_pool_size", cls.connection_pool_size, 1
        )
        values["user_agent"] = _text(raw.get("user_agent")) or cls.user_agent
        values["proxy"] = _url(raw, "proxy") if raw.get("proxy") else None
        values["local_url"] = _url(raw, "local_url") if raw.get("local_url") else cls.local_url
        values["webhook_credentials"] = _pairs(raw.get("webhook_credentials"))

        base = _urls(raw, "base_urls")
        oauth = _urls(raw, "oauth_urls")
        if not base:
            if env == "local":
                base = (values["local_url"].rstrip("/") + "/apis/pg-sandbox",)
            else:
                base = (ENVIRONMENTS[env][version][0],)
        if not oauth:
            if raw.get("base_urls") or env == "local":
                oauth = base
            else:
                oauth = (ENVIRONMENTS[env][version][1],)
        values["base_urls"] = base
        values["oauth_urls"] = oauth
        settings = cls(**values)
        settings._check()
        return settings

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    # -- validation -----------------------------------------------------------------

    def _check(self) -> None:
        if self.env != "local":
            if self.api_version == "v2" and not (self.client_id and self.client_secret):
                raise ConfigurationError(
                    f"PHONEPE_ENV={self.env} with PHONEPE_API_VERSION=v2 needs PHONEPE_CLIENT_ID "
                    "and PHONEPE_CLIENT_SECRET (from the PhonePe business dashboard). Set them, "
                    "set PHONEPE_MERCHANT_ID and PHONEPE_SALT_KEY for the legacy v1 API, or use "
                    "PHONEPE_ENV=local to run against the local sandbox."
                )
            if self.api_version == "v1" and not (self.merchant_id and self.salt_key):
                raise ConfigurationError(
                    f"PHONEPE_ENV={self.env} with PHONEPE_API_VERSION=v1 needs PHONEPE_MERCHANT_ID "
                    "and PHONEPE_SALT_KEY (and PHONEPE_SALT_INDEX if it is not 1). Set them, or use "
                    "PHONEPE_ENV=local to run against the local sandbox."
                )
        if self.connect_timeout > self.timeout or self.read_timeout > self.timeout:
            raise ConfigurationError(
                "PHONEPE_TIMEOUT is the ceiling of a whole call and must be at least "
                f"PHONEPE_CONNECT_TIMEOUT ({self.connect_timeout}) and PHONEPE_READ_TIMEOUT "
                f"({self.read_timeout}); it is {self.timeout}."
            )

    # -- presentation ----------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """A JSON-able view with every secret masked (for logs and diagnostics)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS:
                out[f.name] = mask(value.reveal()) if value else None
            elif f.name == "webhook_credentials":
                out[f.name] = [(user, mask(pw.reveal())) for user, pw in value]
            elif f.name == "proxy" and value:
                out[f.name] = strip_userinfo(value)
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"Settings({inner})"

    __str__ = __repr__

    @property
    def webhook_pairs(self) -> tuple[tuple[str, str], ...]:
        """Every accepted (username, password) pair, current first."""
        pairs: list[tuple[str, str]] = []
        if self.webhook_username and self.webhook_password:
            pairs.append((self.webhook_username, self.webhook_password.reveal()))
        pairs.extend((u, p.reveal()) for u, p in self.webhook_credentials)
        return tuple(pairs)


_OPTION_NAMES = frozenset({f.name for f in fields(Settings)} | {"simulation_mode"})


def _environment(raw: Mapping[str, Any]) -> Environment:
    simulation = raw.get("simulation_mode")
    if isinstance(simulation, str):
        lowered = simulation.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ConfigurationError(
                f"PHONEPE_SIMULATION_MODE must be true or false, not {simulation!r}."
            )
        simulation = lowered in _TRUE
    env = _choice(raw, "env", ("local", "sandbox", "production"), "local")
    if simulation and raw.get("env") and env != "local":
        raise ConfigurationError(
            f"PHONEPE_SIMULATION_MODE=true contradicts PHONEPE_ENV={env}: simulation mode is "
            "the local sandbox. Remove one of them."
        )
    return "local" if simulation else env


def _choice(raw: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> Any:
    value = raw.get(name)
    if value is None:
        return default
    text = str(value).strip().lower()
    if text not in allowed:
        raise ConfigurationError(
            f"PHONEPE_{name.upper()} must be one of {', '.join(allowed)}, not {value!r}."
        )
    return text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Secret):
        return value.reveal()
    text = str(value).strip()
    return text or None


def _number(raw: Mapping[str, Any], name: str, default: float, kind: type) -> Any:
    value = raw.get(name)
    if value is None or value == "":
        return kind(default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"PHONEPE_{name.upper()} must be a {'whole ' if kind is int else ''}number, not {value!r}."
        ) from None
    return number


def _int(raw: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    number: int = _number(raw, name, default, int)
    if number < minimum:
        raise ConfigurationError(
            f"PHONEPE_{name.upper()} must be at least {minimum}, not {number}."
        )
    return number


def _float(raw: Mapping[str, Any], name: str, default: float) -> float:
    number: float = _number(raw, name, default, float)
    if not number > 0:
        raise ConfigurationError(f"PHONEPE_{name.upper()} must be a positive number of seconds.")
    return number


def _url(raw: Mapping[str, Any], name: str, value: Any = None) -> str:
    text = str(raw.get(name) if value is None else value).strip()
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(
            f"PHONEPE_{name.upper()} must be an http(s) URL like https://host[:port][/path], "
            f"not {strip_userinfo(text)!r}."
        )
    return text.rstrip("/")


def _urls(raw: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = raw.get(name)
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    urls = tuple(_url(raw, name, item) for item in items if str(item).strip())
    if len(set(urls)) != len(urls):
        raise ConfigurationError(f"PHONEPE_{name.upper()} lists the same URL twice.")
    return urls


def _pairs(value: Any) -> tuple[tuple[str, Secret], ...]:
    """``"user:pass,user2:pass2"`` or an iterable of pairs."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    pairs: list[tuple[str, Secret]] = []
    for item in items:
        if isinstance(item, str):
            user, sep, password = item.strip().partition(":")
            if not sep or not user or not password:
                raise ConfigurationError(
                    "PHONEPE_WEBHOOK_CREDENTIALS must be comma-separated username:password pairs."
                )
        else:
            user, password = item
        pairs.append((str(user), Secret(_text(password) or "")))
    return tuple(pairs)


def strip_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``****@`` (proxy URLs carry credentials)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return parts._replace(netloc=f"****@{host}").geturl()
    return url
