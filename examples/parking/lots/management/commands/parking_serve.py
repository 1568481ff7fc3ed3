"""``manage.py parking_serve``: the site (threaded WSGI + static files) with the reconciler.

For the demo and local use; a deployment runs gunicorn and ``phonepe_reconcile --loop``.
Stops cleanly on Ctrl-C or SIGTERM: the reconciler finishes its pass, then exits.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management.base import BaseCommand, CommandParser
from django.core.servers.basehttp import WSGIServer, run
from django.core.wsgi import get_wsgi_application


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve Smart Parking with the PhonePe reconciler running in-process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-reconciler", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from phonepe_gateway.django.reconcile import run_forever

        stop = threading.Event()
        worker = None
        if not options["no_reconciler"]:
            worker = threading.Thread(
                target=run_forever, args=(stop,), name="phonepe-reconciler", daemon=True
            )
            worker.start()
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        handler = StaticFilesHandler(get_wsgi_application())
        self.stdout.write(
            f"Smart Parking on http://{options['host']}:{options['port']}/"
            + ("" if worker else " (reconciler off)"),
        )
        self.stdout.flush()
        try:
            run(options["host"], options["port"], handler, threading=True, server_cls=WSGIServer)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            if worker is not None:
                worker.join(timeout=10)
            self.stdout.write("Smart Parking stopped.")
