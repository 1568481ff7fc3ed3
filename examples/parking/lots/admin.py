"""Admin for car parks and bays (sessions are read-only: only the services change them)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Bay, Booking, Lot, ParkingSession


class BayInline(admin.TabularInline):
    model = Bay
    extra = 0


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ("name", "grace_minutes", "hourly_rate", "daily_cap")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [BayInline]


@admin.register(ParkingSession)
class ParkingSessionAdmin(admin.ModelAdmin):
    list_display = ("pk", "plate", "lot", "bay", "state", "entry_at", "exit_at", "fee")
    list_filter = ("state", "lot")
    search_fields = ("plate",)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-only: bookings change only through lots.bookings (payments, cancel, entry)."""

    list_display = ("pk", "plate", "lot", "bay", "state", "start_at", "end_at", "price")
    list_filter = ("state", "lot")
    search_fields = ("plate", "paid_order_id")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# --- Monthly passes ----------------------------------------------------------------------
from .models_pass import MonthlyPass, PassPlan  # noqa: E402


@admin.register(PassPlan)
class PassPlanAdmin(admin.ModelAdmin):
    list_display = ("lot", "monthly_price", "available")


@admin.register(MonthlyPass)
class MonthlyPassAdmin(admin.ModelAdmin):
    """Read-only: only lots.passes changes a pass (staff see debits on /staff/passes/)."""

    list_display = ("pk", "plate", "lot", "state", "suspend_reason", "paid_until", "created_at")
    list_filter = ("state", "suspend_reason", "lot")
    search_fields = ("plate", "merchant_subscription_id")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
