"""Database helpers shared by the apps."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone


def bulk_update_rows(model, objs, field_names: list[str], *, batch_size: int = 1000) -> int:
    """Write these fields of these objects, like QuerySet.bulk_update, in one UPDATE ... FROM (VALUES ...) per batch.

    Django's bulk_update builds a CASE with one branch per row for every field, which costs seconds for a few
    hundred rows; on PostgreSQL a VALUES list joins in one pass. Fields with auto_now get the current time, as
    save() would give them. Other databases (the SQLite demo) use bulk_update.
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
        return model.objects.bulk_update(objs, field_names, batch_size=batch_size)
    pk = model._meta.pk
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [pk, *fields]
    casts = [f"%s::{column.db_type(connection)}" for column in columns]
    names = ["pk_", *[f"c{i}" for i in range(len(fields))]]
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = v.c{i}" for i, field in enumerate(fields))
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            row = "(" + ", ".join(casts) + ")"
            sql = (
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(batch))}) "
                f"AS v({', '.join(names)}) WHERE {table}.{connection.ops.quote_name(pk.column)} = v.pk_"
            )
            params = []
            for obj in batch:
                params.extend(column.get_db_prep_save(getattr(obj, column.attname), connection) for column in columns)
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated
