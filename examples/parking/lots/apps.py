"""The lots app: connects the payment signals that turn a paid payment into a paid session."""

from __future__ import annotations

from django.apps import AppConfig


class LotsConfig(AppConfig):
    name = "lots"
    verbose_name = "Smart Parking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import pass_receivers, receivers

        receivers.connect()
        pass_receivers.connect()  # monthly passes: mandates and their debits
