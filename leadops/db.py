"""Database helpers shared by the apps: many rows written in one statement.

On PostgreSQL a batch travels as one JSON document that `jsonb_to_recordset` turns back into typed rows: one
parameter to quote and one string to parse, where Django's bulk_create and bulk_update build per-row objects and
per-cell parameters (bulk_update a CASE with one branch per row for every field, which costs seconds for a few
hundred rows) and psycopg quotes array parameters element by element in Python. Other databases (the SQLite demo)
take Django's bulk_create and bulk_update, which give the same result.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Expression, Func, TextField
from django.utils import timezone


class Deferred:
    """A query parameter worked out when a compiled statement runs, from that run's context (a dict).

    Compiling a large Django expression costs tens of milliseconds; a statement run many times a second with
    different values (a reference time, a batch of ids) is compiled once with Deferred parameters in its params
    and `with_context` fills them in for each run.
    """

    __slots__ = ("compute",)

    def __init__(self, compute):
        self.compute = compute

    @staticmethod
    def with_context(params, context: dict) -> list:
        return [p.compute(context) if isinstance(p, Deferred) else p for p in params]


class DeferredValue(Expression):
    """An expression that compiles to a placeholder whose value `compute(context)` gives at run time, prepared
    for the database as its output field prepares values."""

    def __init__(self, compute, output_field):
        super().__init__(output_field=output_field)
        self.compute = compute

    def as_sql(self, compiler, connection):
        field, compute = self.output_field, self.compute
        return "%s", [Deferred(lambda context: field.get_db_prep_value(compute(context), connection))]


def _json_value(value):
    # Exact forms the database parses back to the same value (DjangoJSONEncoder would cut microseconds).
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} in a batch")


def _recordset(fields, rows) -> tuple[str, list]:
    """`jsonb_to_recordset(%s::jsonb) AS v(c0 type, ...)` for these fields, and its one parameter."""
    columns = ", ".join(f"c{i} {field.db_type(connection)}" for i, field in enumerate(fields))
    names = [f"c{i}" for i in range(len(fields))]
    document = json.dumps([dict(zip(names, row, strict=True)) for row in rows], default=_json_value)
    return f"jsonb_to_recordset(%s::jsonb) AS v({columns})", [document]


def rows_insert(model, field_names: list[str], rows: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """INSERT rows (tuples of values in `field_names` order) in one statement; with `ignore_conflicts` a row that
    would break a unique constraint is skipped, as bulk_create(ignore_conflicts=True) does."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    # Columns not given are filled as bulk_create fills them: auto_now(_add) with the time, others with their
    # default.
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field in fields or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            fill = [now] * len(rows)
        elif field.has_default():
            fill = [field.get_default() for _ in rows]
        else:
            continue
        fields.append(field)
        rows = [(*row, value) for row, value in zip(rows, fill, strict=True)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**{f.attname: value for f, value in zip(fields, row, strict=True)}) for row in rows],
            batch_size=1000,
            ignore_conflicts=ignore_conflicts,
        )
        return
    source, params = _recordset(fields, rows)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(f'v.c{i}' for i in range(len(fields)))} FROM {source}"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def bulk_update_rows(model, objs, field_names: list[str], *, batch_size: int = 5000) -> int:
    """Write these fields of these objects, like QuerySet.bulk_update, in one UPDATE ... FROM per batch.

    Fields with auto_now get the current time, as save() would give them.
    """
    objs = list(objs)
    if not objs:
        return 0
    fields = [model._meta.get_field(name) for name in field_names]
    now = timezone.now()
    for field in fields:
        if getattr(field, "auto_now", False):
            for obj in objs:
                setattr(obj, field.attname, now)
    if connection.vendor != "postgresql":
        return model.objects.bulk_update(objs, field_names, batch_size=1000)
    pk = model._meta.pk
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    # c0 is the primary key; the fields follow as c1, c2, ...
    assignments = ", ".join(f"{quote(field.column)} = v.c{i}" for i, field in enumerate(fields, start=1))
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            rows = [tuple(getattr(obj, field.attname) for field in [pk, *fields]) for obj in batch]
            source, params = _recordset([pk, *fields], rows)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {source} WHERE {table}.{quote(pk.column)} = v.c0", params
            )
            updated += cursor.rowcount
    return updated


# --- lower case that means the same in Python and in every database ----------------------------------------------


class Fold(Func):
    """Lower-cased text, exactly as Python's `str.lower()` computes it, whatever the database or its locale.

    Plain LOWER follows the database: SQLite and a PostgreSQL cluster in the C locale lower-case ASCII only, so
    'ÉNERGIE' stays 'Énergie' there while Python makes it 'énergie', and a rule on "énergie" would match in one
    place and not the other. PostgreSQL lower-cases with ICU's root collation (Unicode rules, independent of the
    cluster's locale); SQLite calls Python's own `str.lower`, registered on every connection.
    """

    function = "LOWER"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template='LOWER((%(expressions)s) COLLATE "und-x-icu")')

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function=SQLITE_FOLD_FUNCTION)


SQLITE_FOLD_FUNCTION = "LEADOPS_FOLD"


def _python_lower(value):
    return value.lower() if isinstance(value, str) else value


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """connection_created receiver: what Fold needs on SQLite."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FOLD_FUNCTION, 1, _python_lower, deterministic=True)
