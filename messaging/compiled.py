"""ORM querysets built and compiled once, then run with each call's own values.

Building a queryset (filter, select_related, annotate, order_by) and compiling it to SQL
cost the reads of a reconnecting socket more than running them: the conversation list
(seven tables, two subqueries) took ~4.7 ms of Python for a query PostgreSQL answers in
under one, and in a reconnect storm a thousand of them queued in one process
(docs/PERFORMANCE.md, the storm). A ``CompiledQuery`` builds its queryset once per
database (and per ``shape``), with stand-in values (markers) where the call's values go,
compiles it, and for each call runs the same SQL with the call's values put in the
markers' places, through the ORM's own iteration (model instances, select_related,
annotations, values_list, the fields' converters): the rows are the ones the queryset
built for the call would give.

For querysets whose SQL does not depend on the values: scalar filters (no ``__in``
lists, no None). The values are passed as the database takes them (a primary key, not
the instance). What changes the SQL (a limit read from the settings) is the ``shape``:
each shape has its own compiled query. Only ``list`` runs it, so nothing derived from
the compiled query (a count, an exists) can reuse its SQL.
"""

import functools
import itertools

from django.db import connections

# What the compiler sets up while compiling (SQLCompiler.pre_sql_setup, setup_query) and
# then reads while running and iterating.
_COMPILED_STATE = ("select", "klass_info", "annotation_col_map", "col_count", "has_extra_select", "where", "having", "qualify")
_marker_numbers = itertools.count(1)


def _marker(kind):
    n = next(_marker_numbers)
    if kind is int:
        return -(2**62) - 7919 * n  # no id, sequence or count is one of these
    if kind is str:
        return f"\x1fmarker-{n}\x1f"
    raise TypeError(f"no marker for {kind!r}")


class _Template:
    def __init__(self, queryset, markers):
        compiler = queryset.query.get_compiler(using=queryset.db)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.state = {name: getattr(compiler, name) for name in _COMPILED_STATE}
        # (index in params, index in values, the type the ORM gave the value there: on
        # PostgreSQL a big integer field's value is psycopg's Int8, bound as bigint)
        self.places = []
        for index, param in enumerate(self.params):
            for number, marker in enumerate(markers):
                if isinstance(param, type(marker)) and param == marker:
                    self.places.append((index, number, type(param)))
        missing = set(range(len(markers))) - {number for _, number, _ in self.places}
        if missing:
            raise ValueError(f"values {sorted(missing)} do not reach the SQL as parameters: {self.sql}")
        self.queryset = queryset
        self.converters = {}  # (connection, ids of the selected expressions) -> their converters (``_converters``)
        self.composite = {}  # ids of the selected expressions -> whether one is composite

    def params_for(self, values):
        params = list(self.params)
        for index, number, kind in self.places:
            params[index] = kind(values[number])
        return params


def _compiler(query, template, params, using=None, connection=None, elide_empty=True):
    compiler = type(query).get_compiler(query, using, connection, elide_empty)
    compiler.__dict__.update(template.state)
    compiler.as_sql = lambda *args, **kwargs: (template.sql, params)
    compiler.get_converters = functools.partial(_converters, template, compiler)
    compiler.has_composite_fields = functools.partial(_has_composite_fields, template, compiler)
    return compiler


def _has_composite_fields(template, compiler, expressions):
    """``SQLCompiler.has_composite_fields`` (an isinstance test of every selected column on
    every call) once per template and select list."""
    key = tuple(map(id, expressions))
    found = template.composite.get(key)
    if found is None:
        found = template.composite[key] = type(compiler).has_composite_fields(compiler, expressions)
    return found


def _converters(template, compiler, expressions):
    """``SQLCompiler.get_converters`` once per template, select list and database connection:
    for the conversation list's seventy columns, asking each column for its converters on
    every call was an eighth of a reconnecting client's ``sync`` (docs/PERFORMANCE.md, "the
    storm on a held socket"). Per connection, because the backend's converters are methods
    of that connection's ``ops`` (each thread has its own)."""
    key = (compiler.connection, tuple(map(id, expressions)))
    found = template.converters.get(key)
    if found is None:
        found = template.converters[key] = type(compiler).get_converters(compiler, expressions)
    return found


class CompiledQuery:
    """``build(*values, *shape)`` -> the queryset; ``kinds``: the types of the values (int or str)."""

    def __init__(self, build, *kinds):
        self.build = build
        self.kinds = kinds
        self._templates = {}  # (database alias, vendor, shape) -> _Template

    def list(self, *values, shape=()):
        """The rows (whatever the queryset yields: instances, tuples, values) for these values."""
        if len(values) != len(self.kinds):
            raise TypeError(f"expected {len(self.kinds)} values, got {len(values)}")
        template = self._template(shape)
        queryset = template.queryset._chain()
        queryset.query.get_compiler = functools.partial(_compiler, queryset.query, template, template.params_for(values))
        return list(queryset)

    def _template(self, shape):
        connection = connections["default"]
        key = (connection.alias, connection.vendor, shape)
        template = self._templates.get(key)
        if template is None:
            markers = [_marker(kind) for kind in self.kinds]
            template = self._templates[key] = _Template(self.build(*markers, *shape), markers)
        return template
