"""Refunds: reserve under the payment's lock, call the gateway, record what it said.

The same pattern as :mod:`.services` (store first, call outside any transaction, let
:mod:`.states` record the answer), for refunds: a refund that may have reached PhonePe is
``UNKNOWN`` and keeps its reservation; ``FAILED`` (which releases it) needs certainty.
Also the automatic refund of a payment that paid an already-paid reference. Hosts call
these through :mod:`.services`, which re-exports them.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any, NoReturn

from django.db import DatabaseError, IntegrityError
from django.db.models import F
from django.utils import timezone

from phonepe_gateway import (
    MIN_REFUND_AMOUNT,
    DuplicateRequestError,
    GatewayError,
    NotFoundError,
    PhonePeError,
    RefundStatus,
    ValidationError,
    check_amount,
    check_merchant_id,
    new_merchant_id,
)

from . import states
from .conf import app_setting, get_client, get_settings
from .exceptions import (
    Conflict,
    InvalidRequest,
    NotFound,
    PaymentsError,
    checked,
    db_guard,
    gateway_error_info,
    gateway_may_have_acted,
    gateway_sync_unavailable,
    gateway_unavailable,
    storage_unavailable,
)
from .models import Payment, PaymentState, Refund, RefundState
from .reconcile import first_check_at, in_flight_window

__all__ = [
    "duplicate_refund_id",
    "observe_refund_status",
    "refund_duplicate",
    "refund_duplicates",
    "refund_payment",
    "sync_refund",
]

logger = logging.getLogger("phonepe_gateway.django")

#: automatic refunds of one duplicate payment tried before it is left to humans
_MAX_AUTO_REFUNDS = 3
_REFUND_STATES = {
    "PENDING": "PENDING",
    "CONFIRMED": "PENDING",
    "COMPLETED": "COMPLETED",
    "FAILED": "FAILED",
}


def _refund(refund: Refund | str) -> Refund:
    if isinstance(refund, Refund):
        return refund
    try:
        return Refund.objects.get(merchant_refund_id=refund)
    except Refund.DoesNotExist:
        raise NotFound(f"No refund {refund!r}.", details={"merchant_refund_id": refund}) from None


def duplicate_refund_id(payment: Payment) -> str:
    """The id of a duplicate payment's automatic refund (so it happens once); a later
    attempt after a FAILED one is ``<id>-2``, ``<id>-3``."""
    return "DR" + hashlib.sha256(payment.merchant_order_id.encode()).hexdigest()[:24]


def refund_duplicate(payment: Payment) -> Refund | None:
    """Refund what is left of a payment that paid an already-paid reference, if the host
    enables it (``refund_duplicates``). Safe to call any number of times from any process:
    each attempt's refund id is fixed, so the gateway refunds it at most once; a FAILED
    attempt is followed by the next id (at most :data:`_MAX_AUTO_REFUNDS`). Never raises."""
    if not app_setting("refund_duplicates") or not payment.duplicate_of:
        return None
    base = duplicate_refund_id(payment)
    try:
        payment = Payment.objects.get(pk=payment.pk)
        attempts = list(
            Refund.objects.filter(payment_id=payment.pk, merchant_refund_id__startswith=base)
        )
        live = [r for r in attempts if r.state != RefundState.FAILED]
        if live:  # resume one a crash or an outage interrupted; a settled one is done
            refund = live[0]
            if refund.state not in (RefundState.CREATED, RefundState.UNKNOWN):
                return refund
            amount, refund_id = int(refund.amount), refund.merchant_refund_id
        elif len(attempts) >= _MAX_AUTO_REFUNDS or payment.refundable_amount <= 0:
            return None
        else:
            amount = payment.refundable_amount  # the merchant may have refunded part already
            refund_id = base if not attempts else f"{base}-{len(attempts) + 1}"
        reason = (
            f"automatic refund: reference {payment.reference!r} was already paid by "
            f"{payment.duplicate_of}"
        )
        return refund_payment(
            payment.merchant_order_id,
            amount=amount,
            merchant_refund_id=refund_id,
            reason=reason[:255],
            resume=True,
        )
    except PaymentsError as exc:  # the reconciler tries again on its next pass
        logger.warning("automatic refund of %s not done yet: %s", payment.merchant_order_id, exc)
        return None


def refund_duplicates(limit: int = 100) -> int:
    """The reconciler's sweep: automatic refunds a crash, an outage or a merchant's own
    partial refund left undone. Returns how many refunds it started or resumed."""
    if not app_setting("refund_duplicates"):
        return 0
    due = Payment.objects.filter(
        state=PaymentState.COMPLETED, duplicate_of__gt="", refunded_amount__lt=F("amount")
    ).order_by("pk")[:limit]
    return sum(refund_duplicate(payment) is not None for payment in due)


# -- refunds -------------------------------------------------------------------------


@db_guard
def refund_payment(
    payment: Payment | str,
    *,
    amount: int,
    merchant_refund_id: str | None = None,
    reason: str = "",
    resume: bool = False,
) -> Refund:
    """Reserve ``amount`` of the refundable remainder under the payment's lock, then refund.

    An ``UNKNOWN`` (or ``CREATED``) payment is synced first. ``resume=True`` (a retry
    under the same Idempotency-Key, whose refund id is derived from the key): a refund
    already stored under ``merchant_refund_id`` for this payment and amount is resumed
    (sent again under the same id, which the gateway never refunds twice) and returned.
    Raises :class:`Conflict` (payment not COMPLETED, refund id taken),
    :class:`RefundExceedsRemainder`, :class:`InvalidRequest` (nothing stored) or
    :class:`GatewayUnavailable` (the refund is attached: ``UNKNOWN`` keeps its
    reservation, ``FAILED`` released it).
    """
    from .services import find_payment, sync_payment  # services re-exports this module

    payment = find_payment(payment)
    checked(check_amount, amount, minimum=MIN_REFUND_AMOUNT)
    if not isinstance(reason, str) or "\x00" in reason:
        raise InvalidRequest("reason must be text (no NUL).", details={"field": "reason"})
    refund_id = checked(
        check_merchant_id, merchant_refund_id or new_merchant_id("MR"), field="merchant_refund_id"
    )
    get_client()
    if resume:
        existing = Refund.objects.filter(merchant_refund_id=refund_id).first()
        if existing is not None:
            return _resume_refund(existing, payment, amount)
    if payment.state in (PaymentState.CREATED, PaymentState.UNKNOWN):
        payment = sync_payment(payment)
    try:
        refund = states.reserve_refund(
            payment.pk,
            amount=amount,
            merchant_refund_id=refund_id,
            reason=reason,
            next_check_at=first_check_at(timezone.now()),
        )
    except IntegrityError:
        existing = Refund.objects.filter(merchant_refund_id=refund_id).first()
        if resume and existing is not None:
            return _resume_refund(existing, payment, amount)
        raise _refund_id_taken(refund_id) from None
    except DatabaseError as exc:
        raise storage_unavailable(exc) from exc
    return _request_refund(refund, payment.merchant_order_id, resumed=False)


def _refund_id_taken(refund_id: str) -> Conflict:
    return Conflict(
        f"A refund with merchant_refund_id {refund_id!r} already exists.",
        code="duplicate_merchant_refund_id",
        details={"merchant_refund_id": refund_id},
    )


def _resume_refund(refund: Refund, payment: Payment, amount: int) -> Refund:
    if refund.payment_id != payment.pk or refund.amount != amount:
        raise _refund_id_taken(refund.merchant_refund_id)
    if refund.state in (RefundState.CREATED, RefundState.UNKNOWN):
        return _request_refund(refund, payment.merchant_order_id, resumed=True)
    return refund


def _request_refund(refund: Refund, order_id: str, *, resumed: bool) -> Refund:
    try:
        result = get_client().refund(
            original_merchant_order_id=order_id,
            amount=int(refund.amount),
            merchant_refund_id=refund.merchant_refund_id,
        )
    except ValidationError as exc:
        states.discard_refund(refund.pk)
        raise InvalidRequest(str(exc), details={"field": exc.field} if exc.field else None) from exc
    except GatewayError as exc:
        if resumed and exc.may_mean_reused_id:
            # Our own earlier attempt may have reached the gateway (PhonePe refuses the
            # reused id, usually as a plain 400): ask what became of it.
            refund = sync_refund(refund)
            if refund.state in (RefundState.CREATED, RefundState.UNKNOWN):
                raise gateway_unavailable(exc, refund, "refund") from exc
            return refund
        if not isinstance(exc, DuplicateRequestError):
            _refund_refused(refund, exc)
        refund = states.move_refund(
            refund.pk,
            RefundState.UNKNOWN,
            info=gateway_error_info(exc),
            review="duplicate refund id at the gateway",
        )
        raise gateway_unavailable(exc, refund, "refund") from exc
    except PhonePeError as exc:
        _refund_refused(refund, exc)
    target: str = _REFUND_STATES.get(result.state, RefundState.PENDING)
    return states.move_refund(refund.pk, target, info={"gateway_refund_id": result.refund_id})


def _refund_refused(refund: Refund, exc: PhonePeError) -> NoReturn:
    failed = RefundState.UNKNOWN if gateway_may_have_acted(exc) else RefundState.FAILED
    refund = states.move_refund(refund.pk, failed, info=gateway_error_info(exc))
    raise gateway_unavailable(exc, refund, "refund") from exc


@db_guard
def sync_refund(refund: Refund | str, *, now: datetime | None = None) -> Refund:
    """Ask the gateway for the refund's status and record it (forward only)."""
    refund = _refund(refund)
    now = now or timezone.now()
    try:
        status = get_client().get_refund_status(refund.merchant_refund_id)
    except NotFoundError as exc:
        if refund.state not in (RefundState.CREATED, RefundState.UNKNOWN):
            return states.flag_refund(refund.pk, "the gateway does not know this refund")
        if now - refund.created_at < in_flight_window(get_settings().timeout):
            return refund
        info = {
            "error_code": exc.code or "REFUND_NOT_FOUND",
            "error_message": "the gateway never received the refund",
        }
        return states.move_refund(refund.pk, RefundState.FAILED, info=info)
    except PhonePeError as exc:
        raise gateway_sync_unavailable(exc, refund, "refund") from exc
    return observe_refund_status(refund, status)


def observe_refund_status(refund: Refund, status: RefundStatus) -> Refund:
    """Record a refund status answer of the gateway."""
    order_id = Payment.objects.values_list("merchant_order_id", flat=True).get(pk=refund.payment_id)
    original = status.original_merchant_order_id
    if original and original != order_id:
        # The id was used outside this ledger: the gateway's refund is another order's.
        return states.flag_refund(
            refund.pk,
            f"the gateway's refund {refund.merchant_refund_id} belongs to order {original}, "
            f"not {order_id}; not recorded",
        )
    if status.amount is not None and int(status.amount) != refund.amount:
        return states.flag_refund(
            refund.pk,
            f"amount mismatch: gateway reports {status.amount} paise, ledger has {refund.amount}",
        )
    target = _REFUND_STATES.get(status.state, "")
    info: dict[str, Any] = {}
    if target == RefundState.FAILED:
        info["error_code"] = status.error_code
    if states.changes_nothing(refund, target, info):
        return refund
    return states.move_refund(refund.pk, target, info=info)
