"""The batched gateway call log: rows are written off the request path, all of them, once.

Real path: the app's client against the real sandbox, the writer thread's own database
connection (hence transactional tests), and a flush instead of any waiting.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError

from phonepe_gateway.django import calllog, services, statements
from phonepe_gateway.django.calllog import CallLogWriter
from phonepe_gateway.django.models import GatewayCallLog


def _row(n: int) -> dict[str, object]:
    return {
        "call": "order_status",
        "endpoint": f"http://127.0.0.1:{n}",
        "status": 200,
        "outcome": "ok",
        "category": "",
        "duration_ms": 1.5,
        "attempt": 1,
    }


@pytest.mark.django_db(transaction=True)
def test_batched_call_log_when_payments_created_then_one_row_per_call_after_flush(
    phonepe_sandbox, settings
) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "call_log": "batched"}
    payments = [services.create_payment(amount=1000) for _ in range(5)]
    services.sync_payment(payments[0])
    assert calllog.flush(10.0)
    rows = list(GatewayCallLog.objects.order_by("id").values_list("call", "outcome", "status"))
    assert rows == [
        ("oauth_token", "ok", 200),
        *[("create_payment", "ok", 200)] * 5,
        ("order_status", "ok", 200),
    ]


@pytest.mark.django_db(transaction=True)
def test_writer_when_many_rows_then_all_written_in_batches() -> None:
    writer = CallLogWriter(batch=7, linger=0.05)
    for n in range(30):
        writer.add(_row(n))
    assert writer.flush(10.0)
    endpoints = set(GatewayCallLog.objects.values_list("endpoint", flat=True))
    assert endpoints == {f"http://127.0.0.1:{n}" for n in range(30)}
    assert writer.dropped == 0


def _written_without_flush(writer: CallLogWriter, seconds: float) -> bool:
    """The writer drained its queue on its own (flush() would cut its linger short)."""
    with writer._idle:
        return writer._idle.wait_for(lambda: writer._pending == 0, seconds)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("batch", "linger", "rows"),
    [(5, 600.0, 5), (100, 0.05, 3)],
    ids=["a whole batch: written at once, no lingering", "fewer rows: written after the linger"],
)
def test_writer_when_rows_queued_then_written_without_a_flush(
    batch: int, linger: float, rows: int
) -> None:
    writer = CallLogWriter(batch=batch, linger=linger)
    for n in range(rows):
        writer.add(_row(n))
    assert _written_without_flush(writer, 10.0)
    assert GatewayCallLog.objects.count() == rows


@pytest.mark.django_db(transaction=True)
def test_writer_when_queue_full_then_rows_dropped_not_raised() -> None:
    writer = CallLogWriter(batch=1, linger=0.0, capacity=0)
    writer.add(_row(1))
    assert writer.flush(5.0)
    assert writer.dropped == 1
    assert not GatewayCallLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_writer_when_database_fails_then_rows_dropped_and_later_rows_written(monkeypatch) -> None:
    real = statements.insert_many
    failures = [DatabaseError("database is down")]

    def insert_many(model, objs):
        if failures:
            raise failures.pop()
        return real(model, objs)

    monkeypatch.setattr(statements, "insert_many", insert_many)
    writer = CallLogWriter(batch=10, linger=0.0)
    writer.add(_row(1))
    assert writer.flush(5.0)
    writer.add(_row(2))
    assert writer.flush(5.0)
    assert not failures
    assert list(GatewayCallLog.objects.values_list("endpoint", flat=True)) == ["http://127.0.0.1:2"]


@pytest.mark.django_db(transaction=True)
def test_writer_when_closing_connection_fails_then_thread_keeps_writing(monkeypatch) -> None:
    real = calllog.close_old_connections
    failures = [RuntimeError("connection already broken")]

    def close_old_connections() -> None:
        if failures:
            raise failures.pop()
        real()

    monkeypatch.setattr(calllog, "close_old_connections", close_old_connections)
    writer = CallLogWriter(batch=10, linger=0.0)
    writer.add(_row(1))
    assert writer.flush(5.0)
    writer.add(_row(2))
    assert writer.flush(5.0)
    assert not failures
    assert GatewayCallLog.objects.count() == 2
