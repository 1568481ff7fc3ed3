"""Run a sandbox on a real loopback socket for tests: :func:`serve_sandbox`.

uvicorn serves the app in a background thread on ``127.0.0.1`` (port 0 picks a free
port); leaving the context stops the server and its ticker cleanly. Also
:func:`serve_app`, the same for any ASGI app (e.g. a webhook receiver in a test).
Never binds anything but loopback.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from .app import create_app
from .config import SandboxConfig
from .runtime import Sandbox
from .state import SandboxState

__all__ = ["RunningApp", "RunningSandbox", "serve_app", "serve_sandbox"]


@dataclass(frozen=True)
class RunningApp:
    url: str
    port: int


@dataclass(frozen=True)
class RunningSandbox:
    url: str
    port: int
    app: Starlette

    @property
    def base_url(self) -> str:
        return self.url + "/apis/pg-sandbox"

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    @property
    def config(self) -> SandboxConfig:
        return self.sandbox.config

    def reset(self) -> None:
        self.sandbox.reset()


@contextmanager
def serve_app(
    app: ASGIApp,
    *,
    port: int = 0,
    startup_timeout: float = 10.0,
    lifespan: Literal["auto", "on", "off"] = "on",
    http: Literal["auto", "h11", "httptools"] = "auto",
) -> Iterator[RunningApp]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a daemon thread until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http=http,
        log_level="warning",
        lifespan=lifespan,
        ws="none",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-uvicorn-{bound}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the server on 127.0.0.1:{bound} did not start")
        time.sleep(0.005)
    try:
        yield RunningApp(url=f"http://127.0.0.1:{bound}", port=bound)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_sandbox(
    config: SandboxConfig | None = None, **config_kwargs: Any
) -> Iterator[RunningSandbox]:
    """A sandbox on a free loopback port: ``with serve_sandbox() as sb: sb.base_url``."""
    app = create_app(config, **config_kwargs)
    with serve_app(app) as running:
        yield RunningSandbox(url=running.url, port=running.port, app=app)
