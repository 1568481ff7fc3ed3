"""The webhook inbox: verify and store callbacks durably, then process them as hints.

:func:`receive_webhook` verifies (size first, then credentials and shape), stores the
event under the SHA-256 of its body (a redelivery is the same row) and returns it; it
must be committed before PhonePe gets its 200. :func:`process_webhook` never trusts the
event: it asks the status API and lets the state machine record what the *gateway*
says. It never stores ``Authorization`` or any other credential header.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from phonepe_gateway import PhonePeError, WebhookVerificationError

from . import signals
from .conf import app_setting, get_client, get_settings
from .exceptions import NotFound, PaymentsError, StorageUnavailable, WebhookRejected
from .models import Payment, Refund, WebhookEvent
from .statements import insert

__all__ = ["REPLAY_AFTER", "process_webhook", "receive_webhook", "replay_stuck_events"]

logger = logging.getLogger("phonepe_gateway.django")

#: Seconds after receipt before the reconciler retries an unprocessed event, per attempt.
REPLAY_AFTER = (30, 60, 180, 600, 1800)
_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-verify", "x-api-key"}
)
_REJECTIONS = {
    "unauthenticated": (401, "Webhook authentication failed."),
    "malformed": (400, "Webhook body is malformed."),
    "too_large": (413, "Webhook body is too large."),
}
#: What a webhook claims, as a ledger state (a hint only).
_HINTS = {
    "checkout.order.completed": "COMPLETED",
    "checkout.order.failed": "FAILED",
    "pg.refund.accepted": "PENDING",
    "pg.refund.completed": "COMPLETED",
    "pg.refund.failed": "FAILED",
}


def _reject(reason: str) -> WebhookRejected:
    status, message = _REJECTIONS.get(reason, _REJECTIONS["unauthenticated"])
    signals.emit(signals.webhook_received, sender=WebhookEvent, event=None, outcome=reason)
    return WebhookRejected(message, code=f"webhook_{reason}", http_status=status)


def _safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        str(k).lower(): str(v)[:1024]
        for k, v in headers.items()
        if str(k).lower() not in _CREDENTIAL_HEADERS
    }


def receive_webhook(headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """Verify and durably store one delivery; a duplicate returns the stored row.

    Raises :class:`WebhookRejected` (401/400/413, nothing stored) or
    :class:`StorageUnavailable` (503: PhonePe will retry).
    """
    if len(body) > int(app_setting("webhook_max_bytes")):
        raise _reject("too_large")
    try:
        parsed = get_client().verify_webhook(headers, body)
    except WebhookVerificationError as exc:
        raise _reject(exc.reason) from None
    key = hashlib.sha256(body).hexdigest()
    try:
        event, outcome = _store(key, headers, body, parsed)
    except DatabaseError as exc:
        signals.emit(
            signals.webhook_received, sender=WebhookEvent, event=None, outcome="unavailable"
        )
        logger.warning("webhook not stored: database unavailable (%s)", type(exc).__name__)
        raise StorageUnavailable(
            "The webhook could not be stored durably; PhonePe will retry."
        ) from exc
    signals.emit(signals.webhook_received, sender=WebhookEvent, event=event, outcome=outcome)
    return event


def _store(
    key: str, headers: Mapping[str, str], body: bytes, parsed: Any
) -> tuple[WebhookEvent, str]:
    fields = {
        "body": body.decode("utf-8", errors="replace"),
        "headers": _safe_headers(headers),
        "event": (parsed.event or "")[:64],
        "gateway_state": (parsed.state or "")[:32],
        "merchant_order_id": (parsed.merchant_order_id or parsed.original_merchant_order_id or "")[
            :63
        ],
        "merchant_refund_id": (parsed.merchant_refund_id or "")[:63],
        # UPI AutoPay events name their mandate
        "merchant_subscription_id": (getattr(parsed, "merchant_subscription_id", None) or "")[:63],
        "merchant_id": (parsed.merchant_id or "")[:64],
        "amount": parsed.amount,
        "verified": True,
    }
    # Insert first: new events are the common case, a duplicate costs one failed insert.
    # (Its own savepoint only inside a caller's transaction; autocommit needs none.)
    event = WebhookEvent(dedupe_key=key, **fields)
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                insert(event)
        else:
            insert(event)  # the acknowledgement's one write, compiled once (.statements)
        return event, "stored"
    except IntegrityError:  # a redelivery (or a concurrent copy) of the same body
        return WebhookEvent.objects.get(dedupe_key=key), "duplicate"


def process_webhook(event: WebhookEvent | int, *, force: bool = False) -> None:
    """Confirm what the event hints at through the status API, then record the gateway's truth.

    An event already processed is skipped unless ``force`` (the admin's "reprocess").
    Records ``processing_result`` (``applied``, ``no_change``, ``contradicted``,
    ``mismatch``, ``unknown_order``, ``unknown_refund``, ``unknown_subscription`` or ``error``) and the error;
    an errored event stays unprocessed for ``phonepe_replay_webhooks``.
    """
    try:
        _process_event(event, force=force, count_attempt=True)
    except DatabaseError as exc:
        logger.warning("webhook not processed: database unavailable (%s)", type(exc).__name__)
        raise StorageUnavailable(
            "The payments database is unavailable; the event stays in the inbox for replay."
        ) from exc


def replay_stuck_events(now: datetime, limit: int) -> int:
    """Process events left unprocessed (errors, a full queue, a dead process), with backoff.

    Called by the reconciler. An event is retried :data:`REPLAY_AFTER` seconds after it
    was received (one delay per earlier attempt), at most ``len(REPLAY_AFTER)`` times;
    ``phonepe_replay_webhooks`` can always force more. Workers claim an event by bumping
    its ``attempts`` with a compare-and-set, so two reconcilers never process it twice.
    """
    due = Q()
    for attempts, delay in enumerate(REPLAY_AFTER):
        due |= Q(attempts=attempts, received_at__lte=now - timedelta(seconds=delay))
    stuck = WebhookEvent.objects.filter(due, processed_at__isnull=True).order_by("received_at")
    replayed = 0
    for pk, attempts in stuck.values_list("pk", "attempts")[:limit]:
        claimed = WebhookEvent.objects.filter(
            pk=pk, attempts=attempts, processed_at__isnull=True
        ).update(attempts=attempts + 1)
        if claimed:
            _process_event(pk, force=False, count_attempt=False)
            replayed += 1
    return replayed


def _process_event(event: WebhookEvent | int, *, force: bool, count_attempt: bool) -> None:
    loaded = not isinstance(event, WebhookEvent)
    if not isinstance(event, WebhookEvent):
        try:
            event = WebhookEvent.objects.get(pk=event)
        except WebhookEvent.DoesNotExist:
            raise NotFound(f"No webhook event {event!r}.") from None
    if count_attempt:
        # One statement checks and counts: an event processed meanwhile is left alone.
        rows = WebhookEvent.objects.filter(pk=event.pk)
        if not force:
            rows = rows.filter(processed_at__isnull=True)
        if not rows.update(attempts=F("attempts") + 1):
            return
        event.attempts += 1
    elif not force:
        if not loaded:  # a row read just now is fresh
            event.refresh_from_db(fields=["processed_at"])
        if event.processed_at is not None:
            return
    error = ""
    try:
        result = _process_refund(event) if event.is_refund else _process_payment(event)
        if not event.is_refund:
            result = _process_subscription(event, result)
    except (PaymentsError, PhonePeError) as exc:
        result, error = "error", f"{type(exc).__name__}: {exc}"[:2000]
    done = None if result == "error" else timezone.now()
    WebhookEvent.objects.filter(pk=event.pk).update(
        processed_at=done, processing_result=result, processing_error=error
    )
    event.processed_at, event.processing_result, event.processing_error = done, result, error
    signals.emit(signals.webhook_processed, sender=WebhookEvent, event=event, result=result)


def _outcome(event: WebhookEvent, before: str, after: str) -> str:
    if after != before:
        return "applied"
    hint = _HINTS.get(event.event) or event.gateway_state
    if hint in ("COMPLETED", "FAILED") and hint != after:
        return "contradicted"
    return "no_change"


def _process_payment(event: WebhookEvent) -> str:
    from .services import sync_payment

    payment = Payment.objects.filter(merchant_order_id=event.merchant_order_id).first()
    if payment is None:
        # Generation 1 refund callbacks name the refund in merchantTransactionId.
        refund = Refund.objects.filter(merchant_refund_id=event.merchant_order_id).first()
        if refund is None or event.merchant_refund_id:
            return "unknown_order"
        return _process_refund(event, refund)
    # A claim that disagrees with the ledger (another merchant, another amount) is only a
    # hint, like every other: a replayed or forged header must not flag a payment. The
    # status API decides; it flags the payment itself if the gateway really disagrees.
    before, disagrees = payment.state, _disagrees(event, payment.amount)
    payment = sync_payment(payment)
    if disagrees:
        return "mismatch" if payment.needs_review else "contradicted"
    return _outcome(event, before, payment.state)


def _process_subscription(event: WebhookEvent, result: str) -> str:
    """UPI AutoPay: an event about a mandate (or its set-up order) syncs the mandate too."""
    from .subscriptions import process_subscription_event

    outcome = process_subscription_event(event)
    if outcome is None:
        return result
    if result in ("unknown_order", "no_change") or outcome == "applied":
        return outcome
    return result


def _disagrees(event: WebhookEvent, amount: int) -> bool:
    settings = get_settings()
    # Only generation 1 configures the merchant id that callbacks carry.
    expected = settings.merchant_id if settings.api_version == "v1" else None
    other_merchant = bool(event.merchant_id and expected and event.merchant_id != expected)
    return other_merchant or (event.amount is not None and event.amount != amount)


def _process_refund(event: WebhookEvent, refund: Refund | None = None) -> str:
    from .services import sync_refund

    if refund is None:
        refund = Refund.objects.filter(merchant_refund_id=event.merchant_refund_id).first()
    if refund is None:
        return "unknown_refund"
    before, disagrees = refund.state, _disagrees(event, refund.amount)
    refund = sync_refund(refund)
    if disagrees:
        return "mismatch" if refund.needs_review else "contradicted"
    return _outcome(event, before, refund.state)
