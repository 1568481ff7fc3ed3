"""The ledger's hottest statements, compiled once and then only executed.

Every payment runs one ``INSERT`` (its ``CREATED`` row) and one compare-and-set
``UPDATE`` (``CREATED`` → ``PENDING``). Compiling a queryset to SQL costs several times
what running it costs (the acknowledgement: 0.18 ms of CPU through the ORM, 0.03 ms as
a prepared statement, SQLite; docs/BENCHMARKS.md "Issue 11"), and these two never change
shape. So Django's own compiler builds each once per database and column set (its
quoting, placeholders and vendor rules); later calls only adapt their values with each
field's own ``get_db_prep_save`` and execute.

A compiled statement is kept only after it produced, for a real call, exactly the SQL
and parameters the ORM produced. Any difference, or a failure to compile (another
backend, another Django version), leaves that shape on the ORM for good: this module
can make a write cheaper, never different. :func:`insert` runs compiled only while no
``pre_save``/``post_save`` receiver listens to the model, so model signals behave as with
``save()``; :func:`compare_and_set` sends none, like ``QuerySet.update``, and
:func:`insert_many` none, like ``bulk_create`` (it writes the batched gateway call log).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

from django.db import connections, router, transaction
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery, UpdateQuery

__all__ = ["compare_and_set", "compiled", "insert", "insert_many"]

logger = logging.getLogger("phonepe_gateway.django")

#: (kind, database alias, model label, columns) -> SQL, or None: that shape stays on the ORM
_SQL: dict[tuple[str, str, str, tuple[str, ...]], str | None] = {}
_LOCK = threading.Lock()


def compiled() -> dict[tuple[str, str, str, tuple[str, ...]], bool]:
    """Which statement shapes run compiled (True) or on the ORM (False) in this process."""
    with _LOCK:
        return {key: sql is not None for key, sql in _SQL.items()}


def _remember(key: tuple[str, str, str, tuple[str, ...]], sql: str | None, why: str) -> None:
    with _LOCK:
        _SQL.setdefault(key, sql)
    if sql is None:
        logger.info("statement %s stays on the ORM: %s", key[:3], why)


def compare_and_set(
    model: type[Model], pk: Any, field: str, expected: Any, values: dict[str, Any]
) -> int:
    """``model.objects.filter(pk=pk, **{field: expected}).update(**values)``: the number
    of rows changed (0 when ``field`` no longer holds ``expected``)."""
    alias = router.db_for_write(model)
    if any(hasattr(v, "resolve_expression") for v in values.values()):
        # an expression (F(), Now()) is SQL, not a parameter: the ORM's job
        return _orm_update(model, alias, pk, field, expected, values)
    connection = connections[alias]
    meta = model._meta
    key = ("update", alias, meta.label, (field, *values))
    params = [_field(model, n).get_db_prep_save(v, connection) for n, v in values.items()]
    params += [
        meta.pk.get_db_prep_value(meta.pk.get_prep_value(pk), connection, prepared=True),
        _field(model, field).get_db_prep_value(expected, connection),
    ]
    sql = _SQL.get(key)
    if sql is None and key not in _SQL:
        sql = _compile_update(model, alias, key, pk, field, expected, values, params)
    if sql is None:
        return _orm_update(model, alias, pk, field, expected, values)
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _orm_update(
    model: type[Model], alias: str, pk: Any, field: str, expected: Any, values: dict[str, Any]
) -> int:
    return int(_matching(model, alias, pk, field, expected).update(**values))


def _matching(model: type[Model], alias: str, pk: Any, field: str, expected: Any) -> Any:
    return model._default_manager.using(alias).filter(pk=pk, **{field: expected})


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", model._meta.get_field(name))


def _compile_update(
    model: type[Model],
    alias: str,
    key: tuple[str, str, str, tuple[str, ...]],
    pk: Any,
    field: str,
    expected: Any,
    values: dict[str, Any],
    params: list[Any],
) -> str | None:
    try:
        queryset = _matching(model, alias, pk, field, expected)
        query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
        query.add_update_values(values)
        compiler = query.get_compiler(alias)
        compiler.pre_sql_setup()
        sql, orm_params = compiler.as_sql()
    except Exception as exc:  # an optimisation only: the ORM path stays correct
        _remember(key, None, f"{type(exc).__name__}: {exc}")
        return None
    if not _same(params, list(orm_params)):
        _remember(key, None, "its parameters differ from the ORM's")
        return None
    _remember(key, sql, "")
    return str(sql)


def insert(obj: Model) -> None:
    """``obj.save(force_insert=True)`` for a new row of a single-table model whose related
    objects (if any) are saved already: sets the primary key and ``_state`` like ``save``."""
    model = type(obj)
    meta = model._meta
    pk = meta.pk
    if (
        pk is None
        or meta.parents
        or getattr(obj, pk.attname) is not None
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        obj.save(force_insert=True)
        return
    alias = router.db_for_write(model, instance=obj)
    connection = connections[alias]
    fields = [f for f in meta.local_concrete_fields if f is not pk and not f.generated]
    key = ("insert", alias, meta.label, tuple(str(f.column) for f in fields))
    sql = _SQL.get(key)
    if sql is not None:
        params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    elif key in _SQL:
        obj.save(force_insert=True, using=alias)
        return
    else:
        compiled_sql = _compile_insert(obj, alias, key, fields)
        if compiled_sql is None:
            obj.save(force_insert=True, using=alias)
            return
        sql, params = compiled_sql
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        (new_pk,) = cursor.fetchone()
    setattr(obj, pk.attname, new_pk)
    obj._state.db = alias
    obj._state.adding = False


def insert_many(model: type[Model], objs: list[Model]) -> None:
    """``model.objects.bulk_create(objs)`` for new rows of a single-table model whose new
    keys nobody reads (the objects keep ``pk=None``): one single-row ``INSERT`` compiled
    once and run with ``executemany`` in one transaction, all rows or none.

    The ORM compiles a many-row ``INSERT`` value by value on every call (~0.1 ms a row for
    the gateway call log, docs/BENCHMARKS.md); the compiled statement only adapts values.
    """
    if not objs:
        return
    meta = model._meta
    pk = meta.pk
    alias = router.db_for_write(model)
    if pk is None or meta.parents or any(getattr(o, pk.attname) is not None for o in objs):
        model._default_manager.using(alias).bulk_create(objs)
        return
    connection = connections[alias]
    fields = [f for f in meta.local_concrete_fields if f is not pk and not f.generated]
    key = ("insert_many", alias, meta.label, tuple(str(f.column) for f in fields))
    sql = _SQL.get(key)
    if sql is None and key not in _SQL:
        sql = _compile_plain_insert(objs[0], alias, key, fields)
    if sql is None:
        model._default_manager.using(alias).bulk_create(objs)
        return
    rows = [[f.get_db_prep_save(f.pre_save(o, True), connection) for f in fields] for o in objs]
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _compile_plain_insert(
    obj: Model, alias: str, key: tuple[str, str, str, tuple[str, ...]], fields: list[Any]
) -> str | None:
    """The single-row INSERT (nothing returned) of ``obj``, if its parameters are the ORM's."""
    try:
        query = InsertQuery(type(obj))
        query.insert_values(fields, [obj])
        statements = query.get_compiler(alias).as_sql()  # runs each field's pre_save on obj
    except Exception as exc:  # an optimisation only: the ORM path stays correct
        _remember(key, None, f"{type(exc).__name__}: {exc}")
        return None
    if len(statements) != 1:
        _remember(key, None, "the ORM writes it in more than one statement")
        return None
    ((sql, orm_params),) = statements
    connection = connections[alias]
    params = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    if not _same(params, list(orm_params)):
        _remember(key, None, "its parameters differ from the ORM's")
        return None
    _remember(key, sql, "")
    return str(sql)


