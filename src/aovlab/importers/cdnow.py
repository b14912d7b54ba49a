"""CDNOW master file (Fader, Hardie & Lee): one line per purchase.

The file is whitespace-separated text with four fields per line — customer id, date
(``YYYYMMDD``), number of CDs, dollar value — and an optional header line
`` customer_id  date number_of_cds  dollar_value``. Rules (documented in docs/importers.md):

* Every line is one order. Lines that repeat a (customer, date) pair stay separate orders;
  ``order_id`` is ``<customer>-<YYYYMMDD>-<n>``, ``n`` counting that customer's lines of
  that day in file order (1, 2, ...), so ids are unique and stable across re-imports.
* ``customer_id`` is the id zero-padded to five digits as in the file (``00001``).
* ``created_at`` is the date at midnight in America/New_York (CDNOW was a US store; the
  file has no times); ``order_date`` is the date. Currency USD, status ``placed``.
* ``gross_sales`` = ``total`` = dollar value; discounts, shipping, tax and returns 0;
  ``units`` = number of CDs. No order lines and no products: CDNOW has no product data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..errors import AovlabError, InputError, Location
from ..storage import StagingContext
from .base import Importer, option, register
from .reading import check_file, check_timezone, checked_cast, nonnegative, sql_str

TIMEZONE = "America/New_York"
COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")
_LAYOUT = ("each line holds customer id, date (YYYYMMDD), number of CDs and dollar value "
           "separated by spaces, e.g. '00001 19970101  1   11.77'")


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Every line of ``path`` as text, with its 1-based line number, into raw_cdnow_text."""
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE raw_cdnow_text AS
            SELECT {sql_str(str(path))} AS _file,
                   CAST(row_number() OVER () AS BIGINT) AS _line, line
            FROM read_csv({sql_str(str(path))}, columns = {{'line': 'VARCHAR'}},
                          header = false, delim = '\x01', quote = '', escape = '',
                          auto_detect = false, strict_mode = true)
            """
        )
    except (duckdb.InvalidInputException, duckdb.ConversionException,
            duckdb.IOException, duckdb.BinderException) as exc:
        first = " ".join(str(exc).strip().splitlines()[:2])
        raise InputError(
            f"cannot be read as a CDNOW text file: {first}", Location(str(path)),
            fix="use the plain-text CDNOW_master.txt (UTF-8 or ASCII); " + _LAYOUT,
        ) from exc


@dataclass(frozen=True)
class CdnowOptions:
    timezone: str | None = option(
        "Store time zone for timestamps written without an offset (IANA name).")


@dataclass(frozen=True)
class _Found:
    file: str
    tz: str


@register
class Cdnow(Importer):
    name = "cdnow"
    help = "CDNOW master file (customer, date, CDs, dollars)."
    Options = CdnowOptions

    def read(self, ctx: StagingContext, paths: list[str], opts: CdnowOptions) -> _Found:
        if len(paths) != 1:
            raise AovlabError(f"the cdnow format reads one file, got {len(paths)}",
                              fix="import CDNOW_master.txt on its own")
        path = check_file(paths[0])
        file = str(path)
        tz = opts.timezone or TIMEZONE
        check_timezone(ctx.con, tz, file)
        ctx.progress(f"reading {path.name}")
        _read(ctx.con, path)
        fields = r"regexp_split_to_array(regexp_replace(line, '^\s+|\s+$', '', 'g'), '\s+')"
        # A first line of words without a single digit is the header; anything else is data.
        header = ctx.one(
            "SELECT count(*) FROM raw_cdnow_text WHERE _line = 1 AND line IS NOT NULL "
            "AND regexp_matches(line, '[A-Za-z]') AND NOT regexp_matches(line, '[0-9]')")[0]
        ctx.execute(f"""
            CREATE OR REPLACE TEMP TABLE raw_cdnow AS
            SELECT _file, _line - {header} AS _row, line, f, len(f) AS nf,
                   f[1] AS customer_id, f[2] AS date, f[3] AS number_of_cds,
                   f[4] AS dollar_value
            FROM (SELECT *, {fields} AS f FROM raw_cdnow_text
                  WHERE _line > {header} AND line IS NOT NULL
                    AND NOT regexp_full_match(line, '\\s*'))""")
        data_rows = ctx.one(
            f"SELECT count(*) FROM raw_cdnow_text WHERE _line > {header}")[0]
        rows = ctx.count("raw_cdnow")
        ctx.summary.rows_read = data_rows
        if data_rows > rows:
            ctx.summary.skipped["blank lines"] = data_rows - rows
        if rows == 0:
            raise InputError("has no purchase lines", Location(file),
                             fix="export CDNOW_master.txt again; " + _LAYOUT)
        return _Found(file, tz)

    def check(self, ctx: StagingContext, found: _Found, opts: CdnowOptions) -> None:
        bad = ctx.one(
            "SELECT _file, _row, nf, line FROM raw_cdnow WHERE nf <> 4 ORDER BY _row LIMIT 1")
        if bad:
            column = COLUMNS[bad[2]] if bad[2] < 4 else f"field {bad[2]}"
            raise InputError(
                f"has {bad[2]} fields; a CDNOW line has 4 ({', '.join(COLUMNS)})",
                Location(bad[0], bad[1], column, bad[3].strip()),
                fix=_LAYOUT + "; fix or delete the line" + (
                    ". Five fields look like CDNOW_sample.txt (with a sample id); import "
                    "CDNOW_master.txt instead" if bad[2] == 5 else ""),
            )
        con = ctx.con
        customer = checked_cast(
            con, "raw_cdnow", "customer_id", "customer_id", "BIGINT",
            try_expr="CASE WHEN regexp_full_match(customer_id, '[0-9]{1,18}') "
                     "THEN printf('%05d', CAST(customer_id AS BIGINT)) END",
            fix="customer_id must be the customer's number, such as 00001")
        date = checked_cast(
            con, "raw_cdnow", "date", "date", "DATE",
            try_expr="CASE WHEN regexp_full_match(date, '[0-9]{8}') "
                     "THEN CAST(try_strptime(date, '%Y%m%d') AS DATE) END",
            fix="write the date as YYYYMMDD, such as 19970101, and check that the day exists")
        cds = checked_cast(
            con, "raw_cdnow", "number_of_cds", "number_of_cds", "BIGINT",
            try_expr="CASE WHEN regexp_full_match(number_of_cds, '[0-9]{1,9}') "
                     "THEN CAST(number_of_cds AS BIGINT) END",
            fix="number_of_cds must be a whole number of CDs, such as 2")
        conv = "TRY_CAST(dollar_value AS DOUBLE)"
        dollars = checked_cast(
            con, "raw_cdnow", "dollar_value", "dollar_value", "DOUBLE",
            try_expr=f"CASE WHEN isfinite({conv}) THEN {conv} END",
            fix="dollar_value must be a decimal number of US dollars, such as 11.77")
        nonnegative(con, "raw_cdnow", dollars, "dollar_value",
                    fix="dollar_value must be 0 or more; CDNOW lines are purchases, not refunds")
        ctx.execute(f"""
            CREATE OR REPLACE TEMP TABLE raw_cdnow_typed AS
            SELECT _file, _row, {customer} AS customer_id, {date} AS date,
                   CAST({cds} AS DOUBLE) AS cds, {dollars} AS dollars
            FROM raw_cdnow""")

    def build(self, ctx: StagingContext, found: _Found, opts: CdnowOptions) -> None:
        ctx.emit("orders", f"""
            SELECT _file, _row,
                   concat_ws('-', customer_id, strftime(date, '%Y%m%d'),
                             CAST(row_number() OVER (PARTITION BY customer_id, date
                                                     ORDER BY _row) AS VARCHAR)) AS order_id,
                   customer_id,
                   timezone({sql_str(found.tz)}, CAST(date AS TIMESTAMP)) AS created_at,
                   date AS order_date, 'USD' AS currency,
                   dollars AS gross_sales, dollars AS total, cds AS units, 'placed' AS status
            FROM raw_cdnow_typed""")
        ctx.emit("customers", """
            SELECT min(_file) AS _file, min(_row) AS _row, customer_id
            FROM raw_cdnow_typed GROUP BY customer_id""")
        repeats, free = ctx.one(
            "SELECT count(*) FILTER (WHERE NOT ends_with(order_id, '-1')), "
            "count(*) FILTER (WHERE total = 0) FROM stage_orders")
        if repeats:
            ctx.summary.notes.append(
                f"{repeats} lines repeat a (customer, date) pair of an earlier line; each is "
                "kept as its own order (order_id suffix -2, -3, ...), not merged")
        if free:
            ctx.summary.notes.append(
                f"{free} orders have dollar_value 0; they are kept as orders")
