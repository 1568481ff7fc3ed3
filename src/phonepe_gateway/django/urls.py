"""URL patterns: ``urlpatterns`` (mount at ``api/``) and ``ops_urlpatterns`` (mount at root)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
ops_urlpatterns: list[URLPattern | URLResolver] = []
