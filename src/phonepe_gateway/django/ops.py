"""Operations endpoints mounted at the site root: ``/metrics``, ``/healthz``, ``/readyz``.

``/healthz`` says the process answers (no database, so a slow database never gets a
healthy worker killed); ``/readyz`` says it can serve payments (database reachable and
migrated). They never reveal configuration, versions of dependencies or secrets.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import metrics

__all__ = ["healthz", "metrics_view", "readyz"]

logger = logging.getLogger("phonepe_gateway.ops")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
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
    return JsonResponse({"status": "ok", "database": connection.vendor})


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE_LATEST)
