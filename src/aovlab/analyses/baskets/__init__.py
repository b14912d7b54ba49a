"""Baskets: frequent itemsets and association rules, bundles, cross-sell, upsell,
products that move AOV and replenishment — the levers the source articles name for a
higher AOV, measured from a store's own baskets.

``aovlab.baskets(ws, ...)`` mines a workspace; ``aovlab.baskets.frequent_itemsets(pairs,
...)`` and ``aovlab.baskets.association_rules(pairs, ...)`` mine any long table of
(basket, item) rows.
"""

from .matrix import BasketMatrix, from_pairs
from .mining import association_rules, baskets, frequent_itemsets

# ``aovlab.baskets`` is the analysis; the table-level miners hang on it, so that
# ``aovlab.baskets.association_rules(pairs, ...)`` reads as the issue and docs write it.
baskets.frequent_itemsets = frequent_itemsets  # type: ignore[attr-defined]
baskets.association_rules = association_rules  # type: ignore[attr-defined]

__all__ = ["BasketMatrix", "association_rules", "baskets", "frequent_itemsets",
           "from_pairs"]
