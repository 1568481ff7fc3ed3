"""``manage.py phonepe_purge [--dry-run]``: forget old idempotency keys, processed webhook
events and gateway call log rows (see :mod:`phonepe_gateway.django.retention`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from phonepe_gateway.django import retention


class Command(BaseCommand):
    help = (
        "Delete idempotency records, processed webhook events and call log rows past their "
        "retention (PHONEPE idempotency_retention, inbox_retention, call_log_retention)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = retention.purge(dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        for name, count in counts.items():
            self.stdout.write(f"{verb} {count} {name.replace('_', ' ')}")
