"""Readable names beside product ids."""

from __future__ import annotations

from collections.abc import Iterable


def item_names(engine, item: str, items: Iterable) -> dict:
    """Product id → product name (from the products table) for the ids given; empty for
    categories and names, which are readable already."""
    if item != "product":
        return {}
    wanted = set(items)
    p = engine.table("products")
    t = engine.execute(p.select("product_id", "name").filter(p.name.notnull()))
    t = t[t["product_id"].isin(wanted)].drop_duplicates("product_id")
    return dict(zip(t["product_id"], t["name"], strict=True))


#: An item kind in the plural, for messages and notes.
PLURAL = {"product": "products", "category": "categories", "name": "names"}


def no_lines(engine, item: str, what: str):
    """The error for a selection without basket lines, saying why: no order lines at all
    (an orders-only export), product lines without the item's column (suggest another
    item), or a selection that leaves none."""
    from ...errors import NoDataError
    from ...metrics.baskets import ITEM_COLUMNS

    col = ITEM_COLUMNS[item]
    lines = engine.table("order_lines")
    lines = lines.filter(lines.line_type == "product")
    counts = engine.execute(lines.aggregate(n=lines.count(), with_item=lines[col].count(),
                                            named=lines.name.count()))
    n, with_item, named = (int(counts[c].iloc[0]) for c in ("n", "with_item", "named"))
    if n == 0:
        return NoDataError(f"the workspace has no product lines, so no baskets for {what}",
                           fix="import an export with line items (a Shopify orders export "
                               "with Lineitem columns, order lines from CSV, ...)")
    if with_item == 0:
        other = "name" if named and item != "name" else None
        return NoDataError(f"no product line has a {col}",
                           fix=f"use --item {other}" if other else
                           "import lines with a product id, category or name")
    return NoDataError(f"the selection has no product lines for {what}",
                       fix="widen the dates, statuses or filters")
