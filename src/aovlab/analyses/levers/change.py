"""Did a threshold change work? The periods before and after it, with
difference-in-differences against a comparison group where one exists.

For the group that got the change (``treated``: values of a dimension ``by``, e.g. the
country where the free-shipping threshold moved; everything when there is no ``by``) and,
where given, a comparison group that did not (``control``, default every other value), each
of the two periods gives:

* AOV with its delta-method interval over units (each known customer, each guest order:
  :func:`aovlab.stats.aov_moments`);
* orders and revenue per day (variances n / D² and Σx² / D²: orders arriving as a Poisson
  process, revenue as a compound one);
* the share of orders at or over the new (and the previous) threshold (binomial variance).

The change is after − before; with a comparison group the **difference-in-differences**
is (treated after − treated before) − (comparison after − comparison before), its standard
error √(Σ of the four variances) and a normal interval and p-value (Angrist & Pischke 2009,
ch. 5). It rests on parallel trends — without the change the two groups would have moved
alike — which the data can test only before the change: the same difference between the
two halves of the before period (a placebo change at its midpoint) is reported, with a
warning when it is beyond noise.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any, Unpack

import pandas as pd
from scipy.special import ndtr, ndtri

from ... import metrics
from ...engines import connect
from ...errors import DefinitionError, NoDataError
from ...query import (
    DIMENSIONS,
    Selection,
    SelectionOptions,
    parse_date,
    require_one_currency,
    require_orders,
)
from ...stats import CustomerStats, OrderStats, aov_moments, ratio
from ..result import Result

#: The default window each side of the change: at most a quarter, to keep seasons apart.
MAX_DAYS = 91
#: The longest window that may be asked for (ten years each side).
MAX_DAYS_GIVEN = 3660
#: Below this many orders in a period and group, no interval is given.
MIN_ORDERS = 30


def threshold_change(
    source: Any,
    selection: Selection | None = None,
    /,
    *,
    change: date | str,
    days: int | None = None,
    threshold: float | None = None,
    previous: float | None = None,
    by: str | None = None,
    treated: list[str] | str | None = None,
    control: list[str] | str | None = None,
    level: float = 0.95,
    **options: Unpack[SelectionOptions],
) -> Result:
    """The ``days`` before ``change`` (the first day of the new threshold) against the
    ``days`` from it (default: as many as the data has on both sides, at most 91), for the
    ``treated`` values of dimension ``by`` against the ``control`` ones (default: all other
    values) — or for all orders, without a comparison, when ``by`` is not given.
    ``threshold`` and ``previous`` (the new and old thresholds) add the share of orders at
    or over each. Tables ``effects`` (per metric: each group's change with its interval,
    and the difference-in-differences) and ``periods``."""
    day = parse_date(change, "change")
    if day is None:
        raise DefinitionError("the change date is missing", fix="pass change=2024-06-01")
    if days is not None and not (isinstance(days, int) and 1 <= days <= MAX_DAYS_GIVEN):
        raise DefinitionError(f"days {days!r} must be a whole number of days from 1 to "
                              f"{MAX_DAYS_GIVEN:,}", fix="use e.g. 28")
    if not (isinstance(level, float) and 0.5 <= level < 1):
        raise DefinitionError(f"level {level!r} must be from 0.5 to below 1", fix="use 0.95")
    for name, t in (("new", threshold), ("previous", previous)):
        if t is not None and not (isinstance(t, int | float) and math.isfinite(t) and t > 0):
            raise DefinitionError(f"the {name} threshold {t!r} must be a number above 0",
                                  fix="pass the threshold in the orders' currency, e.g. 50")
    treated_v, control_v = _values(treated), _values(control)
    if by is None and (treated_v or control_v):
        raise DefinitionError("treated and control values need the dimension they are of",
                              fix="pass by='country' (or channel, ...) with them")
    if by is not None:
        if by not in DIMENSIONS:
            raise DefinitionError(f"by {by!r} is not a dimension",
                                  fix=f"use one of {', '.join(DIMENSIONS)}")
        if not treated_v:
            raise DefinitionError(f"which values of {by} got the change?",
                                  fix=f"pass treated=['UK'] (values of {by}) with by")
        if set(treated_v) & set(control_v):
            raise DefinitionError("a value cannot be both treated and control",
                                  fix="list each value in one of them")
    sel = Selection.of(selection, **options)
    eng = connect(source, sel.engine)
    span = metrics.rows(eng.execute(metrics.data_range(eng, sel)))[0]
    first, last = _as_date(span["first_date"]), _as_date(span["last_date"])
    if first is None:
        require_orders(0)
    if not first < day <= last:
        raise NoDataError(f"the change on {day} is not inside the data "
                          f"({first} to {last}): no orders on both sides of it",
                          fix="pass the first day the new threshold applied")
    n_days = days or min((day - first).days, (last - day).days + 1, MAX_DAYS)
    periods = {"before": (day - timedelta(days=n_days), day - timedelta(days=1)),
               "after": (day, day + timedelta(days=n_days - 1))}
    half = n_days // 2
    placebo = {} if half < 1 else {  # a one-day before period has no halves
        "early": (periods["before"][0], periods["before"][0] + timedelta(days=half - 1)),
        "late": (periods["before"][0] + timedelta(days=half), periods["before"][1])}
    notes: list[str] = []
    if days is not None and (periods["before"][0] < first or periods["after"][1] > last):
        notes.append(f"the data covers {first} to {last}: a period of {n_days} days each "
                     "side runs past it, so its per-day figures count days without data")

    stats = {p: _arms(eng, sel, span_, by, treated_v, control_v, threshold, previous)
             for p, span_ in {**periods, **placebo}.items()}
    for p in ("before", "after"):
        for arm, s in stats[p].items():
            if s["o"].orders == 0:
                raise NoDataError(f"no {arm} orders {p} the change ({periods[p][0]} to "
                                  f"{periods[p][1]})",
                                  fix="check the dates, --where and the treated/control "
                                      "values")
        # one group per value of by: a currency per row, so the codes across rows count
        codes = set().union(*(s["codes"] for s in stats[p].values()))
        many = max(max(s["currencies"] for s in stats[p].values()), len(codes))
        require_one_currency(int(many), sel.with_(by=()), fix="choose one with --currency EUR")
    arms = [a for a in ("treated", "comparison") if a in stats["before"]]
    length = {p: (b - a).days + 1 for p, (a, b) in {**periods, **placebo}.items()}

    rows = []
    for p in ("before", "after"):
        for arm in arms:
            rows.append({"period": p, "start": periods[p][0], "end": periods[p][1],
                         "group": arm, **_figures(stats[p][arm], length[p], level,
                                                  threshold, previous)})
    period_table = pd.DataFrame(rows)

    metrics_ = ["aov", "orders_per_day", "revenue_per_day"] + [
        f"share_over_{k}" for k, t in (("threshold", threshold), ("previous", previous))
        if t is not None]
    z = float(ndtri(0.5 + level / 2))
    effects = []
    for m in metrics_:
        row: dict[str, Any] = {"metric": m}
        delta = {}
        for arm in arms:
            b = _estimate(m, stats["before"][arm], length["before"])
            a = _estimate(m, stats["after"][arm], length["after"])
            d, se = a[0] - b[0], math.hypot(a[1], b[1])
            delta[arm] = (d, se)
            row |= {f"{arm}_before": b[0], f"{arm}_after": a[0], f"{arm}_change": d,
                    f"{arm}_change_pct": ratio(d, b[0]),
                    f"{arm}_ci_low": d - z * se, f"{arm}_ci_high": d + z * se}
        if "comparison" in delta:
            (dt, st), (dc, sc) = delta["treated"], delta["comparison"]
            did, se = dt - dc, math.hypot(st, sc)
            row |= {"did": did, "did_ci_low": did - z * se, "did_ci_high": did + z * se,
                    "did_p": _p(did, se)}
            if placebo:
                pt = _diff(m, stats["early"]["treated"], stats["late"]["treated"], length)
                pc = _diff(m, stats["early"]["comparison"], stats["late"]["comparison"],
                           length)
                pd_, pse = pt[0] - pc[0], math.hypot(pt[1], pc[1])
            else:
                pd_, pse = math.nan, math.nan
            row |= {"placebo_did": pd_, "placebo_p": _p(pd_, pse)}
        effects.append(row)
    effects_table = pd.DataFrame(effects)

    if "comparison" in arms:
        notes.append("difference-in-differences assumes the two groups would have moved "
                     "alike without the change (parallel trends); the placebo columns test "
                     "it on the two halves of the before period")
        bad = effects_table[effects_table["placebo_p"] < 1 - level]["metric"].tolist()
        if bad:
            notes.append("warning: before the change the groups already moved apart in "
                         f"{', '.join(bad)} (placebo beyond noise): the difference-in-"
                         "differences of those is not to be trusted")
    else:
        notes.append("no comparison group: the change after − before includes everything "
                     "else that changed between the periods (season, campaigns, prices); "
                     "pass by= and treated= (a channel or country without the change) for "
                     "difference-in-differences")
    notes.append("units for the AOV interval are customers (and guest orders) within each "
                 "group; the periods are taken as independent, which errs wide")
    return Result("threshold_change", {"effects": effects_table, "periods": period_table},
                  notes=notes, meta={
        "definition": sel.definition.name, "formula": sel.definition.formula,
        "currency": str(stats["before"]["treated"]["currency"]),
        "statuses": list(sel.statuses), "engine": getattr(eng, "name", sel.engine_name),
        "change": day, "days": n_days, "before": list(periods["before"]),
        "after": list(periods["after"]), "threshold": threshold, "previous": previous,
        "by": by, "treated": treated_v, "control": control_v or None,
        "comparison": "comparison" in arms, "level": level, "selection": sel.describe()})


def _values(v: list[str] | str | None) -> list[str]:
    if v is None:
        return []
    return [v] if isinstance(v, str) else [str(x) for x in v]


def _as_date(v: Any) -> date | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    return pd.Timestamp(v).date()


def _arms(eng, sel: Selection, span: tuple[date, date], by: str | None,
          treated: list[str], control: list[str], threshold: float | None,
          previous: float | None) -> dict[str, dict[str, Any]]:
    """Order and customer statistics of the treated group (and the comparison) in one
    period: per value of ``by`` from the engine, merged with ``+``."""
    s = sel.with_(start=span[0], end=span[1], by=(by,) if by else ())
    keys = [by] if by else []
    facts = metrics.order_facts(eng, s, period=None)
    expr, _ = metrics.kpi_stats(facts, keys, OrderStats, CustomerStats, [], 0)
    over = {k: (facts.value >= t).cast("int64").sum() for k, t in
            (("over_threshold", threshold), ("over_previous", previous)) if t is not None}
    extra = (facts.group_by(keys).aggregate(**over) if keys else facts.aggregate(**over)
             ) if over else None
    rows = metrics.rows(eng.execute(expr))
    xrows = metrics.rows(eng.execute(extra)) if extra is not None else []
    xs = {tuple(r[k] for k in keys): r for r in xrows}
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        value = str(r[by]) if by else None
        arm = ("treated" if not by or value in treated else
               "comparison" if not control or value in control else None)
        if arm is None:
            continue
        x = xs.get(tuple(r[k] for k in keys), {})
        cur = out.setdefault(arm, {"o": OrderStats.zero(), "c": CustomerStats.zero(),
                                   "over_threshold": 0, "over_previous": 0,
                                   "currencies": 0, "codes": set(),
                                   "currency": r["currency_code"]})
        cur["o"] = cur["o"] + OrderStats.from_row(r)
        cur["c"] = cur["c"] + CustomerStats.from_row(_filled(r))
        cur["currencies"] = max(cur["currencies"], int(r["currencies"] or 0))
        if r["currency_code"] is not None:
            cur["codes"].add(str(r["currency_code"]))
        for k in ("over_threshold", "over_previous"):
            cur[k] += int(x.get(k) or 0)
    for arm in ("treated", "comparison") if by else ("treated",):
        out.setdefault(arm, {"o": OrderStats.zero(), "c": CustomerStats.zero(),
                             "over_threshold": 0, "over_previous": 0, "currencies": 0,
                             "codes": set(), "currency": None})
    return out


def _filled(r: dict) -> dict:
    """A group of guest orders only has no customer statistics (a left join's NULLs)."""
    return {k: (0 if v is None or (isinstance(v, float) and math.isnan(v)) else v)
            for k, v in r.items()}


def _estimate(metric: str, s: dict[str, Any], days: int) -> tuple[float, float]:
    """A metric of one group and period and its standard error."""
    o = s["o"]
    if metric == "aov":
        m = aov_moments(o, s["c"])
        return m.ratio, (m.se if o.orders >= MIN_ORDERS else math.nan)
    if metric == "orders_per_day":
        return o.orders / days, math.sqrt(o.orders) / days
    if metric == "revenue_per_day":
        return o.revenue / days, math.sqrt(max(o.revenue_sq, 0.0)) / days
    n = o.orders
    k = s["over_threshold" if metric == "share_over_threshold" else "over_previous"]
    p = ratio(k, n)
    return p, math.sqrt(p * (1 - p) / n) if n else math.nan


def _diff(metric: str, a: dict, b: dict, length: dict[str, int]) -> tuple[float, float]:
    ea, eb = _estimate(metric, a, length["early"]), _estimate(metric, b, length["late"])
    return eb[0] - ea[0], math.hypot(ea[1], eb[1])


def _figures(s: dict[str, Any], days: int, level: float, threshold: float | None,
             previous: float | None) -> dict[str, Any]:
    o = s["o"]
    m = aov_moments(o, s["c"])
    lo, hi = m.ci(level, floor=0.0) if o.orders >= MIN_ORDERS else (math.nan, math.nan)
    out = {"orders": o.orders, "days": days, "orders_per_day": o.orders / days,
           "revenue": o.revenue, "revenue_per_day": o.revenue / days,
           "aov": ratio(o.revenue, o.orders), "aov_ci_low": lo, "aov_ci_high": hi}
    for k, t in (("over_threshold", threshold), ("over_previous", previous)):
        if t is not None:
            out[f"share_{k}"] = ratio(s[k], o.orders)
    return out


def _p(d: float, se: float) -> float:
    if not (math.isfinite(d) and math.isfinite(se)) or se <= 0:
        return math.nan
    return float(2 * ndtr(-abs(d) / se))
