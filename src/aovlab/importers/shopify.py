"""Shopify admin "Export orders" CSV (one or more files).

Shopify writes one row per line item; the order-level fields (Subtotal, Shipping, Taxes,
Total, Discount Amount, Financial Status, Currency, …) are filled only on an order's
**first** row and blank on the others. Exports trimmed to order columns (no ``Lineitem …``
columns) are read too: then every row is one order and no lines are written.

Columns read (every other column is ignored): ``Name``, ``Subtotal``, ``Total`` and
``Created at`` are required; ``Shipping``, ``Taxes``, ``Duties``, ``Discount Amount``,
``Discount Code``, ``Refunded Amount``, ``Currency``, ``Financial Status``,
``Cancelled at``, ``Source``, ``Tags``, ``Payment Method``, ``Email``,
``Billing``/``Shipping`` ``Country``/``Province``/``City`` and ``Lineitem quantity``,
``Lineitem price``, ``Lineitem name``, ``Lineitem sku``, ``Lineitem discount`` are optional.

Mapping rules (also in docs/importers.md, section "shopify"):

* ``order_id`` = ``Name`` (``#1001``), or ``order_prefix + Name`` when the option is given
  (two stores numbering from ``#1001`` need different prefixes to share a workspace);
  ``source`` = ``shopify``. The order's values come from its first row (lowest row number).
* ``created_at`` = ``Created at`` as an instant (Shopify writes an offset:
  ``2025-05-11 09:55:16 -0400``); ``order_date`` = the local date as written. Times without an
  offset need ``timezone=`` (an IANA name).
* Money: Shopify's ``Subtotal`` is after discounts, so ``gross_sales`` = Subtotal + Discount
  Amount and ``discounts`` = Discount Amount (net = gross − discounts = Subtotal exactly);
  ``returns`` = Refunded Amount; ``total`` = Total, exactly the file's; ``cost`` NULL.
* Tax included or on top, per order. With rest = Total − Subtotal, duties = Duties (0 when
  absent) and a half-cent tolerance, an order charges tax **on top** when rest = Shipping +
  Taxes + duties or (shipping waived) rest = Taxes + duties, with Taxes > 0; its prices
  **include** tax (e.g. Australian GST) when rest = Shipping + duties or rest = duties.
  An order that matches none of these takes the import's majority (on top when more orders
  with Taxes > 0 are on top than included; included otherwise). Then ``tax`` = Taxes +
  duties on top, or duties alone when included, and ``shipping`` = rest − ``tax``, which is:

  1. / 2. Shipping (on top / included) — the usual case;
  3. / 4. less than Shipping (included / on top): the shipping charge was waived or
     discounted, and ``shipping`` is what the customer paid for it;
  5. more than Shipping: charges the export does not itemise (tips, …); ``shipping`` =
     Shipping and ``total`` keeps the file's Total;
  6. negative (Total below Subtotal + duties): the order is refused as inconsistent.

  So ``total`` = gross − discounts + shipping + tax on every order except case 5. The summary
  notes how many orders fell in cases 2–5.
* ``status``: ``test`` when ``Payment Method`` names Shopify's Bogus Gateway (``bogus``, the
  gateway of test orders) or ``Tags`` holds the tag ``test``; else ``cancelled`` when
  ``Cancelled at`` is set or Financial Status is ``voided``; else ``refunded`` when Financial
  Status is ``refunded`` (fully refunded); else ``placed`` (paid, pending, authorized,
  partially_paid, partially_refunded — a partial refund stays ``placed`` with ``returns``).
* ``channel`` = ``Source`` in lower case (web, pos, shopify_draft_order, iphone, …);
  ``country`` = Billing Country, else Shipping Country; ``coupon`` = Discount Code;
  ``device`` NULL; ``currency`` = ``Currency``, else the ``currency=`` option (required when
  the file has no Currency column, e.g. the AUD export); ``units`` = Σ line quantities
  (NULL when the file has no line items).
* Lines (one per row with line-item values): ``line_no`` 1, 2, … in file order within the
  order; ``line_type`` ``product`` (gift cards included, as Shopify counts them in Subtotal);
  ``quantity`` = Lineitem quantity, ``unit_price`` = Lineitem price, ``line_discount`` =
  Lineitem discount (0 when blank), ``product_id`` = Lineitem sku, else Lineitem name;
  ``name`` = Lineitem name.
* Customers (when the file has ``Email``): ``customer_id`` = md5 of the lower-cased, trimmed
  e-mail — the address itself is never stored; NULL for guest checkouts (no e-mail).
  One customer row per id with the country, province (``region``) and city of their earliest
  order in the import that has an address (the billing address, else the shipping one);
  ``first_seen`` NULL (Shopify's export has no sign-up date).

Refused (the whole import, naming file, row, column and value): a file that is empty, not
text, not CSV, has no data rows, or has a line with more or fewer fields than the header
(named by line number) or an unclosed quote; missing Name/Subtotal/Total/Created at columns;
a blank Name; an order whose first row has no Total, Subtotal or Created at; order-level
values (Total) on two rows of the same order; an amount or quantity that is not a finite
non-negative number, on any row; a time that cannot be read or has an offset beyond ±14:00;
a time without offset and no ``timezone``; a Total below Subtotal; a line item without
quantity or price; no currency; the same order in two files of one import (the workspace's
duplicate-key check). Nothing is skipped: ``summary.skipped`` stays empty.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass

import duckdb

from ..errors import InputError, Location
from ..workspace import ImportSummary, ProgressFn
from .base import (
    check_file,
    check_timezone,
    quote_ident,
    read_raw,
    require_columns,
    sql_str,
    timestamp_columns,
)

FORMAT = "Shopify orders export"
REQUIRED = ("Name", "Subtotal", "Total", "Created at")
MONEY = {  # our name -> Shopify column (order level: read from each order's first row)
    "subtotal": "Subtotal", "shipping": "Shipping", "taxes": "Taxes", "duties": "Duties",
    "total": "Total", "discount": "Discount Amount", "refunded": "Refunded Amount",
}
LINE_NUMBERS = {"li_qty": "Lineitem quantity", "li_price": "Lineitem price",
                "li_disc": "Lineitem discount"}
TEXT = {
    "email": "Email", "financial": "Financial Status", "cancelled_at": "Cancelled at",
    "currency": "Currency", "source": "Source", "tags": "Tags", "gateway": "Payment Method",
    "coupon": "Discount Code", "bill_country": "Billing Country",
    "ship_country": "Shipping Country", "bill_region": "Billing Province",
    "ship_region": "Shipping Province", "bill_city": "Billing City",
    "ship_city": "Shipping City", "li_name": "Lineitem name", "li_sku": "Lineitem sku",
}
EPS = 0.005  # half a cent: Shopify writes amounts in cents
# A UTC offset as Shopify writes it, with or without a space before it: " -0400", "+10:00".
_OFFSET = r"\s*([+-][0-9]{2}:?[0-9]{2})$"
_VALID_OFFSET = r"[+-](0[0-9]|1[0-4]):?[0-5][0-9]$"
_CREATED = 'trim(CAST("Created at" AS VARCHAR))'
_CREATED_NORM = f"regexp_replace({_CREATED}, '{_OFFSET}', '\\1')"  # DuckDB wants no space

MONEY_FIX = ("write amounts as plain non-negative numbers such as 1659.95 (no currency sign, "
             "no thousands separator), as Shopify exports them")
LINE_FIX = "write {} as a plain non-negative number such as {}, as Shopify exports it"
TIME_FIX = ("Shopify writes times as YYYY-MM-DD HH:MM:SS -0400 (an offset within ±14:00); "
            "correct the value or export the orders again")
EXPORT_FIX = "export the orders again from Shopify admin (Orders → Export, CSV file)"


@dataclass(frozen=True)
class _File:
    path: str
    raw: str  # raw_shopify_<i>: the file as read, every column text
    has_lines: bool
    has_email: bool


def stage(
    con: duckdb.DuckDBPyConnection,
    summary: ImportSummary,
    progress: ProgressFn,
    *paths: str,
    timezone: str | None = None,
    currency: str | None = None,
    order_prefix: str = "",
) -> None:
    """Stage Shopify order exports ``paths`` as ``stage_orders`` (+ lines, customers)."""
    if not paths:
        raise InputError("no file given", Location("(none)"),
                         fix="pass one or more Shopify 'Export orders' CSV files")
    if currency is not None:
        currency = currency.strip().upper()
        if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise InputError("the currency option is not a three-letter ISO 4217 code",
                             Location(str(paths[0]), None, "currency", currency),
                             fix="pass a code such as AUD, EUR or USD")
    if timezone is not None:
        check_timezone(con, timezone, str(paths[0]))
    files = []
    for i, path in enumerate(paths):
        progress(f"reading {path}")
        files.append(_load(con, summary, str(path), i, timezone=timezone, currency=currency))

    progress("building orders")
    # Orders whose Total matches no exact rule follow the import's majority (see docstring).
    top, inc = con.execute(
        "SELECT coalesce(sum(top), 0), coalesce(sum(inc), 0) FROM ("
        + " UNION ALL ".join(f"SELECT count(*) FILTER (WHERE _exact = 'top') AS top, "
                             f"count(*) FILTER (WHERE _exact = 'inc' AND taxes > 0) AS inc "
                             f"FROM {f.raw}_o" for f in files) + ")").fetchone()
    for f in files:
        _build(con, f, "top" if top > inc else "inc", currency=currency,
               order_prefix=order_prefix)

    con.execute("CREATE OR REPLACE TEMP TABLE raw_shopify_all AS "
                + " UNION ALL BY NAME ".join(f"SELECT * FROM {f.raw}_orders" for f in files))
    con.execute(
        """
        CREATE TEMP TABLE stage_orders AS
        SELECT _file, _row, order_id, source, customer_id, created_at, order_date, channel,
               country, device, currency, gross_sales, discounts, shipping, tax, returns,
               total, cost, units, status, coupon
        FROM raw_shopify_all
        """
    )
    lines = [f"SELECT * FROM {f.raw}_lines" for f in files if f.has_lines]
    if lines:
        con.execute("CREATE TEMP TABLE stage_order_lines AS " + " UNION ALL BY NAME ".join(lines))
    if any(f.has_email for f in files):
        con.execute(
            """
            CREATE TEMP TABLE stage_customers AS
            SELECT arg_min(_file, (created_at, _file, _row)) AS _file,
                   arg_min(_row, (created_at, _file, _row)) AS _row,
                   customer_id,
                   arg_min_null(country, (created_at, _file, _row)) FILTER (WHERE has_address)
                       AS country,
                   arg_min_null(region, (created_at, _file, _row)) FILTER (WHERE has_address)
                       AS region,
                   arg_min_null(city, (created_at, _file, _row)) FILTER (WHERE has_address)
                       AS city,
                   CAST(NULL AS TIMESTAMPTZ) AS first_seen
            FROM (SELECT *, coalesce(country, region, city) IS NOT NULL AS has_address
                  FROM raw_shopify_all)
            WHERE customer_id IS NOT NULL GROUP BY customer_id
            """
        )
    _notes(con, summary)


def _load(
    con: duckdb.DuckDBPyConnection,
    summary: ImportSummary,
    path: str,
    i: int,
    *,
    timezone: str | None,
    currency: str | None,
) -> _File:
    """Read one export into ``raw_shopify_<i>``, check it, and type it as ``…_t``/``…_o``."""
    raw = f"raw_shopify_{i}"
    cols = _read(con, path, i)
    require_columns(cols, REQUIRED, path, FORMAT)
    have = set(cols)
    has_lines = any(c in have for c in (*LINE_NUMBERS.values(), "Lineitem name", "Lineitem sku"))
    if has_lines:
        require_columns(cols, ("Lineitem quantity", "Lineitem price"), path, FORMAT)
    if currency is None and "Currency" not in have:
        raise InputError(
            "the file has no Currency column", Location(path, None, "Currency"),
            fix="say which currency the amounts are in: --currency AUD on the command line, "
                "or import_files(..., currency='AUD')")
    summary.rows_read += con.execute(f"SELECT count(*) FROM {raw}").fetchone()[0]

    def text(col: str) -> str:
        if col not in have:
            return "CAST(NULL AS VARCHAR)"
        return f"nullif(trim(CAST({quote_ident(col)} AS VARCHAR)), '')"

    numbers = {k: c for k, c in (MONEY | LINE_NUMBERS).items() if c in have}
    _check_values(con, raw, cols, numbers, timezone)
    created, order_date = timestamp_columns(con, raw, _CREATED_NORM, "Created at",
                                            timezone or "UTC")
    typed = [f"TRY_CAST({text(c)} AS DOUBLE) AS {k}" for k, c in numbers.items()]
    typed += [f"CAST(NULL AS DOUBLE) AS {k}" for k in (MONEY | LINE_NUMBERS)
              if k not in numbers]
    typed += [f"{text(c)} AS {k}" for k, c in TEXT.items()]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {raw}_t AS
        SELECT _file, _row, {text('Name')} AS name, {', '.join(typed)},
               {created} AS created_at, {order_date} AS order_date,
               row_number() OVER (PARTITION BY {text('Name')} ORDER BY _row) AS _nth,
               min(_row) OVER (PARTITION BY {text('Name')}) AS _first
        FROM {raw}
        """
    )
    _check_structure(con, raw, has_lines=has_lines, need_currency=currency is None)

    # How the order's Total is made up: tax on top or included (module docstring).
    rest = "(total - subtotal)"
    ship, tax, duty = "coalesce(shipping, 0)", "coalesce(taxes, 0)", "coalesce(duties, 0)"
    exact = (f"CASE WHEN {tax} > 0 AND abs({rest} - {ship} - {tax} - {duty}) < {EPS} THEN 'top'"
             f" WHEN abs({rest} - {ship} - {duty}) < {EPS} THEN 'inc'"
             f" WHEN {tax} > 0 AND abs({rest} - {tax} - {duty}) < {EPS} THEN 'top'"
             f" WHEN abs({rest} - {duty}) < {EPS} THEN 'inc' END")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {raw}_o AS SELECT *, {exact} AS _exact "
                f"FROM {raw}_t WHERE _nth = 1")
    return _File(path, raw, has_lines, "Email" in have)


