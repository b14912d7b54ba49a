"""AOV and its companion KPIs by period × any dimension, with period-over-period deltas.

:func:`kpis` asks the engine for sufficient statistics (:mod:`aovlab.metrics`, declared in
:mod:`aovlab.stats.sufficient`) and derives every ratio from them with the pure functions
of :mod:`aovlab.stats.kpi`, so AOV × orders = revenue in every row and every engine gives
the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Unpack

import pandas as pd

from .. import metrics
from ..engines import connect
from ..errors import DefinitionError
from ..query import Selection, SelectionOptions, require_one_currency, require_orders
from ..stats import CustomerStats, Distribution, OrderStats, TrafficStats, order_kpis, ratio
from ..stats.kpi import traffic_kpis
from .result import Result

DEFAULT_PERCENTILES = (0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
# A year earlier, per period: weeks and days step back a whole number of weeks so that
# Mondays compare with Mondays.
_STEP = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1),
         "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
         "year": pd.DateOffset(years=1)}
_YEAR = {"day": pd.DateOffset(days=364), "week": pd.DateOffset(weeks=52),
         "month": pd.DateOffset(years=1), "quarter": pd.DateOffset(years=1),
         "year": pd.DateOffset(years=1)}


class KpiResult(Result):
    """The KPI table (``.table``, one row per period × group) and its metadata."""


def kpis(
    source: Any,
    selection: Selection | None = None,
    /,
    *,
    trim: float = 0.05,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    level: float = 0.95,
    **options: Unpack[SelectionOptions],
) -> KpiResult:
    """AOV and companion KPIs, one row per period × ``by`` group.

    ``source`` is a workspace (or a catalog); the orders are chosen by ``selection`` or by
    its keywords (``definition``, ``start``, ``end``, ``statuses``, ``currency``,
    ``filters``, ``by``, ``period``, ``engine``). The definition is named in the
    ``definition`` column. AOV's interval is a delta-method interval for Σ value / Σ
    orders with customers as the independent units. ``trim`` sets the trimmed/winsorized
    AOV's tails. Raises :class:`~aovlab.errors.CurrencyMixError` if a group mixes
    currencies and :class:`~aovlab.errors.NoDataError` if nothing matches.
    """
    sel = Selection.of(selection, **options)
    if not 0 <= trim < 0.5:
        raise DefinitionError(f"trim {trim} must be in [0, 0.5)", fix="use e.g. 0.05 (5% tails)")
    pct = sorted({float(p) for p in percentiles} | {0.5})
    if any(not 0 <= p <= 1 for p in pct):
        raise DefinitionError("percentiles must be between 0 and 1", fix="use e.g. 0.9 for p90")
    eng = connect(source, sel.engine)
    keys = sel.keys

    facts = metrics.order_facts(eng, sel)
    expr, qs = metrics.kpi_stats(facts, keys, OrderStats, CustomerStats, pct, trim)
    rows = metrics.rows(eng.execute(expr))
    require_orders(sum(int(r["orders"] or 0) for r in rows))
    require_one_currency(max(int(r["currencies"]) for r in rows), sel)
    traffic_expr = metrics.traffic_stats(eng, sel, TrafficStats)
    traffic = None
    if traffic_expr is not None:
        traffic = {_key(r, keys): TrafficStats.from_row(r)
                   for r in metrics.rows(eng.execute(traffic_expr))}

    out = pd.DataFrame([_row(r, keys, sel, qs, pct, level, trim, traffic) for r in rows])
    if sel.period:
        out = _add_deltas(out, list(sel.by), sel.period)
    out = out.sort_values(keys).reset_index(drop=True) if keys else out
    currencies = sorted(set(map(str, out["currency"])))
    return KpiResult("kpis", {"kpis": out}, meta={
        "definition": sel.definition.name, "formula": sel.definition.formula,
        "label": sel.definition.label, "help": sel.definition.help,
        "currency": currencies[0] if len(currencies) == 1 else currencies,
        "statuses": list(sel.statuses), "period": sel.period, "by": list(sel.by),
        "start": sel.start, "end": sel.end, "first_date": _date_edge(rows, min),
        "last_date": _date_edge(rows, max), "engine": getattr(eng, "name", sel.engine_name),
        "trim": trim, "level": level, "selection": sel.describe()})


def _date_edge(rows: list[Mapping[str, Any]], pick) -> Any:
    got = [r["first_date" if pick is min else "last_date"] for r in rows
           if r.get("first_date" if pick is min else "last_date") is not None]
    return pick(got) if got else None


def _key(r: Mapping[str, Any], keys: list[str]) -> tuple:
    return tuple(pd.Timestamp(r[k]).date() if k == "period" else str(r[k]) for k in keys)


def _row(r: Mapping[str, Any], keys: list[str], sel: Selection, qs: list[float],
         pct: list[float], level: float, trim: float,
         traffic: dict[tuple, TrafficStats] | None) -> dict[str, Any]:
    o, c = OrderStats.from_row(r), CustomerStats.from_row(r)
    q = r["quantiles"]
    quantiles = dict(zip(qs, q, strict=True)) if q is not None else {}
    d = Distribution(quantiles, *((r["trimmed_sum"] or 0.0, int(r["trimmed_n"] or 0),
                                   r["winsor_sum"]) if trim > 0 else ()))
    key = _key(r, keys)
    row: dict[str, Any] = dict(zip(keys, key, strict=True))
    row["definition"] = sel.definition.name
    row["currency"] = r["currency_code"] if int(r["currencies"]) == 1 else "(mixed)"
    row.update(order_kpis(o, c, d, level=level, percentiles=pct, trim=trim))
    if traffic is not None:
        row.update(traffic_kpis(o, traffic.get(key)))
    return row


def _add_deltas(out: pd.DataFrame, by: list[str], period: str) -> pd.DataFrame:
    """Change against the previous period and the same period a year earlier."""
    base = out[["period", *by, "orders", "revenue", "aov"]].copy()
    base["period"] = pd.to_datetime(base["period"])
    cur = out.copy()
    cur["_p"] = pd.to_datetime(cur["period"])
    for tag, step in (("pop", _STEP[period]), ("yoy", _YEAR[period])):
        prev = base.rename(columns={"orders": "_o", "revenue": "_r", "aov": "_a"})
        prev["_p"] = prev["period"] + step
        prev = prev.drop(columns="period")
        cur = cur.merge(prev, on=["_p", *by], how="left")
        cur[f"aov_{tag}_change"] = cur["aov"] - cur["_a"]
        for col, short in (("aov", "_a"), ("revenue", "_r"), ("orders", "_o")):
            cur[f"{col}_{tag}_pct"] = [ratio(a - b, b) for a, b in zip(cur[col], cur[short],
                                                                        strict=True)]
        cur = cur[[c for c in cur.columns if c not in ("_o", "_r", "_a")]]
    return cur.drop(columns="_p")