def _compile_insert(
    obj: Model, alias: str, key: tuple[str, str, str, tuple[str, ...]], fields: list[Any]
) -> tuple[str, list[Any]] | None:
    """The INSERT's SQL and this call's parameters, if they are exactly the ORM's."""
    model = type(obj)
    connection = connections[alias]
    if not connection.features.can_return_columns_from_insert:
        _remember(key, None, "the database cannot return the new key from the INSERT")
        return None
    try:
        query = InsertQuery(model)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(alias)
        compiler.returning_fields = [model._meta.pk]
        statements = compiler.as_sql()  # runs each field's pre_save (timestamps) on obj
        returning = tuple(getattr(compiler, "returning_params", ()))
    except Exception as exc:  # an optimisation only: the ORM path stays correct
        _remember(key, None, f"{type(exc).__name__}: {exc}")
        return None
    if len(statements) != 1 or returning:
        _remember(key, None, "the ORM writes it in more than one statement")
        return None
    ((sql, orm_params),) = statements
    # What later calls compute (pre_save has run once, so the values are obj's now).
    params = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    if not _same(params, list(orm_params)):
        _remember(key, None, "its parameters differ from the ORM's")
        return None
    _remember(key, sql, "")
    return str(sql), params


def _same(ours: list[Any], theirs: list[Any]) -> bool:
    """Equal parameter lists; adapters without equality (psycopg's ``Jsonb``) are equal
    when they are of one type and wrap equal values."""
    if len(ours) != len(theirs):
        return False
    for a, b in zip(ours, theirs, strict=True):
        if type(a) is not type(b):
            return False
        if a != b and not (hasattr(a, "obj") and a.obj == b.obj):
            return False
    return True
