"""The order-value distribution the threshold analysis reads: totals and fine bins from
the engine's digit groups (:func:`aovlab.metrics.value_digits`), the bins the predictions
read (with the orders beyond them), and the bins a chart draws."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...stats.bunching import Bunching, rebin


@dataclass(frozen=True)
class Totals:
    """What the analysis needs of all selected orders, summed over the digit groups (the
    smallest and largest value to within a group, 0.01%)."""

    orders: int
    revenue: float
    min_value: float
    max_value: float
    negative_orders: int
    negative_revenue: float
    orders_with_cost: int
    margin: float
    cost: float

    @classmethod
    def of(cls, g: pd.DataFrame, low: np.ndarray, high: np.ndarray,
           costs: tuple[float, float]) -> Totals:
        neg = low < 0
        with_cost = int(g["orders_with_cost"].sum()) if "orders_with_cost" in g else 0
        return cls(int(g["orders"].sum()), float(g["revenue"].sum()), float(low.min()),
                   float(high.max()), int(g.loc[neg, "orders"].sum()),
                   float(g.loc[neg, "revenue"].sum()), with_cost, *costs)


def fine_bins(g: pd.DataFrame, low: np.ndarray, w0: float,
               n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orders, value and shipping per fine bin [i·w0, (i+1)·w0), from the digit groups:
    each group lies inside one bin when w0 is a multiple of its width (every bin up to a
    decade above the median), else in the bin of its lowest value. Groups below 0 or
    beyond the bins are left out (:func:`with_rest` adds them back)."""
    idx = np.floor(low / w0 + 1e-9)
    keep = (low >= 0) & (idx < n)
    i = idx[keep].astype(np.int64)

    def per_bin(col: str) -> np.ndarray:
        return np.bincount(i, g[col].fillna(0).to_numpy(np.float64)[keep], minlength=n)

    ship = per_bin("shipping") if "shipping" in g else np.zeros(n)
    return per_bin("orders"), per_bin("revenue"), ship


def with_rest(fine: np.ndarray, c: np.ndarray, s: np.ndarray, o: Totals,
               binned: float, binned_value: float,
               negative: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """The fine bins, one bin before them for the orders of a negative value (``negative``:
    their number and value) and one after them for the orders beyond (above every
    threshold, so they qualify for all)."""
    n_neg, v_neg = negative
    rest_n, rest_v = o.orders - binned - n_neg, o.revenue - binned_value - v_neg
    edges, counts, sums = fine, c, s
    if n_neg > 0:
        edges = np.concatenate(([min(o.min_value, -1.0) * 2], edges))
        counts = np.concatenate(([n_neg], counts))
        sums = np.concatenate(([v_neg], sums))
    if rest_n > 0:
        top = max(o.max_value, fine[-1]) * 2
        edges = np.concatenate((edges, [top]))
        counts = np.concatenate((counts, [rest_n]))
        sums = np.concatenate((sums, [rest_v]))
    return edges, counts, sums


def bins_table(fit: Bunching | None, fine: np.ndarray, counts: np.ndarray, p90: float,
                step: float) -> pd.DataFrame:
    """The bins to draw: the bunching fit's (with the counterfactual and the excess), or
    without a threshold the order values in bins of a tenth of the round step up to
    twice P90."""
    if fit is not None:
        x = (fit.edges[:-1] + fit.edges[1:]) / 2
        t = fit.threshold
        window = np.where(x < t, "below", "above")
        window = np.where(fit.window, window, "")
        return pd.DataFrame({"bin_low": fit.edges[:-1], "bin_high": fit.edges[1:],
                             "orders": fit.counts, "counterfactual": fit.counterfactual,
                             "difference": np.where(fit.window,
                                                    fit.counts - fit.counterfactual, 0.0),
                             "window": window})
    width = step / 10
    grid = width * np.arange(int(math.ceil(2 * p90 / width)) + 1)
    grid = grid[grid <= fine[-1]]
    return pd.DataFrame({"bin_low": grid[:-1], "bin_high": grid[1:],
                         "orders": rebin(fine, counts, grid), "counterfactual": np.nan,
                         "difference": np.nan, "window": ""})
