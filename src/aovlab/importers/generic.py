"""Generic CSV/Parquet (and in-memory frames) with a column mapping.

A mapping says which source column feeds which canonical column, whether each row is an
order or an order line, and how to read dates and statuses. As a TOML file::

    kind = "lines"            # "orders": one row per order; "lines": one row per line
    timezone = "Europe/Berlin"  # for timestamps written without an offset
    currency = "EUR"          # used when no currency column is mapped
    date_format = "%d.%m.%Y %H:%M"   # optional strptime format

    [columns]                 # canonical name = source column
    order_id = "Order"
    created_at = "Date"
    quantity = "Qty"
    unit_price = "Price"

    [status]                  # source value = canonical status
    paid = "placed"
    voided = "cancelled"

Columns not mapped but named exactly like a canonical column are used as they are, so a
frame already in canonical shape needs no mapping at all.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import schema
from ..errors import InputError, Location, MappingError
from ..storage import StagingContext
from .base import Importer, option, register
from .reading import (
    check_timezone,
    checked_cast,
    quote_ident,
    read_raw_many,
    sql_str,
    timestamp_columns,
)

ORDER_LEVEL = ("customer_id", "channel", "country", "region", "city", "device", "currency",
               "status", "coupon")
MONEY = ("gross_sales", "discounts", "shipping", "tax", "returns", "total", "cost")
LINE_LEVEL = ("line_type", "product_id", "name", "category", "quantity", "unit_price",
              "unit_cost", "line_discount")
KNOWN = {"order_id", "created_at", "units", *ORDER_LEVEL, *MONEY, *LINE_LEVEL}
OPTIONS = {"kind", "timezone", "currency", "date_format", "columns", "status", "source"}


def load_mapping(mapping: str | Path | Mapping | None) -> dict:
    """Read and check a mapping (TOML file path or dict); ``None`` means identity."""
    if mapping is None:
        data: dict = {}
    elif isinstance(mapping, Mapping):
        data = dict(mapping)
        where = "mapping"
    else:
        p = Path(mapping)
        where = str(p)
        if not p.exists():
            raise MappingError(f"mapping file {p} does not exist",
                               fix="pass --mapping path/to/mapping.toml (see docs/importers.md)")
        if p.is_dir():
            raise MappingError(f"mapping {p} is a folder, not a file",
                               fix="pass --mapping path/to/mapping.toml (see docs/importers.md)")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise MappingError(f"mapping file {p} is not valid TOML: {exc}",
                               fix="see the example in docs/importers.md") from exc
        except OSError as exc:
            raise MappingError(f"mapping file {p} cannot be read: {exc.strerror}",
                               fix="check the path and the file's permissions") from exc
    if mapping is not None:
        unknown = set(data) - OPTIONS
        if unknown:
            raise MappingError(f"{where}: unknown setting(s) {sorted(unknown)}",
                               fix=f"use only {sorted(OPTIONS)}")
        bad_cols = set(data.get("columns", {})) - KNOWN
        if bad_cols:
            raise MappingError(f"{where}: unknown canonical column(s) {sorted(bad_cols)}",
                               fix=f"map onto {sorted(KNOWN)}")
        bad_status = {v for v in data.get("status", {}).values() if v not in schema.STATUSES}
        if bad_status:
            raise MappingError(f"{where}: status mapped to {sorted(bad_status)}",
                               fix=f"map statuses onto {', '.join(schema.STATUSES)}")
    data.setdefault("kind", "orders")
    if data["kind"] not in ("orders", "lines"):
        raise MappingError(f"kind must be 'orders' or 'lines', not {data['kind']!r}",
                           fix="set kind = \"orders\" (one row per order) or \"lines\"")
    data.setdefault("timezone", "UTC")
    data.setdefault("columns", {})
    data.setdefault("status", {})
    data.setdefault("source", "generic")
    return data


@dataclass(frozen=True)
class GenericOptions:
    mapping: str | Path | Mapping | None = option(
        "Column-mapping TOML file (generic format; see docs/importers.md).")
    currency: str | None = option("Currency for files without a currency column (ISO code).")
    timezone: str | None = option(
        "Store time zone for timestamps written without an offset (IANA name).")
    #: A relation already registered on the connection (frames); not a CLI option.
    relation: str | None = option("Registered relation to read instead of files.", cli=False)


@dataclass
class _Found:
    path: str
    mapping: dict
    src: dict[str, str]  # canonical column -> source column


@register
class Generic(Importer):
    name = "generic"
    help = "Any CSV/Parquet of orders or order lines, with a column-mapping file (--mapping)."
    reads = "one or more files"
    aliases = ("csv", "parquet")
    Options = GenericOptions

    def read(self, ctx: StagingContext, paths: list[str], opts: GenericOptions) -> _Found:
        m = load_mapping(opts.mapping)
        if opts.currency is not None:
            m["currency"] = opts.currency
        if opts.timezone is not None:
            m["timezone"] = opts.timezone
        path = ", ".join(paths)
        ctx.progress("reading")
        if opts.relation is None:
            cols = read_raw_many(ctx.con, paths, "generic")
        else:  # an Arrow/pandas/polars frame registered by aovlab.importers.frames
            ctx.execute(f"CREATE OR REPLACE TEMP TABLE raw_generic AS SELECT {sql_str(path)} "
                        f"AS _file, CAST(row_number() OVER () AS BIGINT) AS _row, * "
                        f"FROM {opts.relation}")
            cols = [c for c in (r[0] for r in ctx.execute("DESCRIBE raw_generic").fetchall())
                    if c not in ("_file", "_row")]
            if ctx.count("raw_generic") == 0:
                raise InputError("has no rows", Location(path), fix="pass a frame with data")
        ctx.summary.rows_read = ctx.count("raw_generic")
        return _Found(path, m, _source_columns(cols, m, path))

    def check(self, ctx: StagingContext, found: _Found, opts: GenericOptions) -> None:
        m, src, path = found.mapping, found.src, found.path
        check_timezone(ctx.con, m["timezone"], path)
        if "currency" not in src and not m.get("currency"):
            raise InputError("no currency column and no currency setting",
                             Location(path, None, "currency"),
                             fix="add currency = \"EUR\" (your store's currency) to the mapping")
        typed = _typed_columns(ctx, found)
        select = ", ".join(f"{expr} AS {name}" for name, expr in typed.items())
        ctx.execute(f"CREATE OR REPLACE TEMP TABLE raw_generic_typed AS "
                    f"SELECT _file, _row, {select} FROM raw_generic")
        # Signs and sizes are the schema's one policy, checked on the staged rows.

    def default_source(self, found: _Found, opts: GenericOptions) -> str:
        return found.mapping["source"]  # the mapping's, "generic" unless it names one

    def build(self, ctx: StagingContext, found: _Found, opts: GenericOptions) -> None:
        if found.mapping["kind"] == "orders":
            ctx.emit("orders", _ORDERS)
        else:
            ctx.emit("order_lines", _LINES)
            ctx.emit("orders", _LINE_ORDERS.format(first=_FIRST))


def _source_columns(cols: list[str], m: dict, path: str) -> dict[str, str]:
    """Canonical column -> source column: the mapping's, then same-named columns."""
    src: dict[str, str] = {c: c for c in cols if c in KNOWN}
    for canon, source_col in m["columns"].items():
        if source_col not in cols:
            raise InputError(
                f"mapped column {source_col!r} (for {canon}) is not in the file",
                Location(path, None, source_col),
                fix=f"the file has columns {', '.join(cols[:20])}; fix the mapping",
            )
        src[canon] = source_col
    required = ["order_id", "created_at"] + (
        ["quantity", "unit_price"] if m["kind"] == "lines" else [])
    missing = [c for c in required if c not in src]
    if m["kind"] == "orders" and "gross_sales" not in src and "total" not in src:
        missing.append("gross_sales or total")
    if missing:
        raise InputError(
            f"no column for {', '.join(missing)}",
            Location(path, None, missing[0]),
            fix="add them under [columns] in the mapping, e.g. order_id = \"Order ID\"",
        )
    return src


