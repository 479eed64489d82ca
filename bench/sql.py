"""The benchmark loaders' INSERT ... SELECT FROM generate_series: millions of rows in one
statement (tests/test_write_path.py allows these loaders by name)."""

from django.db import connection


def generated_columns(model, known: dict, params: dict) -> tuple[list, list]:
    """(quoted columns, SELECT expressions) of every concrete column of ``model`` but the
    primary key: ``known`` gives a column's SQL expression (over the series' ``g``);
    any other column takes its field default, added to ``params``. A column with
    neither (a new NOT NULL field without a default) stops the loader, so a model
    change cannot make it write wrong rows."""
    columns, exprs = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in known:
            exprs.append(known[field.column])
            continue
        default = field.get_default()
        if default is None and not field.null:
            raise RuntimeError(f"the loader does not know how to fill {model.__name__}.{field.name}: add it to `known`")
        params[f"d_{field.column}"] = field.get_db_prep_save(default, connection)
        exprs.append(f"%(d_{field.column})s")
    return columns, exprs
