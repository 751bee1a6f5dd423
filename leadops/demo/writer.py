"""Bulk inserts for the demo world: COPY on PostgreSQL, executemany elsewhere.

Rows arrive as named tuples whose field names are model attnames (generator.py). Going below the ORM is what makes
100,000 leads with their ~1.3 million events take minutes: model instances and per-value field preparation cost
more than the inserts themselves. The writer still reads the model's metadata, so table and column names, and the
defaults of any field it was not given, come from the models and cannot drift from them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from django.core.management.color import no_style
from django.db import connection as default_connection
from django.db import models

Adapter = Callable[[object], object] | None


class _InsertPlan:
    def __init__(self, *, table: str, columns: list[str], adapters: list[Adapter], constants: list):
        self.table = table
        self.columns = columns
        # Only the columns that need converting, so plain values cost nothing per row.
        self.adapted_columns = [(index, adapter) for index, adapter in enumerate(adapters) if adapter is not None]
        self.constants = constants
        self.needs_adapting = bool(self.adapted_columns or constants)


class BulkWriter:
    def __init__(self, connection=default_connection):
        self.connection = connection
        self.counts: Counter[str] = Counter()
        self._plans: dict[tuple, _InsertPlan] = {}

    def write(self, model: type[models.Model], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        plan = self._plan(model, rows[0]._fields)
        if plan.needs_adapting:
            rows = [self._adapt(plan, row) for row in rows]
        if self.connection.vendor == "postgresql":
            self._copy(plan, rows)
        else:
            self._executemany(plan, rows)
        self.counts[model.__name__] += len(rows)

    def prepare(self) -> None:
        """Call inside the seeding transaction, before the first write."""
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                # Django creates foreign keys DEFERRABLE INITIALLY DEFERRED; checking a few million rows at COMMIT
                # queues one trigger event per row in memory, checking them as they arrive does not.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            elif self.connection.vendor == "sqlite":
                # The default 2 MB page cache thrashes while the event indexes grow; 64 MB keeps them in memory.
                cursor.execute("PRAGMA cache_size = -65536")

    def reset_sequences(self, model_list: Sequence[type[models.Model]]) -> None:
        """After inserting explicit ids, move PostgreSQL's id sequences past them (SQLite does this by itself)."""
        statements = self.connection.ops.sequence_reset_sql(no_style(), list(model_list))
        if statements:
            with self.connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

    # --- internals --------------------------------------------------------------------------------------------

    def _plan(self, model: type[models.Model], names: tuple[str, ...]) -> _InsertPlan:
        key = (model, names)
        if key in self._plans:
            return self._plans[key]
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        unknown = [name for name in names if name not in by_attname]
        if unknown:
            raise ValueError(f"{model.__name__} has no column for {', '.join(unknown)}.")
        quote = self.connection.ops.quote_name
        columns = [quote(by_attname[name].column) for name in names]
        adapters = [self._adapter(by_attname[name]) for name in names]
        constants = []
        for field in model._meta.concrete_fields:
            if field.attname in names or field.generated or field.primary_key:
                continue  # given, computed by the database, or an id the database assigns
            if field.has_default() or (field.empty_strings_allowed and not field.null):
                # Columns the generator does not know (added by later work) get what the ORM would insert: the
                # field's default, or "" for text.
                columns.append(quote(field.column))
                adapters.append(None)
                constants.append(self._adapt_value(field, field.get_default()))
            elif not field.null:
                raise ValueError(f"The demo writer must be given {model.__name__}.{field.attname} (no default).")
        plan = _InsertPlan(table=quote(model._meta.db_table), columns=columns, adapters=adapters, constants=constants)
        self._plans[key] = plan
        return plan

    def _adapter(self, field: models.Field) -> Adapter:
        """How to turn one Python value into what the driver takes; None where the driver copes on its own."""
        if isinstance(field, models.JSONField):
            return _json
        vendor = self.connection.vendor
        if vendor == "postgresql":
            return None  # psycopg's COPY adapts datetimes, decimals and booleans itself
        if vendor == "sqlite":
            if isinstance(field, models.DateTimeField) and self.connection.timezone_name == "UTC":
                return _sqlite_datetime
            if isinstance(field, models.DecimalField):
                return _text_or_none
            if not isinstance(field, models.DateField | models.TimeField):
                return None
        # Anything else goes through Django's own preparation: correct everywhere, just slower.
        connection = self.connection
        return lambda value: field.get_db_prep_save(value, connection)

    def _adapt_value(self, field: models.Field, value):
        if self.connection.vendor == "postgresql" and not isinstance(field, models.JSONField):
            return value
        adapter = self._adapter(field)
        return adapter(value) if adapter else value

    @staticmethod
    def _adapt(plan: _InsertPlan, row: tuple) -> list:
        values = list(row)
        for index, adapter in plan.adapted_columns:
            value = values[index]
            if value is not None:
                values[index] = adapter(value)
        values.extend(plan.constants)
        return values

    def _executemany(self, plan: _InsertPlan, rows: Sequence[tuple]) -> None:
        placeholders = ", ".join(["%s"] * len(plan.columns))
        sql = f"INSERT INTO {plan.table} ({', '.join(plan.columns)}) VALUES ({placeholders})"
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _copy(self, plan: _InsertPlan, rows: Sequence[tuple]) -> None:
        sql = f"COPY {plan.table} ({', '.join(plan.columns)}) FROM STDIN"
        with self.connection.cursor() as cursor:
            # cursor.cursor is the psycopg cursor under Django's wrapper; COPY is psycopg's own API.
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)


def _json(value) -> str:
    return json.dumps(value)  # default arguments keep json's cached C encoder: several times faster


def _sqlite_datetime(value: datetime) -> str:
    # What Django's SQLite backend stores for an aware datetime under USE_TZ: naive UTC in ISO format. The
    # generator's datetimes are already in UTC, so dropping the "+00:00" suffix is all that is needed.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ")[:-6]


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)
