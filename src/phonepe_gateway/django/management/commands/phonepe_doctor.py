"""``manage.py phonepe_doctor [--json] [--base-url URL]…``: the doctor with the app's settings.

Same checks, output and exit status as ``phonepe doctor``, but the settings come from
the Django ``PHONEPE`` dict over the ``PHONEPE_*`` variables (exactly what the app's
client uses). Exits 1 when a check fails. Never prints a secret.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from phonepe_gateway.django.conf import get_settings
from phonepe_gateway.doctor import diagnose
from phonepe_gateway.doctor.cli import print_report


class Command(BaseCommand):
    help = (
        "Diagnose connectivity to PhonePe (DNS, TCP, proxy, TLS, HTTP, clock) and the "
        "credentials, and say what to fix. Exit status 1 when a check fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--base-url",
            action="append",
            default=[],
            metavar="URL",
            help="check this endpoint instead of the configured ones (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = diagnose(get_settings, options["base_url"])
        if options["json"]:
            self.stdout.write(json.dumps(report.to_dict(), indent=2))
        else:
            buffer = io.StringIO()
            print_report(report, file=buffer)
            self.stdout.write(buffer.getvalue(), ending="")
        if not report.ok:
            failed = sum(check.status == "fail" for check in report.checks)
            raise CommandError(f"{failed} doctor check(s) failed", returncode=1)
