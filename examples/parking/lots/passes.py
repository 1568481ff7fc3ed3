"""Monthly passes: set up by UPI AutoPay, free entry while valid, suspended when unpaid.

The only code that changes a :class:`~lots.models_pass.MonthlyPass`. Every change runs
under a row lock. What the payments app says about the pass's mandate (its state, each
debit) reaches :func:`apply_mandate` and :func:`apply_debit`, from its signals
(``lots.pass_receivers``) or from a status check the driver asks for; both only act on
the pass's *current* mandate, so a late word about a replaced one changes nothing, and
both are idempotent, so a signal and a sync for the same news agree.

    SETUP ──► ACTIVE ◄──► SUSPENDED     any of them ──► ENDED (the driver ends the pass)

* SETUP: waiting for the driver to approve AutoPay in their UPI app (or it was declined:
  ``setup_error`` says so and the driver can set it up again).
* ACTIVE: the mandate is live and the month is paid: entries are free.
* SUSPENDED: a debit failed or the mandate was revoked, paused or ended; entries are
  charged as for anyone, and the pass page says why and how to fix it (set up AutoPay
  again; a paused mandate resumed in the UPI app, or a later successful debit, also
  reactivates it).

An entry is free when the pass was valid *at entry* (:func:`record_entry`); what happens
to the pass during the stay does not change that stay's fee.
"""

from __future__ import annotations

import calendar
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import autopay
from .failures import why_failed
from .models import Lot, ParkingSession
from .models_pass import (
    LIVE_PASS_STATES,
    PASS_REFERENCE_PREFIX,
    MonthlyPass,
    PassPlan,
    PassState,
    PassUse,
    SuspendReason,
)
from .plates import normalise_plate

logger = logging.getLogger(__name__)

#: Entries stay free this long after the paid month ends, while its debit is under way
#: (PhonePe's pre-debit notice comes a day ahead and a debit may be retried).
GRACE = timedelta(days=3)

#: What a mandate state means for a pass that was paying with it.
_ENDED_MANDATE = {
    "REVOKED": SuspendReason.MANDATE_REVOKED,
    "PAUSED": SuspendReason.MANDATE_PAUSED,
    "CANCELLED": SuspendReason.MANDATE_ENDED,
    "EXPIRED": SuspendReason.MANDATE_ENDED,
    "FAILED": SuspendReason.MANDATE_ENDED,
}
_SETUP_REFUSED = {
    "FAILED": "AutoPay was not approved in your UPI app.",
    "REVOKED": "AutoPay was declined in your UPI app.",
    "EXPIRED": "The AutoPay request expired before it was approved.",
    "CANCELLED": "The AutoPay request was cancelled.",
}
#: Gateway error codes a driver can act on, in their words.


class PassError(Exception):
    """A driver action on a pass that cannot be done; the message is shown to the driver."""


class NoPlan(PassError):
    pass


class PassExists(PassError):
    def __init__(self, message: str, existing: MonthlyPass) -> None:
        super().__init__(message)
        self.existing = existing


