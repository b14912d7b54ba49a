"""Baskets: frequent itemsets and association rules, bundles, cross-sell, upsell,
products that move AOV and replenishment — the levers the source articles name for a
higher AOV, measured from a store's own baskets.

``aovlab.baskets(ws, ...)`` mines a workspace; ``aovlab.baskets.frequent_itemsets(pairs,
...)`` and ``aovlab.baskets.association_rules(pairs, ...)`` mine any long table of
(basket, item) rows; ``aovlab.baskets.bundle_price`` prices a bundle by hand.
"""

from ...stats.bundles import BundleEffect, BundlePrice, bundle_effect, bundle_price
from .bundles import bundles
from .cross_sell import cross_sell
from .matrix import BasketMatrix, from_pairs
from .mining import association_rules, baskets, frequent_itemsets
from .movers import movers
from .replenish import replenishment

# ``aovlab.baskets`` is the analysis; the table-level miners and the other basket
# analyses hang on it, so that ``aovlab.baskets.association_rules(pairs, ...)`` reads as
# the docs write it.
for _f in (frequent_itemsets, association_rules, bundles, cross_sell, movers,
           replenishment, bundle_price, bundle_effect):
    setattr(baskets, _f.__name__, _f)
del _f

__all__ = ["BasketMatrix", "BundleEffect", "BundlePrice", "association_rules", "baskets",
           "bundle_effect", "bundle_price", "bundles", "cross_sell", "frequent_itemsets",
           "from_pairs", "movers", "replenishment"]
