"""`pk__any_of=[...]`: membership in a list of ids, sent as one array parameter on PostgreSQL.

`pk__in` sends one parameter per id: a batch of a few thousand leads costs thousands of placeholders to build,
quote and parse, in every statement of the batch. `= ANY(%s)` sends the list once and uses the primary key index
just the same. Other databases (the SQLite demo) get the ordinary IN list. The list may be a `Deferred`, filled
in when a compiled statement runs.
"""

from __future__ import annotations

import json

from django.db.models import AutoField, BigAutoField, ForeignKey, Lookup

from leadops.db import Deferred

# Ids are 64-bit: a larger number can match no row, and sent to the database it would fail the whole statement.
ID_RANGE = range(-(2**63), 2**63)


def _ids(values) -> list[int]:
    return [i for i in (int(value) for value in values) if i in ID_RANGE]


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if isinstance(self.rhs, Deferred):  # ids known only when the compiled statement runs
            compute = self.rhs.compute
            if connection.vendor == "postgresql":
                return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, Deferred(lambda c: _ids(compute(c)))]
            ids_json = Deferred(lambda c: json.dumps(_ids(compute(c))))
            return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, ids_json]
        ids = _ids(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, ids]
        if not ids:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]


def register() -> None:
    # ForeignKey covers tables keyed by their lead (a one-to-one primary key) and lead_id columns.
    for field_class in (AutoField, BigAutoField, ForeignKey):
        field_class.register_lookup(AnyOf)
