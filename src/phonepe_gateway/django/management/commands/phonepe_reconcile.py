"""``manage.py phonepe_reconcile [--once | --loop]``: ask PhonePe about open payments and refunds.

Safe to run in several processes at once (rows are claimed with FOR UPDATE SKIP LOCKED
on PostgreSQL). ``--loop`` stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from phonepe_gateway.django import reconcile


class Command(BaseCommand):
    help = "Check due CREATED/PENDING/UNKNOWN payments and refunds with PhonePe's status API."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="one pass, then exit (default)")
        mode.add_argument("--loop", action="store_true", help="keep reconciling until stopped")
        parser.add_argument("--limit", type=int, default=None, help="rows per kind per pass")
        parser.add_argument(
            "--interval", type=float, default=None, help="seconds to wait when nothing is due"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["loop"]:
            checked = reconcile.run_once(limit=options["limit"])
            self.stdout.write(f"checked {checked}")
            return
        stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("reconciling; Ctrl-C to stop")
        try:
            reconcile.run_forever(stop, interval=options["interval"])
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write("stopped")
