"""What hosts and views call to change anything: create, sync and refund payments, webhooks.

The pattern is always the same: store first (CREATED), call the gateway outside any
transaction, then let :mod:`.states` record what the gateway said. A request that may
have reached PhonePe makes the row ``UNKNOWN`` (the reconciler settles it), never
``FAILED``; ``FAILED`` needs certainty that PhonePe did not act. Core client errors are
translated into :mod:`.exceptions` here and never leak.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, NoReturn, TypeVar

from django.db import DatabaseError, IntegrityError
from django.db.models import F
from django.utils import timezone

from phonepe_gateway import (
    DuplicateRequestError,
    GatewayError,
    Instrument,
    NotFoundError,
    OrderStatus,
    PaymentModes,
    PhonePeError,
    ValidationError,
    check_amount,
    check_merchant_id,
    new_merchant_id,
)

from . import states
from .checkout import HOSTED, SDK, SDK_CUSTOM, Checkout, answer_info, has_link
from .conf import get_client, get_settings
from .exceptions import (
    Conflict,
    GatewayUnavailable,
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
from .inbox import process_webhook, receive_webhook
from .models import OPEN_STATES, Payment, PaymentState
from .reconcile import first_check_at, in_flight_window
from .statements import insert

__all__ = [
    "ask_order_status",
    "create_payment",
    "create_sdk_order",
    "duplicate_refund_id",
    "find_payment",
    "in_flight_window",
    "observe_order_status",
    "observe_refund_status",
    "process_webhook",
    "receive_webhook",
    "refund_duplicate",
    "refund_duplicates",
    "refund_payment",
    "sync_payment",
    "sync_refund",
]

logger = logging.getLogger("phonepe_gateway.django")

_T = TypeVar("_T")
_HEALED = re.compile(r"^(.*)-L(\d+)$")
#: successive lost links healed in one request before the caller is asked to retry
_MAX_HEALS = 3
#: open payments of a reference synced before a new link is issued for it
_MAX_OPEN_SYNCS = 5
_ORDER_STATES = {
    "PENDING": "PENDING",
    "COMPLETED": "COMPLETED",
    "FAILED": "FAILED",
    # UPI AutoPay debits: notified, not yet executed (debits.py redeems them when due)
    "NOTIFICATION_IN_PROGRESS": "PENDING",
    "NOTIFIED": "PENDING",
}


# -- helpers ---------------------------------------------------------------------------


def _has_nul(value: Any) -> bool:
    """Does JSON ``value`` hold a NUL character (PostgreSQL stores none in text or jsonb)?"""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def find_payment(payment: Payment | str) -> Payment:
    """``payment`` itself, or the payment with that merchant order id (:class:`NotFound`)."""
    if isinstance(payment, Payment):
        return payment
    try:
        return Payment.objects.get(merchant_order_id=payment)
    except Payment.DoesNotExist:
        raise NotFound(f"No payment {payment!r}.", details={"merchant_order_id": payment}) from None


# -- payments ----------------------------------------------------------------------------


@db_guard
def create_payment(
    *,
    amount: int,
    merchant_order_id: str | None = None,
    reference: str = "",
    redirect_url: str | None = None,
    metadata: dict[str, Any] | None = None,
    resume: bool = False,
    instrument: Instrument | None = None,
    payment_modes: PaymentModes | None = None,
    disable_payment_retry: bool = False,
    prefill_phone: str | None = None,
) -> Payment:
    """Store a payment as CREATED, then ask the gateway for its order.

    Without an ``instrument`` the customer pays on PhonePe's hosted page: the PENDING
    payment has its ``checkout_url``. With one (custom checkout) it records
    ``instrument`` and, while the order is open, what the customer pays with:
    ``intent_url`` (UPI intent), ``qr_data`` (UPI QR), the bank page (card, net
    banking, token: ``pay_url``); a UPI collect request goes to the customer's app.
    ``payment_modes`` (which modes the hosted page offers), ``disable_payment_retry``
    (the first failed attempt fails the order) and ``prefill_phone`` (the customer's
    10-digit mobile number) shape the hosted page and are refused with an instrument.

    A link lost in transit heals itself: a new attempt (``<id>-L1``) under the same
    reference is made and returned, and the lost one is marked ``superseded_by`` it and
    left to expire.

    With a ``reference``, its open payments are first synced with the gateway; if one of
    them (or an earlier one) paid it, :class:`Conflict` ``reference_already_paid``.
    ``resume=True`` (a retry under the same Idempotency-Key, whose ids are derived from
    the key): a payment already stored under ``merchant_order_id`` with the same amount,
    reference and instrument is resumed, never created twice.

    Raises :class:`InvalidRequest` (nothing stored), :class:`Conflict` (the order id is
    taken), :class:`StorageUnavailable`, or :class:`GatewayUnavailable` with the stored
    payment attached: ``UNKNOWN`` (will be reconciled) or ``FAILED`` (gateway did not act).
    """
    if instrument is not None and not isinstance(instrument, Instrument):
        raise InvalidRequest(
            "instrument must be one of phonepe_gateway's instruments (UpiIntent, UpiCollect, "
            "UpiQr, NetBanking, Card, Token).",
            details={"field": "instrument"},
        )
    if payment_modes is not None and not isinstance(payment_modes, PaymentModes):
        raise InvalidRequest(
            "payment_modes must be a phonepe_gateway.PaymentModes.",
            details={"field": "payment_modes"},
        )
    if not isinstance(disable_payment_retry, bool):
        raise InvalidRequest(
            "disable_payment_retry must be true or false.",
            details={"field": "disable_payment_retry"},
        )
    how = Checkout(
        redirect_url=redirect_url,
        instrument=instrument,
        payment_modes=payment_modes,
        disable_payment_retry=disable_payment_retry,
        prefill_phone=prefill_phone,
    )
    if instrument is not None and how.shapes_page:
        raise InvalidRequest(
            "payment_modes, disable_payment_retry and prefill_phone shape PhonePe's hosted "
            "page; they cannot be combined with an instrument.",
            details={"field": "instrument"},
        )
    return _create(amount, merchant_order_id, reference, metadata, resume, how)


@db_guard
def create_sdk_order(
    *,
    amount: int,
    merchant_order_id: str | None = None,
    reference: str = "",
    redirect_url: str | None = None,
    metadata: dict[str, Any] | None = None,
    resume: bool = False,
    custom_checkout: bool = False,
) -> Payment:
    """Like :func:`create_payment`, for an order the merchant's Android/iOS app completes
    with PhonePe's mobile SDK: the PENDING payment's ``sdk_token`` (kept while the order
    is open) is what the app hands to the SDK. ``custom_checkout`` asks for a custom-
    checkout SDK order (``instrument`` ``SDK_CUSTOM``) instead of a standard one (``SDK``).
    Webhooks and the reconciler settle it like any payment."""
    how = Checkout(redirect_url=redirect_url, sdk=SDK_CUSTOM if custom_checkout else SDK)
    return _create(amount, merchant_order_id, reference, metadata, resume, how)


def _create(
    amount: int,
    merchant_order_id: str | None,
    reference: str,
    metadata: dict[str, Any] | None,
    resume: bool,
    how: Checkout,
) -> Payment:
    checked(check_amount, amount)
    order_id = checked(check_merchant_id, merchant_order_id or new_merchant_id("MO"))
    if not isinstance(reference, str) or len(reference) > 255 or "\x00" in reference:
        raise InvalidRequest(
            "reference must be text of at most 255 characters (no NUL).",
            details={"field": "reference"},
        )
    if metadata is not None and (not isinstance(metadata, dict) or _has_nul(metadata)):
        raise InvalidRequest(
            "metadata must be a JSON object without NUL characters.",
            details={"field": "metadata"},
        )
    get_client()  # a misconfigured app fails loudly here, before storing anything
    if resume:
        existing = Payment.objects.filter(merchant_order_id=order_id).first()
        if existing is not None:
            return _resume_or_conflict(existing, amount, reference, how)
    if reference:
        _refuse_if_paid(reference)
    try:
        payment = Payment(
            merchant_order_id=order_id,
            amount=amount,
            reference=reference,
            metadata=metadata or {},
            instrument=how.mode,
            state=PaymentState.CREATED,
            next_check_at=first_check_at(timezone.now()),
        )
        insert(payment)  # the CREATED row, by a statement compiled once (.statements)
    except IntegrityError:
        existing = Payment.objects.filter(merchant_order_id=order_id).first()
        if resume and existing is not None:
            return _resume_or_conflict(existing, amount, reference, how)
        raise _order_id_taken(order_id) from None
    except DatabaseError as exc:
        raise storage_unavailable(exc) from exc
    return _request_order(payment, how, resumed=False, depth=0)


def _order_id_taken(order_id: str) -> Conflict:
    return Conflict(
        f"A payment with merchant_order_id {order_id!r} already exists.",
        code="duplicate_merchant_order_id",
        details={"merchant_order_id": order_id},
    )


def _refuse_if_paid(reference: str) -> None:
    """Sync the reference's open payments; refuse a new link when it is already paid."""
    open_ones = Payment.objects.filter(reference=reference, state__in=OPEN_STATES)
    for payment in open_ones.order_by("-created_at")[:_MAX_OPEN_SYNCS]:
        try:
            sync_payment(payment)
        except PaymentsError as exc:  # unreachable: the reconciler keeps following it
            logger.info("could not sync %s first: %s", payment.merchant_order_id, exc.code)
    paid = (
        Payment.objects.filter(
            reference=reference, state=PaymentState.COMPLETED, refunded_amount__lt=F("amount")
        )
        .values_list("merchant_order_id", flat=True)
        .first()
    )
    if paid is not None:
        raise Conflict(
            f"Reference {reference!r} is already paid by {paid}; no new payment link is issued.",
            code="reference_already_paid",
            details={"reference": reference, "merchant_order_id": paid},
        )


