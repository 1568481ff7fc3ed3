"""The one place the parking site talks to the payments app's AutoPay subscriptions.

``lots.passes`` decides what a pass is; this module only starts, cancels, syncs and reads
mandates and their debits through ``phonepe_gateway.django.subscriptions`` (ledger,
state machine and scheduled debits live there, never here).
"""

from __future__ import annotations

from dataclasses import dataclass

from phonepe_gateway import UpiIntent
from phonepe_gateway.django import services as payments
from phonepe_gateway.django import subscriptions
from phonepe_gateway.django.exceptions import RefundExceedsRemainder
from phonepe_gateway.django.models import Payment, Subscription

#: PhonePe's frequency for a pass that renews each month.
FREQUENCY = "MONTHLY"


@dataclass(frozen=True)
class Mandate:
    merchant_subscription_id: str
    state: str
    intent_url: str


def start(*, amount: int, reference: str, idempotency_key: str) -> Mandate:
    """Ask PhonePe for a monthly UPI AutoPay mandate paid by the intent link's UPI app.

    A FIXED mandate for the monthly price: every debit is exactly that amount, and the
    customer's UPI app says so, so a mandate can never take more than the pass costs.
    """
    sub = subscriptions.create_subscription(
        amount=amount,
        max_amount=amount,
        amount_type="FIXED",
        frequency=FREQUENCY,
        instrument=UpiIntent(),
        reference=reference,
        idempotency_key=idempotency_key,
    )
    return Mandate(sub.merchant_subscription_id, str(sub.state), sub.intent_url or "")


def get(merchant_subscription_id: str) -> Subscription | None:
    return Subscription.objects.filter(merchant_subscription_id=merchant_subscription_id).first()


def sync(merchant_subscription_id: str) -> Subscription | None:
    """Ask the gateway about the mandate now (its signals then reach lots.pass_receivers)."""
    sub = get(merchant_subscription_id)
    if sub is None:
        return None
    return subscriptions.sync_subscription(sub)


#: A set-up request not yet answered cannot be cancelled at PhonePe: it expires by itself
#: (and should the customer still approve it, :func:`retire` undoes that).
_UNANSWERED = ("CREATED", "PENDING", "UNKNOWN")


def cancel(merchant_subscription_id: str) -> bool:
    """Cancel the mandate so it is never debited again; False when there is nothing to
    cancel (unknown, already ended, or a set-up request not yet answered)."""
    sub = get(merchant_subscription_id)
    if sub is None or sub.is_ended or str(sub.state) in _UNANSWERED:
        return False
    subscriptions.cancel_subscription(sub)
    return True


def retire(merchant_subscription_id: str, *, reason: str) -> int:
    """A mandate that went live but pays for no pass any more (the pass ended, or a newer
    mandate replaced it, before the customer approved this one): cancel it and refund
    what it took. Returns the paise refunded. Safe to call again: only the refundable
    remainder is refunded, under the payments app's lock.
    """
    cancel(merchant_subscription_id)
    refunded = 0
    taken = Payment.objects.filter(
        subscription__merchant_subscription_id=merchant_subscription_id, state="COMPLETED"
    )
    for payment in taken:
        remainder = payment.amount - payment.refunded_amount
        if remainder <= 0:
            continue
        try:
            payments.refund_payment(payment, amount=remainder, reason=reason)
        except RefundExceedsRemainder:
            continue  # another caller refunded it meanwhile
        refunded += remainder
    return refunded


def debits(reference: str) -> list[Payment]:
    """Every debit of every mandate that paid for the pass ``reference``, newest first."""
    return list(
        Payment.objects.filter(subscription__reference=reference)
        .select_related("subscription")
        .order_by("-created_at", "-pk")
    )
