"""The canonical tables every importer writes and every metric reads.

Declared once here; the workspace DDL, the importers' validation and the docs
(`docs/data-model.md`) all come from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

import pycountry

from .rules import Finite, OneOf, Pattern, Range, References, Rule

#: 2: every table is namespaced by ``source`` (its key starts with it); 3: orders carry
#: region and city; 4: the ``assignments`` table of experiments; 5: the customer facts
#: derived at import (``orders.customer_key``, ``orders.customer_seq``).
SCHEMA_VERSION = 5
#: Versions a workspace is upgraded from in place when opened for writing (the newer
#: version adds tables, and derived columns computed from the rows), with what it adds.
UPGRADABLE = {3: "the assignments table (experiments) and the customer facts",
              4: "the customer facts (a key and an order position per customer)"}

#: What an import's ``source`` may be called: a short slug (it is shown and typed).
SOURCE_PATTERN = "[a-z0-9][a-z0-9._-]{0,63}"

#: Order statuses. AOV counts ``placed`` and ``refunded`` orders by default (a refund is a
#: return of a real order, handled by the ``net_of_returns`` definition); ``cancelled``,
#: ``test`` and ``adjustment`` (stock or bookkeeping documents, not sales) are excluded.
STATUSES = ("placed", "refunded", "cancelled", "test", "adjustment")
COUNTED_STATUSES = ("placed", "refunded")

#: What a line is. Only ``product`` lines count towards units, unit price and baskets.
LINE_TYPES = ("product", "shipping", "discount", "fee", "adjustment")

#: ISO 4217 currency codes (pycountry's copy of the standard's list), for the check that
#: ``--currency AUS`` is a typo and not a currency.
CURRENCIES: tuple[str, ...] = tuple(sorted(c.alpha_3 for c in pycountry.currencies))

#: Shown in place of a missing dimension value, on every engine.
NOT_SET = "(not set)"

#: The one policy on signs, sizes and dates, for every importer (enforced by the rules
#: below on every import, whatever the format; docs/data-model.md prints it).
POLICY = """\
Returns are a positive `returns` amount on the order and negative quantities on its
lines. Counted orders (placed, refunded) carry no negative amount; cancellation and
adjustment documents may, as reversals do. A negative price is only possible on a
discount or an adjustment line. Amounts are finite and at most 1e15 in size, quantities at most a
billion units, dates within 1970..2199: beyond these a value can only be a mistake (an id
in a money column, a misread date) and would break sums. Anything else is refused at
import, naming the file, row, column and value; nothing is written."""
MAX_AMOUNT = 1e15
MAX_UNITS = 1e9
FIRST_DATE, LAST_DATE = "1970-01-01", "2199-12-31"
_COUNTED = "status IN (" + ", ".join(f"'{s}'" for s in COUNTED_STATUSES) + ")"


def _amount(col: str, *, positive_when: str | None = None) -> tuple:
    """Rules for a money column: finite, at most MAX_AMOUNT in size, and not negative on
    the rows ``positive_when`` selects (on every row when None)."""
    return (
        Finite(col, f"{col} is not a finite number", "write a plain decimal number"),
        Range(col, f"{-MAX_AMOUNT}", f"{MAX_AMOUNT}",
              f"{col} is larger than any real amount ({MAX_AMOUNT:.0e})",
              "check the column holds money (not an id or a timestamp) and its decimal "
              "separator"),
        Range(col, "0", None, f"{col} is negative" + (
            " on a counted order" if positive_when == _COUNTED else ""),
            "write it as a positive amount: returns go in the returns amount or as negative "
            "line quantities, reversals as cancelled or adjustment orders",
            when=positive_when),
    )


def _quantity(col: str) -> tuple:
    return (
        Finite(col, f"{col} is not a finite number", "write a plain number"),
        Range(col, f"{-MAX_UNITS}", f"{MAX_UNITS}",
              f"{col} is beyond {MAX_UNITS:.0e} units (negative ones are returns)",
              "check the column holds quantities (not an id or an amount)"),
    )


def _date(col: str, literal: str) -> Range:
    return Range(col, f"{literal} '{FIRST_DATE}'", f"{literal} '{LAST_DATE}'",
                 f"{col} is outside {FIRST_DATE[:4]}..{LAST_DATE[:4]}",
                 "check the date's format (day/month order, a 2-digit year) and time zone")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type
    nullable: bool
    doc: str
    default: str | None = None
    #: Computed by the workspace from the other rows at every import (never read from a
    #: file, never compared when a row is imported again); optional in other catalogs.
    derived: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: Value rules beyond NOT NULL and the key, checked on every import and catalog.
    rules: tuple[Rule, ...] = ()
    #: A row whose key is stored with other values: ``refuse`` the import (facts: orders,
    #: lines, traffic), or ``keep`` the stored row and say so (descriptions that drift:
    #: a product renamed, a customer who moved).
    merge: str = "refuse"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def missing_required(self, have) -> list[str]:
        """The columns a row of this table must have (not nullable, no default) that
        ``have`` (column names: a pipeline's files, view or table) lacks."""
        return [c.name for c in self.columns
                if c.name not in have and not c.nullable and c.default is None]

    def ddl(self) -> str:
        cols = []
        for c in self.columns:
            spec = f"{c.name} {c.type}"
            if not c.nullable:
                spec += " NOT NULL"
            if c.default is not None:
                spec += f" DEFAULT {c.default}"
            cols.append(spec)
        # No PRIMARY KEY constraint: DuckDB keeps such an index in memory, which makes bulk
        # loads of 100M lines slow and memory-bound. Keys are enforced by the workspace merge
        # (duplicates in an import are refused, present keys are skipped).
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  " + ",\n  ".join(cols) + "\n)"