def _resume_or_conflict(payment: Payment, amount: int, reference: str, how: Checkout) -> Payment:
    if payment.amount != amount or payment.reference != reference or payment.instrument != how.mode:
        raise _order_id_taken(payment.merchant_order_id)
    return _resume_payment(payment, how, depth=0)


def _resume_payment(payment: Payment, how: Checkout, *, depth: int) -> Payment:
    """Carry on with a payment an earlier attempt of the same request stored."""
    if payment.superseded_by:
        successor = Payment.objects.filter(merchant_order_id=payment.superseded_by).first()
        if successor is None:  # the earlier attempt died between the two writes
            return _create_successor(payment, how, depth=depth)
        # Walking an earlier request's successors is not a heal of this one: ``depth``
        # counts only the heals this request makes, or a retry after a request that hit the
        # limit would hit it again on every retry, for ever (found by the fault campaign).
        return _resume_payment(successor, how, depth=depth)
    if payment.state in (PaymentState.CREATED, PaymentState.UNKNOWN):
        # Sending the same id again is safe: the gateway refuses a second order with it.
        return _request_order(payment, how, resumed=True, depth=depth)
    if payment.state == PaymentState.PENDING and not has_link(payment):
        return _heal_lost_link(payment, how, depth=depth)
    if payment.state == PaymentState.FAILED:
        raise Conflict(
            f"Payment {payment.merchant_order_id} FAILED; use a new Idempotency-Key to try again.",
            code="payment_failed",
            details={"merchant_order_id": payment.merchant_order_id, "state": payment.state},
        )
    return payment