def add_month(moment: datetime) -> datetime:
    """The same day and time next month (the 31st becomes the month's last day)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def plan_for(lot: Lot) -> PassPlan | None:
    return PassPlan.objects.filter(lot=lot, available=True).first()


def pass_id_from_reference(reference: str) -> int | None:
    if not reference.startswith(PASS_REFERENCE_PREFIX):
        return None
    tail = reference[len(PASS_REFERENCE_PREFIX) :]
    return int(tail) if tail.isdigit() else None


# --- the rule for free entry -------------------------------------------------------------


def is_valid(monthly_pass: MonthlyPass, now: datetime | None = None) -> bool:
    """Entries are free: ACTIVE, and the paid month (plus :data:`GRACE`) not over."""
    if monthly_pass.state != PassState.ACTIVE:
        return False
    if monthly_pass.paid_until is None:
        return True
    return (now or timezone.now()) < monthly_pass.paid_until + GRACE


def valid_pass(lot: Lot, plate: str, now: datetime | None = None) -> MonthlyPass | None:
    """The pass that makes an entry of ``plate`` (canonical) at ``lot`` free now, if any."""
    candidate = MonthlyPass.objects.filter(lot=lot, plate=plate, state=PassState.ACTIVE).first()
    if candidate is not None and is_valid(candidate, now):
        return candidate
    return None


def record_entry(session: ParkingSession) -> PassUse | None:
    """Called when a car enters: a valid pass at that moment makes the whole stay free."""
    monthly_pass = valid_pass(session.lot, session.plate, session.entry_at)
    if monthly_pass is None:
        return None
    use = PassUse.objects.create(session=session, monthly_pass=monthly_pass)
    logger.info("session %s entered on pass %s", session.pk, monthly_pass.pk)
    return use


def covers(session: ParkingSession) -> bool:
    return PassUse.objects.filter(session=session).exists()


def use_for(session: ParkingSession) -> PassUse | None:
    return PassUse.objects.select_related("monthly_pass").filter(session=session).first()


# --- what the driver does ----------------------------------------------------------------


def create_pass(lot: Lot, plate_text: str) -> MonthlyPass:
    """A new pass (SETUP) for ``plate_text`` at ``lot``; raises InvalidPlate, NoPlan or PassExists.

    AutoPay is not started here (:func:`start_setup` does that), so a gateway outage
    leaves a pass the driver can set up again, never a half-made one.
    """
    plate = normalise_plate(plate_text)
    plan = plan_for(lot)
    if plan is None:
        raise NoPlan(f"{lot.name} does not sell monthly passes.")
    try:
        with transaction.atomic():
            return MonthlyPass.objects.create(
                lot=lot, plate=plate, monthly_price=plan.monthly_price
            )
    except IntegrityError as exc:
        existing = MonthlyPass.objects.get(lot=lot, plate=plate, state__in=LIVE_PASS_STATES)
        raise PassExists(
            f"This vehicle already has a monthly pass at {lot.name}.", existing
        ) from exc


def replace_unapproved(existing: MonthlyPass) -> MonthlyPass:
    """A new pass in place of ``existing`` if its AutoPay was never approved.

    A pass someone started and abandoned (or started for a plate not theirs) must not
    block the vehicle's driver: it is ended and a fresh one made. Its unanswered AutoPay
    request expires by itself; approved anyway, it is retired (:func:`retire_if_orphan`).
    A pass that was ever active raises PassExists: only its holder or staff can end it.
    """
    if existing.state != PassState.SETUP or existing.activated_at is not None:
        raise PassExists(
            f"This vehicle already has a monthly pass at {existing.lot.name}.", existing
        )
    end_pass(existing)
    logger.info("pass %s replaced before its AutoPay was approved", existing.pk)
    return create_pass(existing.lot, existing.plate)


def start_setup(monthly_pass: MonthlyPass) -> autopay.Mandate:
    """Start a (new) AutoPay mandate for the pass; returns it with its UPI intent link.

    A previous live mandate (active, paused) is cancelled first, so a pass is never paid
    by two mandates; an unanswered set-up request cannot be cancelled at PhonePe, and is
    retired should it be approved later. Raises PassError when the pass is ended or
    already active; the payments app's errors (gateway down) pass through with nothing
    changed on the pass but its set-up count.
    """
    with transaction.atomic():
        locked = MonthlyPass.objects.select_for_update().get(pk=monthly_pass.pk)
        if locked.state == PassState.ENDED:
            raise PassError("This pass has ended. Buy a new one from the car park's page.")
        if locked.state == PassState.ACTIVE:
            raise PassError("AutoPay is already active for this pass.")
        previous = locked.merchant_subscription_id
        locked.setups += 1
        locked.save(update_fields=["setups"])
        attempt = locked.setups
    if previous:
        autopay.cancel(previous)
    mandate = autopay.start(
        amount=monthly_pass.monthly_price,
        reference=monthly_pass.reference,
        idempotency_key=f"{monthly_pass.reference}:setup:{attempt}",
    )
    with transaction.atomic():
        locked = MonthlyPass.objects.select_for_update().get(pk=monthly_pass.pk)
        locked.merchant_subscription_id = mandate.merchant_subscription_id
        locked.mandate_state = mandate.state
        locked.setup_error = ""
        locked.save(update_fields=["merchant_subscription_id", "mandate_state", "setup_error"])
    logger.info(
        "pass %s: AutoPay set-up %s started", monthly_pass.pk, mandate.merchant_subscription_id
    )
    # The set-up may already be settled (an instant answer): apply it like any other news.
    apply_mandate(monthly_pass.pk, mandate.merchant_subscription_id, mandate.state)
    return mandate


def end_pass(monthly_pass: MonthlyPass, *, now: datetime | None = None) -> MonthlyPass:
    """The driver ends the pass: no more debits (the mandate is cancelled), no more free entry.

    The mandate is cancelled first: if PhonePe cannot be reached the error passes through
    and the pass is unchanged, so a pass never ends while its mandate may still be debited.
    """
    if monthly_pass.merchant_subscription_id and monthly_pass.state != PassState.ENDED:
        autopay.cancel(monthly_pass.merchant_subscription_id)
    with transaction.atomic():
        locked = MonthlyPass.objects.select_for_update().get(pk=monthly_pass.pk)
        if locked.state == PassState.ENDED:
            return locked
        locked.state = PassState.ENDED
        locked.ended_at = now or timezone.now()
        locked.save(update_fields=["state", "ended_at"])
    logger.info("pass %s ended by the driver", locked.pk)
    return locked


# --- what the payments app tells us ------------------------------------------------------


def apply_mandate(
    pass_id: int,
    merchant_subscription_id: str,
    mandate_state: str,
    *,
    error: str = "",
    at: datetime | None = None,
) -> MonthlyPass | None:
    """The pass's mandate is now ``mandate_state`` (PhonePe's subscription state)."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = MonthlyPass.objects.select_for_update().filter(pk=pass_id).first()
        if locked is None or locked.merchant_subscription_id != merchant_subscription_id:
            return locked  # a replaced mandate's news: the pass has moved on
        before = locked.mandate_state
        locked.mandate_state = mandate_state
        fields = ["mandate_state"]
        if locked.state != PassState.ENDED:
            fields += _follow_mandate(locked, before, mandate_state, error, at)
        locked.save(update_fields=sorted(set(fields)))
    return locked


