"""``manage.py phonepe_replay_webhooks``: process inbox events that are unprocessed or failed.

Each event is still only a hint: processing confirms it through the status API.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from phonepe_gateway.django.inbox import process_webhook
from phonepe_gateway.django.models import WebhookEvent


class Command(BaseCommand):
    help = "Process stored webhook events that were never processed or whose processing failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=1000, help="at most this many events")
        parser.add_argument(
            "ids", nargs="*", type=int, help="reprocess these events (even if done)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ids"]:
            events = WebhookEvent.objects.filter(pk__in=options["ids"]).order_by("received_at")
            force = True
        else:
            events = WebhookEvent.objects.filter(processed_at__isnull=True).order_by("received_at")
            force = False
        results: dict[str, int] = {}
        for event in events[: options["limit"]]:
            process_webhook(event, force=force)
            event.refresh_from_db(fields=["processing_result"])
            results[event.processing_result] = results.get(event.processing_result, 0) + 1
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(results.items())) or "nothing to do"
        self.stdout.write(f"replayed {sum(results.values())} ({summary})")
