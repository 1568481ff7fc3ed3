"""Admin for the ledger: look, search, filter, and ask the gateway again. Never edit money.

Amounts, states and gateway ids are read-only: a state changes only through the
services (the "sync now" and "reprocess event" actions call them). The only editable
fields are the review flag and its note. Nothing is added or deleted here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services, subscriptions
from .exceptions import PaymentsError
from .inbox import process_webhook
from .models import (
    GatewayCallLog,
    IdempotencyRecord,
    Payment,
    Refund,
    Subscription,
    WebhookEvent,
)


def _rupees(paise: int | None) -> str:
    if paise is None:
        return "-"
    return f"₹{paise // 100:,}.{paise % 100:02d}"


class _ReadOnlyLedger(admin.ModelAdmin):  # type: ignore[type-arg]
    editable: tuple[str, ...] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name not in self.editable]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Write only the editable columns: a full save would write back a state that
        # the state machine may have changed since this page loaded it.
        if not self.editable:
            return
        stamp = ["updated_at"] if hasattr(obj, "updated_at") else []
        obj.save(update_fields=[*self.editable, *stamp])

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Refund
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("merchant_refund_id", "amount", "state", "created_at", "needs_review")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _sync(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    objects: QuerySet[Any],
    sync: Any,
    ident: str,
) -> None:
    done, failed = 0, []
    for obj in objects:
        try:
            sync(obj)
            done += 1
        except PaymentsError as exc:
            failed.append(f"{getattr(obj, ident)}: {exc.message}")
    if done:
        modeladmin.message_user(request, f"Asked the gateway about {done}.", messages.SUCCESS)
    for line in failed:
        modeladmin.message_user(request, line, messages.WARNING)


@admin.register(Payment)
class PaymentAdmin(_ReadOnlyLedger):
    editable = ("needs_review", "review_reason")
    list_display = (
        "merchant_order_id",
        "amount_display",
        "state",
        "refunded_display",
        "needs_review",
        "reference",
        "instrument_display",
        "payment_mode",
        "created_at",
    )
    list_filter = (
        "state",
        "needs_review",
        "instrument",
        "payment_mode",
        "currency",
        "created_at",
    )
    search_fields = (
        "merchant_order_id",
        "reference",
        "gateway_order_id",
        "transaction_id",
    )
    date_hierarchy = "created_at"
    inlines = (RefundInline,)
    actions = ("sync_now",)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: Payment) -> str:
        return _rupees(obj.amount)

    @admin.display(description="refunded", ordering="refunded_amount")
    def refunded_display(self, obj: Payment) -> str:
        return _rupees(obj.refunded_amount)

    @admin.display(description="instrument", ordering="instrument")
    def instrument_display(self, obj: Payment) -> str:
        """Custom checkout's instrument; the hosted page (the default) says so."""
        return obj.instrument or "hosted page"

    @admin.action(description="Sync now (ask the gateway for the status)")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        _sync(self, request, queryset, services.sync_payment, "merchant_order_id")


@admin.register(Refund)
class RefundAdmin(_ReadOnlyLedger):
    editable = ("needs_review", "review_reason")
    list_display = (
        "merchant_refund_id",
        "payment",
        "amount_display",
        "state",
        "needs_review",
        "created_at",
    )
    list_filter = ("state", "needs_review", "created_at")
    search_fields = ("merchant_refund_id", "gateway_refund_id", "payment__merchant_order_id")
    list_select_related = ("payment",)
    actions = ("sync_now",)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: Refund) -> str:
        return _rupees(obj.amount)

    @admin.action(description="Sync now (ask the gateway for the status)")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        _sync(self, request, queryset, services.sync_refund, "merchant_refund_id")


class _Processed(admin.SimpleListFilter):
    title = "processed"
    parameter_name = "processed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "processed"), ("no", "not processed / failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(processed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(processed_at__isnull=True)
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(_ReadOnlyLedger):
    list_display = (
        "id",
        "event",
        "merchant_order_id",
        "merchant_refund_id",
        "received_at",
        "processing_result",
        "attempts",
    )
    list_filter = (_Processed, "processing_result", "event", "verified", "received_at")
    search_fields = ("merchant_order_id", "merchant_refund_id", "dedupe_key", "event")
    actions = ("reprocess",)

    @admin.action(description="Reprocess event (confirm with the gateway again)")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        results: dict[str, int] = {}
        for event in queryset:
            process_webhook(event, force=True)
            event.refresh_from_db(fields=["processing_result"])
            results[event.processing_result] = results.get(event.processing_result, 0) + 1
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(results.items()))
        self.message_user(request, f"Reprocessed {sum(results.values())} ({summary}).")


@admin.register(GatewayCallLog)
class GatewayCallLogAdmin(_ReadOnlyLedger):
    list_display = (
        "created_at",
        "call",
        "outcome",
        "status",
        "category",
        "duration_ms",
        "endpoint",
    )
    list_filter = ("call", "outcome", "category", "created_at")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(_ReadOnlyLedger):
    list_display = ("created_at", "scope", "key", "response_status")
    search_fields = ("key", "scope")


# -- UPI AutoPay mandates ---------------------------------------------------------------------


class DebitInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Payment
    fk_name = "subscription"
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "debit"
    fields = (
        "merchant_order_id",
        "debit_period",
        "debit_attempt",
        "amount",
        "state",
        "debit_due_at",
        "completed_at",
        "needs_review",
    )
    readonly_fields = fields
    ordering = ("-debit_period", "-debit_attempt")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(_ReadOnlyLedger):
    editable = ("needs_review", "review_reason")
    list_display = (
        "merchant_subscription_id",
        "state",
        "frequency",
        "amount_display",
        "next_period",
        "next_debit_at",
        "needs_review",
        "reference",
        "created_at",
    )
    list_filter = ("state", "frequency", "needs_review", "auth_workflow", "created_at")
    search_fields = (
        "merchant_subscription_id",
        "merchant_order_id",
        "subscription_id",
        "reference",
    )
    date_hierarchy = "created_at"
    inlines = (DebitInline,)
    actions = ("sync_now", "cancel")

    @admin.display(description="per debit", ordering="amount")
    def amount_display(self, obj: Subscription) -> str:
        return _rupees(obj.amount)

    @admin.action(description="Sync now (ask the gateway for the mandate's status)")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        _sync(self, request, queryset, subscriptions.sync_subscription, "merchant_subscription_id")

    @admin.action(description="Cancel the mandate at the gateway")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        _sync(
            self, request, queryset, subscriptions.cancel_subscription, "merchant_subscription_id"
        )
