"""Who may drive the control API, and where webhooks may go.

The control API can complete payments, reset state and aim webhooks, so a web page the
tester happens to open must not reach it: a request is accepted only when its ``Host``
is loopback (which also defeats DNS rebinding), it carries no cross-site ``Origin`` /
``Sec-Fetch-Site``, and any body it has is ``application/json`` (so no HTML form or
``text/plain`` "simple request" can carry one). Webhook targets must be loopback unless
the sandbox was started with ``allow_remote_webhooks``. Nothing here changes state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response

from .._safety import is_loopback_host, is_loopback_url
from .responses import control_error

__all__ = ["guarded", "is_loopback_host", "is_loopback_url", "refusal"]

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _host_name(value: str) -> str:
    """The host of a ``Host`` header value (``127.0.0.1:8300``, ``[::1]:8300``)."""
    value = value.strip()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def refusal(request: Request, extra_hosts: Iterable[str] = ()) -> Response | None:
    """Why this control request is refused (a 403/415 answer), or None to let it in."""
    host = _host_name(request.headers.get("host", ""))
    allowed = {h.lower() for h in extra_hosts}
    if not (is_loopback_host(host) or host.lower() in allowed):
        return control_error(
            403,
            "FORBIDDEN_HOST",
            "The control API answers only on a loopback host (127.0.0.1, ::1, localhost); "
            "start the sandbox with --control-host NAME to allow another.",
        )
    origin = request.headers.get("origin")
    if origin is not None and (origin == "null" or not is_loopback_url(origin)):
        return control_error(
            403, "CROSS_SITE_REQUEST", "The control API does not accept cross-site requests."
        )
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return control_error(
            403, "CROSS_SITE_REQUEST", "The control API does not accept cross-site requests."
        )
    if request.method in _BODY_METHODS:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        has_body = request.headers.get("content-length", "0") not in ("", "0") or (
            "transfer-encoding" in request.headers
        )
        if media != "application/json" and (has_body or media):
            return control_error(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "Control requests with a body must be Content-Type: application/json.",
            )
    return None


Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(endpoint: Endpoint) -> Endpoint:
    """Wrap a control endpoint with :func:`refusal` (hosts from the sandbox's config)."""

    async def check_then_call(request: Request) -> Response:
        denied = refusal(request, request.app.state.sandbox.config.control_hosts)
        return denied if denied is not None else await endpoint(request)

    check_then_call.__name__ = getattr(endpoint, "__name__", "control")
    check_then_call.__doc__ = endpoint.__doc__
    return check_then_call