_SOURCE = Column("source", "VARCHAR", False,
                 "Namespace of the import that wrote the row: the store or data set "
                 "(--source; by default the format's name). Keys are unique per source, and "
                 "rows of one source never join another's.")
_SOURCE_RULE = Pattern("source", SOURCE_PATTERN, "source is not a short lower-case name",
                       "pass --source as lower-case letters, digits, '.', '_' or '-' (e.g. "
                       "au-store), at most 64 characters")


ORDERS = Table(
    "orders",
    "One row per order (or per cancellation/adjustment document). Money in the order's currency.",
    (
        _SOURCE,
        Column("order_id", "VARCHAR", False, "Order number as the source names it."),
        Column("customer_id", "VARCHAR", True, "Customer key; NULL for guest checkouts."),
        Column("created_at", "TIMESTAMPTZ", False, "When the order was placed (an instant)."),
        Column("order_date", "DATE", False, "Calendar date of the order in the store's time zone."),
        Column("channel", "VARCHAR", True, "Sales channel (web, app, pos, marketplace, ...)."),
        Column("country", "VARCHAR", True, "Customer or billing country."),
        Column("region", "VARCHAR", True, "State, province or region of the billing (else "
               "shipping) address."),
        Column("city", "VARCHAR", True, "City of the billing (else shipping) address."),
        Column("device", "VARCHAR", True, "Device category (desktop, mobile, tablet)."),
        Column("currency", "VARCHAR", False, "ISO 4217 code; currencies are never summed."),
        Column("gross_sales", "DOUBLE", False, "Merchandise value before discounts, without "
               "tax.", "0"),
        Column("discounts", "DOUBLE", False, "Order and line discounts, positive.", "0"),
        Column("shipping", "DOUBLE", False, "Shipping charged to the customer.", "0"),
        Column("tax", "DOUBLE", False, "Tax on the order: charged on top, or contained in "
               "prices, which gross_sales, discounts and shipping then exclude (as Shopify "
               "reports them).", "0"),
        Column("returns", "DOUBLE", False, "Refunded amount, positive.", "0"),
        Column("total", "DOUBLE", False, "What the customer paid: net + shipping + tax + fees."),
        Column("cost", "DOUBLE", True, "Cost of goods sold; NULL when unknown."),
        Column("units", "DOUBLE", True, "Product units in the order; NULL without lines."),
        Column("status", "VARCHAR", False, "placed, refunded, cancelled, test or adjustment."),
        Column("coupon", "VARCHAR", True, "Discount code used, if any."),
        Column("customer_key", "BIGINT", True, "Derived at import: an integer key of the "
               "customer (source, customer_id), given in order of first import; NULL for "
               "guests.", derived=True),
        Column("customer_seq", "BIGINT", True, "Derived at import: the order's position "
               "among its customer's placed and refunded orders, 1 = the first (of two at "
               "the same instant, the lower order id); NULL for guests and other statuses. "
               "Kept right when a later import adds older orders.", derived=True),
    ),
    ("source", "order_id"),
    (
        _SOURCE_RULE,
        OneOf("status", STATUSES, "unknown order status",
              f"use one of {', '.join(STATUSES)} (map source values)"),
        Pattern("currency", "[A-Z]{3}", "currency is not a three-letter ISO 4217 code",
                "write codes such as EUR, USD, GBP"),
        OneOf("currency", CURRENCIES, "currency is not an ISO 4217 code",
              "write the currency's ISO 4217 code, e.g. AUD for the Australian dollar "
              "(not AUS), CHF for the Swiss franc"),
        *(r for c in ("gross_sales", "discounts", "shipping", "tax", "returns", "total", "cost")
          for r in _amount(c, positive_when=_COUNTED)),
        *_quantity("units"),
        Range("units", "0", None, "units is negative on a counted order",
              "returned units are negative line quantities; the order's units stay 0 or more",
              when=_COUNTED),
        _date("order_date", "DATE"), _date("created_at", "TIMESTAMPTZ"),
    ),
)

