"""App configuration: registers system checks and signal receivers (metrics, AutoPay
debit signals), nothing else."""

from __future__ import annotations

from django.apps import AppConfig


class PhonePeConfig(AppConfig):
    name = "phonepe_gateway.django"
    label = "phonepe"
    verbose_name = "PhonePe payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: check registration and signal receivers.
        from . import checks, metrics, subscription_states  # noqa: F401
