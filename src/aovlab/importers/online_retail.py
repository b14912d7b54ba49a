"""UCI Online Retail (id 352) and Online Retail II (id 502).

Rules (documented in docs/importers.md; every source line is kept):

* One order per ``InvoiceNo``; ``created_at`` is the invoice's earliest ``InvoiceDate``,
  read as UK local time (Europe/London); currency GBP; ``customer_id`` NULL when missing.
* Status: ``C…`` invoices are cancellations (UCI: "If this code starts with letter 'c', it
  indicates a cancellation") → ``cancelled``; ``A…`` invoices ("Adjust bad debt") and
  invoices without a single line of positive quantity and price (stock adjustments, or
  only a reversed discount) → ``adjustment``; everything else → ``placed``.
* Line types by ``StockCode``: POST, DOT, C2 → shipping; D → discount, or adjustment when
  its quantity × price is positive (it charges the customer: a reversed discount, since
  discounts are never negative; 5 invoices of Online Retail II); BANK CHARGES,
  AMAZONFEE, CRUK → fee; S (samples), B (bad debt), PADS → adjustment; the rest (including
  M, manual) → product.
* ``gross_sales`` = Σ product lines, ``discounts`` = −Σ discount lines, ``shipping`` = Σ
  shipping lines, ``tax`` = 0 (prices as invoiced), ``total`` = Σ all lines, so Σ total over
  all orders is the dataset's published Σ Quantity × UnitPrice.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import InputError, Location
from ..storage import StagingContext
from .base import Importer, NoOptions, register
from .reading import checked_cast, read_raw_many, require_columns

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


def bundled_online_retail() -> Path:
    """The UCI Online Retail file shipped with aovlab (CC BY 4.0), for the demo."""
    return Path(str(resources.files("aovlab") / "data" / "online_retail.parquet"))


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


@dataclass(frozen=True)
class _Found:
    variant: str
    names: dict[str, str]  # our name -> source column


@register
class OnlineRetail(Importer):
    name = "online_retail"
    help = "UCI Online Retail / Online Retail II (CSV, CSV.GZ or Parquet)."
    reads = "one or more files"
    aliases = ("uci", "online_retail_ii")
    Options = NoOptions

    def read(self, ctx: StagingContext, paths: list[str], opts: NoOptions) -> _Found:
        ctx.progress("reading")
        cols = read_raw_many(ctx.con, paths, "uci")
        variant = next((v for v, m in VARIANTS.items() if m["invoice"] in cols),
                       "online_retail")
        require_columns(cols, VARIANTS[variant].values(), ", ".join(paths),
                        "UCI Online Retail")
        ctx.summary.rows_read = ctx.count("raw_uci")
        return _Found(variant, VARIANTS[variant])

    def check(self, ctx: StagingContext, found: _Found, opts: NoOptions) -> None:
        names = found.names
        m = {k: f'"{v}"' for k, v in names.items()}
        qty = checked_cast(ctx.con, "raw_uci", m["quantity"], names["quantity"], "DOUBLE",
                           fix="Quantity must be a whole number (negative for returns)")
        price = checked_cast(ctx.con, "raw_uci", m["price"], names["price"], "DOUBLE",
                             fix="UnitPrice must be a decimal number such as 2.55")
        ts_text = f"trim(CAST({m['ts']} AS VARCHAR))"
        ts = checked_cast(
            ctx.con, "raw_uci", m["ts"], names["ts"], "TIMESTAMP",
            try_expr=f"coalesce(TRY_CAST({ts_text} AS TIMESTAMP), "
                     f"try_strptime({ts_text}, '%m/%d/%Y %H:%M'), "
                     f"try_strptime({ts_text}, '%d/%m/%Y %H:%M'))",
            fix="write InvoiceDate as YYYY-MM-DD HH:MM:SS (or M/D/YYYY H:MM as in the UCI file)",
        )
        # CustomerID was a float in the UCI Excel file: 17850.0 and 17850 are one customer.
        cust = f"nullif(regexp_replace(trim(CAST({m['customer']} AS VARCHAR)), '\\.0+$', ''), '')"
        code = f"upper(trim(CAST({m['code']} AS VARCHAR)))"
        ctx.execute(f"""
            CREATE OR REPLACE TEMP TABLE raw_uci_typed AS
            SELECT _file, _row,
                   trim(CAST({m['invoice']} AS VARCHAR)) AS invoice,
                   trim(CAST({m['code']} AS VARCHAR)) AS product_id,
                   CAST({m['name']} AS VARCHAR) AS name,
                   {qty} AS quantity, {price} AS unit_price, {ts} AS ts,
                   {cust} AS customer_id,
                   nullif(trim(CAST({m['country']} AS VARCHAR)), '') AS country,
                   CASE WHEN {code} IN ({_in(SHIPPING_CODES)}) THEN 'shipping'
                        -- a discount line that charges the customer reverses a discount:
                        -- an adjustment, since discounts are never negative (the policy)
                        WHEN {code} IN ({_in(DISCOUNT_CODES)}) AND {qty} * {price} > 0
                            THEN 'adjustment'
                        WHEN {code} IN ({_in(DISCOUNT_CODES)}) THEN 'discount'
                        WHEN {code} IN ({_in(FEE_CODES)}) THEN 'fee'
                        WHEN {code} IN ({_in(ADJUSTMENT_CODES)}) THEN 'adjustment'
                        ELSE 'product' END AS line_type,
                   coalesce({code} IN ({_in(DISCOUNT_CODES)}) AND {qty} * {price} > 0, false)
                       AS reversed_discount
            FROM raw_uci""")
        bad = ctx.one(
            "SELECT _file, _row, invoice FROM raw_uci_typed WHERE invoice IS NULL "
            "OR invoice = '' OR quantity IS NULL OR unit_price IS NULL OR ts IS NULL "
            "ORDER BY _row LIMIT 1")
        if bad:
            raise InputError(
                "invoice number, quantity, price and date are required on every line",
                Location(bad[0], bad[1], names["invoice"], bad[2]),
                fix="fill in the empty cell or delete the incomplete line")

    def build(self, ctx: StagingContext, found: _Found, opts: NoOptions) -> None:
        ctx.emit("order_lines", """
            SELECT _file, _row, invoice AS order_id,
                   row_number() OVER (PARTITION BY invoice ORDER BY _row) AS line_no,
                   line_type, product_id, name, quantity, unit_price
            FROM raw_uci_typed""")
        ctx.emit("orders", f"""
            SELECT min(_file) AS _file, min(_row) AS _row, invoice AS order_id,
                   first(customer_id ORDER BY _row) AS customer_id,
                   timezone('{TIMEZONE}', min(ts)) AS created_at,
                   CAST(min(ts) AS DATE) AS order_date, first(country ORDER BY _row) AS country,
                   'GBP' AS currency,
                   coalesce(sum(quantity * unit_price) FILTER (WHERE line_type = 'product'), 0)
                       AS gross_sales,
                   -coalesce(sum(quantity * unit_price) FILTER (WHERE line_type = 'discount'),
                             0) AS discounts,
                   coalesce(sum(quantity * unit_price) FILTER (WHERE line_type = 'shipping'), 0)
                       AS shipping,
                   sum(quantity * unit_price) AS total,
                   coalesce(sum(quantity) FILTER (WHERE line_type = 'product'), 0) AS units,
                   CASE WHEN starts_with(upper(invoice), 'C') THEN 'cancelled'
                        WHEN starts_with(upper(invoice), 'A') THEN 'adjustment'
                        WHEN count(*) FILTER (WHERE quantity > 0 AND unit_price > 0
                                              AND NOT reversed_discount) = 0
                            THEN 'adjustment'
                        ELSE 'placed' END AS status
            FROM raw_uci_typed GROUP BY invoice""")
        ctx.emit("products", """
            SELECT min(_file) AS _file, min(_row) AS _row, product_id,
                   first(name ORDER BY _row) AS name
            FROM raw_uci_typed WHERE line_type = 'product' GROUP BY product_id""")
        ctx.emit("customers", """
            SELECT min(_file) AS _file, min(_row) AS _row, customer_id,
                   first(country ORDER BY _row) AS country
            FROM raw_uci_typed WHERE customer_id IS NOT NULL GROUP BY customer_id""")
