"""The order-value histogram, with outliers flagged and their share of orders and revenue."""

from __future__ import annotations

import math
from typing import Any, Unpack

import pandas as pd

from .. import metrics
from ..engines import connect
from ..errors import DefinitionError
from ..query import Selection, SelectionOptions, require_one_currency, require_orders
from ..stats import OrderStats, ratio
from .result import Result

#: More bins than a chart or a spreadsheet can show; beyond it the table is only slow.
MAX_BINS = 10_000


class Histogram(Result):
    """Bins of order value (``.table``); the outlier fence and shares in ``meta``."""

    @property
    def fence(self) -> float:
        return self.meta["fence"]

    @property
    def outlier_orders(self) -> int:
        return self.meta["outlier_orders"]

    @property
    def outlier_order_share(self) -> float:
        return self.meta["outlier_order_share"]

    @property
    def outlier_revenue_share(self) -> float:
        return self.meta["outlier_revenue_share"]


#: The interdecile range of a normal distribution is 2.563 σ, its IQR 1.349 σ.
_IDR_TO_IQR = 1.349 / 2.563


def _spread(p10: float, q1: float, q3: float, p90: float) -> tuple[float, list[str]]:
    """The spread the fence is measured in: the IQR, or when at least half the orders share
    one value (IQR 0, which would flag every other order) the interdecile range scaled to an
    IQR; 0 (no outliers flagged) when even that is 0."""
    if q3 > q1:
        return q3 - q1, []
    if p90 > p10:
        return (p90 - p10) * _IDR_TO_IQR, [
            "half or more of the orders have the same value (IQR 0): the fence uses the "
            "interdecile range P90 − P10 scaled to an IQR (× 1.349 / 2.563) instead"]
    return 0.0, ["80% or more of the orders have the same value: no spread to measure "
                 "outliers against, so none are flagged"]


def histogram(
    source: Any,
    selection: Selection | None = None,
    /,
    *,
    bins: int = 20,
    fence_k: float = 3.0,
    **options: Unpack[SelectionOptions],
) -> Histogram:
    """Order-value histogram with outliers flagged.

    An order is an outlier when its value is above Q3 + ``fence_k`` × IQR (Tukey's far-out
    fence for k = 3); when the IQR is 0 the interdecile range scaled to an IQR stands in for
    it, and a note says so. Bins span the non-outlier range in equal widths, outliers get a row of
    their own; ``meta`` holds the fence and the outliers' count and shares of orders and of
    revenue. The selection's grouping is ignored: the histogram is of all selected orders.
    """
    if not isinstance(bins, int) or not 1 <= bins <= MAX_BINS:
        raise DefinitionError(f"bins {bins!r} must be a whole number from 1 to {MAX_BINS:,}",
                              fix="use e.g. --bins 20")
    if not (isinstance(fence_k, int | float) and math.isfinite(fence_k) and fence_k >= 0):
        raise DefinitionError(
            f"fence {fence_k!r} must be a finite number of IQRs, 0 or more",
            fix="use 3 (Tukey's far-out fence) or 1.5 (his inner fence)")
    sel = Selection.of(selection, **options)
    eng = connect(source, sel.engine)
    facts = metrics.order_facts(eng, sel, by=(), period=None)
    row = metrics.rows(eng.execute(metrics.order_stats(facts, [], OrderStats,
                                                       [0.1, 0.25, 0.75, 0.9])))[0]
    o = OrderStats.from_row(row)
    require_orders(o.orders)
    require_one_currency(int(row["currencies"]), sel.with_(by=()),
                         fix="choose one with --currency EUR")
    p10, q1, q3, p90 = (float(x) for x in row["quantiles"])
    spread, notes = _spread(p10, q1, q3, p90)
    fence = q3 + fence_k * spread if spread > 0 else o.max_value
    lo, hi = o.min_value, min(o.max_value, fence)
    width = (hi - lo) / bins if hi > lo else 1.0
    counts: dict[tuple[int, bool], tuple[int, float]] = {
        (int(r["bin"]), bool(r["outlier"])): (int(r["orders"]), float(r["revenue"]))
        for r in metrics.rows(eng.execute(metrics.histogram_stats(facts, lo, width, bins,
                                                                  fence)))}
    rows = [{"bin_low": lo + b * width, "bin_high": lo + (b + 1) * width,
             "orders": counts.get((b, False), (0, 0.0))[0],
             "revenue": counts.get((b, False), (0, 0.0))[1], "outlier": False}
            for b in range(bins)]
    n_out = sum(n for (_, out), (n, _) in counts.items() if out)
    rev_out = sum(r for (_, out), (_, r) in counts.items() if out)
    if n_out:
        rows.append({"bin_low": fence, "bin_high": o.max_value, "orders": n_out,
                     "revenue": rev_out, "outlier": True})
    res = pd.DataFrame(rows)
    res["order_share"] = res["orders"] / o.orders
    res["revenue_share"] = [ratio(r, o.revenue) for r in res["revenue"]]
    res.insert(0, "definition", sel.definition.name)
    return Histogram("histogram", {"histogram": res}, notes=notes, meta={
        "definition": sel.definition.name, "formula": sel.definition.formula,
        "currency": str(row["currency_code"]), "statuses": list(sel.statuses),
        "start": sel.start, "end": sel.end, "first_date": row["first_date"],
        "last_date": row["last_date"], "engine": getattr(eng, "name", sel.engine_name),
        "fence": fence, "fence_k": fence_k, "q1": q1, "q3": q3, "spread": spread,
        "outlier_orders": n_out,
        "outlier_order_share": n_out / o.orders,
        "outlier_revenue_share": ratio(rev_out, o.revenue), "selection": sel.describe()})