ORDER_LINES = Table(
    "order_lines",
    "One row per order line. Returns are negative quantities, never dropped.",
    (
        _SOURCE,
        Column("order_id", "VARCHAR", False, "The order the line belongs to."),
        Column("line_no", "INTEGER", False, "1-based position of the line within its order."),
        Column("line_type", "VARCHAR", False, "product, shipping, discount, fee or adjustment."),
        Column("product_id", "VARCHAR", True, "Product or SKU code."),
        Column("name", "VARCHAR", True, "Product name as on the order."),
        Column("category", "VARCHAR", True, "Product category."),
        Column("quantity", "DOUBLE", False, "Units; negative for returned goods."),
        Column("unit_price", "DOUBLE", False, "Price per unit before line discount."),
        Column("unit_cost", "DOUBLE", True, "Cost per unit; NULL when unknown."),
        Column("line_discount", "DOUBLE", False, "Discount on this line, positive.", "0"),
    ),
    ("source", "order_id", "line_no"),
    (
        _SOURCE_RULE,
        OneOf("line_type", LINE_TYPES, "unknown line type",
              f"use one of {', '.join(LINE_TYPES)}"),
        *_quantity("quantity"),
        # discount lines may carry their amount as a negative price (the order's discounts,
        # their negated sum, must still come out 0 or more)
        *_amount("unit_price", positive_when="line_type NOT IN ('discount', 'adjustment')"),
        *_amount("unit_cost"), *_amount("line_discount"),
        References("order_id", "orders", "order_id",
                   "order line refers to an order that is neither in this import nor in the "
                   "workspace under the same source",
                   "import the orders file first (with the same --source), or together with "
                   "the lines"),
    ),
)

PRODUCTS = Table(
    "products",
    "One row per product.",
    (
        _SOURCE,
        Column("product_id", "VARCHAR", False, "Product or SKU code."),
        Column("name", "VARCHAR", True, "Product name."),
        Column("category", "VARCHAR", True, "Product category."),
        Column("price", "DOUBLE", True, "List price."),
        Column("unit_cost", "DOUBLE", True, "Cost per unit."),
    ),
    ("source", "product_id"),
    (_SOURCE_RULE, *_amount("price"), *_amount("unit_cost")),
    merge="keep",
)

CUSTOMERS = Table(
    "customers",
    "One row per known customer.",
    (
        _SOURCE,
        Column("customer_id", "VARCHAR", False, "Customer key."),
        Column("country", "VARCHAR", True, "Country."),
        Column("region", "VARCHAR", True, "State, province or region."),
        Column("city", "VARCHAR", True, "City."),
        Column("first_seen", "TIMESTAMPTZ", True, "Sign-up or first known activity."),
    ),
    ("source", "customer_id"),
    (_SOURCE_RULE, _date("first_seen", "TIMESTAMPTZ")),
    merge="keep",
)

