"""Parking lots, their bays, and parking sessions.

A session holds its bay while it is PARKED or PAYMENT_DUE; the database refuses a second
holder of a bay and a second open session for one vehicle. Only ``lots.services`` changes
a session's state; in particular only the ``payment_completed`` signal makes it PAID.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .plates import display_plate
from .tariff import Tariff

#: Prefix of ``Payment.reference`` for the payment of a parking session.
REFERENCE_PREFIX = "parking-session:"


class Lot(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    address = models.CharField(max_length=200, blank=True)
    grace_minutes = models.PositiveIntegerField(default=15)
    hourly_rate = models.PositiveBigIntegerField(help_text="paise per started hour")
    daily_cap = models.PositiveBigIntegerField(help_text="paise per 24 hours from entry")

    class Meta:
        ordering = ["name"]
        constraints = [
            # PhonePe refuses amounts under one rupee; a cheaper hour could never be paid.
            models.CheckConstraint(condition=Q(hourly_rate__gte=100), name="lot_hourly_rate_min"),
            models.CheckConstraint(
                condition=Q(daily_cap__gte=models.F("hourly_rate")), name="lot_cap_gte_rate"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tariff(self) -> Tariff:
        return Tariff(self.grace_minutes, self.hourly_rate, self.daily_cap)

    def add_bays(self, count: int, prefix: str = "A") -> None:
        start = self.bays.count() + 1
        Bay.objects.bulk_create(
            Bay(lot=self, code=f"{prefix}-{n:02d}") for n in range(start, start + count)
        )


class Bay(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="bays")
    code = models.CharField(max_length=12)

    class Meta:
        ordering = ["lot", "code"]
        constraints = [models.UniqueConstraint(fields=["lot", "code"], name="bay_code_unique")]

    def __str__(self) -> str:
        return f"{self.lot.name} {self.code}"


class SessionState(models.TextChoices):
    PARKED = "PARKED", "Parked"
    PAYMENT_DUE = "PAYMENT_DUE", "Payment due"
    PAID = "PAID", "Paid"
    FREE = "FREE", "Left within grace"


#: States in which a session occupies its bay.
HOLDING_STATES = (SessionState.PARKED, SessionState.PAYMENT_DUE)
#: States in which the driver may leave.
EXIT_STATES = (SessionState.PAID, SessionState.FREE)


class ParkingSession(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="sessions")
    bay = models.ForeignKey(Bay, on_delete=models.PROTECT, related_name="sessions")
    plate = models.CharField(max_length=16, db_index=True, help_text="canonical, e.g. MH12AB1234")
    state = models.CharField(
        max_length=12, choices=SessionState.choices, default=SessionState.PARKED, db_index=True
    )
    entry_at = models.DateTimeField()
    exit_at = models.DateTimeField(null=True, blank=True)
    fee = models.PositiveBigIntegerField(null=True, blank=True, help_text="paise, set at exit")
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_order_id = models.CharField(max_length=63, blank=True)
    # Finding a lost ticket page again (lots/recovery.py): only the last four digits of the
    # mobile number the driver gave at entry are kept, and wrong guesses are counted.
    phone_last4 = models.CharField(max_length=4, blank=True)
    find_failures = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-entry_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["bay"], condition=Q(state__in=HOLDING_STATES), name="one_session_per_bay"
            ),
            models.UniqueConstraint(
                fields=["plate"], condition=Q(state__in=HOLDING_STATES), name="one_open_per_plate"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.plate_display}"

    @property
    def plate_display(self) -> str:
        return display_plate(self.plate)

    @property
    def reference(self) -> str:
        return f"{REFERENCE_PREFIX}{self.pk}"

    @property
    def holds_bay(self) -> bool:
        return self.state in HOLDING_STATES

    @property
    def may_leave(self) -> bool:
        return self.state in EXIT_STATES


# --- Bookings (lots/models_booking.py) ----------------------------------------------------
# Imported here so Django registers them with this app; defined apart (lots/bookings.py
# changes them).
from .models_booking import (  # noqa: E402, F401
    BOOKING_HOLDING_STATES,
    BOOKING_REFERENCE_PREFIX,
    Booking,
    BookingState,
)

# --- Monthly passes (lots/models_pass.py) -----------------------------------------------
# Imported here so Django registers them with this app; defined apart to keep the
# parking-session models readable.
from .models_pass import MonthlyPass, PassPlan, PassUse  # noqa: E402, F401
