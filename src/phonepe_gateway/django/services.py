"""What hosts and views call to change anything: create, sync and refund payments, webhooks.

The pattern is always the same: store first (CREATED), call the gateway outside any
transaction, then let :mod:`.states` record what the gateway said. A request that may
have reached PhonePe makes the row ``UNKNOWN`` (the reconciler settles it), never
``FAILED``; ``FAILED`` needs certainty that PhonePe did not act. Core client errors are
translated into :mod:`.exceptions` here and never leak.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError
from django.utils import timezone

from phonepe_gateway import (
    MIN_REFUND_AMOUNT,
    DuplicateRequestError,
    NotFoundError,
    OrderStatus,
    PhonePeError,
    RefundStatus,
    ValidationError,
    check_amount,
    check_merchant_id,
    new_merchant_id,
)

from . import states
from .conf import get_client, get_settings
from .exceptions import (
    Conflict,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    db_guard,
    gateway_error_info,
    gateway_may_have_acted,
    gateway_sync_unavailable,
    gateway_unavailable,
    storage_unavailable,
)
from .inbox import process_webhook, receive_webhook
from .models import Payment, PaymentState, Refund, RefundState
from .reconcile import first_check_at

__all__ = [
    "create_payment",
    "process_webhook",
    "receive_webhook",
    "refund_payment",
    "sync_payment",
    "sync_refund",
]

logger = logging.getLogger("phonepe_gateway.django")

_T = TypeVar("_T")
_ORDER_STATES = {"PENDING": "PENDING", "COMPLETED": "COMPLETED", "FAILED": "FAILED"}
_REFUND_STATES = {
    "PENDING": "PENDING",
    "CONFIRMED": "PENDING",
    "COMPLETED": "COMPLETED",
    "FAILED": "FAILED",
}


# -- helpers ---------------------------------------------------------------------------


def _checked(check: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """The core's own input check, its ValidationError as :class:`InvalidRequest`."""
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        raise InvalidRequest(str(exc), details={"field": exc.field}) from exc


def _payment(payment: Payment | str) -> Payment:
    if isinstance(payment, Payment):
        return payment
    try:
        return Payment.objects.get(merchant_order_id=payment)
    except Payment.DoesNotExist:
        raise NotFound(f"No payment {payment!r}.", details={"merchant_order_id": payment}) from None


def _refund(refund: Refund | str) -> Refund:
    if isinstance(refund, Refund):
        return refund
    try:
        return Refund.objects.get(merchant_refund_id=refund)
    except Refund.DoesNotExist:
        raise NotFound(f"No refund {refund!r}.", details={"merchant_refund_id": refund}) from None


# -- payments ----------------------------------------------------------------------------


