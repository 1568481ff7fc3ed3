"""THE state machine of payments and refunds: the only code that writes ``state``
and ``refunded_amount``.

Every change runs in ``transaction.atomic()`` on rows locked with
``select_for_update`` (a refund's payment is always locked before the refund, so two
paths can never deadlock); the one exception is the hot CREATED -> PENDING
acknowledgement, a single compare-and-set ``UPDATE`` (atomic, row-locked by the
database). States only move forward; payments and refunds move alike
(:data:`PAYMENT_TRANSITIONS`, :data:`REFUND_TRANSITIONS`; tests/docs checks this
diagram and the ones in the docs against them):

    CREATED   ──► PENDING | UNKNOWN | COMPLETED | FAILED
    UNKNOWN   ──► PENDING | COMPLETED | FAILED
    PENDING   ──► COMPLETED | FAILED
    FAILED    ──► COMPLETED  (late authorisation: recorded, flagged for review)
    COMPLETED ──► nothing    (a gateway FAILED for it is only flagged for review)

Each transition sends its signal exactly once, after the commit (``on_commit``): the
row lock makes exactly one caller see the old state. ``payment_completed`` goes through
an outbox (:func:`deliver_completion`) so that a crash between the commit and the
signal delays it instead of losing it. This module never talks to the
gateway; the services decide what the gateway said and call :func:`move_payment` /
:func:`move_refund`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from django.db import transaction
from django.db.models import F as Field
from django.utils import timezone

from . import signals
from .exceptions import Conflict, RefundExceedsRemainder
from .models import Payment, PaymentState, Refund, RefundState
from .statements import compare_and_set

__all__ = [
    "PAYMENT_TRANSITIONS",
    "REFUND_TRANSITIONS",
    "acknowledge_payment",
    "changes_nothing",
    "deliver_completion",
    "discard_refund",
    "flag_payment",
    "flag_refund",
    "move_payment",
    "move_refund",
    "reserve_refund",
]

#: Allowed moves. Anything else is ignored (the newer knowledge is already recorded).
PAYMENT_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    PaymentState.CREATED: frozenset(
        {PaymentState.PENDING, PaymentState.UNKNOWN, PaymentState.COMPLETED, PaymentState.FAILED}
    ),
    PaymentState.UNKNOWN: frozenset(
        {PaymentState.PENDING, PaymentState.COMPLETED, PaymentState.FAILED}
    ),
    PaymentState.PENDING: frozenset({PaymentState.COMPLETED, PaymentState.FAILED}),
    # late authorisation (a refund: completed after all) - money moved after we gave up
    PaymentState.FAILED: frozenset({PaymentState.COMPLETED}),
    PaymentState.COMPLETED: frozenset(),
}
#: Refunds move exactly like payments (``RefundState`` is ``PaymentState``): one machine.
REFUND_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = PAYMENT_TRANSITIONS

#: The signal (besides the generic ``*_state_changed``) a move into a final state sends.
_PAYMENT_SIGNALS: Final[Mapping[str, str]] = {
    PaymentState.COMPLETED: "payment_completed",
    PaymentState.FAILED: "payment_failed",
}
_REFUND_SIGNALS: Final[Mapping[str, str]] = {
    RefundState.COMPLETED: "refund_completed",
    RefundState.FAILED: "refund_failed",
}

_PAYMENT_INFO = (
    "gateway_order_id",
    "transaction_id",
    "payment_mode",
    "checkout_url",
    "expires_at",
    "error_category",
    "error_code",
    "error_message",
    "instrument_data",  # intent URL / QR data / SDK token: kept only while the order is open
)
_REFUND_INFO = ("gateway_refund_id", "error_category", "error_code", "error_message")
_UNSET: Any = object()


def _clean_info(
    model: type[Payment] | type[Refund], info: Mapping[str, Any] | None, names: tuple[str, ...]
) -> dict[str, Any]:
    """What the gateway told us, fitted to the columns; empty values are dropped so that
    they never erase a known one."""
    clean: dict[str, Any] = {}
    for name, value in (info or {}).items():
        if name not in names:
            raise ValueError(f"{name!r} is not recordable information")
        if value in (None, ""):
            continue
        if isinstance(value, str):
            limit = getattr(model._meta.get_field(name), "max_length", None)
            value = value[:limit] if limit else value
        clean[name] = value
    return clean


def changes_nothing(obj: Payment | Refund, target: str, info: Mapping[str, Any]) -> bool:
    """Would recording ``target`` and ``info`` leave ``obj`` as it is? Then no write is needed.

    Safe on a stale ``obj``: states only move forward, so the stored state is at least
    ``obj.state`` and re-applying ``obj.state`` is a no-op there too.
    """
    names = _PAYMENT_INFO if isinstance(obj, Payment) else _REFUND_INFO
    if target not in ("", obj.state):
        return False
    clean = _clean_info(type(obj), info, names)
    return all(getattr(obj, name) == value for name, value in clean.items())


def _record_info(
    obj: Payment | Refund, info: Mapping[str, Any] | None, names: tuple[str, ...]
) -> None:
    for name, value in _clean_info(type(obj), info, names).items():
        setattr(obj, name, value)


def _add_review(obj: Payment | Refund, reason: str) -> None:
    obj.needs_review = True
    if reason not in obj.review_reason:
        obj.review_reason = f"{obj.review_reason}\n{reason}".strip()


def _notify(signal_name: str, sender: type, key: str, obj: Any, old: str, new: str) -> None:
    generic = signals.payment_state_changed if sender is Payment else signals.refund_state_changed

    def send() -> None:
        signals.emit(generic, sender=sender, **{key: obj}, old_state=old, new_state=new)
        if signal_name == "payment_completed":
            deliver_completion(obj.pk)  # through the outbox: survives a crash right here
        elif signal_name:
            signals.emit(getattr(signals, signal_name), sender=sender, **{key: obj})

    transaction.on_commit(send, robust=True)


def deliver_completion(payment_id: int) -> bool:
    """Send ``payment_completed`` for a COMPLETED payment whose signal is not out yet.

    The outbox: claiming the payment (``completion_signalled_at``) and running the
    receivers are one transaction, so a receiver's database writes commit together with
    the claim, or neither does and the reconciler sends it again (see
    :func:`~.reconcile.run_once`). Two deliverers queue on the row; one sends.
    """
    with transaction.atomic():
        claimed = Payment.objects.filter(
            pk=payment_id, state=PaymentState.COMPLETED, completion_signalled_at__isnull=True
        ).update(completion_signalled_at=timezone.now())
        if not claimed:
            return False
        payment = Payment.objects.get(pk=payment_id)
        signals.emit(
            signals.payment_completed,
            sender=Payment,
            payment=payment,
            duplicate_of=payment.duplicate_of or None,
        )
    return True


def move_payment(
    payment_id: int,
    target: str,
    *,
    info: Mapping[str, Any] | None = None,
    review: str = "",
    next_check_at: datetime | None = _UNSET,
) -> Payment:
    """Move a payment towards ``target`` if the machine allows it; return the fresh row.

    ``info`` (gateway ids, payment mode, error fields, ...) is recorded either way.
    ``review`` flags the payment for a human. ``next_check_at`` reschedules an open
    payment; terminal payments are never scheduled, ``UNKNOWN`` ones are due at once.
    """
    now = timezone.now()
    with transaction.atomic():
        payment = _lock_payment(payment_id, completing=target == PaymentState.COMPLETED)
        old = payment.state
        _record_info(payment, info, _PAYMENT_INFO)
        if review:
            _add_review(payment, review)
        moved = target != old and target in PAYMENT_TRANSITIONS[old]
        if target == PaymentState.FAILED and old == PaymentState.COMPLETED:
            _add_review(payment, "gateway reported FAILED for a COMPLETED payment")
        if old == PaymentState.FAILED and target == PaymentState.PENDING:
            # FAILED is not re-checked: this may be the last look
            _add_review(
                payment,
                "the gateway has this order open although it was marked FAILED; watch for a "
                "late authorisation",
            )
        if moved:
            payment.state = target
            if target == PaymentState.COMPLETED:
                payment.completed_at = now
                _check_purpose(payment)
            if old == PaymentState.FAILED and target == PaymentState.COMPLETED:
                _add_review(
                    payment,
                    "late authorisation: the gateway completed this payment after it was "
                    "marked FAILED; money moved, decide whether to fulfil or refund",
                )
        if payment.state in (PaymentState.COMPLETED, PaymentState.FAILED):
            payment.next_check_at = None
            # A closed order's intent link, QR data or SDK token can only mislead now
            # (recorded info included: a create answer may arrive after the webhook).
            payment.instrument_data = {}
        elif moved and target == PaymentState.UNKNOWN:
            payment.next_check_at = now
        elif next_check_at is not _UNSET:
            payment.next_check_at = next_check_at
        payment.save()
        if moved:
            _notify(_PAYMENT_SIGNALS.get(target, ""), Payment, "payment", payment, old, target)
    return payment


def _lock_payment(payment_id: int, *, completing: bool) -> Payment:
    """Lock the payment; before a completion, every payment of its ``reference`` too (in
    primary-key order, so two completions of one purpose queue instead of deadlocking and
    the second always sees the first)."""
    if completing:
        reference = Payment.objects.values_list("reference", flat=True).get(pk=payment_id)
        if reference:
            locked = Payment.objects.select_for_update().filter(reference=reference)
            rows = {p.pk: p for p in locked.order_by("pk")}
            if payment_id in rows:
                return rows[payment_id]
    return Payment.objects.select_for_update().get(pk=payment_id)


def _check_purpose(payment: Payment) -> None:
    """One purpose, one payment: a completion for a reference another payment already
    paid (and did not refund in full) is recorded, flagged and marked ``duplicate_of``."""
    if not payment.reference:
        return
    first = (
        Payment.objects.filter(
            reference=payment.reference,
            state=PaymentState.COMPLETED,
            refunded_amount__lt=Field("amount"),
        )
        .exclude(pk=payment.pk)
        .exclude(duplicate_of__gt="")
        .order_by("completed_at", "pk")
        .values_list("merchant_order_id", flat=True)
        .first()
    )
    if first is None:
        return
    payment.duplicate_of = first
    _add_review(
        payment,
        f"paid twice: reference {payment.reference!r} was already paid by {first}; "
        "refund this payment",
    )


def acknowledge_payment(payment: Payment, *, info: Mapping[str, Any]) -> Payment:
    """CREATED -> PENDING for a payment this process just created and the gateway accepted.

    The hot path of every payment, so one statement instead of a locked read-modify-write:
    ``UPDATE ... WHERE state = 'CREATED'`` is itself atomic and takes the row lock, so it
    is the same compare-and-set the locked path does (compiled once: :mod:`.statements`). If anything moved the payment in the
    meantime (a webhook confirmed, the reconciler looked), the general path records the
    information instead.
    """
    values = _clean_info(Payment, info, _PAYMENT_INFO)
    now = timezone.now()
    updated = compare_and_set(
        Payment,
        payment.pk,
        "state",
        PaymentState.CREATED,
        {"state": PaymentState.PENDING, "updated_at": now, **values},
    )
    if not updated:
        return move_payment(payment.pk, PaymentState.PENDING, info=info)
    for name, value in values.items():
        setattr(payment, name, value)
    payment.state, payment.updated_at = PaymentState.PENDING, now
    _notify("", Payment, "payment", payment, PaymentState.CREATED, PaymentState.PENDING)
    return payment


def flag_payment(payment_id: int, reason: str) -> Payment:
    """Flag a payment for review without touching its state."""
    return move_payment(payment_id, "", review=reason)


def reserve_refund(
    payment_id: int,
    *,
    amount: int,
    merchant_refund_id: str,
    reason: str = "",
    next_check_at: datetime | None = None,
) -> Refund:
    """Store a CREATED refund and reserve its amount under the payment's lock.

    Raises :class:`~.exceptions.Conflict` when the payment is not COMPLETED and
    :class:`~.exceptions.RefundExceedsRemainder` when the remainder is too small.
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.state != PaymentState.COMPLETED:
            raise Conflict(
                f"Payment {payment.merchant_order_id} is {payment.state}; only a COMPLETED "
                "payment can be refunded.",
                code="payment_not_refundable",
                details={"merchant_order_id": payment.merchant_order_id, "state": payment.state},
            )
        remainder = payment.refundable_amount
        if amount > remainder:
            raise RefundExceedsRemainder(
                f"A refund of {amount} paise exceeds the refundable remainder of {remainder} "
                f"paise of payment {payment.merchant_order_id}.",
                details={"refundable_amount": remainder, "requested": amount},
            )
        payment.refunded_amount += amount
        payment.save(update_fields=["refunded_amount", "updated_at"])
        return Refund.objects.create(
            payment=payment,
            merchant_refund_id=merchant_refund_id,
            amount=amount,
            reason=reason[:255],
            state=RefundState.CREATED,
            next_check_at=next_check_at,
        )


