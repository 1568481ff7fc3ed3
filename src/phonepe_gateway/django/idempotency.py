"""``Idempotency-Key`` for the API's POST endpoints: one stored answer per (scope, key).

Protocol (insert first, under the unique constraint on ``(scope, key)``):

1. The first request inserts an in-progress :class:`IdempotencyRecord` (``response_status``
   NULL) in its own committed transaction, then does the work and stores the answer.
2. A concurrent or later request with the same key loses the insert. With another body
   it gets ``409 idempotency_key_reused`` at once. With the same body it polls the record
   (10 ms growing to 100 ms) until the answer is stored and replays it byte for byte; if
   the winner is still working after ``IDEMPOTENCY_WAIT`` seconds it gets
   ``409 idempotency_in_progress`` (retry later with the same key).
3. Errors where nothing was stored (``400``/``422`` input errors) delete the record, so
   the key can be used again; every other answer (``201``, ``409``, ``503`` with the
   stored payment's id and state) is kept and replayed. An unexpected crash, or the
   database failing (``503 storage_unavailable``, never stored), keeps the record (a
   ledger row may exist) but releases its claim at once.
4. A record left in progress for ``idempotency_stale`` seconds (its worker died) is taken
   over by exactly one later request (conditional update on ``claimed_at``).
5. A stored 5xx answer whose ledger row was still open (``UNKNOWN``/``CREATED``) is not
   final: a replay re-claims the record and runs the action again, which resumes that
   row (the caller's ids are derived from the key, see :func:`derive_id`, so the gateway
   can never get a second order or refund). Once an answer is final, it never changes.

Re-running an action is safe because its gateway ids come from the key: the gateway
refuses a second order or refund with the same id, and the service then looks up the
first one instead.

The views using this must not run inside ``ATOMIC_REQUESTS``: the record must be visible
to other connections before the gateway is called.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .conf import app_setting
from .exceptions import (
    Conflict,
    InvalidRequest,
    PaymentsError,
    StorageUnavailable,
    storage_unavailable,
)
from .models import IdempotencyRecord
from .statements import insert

__all__ = [
    "IDEMPOTENCY_STALE",
    "IDEMPOTENCY_WAIT",
    "Answer",
    "derive_id",
    "fingerprint",
    "run_once",
]

#: (HTTP status, JSON body)
Answer = tuple[int, dict[str, Any]]

IDEMPOTENCY_WAIT = 10.0
IDEMPOTENCY_STALE = 120.0
_MAX_KEY = 255
#: a claim released by a crash: any later request may take the record over at once
_RELEASED = datetime(2000, 1, 1, tzinfo=UTC)
#: stored answers that are not final while their ledger row is open
_OPEN_STATES = frozenset({"CREATED", "UNKNOWN"})


def derive_id(prefix: str, scope: str, key: str) -> str:
    """The merchant order/refund id for ``key`` in ``scope``: the same on every retry.

    26 characters (fits generation 1's 35), 96 bits of SHA-256: a retry under the same key
    names the same order at the gateway, which refuses to create it twice.
    """
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()
    return prefix + digest[:24]


def _stale_after() -> float:
    return float(app_setting("idempotency_stale") or IDEMPOTENCY_STALE)


def fingerprint(payload: Any) -> str:
    """SHA-256 of the canonical JSON of the validated request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    *,
    scope: str,
    key: str,
    request_fingerprint: str,
    action: Callable[[], Answer],
    wait: float = IDEMPOTENCY_WAIT,
) -> tuple[Answer, bool]:
    """Run ``action`` once per (scope, key); returns ``(answer, replayed)``."""
    if not key or len(key) > _MAX_KEY or not (key.isascii() and key.isprintable()):
        # Printable ASCII, as documented: a header's other bytes reach WSGI as latin-1
        # guesses, so the same key could be stored under two spellings.
        raise InvalidRequest(
            f"The Idempotency-Key header must be 1-{_MAX_KEY} printable ASCII characters.",
            code="invalid_idempotency_key",
            http_status=400,
        )
    try:
        return _run(scope, key, request_fingerprint, action, wait)
    except DatabaseError as exc:  # the key's own bookkeeping; the action's are its own
        raise storage_unavailable(exc) from exc


