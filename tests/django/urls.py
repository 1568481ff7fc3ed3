"""URLs of the test host project: the app's API under api/, ops at root, admin."""

from __future__ import annotations

from django.contrib import admin

from django.urls import include, path
from phonepe_gateway.django import urls as phonepe_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(phonepe_urls.urlpatterns)),
    *phonepe_urls.ops_urlpatterns,
]