def _check_values(con: duckdb.DuckDBPyConnection, raw: str, cols: list[str],
                  numbers: dict[str, str], timezone: str | None) -> None:
    """One pass over the file: the first unreadable number or time, by row then column."""
    checks: list[tuple[str, str, str]] = []  # (column, problem, SQL true when bad)
    for col in cols:
        cell = f"nullif(trim(CAST({quote_ident(col)} AS VARCHAR)), '')"
        if col in numbers.values():
            value = f"TRY_CAST({cell} AS DOUBLE)"
            checks.append((col, "number", f"({cell} IS NOT NULL AND NOT coalesce("
                                          f"isfinite({value}), false))"))
            checks.append((col, "negative", f"coalesce({value} < 0, false)"))
        elif col == "Created at":
            has_offset = f"regexp_matches({_CREATED}, '{_OFFSET}')"
            parsed = (f"CASE WHEN {has_offset} THEN CASE WHEN regexp_matches({_CREATED}, "
                      f"'{_VALID_OFFSET}') THEN TRY_CAST({_CREATED_NORM} AS TIMESTAMPTZ) END "
                      f"ELSE TRY_CAST({_CREATED} AS TIMESTAMP) END")
            checks.append((col, "time", f"({cell} IS NOT NULL AND {parsed} IS NULL)"))
            if timezone is None:
                checks.append((col, "offset", f"({cell} IS NOT NULL AND NOT {has_offset})"))
    flags = ", ".join(sql for _, _, sql in checks)
    cells = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c, _, _ in checks)
    bad = con.execute(
        f"SELECT _file, _row, [{cells}], [{flags}] FROM {raw} "
        f"WHERE {' OR '.join(sql for _, _, sql in checks)} ORDER BY _row LIMIT 1").fetchone()
    if not bad:
        return
    file, row, values, flagged = bad
    n = flagged.index(True)
    col, problem, value = checks[n][0], checks[n][1], values[n]
    where = Location(file, row, col, value)
    fix = next((LINE_FIX.format(c, "2" if k == "li_qty" else "24.95")
                for k, c in LINE_NUMBERS.items() if c == col), MONEY_FIX)
    if problem == "number":
        raise InputError(f"cannot read {value!r} as a number", where, fix=fix)
    if problem == "negative":
        raise InputError(f"{col} must not be negative", where, fix=fix)
    if problem == "time":
        raise InputError(f"cannot read {value!r} as a date and time", where, fix=TIME_FIX)
    raise InputError(
        "the time has no UTC offset, so the store's time zone is needed", where,
        fix="pass the store's time zone: --timezone Australia/Sydney on the command line, or "
            "import_files(..., timezone='Australia/Sydney')")


