"""The gateway call log written off the payment path: rows queued, inserted in batches.

With ``PHONEPE["call_log"] = "batched"`` (the standalone service's default) a finished
gateway call costs the request one queue put instead of one ``INSERT`` (and, on
PostgreSQL, a round trip). One daemon thread per process collects rows for up to
:data:`LINGER` seconds (at most :data:`BATCH` rows) and writes them in one transaction
with one compiled ``INSERT`` run by ``executemany`` (``statements.insert_many``) on its own
database connection, so a busy service commits once per batch instead of once per call. ``created_at`` is the batch's insert time, at most
about ``LINGER`` seconds after the call.

The log is best effort, as in the immediate mode: a database error or a full queue
(:data:`CAPACITY` rows) drops rows with a warning and never fails or delays a payment.
:func:`flush` waits until every queued row is written (tests, worker shutdown; also run
at interpreter exit). Rows carry only call, endpoint, status, outcome, category,
duration and attempt: never an id, an amount or a secret.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from typing import Any

from django.db import DatabaseError, close_old_connections

__all__ = ["BATCH", "CAPACITY", "LINGER", "CallLogWriter", "flush", "writer"]

logger = logging.getLogger("phonepe_gateway.django")

#: Most rows one INSERT writes.
BATCH = 200
#: Seconds the writer waits after a first row for more rows to join its batch.
LINGER = 0.2
#: Rows queued at most; beyond it rows are dropped (the log is best effort).
CAPACITY = 10_000


class CallLogWriter:
    """A bounded queue of call-log rows and the one thread that inserts them in batches."""

    def __init__(
        self, *, batch: int = BATCH, linger: float = LINGER, capacity: int = CAPACITY
    ) -> None:
        self._batch, self._linger, self._capacity = batch, linger, capacity
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._pending = 0  # rows queued or being written
        self._gather = threading.Event()  # set: stop lingering, write what is queued
        self._pid: int | None = None  # the process that owns the thread (fork safety)
        self.dropped = 0

    def add(self, row: dict[str, Any]) -> None:
        """Queue one row (``GatewayCallLog`` field values); never blocks, never raises."""
        with self._lock:
            if self._pid != os.getpid():
                self._start()
            if self._pending >= self._capacity:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    logger.warning("gateway call log queue full; %d rows dropped", self.dropped)
                return
            self._pending += 1
            full = self._pending >= self._batch
        self._queue.put(row)
        if full:
            self._gather.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued row was written (or dropped); False on timeout."""
        self._gather.set()
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _start(self) -> None:
        # Called under the lock, in a new process (or the first time): a forked child
        # inherits neither the thread nor the rows of its parent.
        self._queue = queue.SimpleQueue()
        self._pending = 0
        self._pid = os.getpid()
        threading.Thread(target=self._run, name="phonepe-call-log", daemon=True).start()

    def _collect(self, source: queue.SimpleQueue[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [source.get()]
        # Let a batch gather without waking for each row (a wake-up per row cost the
        # request threads more CPU than the rows' insert): add() wakes us early once a
        # batch is queued, flush() at once.
        self._gather.wait(self._linger)
        self._gather.clear()
        while len(rows) < self._batch:
            try:
                rows.append(source.get_nowait())
            except queue.Empty:
                break
        return rows

    def _run(self) -> None:
        source = self._queue
        while True:
            rows = self._collect(source)
            try:
                _insert(rows)
            finally:
                _release_connection()
                with self._idle:
                    self._pending -= len(rows)
                    self._idle.notify_all()


def _insert(rows: list[dict[str, Any]]) -> None:
    from .models import GatewayCallLog
    from .statements import insert_many

    try:
        insert_many(GatewayCallLog, [GatewayCallLog(**row) for row in rows])
    except DatabaseError:  # best effort: never fail a payment for the log
        logger.warning("could not write %d gateway call log rows", len(rows), exc_info=True)
    except Exception:  # the thread must survive anything a row could raise
        logger.exception("gateway call log writer failed; %d rows dropped", len(rows))


def _release_connection() -> None:
    try:
        close_old_connections()  # honours CONN_MAX_AGE, as the end of a request does
    except Exception:  # the thread must outlive a broken connection
        logger.warning("gateway call log: closing the connection failed", exc_info=True)


writer = CallLogWriter()


def flush(timeout: float = 5.0) -> bool:
    """Write out every queued row of this process (tests, graceful shutdown)."""
    return writer.flush(timeout)


atexit.register(flush, 2.0)
