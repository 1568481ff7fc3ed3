"""The payments ledger: payments, refunds, the webhook inbox, idempotency records, call log.

Amounts are integer paise in 64-bit columns, guarded by database constraints.
Nothing in this module changes a ``state``: that is :mod:`phonepe_gateway.django.states`,
the one state machine, reached through :mod:`phonepe_gateway.django.services`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class PaymentState(models.TextChoices):
    CREATED = "CREATED", "Created (stored, not yet acknowledged by the gateway)"
    PENDING = "PENDING", "Pending"
    UNKNOWN = "UNKNOWN", "Unknown (sent, outcome not known)"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


#: A refund moves through the same five states as a payment (states.py has the moves).
RefundState = PaymentState


#: States the reconciler keeps asking the gateway about.
OPEN_STATES = ("CREATED", "PENDING", "UNKNOWN")
TERMINAL_STATES = ("COMPLETED", "FAILED")


class Payment(models.Model):
    """One order at the gateway. ``refunded_amount`` counts every refund not FAILED
    (completed ones and those still in flight), so the refundable remainder can never
    be promised twice."""

    merchant_order_id = models.CharField(max_length=63, unique=True)
    amount = models.BigIntegerField(help_text="paise")
    currency = models.CharField(max_length=3, default="INR")
    reference = models.CharField(max_length=255, blank=True, default="", db_index=True)
    state = models.CharField(
        max_length=16, choices=PaymentState.choices, default=PaymentState.CREATED
    )
    gateway_order_id = models.CharField(max_length=64, blank=True, default="")
    transaction_id = models.CharField(max_length=64, blank=True, default="")
    payment_mode = models.CharField(max_length=64, blank=True, default="")
    checkout_url = models.URLField(max_length=2048, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    refunded_amount = models.BigIntegerField(default=0, help_text="paise")
    needs_review = models.BooleanField(default=False)
    review_reason = models.TextField(blank=True, default="")
    #: the attempt that replaced this one after its checkout link was lost in transit
    superseded_by = models.CharField(max_length=63, blank=True, default="")
    #: the payment that had already paid this ``reference`` when this one completed
    duplicate_of = models.CharField(max_length=63, blank=True, default="")
    error_category = models.CharField(max_length=32, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # -- custom checkout (issue 12) --------------------------------------------------
    #: how the customer was asked to pay: "" = PhonePe's hosted page, else the
    #: instrument's PhonePe type (``UPI_INTENT``, ``UPI_QR``, ...) or ``SDK`` /
    #: ``SDK_CUSTOM`` for a mobile-SDK order
    instrument = models.CharField(max_length=32, blank=True, default="")
    #: what the customer pays with while the order is open (``intent_url``, ``qr_data``,
    #: ``redirect_url``, ``sdk_token``); the state machine empties it when the order
    #: closes and the reconciler when it expires
    instrument_data = models.JSONField(default=dict, blank=True)
    # ---------------------------------------------------------------------------------
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    #: when ``payment_completed`` went out (the outbox: NULL and COMPLETED = still to send)
    completion_signalled_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    check_count = models.PositiveIntegerField(default=0)
    # -- UPI AutoPay: a debit of a mandate (all NULL for an ordinary payment) --
    subscription = models.ForeignKey(
        "Subscription", on_delete=models.PROTECT, null=True, blank=True, related_name="debits"
    )
    #: 0 = the set-up transaction, 1, 2, ... = the scheduled periods
    debit_period = models.PositiveIntegerField(null=True, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    #: 1 for a period's first debit, 2.. for the retries after a FAILED one
    debit_attempt = models.PositiveSmallIntegerField(null=True, blank=True)
    #: when the redemption may be executed (the period is due and the notice period over)
    debit_due_at = models.DateTimeField(null=True, blank=True)
    #: when a redeem call was first sent (any later one names the same order)
    redeem_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("state", "next_check_at"), name="phonepe_payment_due"),
            models.Index(fields=("next_check_at",), name="phonepe_payment_next_check"),
            models.Index(fields=("needs_review",), name="phonepe_payment_review"),
        )
        constraints = (
            models.CheckConstraint(condition=Q(amount__gte=100), name="phonepe_payment_amount_min"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="phonepe_payment_refunded_range",
            ),
            # AutoPay: one debit per (mandate, period, attempt); ids derive from the same
            models.UniqueConstraint(
                fields=("subscription", "debit_period", "debit_attempt"),
                condition=Q(subscription__isnull=False),
                name="phonepe_payment_one_debit",
            ),
        )

    def __str__(self) -> str:
        return f"{self.merchant_order_id} ({self.state}, {self.amount} paise)"

    @property
    def refundable_amount(self) -> int:
        """What may still be refunded: nothing unless the payment completed."""
        if self.state != PaymentState.COMPLETED:
            return 0
        return int(self.amount) - int(self.refunded_amount)

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    # -- custom checkout (issue 12): what the customer pays with, only while open --------

    def _open_data(self, name: str) -> str | None:
        if self.is_terminal or (self.expires_at is not None and self.expires_at <= timezone.now()):
            return None
        value = (self.instrument_data or {}).get(name)
        return value if isinstance(value, str) and value else None

    @property
    def intent_url(self) -> str | None:
        """The ``upi://pay`` link that opens the customer's UPI app (``UPI_INTENT``)."""
        return self._open_data("intent_url")

    @property
    def qr_data(self) -> str | None:
        """The ``upi://pay`` string to draw as a QR code (``UPI_QR``)."""
        return self._open_data("qr_data")

    @property
    def sdk_token(self) -> str | None:
        """The order token the merchant's app hands to PhonePe's mobile SDK (``SDK``)."""
        return self._open_data("sdk_token")

    @property
    def pay_url(self) -> str | None:
        """Where to send the customer's browser: the hosted page (``checkout_url``), or the
        bank page of a card / net banking payment while it is open."""
        return self.checkout_url or self._open_data("redirect_url")


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    merchant_refund_id = models.CharField(max_length=63, unique=True)
    amount = models.BigIntegerField(help_text="paise")
    state = models.CharField(
        max_length=16, choices=RefundState.choices, default=RefundState.CREATED
    )
    gateway_refund_id = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=255, blank=True, default="")
    needs_review = models.BooleanField(default=False)
    review_reason = models.TextField(blank=True, default="")
    error_category = models.CharField(max_length=32, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    check_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("state", "next_check_at"), name="phonepe_refund_due"),
            models.Index(fields=("next_check_at",), name="phonepe_refund_next_check"),
        )
        constraints = (
            models.CheckConstraint(condition=Q(amount__gte=1), name="phonepe_refund_amount_min"),
        )

    def __str__(self) -> str:
        return f"{self.merchant_refund_id} ({self.state}, {self.amount} paise)"

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES


