"""Shared fixtures for every test stage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from phonepe_gateway.sandbox.testing import RunningSandbox, serve_sandbox


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[RunningSandbox]:
    with serve_sandbox() as running:
        yield running


@pytest.fixture
def sandbox(_sandbox_server: RunningSandbox) -> Iterator[RunningSandbox]:
    """A local PhonePe sandbox on a real loopback port, with fresh state for each test.

    ``sandbox.url``, ``sandbox.base_url`` (``…/apis/pg-sandbox``), ``sandbox.app``,
    ``sandbox.state``. One server serves the session; state, faults, webhooks and the
    clock are reset before and after every test. Tests needing another configuration
    use ``phonepe_gateway.sandbox.testing.serve_sandbox(**config)`` directly.
    """
    _sandbox_server.reset()
    yield _sandbox_server
    _sandbox_server.reset()
