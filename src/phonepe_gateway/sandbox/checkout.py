"""The hosted checkout page (placeholder until the full page lands)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