_LINE_ROW = "(li_qty IS NOT NULL OR li_price IS NOT NULL OR li_name IS NOT NULL " \
            "OR li_sku IS NOT NULL)"


def _check_structure(con: duckdb.DuckDBPyConnection, raw: str, *, has_lines: bool,
                     need_currency: bool) -> None:
    """The first row that breaks Shopify's layout (one query; errors name the row)."""
    kinds = ["WHEN name IS NULL THEN 'name'",
             "WHEN _nth = 1 AND total IS NULL THEN 'Total'",
             "WHEN _nth = 1 AND subtotal IS NULL THEN 'Subtotal'",
             "WHEN _nth = 1 AND created_at IS NULL THEN 'Created at'",
             "WHEN _nth > 1 AND total IS NOT NULL THEN 'twice'"]
    if need_currency:
        kinds.append("WHEN _nth = 1 AND currency IS NULL THEN 'Currency'")
    if has_lines:
        kinds += [f"WHEN {_LINE_ROW} AND li_qty IS NULL THEN 'Lineitem quantity'",
                  f"WHEN {_LINE_ROW} AND li_price IS NULL THEN 'Lineitem price'"]
    bad = con.execute(
        f"SELECT _file, _row, name, _first, kind, coalesce(li_name, li_sku) FROM ("
        f" SELECT *, CASE {' '.join(kinds)} END AS kind FROM {raw}_t) "
        f"WHERE kind IS NOT NULL ORDER BY _row LIMIT 1").fetchone()
    if not bad:
        return
    file, row, name, first, kind, item = bad
    if kind == "name":
        raise InputError("the order number (Name) is empty", Location(file, row, "Name", ""),
                         fix="every row of a Shopify export starts with its order's Name "
                             "(#1001); fill it in or delete the row")
    if kind == "twice":
        raise InputError(
            f"order {name} has order-level values (Total) on two rows: {first} and {row}",
            Location(file, row, "Total", name),
            fix="the order appears twice (e.g. two exports pasted together); keep one copy, "
                "or import the exports as separate files")
    if kind == "Currency":
        raise InputError(f"Currency is empty on the first row of order {name}",
                         Location(file, row, "Currency", ""),
                         fix="fill in the currency, or pass --currency (currency='EUR') for "
                             "orders without one")
    if kind.startswith("Lineitem"):
        raise InputError(f"line item {item!r} of order {name} has no {kind.split()[1]}",
                         Location(file, row, kind, ""),
                         fix="fill in the line item's quantity and price, or export the orders "
                             "again")
    raise InputError(
        f"{kind} is empty on the first row of order {name}", Location(file, row, kind, ""),
        fix=f"Shopify writes {kind} on the first row of each order; export the orders again, "
            "or put the order's first row (the one with its totals) first")


