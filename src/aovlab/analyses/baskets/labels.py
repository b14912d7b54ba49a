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
