"""``phonepe serve`` and ``phonepe manage``: the standalone payments service.

``serve`` migrates the database, runs Django's system checks (errors stop it), then
runs gunicorn (gthread workers: a production-grade pre-fork server that needs no async
rewrite of the Django app; see docs/BENCHMARKS.md for the measurements behind the choice)
and, unless ``--no-reconciler``, the reconciler in a thread of exactly one worker: the
worker holding an exclusive ``flock`` on ``<data dir>/.phonepe-reconciler.lock`` (the lock
dies with its process, and the worker that replaces it takes over). SIGTERM or Ctrl-C
stops it gracefully. ``manage`` runs any management command of the bundled project.
Neither prints a secret.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import click

__all__ = ["manage", "serve"]

_SETTINGS = "phonepe_gateway.service.settings"


def _setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = _SETTINGS
    from . import settings as service_settings

    service_settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    _ensure_secret_key(service_settings.SECRET_KEY_FILE)
    import django

    django.setup()


def _ensure_secret_key(path: Any) -> None:
    if os.environ.get("PHONEPE_SERVICE_SECRET_KEY") or os.environ.get("DJANGO_SECRET_KEY"):
        return
    import secrets

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))


def _prepare(verbosity: int) -> None:
    """Migrate and check; exits with a message when the configuration is unusable."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError
    from django.db import connections

    try:
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("check")
    except SystemCheckError as exc:
        raise click.ClickException(f"configuration errors:\n{exc}") from None
    finally:
        connections.close_all()  # never share a connection with the forked workers


def _multiprocess_metrics() -> None:
    """Several workers share their Prometheus samples through files (prometheus-client's
    multiprocess mode); the directory must be set before prometheus_client is imported."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    import shutil

    from . import settings as service_settings

    directory = service_settings.DATA_DIR / ".prometheus"
    shutil.rmtree(directory, ignore_errors=True)  # samples of a previous run are stale
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-reconciler", is_flag=True, help="Do not run the reconciler in-process.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (default: one per available CPU).",
)
@click.option(
    "--allow-non-loopback",
    is_flag=True,
    help="With PHONEPE_ENV=local, listen on a non-loopback address anyway (the local "
    "sandbox's credentials are public: only on a trusted network).",
)
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option(
    "--worker-class",
    type=click.Choice(["gthread", "sync"]),
    default="gthread",
    show_default=True,
    help="gunicorn worker type (sync: one request at a time per worker).",
)
@click.option(
    "--timeout",
    type=click.IntRange(5, 600),
    default=60,
    show_default=True,
    help="Seconds before a stuck worker is restarted (above PHONEPE_TIMEOUT).",
)
def serve(
    host: str,
    port: int,
    no_reconciler: bool,
    allow_non_loopback: bool,
    workers: int | None,
    threads: int,
    worker_class: str,
    timeout: int,
) -> None:
    """Run the standalone payments service (migrates first)."""
    workers = workers or _default_workers()
    if workers > 1:
        _multiprocess_metrics()
    _setup()
    _refuse_public_local_bind(host, allow_non_loopback)
    _prepare(verbosity=1)
    from phonepe_gateway.django.auth import configured_keys

    from .server import run

    if host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get(
        "PHONEPE_SERVICE_ALLOWED_HOSTS"
    ):
        click.echo(
            f"warning: listening on {host} but PHONEPE_SERVICE_ALLOWED_HOSTS is not set: "
            "requests naming this host will be refused (400). Set it to the service's names.",
            err=True,
        )
    if not configured_keys():
        click.echo(
            "warning: PHONEPE_SERVICE_API_KEYS is empty: /api/payments will answer 401 to "
            "everyone except staff sessions.",
            err=True,
        )
    run(
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        worker_class=worker_class,
        timeout=timeout,
        reconciler=not no_reconciler,
    )


def _refuse_public_local_bind(host: str, allowed: bool) -> None:
    """In local mode anyone who can reach the port can sign webhooks with the sandbox's
    published credentials: listen on loopback only, unless told otherwise."""
    from phonepe_gateway import ConfigurationError
    from phonepe_gateway.django.checks import is_loopback_url
    from phonepe_gateway.django.conf import get_settings

    try:
        local = get_settings().env == "local"
    except ConfigurationError:
        return  # the system checks report it with the fix
    if local and not allowed and not is_loopback_url(f"http://{_bracketed(host)}/"):
        raise click.ClickException(
            f"refusing to listen on {host} with PHONEPE_ENV=local: the local sandbox's "
            "credentials are public, so anyone reaching this port could forge payment "
            "webhooks. Bind 127.0.0.1, configure PHONEPE_ENV=production, or pass "
            "--allow-non-loopback on a trusted network."
        )


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a management command of the payments service (`phonepe manage help`)."""
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["phonepe manage", *args])


def start_reconciler(stop: threading.Event) -> threading.Thread:
    """Start the reconciler loop in a daemon thread of this process."""
    from phonepe_gateway.django.reconcile import run_forever

    thread = threading.Thread(
        target=run_forever, args=(stop,), name="phonepe-reconciler", daemon=True
    )
    thread.start()
    return thread


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve())
