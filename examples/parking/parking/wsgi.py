"""WSGI entry point of the Smart Parking example."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parking.settings")
application = get_wsgi_application()

# A WSGI server runs no system checks: an unsafe PhonePe configuration must not serve.
from phonepe_gateway.django.checks import refuse_unsafe  # noqa: E402 - needs Django set up

refuse_unsafe()
