"""What the basket analyses share: the item check, the selection's basket lines
(checked: not empty, one currency), readable names beside product ids, and why there are
no baskets."""

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


def check_item(item: str) -> None:
    from ...errors import DefinitionError
    from ...metrics.baskets import ITEM_COLUMNS

    if item not in ITEM_COLUMNS:
        raise DefinitionError(f"item {item!r} is not offered",
                              fix=f"use one of {', '.join(ITEM_COLUMNS)}")


def selected_lines(engine, sel, item: str, what: str, mixed: str, *,
                   customer: bool = False, extra: tuple[str, ...] = (),
                   arrow: bool = True):
    """The selection's basket lines (an Arrow table, or pandas with ``arrow=False``) and
    their one currency; a clear error when there are none (:func:`no_lines`, naming
    ``what``) or when they mix currencies (``mixed`` says what would be meaningless)."""
    from ...errors import CurrencyMixError
    from ...metrics.baskets import basket_lines

    expr = basket_lines(engine, sel, item, customer=customer, extra=extra)
    lines = engine.execute_arrow(expr) if arrow else engine.execute(expr)
    if len(lines) == 0:
        raise no_lines(engine, item, what)
    currencies = set(lines.column("currency").unique().to_pylist() if arrow
                      else lines["currency"].dropna().unique().tolist())
    if len(currencies) > 1:
        raise CurrencyMixError(f"the selection mixes currencies; {mixed}",
                               fix="choose one with --currency")
    return lines, next(iter(currencies), None)
