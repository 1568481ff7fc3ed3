"""Routes: the driver and staff pages, the payments app at /api/, its ops probes at the root."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from django.urls import include, path
from phonepe_gateway.django import urls as phonepe_urls

urlpatterns = [
    path("api/", include(phonepe_urls.urlpatterns)),
    path(
        "staff/login/",
        auth_views.LoginView.as_view(template_name="lots/staff/login.html"),
        name="login",
    ),
    path("staff/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("lots.urls")),
    *phonepe_urls.ops_urlpatterns,
]
