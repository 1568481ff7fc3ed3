"""The permission hook for the payments REST API: logged-in staff only."""

from __future__ import annotations

from django.http import HttpRequest


def staff_only(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)
