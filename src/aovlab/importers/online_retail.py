"""UCI Online Retail (id 352) and Online Retail II (id 502).

Rules (documented in docs/importers.md; every source line is kept):

* One order per ``InvoiceNo``; ``created_at`` is the invoice's earliest ``InvoiceDate``,
  read as UK local time (Europe/London); currency GBP; ``customer_id`` NULL when missing.
* Status: ``C…`` invoices are cancellations (UCI: "If this code starts with letter 'c', it
  indicates a cancellation") → ``cancelled``; ``A…`` invoices ("Adjust bad debt") and
  invoices without a single line of positive quantity and price (stock adjustments) →
  ``adjustment``; everything else → ``placed``.
* Line types by ``StockCode``: POST, DOT, C2 → shipping; D → discount; BANK CHARGES,
  AMAZONFEE, CRUK → fee; S (samples), B (bad debt), PADS → adjustment; the rest (including
  M, manual) → product.
* ``gross_sales`` = Σ product lines, ``discounts`` = −Σ discount lines, ``shipping`` = Σ
  shipping lines, ``tax`` = 0 (prices as invoiced), ``total`` = Σ all lines, so Σ total over
  all orders is the dataset's published Σ Quantity × UnitPrice.
"""

from __future__ import annotations

import duckdb

from ..workspace import ImportSummary, ProgressFn
from .base import checked_cast, read_raw_many, require_columns

# Column names of the two UCI releases -> our names.
VARIANTS: dict[str, dict[str, str]] = {
    "online_retail": {
        "invoice": "InvoiceNo", "code": "StockCode", "name": "Description",
        "quantity": "Quantity", "ts": "InvoiceDate", "price": "UnitPrice",
        "customer": "CustomerID", "country": "Country",
    },
    "online_retail_ii": {
        "invoice": "Invoice", "code": "StockCode", "name": "Description",
        "quantity": "Quantity", "ts": "InvoiceDate", "price": "Price",
        "customer": "Customer ID", "country": "Country",
    },
}

