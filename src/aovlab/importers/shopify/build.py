"""Building one Shopify export's canonical orders and lines (tax on top or included)."""

from __future__ import annotations

import duckdb

from ...errors import InputError, Location
from ..reading import sql_str
from .rules import EPS, LINE_ROW, ExportFile


def classify(con: duckdb.DuckDBPyConnection, f: ExportFile, store_mode: str) -> None:
    """``…_c``: each order's tax mode and case (module docstring); refuse case 6."""
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
    # Prices that include tax: Shopify reports gross sales, discounts and shipping without
    # the tax they contain, and the tax apart. The export gives one Taxes figure per order,
    # split here over merchandise (Subtotal) and shipping in proportion to their amounts,
    # as one rate on the whole order makes it (Australian GST: Subtotal / 11): both are
    # multiplied by _ex_tax = 1 − Taxes / (Subtotal + Shipping paid).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {raw}_c AS
        SELECT *, CASE WHEN _inc_tax > 0
                       THEN greatest(1 - _inc_tax / (subtotal + _ship_paid), 0) ELSE 1 END
                       AS _ex_tax
        FROM (SELECT *, CASE WHEN _case IN (3, 4) THEN _after ELSE {ship} END AS _ship_paid,
                        CASE WHEN _mode = 'inc' AND subtotal + (CASE WHEN _case IN (3, 4)
                             THEN _after ELSE {ship} END) > 0 THEN {tax} ELSE 0 END AS _inc_tax
              FROM {raw}_c)
        """
    )
    over = con.execute(f"SELECT _file, _row, name, taxes, subtotal, _ship_paid FROM {raw}_c "
                       f"WHERE _inc_tax > subtotal + _ship_paid + {EPS} "
                       "ORDER BY _row LIMIT 1").fetchone()
    if over:
        raise InputError(
            f"order {over[2]}: prices include tax, but Taxes {over[3]:g} exceed Subtotal "
            f"{over[4]:g} + Shipping {over[5]:g}, the amounts that would contain it",
            Location(over[0], over[1], "Taxes", f"{over[3]:g}"),
            fix="check the export's Taxes, Subtotal and Shipping on that order")
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


def build(con: duckdb.DuckDBPyConnection, f: ExportFile, *, currency: str | None) -> None:
    """``…_orders`` and ``…_lines`` of one file, in canonical columns (+ helpers)."""
    raw = f.raw
    status = """CASE
        WHEN contains(lower(coalesce(o.gateway, '')), 'bogus')
          OR regexp_matches(lower(coalesce(o.tags, '')), '(^|,)\\s*test\\s*(,|$)') THEN 'test'
        WHEN o.cancelled_at IS NOT NULL OR lower(o.financial) = 'voided' THEN 'cancelled'
        WHEN lower(o.financial) = 'refunded' THEN 'refunded'
        ELSE 'placed' END"""
    customer = "md5(lower(o.email))" if f.has_email else "CAST(NULL AS VARCHAR)"
    billing = "coalesce(o.bill_country, o.bill_region, o.bill_city) IS NOT NULL"
    if f.has_lines:
        units_join = (f"LEFT JOIN (SELECT name, sum(li_qty) AS units FROM {raw}_t "
                      f"WHERE {LINE_ROW} GROUP BY name) u ON u.name = o.name")
        units = "coalesce(u.units, 0)"
    else:
        units_join, units = "", "CAST(NULL AS DOUBLE)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {raw}_orders AS
        SELECT o._file, o._row, o.name AS order_id,
               {customer} AS customer_id, o.created_at, o.order_date,
               lower(o.source) AS channel,
               upper(coalesce(o.bill_country, o.ship_country)) AS country,
               CASE WHEN {billing} THEN o.bill_region ELSE o.ship_region END AS region,
               CASE WHEN {billing} THEN o.bill_city ELSE o.ship_city END AS city,
               CAST(NULL AS VARCHAR) AS device,
               coalesce(upper(o.currency), {sql_str(currency) if currency else 'NULL'})
                   AS currency,
               (o.subtotal + coalesce(o.discount, 0)) * o._ex_tax AS gross_sales,
               coalesce(o.discount, 0) * o._ex_tax AS discounts,
               o._ship_paid * o._ex_tax AS shipping,
               o._tax + o._inc_tax AS tax, coalesce(o.refunded, 0) * o._ex_tax AS returns, o.total,
               CAST(NULL AS DOUBLE) AS cost, {units} AS units, {status} AS status,
               o.coupon, o._case, o._inc_tax > 0 AS _tax_included, o._ex_tax
        FROM {raw}_c o {units_join}
        """
    )
    if f.has_lines:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {raw}_lines AS
            SELECT t._file, t._row, t.name AS order_id,
                   CAST(row_number() OVER (PARTITION BY t.name ORDER BY t._row) AS INTEGER)
                       AS line_no,
                   'product' AS line_type, coalesce(li_sku, li_name) AS product_id,
                   li_name AS name, CAST(NULL AS VARCHAR) AS category,
                   li_qty AS quantity, li_price * o._ex_tax AS unit_price,
                   CAST(NULL AS DOUBLE) AS unit_cost,
                   coalesce(li_disc, 0) * o._ex_tax AS line_discount
            FROM {raw}_t t JOIN (SELECT order_id, _ex_tax FROM {raw}_orders) o
                ON o.order_id = t.name
            WHERE {LINE_ROW}
            """
        )


def notes(con: duckdb.DuckDBPyConnection, summary) -> None:
    counts = dict(con.execute(
        "SELECT _case, count(*) FROM raw_shopify_all WHERE _case > 1 GROUP BY _case").fetchall())
    texts = {
        2: "{} orders have prices that include tax (Total = Subtotal + Shipping): gross sales, "
           "discounts and shipping exclude that tax, as Shopify reports them, and tax holds it",
        3: "{} orders have a waived or discounted shipping charge, prices including any tax: "
           "shipping is what Total shows was charged",
        4: "{} orders have tax on top and a waived or discounted shipping charge: shipping is "
           "what Total shows was charged",
        5: "{} orders have a Total above Subtotal + Shipping + Taxes (tips or other charges "
           "the export does not itemise); total is kept as the file's Total",
    }
    for case, n in sorted(counts.items()):
        summary.notes.append(texts[case].format(n))
