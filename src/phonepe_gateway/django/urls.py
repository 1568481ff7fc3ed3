"""URL patterns: ``urlpatterns`` (mount at ``api/``) and ``ops_urlpatterns`` (mount at root).

``path("api/", include(phonepe_gateway.django.urls))`` serves ``/api/payments`` and the
rest of the REST API (plus ``/api/docs`` and ``/api/openapi.json``); adding
``*ops_urlpatterns`` at the root serves ``/metrics``, ``/healthz`` and ``/readyz``.
Every answer under ``api/`` is JSON, including 404 for unknown paths and 405.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from django.urls import URLPattern, URLResolver, include, path, re_path

from . import ops
from .api import api, error_response

__all__ = ["ops_urlpatterns", "urlpatterns"]

View = Callable[..., HttpResponseBase]


def _json_api_view(view: View) -> View:
    """Ninja answers 405 in plain text; rewrite it. Never inside ATOMIC_REQUESTS: the
    idempotency record and the webhook inbox must commit before the gateway is called or
    the acknowledgement is sent."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            fresh = error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; allowed: {allowed}.",
            )
            fresh["Allow"] = allowed
            return fresh
        return response

    return transaction.non_atomic_requests(wrapper)


@csrf_exempt
def _unknown_path(request: HttpRequest, rest: str = "") -> HttpResponseBase:
    return error_response(404, "not_found", f"No API endpoint at {request.path}.")


def _api_patterns() -> list[URLPattern | URLResolver]:
    patterns, app_name, namespace = api.urls
    wrapped: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern = URLPattern(
                pattern.pattern,
                _json_api_view(pattern.callback),
                pattern.default_args,
                pattern.name,
            )
        wrapped.append(pattern)
    return [path("", include((wrapped, app_name), namespace=namespace))]


urlpatterns: list[URLPattern | URLResolver] = [
    *_api_patterns(),
    re_path(r"^(?P<rest>.*)$", _unknown_path),
]

ops_urlpatterns: list[URLPattern | URLResolver] = [
    path("metrics", ops.metrics_view, name="phonepe-metrics"),
    path("healthz", ops.healthz, name="phonepe-healthz"),
    path("readyz", ops.readyz, name="phonepe-readyz"),
]
