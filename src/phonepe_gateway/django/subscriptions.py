"""What hosts and views call for UPI AutoPay mandates: set up, sync, cancel; debits.

The same pattern as :mod:`.services`: store first (``CREATED``), call the gateway outside
any transaction, then let the state machine (:mod:`.subscription_states`) record what
the gateway said; a set-up that may have reached PhonePe is ``UNKNOWN``, never
``FAILED``. A webhook about a mandate is a hint: :func:`sync_subscription` asks the
status API. The set-up transaction (``TRANSACTION`` auth) is a Payment with
``debit_period=0``; each scheduled debit is a Payment too (:mod:`.debits`, run from the
reconciler's loop). Core client errors never leak: they become :mod:`.exceptions`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from phonepe_gateway import (
    GatewayError,
    NotFoundError,
    PhonePeError,
    TransportError,
    UpiCollect,
    UpiIntent,
    ValidationError,
    check_amount,
    check_merchant_id,
    new_merchant_id,
)

from . import subscription_states as machine
from .conf import get_client, get_settings
from .debits import due_debits, run_debits
from .exceptions import (
    Conflict,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    db_guard,
    gateway_may_have_acted,
    storage_unavailable,
)
from .idempotency import derive_id
from .models import (
    ENDED_STATES,
    SETUP_STATES,
    Payment,
    PaymentState,
    Subscription,
    SubscriptionState,
    WebhookEvent,
)
from .reconcile import first_check_at
from .schedule import FREQUENCIES

__all__ = [
    "cancel_subscription",
    "create_subscription",
    "due_debits",
    "process_subscription_event",
    "run_debits",
    "sync_subscription",
]

logger = logging.getLogger("phonepe_gateway.django")

AMOUNT_TYPES = ("FIXED", "VARIABLE")
AUTH_WORKFLOWS = ("TRANSACTION", "PENNY_DROP")
#: the gateway's mandate states, as ledger states ("" = record nothing)
_STATES = {s: s for s in SubscriptionState.values if s not in ("CREATED", "UNKNOWN")}
_SETUP_ORDER_STATES = {"PENDING": "PENDING", "COMPLETED": "ACTIVE", "FAILED": "FAILED"}


def _invalid(message: str, field: str) -> InvalidRequest:
    return InvalidRequest(message, details={"field": field})


def _subscription(sub: Subscription | str) -> Subscription:
    if isinstance(sub, Subscription):
        return sub
    try:
        return Subscription.objects.get(merchant_subscription_id=sub)
    except Subscription.DoesNotExist:
        raise NotFound(
            f"No subscription {sub!r}.", details={"merchant_subscription_id": sub}
        ) from None


def _gateway_error(exc: PhonePeError, sub: Subscription, what: str) -> GatewayUnavailable:
    category = getattr(exc, "category", None)
    details: dict[str, Any] = {
        "state": sub.state,
        "merchant_subscription_id": sub.merchant_subscription_id,
    }
    if category is not None:
        details["category"] = category.value
    if sub.state == SubscriptionState.UNKNOWN:
        message = (
            f"The gateway may have received the {what} request but its answer was lost "
            f"({type(exc).__name__}); {sub.merchant_subscription_id} is UNKNOWN and will be "
            "reconciled."
        )
        code, status = "gateway_outcome_unknown", 502
    elif isinstance(exc, TransportError):
        message = (
            f"The gateway could not be reached ({category}); {what}: nothing changed. Try again."
        )
        code, status = "gateway_unreachable", 503
    else:
        message = f"The gateway refused the {what} request: {exc}"
        code, status = "gateway_refused", 502
    return GatewayUnavailable(
        message, category=category, code=code, http_status=status, details=details
    )


def _check_setup(
    amount: int,
    max_amount: int,
    frequency: str,
    instrument: Any,
    amount_type: str,
    auth_workflow: str,
    reference: str,
) -> None:
    try:
        check_amount(amount)
        check_amount(max_amount, field="max_amount")
    except ValidationError as exc:
        raise _invalid(str(exc), exc.field or "amount") from exc
    if max_amount < amount:
        raise _invalid("max_amount must be at least amount.", "max_amount")
    if frequency not in FREQUENCIES:
        raise _invalid(f"frequency must be one of {', '.join(FREQUENCIES)}.", "frequency")
    if amount_type not in AMOUNT_TYPES:
        raise _invalid("amount_type must be FIXED or VARIABLE.", "amount_type")
    if amount_type == "FIXED" and max_amount != amount:
        raise _invalid("a FIXED mandate debits exactly max_amount: make them equal.", "max_amount")
    if auth_workflow not in AUTH_WORKFLOWS:
        raise _invalid("auth_workflow must be TRANSACTION or PENNY_DROP.", "auth_workflow")
    if not isinstance(instrument, (UpiIntent, UpiCollect)):
        raise _invalid("a mandate is set up by UPI intent or UPI collect.", "instrument")
    if not isinstance(reference, str) or len(reference) > 255:
        raise _invalid("reference must be text of at most 255 characters.", "reference")


@db_guard
def create_subscription(
    *,
    amount: int,
    max_amount: int,
    frequency: str,
    instrument: UpiIntent | UpiCollect,
    reference: str = "",
    idempotency_key: str | None = None,
    merchant_subscription_id: str | None = None,
    merchant_order_id: str | None = None,
    amount_type: str = "VARIABLE",
    auth_workflow: str = "TRANSACTION",
    first_debit_at: datetime | None = None,
    mandate_expires_at: datetime | None = None,
    metadata: dict[str, Any] | None = None,
) -> Subscription:
    """Store a mandate as CREATED, then ask the gateway to set it up.

    Returns the mandate, ``PENDING`` with ``intent_url`` (the customer's ``upi://`` link;
    with UPI collect the request goes to their app instead). ``amount`` is debited each
    period (and charged by the set-up itself with ``TRANSACTION`` auth: period 0);
    period 1 falls due at ``first_debit_at`` (default: one period after activation).

    With an ``idempotency_key`` the ids are derived from it (unless given), so a retry
    after any crash resumes the same mandate and never sets up a second one.
    Raises :class:`InvalidRequest` (nothing stored), :class:`Conflict` (ids taken),
    :class:`StorageUnavailable`, or :class:`GatewayUnavailable` (the mandate is then
    ``UNKNOWN``, reconciled, or ``FAILED``: the gateway did not act).
    """
    _check_setup(amount, max_amount, frequency, instrument, amount_type, auth_workflow, reference)
    if metadata is not None and not isinstance(metadata, dict):
        raise _invalid("metadata must be a JSON object.", "metadata")
    if idempotency_key is not None:
        scope = f"subscription {reference}"
        merchant_subscription_id = merchant_subscription_id or derive_id(
            "MS", scope, idempotency_key
        )
        merchant_order_id = merchant_order_id or derive_id("MO", scope, idempotency_key)
    try:
        sub_id = check_merchant_id(
            merchant_subscription_id or new_merchant_id("MS"), field="merchant_subscription_id"
        )
        order_id = check_merchant_id(merchant_order_id or new_merchant_id("MO"))
    except ValidationError as exc:
        raise _invalid(str(exc), exc.field or "merchant_subscription_id") from exc
    get_client()  # a misconfigured app fails loudly here, before storing anything
    wanted = {"amount": amount, "max_amount": max_amount, "frequency": frequency}
    existing = Subscription.objects.filter(merchant_subscription_id=sub_id).first()
    if existing is not None:
        return _resume(existing, wanted, idempotency_key is not None, instrument)
    try:
        sub = _store(
            sub_id,
            order_id,
            instrument,
            reference,
            metadata,
            first_debit_at,
            mandate_expires_at,
            amount_type=amount_type,
            auth_workflow=auth_workflow,
            **wanted,
        )
    except IntegrityError:
        existing = Subscription.objects.filter(merchant_subscription_id=sub_id).first()
        if existing is not None:
            return _resume(existing, wanted, idempotency_key is not None, instrument)
        raise Conflict(
            f"merchant_order_id {order_id!r} is already used.",
            code="duplicate_merchant_order_id",
            details={"merchant_order_id": order_id},
        ) from None
    except DatabaseError as exc:
        raise storage_unavailable(exc) from exc
    return _request_setup(sub, instrument, resumed=False)


def _store(
    sub_id: str,
    order_id: str,
    instrument: UpiIntent | UpiCollect,
    reference: str,
    metadata: dict[str, Any] | None,
    first_debit_at: datetime | None,
    mandate_expires_at: datetime | None,
    **fields: Any,
) -> Subscription:
    now = timezone.now()
    with transaction.atomic():
        sub = Subscription.objects.create(
            merchant_subscription_id=sub_id,
            merchant_order_id=order_id,
            instrument=instrument.mode,
            reference=reference,
            metadata=metadata or {},
            first_debit_at=first_debit_at,
            mandate_expires_at=mandate_expires_at,
            state=SubscriptionState.CREATED,
            next_check_at=first_check_at(now),
            **fields,
        )
        if sub.auth_workflow == "TRANSACTION":  # the set-up charges ``amount``: period 0
            Payment.objects.create(
                merchant_order_id=order_id,
                amount=sub.amount,
                reference=f"autopay:{sub_id}:0",
                subscription=sub,
                debit_period=0,
                debit_attempt=1,
                period_start=now,
                state=PaymentState.CREATED,
                next_check_at=first_check_at(now),
            )
    return sub


def _resume(
    sub: Subscription, wanted: dict[str, Any], keyed: bool, instrument: UpiIntent | UpiCollect
) -> Subscription:
    same = all(getattr(sub, name) == value for name, value in wanted.items())
    if not keyed or not same:
        raise Conflict(
            f"A subscription with merchant_subscription_id {sub.merchant_subscription_id!r} "
            "already exists.",
            code="duplicate_merchant_subscription_id",
            details={"merchant_subscription_id": sub.merchant_subscription_id},
        )
    if sub.state in (SubscriptionState.CREATED, SubscriptionState.UNKNOWN):
        # The same ids again: PhonePe never sets up one mandate twice.
        return _request_setup(sub, instrument, resumed=True)
    return sub


def _setup_payment(sub: Subscription) -> Payment | None:
    return Payment.objects.filter(subscription=sub, debit_period=0).first()


def _request_setup(
    sub: Subscription, instrument: UpiIntent | UpiCollect, *, resumed: bool
) -> Subscription:
    from .conf import app_setting

    try:
        result = get_client().setup_subscription(
            amount=int(sub.amount),
            max_amount=int(sub.max_amount),
            instrument=instrument,
            frequency=sub.frequency,
            amount_type=sub.amount_type,
            auth_workflow=sub.auth_workflow,
            merchant_order_id=sub.merchant_order_id,
            merchant_subscription_id=sub.merchant_subscription_id,
            expire_after=app_setting("expire_after"),
            subscription_expire_at=sub.mandate_expires_at,
            meta_info={"udf1": sub.reference[:256]} if sub.reference else None,
        )
    except ValidationError as exc:
        if not resumed:
            _discard(sub)
        raise InvalidRequest(str(exc), details={"field": exc.field} if exc.field else None) from exc
    except PhonePeError as exc:
        if resumed and isinstance(exc, GatewayError) and exc.may_mean_reused_id:
            # Our own earlier attempt may have set it up: ask what became of it.
            sub = sync_subscription(sub)
            if sub.state in (SubscriptionState.CREATED, SubscriptionState.UNKNOWN):
                raise _gateway_error(exc, sub, "set-up") from exc
            return sub
        failed = (
            SubscriptionState.UNKNOWN if gateway_may_have_acted(exc) else SubscriptionState.FAILED
        )
        info = {
            "error_code": getattr(exc, "code", None) or type(exc).__name__,
            "error_message": str(exc)[:1000],
        }
        sub = machine.move_subscription(sub.pk, failed, info=info)
        _mirror_setup_payment(sub)
        raise _gateway_error(exc, sub, "set-up") from exc
    info = {
        "gateway_order_id": result.order_id,
        "intent_url": result.intent_url,
        "expires_at": result.expire_at,
    }
    target = SubscriptionState.ACTIVE if result.state == "ACTIVE" else SubscriptionState.PENDING
    sub = machine.move_subscription(sub.pk, target, info=info)
    payment = _setup_payment(sub)
    if payment is not None:
        from . import states

        pay_info = {"gateway_order_id": result.order_id, "expires_at": result.expire_at}
        states.move_payment(payment.pk, PaymentState.PENDING, info=pay_info)
    return sub


def _discard(sub: Subscription) -> None:
    """Delete a CREATED mandate (and its set-up payment) that the gateway never saw."""
    with transaction.atomic():
        Payment.objects.filter(
            subscription=sub, debit_period=0, state=PaymentState.CREATED
        ).delete()
        Subscription.objects.filter(pk=sub.pk, state=SubscriptionState.CREATED).delete()


def _mirror_setup_payment(sub: Subscription) -> None:
    """The set-up payment follows its mandate's set-up: UNKNOWN or FAILED alike."""
    from . import states

    payment = _setup_payment(sub)
    if payment is None or sub.state not in (SubscriptionState.UNKNOWN, SubscriptionState.FAILED):
        return
    target = PaymentState.UNKNOWN if sub.state == SubscriptionState.UNKNOWN else PaymentState.FAILED
    info = {"error_code": sub.error_code, "error_message": sub.error_message[:1000]}
    states.move_payment(payment.pk, target, info=info)


