"""Bookings: a bay reserved for a time window and paid ahead (``lots.bookings`` changes them)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .models import Bay, Lot, ParkingSession
from .plates import display_plate

#: Prefix of ``Payment.reference`` for the payment of a booking.
BOOKING_REFERENCE_PREFIX = "parking-booking:"


class BookingState(models.TextChoices):
    AWAITING_PAYMENT = "AWAITING_PAYMENT", "Awaiting payment"
    PAID = "PAID", "Paid"
    ENTERED = "ENTERED", "Entered"
    CANCELLED = "CANCELLED", "Cancelled"
    EXPIRED = "EXPIRED", "Expired unpaid"


#: States in which a booking holds its bay for its window.
BOOKING_HOLDING_STATES = (BookingState.PAID, BookingState.ENTERED)


class Booking(models.Model):
    """A bay reserved for a time window, paid in advance.

    It holds a bay only once paid (``bay`` is set then, in ``bookings.record_payment_completed``).
    The cancellation policy is copied onto the booking when it is made, so the policy the
    driver saw before paying is the one applied when they cancel.
    """

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="bookings")
    bay = models.ForeignKey(
        Bay, on_delete=models.PROTECT, related_name="bookings", null=True, blank=True
    )
    plate = models.CharField(max_length=16, db_index=True, help_text="canonical, e.g. MH12AB1234")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    price = models.PositiveBigIntegerField(help_text="paise, fixed when booked")
    state = models.CharField(
        max_length=16,
        choices=BookingState.choices,
        default=BookingState.AWAITING_PAYMENT,
        db_index=True,
    )
    # The cancellation policy shown before paying (lots.bookings.CancellationPolicy).
    full_refund_minutes = models.PositiveIntegerField(
        help_text="cancel at least this long before the start: full refund"
    )
    late_refund_percent = models.PositiveSmallIntegerField(
        help_text="refund after that cut-off, before the start (none once started)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_order_id = models.CharField(max_length=63, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    refund_amount = models.PositiveBigIntegerField(default=0, help_text="paise")
    session = models.OneToOneField(
        ParkingSession,
        on_delete=models.PROTECT,
        related_name="booking",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["-start_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__gt=models.F("start_at")), name="booking_window"
            ),
            models.CheckConstraint(condition=Q(price__gte=100), name="booking_price_min"),
            models.CheckConstraint(
                condition=Q(late_refund_percent__lte=100), name="booking_late_refund_percent"
            ),
            models.CheckConstraint(
                condition=~Q(state__in=BOOKING_HOLDING_STATES) | Q(bay__isnull=False),
                name="booking_paid_has_bay",
            ),
        ]

    def __str__(self) -> str:
        return f"Booking #{self.pk} {self.plate_display}"

    @property
    def window_missed(self) -> bool:
        """Paid, never used, and its window is over (no refund once started: the policy)."""
        return self.state == BookingState.PAID and self.end_at <= timezone.now()

    @property
    def plate_display(self) -> str:
        return display_plate(self.plate)

    @property
    def reference(self) -> str:
        return f"{BOOKING_REFERENCE_PREFIX}{self.pk}"