TRAFFIC = Table(
    "traffic",
    "Daily traffic and funnel counts per channel, country and device.",
    (
        _SOURCE,
        Column("date", "DATE", False, "Calendar date in the store's time zone."),
        Column("channel", "VARCHAR", False, "Channel, '(not set)' when unknown."),
        Column("country", "VARCHAR", False, "Country, '(not set)' when unknown."),
        Column("device", "VARCHAR", False, "Device category, '(not set)' when unknown."),
        Column("sessions", "BIGINT", False, "Sessions (visits)."),
        Column("visitors", "BIGINT", False, "Distinct visitors that day."),
        Column("view_item", "BIGINT", True, "Sessions that viewed a product."),
        Column("add_to_cart", "BIGINT", True, "Sessions that added to cart."),
        Column("begin_checkout", "BIGINT", True, "Sessions that began checkout."),
        Column("purchases", "BIGINT", True, "Sessions with a purchase."),
    ),
    ("source", "date", "channel", "country", "device"),
    (_SOURCE_RULE, _date("date", "DATE"),
     *(Range(c, "0", "1e12", f"{c} is negative or beyond a trillion",
             "write counts as whole numbers, 0 or more")
       for c in ("sessions", "visitors", "view_item", "add_to_cart", "begin_checkout",
                 "purchases"))),
)

#: What a customer type may be (an assignment's, or one derived from orders).
CUSTOMER_TYPES = ("new", "returning")

ASSIGNMENTS = Table(
    "assignments",
    "One row per unit (customer) in an experiment: the variant it was randomised to and "
    "when it was first exposed. Orders join it on source and customer_id = unit_id; those "
    "placed from first_exposure on are the unit's outcomes, those before it its pre-period.",
    (
        _SOURCE,
        Column("experiment", "VARCHAR", False, "Experiment name or key."),
        Column("unit_id", "VARCHAR", False, "The randomisation unit: the customer_id its "
               "orders carry (a visitor id where orders record one as customer_id)."),
        Column("variant", "VARCHAR", False, "The arm the unit was assigned to."),
        Column("first_exposure", "TIMESTAMPTZ", False, "When the unit first saw its variant."),
        Column("channel", "VARCHAR", True, "Channel the unit came through (segments)."),
        Column("country", "VARCHAR", True, "Country of the unit (segments)."),
        Column("device", "VARCHAR", True, "Device at first exposure (segments)."),
        Column("customer_type", "VARCHAR", True, "new or returning at exposure; when NULL, "
               "returning if the unit has a counted order before first_exposure."),
        Column("visits", "BIGINT", True, "Visits (sessions) from first exposure to the end "
               "of the test, when the source records them: the visit rate."),
        Column("pre_value", "DOUBLE", True, "The unit's spend before exposure as the source "
               "reports it (CUPED's covariate); when NULL, its orders before first_exposure."),
    ),
    ("source", "experiment", "unit_id"),
    (
        _SOURCE_RULE,
        OneOf("customer_type", CUSTOMER_TYPES, "unknown customer type",
              "use new or returning (or leave it empty to derive it from the orders)"),
        Range("visits", "0", "1e12", "visits is negative or beyond a trillion",
              "write visits as a whole number, 0 or more"),
        *_amount("pre_value"),
        _date("first_exposure", "TIMESTAMPTZ"),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ORDERS, ORDER_LINES, PRODUCTS, CUSTOMERS, TRAFFIC,
                                                 ASSIGNMENTS)}

IMPORTS_DDL = """
CREATE TABLE IF NOT EXISTS imports (
  import_id INTEGER PRIMARY KEY,
  imported_at TIMESTAMPTZ NOT NULL,
  format VARCHAR NOT NULL,
  files VARCHAR NOT NULL,
  summary JSON NOT NULL
)
"""

META_DDL = "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"