@db_guard
def sync_subscription(sub: Subscription | str, *, now: datetime | None = None) -> Subscription:
    """Ask the gateway for the mandate's status and record it (forward only); the set-up
    payment is synced too while it is open. A mandate the gateway does not know is FAILED
    only once no set-up call can still be in flight. Raises :class:`GatewayUnavailable`."""
    from .services import sync_payment

    sub = _subscription(sub)
    now = now or timezone.now()
    try:
        status = get_client().get_subscription_status(sub.merchant_subscription_id)
    except NotFoundError as exc:
        return _not_found(sub, exc, now)
    except PhonePeError as exc:
        raise _gateway_error(exc, sub, "status") from exc
    target = _STATES.get(str(status.state or ""), "")
    if not target:
        logger.warning(
            "unknown mandate state %r for %s", status.state, sub.merchant_subscription_id
        )
    if sub.state == SubscriptionState.FAILED and target == SubscriptionState.PENDING:
        target = ""  # the set-up is over here; the gateway has not caught up yet
    info = {"subscription_id": status.subscription_id, "mandate_expires_at": status.expire_at}
    if not machine.changes_nothing(sub, target, info):
        sub = machine.move_subscription(sub.pk, target, info=info, now=now)
    payment = _setup_payment(sub)
    if payment is not None and not payment.is_terminal:
        try:
            sync_payment(payment, now=now)
        except GatewayUnavailable as exc:
            logger.info(
                "set-up payment of %s not synced: %s", sub.merchant_subscription_id, exc.code
            )
    return sub