def _typed_columns(ctx: StagingContext, found: _Found) -> dict[str, str]:
    """SQL per canonical column, each number and time checked row by row."""
    m, src = found.mapping, found.src

    def text(canon: str) -> str:
        if canon not in src:
            return "CAST(NULL AS VARCHAR)"
        return f"nullif(trim(CAST({quote_ident(src[canon])} AS VARCHAR)), '')"

    def number(canon: str, default: str | None = None) -> str:
        if canon not in src:
            return f"CAST({default or 'NULL'} AS DOUBLE)"
        expr = checked_cast(ctx.con, "raw_generic", quote_ident(src[canon]), src[canon],
                            "DOUBLE", fix=f"{src[canon]} must be a plain number such as 12.50")
        return f"coalesce({expr}, {default})" if default is not None else expr

    created, order_date = timestamp_columns(
        ctx.con, "raw_generic", quote_ident(src["created_at"]), src["created_at"],
        m["timezone"], fmt=m.get("date_format"))
    status_src = text("status")
    if m["status"]:
        cases = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in m["status"].items())
        status = f"coalesce(CASE {status_src} {cases} ELSE {status_src} END, 'placed')"
    else:
        status = f"coalesce(lower({status_src}), 'placed')"
    currency = (f"upper({text('currency')})" if "currency" in src
                else sql_str(str(m["currency"]).upper()))
    typed = {
        "order_id": text("order_id"), "created_at": created, "order_date": order_date,
        "customer_id": text("customer_id"), "channel": text("channel"),
        "country": text("country"), "region": text("region"), "city": text("city"),
        "device": text("device"), "currency": currency,
        "status": status, "coupon": text("coupon"),
        **{c: number(c) for c in MONEY},
        "units": number("units"),
    }
    if m["kind"] == "lines":
        typed.update({
            "line_type": f"coalesce(lower({text('line_type')}), 'product')",
            "product_id": text("product_id"), "name": text("name"),
            "category": text("category"), "quantity": number("quantity"),
            "unit_price": number("unit_price"), "unit_cost": number("unit_cost"),
            "line_discount": number("line_discount", "0"),
        })
    return typed