class WebhookEvent(models.Model):
    """The durable inbox: every authenticated callback, stored before it is acted on.

    ``dedupe_key`` is the SHA-256 of the raw body, so a redelivery is the same row.
    ``headers`` never contain ``Authorization`` (or any other credential header).
    """

    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dedupe_key = models.CharField(max_length=64, unique=True)
    event = models.CharField(max_length=64, blank=True, default="")
    gateway_state = models.CharField(max_length=32, blank=True, default="")
    merchant_order_id = models.CharField(max_length=63, blank=True, default="", db_index=True)
    merchant_refund_id = models.CharField(max_length=63, blank=True, default="", db_index=True)
    #: UPI AutoPay: the mandate a subscription event names
    merchant_subscription_id = models.CharField(
        max_length=63, blank=True, default="", db_index=True
    )
    merchant_id = models.CharField(max_length=64, blank=True, default="")
    amount = models.BigIntegerField(null=True, blank=True)
    verified = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_result = models.CharField(max_length=32, blank=True, default="")
    processing_error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-received_at", "-id")
        indexes = (models.Index(fields=("processed_at",), name="phonepe_webhook_processed"),)

    def __str__(self) -> str:
        target = self.merchant_refund_id or self.merchant_order_id
        return f"{self.event or 'webhook'} {target} #{self.pk}"

    @property
    def is_refund(self) -> bool:
        return self.event.startswith("pg.refund.") or bool(self.merchant_refund_id)


