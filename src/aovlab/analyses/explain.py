"""Why AOV changed between two periods, in parts that add up exactly to the change.

Three decompositions, all exact (no residual term; the maths is in
:mod:`aovlab.stats.decompose`):

* **Mix vs rate** across a dimension: orders moving between segments vs AOV moving within
  them.
* **Basket**: AOV = units per order × average unit price.
* **Funnel**: revenue = traffic × conversion rate × AOV.

Each period's AOV comes from the same sufficient statistics as :func:`~.kpis.kpis`, so it
carries the same delta-method interval.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Unpack

import pandas as pd

from .. import metrics
from ..engines import connect
from ..errors import CurrencyMixError, DefinitionError
from ..query import (
    Selection,
    SelectionOptions,
    parse_range,
    require_one_currency,
    require_orders,
)
from ..stats import (
    CustomerStats,
    OrderStats,
    TrafficStats,
    aov_moments,
    difference_ci,
    mix_rate,
    ratio,
    shapley2,
    shapley3,
)
from .presets import last_span, versus
from .result import Result, plain


class Explanation(Result):
    """Tables ``segments`` (mix/rate per segment), ``factors`` (the identities) and
    ``periods`` (each period's orders, revenue and AOV with its interval)."""

    @property
    def segments(self) -> pd.DataFrame:
        return self.tables["segments"]

    @property
    def factors(self) -> pd.DataFrame:
        return self.tables["factors"]

    @property
    def periods(self) -> pd.DataFrame:
        return self.tables["periods"]

    definition = property(lambda self: self.meta["definition"])
    dimension = property(lambda self: self.meta["dimension"])
    currency = property(lambda self: self.meta["currency"])
    base = property(lambda self: self.meta["base"])
    compare = property(lambda self: self.meta["compare"])
    aov_base = property(lambda self: self.meta["aov_base"])
    aov_compare = property(lambda self: self.meta["aov_compare"])

    @property
    def change(self) -> float:
        return self.aov_compare - self.aov_base

    @property
    def beyond_noise(self) -> bool | None:
        """Does the interval of the change exclude 0? None when either period has too few
        independent units for an interval."""
        return self.meta["beyond_noise"]

    @property
    def mix_effect(self) -> float:
        return float(self.segments["mix_effect"].sum())

    @property
    def rate_effect(self) -> float:
        return float(self.segments["rate_effect"].sum())

    def to_dict(self) -> dict[str, Any]:
        """The whole explanation: a headline (both AOVs, the change and its mix and rate
        parts), then metadata, notes and every table."""
        out = super().to_dict()
        base = self.aov_base
        out["headline"] = {
            "aov_base": base, "aov_compare": self.aov_compare, "change": self.change,
            "change_pct": self.change / base if base else None,
            "change_ci_low": self.meta["change_ci_low"],
            "change_ci_high": self.meta["change_ci_high"],
            "beyond_noise": self.meta["beyond_noise"],
            "mix_effect": self.mix_effect, "rate_effect": self.rate_effect,
            "dimension": self.dimension, "currency": self.currency,
            "base": [str(d) for d in self.base], "compare": [str(d) for d in self.compare]}
        return {"headline": plain(out.pop("headline")), **out}

    def top(self, n: int = 5) -> pd.DataFrame:
        """The segments that moved AOV most, either way (already in that order)."""
        if not isinstance(n, int) or n < 1:
            raise DefinitionError(f"top {n!r} must be a whole number, 1 or more",
                                  fix="use e.g. --top 10")
        return self.segments.head(n)


def _period_stats(eng, sel: Selection, tag: str) -> dict[str, Any]:
    """One period's total and per-segment statistics, and its traffic."""
    dim = sel.by[0]
    facts = metrics.order_facts(eng, sel, period=None)
    expr, _ = metrics.kpi_stats(facts, [], OrderStats, CustomerStats, [], 0)
    total = metrics.rows(eng.execute(expr))[0]
    require_orders(int(total["orders"] or 0), f"the {tag} period {sel.start}..{sel.end}",
                   fix="choose periods that hold orders ('aovlab kpis --period month' shows "
                       "them), or widen --status and --where")
    require_one_currency(int(total["currencies"]), sel.with_(by=()),
                         fix="choose one with --currency EUR")
    segs = metrics.rows(eng.execute(metrics.order_stats(facts, [dim], OrderStats)))
    t_expr = metrics.traffic_stats(eng, sel, TrafficStats, by=(), period=None)
    traffic = TrafficStats.from_row(metrics.rows(eng.execute(t_expr))[0]) if t_expr is not None \
        else None
    return {"order": OrderStats.from_row(total), "units": CustomerStats.from_row(total),
            "currency": total["currency_code"], "traffic": traffic,
            "segments": {str(r[dim]): OrderStats.from_row(r) for r in segs}}


def explain(
    source: Any,
    base: tuple | str | None = None,
    compare: tuple | str | None = None,
    selection: Selection | None = None,
    /,
    *,
    traffic_unit: str = "sessions",
    level: float = 0.95,
    last: str | None = None,
    vs: str = "previous",
    **options: Unpack[SelectionOptions],
) -> Explanation:
    """Decompose the AOV change from ``base`` to ``compare`` (each ``(start, end)`` or
    ``"START:END"``) across the selection's dimension (``by``, default channel).

    Or name the periods: ``last="month"`` compares the data's last whole month with the
    one before (``vs="previous"``) or the same month a year earlier (``vs="year"``).
    """
    if "by" not in options and not (selection is not None and selection.by):
        options["by"] = "channel"  # type: ignore[typeddict-item]
    sel = Selection.of(selection, **options)
    if len(sel.by) != 1:
        raise DefinitionError(f"explain splits by one dimension, got {list(sel.by)}",
                              fix="pass one --by dimension, e.g. --by channel")
    if traffic_unit not in ("sessions", "visitors"):
        raise DefinitionError(f"traffic unit {traffic_unit!r}", fix="use sessions or visitors")
    eng = connect(source, sel.engine)
    if last is not None:
        if base is not None or compare is not None:
            raise DefinitionError("give the periods (--base/--compare) or --last, not both",
                                  fix="drop --base and --compare, or --last")
        latest = last_span(eng, sel, last)
        span = {"base": versus(latest, last, vs), "compare": latest}
    elif base is None or compare is None:
        raise DefinitionError("explain needs two periods",
                              fix="pass --base START:END and --compare START:END, or "
                                  "--last month (with --vs previous or year)")
    else:
        span = {"base": parse_range(base, "base"), "compare": parse_range(compare, "compare")}
    st = {tag: _period_stats(eng, sel.with_(start=s, end=e, period=None), tag)
          for tag, (s, e) in span.items()}
    cur = {st[t]["currency"] for t in st}
    if len(cur) > 1:
        raise CurrencyMixError(f"the two periods are in different currencies {sorted(cur)}",
                               fix="choose one with --currency")
    a, b = st["base"]["order"], st["compare"]["order"]
    change, lo, hi = difference_ci(aov_moments(a, st["base"]["units"]),
                                   aov_moments(b, st["compare"]["units"]), level)
    notes: list[str] = []
    periods = pd.DataFrame([_period_row(tag, span[tag], st[tag], level) for tag in st])
    if st["base"]["traffic"] is None and st["compare"]["traffic"] is None:
        has_traffic = None  # a filter on a dimension the traffic table does not have
    else:
        has_traffic = bool(eng.execute(eng.table("traffic").count()))
    factors = pd.DataFrame(_basket(a, b, notes) + _funnel(st, span, traffic_unit, a, b,
                                                          has_traffic, notes),
                           columns=["identity", "component", "base", "compare", "effect"])
    return Explanation("explanation", {
        "segments": _segments(sel.by[0], st["base"]["segments"], st["compare"]["segments"]),
        "factors": factors, "periods": periods}, notes=notes, meta={
        "definition": sel.definition.name, "formula": sel.definition.formula,
        "dimension": sel.by[0], "currency": cur.pop(), "base": span["base"],
        "compare": span["compare"], "aov_base": ratio(a.revenue, a.orders),
        "aov_compare": ratio(b.revenue, b.orders), "change_ci_low": lo, "change_ci_high": hi,
        "beyond_noise": None if math.isnan(lo) else bool(lo > 0 or hi < 0), "level": level,
        "statuses": list(sel.statuses),
        "engine": getattr(eng, "name", sel.engine_name), "selection": sel.describe()})


def _period_row(tag: str, span: tuple[date, date], st: dict, level: float) -> dict:
    o = st["order"]
    m = aov_moments(o, st["units"])
    lo, hi = m.ci(level, floor=0.0)
    return {"period": tag, "start": span[0], "end": span[1], "orders": o.orders,
            "revenue": o.revenue, "aov": ratio(o.revenue, o.orders), "aov_ci_low": lo,
            "aov_ci_high": hi, "aov_units": m.n}


def _segments(dim: str, sa: dict[str, OrderStats], sb: dict[str, OrderStats]) -> pd.DataFrame:
    names = sorted(set(sa) | set(sb))
    zero = OrderStats.zero()
    oa = [sa.get(n, zero) for n in names]
    ob = [sb.get(n, zero) for n in names]
    parts = mix_rate([o.orders for o in oa], [o.revenue for o in oa],
                     [o.orders for o in ob], [o.revenue for o in ob])
    seg = pd.DataFrame([{dim: n, "orders_base": x.orders, "orders_compare": y.orders,
                         "share_base": p.share_base, "share_compare": p.share_compare,
                         "aov_base": p.aov_base, "aov_compare": p.aov_compare,
                         "mix_effect": p.mix_effect, "rate_effect": p.rate_effect,
                         "total_effect": p.total_effect}
                        for n, x, y, p in zip(names, oa, ob, parts, strict=True)])
    order = seg["total_effect"].abs().sort_values(ascending=False, kind="stable").index
    return seg.loc[order].reset_index(drop=True)


def _basket(a: OrderStats, b: OrderStats, notes: list[str]) -> list[tuple]:
    """AOV = units per order × unit price, and revenue = orders × AOV."""
    rows: list[tuple] = []
    aov = (ratio(a.revenue, a.orders), ratio(b.revenue, b.orders))
    if (a.orders_with_units == a.orders and b.orders_with_units == b.orders
            and a.units > 0 and b.units > 0):
        upo = (a.units / a.orders, b.units / b.orders)
        apu = (a.revenue / a.units, b.revenue / b.units)
        e_upo, e_apu = shapley2(upo[0], upo[1], apu[0], apu[1])
        rows += [("aov", "units per order", upo[0], upo[1], e_upo),
                 ("aov", "average unit price", apu[0], apu[1], e_apu)]
    elif a.orders_with_units == 0 and b.orders_with_units == 0:
        notes.append("no order has units (the source has no line quantities): no units × "
                     "price split")
    else:
        missing = (a.orders - a.orders_with_units) + (b.orders - b.orders_with_units)
        notes.append(f"{missing:,} of the {a.orders + b.orders:,} orders have no units: no "
                     "units × price split")
    e_n, e_aov = shapley2(a.orders, b.orders, aov[0], aov[1])
    return rows + [("revenue", "orders", a.orders, b.orders, e_n),
                   ("revenue", "aov", aov[0], aov[1], e_aov)]


def _funnel(st: dict, span: dict, unit: str, a: OrderStats, b: OrderStats,
            has_traffic: bool | None, notes: list[str]) -> list[tuple]:
    """Revenue = traffic × conversion rate × AOV, when both periods have traffic."""
    ta, tb = st["base"]["traffic"], st["compare"]["traffic"]
    visits = [getattr(t, unit) if t is not None and t.traffic_rows else math.nan
              for t in (ta, tb)]
    if not all(v > 0 for v in visits):  # NaN compares False
        if has_traffic is None:
            why = "the traffic table is not split by the --where dimension"
        elif not has_traffic:
            why = "the workspace has no traffic (import GA4 or a traffic table)"
        else:
            empty = [f"the {tag} period {span[tag][0]}..{span[tag][1]}"
                     for tag, v in zip(("base", "compare"), visits, strict=True)
                     if not v > 0]
            why = f"no {unit} in {' or '.join(empty)}"
        notes.append(f"{why}: no {unit} × conversion × AOV split")
        return []
    va, vb = visits
    aov = (a.revenue / a.orders, b.revenue / b.orders)
    cr = (a.orders / va, b.orders / vb)
    e_v, e_cr, e_aov = shapley3((va, vb), cr, aov)
    return [("funnel", unit, va, vb, e_v), ("funnel", "conversion rate", cr[0], cr[1], e_cr),
            ("funnel", "aov", aov[0], aov[1], e_aov)]


def check_additivity(x: Explanation, rel: float = 1e-9) -> bool:
    """True when every decomposition adds up to its total change (tests and CLI use it)."""
    tol = rel * max(1.0, abs(x.aov_base), abs(x.aov_compare))
    ok = math.isclose(x.mix_effect + x.rate_effect, x.change, abs_tol=tol)
    for ident, grp in x.factors.groupby("identity"):
        if ident == "aov":
            target = x.change
        else:
            prod_a = math.prod(grp["base"].to_list())
            prod_b = math.prod(grp["compare"].to_list())
            target = prod_b - prod_a
            tol = rel * max(1.0, abs(prod_a), abs(prod_b))
        ok &= math.isclose(grp["effect"].sum(), target, abs_tol=tol)
    return bool(ok)