def discard_refund(refund_id: int) -> None:
    """Delete a CREATED refund the gateway never saw (input rejected) and release its amount."""
    refund = Refund.objects.get(pk=refund_id)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.state != RefundState.CREATED:
            return
        payment.refunded_amount -= refund.amount
        payment.save(update_fields=["refunded_amount", "updated_at"])
        refund.delete()


def move_refund(
    refund_id: int,
    target: str,
    *,
    info: Mapping[str, Any] | None = None,
    review: str = "",
    next_check_at: datetime | None = _UNSET,
) -> Refund:
    """Move a refund towards ``target``; a FAILED refund releases its reserved amount."""
    now = timezone.now()
    payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        old = refund.state
        _record_info(refund, info, _REFUND_INFO)
        if review:
            _add_review(refund, review)
        moved = target != old and target in REFUND_TRANSITIONS[old]
        if target == RefundState.FAILED and old == RefundState.COMPLETED:
            _add_review(refund, "gateway reported FAILED for a COMPLETED refund")
        if moved:
            refund.state = target
            if target == RefundState.COMPLETED:
                refund.completed_at = now
            if target == RefundState.FAILED or old == RefundState.FAILED:
                if target == RefundState.FAILED:
                    payment.refunded_amount -= refund.amount  # release the reservation
                else:
                    _late_refund(payment, refund)
                payment.save(
                    update_fields=["refunded_amount", "needs_review", "review_reason", "updated_at"]
                )
        if refund.state in (RefundState.COMPLETED, RefundState.FAILED):
            refund.next_check_at = None
        elif moved and target == RefundState.UNKNOWN:
            refund.next_check_at = now
        elif next_check_at is not _UNSET:
            refund.next_check_at = next_check_at
        refund.save()
        refund.payment = payment
        if moved:
            _notify(_REFUND_SIGNALS.get(target, ""), Refund, "refund", refund, old, target)
    return refund


def _late_refund(payment: Payment, refund: Refund) -> None:
    """A refund marked FAILED completed after all: count it again (and flag both)."""
    reason = (
        f"late refund: {refund.merchant_refund_id} completed at the gateway after it was "
        "marked FAILED"
    )
    _add_review(refund, reason)
    _add_review(payment, reason)
    if payment.refunded_amount + refund.amount <= payment.amount:
        payment.refunded_amount += refund.amount
    else:  # the gateway refunded more than the ledger allows: never hide it, never break the constraint
        _add_review(payment, f"over-refund: {refund.merchant_refund_id} exceeds the paid amount")


def flag_refund(refund_id: int, reason: str) -> Refund:
    """Flag a refund for review without touching its state."""
    return move_refund(refund_id, "", review=reason)
