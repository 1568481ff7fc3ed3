"""The API docs (``/api/docs``, ``/api/openapi.json``): served from this machine, and switchable.

The page is Swagger UI from the assets Django Ninja ships in its package (``ninja/static``),
served by the docs view itself (``/api/docs?asset=swagger-ui-bundle.js``), so it needs
neither a CDN nor the host's static files set-up, and loads nothing from another origin
(its ``Content-Security-Policy`` says so). The page has no inline script.

``PHONEPE_API_DOCS`` (Django setting; ``True``/``False``) switches both URLs on or off;
unset, they are on except with ``PHONEPE_ENV=production``. Off, both answer a JSON 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.conf import settings as django_settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import get_token
from django.utils.html import escape
from ninja.openapi.docs import DocsBase

from phonepe_gateway import ConfigurationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

__all__ = ["LocalSwagger", "docs_enabled", "docs_guard"]

_ASSETS_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
#: The only files the docs view serves (name -> content type).
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-init.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="?asset=swagger-ui.css">
<link rel="icon" href="?asset=favicon.svg" type="image/svg+xml">
</head>
<body data-csrf-token="{csrf}" data-api-csrf="{api_csrf}">
<script type="application/json" id="swagger-settings">{settings}</script>
<div id="swagger-ui"></div>
<script src="?asset=swagger-ui-bundle.js"></script>
<script src="?asset=swagger-ui-init.js"></script>
</body>
</html>
"""


class LocalSwagger(DocsBase):
    """Swagger UI with Ninja's bundled assets, served by this view (no CDN, no collectstatic)."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        asset = request.GET.get("asset")
        if asset is not None:
            return _asset(asset)
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
        }
        # A staff session needs the CSRF token for "Try it out" on unsafe methods.
        session = getattr(request, "user", None) is not None and request.user.is_authenticated
        page = _PAGE.format(
            title=escape(api.title),
            csrf=get_token(request) if session else "",
            api_csrf="true" if session else "",
            # "</" cannot close the script element from inside the JSON.
            settings=json.dumps(settings).replace("</", "<\\/"),
        )
        response = HttpResponse(page, content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = _CSP
        return response


def _asset(name: str) -> HttpResponse:
    content_type = _ASSETS.get(name)
    if content_type is None:
        return JsonResponse(
            {"error": {"code": "not_found", "message": "No such asset."}}, status=404
        )
    response = FileResponse((_ASSETS_DIR / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]


def docs_enabled() -> bool:
    """``PHONEPE_API_DOCS`` when set; otherwise on unless ``PHONEPE_ENV=production``."""
    value = getattr(django_settings, "PHONEPE_API_DOCS", None)
    if value is not None:
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    from .conf import get_settings

    try:
        return get_settings().env != "production"
    except ConfigurationError:
        return False


View = Callable[..., HttpResponseBase]


def docs_guard(view: View) -> View:
    """Ninja's ``docs_decorator``: both docs URLs answer 404 while the docs are off."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not docs_enabled():
            return JsonResponse(
                {"error": {"code": "not_found", "message": f"Nothing at {request.path}."}},
                status=404,
            )
        return view(request, *args, **kwargs)

    return wrapper
