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

* ``order_id`` = ``Name`` (``#1001``), unique per source: two stores numbering from
  ``#1001`` share a workspace under two ``--source`` names (a second store imported under
  the first one's source collides, and is refused);
  ``source`` = ``shopify``. The order's values come from its first row (lowest row number).
* ``created_at`` = ``Created at`` as an instant (Shopify writes an offset:
  ``2025-05-11 09:55:16 -0400``); ``order_date`` = the local date as written. Times without an
  offset need ``timezone=`` (an IANA name).
* Money: Shopify's ``Subtotal`` is after discounts, so ``gross_sales`` = Subtotal + Discount
  Amount and ``discounts`` = Discount Amount (net = gross − discounts = Subtotal exactly,
  when prices do not include tax — see below);
  ``returns`` = Refunded Amount; ``total`` = Total, exactly the file's; ``cost`` NULL.
* Tax included or on top, per order. With rest = Total − Subtotal, duties = Duties (0 when
  absent) and a half-cent tolerance, an order charges tax **on top** when rest = Shipping +
  Taxes + duties or (shipping waived) rest = Taxes + duties, with Taxes > 0; its prices
  **include** tax (e.g. Australian GST) when rest = Shipping + duties or rest = duties.
  An order that matches none of these takes the import's majority (on top when more orders
  with Taxes > 0 are on top than included; included otherwise). Then ``tax`` = Taxes +
  duties (on top or included alike), and ``shipping`` = what the customer paid for it
  (rest − Taxes − duties on top, rest − duties included). Prices that include tax: Shopify
  reports gross sales, discounts and shipping **without** the tax they contain, so
  ``gross_sales``, ``discounts``, ``shipping`` and the lines' prices and discounts are
  multiplied by 1 − Taxes / (Subtotal + shipping paid) — the export gives one Taxes figure
  per order, split over goods and shipping in proportion, as one rate on the whole order
  does (GST: Subtotal / 1.1). ``total`` stays the file's Total. The shipping paid is:

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

from dataclasses import dataclass

from ...errors import InputError, Location
from ...storage import StagingContext
from ..base import Importer, option, register
from ..reading import check_timezone
from .build import build, classify, notes
from .reading import load
from .rules import ExportFile

__all__ = ["Shopify", "ShopifyOptions"]


@dataclass(frozen=True)
class ShopifyOptions:
    timezone: str | None = option(
        "Store time zone for timestamps written without an offset (IANA name).")
    currency: str | None = option("Currency for files without a currency column (ISO code).")


@register
class Shopify(Importer):
    name = "shopify"
    help = "Shopify admin 'Export orders' CSV (one row per line item, or orders only)."
    reads = "one or more files"
    Options = ShopifyOptions

    def read(self, ctx: StagingContext, paths: list[str], opts: ShopifyOptions) -> list[ExportFile]:
        if not paths:
            raise InputError("no file given", Location("(none)"),
                             fix="pass one or more Shopify 'Export orders' CSV files")
        currency = self._currency(opts, paths)
        if opts.timezone is not None:
            check_timezone(ctx.con, opts.timezone, str(paths[0]))
        files = []
        for i, path in enumerate(paths):
            ctx.progress(f"reading {path}")
            f = load(ctx.con, str(path), i, timezone=opts.timezone, currency=currency)
            ctx.summary.rows_read += ctx.count(f.raw)
            files.append(f)
        return files

    @staticmethod
    def _currency(opts: ShopifyOptions, paths: list[str]) -> str | None:
        if opts.currency is None:
            return None
        currency = opts.currency.strip().upper()
        if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise InputError("the currency option is not a three-letter ISO 4217 code",
                             Location(str(paths[0]), None, "currency", opts.currency.strip()),
                             fix="pass a code such as AUD, EUR or USD")
        return currency

    def check(self, ctx: StagingContext, files: list[ExportFile], opts: ShopifyOptions) -> None:
        """Values and layout are checked as each file is read (reading.load); here each
        order's Total is classified against Subtotal, Shipping and Taxes."""
        # Orders whose Total matches no exact rule follow the import's majority (docstring).
        top, inc = ctx.one(
            "SELECT coalesce(sum(top), 0), coalesce(sum(inc), 0) FROM ("
            + " UNION ALL ".join(f"SELECT count(*) FILTER (WHERE _exact = 'top') AS top, "
                                 f"count(*) FILTER (WHERE _exact = 'inc' AND taxes > 0) AS inc "
                                 f"FROM {f.raw}_o" for f in files) + ")")
        for f in files:
            classify(ctx.con, f, "top" if top > inc else "inc")

    def build(self, ctx: StagingContext, files: list[ExportFile], opts: ShopifyOptions) -> None:
        currency = self._currency(opts, [f.path for f in files])
        for f in files:
            build(ctx.con, f, currency=currency)
        ctx.execute("CREATE OR REPLACE TEMP TABLE raw_shopify_all AS "
                    + " UNION ALL BY NAME ".join(f"SELECT * FROM {f.raw}_orders" for f in files))
        ctx.emit("orders", "raw_shopify_all")
        lines = [f"SELECT * FROM {f.raw}_lines" for f in files if f.has_lines]
        if lines:
            ctx.emit("order_lines", " UNION ALL BY NAME ".join(lines))
        if any(f.has_email for f in files):
            ctx.emit("customers", _CUSTOMERS)
        notes(ctx.con, ctx.summary)


_CUSTOMERS = """
SELECT arg_min(_file, (created_at, _file, _row)) AS _file,
       arg_min(_row, (created_at, _file, _row)) AS _row,
       customer_id,
       arg_min_null(country, (created_at, _file, _row)) FILTER (WHERE has_address) AS country,
       arg_min_null(region, (created_at, _file, _row)) FILTER (WHERE has_address) AS region,
       arg_min_null(city, (created_at, _file, _row)) FILTER (WHERE has_address) AS city
FROM (SELECT *, coalesce(country, region, city) IS NOT NULL AS has_address
      FROM raw_shopify_all)
WHERE customer_id IS NOT NULL GROUP BY customer_id
"""
