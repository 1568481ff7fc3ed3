"""WSGI entry point of the payments service (``phonepe serve`` runs it under gunicorn)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phonepe_gateway.service.settings")

application = get_wsgi_application()

# gunicorn/uWSGI run no system checks: an unsafe PhonePe configuration must not serve.
from phonepe_gateway.django.checks import refuse_unsafe  # noqa: E402 - needs Django set up

refuse_unsafe()