def _run(
    scope: str, key: str, request_fingerprint: str, action: Callable[[], Answer], wait: float
) -> tuple[Answer, bool]:
    deadline = time.monotonic() + wait
    pause = 0.01
    while True:
        record_pk = _claim(scope, key, request_fingerprint)
        if record_pk is not None:
            return _execute(record_pk, action), False
        answer = _stored_answer(scope, key, request_fingerprint)
        if answer is not None:
            record_pk = _reopen(scope, key, answer)
            if record_pk is not None:
                return _execute(record_pk, action), False
            return answer, True
        if time.monotonic() >= deadline:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; "
                "retry with the same key in a moment.",
                code="idempotency_in_progress",
                details={"retry_after": 1},
            )
        time.sleep(pause)  # waiting for another request's commit: there is no signal to wait on
        pause = min(pause * 2, 0.1)


def _claim(scope: str, key: str, request_fingerprint: str) -> int | None:
    """Insert the in-progress record, or take over an abandoned one; None when taken."""
    now = timezone.now()
    try:
        record = IdempotencyRecord(
            scope=scope, key=key, request_fingerprint=request_fingerprint, claimed_at=now
        )
        with transaction.atomic():
            insert(record)
        return int(record.pk)
    except IntegrityError:
        pass
    cutoff = now - timedelta(seconds=_stale_after())
    row = (
        IdempotencyRecord.objects.filter(
            scope=scope,
            key=key,
            request_fingerprint=request_fingerprint,
            response_status__isnull=True,
        )
        # (records written before ``claimed_at`` existed count from their creation)
        .filter(Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True, created_at__lt=cutoff))
        .values_list("pk", "claimed_at")
        .first()
    )
    if row is None:
        return None
    same_claim = Q(claimed_at__isnull=True) if row[1] is None else Q(claimed_at=row[1])
    taken = (
        IdempotencyRecord.objects.filter(pk=row[0], response_status__isnull=True)
        .filter(same_claim)
        .update(claimed_at=now)
    )
    return int(row[0]) if taken == 1 else None


def _reopen(scope: str, key: str, answer: Answer) -> int | None:
    """Claim a stored answer that is not final (a 5xx while its ledger row was open)."""
    status, body = answer
    details = (body.get("error") or {}).get("details") or {}
    if status < 500 or details.get("state") not in _OPEN_STATES:
        return None
    row = (
        IdempotencyRecord.objects.filter(scope=scope, key=key, response_status=status)
        .values_list("pk", flat=True)
        .first()
    )
    if row is None:
        return None
    taken = IdempotencyRecord.objects.filter(pk=row, response_status=status).update(
        response_status=None, response_body=None, claimed_at=timezone.now()
    )
    return int(row) if taken == 1 else None


def _stored_answer(scope: str, key: str, request_fingerprint: str) -> Answer | None:
    row = (
        IdempotencyRecord.objects.filter(scope=scope, key=key)
        .values_list("request_fingerprint", "response_status", "response_body")
        .first()
    )
    if row is None:
        return None  # the first request gave the key back; the caller claims it next
    stored_fingerprint, status, body = row
    if stored_fingerprint != request_fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new request.",
            code="idempotency_key_reused",
        )
    if status is None:
        return None
    return int(status), dict(body or {})


def _store_answer(record_pk: int, status: int, body: dict[str, Any]) -> None:
    IdempotencyRecord.objects.filter(pk=record_pk).update(
        response_status=status, response_body=body
    )


def _release(record_pk: int) -> None:
    """Keep the key (a ledger row may exist: the retry resumes it under the same derived
    id) but let the next request take it over at once. Best effort: if the database is
    down, the claim simply goes stale."""
    with contextlib.suppress(DatabaseError):
        IdempotencyRecord.objects.filter(pk=record_pk).update(claimed_at=_RELEASED)


def _execute(record_pk: int, action: Callable[[], Answer]) -> Answer:
    try:
        status, body = action()
    except StorageUnavailable:
        _release(record_pk)  # transient, and no answer to keep: the retry runs it again
        raise
    except PaymentsError as exc:
        try:
            if exc.http_status in (400, 422):
                IdempotencyRecord.objects.filter(pk=record_pk).delete()
            else:
                _store_answer(record_pk, exc.http_status, exc.to_dict())
        except DatabaseError:
            _release(record_pk)
        raise
    except BaseException:
        _release(record_pk)
        raise
    try:
        _store_answer(record_pk, status, body)
    except DatabaseError as exc:
        # The answer cannot be kept, so it is not given either: the retry resumes the
        # same ledger row and its answer is the one stored and replayed from then on.
        _release(record_pk)
        raise storage_unavailable(exc) from exc
    return status, body