def _request_order(payment: Payment, how: Checkout, *, resumed: bool, depth: int) -> Payment:
    """Ask the gateway to create ``payment``'s order and record the answer."""
    from .conf import app_setting

    try:
        result = how.request(
            get_client(),
            redirect_url=how.redirect_url or app_setting("redirect_url"),
            amount=int(payment.amount),
            merchant_order_id=payment.merchant_order_id,
            expire_after=app_setting("expire_after"),
            meta_info={"udf1": payment.reference} if payment.reference else None,
            callback_url=app_setting("callback_url"),
        )
    except ValidationError as exc:
        Payment.objects.filter(pk=payment.pk, state=PaymentState.CREATED).delete()
        raise InvalidRequest(str(exc), details={"field": exc.field} if exc.field else None) from exc
    except GatewayError as exc:
        if resumed and exc.may_mean_reused_id:
            # Our own earlier attempt may have created it (PhonePe refuses the reused id,
            # usually as a plain 400): find out what became of it.
            return _after_duplicate(payment, how, depth=depth)
        if not isinstance(exc, DuplicateRequestError):
            return _order_refused(payment, exc)
        payment = states.move_payment(
            payment.pk,
            PaymentState.UNKNOWN,
            info=gateway_error_info(exc),
            review="duplicate order id at the gateway",
        )
        raise gateway_unavailable(exc, payment, "order") from exc
    except PhonePeError as exc:
        return _order_refused(payment, exc)
    info, has_what_to_pay_with = answer_info(payment.instrument, result)
    target: str = _ORDER_STATES.get(result.state, PaymentState.PENDING)
    if target == PaymentState.PENDING:
        payment = states.acknowledge_payment(payment, info=info)
    else:
        payment = states.move_payment(payment.pk, target, info=info)
    if not has_what_to_pay_with and payment.state == PaymentState.PENDING:
        # The client recovered a lost answer through the status API: the order exists
        # but PhonePe's checkout link (intent link, QR data, SDK token) was in the lost answer.
        return _heal_lost_link(payment, how, depth=depth)
    return payment


