"""URLs of the payments service: the REST API at ``/api/``, ops at the root, the admin.

Every error outside the API is JSON as well (``handler404``/``handler500``), so a
client never has to parse an HTML page from this service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from django.urls import include, path, re_path
from phonepe_gateway.django import urls as phonepe_urls
from phonepe_gateway.django.api import error_response


def _static(request: HttpRequest, path: str) -> HttpResponseBase:
    # The admin's own CSS/JS, served from the installed apps (no collectstatic step).
    response: HttpResponseBase = serve_static(request, path, insecure=True)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(404, "not_found", f"Nothing at {request.path}.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Also what a Host header outside PHONEPE_SERVICE_ALLOWED_HOSTS gets.
    return error_response(400, "bad_request", "The request was rejected (check the Host header).")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(403, "forbidden", "Not allowed.")


def server_error(request: HttpRequest, *args: Any) -> HttpResponse:
    return error_response(500, "internal_error", "An unexpected error occurred; it was logged.")


handler400 = bad_request
handler403 = permission_denied
handler404 = not_found
handler500 = server_error

urlpatterns = [
    path("api/", include(phonepe_urls.urlpatterns)),
    path("admin/", admin.site.urls),
    re_path(r"^static/(?P<path>.*)$", _static),
    *phonepe_urls.ops_urlpatterns,
]
