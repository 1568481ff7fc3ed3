"""The REST routes the docs name are the ones the URL conf serves, and all of them are named.

docs/API.md's "`METHOD /path`" mentions are resolved against the URL conf mounted the
way the docs tell a host to mount it (``api/`` + ``ops_urlpatterns`` at the root);
Ninja routes must also accept the method, per the API's own OpenAPI document.
"""

from __future__ import annotations

import re

import pytest
from django.urls.exceptions import Resolver404

from django.urls import URLPattern, include, path, resolve, reverse
from phonepe_gateway.django import urls as phonepe_urls
from phonepe_gateway.django.api import api

from .markdown import read

#: The host project of docs/API.md's "Mounting it in a host project".
urlpatterns = [path("api/", include(phonepe_urls.urlpatterns)), *phonepe_urls.ops_urlpatterns]
URLCONF = __name__

_ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s\[?]*)[^`]*`")


def _shape(template: str) -> str:
    """``/api/payments/{id}`` and ``/api/payments/{merchant_order_id}`` are one route."""
    return re.sub(r"\{[a-z_]+\}", "{}", template)


#: Paths that are PhonePe's own (the README compares the client with the official SDK
#: call by call, naming the gateway's endpoints): not routes of this service.
_GATEWAY_PATHS = re.compile(r"^/(?:checkout|payments|subscriptions|apis|pg|v1|v3)/")


def documented_routes(document: str) -> set[tuple[str, str]]:
    return {
        (method, _shape(route))
        for method, route in _ROUTE.findall(read(document))
        if not _GATEWAY_PATHS.match(route)
    }


def served_routes() -> set[tuple[str, str]]:
    """Every (method, path template) the URL conf serves, apart from the JSON 404 catch-all."""
    prefix = reverse(f"{api.urls_namespace}:openapi-json", urlconf=URLCONF).removesuffix(
        "openapi.json"
    )
    schema = api.get_openapi_schema(path_prefix=prefix.rstrip("/"))
    routes = {(m.upper(), _shape(route)) for route, ops in schema["paths"].items() for m in ops}
    routes.add(("GET", reverse(f"{api.urls_namespace}:openapi-json", urlconf=URLCONF)))
    routes.add(("GET", reverse(f"{api.urls_namespace}:openapi-view", urlconf=URLCONF)))
    for pattern in phonepe_urls.ops_urlpatterns:
        assert isinstance(pattern, URLPattern)
        routes.add(("GET", "/" + str(pattern.pattern)))
    return routes


def _concrete(template: str) -> str:
    return re.sub(r"\{[a-z_]*\}", "ID-1", template)


@pytest.mark.parametrize("document", ["docs/API.md", "README.md"])
def test_documented_route_then_served(document: str) -> None:
    served = served_routes()
    for method, template in sorted(documented_routes(document)):
        try:
            match = resolve(_concrete(template), urlconf=URLCONF)
        except Resolver404:
            pytest.fail(f"{document}: {method} {template} is not in the URL conf")
        assert match.url_name, f"{document}: {method} {template} only reaches the JSON 404"
        assert (method, template) in served, (
            f"{document}: {method} {template} is routed, but not for {method}; served: "
            f"{sorted(r for r in served if r[1] == template)}"
        )


def test_every_served_route_then_in_api_md() -> None:
    undocumented = sorted(served_routes() - documented_routes("docs/API.md"))
    assert not undocumented, f"docs/API.md does not document {undocumented}"


def test_paths_the_readme_names_then_served() -> None:
    text = read("README.md")
    paths = set(
        re.findall(r"(?<![\w.])(/api/[a-z0-9_/{}.-]*[a-z0-9}]|/metrics|/healthz|/readyz)\b", text)
    )
    assert paths, "the README names no route? the scan is broken"
    for named in sorted(paths):
        match = resolve(_concrete(named), urlconf=URLCONF)
        assert match.url_name, f"README.md names {named}, which only reaches the JSON 404"
