"""Operations endpoints mounted at the site root: ``/metrics``, ``/healthz``, ``/readyz``.

``/healthz`` says the process answers (no database, so a slow database never gets a
healthy worker killed); ``/readyz`` says it can serve payments (database reachable and
migrated). They never reveal configuration, versions of dependencies or secrets.

``/metrics`` and ``/readyz`` can be closed to the public (``/healthz`` reveals nothing and
stays open for load balancers):

* ``PHONEPE_METRICS_TOKEN`` (Django setting): the scraper must send
  ``Authorization: Bearer <token>`` (compared in constant time);
* ``PHONEPE_METRICS_ALLOWED_IPS``: addresses or networks (``10.0.0.0/8``) whose
  ``REMOTE_ADDR`` may scrape without a token. Behind a reverse proxy that is the proxy's
  address: use the token there.

With neither set they are open, as before (a deployment's network decides). A refused
request gets a JSON 403 that says which setting governs it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings as django_settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import metrics

__all__ = ["allowed_networks", "healthz", "metrics_view", "ops_allowed", "readyz"]

logger = logging.getLogger("phonepe_gateway.ops")

View = Callable[..., HttpResponse]


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = getattr(django_settings, "PHONEPE_METRICS_ALLOWED_IPS", None) or ()
    items = raw.split(",") if isinstance(raw, str) else raw
    return [
        ipaddress.ip_network(str(item).strip(), strict=False) for item in items if str(item).strip()
    ]


def ops_allowed(request: HttpRequest) -> bool:
    """Whether ``request`` may read ``/metrics`` and ``/readyz`` (see the module docstring)."""
    token = str(getattr(django_settings, "PHONEPE_METRICS_TOKEN", "") or "")
    networks = allowed_networks()
    if not token and not networks:
        return True
    if networks:
        try:
            address = ipaddress.ip_address(str(request.META.get("REMOTE_ADDR", "")))
        except ValueError:
            address = None
        if address is not None and any(address in network for network in networks):
            return True
    if token:
        scheme, _, sent = str(request.META.get("HTTP_AUTHORIZATION", "")).partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            sent.strip().encode(), token.encode()
        ):
            return True
    return False


def _guarded(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not ops_allowed(request):
            return JsonResponse(
                {
                    "error": {
                        "code": "forbidden",
                        "message": "Send the PHONEPE_METRICS_TOKEN as `Authorization: Bearer "
                        "<token>`, or scrape from an address in PHONEPE_METRICS_ALLOWED_IPS.",
                    }
                },
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapper


#: What ``never_cache`` would write, written once: a liveness answer is probed every few
#: seconds by every load balancer, so it is kept to a constant body and constant headers
#: (no JSON encoding, no ``Expires`` date formatted per request: docs/BENCHMARKS.md).
_NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"
_OK = b'{"status": "ok"}'


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_OK, content_type="application/json")
    response["Cache-Control"] = _NO_STORE
    return response


@never_cache
@require_GET
@_guarded
def readyz(request: HttpRequest) -> HttpResponse:
    from .models import Payment

    try:
        # One indexed probe: proves the connection works and the app's tables exist.
        Payment.objects.order_by().values_list("pk", flat=True).first()
    except DatabaseError as exc:
        logger.warning("readiness probe failed: %s", type(exc).__name__)
        connection.close_if_unusable_or_obsolete()
        return JsonResponse(
            {
                "status": "unavailable",
                "error": {
                    "code": "database_unavailable",
                    "message": "The database is unreachable or not migrated; "
                    "run `phonepe manage migrate` and check DATABASE_URL.",
                },
            },
            status=503,
        )
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
@_guarded
def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE_LATEST)