class IdempotencyRecord(models.Model):
    """The stored answer to one ``Idempotency-Key`` in one scope (route + principal)."""

    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    #: when the request now working on it claimed the key (a dead worker's claim goes stale)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("scope", "key"), name="phonepe_idempotency_unique"),
        )

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class GatewayCallLog(models.Model):
    """One row per finished gateway call (its final attempt), for metrics and support."""

    call = models.CharField(max_length=32)
    endpoint = models.CharField(max_length=255, blank=True, default="")
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=32)
    category = models.CharField(max_length=32, blank=True, default="")
    duration_ms = models.FloatField(default=0.0)
    attempt = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.call} {self.outcome} {self.status or ''}".strip()


# -- UPI AutoPay: subscriptions (mandates) and their debits ---------------------------------
# A debit is a Payment with ``subscription`` set (the AutoPay block in Payment above).


class SubscriptionState(models.TextChoices):
    CREATED = "CREATED", "Created (stored, set-up not yet acknowledged by the gateway)"
    PENDING = "PENDING", "Pending (waiting for the customer to approve the mandate)"
    UNKNOWN = "UNKNOWN", "Unknown (set-up sent, outcome not known)"
    ACTIVE = "ACTIVE", "Active"
    PAUSED = "PAUSED", "Paused by the customer"
    REVOKED = "REVOKED", "Revoked by the customer"
    CANCELLED = "CANCELLED", "Cancelled by the merchant"
    EXPIRED = "EXPIRED", "Expired"
    FAILED = "FAILED", "Failed (set-up declined or never completed)"


#: A set-up whose outcome the reconciler keeps asking about.
SETUP_STATES = ("CREATED", "PENDING", "UNKNOWN")
#: A mandate that exists at the gateway and may be debited (when ACTIVE).
LIVE_STATES = ("ACTIVE", "PAUSED")
#: Final: nothing is ever debited again.
ENDED_STATES = ("REVOKED", "CANCELLED", "EXPIRED", "FAILED")


class Subscription(models.Model):
    """One UPI AutoPay mandate and its debit schedule.

    ``amount`` is what each period is debited (paise), ``max_amount`` the mandate's cap.
    Period ``n`` (1, 2, ...) falls due at ``first_debit_at`` plus ``n - 1`` frequency
    steps; ``next_period`` is the first period no debit was started for. Nothing here
    writes ``state``: that is :mod:`.subscription_states`.
    """

    merchant_subscription_id = models.CharField(max_length=63, unique=True)
    #: the set-up order (a Payment with ``debit_period=0`` when the set-up charges money)
    merchant_order_id = models.CharField(max_length=63, unique=True)
    amount = models.BigIntegerField(help_text="paise, per debit")
    max_amount = models.BigIntegerField(help_text="paise, the mandate's cap")
    currency = models.CharField(max_length=3, default="INR")
    frequency = models.CharField(max_length=16)
    amount_type = models.CharField(max_length=16, default="VARIABLE")
    auth_workflow = models.CharField(max_length=16, default="TRANSACTION")
    instrument = models.CharField(max_length=32, blank=True, default="")
    reference = models.CharField(max_length=255, blank=True, default="", db_index=True)
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=16, choices=SubscriptionState.choices, default=SubscriptionState.CREATED
    )
    subscription_id = models.CharField(max_length=64, blank=True, default="")
    gateway_order_id = models.CharField(max_length=64, blank=True, default="")
    #: the customer's ``upi://`` link to approve the mandate (cleared once the set-up closes)
    intent_url = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="set-up order expiry")
    mandate_expires_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    first_debit_at = models.DateTimeField(null=True, blank=True)
    next_period = models.PositiveIntegerField(default=1)
    next_debit_at = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField(default=False)
    review_reason = models.TextField(blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: when the debit loop next looks at this mandate (also its claim lease)
    next_check_at = models.DateTimeField(null=True, blank=True)
    check_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("state", "next_check_at"), name="phonepe_subscription_due"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(amount__gte=100), name="phonepe_subscription_amount_min"
            ),
            models.CheckConstraint(
                condition=Q(max_amount__gte=F("amount")), name="phonepe_subscription_max_amount"
            ),
        )

    def __str__(self) -> str:
        return f"{self.merchant_subscription_id} ({self.state}, {self.frequency})"

    @property
    def is_ended(self) -> bool:
        return self.state in ENDED_STATES