def _order_refused(payment: Payment, exc: PhonePeError) -> NoReturn:
    failed: str = PaymentState.UNKNOWN if gateway_may_have_acted(exc) else PaymentState.FAILED
    payment = states.move_payment(payment.pk, failed, info=gateway_error_info(exc))
    raise gateway_unavailable(exc, payment, "order") from exc


def _after_duplicate(payment: Payment, how: Checkout, *, depth: int) -> Payment:
    payment = sync_payment(payment)
    if payment.state in (PaymentState.CREATED, PaymentState.UNKNOWN):
        raise GatewayUnavailable(
            f"The gateway has order {payment.merchant_order_id} but its status is not known "
            "yet; retry with the same Idempotency-Key.",
            code="gateway_outcome_unknown",
            http_status=502,
            details={"merchant_order_id": payment.merchant_order_id, "state": payment.state},
            payment=payment,
        )
    return _resume_payment(payment, how, depth=depth)


def _successor_id(order_id: str) -> str:
    match = _HEALED.match(order_id)
    root, n = (match.group(1), int(match.group(2))) if match else (order_id, 0)
    return f"{root[:56]}-L{n + 1}"


def _heal_lost_link(payment: Payment, how: Checkout, *, depth: int) -> Payment:
    """The order exists but nobody has its link: make a new attempt under the same purpose.

    The lost one is marked ``superseded_by`` the new one (the reconciler follows it until
    it expires). Crash-safe: the successor's id is fixed before it is stored, so a retry
    finds and resumes it.
    """
    if depth >= _MAX_HEALS:
        raise GatewayUnavailable(
            f"The gateway created order {payment.merchant_order_id} but its checkout link was "
            "lost in transit again; retry with the same Idempotency-Key.",
            code="checkout_link_lost",
            http_status=502,
            details={"merchant_order_id": payment.merchant_order_id, "state": payment.state},
            payment=payment,
        )
    Payment.objects.filter(pk=payment.pk, superseded_by="").update(
        superseded_by=_successor_id(payment.merchant_order_id)
    )
    payment.refresh_from_db(fields=["superseded_by"])
    logger.info(
        "checkout link of %s was lost; superseded by %s",
        payment.merchant_order_id,
        payment.superseded_by,
    )
    return _create_successor(payment, how, depth=depth)


def _create_successor(lost: Payment, how: Checkout, *, depth: int) -> Payment:
    try:
        successor = Payment.objects.create(
            merchant_order_id=lost.superseded_by,
            amount=lost.amount,
            reference=lost.reference,
            metadata=dict(lost.metadata or {}),
            instrument=lost.instrument,
            state=PaymentState.CREATED,
            next_check_at=first_check_at(timezone.now()),
        )
    except IntegrityError:
        successor = Payment.objects.get(merchant_order_id=lost.superseded_by)
        return _resume_payment(successor, how, depth=depth)  # another request made it
    return _request_order(successor, how, resumed=True, depth=depth + 1)