def _build(con: duckdb.DuckDBPyConnection, f: _File, store_mode: str, *,
           currency: str | None, order_prefix: str) -> None:
    """``…_orders`` and ``…_lines`` of one file, in canonical columns (+ helpers)."""
    raw = f.raw
    rest = "(total - subtotal)"
    ship, tax, duty = "coalesce(shipping, 0)", "coalesce(taxes, 0)", "coalesce(duties, 0)"
    mode = (f"coalesce(_exact, CASE WHEN '{store_mode}' = 'top' AND {rest} > {tax} + {duty} "
            f"- {EPS} THEN 'top' ELSE 'inc' END)")
    tax_c = f"CASE _mode WHEN 'top' THEN {tax} + {duty} ELSE {duty} END"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {raw}_c AS
        SELECT *, CASE WHEN _after < -{EPS} THEN 6
                       WHEN _after > {ship} + {EPS} THEN 5
                       WHEN abs(_after - {ship}) < {EPS}
                           THEN CASE WHEN _mode = 'top' OR {tax} = 0 THEN 1 ELSE 2 END
                       WHEN _mode = 'top' THEN 4 ELSE 3 END AS _case
        FROM (SELECT *, {tax_c} AS _tax, round({rest} - ({tax_c}), 6) AS _after
              FROM (SELECT *, {mode} AS _mode FROM {raw}_o))
        """
    )
    bad = con.execute(f"SELECT _file, _row, name, total, subtotal, duties FROM {raw}_c "
                      "WHERE _case = 6 ORDER BY _row LIMIT 1").fetchone()
    if bad:
        shown = con.execute(f'SELECT CAST("Total" AS VARCHAR) FROM {raw} WHERE _row = ?',
                            [bad[1]]).fetchone()[0]
        duties = f" + Duties {bad[5]:g}" if bad[5] else ""
        raise InputError(
            f"order {bad[2]}: Total {bad[3]:g} is less than Subtotal {bad[4]:g}{duties}",
            Location(bad[0], bad[1], "Total", shown),
            fix="Shopify's Total is Subtotal + Shipping (+ Taxes when charged on top); check "
                "the export or correct the amounts")

    status = """CASE
        WHEN contains(lower(coalesce(o.gateway, '')), 'bogus')
          OR regexp_matches(lower(coalesce(o.tags, '')), '(^|,)\\s*test\\s*(,|$)') THEN 'test'
        WHEN o.cancelled_at IS NOT NULL OR lower(o.financial) = 'voided' THEN 'cancelled'
        WHEN lower(o.financial) = 'refunded' THEN 'refunded'
        ELSE 'placed' END"""
    customer = "md5(lower(o.email))" if f.has_email else "CAST(NULL AS VARCHAR)"
    prefix = f"{sql_str(order_prefix)} || " if order_prefix else ""
    billing = "coalesce(o.bill_country, o.bill_region, o.bill_city) IS NOT NULL"
    if f.has_lines:
        units_join = (f"LEFT JOIN (SELECT name, sum(li_qty) AS units FROM {raw}_t "
                      f"WHERE {_LINE_ROW} GROUP BY name) u ON u.name = o.name")
        units = "coalesce(u.units, 0)"
    else:
        units_join, units = "", "CAST(NULL AS DOUBLE)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {raw}_orders AS
        SELECT o._file, o._row, {prefix}o.name AS order_id, 'shopify' AS source,
               {customer} AS customer_id, o.created_at, o.order_date,
               lower(o.source) AS channel,
               upper(coalesce(o.bill_country, o.ship_country)) AS country,
               CASE WHEN {billing} THEN o.bill_region ELSE o.ship_region END AS region,
               CASE WHEN {billing} THEN o.bill_city ELSE o.ship_city END AS city,
               CAST(NULL AS VARCHAR) AS device,
               coalesce(upper(o.currency), {sql_str(currency) if currency else 'NULL'})
                   AS currency,
               o.subtotal + coalesce(o.discount, 0) AS gross_sales,
               coalesce(o.discount, 0) AS discounts,
               CASE WHEN o._case IN (3, 4) THEN o._after ELSE coalesce(o.shipping, 0) END
                   AS shipping,
               o._tax AS tax, coalesce(o.refunded, 0) AS returns, o.total,
               CAST(NULL AS DOUBLE) AS cost, {units} AS units, {status} AS status,
               o.coupon, o._case
        FROM {raw}_c o {units_join}
        """
    )
    if f.has_lines:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {raw}_lines AS
            SELECT _file, _row, {prefix}name AS order_id,
                   CAST(row_number() OVER (PARTITION BY name ORDER BY _row) AS INTEGER)
                       AS line_no,
                   'product' AS line_type, coalesce(li_sku, li_name) AS product_id,
                   li_name AS name, CAST(NULL AS VARCHAR) AS category,
                   li_qty AS quantity, li_price AS unit_price,
                   CAST(NULL AS DOUBLE) AS unit_cost, coalesce(li_disc, 0) AS line_discount
            FROM {raw}_t WHERE {_LINE_ROW}
            """
        )


def _header(path: str) -> list[str]:
    """The header's column names, read the way DuckDB will read the rest of the file."""
    check_file(path)
    opener = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(1 << 20)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot be read: {exc}", Location(path), fix=EXPORT_FIX) from exc
    text = head.decode("utf-8-sig", errors="replace")
    if "\x00" in text:
        raise InputError("is not a text (CSV) file", Location(path), fix=EXPORT_FIX)
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise InputError(f"the header line cannot be read as CSV: {exc}", Location(path),
                         fix=EXPORT_FIX) from exc
    if any("\n" in name or "\r" in name for name in header):
        raise InputError("the header line has an unclosed quote", Location(path),
                         fix=EXPORT_FIX)
    names: list[str] = []
    for n, name in enumerate(header, start=1):
        name = name.strip() or f"column{n}"
        while name in names:  # DuckDB needs distinct names; the first keeps its own
            name += "_"
        names.append(name)
    return names