_ORDERS = """
SELECT _file, _row, order_id, customer_id, created_at, order_date,
       channel, country, region, city, device, currency,
       coalesce(gross_sales, total - coalesce(shipping, 0) - coalesce(tax, 0)
                + coalesce(discounts, 0)) AS gross_sales,
       coalesce(discounts, 0) AS discounts, coalesce(shipping, 0) AS shipping,
       coalesce(tax, 0) AS tax, coalesce(returns, 0) AS returns,
       coalesce(total, gross_sales - coalesce(discounts, 0) + coalesce(shipping, 0)
                + coalesce(tax, 0)) AS total,
       cost, units, status, coupon
FROM raw_generic_typed
"""
_LINES = """
SELECT _file, _row, order_id,
       row_number() OVER (PARTITION BY order_id ORDER BY _row) AS line_no,
       line_type, product_id, name, category, quantity, unit_price, unit_cost, line_discount
FROM raw_generic_typed
"""
# Order-level fields repeat on every line or sit on the first line only (as in Shopify
# exports): take the first non-empty value in file order.
_FIRST = ", ".join(
    f"first({c} ORDER BY _row) FILTER (WHERE {c} IS NOT NULL) AS {c}"
    for c in ("customer_id", "channel", "country", "region", "city", "device", "currency",
              "status", "coupon", "discounts", "shipping", "tax", "returns", "total"))
_LINE_ORDERS = """
WITH o AS (
  SELECT min(_file) AS _file, min(_row) AS _row, order_id,
         min(created_at) AS created_at, min(order_date) AS order_date, {first},
         sum(quantity * unit_price) FILTER (WHERE line_type = 'product') AS gross,
         sum(line_discount) AS line_disc,
         sum(quantity * unit_price) FILTER (WHERE line_type = 'shipping') AS ship_lines,
         sum(quantity * unit_price) FILTER (WHERE line_type = 'fee') AS fees,
         -sum(quantity * unit_price) FILTER (WHERE line_type = 'discount') AS disc_lines,
         sum(quantity) FILTER (WHERE line_type = 'product') AS units,
         CASE WHEN bool_and(unit_cost IS NOT NULL OR line_type <> 'product')
              THEN sum(quantity * unit_cost) FILTER (WHERE line_type = 'product') END AS cost
  FROM raw_generic_typed GROUP BY order_id
)
SELECT _file, _row, order_id, customer_id, created_at, order_date,
       channel, country, region, city, device, currency,
       coalesce(gross, 0) AS gross_sales,
       coalesce(discounts, 0) + coalesce(line_disc, 0) + coalesce(disc_lines, 0) AS discounts,
       coalesce(shipping, 0) + coalesce(ship_lines, 0) AS shipping,
       coalesce(tax, 0) AS tax, coalesce(returns, 0) AS returns,
       coalesce(total, coalesce(gross, 0) - coalesce(discounts, 0)
           - coalesce(line_disc, 0) - coalesce(disc_lines, 0) + coalesce(shipping, 0)
           + coalesce(ship_lines, 0) + coalesce(tax, 0) + coalesce(fees, 0)) AS total,
       cost, coalesce(units, 0) AS units, status, coupon
FROM o
"""
