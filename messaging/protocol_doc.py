"""docs/PROTOCOL.md's argument tables, generated from messaging/schemas.py.

Each op's section holds a block between ``<!-- args:OP -->`` and ``<!-- /args:OP -->``;
``render_document`` rewrites every block from the op's struct, so the document
cannot drift from what the consumer accepts (``python manage.py protocol_tables``
checks, ``--write`` rewrites; tests/test_schemas.py fails when they differ).
"""

import json
import re
import typing
from pathlib import Path

import msgspec
from msgspec import Meta, Struct

from messaging import schemas

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md"
BLOCK = re.compile(r"<!-- args:(?P<op>\w+) -->\n.*?<!-- /args:(?P=op) -->", re.S)


def render_block(op: str) -> str:
    schema = schemas.OPS[op]
    lines = [f"<!-- args:{op} -->"]
    fields = msgspec.structs.fields(schema)
    if not fields:
        lines.append("Arguments: none (`{}`; a key is refused with 10004).")
    else:
        lines.append("Arguments (a key not listed is refused with 10004):")
        lines.append("")
        lines.extend(_table(schema, ""))
        for prefix, nested in _nested_structs(schema, ""):
            lines.append("")
            lines.append(f"`{prefix}` (object; a key not listed is refused with 10004):")
            lines.append("")
            lines.extend(_table(nested, prefix + "."))
    lines.append(f"<!-- /args:{op} -->")
    return "\n".join(lines)


def render_document(text: str) -> str:
    """``text`` with every args block regenerated; raises if an op has no block."""
    found = set(BLOCK.findall(text))
    missing = set(schemas.OPS) - found
    if missing:
        raise ValueError(f"docs/PROTOCOL.md has no args block for: {', '.join(sorted(missing))}")
    return BLOCK.sub(lambda m: render_block(m.group("op")), text)


def _table(schema, prefix):
    rows = ["| arg | type | default | rules |", "| --- | --- | --- | --- |"]
    hints = typing.get_type_hints(schema, include_extras=True)
    for field in msgspec.structs.fields(schema):
        kind = hints[field.name]
        default = "required" if field.required else _default(field)
        rules = _description(kind)
        code = schemas._meta_code(kind)
        if code is not None:
            rules += f" (a bad value: {code})"
        rows.append(f"| `{field.name}` | {_type_name(kind)} | {default} | {rules} |")
    return rows


def _nested_structs(schema, prefix):
    """(path, struct) for each object-typed field, depth first, each struct once per path."""
    hints = typing.get_type_hints(schema, include_extras=True)
    for field in msgspec.structs.fields(schema):
        struct = schemas._struct_in(hints[field.name])
        if struct is not None and msgspec.structs.fields(struct):
            path = f"{prefix}{field.name}"
            yield path, struct
            yield from _nested_structs(struct, path + ".")


def _default(field):
    value = field.default if field.default is not msgspec.NODEFAULT else field.default_factory()
    if isinstance(value, Struct):
        return "`{}`"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _description(kind) -> str:
    for meta in getattr(kind, "__metadata__", ()):
        if isinstance(meta, Meta) and meta.description:
            return meta.description
    return ""


def _type_name(kind) -> str:
    origin = typing.get_origin(kind)
    if origin is typing.Annotated:
        inner = _type_name(typing.get_args(kind)[0])
        limits = [m for m in typing.get_args(kind)[1:] if isinstance(m, Meta)]
        return inner + "".join(_limits(m) for m in limits)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(arg) for arg in typing.get_args(kind))
    if origin is typing.Literal:
        values = typing.get_args(kind)
        what = "int" if all(isinstance(v, int) for v in values) else "string"
        return f"{what}: " + ", ".join(f"`{json.dumps(v)}`" for v in values)
    if origin is list:
        (item,) = typing.get_args(kind)
        return f"array of {_type_name(item)}"
    if origin is dict or kind is dict:
        return "object"
    if kind is type(None):
        return "null"
    if isinstance(kind, type) and issubclass(kind, Struct):
        return "object"
    return {str: "string", int: "int", bool: "bool"}.get(kind, getattr(kind, "__name__", str(kind)))


def _limits(meta: Meta) -> str:
    parts = []
    if meta.min_length is not None:
        parts.append(f"length ≥ {meta.min_length}")
    if meta.max_length is not None:
        parts.append(f"length ≤ {meta.max_length}")
    if meta.ge is not None:
        parts.append(f"≥ {meta.ge}")
    if meta.lt is not None:
        parts.append(f"< {'2^53' if meta.lt == schemas.MAX_SAFE_INT else '2^31' if meta.lt == 2**31 else meta.lt}")
    return f" ({', '.join(parts)})" if parts else ""