def _read(con: duckdb.DuckDBPyConnection, path: str, i: int) -> list[str]:
    """Load ``path`` into ``raw_shopify_<i>``: every column text, data rows numbered from 1.

    The dialect is fixed rather than sniffed: Shopify writes comma-separated RFC 4180 CSV,
    and DuckDB's sniffer takes the ``#`` that starts every order number for a comment
    marker when a line is damaged, and then silently reads no rows at all.
    """
    header = _header(path)
    opts = {"auto_detect": False, "delim": ",", "comment": "", "skip": 0,
            "columns": {name: "VARCHAR" for name in header}}
    try:
        return read_raw(con, path, f"shopify_{i}", csv_options=opts)
    except InputError as exc:
        m = re.search(r"CSV Error on Line: (\d+).*?Expected Number of Columns: (\d+) "
                      r"Found: (\d+)", str(exc.__cause__), re.S)
        if not m:
            raise
        line, expected, found = m.groups()
        raise InputError(
            f"line {line} of the file has {found} fields where the header has {expected} "
            "(a truncated or damaged line)", Location(path),
            fix="export the orders again from Shopify admin; if the file was edited, check "
                "that line for a missing or extra comma") from exc
    except duckdb.Error as exc:  # anything read_raw does not translate itself
        raise InputError(f"cannot be read as CSV: {str(exc).splitlines()[0]}", Location(path),
                         fix=EXPORT_FIX) from exc


def _notes(con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
    counts = dict(con.execute(
        "SELECT _case, count(*) FROM raw_shopify_all WHERE _case > 1 GROUP BY _case").fetchall())
    texts = {
        2: "{} orders have prices that include tax (Total = Subtotal + Shipping): tax is 0",
        3: "{} orders have a waived or discounted shipping charge, prices including any tax: "
           "shipping is what Total shows was charged",
        4: "{} orders have tax on top and a waived or discounted shipping charge: shipping is "
           "what Total shows was charged",
        5: "{} orders have a Total above Subtotal + Shipping + Taxes (tips or other charges "
           "the export does not itemise); total is kept as the file's Total",
    }
    for case, n in sorted(counts.items()):
        summary.notes.append(texts[case].format(n))
