"""Hand-written SELECTs of whole model rows, their SQL written once.

For the reads on the send path only: there, building and compiling the ORM's query
(select_related joins, EXISTS subqueries) cost more of a loaded Daphne's time than
running it (docs/PERFORMANCE.md, "Issue #10: the ORM's compile on the send path").
Each query's SQL is a constant; a row is turned into model instances with the
converters the ORM would apply (SQLite's datetimes, JSON fields), so the instances are
the ones the ORM would give.
"""

import functools

from django.db import connection
from django.db.models.expressions import Col


class Columns:
    """The columns of ``model`` (every concrete field, in order) under a table alias."""

    def __init__(self, model, alias: str):
        self.model = model
        self.alias = alias
        self.fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in self.fields]
        self.pk_index = self.fields.index(model._meta.pk)

    def sql(self) -> str:
        return ", ".join(f"{self.alias}.{connection.ops.quote_name(field.column)}" for field in self.fields)

    def __len__(self):
        return len(self.fields)

    def build(self, values):
        """The instance of these column values, or None when the row had none (a LEFT JOIN)."""
        if values[self.pk_index] is None:
            return None
        values = list(values)
        for index, converters, col in _converters(self, connection.vendor):
            value = values[index]
            for converter in converters:
                value = converter(value, col, connection)
            values[index] = value
        return self.model.from_db(connection.alias, self.attnames, values)


@functools.cache
def _converters(columns: Columns, vendor: str):
    """(index, converters, column) of the fields whose database values need converting."""
    found = []
    for index, field in enumerate(columns.fields):
        col = Col(columns.alias, field)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if converters:
            found.append((index, converters, col))
    return found


def fetch_one(sql: str, params, *parts: Columns):
    """Run ``sql`` and return its first row as instances, one per part (the parts' columns
    first, in order), followed by the row's remaining values; None when there is no row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    found, start = [], 0
    for part in parts:
        found.append(part.build(row[start : start + len(part)]))
        start += len(part)
    return (*found, *row[start:])