@db_guard
def sync_payment(payment: Payment | str, *, now: datetime | None = None) -> Payment:
    """Ask the gateway for the order's status and record it (forward only).

    An amount that differs from the ledger flags the payment and changes nothing.
    An order the gateway does not know is FAILED only once no create call can still
    be in flight (``timeout`` + grace after creation). Raises :class:`GatewayUnavailable`.
    """
    payment = find_payment(payment)
    now = now or timezone.now()
    try:
        status = ask_order_status(payment)
    except NotFoundError as exc:
        return _order_not_found(payment, exc, now)
    except PhonePeError as exc:
        raise gateway_sync_unavailable(exc, payment, "order") from exc
    return observe_order_status(payment, status)


def ask_order_status(payment: Payment) -> OrderStatus:
    """PhonePe's status of the payment's order, on the path its kind of order uses
    (AutoPay, custom checkout or the standard one); records nothing."""
    if payment.subscription_id is not None:  # UPI AutoPay: a mandate's set-up or debit
        return get_client().get_subscription_order_status(payment.merchant_order_id, details=True)
    if payment.instrument not in (HOSTED, SDK):
        # Paid by an instrument (or a custom-checkout SDK order): ask custom checkout's
        # own status path, as PhonePe's CustomCheckoutClient does; PhonePe does not say
        # that the standard path answers for these orders.
        return get_client().get_order_status(
            payment.merchant_order_id, details=True, custom_checkout=True
        )
    return get_client().get_order_status(payment.merchant_order_id, details=True)


def observe_order_status(payment: Payment, status: OrderStatus) -> Payment:
    """Record a status answer of the gateway for ``payment``."""
    if status.amount is not None and int(status.amount) != payment.amount:
        return states.flag_payment(
            payment.pk,
            f"amount mismatch: gateway reports {status.amount} paise, ledger has "
            f"{payment.amount}; not completed",
        )
    target = _ORDER_STATES.get(status.state)
    if target == PaymentState.COMPLETED:
        problem = _completion_problem(payment, status)
        if problem:
            return states.flag_payment(payment.pk, problem)
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
    payment = states.move_payment(payment.pk, target, info=info)
    if payment.duplicate_of and payment.state == PaymentState.COMPLETED:
        refund_duplicate(payment)
    return payment


def _completion_problem(payment: Payment, status: Any) -> str:
    """Why a COMPLETED answer cannot complete ``payment`` ('' when it can): the amount and
    the merchant order id must both be the ledger's (the gateway's order id too, if known)."""
    if status.amount is None:
        return "the gateway reported COMPLETED without an amount; not completed"
    if status.merchant_order_id != payment.merchant_order_id:
        return (
            f"the gateway's COMPLETED answer names order {status.merchant_order_id!r}, not "
            f"{payment.merchant_order_id}; not completed"
        )
    known = payment.gateway_order_id
    if known and status.order_id and status.order_id != known:
        return (
            f"the gateway's COMPLETED answer names gateway order {status.order_id}, not "
            f"{known}; not completed"
        )
    return ""


def _order_not_found(payment: Payment, exc: NotFoundError, now: datetime) -> Payment:
    if payment.state == PaymentState.FAILED:
        return payment  # refused or never received: not knowing it is no news
    if payment.state not in (PaymentState.CREATED, PaymentState.UNKNOWN):
        return states.flag_payment(payment.pk, "the gateway does not know this order")
    if now - payment.created_at < in_flight_window(get_settings().timeout):
        return payment  # the create call may still be on its way: ask again later
    info = {
        "error_code": exc.code or "ORDER_NOT_FOUND",
        "error_message": "the gateway never received the order",
    }
    return states.move_payment(payment.pk, PaymentState.FAILED, info=info)


# The refunds half lives in .refunds (it needs sync_payment above); hosts keep calling
# services.refund_payment & co.
from .refunds import (  # noqa: E402
    duplicate_refund_id,
    observe_refund_status,
    refund_duplicate,
    refund_duplicates,
    refund_payment,
    sync_refund,
)
