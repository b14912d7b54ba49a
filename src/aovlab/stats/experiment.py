"""An A/B experiment's statistics: per arm, sums over its randomisation units; per metric and
treatment arm, the comparison with the control.

Engines return one :class:`ExperimentStats` per arm (and segment): sums over units of
r (revenue from first exposure on, orders capped as one population), o (orders), u (product
units), m (margin), x (pre-exposure spend, CUPED's covariate), c (converted: o > 0) and
v (visits), with the squares and cross products the metrics need. From them:

* **AOV** = Σr / Σo, a ratio whose units are the customers (visitors), not the orders: a
  customer's orders are correlated, so treating orders as independent understates the
  variance. The delta method at the unit (:class:`~aovlab.stats.RatioMoments`) does not.
* **revenue per unit**, **conversion**, **orders per unit**, **margin per unit** and the
  **visit rate** are means over units (:class:`~aovlab.stats.Moments`); revenue per unit
  and conversion may be CUPED-adjusted with x (Deng et al. 2013).
* **units per order** = Σu / Σo, a ratio like AOV.

Every comparison is a :class:`~aovlab.stats.compare.Comparison` (coded when it cannot be
made); :func:`compare_arms` lays them out as rows, Holm-adjusting the p-values over the
treatment arms of each metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .compare import (
    PairedMoments,
    chance_to_beat,
    compare_means,
    compare_ratios,
    cuped,
    holm,
    sequential,
)
from .moments import Moments, RatioMoments
from .sufficient import Sufficient, stat


@dataclass(frozen=True)
class ExperimentStats(Sufficient):
    """Sums over the units of one arm (see the module docstring for the columns)."""

    units: int = stat("count")
    orders: float = stat("sum", "o")
    orders_sq: float = stat("sum", "o", "o")
    revenue: float = stat("sum", "r")
    revenue_sq: float = stat("sum", "r", "r")
    revenue_orders: float = stat("sum", "r", "o")
    converted: int = stat("count", where="converted")
    product_units: float = stat("sum", "u")
    product_units_sq: float = stat("sum", "u", "u")
    product_units_orders: float = stat("sum", "u", "o")
    orders_with_units: float = stat("sum", "orders_with_units")
    margin: float = stat("sum", "m")
    margin_sq: float = stat("sum", "m", "m")
    orders_with_cost: float = stat("sum", "orders_with_cost")
    capped_orders: float = stat("sum", "capped")
    pre: float = stat("sum", "x")
    pre_sq: float = stat("sum", "x", "x")
    pre_revenue: float = stat("sum", "x", "r")
    pre_converted: float = stat("sum", "x", "c")
    visits_known: int = stat("count", "v")
    visited: int = stat("count", where="visited")
    returning: int = stat("count", where="returning")


#: The metrics, in the order tables show them: (name, kind, what it is).
METRICS: tuple[tuple[str, str, str], ...] = (
    ("visit_rate", "mean", "share of units who visited"),
    ("conversion", "mean", "share of units who ordered"),
    ("revenue_per_unit", "mean", "revenue per randomised unit (non-buyers count 0)"),
    ("orders_per_unit", "mean", "orders per randomised unit"),
    ("aov", "ratio", "revenue / orders, delta method at the unit"),
    ("units_per_order", "ratio", "product units / orders, delta method at the unit"),
    ("margin_per_unit", "mean", "margin (net − cost) per randomised unit"),
)
METRIC_NAMES = tuple(m[0] for m in METRICS)
#: Metrics CUPED adjusts with the pre-exposure spend.
CUPED_METRICS = ("revenue_per_unit", "conversion")


def metric_moments(s: ExperimentStats, metric: str) -> Moments | RatioMoments | None:
    """The moments of ``metric`` in one arm, or None where the data cannot give it
    (no visits recorded, orders without units or costs)."""
    n = s.units
    if metric == "visit_rate":
        return Moments(s.visits_known, s.visited, s.visited) if s.visits_known else None
    if metric == "conversion":
        return Moments(n, s.converted, s.converted)
    if metric == "revenue_per_unit":
        return Moments(n, s.revenue, s.revenue_sq)
    if metric == "orders_per_unit":
        return Moments(n, s.orders, s.orders_sq)
    if metric == "aov":
        return RatioMoments(n, s.revenue, s.orders, s.revenue_sq, s.orders_sq,
                            s.revenue_orders)
    if metric == "units_per_order":
        if not s.orders or s.orders_with_units < s.orders:
            return None
        return RatioMoments(n, s.product_units, s.orders, s.product_units_sq, s.orders_sq,
                            s.product_units_orders)
    if metric == "margin_per_unit":
        if s.orders_with_cost < s.orders:  # some orders without a cost
            return None
        return Moments(n, s.margin, s.margin_sq)
    raise ValueError(f"unknown metric {metric!r}")


def paired(s: ExperimentStats, metric: str) -> PairedMoments:
    """(metric, pre-exposure spend) moments for CUPED."""
    if metric == "revenue_per_unit":
        return PairedMoments(s.units, s.revenue, s.revenue_sq, s.pre, s.pre_sq, s.pre_revenue)
    if metric == "conversion":
        return PairedMoments(s.units, s.converted, s.converted, s.pre, s.pre_sq,
                             s.pre_converted)
    raise ValueError(f"CUPED does not adjust {metric!r}")


def _value(m: Moments | RatioMoments, level: float) -> tuple[float, float, float]:
    """Estimate and ``level`` interval of one arm."""
    if isinstance(m, RatioMoments):
        lo, hi = m.ci(level, floor=0.0) if m.n else (math.nan, math.nan)
        return m.ratio, lo, hi
    lo, hi = m.ci(level) if m.n else (math.nan, math.nan)
    return (m.mean if m.n else math.nan), lo, hi


@dataclass(frozen=True)
class Options:
    """How the arms are compared."""

    relative: bool = True
    level: float = 0.95
    cuped: bool = True
    sequential: bool = False
    bayesian: bool = False


def compare_arms(arms: Mapping[str, ExperimentStats], control: str,
                 options: Options = Options(),
                 metrics: tuple[str, ...] = METRIC_NAMES) -> list[dict]:
    """One row per metric and arm (the control's row has its value only): the arm's value
    and interval, the lift over the control (relative or absolute, as ``options`` say) with
    its interval and p-value, the difference (absolute) with its interval (Holm-adjusted
    over the treatment arms when there are several), CUPED's variance reduction, the
    chance to beat the control when ``bayesian``; ``code`` says why a figure is missing."""
    if control not in arms:
        raise ValueError(f"control {control!r} is not an arm")
    treatments = [a for a in arms if a != control]
    rows: list[dict] = []
    for metric in metrics:
        base = metric_moments(arms[control], metric)
        if base is None:
            continue
        block = [_arm_row(metric, control, base, None, "control", level=options.level)]
        for arm in treatments:
            mom = metric_moments(arms[arm], metric)
            if mom is None:
                block.append(_arm_row(metric, arm, None, None, "not_measured",
                                      level=options.level))
                continue
            row = _arm_row(metric, arm, mom, *_compare(
                metric, base, mom, arms[control], arms[arm], options), level=options.level)
            # the difference in the metric's own unit beside the relative lift, always
            diff = _compare(metric, base, mom, arms[control], arms[arm],
                            replace(options, relative=False))[0]
            row.update(difference=diff.lift, difference_low=diff.ci_low,
                       difference_high=diff.ci_high)
            block.append(row)
        adjusted = holm([r["p"] for r in block[1:]])
        for r, p in zip(block[1:], adjusted, strict=True):
            r["p_adjusted"] = p if len(treatments) > 1 else r["p"]
        if not options.bayesian:
            for r in block:
                r.pop("chance_to_beat")
        rows.extend(block)
    return rows


def _compare(metric: str, base, mom, s0: ExperimentStats, s1: ExperimentStats,
             o: Options) -> tuple[object, str, float]:
    if isinstance(base, RatioMoments):
        c = compare_ratios(base, mom, relative=o.relative, level=o.level)
        method, reduction = "delta", math.nan
    else:
        c = compare_means(base, mom, relative=o.relative, level=o.level)
        method, reduction = "welch", math.nan
        if o.cuped and metric in CUPED_METRICS and (s0.pre_sq + s1.pre_sq) > 0:
            adj, theta = cuped(paired(s0, metric), paired(s1, metric), relative=o.relative,
                               level=o.level)
            if adj.ok and theta != 0 and c.ok:
                # the share of the plain variance the covariate explains
                c, method, reduction = adj, "cuped", 1 - (adj.se / c.se) ** 2
    if o.sequential:
        c = sequential(c, base.n + mom.n, level=o.level)
        method += "+sequential"
    return c, method, reduction


def _arm_row(metric: str, arm: str, mom, c, method: str,
             reduction: float = math.nan, *, level: float) -> dict:
    value, lo, hi = _value(mom, level) if mom is not None else (math.nan,) * 3
    row = {"metric": metric, "variant": arm,
           "units": (mom.n if mom is not None else 0), "value": value,
           "value_low": lo, "value_high": hi,
           "lift": math.nan, "lift_low": math.nan, "lift_high": math.nan,
           "difference": math.nan, "difference_low": math.nan, "difference_high": math.nan,
           "p": math.nan,
           "p_adjusted": math.nan, "chance_to_beat": math.nan, "variance_reduction": reduction,
           "method": method, "code": "control" if method == "control" else "ok"}
    if c is None:
        if method == "not_measured":
            row["code"] = "not_measured"
        return row
    row.update(lift=c.lift, lift_low=c.ci_low, lift_high=c.ci_high, p=c.p, code=c.code,
               chance_to_beat=chance_to_beat(c))
    return row
