"""Request-id middleware: accept or mint ``X-Request-ID``, expose it to logs, echo it back.

Put it first in ``MIDDLEWARE`` (``"phonepe_gateway.django.middleware.RequestIdMiddleware"``).
An incoming id is kept only when it looks like an id (1-128 of ``[A-Za-z0-9._:-]``), so a
client cannot inject text into the logs. One access line per request goes to the
``phonepe_gateway.access`` logger (method, path without query, status, duration) at INFO.
Never logs headers, query strings or bodies.

It also counts the requests in flight in this process (:data:`in_flight`): background
work that can wait (webhook processing) waits for a quiet moment, up to a bound, so a
burst of PhonePe callbacks is acknowledged first instead of sharing the CPU with the
status calls their processing makes (docs/BENCHMARKS.md, "webhook ack burst").
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from .logging import request_id_var

__all__ = ["InFlight", "RequestIdMiddleware", "in_flight"]

access_logger = logging.getLogger("phonepe_gateway.access")
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class InFlight:
    """How many requests this process is serving; lets deferrable work wait for zero."""

    def __init__(self) -> None:
        self._count = 0
        self._quiet = threading.Condition()

    def enter(self) -> None:
        with self._quiet:
            self._count += 1

    def leave(self) -> None:
        with self._quiet:
            self._count -= 1
            if self._count == 0:
                self._quiet.notify_all()

    @property
    def count(self) -> int:
        return self._count

    def wait_quiet(self, timeout: float) -> bool:
        """Block until no request is in flight, at most ``timeout`` seconds; True if quiet."""
        with self._quiet:
            return self._quiet.wait_for(lambda: self._count == 0, timeout)


#: The requests in flight in this process (counted by RequestIdMiddleware).
in_flight = InFlight()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Not reset when the request ends: Django logs "django.request" lines for 4xx/5xx
        # after the middleware returned, and they must carry the id too. The next request
        # in this thread (or task) sets its own.
        request_id_var.set(request_id)
        started = time.perf_counter()
        in_flight.enter()
        try:
            response = self.get_response(request)
        finally:
            in_flight.leave()
        response["X-Request-ID"] = request_id
        if access_logger.isEnabledFor(logging.INFO):
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return response