def _follow_mandate(
    locked: MonthlyPass, before: str, state: str, error: str, at: datetime
) -> list[str]:
    if state == "ACTIVE":
        if locked.state == PassState.SETUP or before in ("", "PENDING"):
            # A new mandate went live; its set-up transaction paid the first month.
            locked.activated_at = at
            locked.paid_until = max(filter(None, [locked.paid_until, add_month(at)]))
            return [*_activate(locked), "activated_at", "paid_until"]
        if (
            locked.state == PassState.SUSPENDED
            and locked.suspend_reason == SuspendReason.MANDATE_PAUSED
        ):
            return _activate(locked)  # resumed in the UPI app
        return []
    if locked.state == PassState.SETUP:
        if state in _SETUP_REFUSED:
            locked.setup_error = _SETUP_REFUSED[state] + (f" ({error})" if error else "")
            return ["setup_error"]
        return []
    reason = _ENDED_MANDATE.get(state)
    if reason is None:
        return []
    if state == "CANCELLED" and locked.state == PassState.SUSPENDED:
        # Only this site cancels a mandate (to replace it): the reason stays the driver's.
        return []
    return _suspend(locked, reason, error, at)


def follow_mandate(
    pass_id: int, merchant_subscription_id: str, mandate_state: str, *, error: str = ""
) -> MonthlyPass | None:
    """Everything the news of a mandate's state means: the pass follows it
    (:func:`apply_mandate`), and a mandate that pays for no pass any more is retired."""
    monthly_pass = apply_mandate(pass_id, merchant_subscription_id, mandate_state, error=error)
    retire_if_orphan(pass_id, merchant_subscription_id, mandate_state)
    return monthly_pass


