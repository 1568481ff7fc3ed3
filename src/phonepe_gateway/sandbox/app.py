"""``create_app``: the sandbox as one Starlette (ASGI) application.

The PhonePe API (both generations) is mounted under every real prefix, next to the
hosted checkout page (``/transact/…``), its static files and the control API
(``/_sandbox/…``). Unknown paths answer 404 in PhonePe's error shape. The app owns one
:class:`~.runtime.Sandbox` (``app.state.sandbox``); its ticker runs for the lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from . import control, gen2
from .config import SandboxConfig
from .faults import PREFIXES, FaultMiddleware
from .responses import api_error, status_code_name
from .runtime import Sandbox

__all__ = ["create_app"]


def _api_routes() -> list[BaseRoute]:
    from . import gen1

    return [*gen2.routes, *gen1.routes]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return api_error(404, "NOT_FOUND", f"No such API: {request.method} {request.url.path}.")
    if status == 405:
        return api_error(
            405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.url.path}."
        )
    return api_error(status, status_code_name(status), "The request could not be handled.")


def create_app(config: SandboxConfig | None = None, **overrides: Any) -> Starlette:
    """Build a sandbox app. ``overrides`` are :class:`SandboxConfig` fields."""
    config = (
        (config or SandboxConfig()).replace(**overrides)
        if overrides
        else (config or SandboxConfig())
    )
    sandbox = Sandbox(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.start()
        try:
            yield
        finally:
            await sandbox.stop()

    api = _api_routes()
    routes: list[BaseRoute] = [Mount(prefix, routes=api) for prefix in PREFIXES]
    routes += control.routes
    routes += _checkout_routes()
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(FaultMiddleware, faults=sandbox.faults)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.sandbox = sandbox
    return app


def _checkout_routes() -> list[BaseRoute]:
    from . import checkout

    return list(checkout.routes)