def _not_found(sub: Subscription, exc: NotFoundError, now: datetime) -> Subscription:
    from .reconcile import in_flight_window

    if sub.state not in (SubscriptionState.CREATED, SubscriptionState.UNKNOWN):
        if sub.state not in ENDED_STATES:
            return machine.flag_subscription(sub.pk, "the gateway does not know this mandate")
        return sub
    if now - sub.created_at < in_flight_window(get_settings().timeout):
        return sub  # the set-up call may still be on its way
    info = {
        "error_code": exc.code or "SUBSCRIPTION_NOT_FOUND",
        "error_message": "the gateway never received the set-up",
    }
    sub = machine.move_subscription(sub.pk, SubscriptionState.FAILED, info=info, now=now)
    _mirror_setup_payment(sub)
    return sub


@db_guard
def cancel_subscription(sub: Subscription | str) -> Subscription:
    """Cancel the mandate at the gateway, then record ``CANCELLED``. No debit is notified
    or redeemed after this (one already redeemed settles as the gateway says). An ended
    mandate is returned as it is. Raises :class:`GatewayUnavailable` (nothing changed)."""
    sub = _subscription(sub)
    if sub.is_ended:
        return sub
    try:
        get_client().cancel_subscription(sub.merchant_subscription_id)
    except PhonePeError as exc:
        if isinstance(exc, GatewayError) and exc.http_status < 500:
            synced = sync_subscription(sub)  # e.g. the customer revoked it meanwhile
            if synced.is_ended:
                return synced
        raise _gateway_error(exc, sub, "cancel") from exc
    return machine.move_subscription(sub.pk, SubscriptionState.CANCELLED)


def process_subscription_event(event: WebhookEvent) -> str | None:
    """The inbox's handler for an event about a mandate (``None``: not one). The event is a
    hint: the status API decides."""
    sub = None
    if event.merchant_subscription_id:
        sub = Subscription.objects.filter(
            merchant_subscription_id=event.merchant_subscription_id
        ).first()
    if sub is None and event.merchant_order_id:
        sub = Subscription.objects.filter(merchant_order_id=event.merchant_order_id).first()
        if sub is None:
            return None  # an order event (a debit is a Payment): the payment path
    if sub is None:
        return "unknown_subscription" if event.merchant_subscription_id else None
    before = sub.state
    sub = sync_subscription(sub)
    return "applied" if sub.state != before else "no_change"


def subscription_debits(sub: Subscription | str) -> Any:
    """The mandate's payments, newest period first (the set-up transaction, period 0, last)."""
    return machine.debit_payments(_subscription(sub))


_ = SETUP_STATES  # re-exported for hosts reading states from here