@db_guard
def create_payment(
    *,
    amount: int,
    merchant_order_id: str | None = None,
    reference: str = "",
    redirect_url: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Payment:
    """Store a payment as CREATED, then ask the gateway for a checkout link.

    Returns the PENDING payment (with ``checkout_url``). Raises :class:`InvalidRequest`
    (nothing stored), :class:`Conflict` (the order id is taken),
    :class:`StorageUnavailable`, or :class:`GatewayUnavailable` with the stored
    payment attached: ``UNKNOWN`` (will be reconciled) or ``FAILED`` (gateway did not act).
    """
    from .conf import app_setting

    _checked(check_amount, amount)
    order_id = _checked(check_merchant_id, merchant_order_id or new_merchant_id("MO"))
    if not isinstance(reference, str) or len(reference) > 255:
        raise InvalidRequest(
            "reference must be text of at most 255 characters.", details={"field": "reference"}
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidRequest("metadata must be a JSON object.", details={"field": "metadata"})
    client = get_client()  # a misconfigured app fails loudly here, before storing anything
    now = timezone.now()
    try:
        payment = Payment.objects.create(
            merchant_order_id=order_id,
            amount=amount,
            reference=reference,
            metadata=metadata or {},
            state=PaymentState.CREATED,
            next_check_at=first_check_at(now),
        )
    except IntegrityError:
        raise Conflict(
            f"A payment with merchant_order_id {order_id!r} already exists.",
            code="duplicate_merchant_order_id",
            details={"merchant_order_id": order_id},
        ) from None
    except DatabaseError as exc:
        raise storage_unavailable(exc) from exc
    try:
        result = client.create_payment(
            amount=amount,
            merchant_order_id=order_id,
            redirect_url=redirect_url or app_setting("redirect_url"),
            expire_after=app_setting("expire_after"),
            meta_info={"udf1": reference} if reference else None,
            callback_url=app_setting("callback_url"),
        )
    except ValidationError as exc:
        Payment.objects.filter(pk=payment.pk, state=PaymentState.CREATED).delete()
        raise InvalidRequest(str(exc), details={"field": exc.field} if exc.field else None) from exc
    except PhonePeError as exc:
        failed: str = PaymentState.UNKNOWN if gateway_may_have_acted(exc) else PaymentState.FAILED
        review = (
            "duplicate order id at the gateway" if isinstance(exc, DuplicateRequestError) else ""
        )
        payment = states.move_payment(
            payment.pk, failed, info=gateway_error_info(exc), review=review
        )
        raise gateway_unavailable(exc, payment, "order") from exc
    info = {
        "gateway_order_id": result.order_id,
        "checkout_url": result.redirect_url,
        "expires_at": result.expire_at,
    }
    target: str = _ORDER_STATES.get(result.state, PaymentState.PENDING)
    if target == PaymentState.PENDING:
        payment = states.acknowledge_payment(payment, info=info)
    else:
        payment = states.move_payment(payment.pk, target, info=info)
    if not result.redirect_url and payment.state == PaymentState.PENDING:
        # The client recovered a lost answer through the status API: the order exists
        # (the reconciler follows it) but PhonePe's checkout link was in the lost answer.
        raise GatewayUnavailable(
            f"The gateway created order {order_id} but its checkout link was lost in "
            "transit; create a new payment for the customer. This one will be reconciled.",
            code="checkout_link_lost",
            http_status=502,
            details={"merchant_order_id": order_id, "state": payment.state},
            payment=payment,
        )
    return payment


@db_guard
def sync_payment(payment: Payment | str, *, now: datetime | None = None) -> Payment:
    """Ask the gateway for the order's status and record it (forward only).

    An amount that differs from the ledger flags the payment and changes nothing.
    An order the gateway does not know is FAILED only once no create call can still
    be in flight (``timeout`` + grace after creation). Raises :class:`GatewayUnavailable`.
    """
    payment = _payment(payment)
    now = now or timezone.now()
    try:
        status = get_client().get_order_status(payment.merchant_order_id, details=True)
    except NotFoundError as exc:
        return _order_not_found(payment, exc, now)
    except PhonePeError as exc:
        raise gateway_sync_unavailable(exc, payment, "order") from exc
    return observe_order_status(payment, status)


def observe_order_status(payment: Payment, status: OrderStatus) -> Payment:
    """Record a status answer of the gateway for ``payment``."""
    if status.amount is not None and int(status.amount) != payment.amount:
        return states.flag_payment(
            payment.pk,
            f"amount mismatch: gateway reports {status.amount} paise, ledger has "
            f"{payment.amount}; not completed",
        )
    target = _ORDER_STATES.get(status.state)
    detail = status.successful_payment or (
        status.payment_details[-1] if status.payment_details else None
    )
    info: dict[str, Any] = {"gateway_order_id": status.order_id, "expires_at": status.expire_at}
    if detail is not None:
        info["transaction_id"] = detail.transaction_id
        info["payment_mode"] = detail.payment_mode
    if target == PaymentState.FAILED:
        info["error_code"] = status.error_code or (detail.error_code if detail else None)
    if target is None:
        logger.warning("unknown order state %r for %s", status.state, payment.merchant_order_id)
        target = ""
    if states.changes_nothing(payment, target, info):
        return payment  # the usual reconciler answer "still PENDING": nothing to write
    return states.move_payment(payment.pk, target, info=info)


def _in_flight_window(settings_timeout: float) -> timedelta:
    return timedelta(seconds=settings_timeout + 30)


def _order_not_found(payment: Payment, exc: NotFoundError, now: datetime) -> Payment:
    if payment.state == PaymentState.FAILED:
        return payment  # refused or never received: not knowing it is no news
    if payment.state not in (PaymentState.CREATED, PaymentState.UNKNOWN):
        return states.flag_payment(payment.pk, "the gateway does not know this order")
    if now - payment.created_at < _in_flight_window(get_settings().timeout):
        return payment  # the create call may still be on its way: ask again later
    info = {
        "error_code": exc.code or "ORDER_NOT_FOUND",
        "error_message": "the gateway never received the order",
    }
    return states.move_payment(payment.pk, PaymentState.FAILED, info=info)


# -- refunds -----------------------------------------------------------------------------


@db_guard
def refund_payment(
    payment: Payment | str,
    *,
    amount: int,
    merchant_refund_id: str | None = None,
    reason: str = "",
) -> Refund:
    """Reserve ``amount`` of the refundable remainder under the payment's lock, then refund.

    An ``UNKNOWN`` (or ``CREATED``) payment is synced first. Raises :class:`Conflict`
    (payment not COMPLETED, refund id taken), :class:`RefundExceedsRemainder`,
    :class:`InvalidRequest` (nothing stored) or :class:`GatewayUnavailable` (the refund
    is attached: ``UNKNOWN`` keeps its reservation, ``FAILED`` released it).
    """
    payment = _payment(payment)
    _checked(check_amount, amount, minimum=MIN_REFUND_AMOUNT)
    refund_id = _checked(
        check_merchant_id, merchant_refund_id or new_merchant_id("MR"), field="merchant_refund_id"
    )
    client = get_client()
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
        raise Conflict(
            f"A refund with merchant_refund_id {refund_id!r} already exists.",
            code="duplicate_merchant_refund_id",
            details={"merchant_refund_id": refund_id},
        ) from None
    except DatabaseError as exc:
        raise storage_unavailable(exc) from exc
    try:
        result = client.refund(
            original_merchant_order_id=payment.merchant_order_id,
            amount=amount,
            merchant_refund_id=refund_id,
        )
    except ValidationError as exc:
        states.discard_refund(refund.pk)
        raise InvalidRequest(str(exc), details={"field": exc.field} if exc.field else None) from exc
    except PhonePeError as exc:
        failed = RefundState.UNKNOWN if gateway_may_have_acted(exc) else RefundState.FAILED
        review = (
            "duplicate refund id at the gateway" if isinstance(exc, DuplicateRequestError) else ""
        )
        refund = states.move_refund(refund.pk, failed, info=gateway_error_info(exc), review=review)
        raise gateway_unavailable(exc, refund, "refund") from exc
    target: str = _REFUND_STATES.get(result.state, RefundState.PENDING)
    return states.move_refund(refund.pk, target, info={"gateway_refund_id": result.refund_id})


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
        if now - refund.created_at < _in_flight_window(get_settings().timeout):
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
