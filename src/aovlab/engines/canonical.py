"""A table written by someone else, seen with the canonical columns and types.

Tables in PostgreSQL, in a Spark catalog or in a pipeline's Parquet files may leave out
nullable columns or store a column in a near type (``numeric`` money, ``int`` units). Every
engine reads them through :func:`canonical`, so the metrics see one shape everywhere: a
missing nullable column is its default (0 for money) or NULL, a near type is cast.
"""

from __future__ import annotations

import ibis

from .. import schema

#: DuckDB column types (schema.tables) as Ibis types.
IBIS_TYPES = {"VARCHAR": "string", "DOUBLE": "float64", "BIGINT": "int64", "INTEGER": "int32",
              "DATE": "date", "TIMESTAMPTZ": "timestamp('UTC')"}


def ibis_type(duck_type: str):
    return ibis.dtype(IBIS_TYPES[duck_type])


def default_value(sql_default: str) -> object:
    """A column default as the schema declares it (a SQL literal) as a Python value."""
    text = sql_default.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    try:
        return int(text)
    except ValueError:
        return float(text)


def canonical(t, table: schema.Table):
    """``t`` (an Ibis table) with exactly ``table``'s columns, in order and type."""
    have = set(t.columns)
    cols = {}
    for c in table.columns:
        want = ibis_type(c.type)
        if c.name in have:
            col = t[c.name]
            # the kind decides (nullability and a time zone's spelling do not): numeric
            # money or int32 units are cast, a Spark timestamp is left as it is
            cols[c.name] = col if type(col.type()) is type(want) else col.cast(want)
        elif c.default is not None:
            cols[c.name] = ibis.literal(default_value(c.default), type=want)
        else:
            cols[c.name] = ibis.null(want)
    return t.select(**cols)
