"""ASGI entry point of the payments service, for servers that speak only ASGI.

``phonepe serve`` uses WSGI under gunicorn (see docs/BENCHMARKS.md for the comparison);
this module exists so the same app can be measured, or run, under an ASGI server.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phonepe_gateway.service.settings")

application = get_asgi_application()

# ASGI servers run no system checks either: an unsafe PhonePe configuration must not serve.
from phonepe_gateway.django.checks import refuse_unsafe  # noqa: E402 - needs Django set up

refuse_unsafe()