def is_orphan(pass_id: int, merchant_subscription_id: str) -> bool:
    """True when the mandate no longer pays for a live pass (ended, or replaced)."""
    monthly_pass = MonthlyPass.objects.filter(pk=pass_id).first()
    return (
        monthly_pass is None
        or monthly_pass.state == PassState.ENDED
        or monthly_pass.merchant_subscription_id != merchant_subscription_id
    )


def retire_if_orphan(pass_id: int, merchant_subscription_id: str, mandate_state: str) -> int:
    """A mandate approved after its pass ended or was set up anew is cancelled and what it
    took refunded, so a driver never pays for a pass twice. Returns the paise refunded."""
    if mandate_state != "ACTIVE" or not is_orphan(pass_id, merchant_subscription_id):
        return 0
    refunded = autopay.retire(
        merchant_subscription_id, reason=f"monthly pass {pass_id}: AutoPay no longer needed"
    )
    logger.warning(
        "pass %s: mandate %s approved after it was replaced; cancelled, %s paise refunded",
        pass_id,
        merchant_subscription_id,
        refunded,
    )
    return refunded


def apply_debit(
    pass_id: int,
    merchant_subscription_id: str,
    *,
    completed: bool,
    period_start: datetime | None = None,
    error: str = "",
    at: datetime | None = None,
) -> MonthlyPass | None:
    """A monthly debit of the pass's mandate completed, or an attempt of it failed (the pass
    is suspended at once; a retry that completes makes it active again)."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = MonthlyPass.objects.select_for_update().filter(pk=pass_id).first()
        if locked is None or locked.state == PassState.ENDED:
            return locked
        if locked.merchant_subscription_id != merchant_subscription_id:
            return locked
        if completed:
            period_end = add_month(period_start or locked.paid_until or at)
            locked.paid_until = max(filter(None, [locked.paid_until, period_end]))
            fields = ["paid_until"]
            if (
                locked.state == PassState.SUSPENDED
                and locked.suspend_reason == SuspendReason.DEBIT_FAILED
            ):
                fields += _activate(locked)
        else:
            if locked.state != PassState.ACTIVE:
                return locked
            fields = _suspend(locked, SuspendReason.DEBIT_FAILED, error, at)
        locked.save(update_fields=sorted(set(fields)))
    logger.info("pass %s: debit %s", pass_id, "completed" if completed else f"failed ({error})")
    return locked


def _activate(locked: MonthlyPass) -> list[str]:
    locked.state = PassState.ACTIVE
    locked.suspend_reason = ""
    locked.suspend_detail = ""
    locked.suspended_at = None
    locked.setup_error = ""
    return ["state", "suspend_reason", "suspend_detail", "suspended_at", "setup_error"]


def _suspend(locked: MonthlyPass, reason: str, error: str, at: datetime) -> list[str]:
    if locked.state == PassState.SUSPENDED and locked.suspend_reason == reason:
        return []
    locked.state = PassState.SUSPENDED
    locked.suspend_reason = reason
    locked.suspend_detail = error[:200]
    locked.suspended_at = at
    logger.warning("pass %s suspended: %s %s", locked.pk, reason, error)
    return ["state", "suspend_reason", "suspend_detail", "suspended_at"]


def suspension_message(monthly_pass: MonthlyPass) -> str:
    """What a suspended pass's page says happened, in the driver's words."""
    reason = monthly_pass.suspend_reason
    if reason == SuspendReason.DEBIT_FAILED:
        why = why_failed(monthly_pass.suspend_detail, "the bank declined it", show_unknown=False)
        return (
            f"This month's AutoPay debit of ₹{monthly_pass.monthly_price // 100:,} failed: {why}."
        )
    if reason == SuspendReason.MANDATE_REVOKED:
        return "AutoPay for this pass was revoked in your UPI app, so the pass cannot be paid."
    if reason == SuspendReason.MANDATE_PAUSED:
        return "AutoPay for this pass is paused in your UPI app, so the pass cannot be paid."
    return "AutoPay for this pass has ended, so the pass cannot be paid."
