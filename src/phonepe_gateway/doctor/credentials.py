"""The doctor's credential check: one real, harmless call through the real client.

It asks the status of a made-up order (``DOCTOR-PROBE-<random>``). Generation 2 fetches
an OAuth token first, generation 1 signs the request with the salt key, so the answer
proves the credentials either way: "no such order" means they were accepted, an
authentication error means they were not. PhonePe says "no such order" in two ways --
a 404 ``ORDER_NOT_FOUND``-style answer, or ``INVALID_MERCHANT_ORDER_ID`` ("No entry
found for given merchant order id") whose HTTP status it does not publish -- and the
client reads both as :class:`~phonepe_gateway.NotFoundError`, so both count. "Api
Mapping Not Found" is not one of them: the host does not serve the path (a wrong base
URL). It never creates a payment, and the gateway's message is reported as the
gateway wrote it (the report scrubs secrets).
"""

from __future__ import annotations

import secrets
import ssl
import time
from typing import Any

import httpx

from .._client import PhonePeClient
from .._config import Settings
from .._errors import (
    AuthenticationError,
    GatewayError,
    GatewayServerError,
    NotFoundError,
    PhonePeError,
    RateLimitedError,
    TransportError,
)
from .._remedies import WRONG_PATH
from .verdict import Probe, Status, Verdict

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
    order_id = probe_order_id()
    options: dict[str, Any] = {}
    if ssl_context is not None:
        options["transport"] = httpx.HTTPTransport(verify=ssl_context, proxy=settings.proxy)
    who = _what(settings)
    try:
        with PhonePeClient(settings, **options) as client:
            client.get_order_status(order_id)
    except AuthenticationError as exc:
        detail = f"PhonePe rejected {who}: {_gateway_words(exc)}"
        return _probe("fail", Verdict.AUTH_FAILED, detail, started)
    except GatewayError as exc:
        return _judge_answer(exc, who, order_id, started)
    except TransportError as exc:
        detail = f"the credential check failed: {exc.message}"
        return _probe("fail", Verdict.of(exc.category), detail, started)
    except PhonePeError as exc:
        return _probe("fail", Verdict.HTTP_ERROR, f"the credential check failed: {exc}", started)
    except Exception as exc:  # the doctor reports a broken client instead of crashing
        detail = f"the client crashed during the credential check: {exc!r}"
        return _probe("fail", Verdict.PROTOCOL_ERROR, detail, started)
    return _probe("ok", Verdict.OK, f"{who} accepted", started)


def _unmapped(error: GatewayError) -> bool:
    # PhonePe's edge answers a path it does not serve at that host this way; the client
    # keeps it apart from "not found", and so must the doctor.
    return "api mapping not found" in (error.gateway_message or "").lower()


def _judge_answer(error: GatewayError, who: str, order_id: str, started: float) -> Probe:
    """An authenticated call answered with an error: which one says what we learnt."""
    if isinstance(error, NotFoundError):
        said = (
            f"HTTP {error.http_status} {error.code}" if error.code else f"HTTP {error.http_status}"
        )
        detail = f"{who} accepted (made-up order {order_id}: not found, {said})"
        return _probe("ok", Verdict.OK, detail, started)
    if _unmapped(error):
        detail = (
            f"{who} accepted, but {error.endpoint or 'the endpoint'} does not serve the status "
            f"call: {_gateway_words(error)}"
        )
        advice = f"{WRONG_PATH} Or unset both to use the defaults of PHONEPE_ENV."
        return _probe("fail", Verdict.HTTP_ERROR, detail, started, remedy=advice)
    if isinstance(error, RateLimitedError):
        detail = f"rate-limited while checking {who}: {_gateway_words(error)}"
        return _probe("warn", Verdict.HTTP_ERROR, detail, started)
    if isinstance(error, GatewayServerError):
        detail = f"the gateway failed while checking {who}: {_gateway_words(error)}"
        return _probe("fail", Verdict.HTTP_ERROR, detail, started)
    detail = f"{who} accepted, but the status call answered {_gateway_words(error)}"
    return _probe("warn", Verdict.HTTP_ERROR, detail, started)


def _probe(status: Status, verdict: Verdict, detail: str, started: float, **data: Any) -> Probe:
    return Probe(status, verdict, detail, round((time.monotonic() - started) * 1000, 1), data)
