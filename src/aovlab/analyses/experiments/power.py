"""How long must an A/B test of AOV or revenue per visitor run to find a given lift?

From the selection's own orders (and traffic): the metric's mean and its variance per
randomisation unit, then :func:`aovlab.stats.power.sample_size` per arm and, at the
store's rate of units per day, the days it takes.

* **AOV** is a ratio (revenue / orders) randomised by customer: its variance per unit is
  n · Var(R̂) with Var(R̂) the delta-method variance over customers and guest orders
  (:func:`aovlab.stats.aov_moments`); units per day are those units over the period's days.
* **Revenue per visitor** randomised by visitor, from the traffic table: mean R / V and
  variance per visitor Σx² / V − (R / V)², the visitors who did not buy counting 0 (one
  order per buying visitor assumed, which errs low when visitors buy twice); units per day
  are the visitors (else sessions) per day.
"""

from __future__ import annotations

import math
from typing import Any, Unpack

import pandas as pd

from ... import metrics
from ...engines import connect
from ...errors import DefinitionError, NoDataError
from ...query import Selection, SelectionOptions, require_one_currency, require_orders
from ...stats import CustomerStats, OrderStats, TrafficStats, aov_moments
from ...stats.power import power, sample_size
from ..result import Result

METRICS = ("aov", "revenue_per_visitor")


def power_analysis(source: Any, selection: Selection | None = None, /, *,
                   lift: float = 0.05, metric: str = "aov", alpha: float = 0.05,
                   target: float = 0.8, ratio: float = 1.0,
                   **options: Unpack[SelectionOptions]) -> Result:
    """Units per arm and days for a two-arm test to find a relative ``lift`` of
    ``metric`` (``aov`` or ``revenue_per_visitor``, or ``"all"``) with ``target`` power at
    ``alpha``, ``ratio`` treatment units per control unit; the table also gives the lift
    such a test finds in 1, 2, 4 and 8 weeks (``lift_1w_pct`` …, shares like ``lift_pct``)."""
    if metric not in (*METRICS, "all"):
        raise DefinitionError(f"metric {metric!r} is not one aovlab sizes tests for",
                              fix="use aov, revenue_per_visitor or all")
    for name, v, lo, hi in (("lift", lift, 1e-6, 10.0), ("alpha", alpha, 1e-9, 0.5),
                            ("power", target, 0.05, 0.9999), ("ratio", ratio, 0.01, 100.0)):
        if not (isinstance(v, int | float) and math.isfinite(v) and lo <= v <= hi):
            raise DefinitionError(f"{name} {v!r} must be a number from {lo:g} to {hi:g}",
                                  fix="e.g. lift 0.05 (5%), alpha 0.05, power 0.8, ratio 1")
    sel = Selection.of(selection, **options)
    eng = connect(source, sel.engine)
    facts = metrics.order_facts(eng, sel.with_(by=()), period=None)
    expr, _ = metrics.kpi_stats(facts, [], OrderStats, CustomerStats, [], 0)
    row = metrics.rows(eng.execute(expr))[0]
    o, c = OrderStats.from_row(row), CustomerStats.from_row(row)
    require_orders(o.orders)
    require_one_currency(int(row["currencies"]), sel.with_(by=()),
                         fix="choose one with --currency EUR")
    first, last = pd.Timestamp(row["first_date"]), pd.Timestamp(row["last_date"])
    days = (last - first).days + 1
    wanted = METRICS if metric == "all" else (metric,)
    rows, notes = [], []
    for m in wanted:
        if m == "aov":
            mom = aov_moments(o, c)
            mean, var, units = mom.ratio, mom.se ** 2 * mom.n, mom.n
            unit = "customer"
        else:
            t_expr = metrics.traffic_stats(eng, sel.with_(by=()), TrafficStats, by=(),
                                           period=None)
            tr = TrafficStats.from_row(metrics.rows(eng.execute(t_expr))[0]) \
                if t_expr is not None else None
            visitors = (tr.visitors or tr.sessions) if tr is not None else 0
            if not visitors:
                if metric == "all":
                    notes.append("no traffic in the workspace: revenue per visitor cannot be "
                                 "sized (import GA4 or a traffic table)")
                    continue
                raise NoDataError("no traffic in the workspace: revenue per visitor needs "
                                  "visitors", fix="import GA4 or a traffic table, or use "
                                                  "--metric aov")
            mean = o.revenue / visitors
            var = max(o.revenue_sq / visitors - mean * mean, 0.0)
            units, unit = visitors, "visitor" if tr.visitors else "session"
        if not (var > 0 and math.isfinite(mean) and mean > 0):
            notes.append(f"{m}: no spread or no mean in the data, nothing to size")
            continue
        n0, n1 = sample_size(variance=var, lift=lift, mean=mean, alpha=alpha,
                             target=target, ratio=ratio)
        per_day = units / days
        r = {"metric": m, "unit": unit, "mean": mean, "sd_per_unit": math.sqrt(var),
             "units_per_day": per_day, "lift_pct": lift, "alpha": alpha, "power": target,
             "control_units": n0, "treatment_units": n1,
             "days": math.ceil((n0 + n1) / per_day) if per_day > 0 else math.nan}
        for weeks in (1, 2, 4, 8):
            n = per_day * 7 * weeks
            r[f"lift_{weeks}w_pct"] = _detectable(n / (1 + ratio), n * ratio / (1 + ratio),
                                                    var, mean, alpha, target)
        rows.append(r)
    if not rows:
        raise NoDataError("nothing to size: " + "; ".join(notes),
                          fix="widen the selection (dates, --where) to orders that vary")
    notes.append("units per day are the whole selection's over its days: a test that "
                 "takes part of the traffic takes longer, and a customer counted once here "
                 "may come back within the test")
    return Result("power", {"power": pd.DataFrame(rows)}, notes=notes, meta={
        "definition": sel.definition.name, "formula": sel.definition.formula,
        "currency": str(row["currency_code"]), "first_date": row["first_date"],
        "last_date": row["last_date"], "days": days, "selection": sel.describe(),
        "engine": getattr(eng, "name", sel.engine_name)})


def _detectable(n0: float, n1: float, var: float, mean: float, alpha: float,
                target: float) -> float:
    """The smallest relative lift found with ``target`` power in arms of n₀ and n₁ units
    (bisection on the power, which rises with the lift)."""
    if min(n0, n1) < 2:
        return math.nan
    lo, hi = 1e-6, 100.0
    if power(n0, n1, variance=var, lift=hi, mean=mean, alpha=alpha) < target:
        return math.nan
    for _ in range(100):
        mid = (lo + hi) / 2
        ok = power(n0, n1, variance=var, lift=mid, mean=mean, alpha=alpha) >= target
        lo, hi = (lo, mid) if ok else (mid, hi)
    return hi
