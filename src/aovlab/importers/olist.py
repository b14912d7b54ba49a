"""Olist Brazilian E-Commerce (Kaggle "Brazilian E-Commerce Public Dataset by Olist").

The import takes the folder holding the Olist CSVs, under their short names (``orders.csv``)
or Kaggle's (``olist_orders_dataset.csv``). Rules (documented in docs/importers.md):

* One order per ``orders.csv`` row. ``customer_id`` is the customer's
  ``customer_unique_id`` from ``customers.csv``: Olist's ``customer_id`` is a new key for
  every order, ``customer_unique_id`` identifies the person across orders.
* ``created_at`` is ``order_purchase_timestamp`` read as local time in America/Sao_Paulo;
  ``order_date`` is its calendar date as written. Currency BRL, country BR, channel
  ``marketplace``.
* ``gross_sales`` = Σ item ``price``; ``shipping`` = Σ ``freight_value``; ``discounts``,
  ``tax`` and ``returns`` are 0 (prices include Brazilian taxes; refunds are not in the
  data). ``total`` = Σ ``payment_value`` — what the customer paid, vouchers included,
  because a voucher is a means of payment, not a price reduction — or items + freight for
  an order without payments. ``units`` = number of items (0 for an order without items).
* Status: delivered, shipped, invoiced, processing, approved, created → ``placed``;
  canceled, unavailable → ``cancelled``. Any other value is an error.
* One ``product`` line per ``order_items.csv`` row: ``line_no`` = ``order_item_id``,
  quantity 1, ``unit_price`` = ``price``, category = the English category name.
* Items or payments of an order that is not in ``orders.csv``, and orders whose customer
  is not in ``customers.csv``, are errors (the files come from different exports).
  ``customers.csv`` rows no order refers to are skipped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..errors import AovlabError, InputError, Location
from ..storage import StagingContext
from .base import Importer, option, register
from .reading import (
    check_timezone,
    checked_cast,
    nonnegative,
    read_raw,
    require_columns,
    sql_str,
)

TIMEZONE = "America/Sao_Paulo"

#: logical name -> (accepted file names, columns the import needs)
FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orders": (("orders.csv", "olist_orders_dataset.csv"),
               ("order_id", "customer_id", "order_status", "order_purchase_timestamp")),
    "items": (("order_items.csv", "olist_order_items_dataset.csv"),
              ("order_id", "order_item_id", "product_id", "price", "freight_value")),
    "payments": (("order_payments.csv", "olist_order_payments_dataset.csv"),
                 ("order_id", "payment_sequential", "payment_type", "payment_value")),
    "customers": (("customers.csv", "olist_customers_dataset.csv"),
                  ("customer_id", "customer_unique_id", "customer_city", "customer_state")),
    "products": (("products.csv", "olist_products_dataset.csv"),
                 ("product_id", "product_category_name")),
    "categories": (("product_category_name_translation.csv",),
                   ("product_category_name", "product_category_name_english")),
}

PLACED = ("delivered", "shipped", "invoiced", "processing", "approved", "created")
CANCELLED = ("canceled", "unavailable")



def _in(values: tuple[str, ...]) -> str:
    return ", ".join(sql_str(v) for v in values)


def _text(col: str) -> str:
    return f"nullif(trim(CAST({col} AS VARCHAR)), '')"


def _money(con: duckdb.DuckDBPyConnection, table: str, col: str, *, fix: str) -> str:
    """A finite, non-negative DOUBLE from text column ``col``; raise on the first bad row."""
    conv = f"TRY_CAST({_text(col)} AS DOUBLE)"
    expr = checked_cast(con, table, col, col, "DOUBLE", fix=fix,
                        try_expr=f"CASE WHEN isfinite({conv}) THEN {conv} END")
    nonnegative(con, table, expr, col, fix=fix)
    return expr


def _whole(con: duckdb.DuckDBPyConnection, table: str, col: str, *, fix: str) -> str:
    """A whole number >= 1 written as digits; raise on the first bad row."""
    t = _text(col)
    return checked_cast(
        con, table, col, col, "INTEGER", fix=fix,
        try_expr=f"CASE WHEN regexp_full_match({t}, '0*[1-9][0-9]{{0,8}}') "
                 f"THEN CAST({t} AS INTEGER) END",
    )


def _required(con: duckdb.DuckDBPyConnection, table: str, cols: dict[str, str]) -> None:
    """Raise on the first row where one of ``cols`` (column -> what it is) is empty."""
    which = " ".join(f"WHEN {_text(c)} IS NULL THEN {sql_str(c)}" for c in cols)
    bad = con.execute(
        f"SELECT _file, _row, CASE {which} END AS col FROM {table} "
        f"WHERE {' OR '.join(f'{_text(c)} IS NULL' for c in cols)} ORDER BY _row LIMIT 1"
    ).fetchone()
    if bad:
        raise InputError(f"{bad[2]} is empty", Location(bad[0], bad[1], bad[2], ""),
                         fix=f"every row needs its {cols[bad[2]]}; fill it in or delete the row")


def _unique(con: duckdb.DuckDBPyConnection, table: str, cols: tuple[str, ...], file: str,
            fix: str) -> None:
    key = ", ".join(_text(c) for c in cols)
    dup = con.execute(
        f"SELECT _file, _row, concat_ws('/', {key}) FROM ("
        f" SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _row) AS n FROM {table})"
        f" WHERE n > 1 ORDER BY _row LIMIT 1"
    ).fetchone()
    if dup:
        raise InputError(
            f"{'/'.join(cols)} {dup[2]!r} appears a second time in {file}",
            Location(dup[0], dup[1], cols[-1], dup[2]), fix=fix)


def _orphans(con: duckdb.DuckDBPyConnection, table: str, key: str, parent: str,
             parent_key: str, parent_file: str, what: str) -> None:
    bad = con.execute(
        f"SELECT c._file, c._row, {_text('c.' + key)} FROM {table} c "
        f"WHERE NOT EXISTS (SELECT 1 FROM {parent} p "
        f"WHERE {_text('p.' + parent_key)} = {_text('c.' + key)}) ORDER BY c._row LIMIT 1"
    ).fetchone()
    if bad:
        raise InputError(
            f"{what} refers to {key} {bad[2]!r}, which is not in {parent_file}",
            Location(bad[0], bad[1], key, bad[2]),
            fix=f"use files from the same Olist download; if you filtered {parent_file}, "
                "filter this file the same way",
        )


def _find_files(folder: Path) -> dict[str, Path]:
    if not folder.exists():
        raise InputError("Olist folder does not exist", Location(str(folder)),
                         fix="pass the folder holding orders.csv, order_items.csv, "
                             "order_payments.csv, customers.csv, products.csv and "
                             "product_category_name_translation.csv")
    if not folder.is_dir():
        raise InputError("the olist format reads a folder, not a single file",
                         Location(str(folder)),
                         fix=f"pass the folder instead: {folder.parent}")
    found: dict[str, Path] = {}
    for key, (names, _cols) in FILES.items():
        path = next((folder / n for n in names if (folder / n).exists()), None)
        if path is None:
            raise InputError(
                f"the Olist folder has no {names[0]}",
                Location(str(folder / names[0])),
                fix=f"put {' or '.join(names)} from the Olist download into {folder}; "
                    "all six Olist tables (orders, order items, payments, customers, "
                    "products, category translation) are needed",
            )
        found[key] = path
    return found


@dataclass(frozen=True)
class OlistOptions:
    timezone: str | None = option(
        "Store time zone for timestamps written without an offset (IANA name).")


@dataclass(frozen=True)
class _Found:
    files: dict[str, Path]
    tables: dict[str, str]  # logical name -> raw table
    tz: str

    @property
    def names(self) -> dict[str, str]:
        return {k: p.name for k, p in self.files.items()}


@register
class Olist(Importer):
    name = "olist"
    help = ("Olist marketplace folder (orders, order_items, order_payments, products, "
            "customers CSVs).")
    reads = "one folder"
    Options = OlistOptions

    def read(self, ctx: StagingContext, paths: list[str], opts: OlistOptions) -> _Found:
        if len(paths) != 1:
            raise AovlabError(f"the olist format reads one folder, got {len(paths)} paths",
                              fix="pass the one folder holding the Olist CSV files")
        folder = Path(paths[0])
        files = _find_files(folder)
        tz = opts.timezone or TIMEZONE
        check_timezone(ctx.con, tz, str(folder))
        tables: dict[str, str] = {}
        for key, path in files.items():
            ctx.progress(f"reading {path.name}")
            cols = read_raw(ctx.con, path, f"olist_{key}")
            require_columns(cols, FILES[key][1], str(path), f"Olist {path.name}")
            tables[key] = f"raw_olist_{key}"
        ctx.summary.rows_read = sum(ctx.count(t) for t in tables.values())
        return _Found(files, tables, tz)

    def check(self, ctx: StagingContext, found: _Found, opts: OlistOptions) -> None:
        o, i, p, c, pr, cat = (found.tables[k] for k in FILES)
        _check_present(ctx.con, found)
        _type_tables(ctx.con, found)
        _check_keys(ctx.con, found)
        fname = found.names
        _orphans(ctx.con, i, "order_id", o, "order_id", fname["orders"], "order item")
        _orphans(ctx.con, p, "order_id", o, "order_id", fname["orders"], "payment")
        _orphans(ctx.con, o, "customer_id", c, "customer_id", fname["customers"], "order")

    def build(self, ctx: StagingContext, found: _Found, opts: OlistOptions) -> None:
        _build_lookups(ctx.con, found)
        ctx.emit("orders", f"""
            WITH it AS (
                SELECT order_id, round(sum(price), 2) AS gross,
                       round(sum(freight), 2) AS freight, count(*) AS n
                FROM raw_olist_item GROUP BY 1),
            pay AS (SELECT order_id, round(sum(paid), 2) AS paid FROM raw_olist_pay GROUP BY 1)
            SELECT o._file, o._row, o.order_id,
                   c.unique_id AS customer_id,
                   timezone({sql_str(found.tz)}, o.local_ts) AS created_at,
                   CAST(o.local_ts AS DATE) AS order_date,
                   'marketplace' AS channel, 'BR' AS country, c.state AS region,
                   c.city AS city, 'BRL' AS currency,
                   coalesce(it.gross, 0.0) AS gross_sales,
                   coalesce(it.freight, 0.0) AS shipping,
                   coalesce(pay.paid, round(coalesce(it.gross, 0) + coalesce(it.freight, 0), 2))
                       AS total,
                   CAST(coalesce(it.n, 0) AS DOUBLE) AS units, o.status
            FROM raw_olist_order o
            JOIN raw_olist_cust c ON c.customer_id = o.olist_customer_id
            LEFT JOIN it ON it.order_id = o.order_id
            LEFT JOIN pay ON pay.order_id = o.order_id""")
        ctx.emit("order_lines", """
            SELECT i._file, i._row, i.order_id, i.line_no, 'product' AS line_type,
                   i.product_id, p.category, 1.0 AS quantity, i.price AS unit_price
            FROM raw_olist_item i LEFT JOIN raw_olist_prod p ON p.product_id = i.product_id""")
        ctx.emit("products", "SELECT _file, _row, product_id, category FROM raw_olist_prod")
        # One customer per customer_unique_id, with the address of their earliest order.
        ctx.emit("customers", f"""
            SELECT {sql_str(str(found.files['customers']))} AS _file, min(c._row) AS _row,
                   c.unique_id AS customer_id, 'BR' AS country,
                   arg_min(c.state, (o.local_ts, c._row)) AS region,
                   arg_min(c.city, (o.local_ts, c._row)) AS city
            FROM raw_olist_cust c JOIN raw_olist_order o ON o.olist_customer_id = c.customer_id
            GROUP BY c.unique_id""")
        _notes(ctx, found)


def _check_present(con: duckdb.DuckDBPyConnection, found: _Found) -> None:
    """Keys and amounts present on every row."""
    o, i, p, c, pr, cat = (found.tables[k] for k in FILES)
    _required(con, o, {"order_id": "order_id", "customer_id": "customer_id",
                       "order_status": "order_status",
                       "order_purchase_timestamp": "purchase timestamp"})
    _required(con, i, {"order_id": "order_id", "order_item_id": "order_item_id",
                       "product_id": "product_id", "price": "price",
                       "freight_value": "freight value (0 when free)"})
    _required(con, p, {"order_id": "order_id", "payment_value": "payment value"})
    _required(con, c, {"customer_id": "customer_id",
                       "customer_unique_id": "customer_unique_id"})
    _required(con, pr, {"product_id": "product_id"})
    _required(con, cat, {"product_category_name": "product_category_name"})


def _type_tables(con: duckdb.DuckDBPyConnection, found: _Found) -> None:
    """Numbers numbers, dates dates, statuses known: typed item, payment and order tables."""
    o, i, p = found.tables["orders"], found.tables["items"], found.tables["payments"]
    local_ts = checked_cast(
        con, o, "order_purchase_timestamp", "order_purchase_timestamp", "TIMESTAMP",
        try_expr=f"TRY_CAST({_text('order_purchase_timestamp')} AS TIMESTAMP)",
        fix="Olist writes order_purchase_timestamp as YYYY-MM-DD HH:MM:SS (local time)")
    price = _money(con, i, "price",
                   fix="price must be a non-negative decimal number in BRL, such as 29.99")
    freight = _money(con, i, "freight_value",
                     fix="freight_value must be a non-negative decimal number in BRL, "
                         "such as 8.72 (0 when shipping is free)")
    item_no = _whole(con, i, "order_item_id",
                     fix="order_item_id must be the item's position in its order: 1, 2, 3 ...")
    payment = _money(con, p, "payment_value",
                     fix="payment_value must be a non-negative decimal number in BRL, "
                         "such as 18.12")
    status_text = f"lower({_text('order_status')})"
    bad = con.execute(
        f"SELECT _file, _row, order_status FROM {o} "
        f"WHERE {status_text} NOT IN ({_in(PLACED + CANCELLED)}) ORDER BY _row LIMIT 1"
    ).fetchone()
    if bad:
        raise InputError(
            "unknown Olist order status", Location(bad[0], bad[1], "order_status", bad[2]),
            fix=f"use one of Olist's statuses: {', '.join(PLACED + CANCELLED)}")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE raw_olist_item AS
        SELECT _file, _row, {_text('order_id')} AS order_id, {item_no} AS line_no,
               {_text('product_id')} AS product_id, {price} AS price, {freight} AS freight
        FROM {i}""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE raw_olist_pay AS
        SELECT {_text('order_id')} AS order_id, {payment} AS paid,
               lower({_text('payment_type')}) AS payment_type FROM {p}""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE raw_olist_order AS
        SELECT r._file, r._row, {_text('r.order_id')} AS order_id,
               {_text('r.customer_id')} AS olist_customer_id,
               CASE WHEN {status_text} IN ({_in(CANCELLED)}) THEN 'cancelled'
                    ELSE 'placed' END AS status,
               {local_ts} AS local_ts
        FROM {o} r""")