SHIPPING_CODES = ("POST", "DOT", "C2")
DISCOUNT_CODES = ("D",)
FEE_CODES = ("BANK CHARGES", "AMAZONFEE", "CRUK")
ADJUSTMENT_CODES = ("S", "B", "PADS")
TIMEZONE = "Europe/London"


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def stage(
    con: duckdb.DuckDBPyConnection, summary: ImportSummary, progress: ProgressFn, *paths: str
) -> None:
    progress("reading")
    cols = read_raw_many(con, paths, "uci")
    path = ", ".join(paths)
    variant = next((v for v, m in VARIANTS.items() if m["invoice"] in cols), "online_retail")
    m = {k: f'"{v}"' for k, v in VARIANTS[variant].items()}
    require_columns(cols, VARIANTS[variant].values(), path, "UCI Online Retail")
    summary.rows_read = con.execute("SELECT count(*) FROM raw_uci").fetchone()[0]

    qty = checked_cast(con, "raw_uci", m["quantity"], VARIANTS[variant]["quantity"], "DOUBLE",
                       fix="Quantity must be a whole number (negative for returns)")
    price = checked_cast(con, "raw_uci", m["price"], VARIANTS[variant]["price"], "DOUBLE",
                         fix="UnitPrice must be a decimal number such as 2.55")
    ts_text = f"trim(CAST({m['ts']} AS VARCHAR))"
    ts = checked_cast(
        con, "raw_uci", m["ts"], VARIANTS[variant]["ts"], "TIMESTAMP",
        try_expr=f"coalesce(TRY_CAST({ts_text} AS TIMESTAMP), "
                 f"try_strptime({ts_text}, '%m/%d/%Y %H:%M'), "
                 f"try_strptime({ts_text}, '%d/%m/%Y %H:%M'))",
        fix="write InvoiceDate as YYYY-MM-DD HH:MM:SS (or M/D/YYYY H:MM as in the UCI file)",
    )
    # CustomerID was a float in the UCI Excel file: 17850.0 and 17850 are the same customer.
    cust = (f"nullif(regexp_replace(trim(CAST({m['customer']} AS VARCHAR)), '\\.0+$', ''), '')")
    code = f"upper(trim(CAST({m['code']} AS VARCHAR)))"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE raw_uci_typed AS
        SELECT _file, _row,
               trim(CAST({m['invoice']} AS VARCHAR)) AS invoice,
               trim(CAST({m['code']} AS VARCHAR)) AS product_id,
               CAST({m['name']} AS VARCHAR) AS name,
               {qty} AS quantity, {price} AS unit_price, {ts} AS ts,
               {cust} AS customer_id,
               nullif(trim(CAST({m['country']} AS VARCHAR)), '') AS country,
               CASE WHEN {code} IN ({_in(SHIPPING_CODES)}) THEN 'shipping'
                    WHEN {code} IN ({_in(DISCOUNT_CODES)}) THEN 'discount'
                    WHEN {code} IN ({_in(FEE_CODES)}) THEN 'fee'
                    WHEN {code} IN ({_in(ADJUSTMENT_CODES)}) THEN 'adjustment'
                    ELSE 'product' END AS line_type
        FROM raw_uci
        """
    )
    from ..errors import InputError, Location

    bad = con.execute(
        "SELECT _file, _row, invoice FROM raw_uci_typed WHERE invoice IS NULL OR invoice = '' "
        "OR quantity IS NULL OR unit_price IS NULL OR ts IS NULL ORDER BY _row LIMIT 1"
    ).fetchone()
    if bad:
        raise InputError("invoice number, quantity, price and date are required on every line",
                         Location(bad[0], bad[1], VARIANTS[variant]["invoice"], bad[2]),
                         fix="fill in the empty cell or delete the incomplete line")
    progress("building orders")
    con.execute(
        """
        CREATE TEMP TABLE stage_order_lines AS
        SELECT _file, _row, invoice AS order_id,
               CAST(row_number() OVER (PARTITION BY invoice ORDER BY _row) AS INTEGER) AS line_no,
               line_type, product_id, name, CAST(NULL AS VARCHAR) AS category,
               quantity, unit_price, CAST(NULL AS DOUBLE) AS unit_cost,
               0.0 AS line_discount
        FROM raw_uci_typed
        """
    )
    con.execute(
        f"""
        CREATE TEMP TABLE stage_orders AS
        SELECT min(_file) AS _file, min(_row) AS _row, invoice AS order_id,
               '{variant}' AS source,
               any_value(customer_id) AS customer_id,
               timezone('{TIMEZONE}', min(ts)) AS created_at,
               CAST(min(ts) AS DATE) AS order_date,
               CAST(NULL AS VARCHAR) AS channel, any_value(country) AS country,
               CAST(NULL AS VARCHAR) AS device, 'GBP' AS currency,
               coalesce(sum(quantity * unit_price) FILTER (WHERE line_type = 'product'), 0)
                   AS gross_sales,
               -coalesce(sum(quantity * unit_price) FILTER (WHERE line_type = 'discount'), 0)
                   AS discounts,
               coalesce(sum(quantity * unit_price) FILTER (WHERE line_type = 'shipping'), 0)
                   AS shipping,
               0.0 AS tax, 0.0 AS returns,
               sum(quantity * unit_price) AS total,
               CAST(NULL AS DOUBLE) AS cost,
               coalesce(sum(quantity) FILTER (WHERE line_type = 'product'), 0) AS units,
               CASE WHEN starts_with(upper(invoice), 'C') THEN 'cancelled'
                    WHEN starts_with(upper(invoice), 'A') THEN 'adjustment'
                    WHEN count(*) FILTER (WHERE quantity > 0 AND unit_price > 0) = 0
                        THEN 'adjustment'
                    ELSE 'placed' END AS status,
               CAST(NULL AS VARCHAR) AS coupon
        FROM raw_uci_typed GROUP BY invoice
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE stage_products AS
        SELECT min(_file) AS _file, min(_row) AS _row, product_id,
               first(name ORDER BY _row) AS name, CAST(NULL AS VARCHAR) AS category,
               CAST(NULL AS DOUBLE) AS price, CAST(NULL AS DOUBLE) AS unit_cost
        FROM raw_uci_typed WHERE line_type = 'product' GROUP BY product_id
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE stage_customers AS
        SELECT min(_file) AS _file, min(_row) AS _row, customer_id,
               first(country ORDER BY _row) AS country, CAST(NULL AS VARCHAR) AS region,
               CAST(NULL AS VARCHAR) AS city, CAST(NULL AS TIMESTAMPTZ) AS first_seen
        FROM raw_uci_typed WHERE customer_id IS NOT NULL GROUP BY customer_id
        """
    )
    con.execute("DROP TABLE raw_uci_typed")
