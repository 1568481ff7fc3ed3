"""The doctor's credential check: one real, harmless call through the real client.

It asks the status of a made-up order (``DOCTOR-PROBE-<random>``). Generation 2 fetches
an OAuth token first, generation 1 signs the request with the salt key, so the answer
proves the credentials either way: "order not found" means they were accepted, an
authentication error means they were not. It never creates a payment, and the
gateway's message is reported as the gateway wrote it (the caller scrubs secrets).
"""

from __future__ import annotations

import importlib
import secrets
import ssl
import time
from typing import Any

import httpx

from ._config import Settings
from ._errors import (
    AuthenticationError,
    Category,
    GatewayError,
    GatewayServerError,
    NotFoundError,
    PhonePeError,
    RateLimitedError,
    TransportError,
)
from ._probes import Probe, Status

__all__ = ["check_credentials", "probe_order_id"]


def probe_order_id() -> str:
    """A merchant order id no real order has."""
    return "DOCTOR-PROBE-" + secrets.token_hex(6).upper()


def _what(settings: Settings) -> str:
    if settings.api_version == "v2":
        return f"client id {settings.client_id} (version {settings.client_version})"
    return f"merchant id {settings.merchant_id} (salt index {settings.salt_index})"


def _gateway_words(error: GatewayError) -> str:
    said = error.gateway_message or error.message
    code = f", code {error.code}" if error.code else ""
    return f"HTTP {error.http_status}{code}: {said}"


def check_credentials(settings: Settings, ssl_context: ssl.SSLContext | None = None) -> Probe:
    """Ask for a made-up order's status and judge the credentials by the answer.

    ``ssl_context`` (tests: a private CA) is given to the client's transport; without
    it the client is built exactly as the application builds it.
    """
    started = time.monotonic()
    client_class = _client_class()
    if client_class is None:
        return _probe(
            "warn", Category.OK, "not checked: this installation has no PhonePe client", started
        )
    order_id = probe_order_id()
    options: dict[str, Any] = {}
    if ssl_context is not None:
        options["transport"] = httpx.HTTPTransport(verify=ssl_context, proxy=settings.proxy)
    who = _what(settings)
    try:
        with client_class(settings, **options) as client:
            client.get_order_status(order_id)
    except NotFoundError:
        return _probe(
            "ok", Category.OK, f"{who} accepted (made-up order {order_id}: not found)", started
        )
    except AuthenticationError as exc:
        detail = f"PhonePe rejected {who}: {_gateway_words(exc)}"
        return _probe("fail", Category.AUTH_FAILED, detail, started)
    except RateLimitedError as exc:
        detail = f"rate-limited while checking {who}: {_gateway_words(exc)}"
        return _probe("warn", Category.HTTP_ERROR, detail, started)
    except GatewayServerError as exc:
        detail = f"the gateway failed while checking {who}: {_gateway_words(exc)}"
        return _probe("fail", Category.HTTP_ERROR, detail, started)
    except GatewayError as exc:
        detail = f"{who} accepted, but the status call answered {_gateway_words(exc)}"
        return _probe("warn", Category.HTTP_ERROR, detail, started)
    except TransportError as exc:
        return _probe("fail", exc.category, f"the credential check failed: {exc.message}", started)
    except PhonePeError as exc:
        return _probe("fail", Category.HTTP_ERROR, f"the credential check failed: {exc}", started)
    except Exception as exc:  # the doctor reports a broken client instead of crashing
        detail = f"the client crashed during the credential check: {exc!r}"
        return _probe("fail", Category.PROTOCOL_ERROR, detail, started)
    return _probe("ok", Category.OK, f"{who} accepted", started)


def _client_class() -> Any:
    # Looked up late: the doctor must still diagnose the network when the client is broken.
    try:
        return getattr(importlib.import_module("phonepe_gateway"), "PhonePeClient", None)
    except ImportError:
        return None


def _probe(status: Status, category: Category, detail: str, started: float) -> Probe:
    return Probe(status, category, detail, round((time.monotonic() - started) * 1000, 1))