def _check_keys(con: duckdb.DuckDBPyConnection, found: _Found) -> None:
    o, i, c, pr = (found.tables[k] for k in ("orders", "items", "customers", "products"))
    fname = found.names
    _unique(con, o, ("order_id",), fname["orders"],
            fix="delete the repeated row; each order appears once in the orders file")
    _unique(con, i, ("order_id", "order_item_id"), fname["items"],
            fix="number the items of an order 1, 2, 3 ... without repeats")
    _unique(con, pr, ("product_id",), fname["products"],
            fix="delete the repeated row; each product appears once in the products file")
    # Customers: one customer_unique_id per customer_id.
    bad = con.execute(
        f"SELECT _file, _row, customer_id FROM ("
        f" SELECT *, count(DISTINCT {_text('customer_unique_id')}) "
        f"   OVER (PARTITION BY {_text('customer_id')}) AS n FROM {c}) "
        f"WHERE n > 1 ORDER BY _row LIMIT 1").fetchone()
    if bad:
        raise InputError(
            "customer_id appears with two different customer_unique_id values",
            Location(bad[0], bad[1], "customer_id", bad[2]),
            fix=f"keep one row per customer_id in {fname['customers']}")


def _build_lookups(con: duckdb.DuckDBPyConnection, found: _Found) -> None:
    """Category names in English, products with them, and one row per Olist customer id."""
    c, pr, cat = (found.tables[k] for k in ("customers", "products", "categories"))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE raw_olist_cat AS
        SELECT {_text('product_category_name')} AS pt,
               arg_min({_text('product_category_name_english')}, _row) AS en
        FROM {cat} GROUP BY ALL""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE raw_olist_prod AS
        SELECT r._file, r._row, {_text('r.product_id')} AS product_id,
               {_text('r.product_category_name')} AS category_pt,
               coalesce(t.en, {_text('r.product_category_name')}) AS category
        FROM {pr} r LEFT JOIN raw_olist_cat t ON t.pt = {_text('r.product_category_name')}""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE raw_olist_cust AS
        SELECT {_text('customer_id')} AS customer_id,
               min({_text('customer_unique_id')}) AS unique_id, min(_row) AS _row,
               arg_min({_text('customer_city')}, _row) AS city,
               arg_min(upper({_text('customer_state')}), _row) AS state
        FROM {c} GROUP BY 1""")


def _notes(ctx: StagingContext, found: _Found) -> None:
    """What is not imported, and what is worth knowing."""
    fname, c = found.names, found.tables["customers"]
    summary = ctx.summary
    unused = ctx.one(
        f"SELECT count(*) FROM {c} r WHERE NOT EXISTS (SELECT 1 FROM raw_olist_order o "
        f"WHERE o.olist_customer_id = {_text('r.customer_id')})")[0]
    if unused:
        summary.skipped[f"{fname['customers']} rows of customers with no order in "
                        f"{fname['orders']}"] = unused
    no_product = ctx.one(
        "SELECT count(*) FROM stage_order_lines l WHERE NOT EXISTS "
        "(SELECT 1 FROM raw_olist_prod p WHERE p.product_id = l.product_id)")[0]
    if no_product:
        summary.notes.append(f"{no_product} order items name a product_id that is not in "
                             f"{fname['products']}; their category is empty")
    untranslated = ctx.one(
        "SELECT count(*), string_agg(DISTINCT category_pt, ', ' ORDER BY category_pt) "
        "FROM raw_olist_prod r WHERE category_pt IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM raw_olist_cat t WHERE t.pt = r.category_pt AND t.en IS NOT NULL)")
    if untranslated[0]:
        summary.notes.append(
            f"{untranslated[0]} product(s) have a category without an English name in "
            f"{fname['categories']} ({untranslated[1]}); the Portuguese name is kept")
    vouchers = ctx.one(
        "SELECT count(DISTINCT order_id), coalesce(sum(paid), 0) FROM raw_olist_pay "
        "WHERE payment_type = 'voucher'")
    if vouchers[0]:
        summary.notes.append(
            f"{vouchers[0]} orders were paid partly or wholly with vouchers "
            f"(BRL {vouchers[1]:,.2f}); vouchers count as payment (in total), not as discounts")
    mismatch = ctx.one(
        "SELECT count(*) FROM stage_orders WHERE units > 0 "
        "AND abs(total - (gross_sales + shipping)) > 0.005")[0]
    if mismatch:
        summary.notes.append(
            f"{mismatch} orders with items have payments that differ from items + freight "
            "(instalment interest and rounding); their total is what was paid")
    empty = ctx.one(
        "SELECT count(*) FROM stage_orders WHERE units = 0 AND status = 'placed'")[0]
    if empty:
        summary.notes.append(
            f"{empty} orders counted as placed have no items in {fname['items']} "
            "(gross_sales 0, total = their payments)")
