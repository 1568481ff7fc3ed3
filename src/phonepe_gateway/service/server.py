"""gunicorn, embedded: the service's WSGI app in gthread workers, plus the reconciler.

The reconciler runs in one worker only: each worker tries a non-blocking exclusive
``flock`` on a lock file in the data directory after forking; the winner runs
:func:`phonepe_gateway.django.reconcile.run_forever` in a daemon thread and stops it
when the worker exits. The kernel drops the lock when that process dies, so its
replacement takes over. Nothing here opens a database connection before the fork.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

__all__ = ["run"]

logger = logging.getLogger("phonepe_gateway.service")


class _Reconciler:
    """Per-worker state of the in-process reconciler (at most one worker runs it)."""

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock_file: IO[bytes] | None = None

    def start_if_first(self) -> None:
        handle = open(self.lock_path, "ab")  # noqa: SIM115 - held for the process lifetime
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return
        self._lock_file = handle
        from .cli import start_reconciler

        self.thread = start_reconciler(self.stop)
        logger.info("reconciler running in worker %s", os.getpid())

    def shutdown(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
        if self._lock_file is not None:
            self._lock_file.close()


class _Logger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger without its access log.

    gunicorn turns its access log on whenever a ``logconfig_dict`` is given, and then
    builds and formats a line per request whatever the level: measured, a quarter of the
    CPU of a ``/healthz`` request (docs/BENCHMARKS.md). RequestIdMiddleware writes the
    access line instead when asked (``PHONEPE_SERVICE_ACCESS_LOG``).
    """

    def _compute_access_log_enabled(self) -> bool:
        return False

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # options newer than the installed gunicorn are skipped
                self.cfg.set(key, value)

    def load(self) -> Any:
        from .wsgi import application

        return application


def run(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: int,
    reconciler: bool,
    worker_class: str = "gthread",
) -> None:
    from django.conf import settings

    lock_path = Path(settings.DATA_DIR) / ".phonepe-reconciler.lock"
    state = _Reconciler(lock_path) if reconciler else None

    def post_fork(server: Any, worker: Any) -> None:
        from django.db import connections

        connections.close_all()
        if state is not None:
            state.start_if_first()

    def worker_exit(server: Any, worker: Any) -> None:
        from phonepe_gateway.django.calllog import flush

        if state is not None:
            state.shutdown()
        flush(5.0)  # the batched gateway call log's last rows

    def child_exit(server: Any, worker: Any) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": worker_class,
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 20,
        "keepalive": 5,
        "post_fork": post_fork,
        "worker_exit": worker_exit,
        "child_exit": child_exit,
        "accesslog": None,  # RequestIdMiddleware writes access lines (PHONEPE_SERVICE_ACCESS_LOG)
        "errorlog": "-",
        "loglevel": "info",
        "logconfig_dict": _GUNICORN_LOGGING,
        "logger_class": _Logger,
        # Recent gunicorn opens a control socket in $HOME, shared by every instance: unused.
        "control_socket_disable": True,
        "proc_name": "phonepe-serve",
        "worker_tmp_dir": _worker_tmp_dir(),
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
    }
    _Gunicorn(options).run()


#: gunicorn's own lines (start, workers, signals) in the same JSON shape as the app's.
_GUNICORN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "phonepe_gateway.django.logging.JsonFormatter"}},
    # gunicorn merges this over its defaults key by key: keep the handler names it uses.
    "handlers": {
        name: {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        for name in ("console", "error_console")
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}


def _worker_tmp_dir() -> str:
    # gunicorn's heartbeat files; /dev/shm avoids disk writes where it exists.
    shm = Path("/dev/shm")  # noqa: S108 - a directory for heartbeats, not for data
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir()
