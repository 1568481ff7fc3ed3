"""Monthly passes: a car park's plan, a driver's pass, and the entries it made free.

A pass is paid by a UPI AutoPay mandate (``phonepe_gateway.django`` subscriptions); it is
linked to its mandate by ``reference`` (``parking-pass:<id>``) and the mandate's
``merchant_subscription_id``, never by a foreign key, so this app's tables do not depend
on the payments app's migrations. Only ``lots.passes`` changes a pass's state.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .models import Lot, ParkingSession
from .plates import display_plate

#: Prefix of a mandate's ``reference`` for the AutoPay mandate of a monthly pass.
PASS_REFERENCE_PREFIX = "parking-pass:"


class PassPlan(models.Model):
    """What a monthly pass at one car park costs (paise per month)."""

    lot = models.OneToOneField(Lot, on_delete=models.CASCADE, related_name="pass_plan")
    monthly_price = models.PositiveBigIntegerField(help_text="paise per month")
    available = models.BooleanField(default=True)

    class Meta:
        constraints = [
            # PhonePe refuses amounts under one rupee.
            models.CheckConstraint(condition=Q(monthly_price__gte=100), name="passplan_price_min"),
        ]

    def __str__(self) -> str:
        return f"{self.lot.name}: monthly pass"


class PassState(models.TextChoices):
    SETUP = "SETUP", "AutoPay not set up yet"
    ACTIVE = "ACTIVE", "Active"
    SUSPENDED = "SUSPENDED", "Suspended"
    ENDED = "ENDED", "Ended"


class SuspendReason(models.TextChoices):
    DEBIT_FAILED = "DEBIT_FAILED", "The monthly debit failed"
    MANDATE_REVOKED = "MANDATE_REVOKED", "AutoPay was revoked in the UPI app"
    MANDATE_PAUSED = "MANDATE_PAUSED", "AutoPay is paused in the UPI app"
    MANDATE_ENDED = "MANDATE_ENDED", "AutoPay ended"


#: A pass in these states blocks a second pass for the same vehicle at the same car park.
LIVE_PASS_STATES = (PassState.SETUP, PassState.ACTIVE, PassState.SUSPENDED)


class MonthlyPass(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="passes")
    plate = models.CharField(max_length=16, db_index=True, help_text="canonical, e.g. MH12AB1234")
    monthly_price = models.PositiveBigIntegerField(help_text="paise per month, fixed at set-up")
    state = models.CharField(
        max_length=12, choices=PassState.choices, default=PassState.SETUP, db_index=True
    )
    #: the mandate now paying for the pass (a new set-up replaces it)
    merchant_subscription_id = models.CharField(max_length=63, blank=True, db_index=True)
    #: the last state seen of that mandate (PENDING, ACTIVE, PAUSED, REVOKED, ...)
    mandate_state = models.CharField(max_length=16, blank=True)
    #: how many mandates were started for this pass (makes each set-up's key unique)
    setups = models.PositiveSmallIntegerField(default=0)
    #: why the last AutoPay set-up did not go through (shown to the driver)
    setup_error = models.CharField(max_length=200, blank=True)
    suspend_reason = models.CharField(max_length=16, choices=SuspendReason.choices, blank=True)
    #: the gateway's word for it, e.g. INSUFFICIENT_BALANCE
    suspend_detail = models.CharField(max_length=200, blank=True)
    #: entries are free until then (plus a grace period, see lots.passes)
    paid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["lot", "plate"],
                condition=Q(state__in=LIVE_PASS_STATES),
                name="one_live_pass_per_plate_and_lot",
            ),
            models.CheckConstraint(
                condition=Q(monthly_price__gte=100), name="monthlypass_price_min"
            ),
        ]

    def __str__(self) -> str:
        return f"Pass #{self.pk} {self.plate_display} at {self.lot.name}"

    @property
    def plate_display(self) -> str:
        return display_plate(self.plate)

    @property
    def reference(self) -> str:
        return f"{PASS_REFERENCE_PREFIX}{self.pk}"


class PassUse(models.Model):
    """A parking session that entered under a valid pass: its fee is nothing."""

    session = models.OneToOneField(
        ParkingSession, on_delete=models.CASCADE, related_name="pass_use"
    )
    monthly_pass = models.ForeignKey(MonthlyPass, on_delete=models.PROTECT, related_name="uses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
