"""``create_app``: the sandbox as one Starlette (ASGI) application.

The PhonePe API is mounted under the real prefixes the way PhonePe maps them (strict
by default): ``/apis/pg-sandbox`` (UAT) serves everything, ``/apis/identity-manager``
only the token call, ``/apis/pg`` only generation 2, ``/apis/hermes`` only generation 1;
anything else gets PhonePe's "Api Mapping Not Found" answer, so a wrong base URL fails
here as it would in production. ``lenient_hosts`` serves every API under every prefix.
Next to it: the hosted checkout page (``/transact/…``), the simulated UPI app
(``/upi-app…``), the bank page of custom checkout (``/bank/…``), their static files and
the control API (``/_sandbox/…``). The app owns one :class:`~.runtime.Sandbox`
(``app.state.sandbox``); its ticker runs for the lifespan.
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
from .responses import api_error, control_error, mapping_not_found, status_code_name
from .runtime import Sandbox

__all__ = ["create_app"]


def _api_mounts(lenient: bool) -> list[BaseRoute]:
    from . import custom, gen1

    # Generation 2: standard and custom checkout, and UPI AutoPay (subscription_api.py).
    pg: list[BaseRoute] = [*gen2.api_routes, *custom.routes, *_subscription_routes()]
    everything: list[BaseRoute] = [*gen2.token_routes, *pg, *gen1.routes]
    if lenient:
        return [Mount(prefix, routes=everything) for prefix in PREFIXES]
    return [
        Mount("/apis/pg-sandbox", routes=everything),
        Mount("/apis/identity-manager", routes=gen2.token_routes),
        Mount("/apis/pg", routes=pg),
        Mount("/apis/hermes", routes=gen1.routes),
    ]


def _subscription_routes() -> list[BaseRoute]:
    from . import subscription_api

    return list(subscription_api.routes)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status in (404, 405):
        if request.url.path.startswith("/_sandbox"):
            return control_error(
                status, "NOT_FOUND", f"No control call {request.method} {request.url.path}."
            )
        return mapping_not_found()
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

    routes: list[BaseRoute] = _api_mounts(config.lenient_hosts)
    routes += control.routes
    routes += _checkout_routes()
    routes += _mandate_routes()
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(FaultMiddleware, faults=sandbox.faults)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.sandbox = sandbox
    return app


def _mandate_routes() -> list[BaseRoute]:
    """The UPI app's AutoPay pages and the mandate control API (upi_mandates.py)."""
    from . import upi_mandates

    return [*upi_mandates.control_routes, *upi_mandates.page_routes]


def _checkout_routes() -> list[BaseRoute]:
    from . import bank, checkout, upi_app

    # The customer's side: hosted checkout, the simulated UPI app (+ its control calls)
    # and the bank page of custom-checkout card / net-banking payments.
    return [*checkout.routes, *upi_app.routes, *bank.routes]
