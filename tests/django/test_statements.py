"""The ledger's compiled statements write exactly what the ORM writes, on every database
the suite runs on (SQLite here, PostgreSQL in the postgres stage, Django 5.2 and 6 in the
matrix), and step aside whenever the ORM must do the work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.utils import timezone

from phonepe_gateway.django import services, statements
from phonepe_gateway.django.models import GatewayCallLog, IdempotencyRecord, Payment, WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)

METADATA = {"plate": "MH12AB1234", "note": "नमस्ते ₹", "nested": {"n": [1, 2.5, None, True]}}


def _fields(order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "merchant_order_id": order_id,
        "amount": 12_345,
        "reference": "ticket:42",
        "metadata": METADATA,
        "instrument": "UPI_QR",
        "state": "CREATED",
        "next_check_at": timezone.now() + timedelta(seconds=21),
        **extra,
    }


def _stored(order_id: str) -> dict[str, Any]:
    row = Payment.objects.filter(merchant_order_id=order_id).values().get()
    return {k: v for k, v in row.items() if k not in ("id", "merchant_order_id")}


def test_insert_when_new_payment_then_same_row_as_orm_and_compiled() -> None:
    Payment.objects.create(**_fields("ORM-1"))
    for n in range(3):  # the first call compiles and checks, the others only execute
        payment = Payment(**_fields(f"FAST-{n}"))
        statements.insert(payment)
        assert payment.pk is not None
        assert not payment._state.adding
        assert payment._state.db == "default"
        assert Payment.objects.get(pk=payment.pk).merchant_order_id == f"FAST-{n}"
        orm, fast = _stored("ORM-1"), _stored(f"FAST-{n}")
        for stamp in ("created_at", "updated_at", "next_check_at"):
            assert abs(orm.pop(stamp) - fast.pop(stamp)) < timedelta(seconds=5)
        assert fast == orm
        assert fast["metadata"] == METADATA
    assert payment.created_at is not None
    assert payment.updated_at is not None
    kinds = {
        key[0]: ok for key, ok in statements.compiled().items() if key[2] == Payment._meta.label
    }
    assert kinds.get("insert") is True


def test_insert_when_order_id_taken_then_integrity_error_and_nothing_written() -> None:
    statements.insert(Payment(**_fields("TAKEN")))
    with pytest.raises(IntegrityError):
        statements.insert(Payment(**_fields("TAKEN", amount=1)))
    assert Payment.objects.filter(merchant_order_id="TAKEN").count() == 1
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            statements.insert(Payment(**_fields("TAKEN", amount=2)))
        # as with the ORM, the failed statement leaves the atomic block needing a rollback
        assert transaction.get_connection().needs_rollback
        transaction.set_rollback(True)


def test_insert_when_model_signal_listens_then_orm_save_sends_it() -> None:
    seen: list[tuple[str, bool]] = []

    def receiver(sender: type, instance: Payment, created: bool, **kwargs: Any) -> None:
        seen.append((instance.merchant_order_id, created))

    post_save.connect(receiver, sender=Payment, dispatch_uid="test-statements")
    try:
        statements.insert(Payment(**_fields("SIGNALLED")))
    finally:
        post_save.disconnect(dispatch_uid="test-statements", sender=Payment)
    assert seen == [("SIGNALLED", True)]


def test_compare_and_set_when_expected_state_then_one_row_else_none() -> None:
    first, second = (
        Payment.objects.create(**_fields("CAS-1")),
        Payment.objects.create(**_fields("CAS-2")),
    )
    now = timezone.now()
    values = {"state": "PENDING", "updated_at": now, "checkout_url": "https://pay.example/x"}
    assert statements.compare_and_set(Payment, first.pk, "state", "CREATED", values) == 1
    assert statements.compare_and_set(Payment, first.pk, "state", "CREATED", values) == 0
    assert statements.compare_and_set(Payment, second.pk, "state", "CREATED", values) == 1
    for payment in (first, second):
        payment.refresh_from_db()
        assert payment.state == "PENDING"
        assert payment.checkout_url == "https://pay.example/x"
        assert abs(payment.updated_at - now) < timedelta(milliseconds=1)
    other = Payment.objects.get(pk=Payment.objects.create(**_fields("CAS-3")).pk)
    assert other.state == "CREATED"  # only the named row moved
    keys = [k for k, ok in statements.compiled().items() if k[0] == "update" and ok]
    assert ("state", "state", "updated_at", "checkout_url") in [k[3] for k in keys]


def test_compare_and_set_when_expression_then_orm_applies_it() -> None:
    payment = Payment.objects.create(**_fields("EXPR", check_count=2))
    # The same column set compiled first with a plain value: an expression must still not
    # be bound as a parameter of that statement.
    assert statements.compare_and_set(Payment, payment.pk, "state", "CREATED", {"check_count": 5})
    changed = statements.compare_and_set(
        Payment, payment.pk, "state", "CREATED", {"check_count": F("check_count") + 1}
    )
    assert changed == 1
    payment.refresh_from_db()
    assert payment.check_count == 6


def test_services_create_when_called_then_runs_both_compiled_statements(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=1000)
    assert payment.state == "PENDING"
    stored = Payment.objects.get(pk=payment.pk)
    assert stored.state == "PENDING"
    assert stored.checkout_url
    used = {k[0] for k, ok in statements.compiled().items() if ok and k[2] == Payment._meta.label}
    assert used == {"insert", "update"}


def _row(model: type, pk: int, skip: tuple[str, ...]) -> dict[str, Any]:
    row = model.objects.filter(pk=pk).values().get()
    return {k: v for k, v in row.items() if k not in ("id", *skip)}


@pytest.mark.parametrize(
    ("model", "unique", "values", "stamps"),
    [
        (
            WebhookEvent,
            "dedupe_key",
            {
                "body": '{"event": "checkout.order.completed"}',
                "headers": {"content-type": "application/json"},
                "event": "checkout.order.completed",
                "merchant_order_id": "MO-1",
                "amount": 2**62,
                "verified": True,
            },
            ("received_at",),
        ),
        (
            IdempotencyRecord,
            "key",
            {"scope": "POST /payments key:ab12", "request_fingerprint": "f" * 64},
            ("created_at", "claimed_at"),
        ),
    ],
)
def test_insert_when_inbox_or_idempotency_row_then_same_as_orm_and_compiled(
    model: type, unique: str, values: dict[str, Any], stamps: tuple[str, ...]
) -> None:
    """The webhook acknowledgement's and the Idempotency-Key claim's one write."""
    now = timezone.now()
    extra = {"claimed_at": now} if model is IdempotencyRecord else {}
    orm = model.objects.create(**{unique: "orm"}, **values, **extra)
    for n in range(2):
        fast = model(**{unique: f"fast-{n}"}, **values, **extra)
        statements.insert(fast)
        assert _row(model, fast.pk, (unique, *stamps)) == _row(model, orm.pk, (unique, *stamps))
    compiled = {k: ok for k, ok in statements.compiled().items() if k[0] == "insert"}
    assert [ok for k, ok in compiled.items() if k[2] == model._meta.label] == [True]


def _log(n: int, **extra: Any) -> GatewayCallLog:
    fields: dict[str, Any] = {
        "call": "order_status",
        "endpoint": f"http://127.0.0.1:{n}",
        "status": 200 if n % 2 else None,
        "outcome": "ok",
        "duration_ms": 1.25 * n,
        "attempt": 1 + n % 3,
        **extra,
    }
    return GatewayCallLog(**fields)


def test_insert_many_when_rows_then_same_rows_as_bulk_create_and_compiled() -> None:
    GatewayCallLog.objects.bulk_create([_log(n) for n in range(5)])
    for _ in range(2):  # the first call compiles and checks, the second only executes
        statements.insert_many(GatewayCallLog, [_log(n, call="fast") for n in range(5)])
    orm = list(GatewayCallLog.objects.exclude(call="fast").order_by("id").values())
    fast = list(GatewayCallLog.objects.filter(call="fast").order_by("id").values())
    assert len(fast) == 10
    for a, b in zip([dict(r) for r in orm * 2], fast, strict=True):
        assert abs(a.pop("created_at") - b.pop("created_at")) < timedelta(seconds=5)
        a.pop("id"), b.pop("id"), a.pop("call"), b.pop("call")
        assert a == b
    kinds = {
        key[0]: ok
        for key, ok in statements.compiled().items()
        if key[2] == GatewayCallLog._meta.label
    }
    assert kinds.get("insert_many") is True


def test_insert_many_when_one_row_is_refused_then_no_row_is_written() -> None:
    rows = [_log(1), _log(2, call=None), _log(3)]  # call is NOT NULL
    with pytest.raises(IntegrityError):
        statements.insert_many(GatewayCallLog, rows)
    assert GatewayCallLog.objects.count() == 0


def test_insert_many_when_a_row_has_a_key_already_then_the_orm_writes_them() -> None:
    row = _log(1)
    row.pk = 424_242
    statements.insert_many(GatewayCallLog, [row, _log(2)])
    assert GatewayCallLog.objects.filter(pk=424_242).exists()
    assert GatewayCallLog.objects.count() == 2
