"""Shopify's export layout: the columns read, tolerances and the messages' fixes."""

from __future__ import annotations

from dataclasses import dataclass

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
OFFSET = r"\s*([+-][0-9]{2}:?[0-9]{2})$"
VALID_OFFSET = r"[+-](0[0-9]|1[0-4]):?[0-5][0-9]$"
CREATED = 'trim(CAST("Created at" AS VARCHAR))'
CREATED_NORM = f"regexp_replace({CREATED}, '{OFFSET}', '\\1')"  # DuckDB wants no space

MONEY_FIX = ("write amounts as plain non-negative numbers such as 1659.95 (no currency sign, "
             "no thousands separator), as Shopify exports them")
LINE_FIX = "write {} as a plain non-negative number such as {}, as Shopify exports it"
TIME_FIX = ("Shopify writes times as YYYY-MM-DD HH:MM:SS -0400 (an offset within ±14:00); "
            "correct the value or export the orders again")
EXPORT_FIX = "export the orders again from Shopify admin (Orders → Export, CSV file)"


@dataclass(frozen=True)
class ExportFile:
    path: str
    raw: str  # raw_shopify_<i>: the file as read, every column text
    has_lines: bool
    has_email: bool


LINE_ROW = "(li_qty IS NOT NULL OR li_price IS NOT NULL OR li_name IS NOT NULL " \
            "OR li_sku IS NOT NULL)"


