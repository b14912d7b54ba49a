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
from ..query import (
    STEP,
    YEAR,
    Selection,
    SelectionOptions,
    period_floor,
    period_last,
    require_one_currency,
    require_orders,
)
from ..stats import CustomerStats, Distribution, OrderStats, TrafficStats, order_kpis, ratio
from ..stats.kpi import traffic_kpis
from .presets import last_span
from .result import Result

DEFAULT_PERCENTILES = (0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


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
    last: str | None = None,
    **options: Unpack[SelectionOptions],
) -> KpiResult:
    """AOV and companion KPIs, one row per period × ``by`` group.

    ``source`` is a workspace (or a catalog); the orders are chosen by ``selection`` or by
    its keywords (``definition``, ``start``, ``end``, ``statuses``, ``currency``,
    ``filters``, ``by``, ``period``, ``engine``). The definition is named in the
    ``definition`` column. AOV's interval is a delta-method interval for Σ value / Σ
    orders with customers as the independent units. ``trim`` sets the trimmed/winsorized
    AOV's tails. ``last`` (``"week"``, ``"month"``, ``"quarter"``, ``"year"``) picks the
    data's last whole such period, with its changes against the previous one and a year
    earlier. Raises :class:`~aovlab.errors.CurrencyMixError` if a group mixes currencies
    and :class:`~aovlab.errors.NoDataError` if nothing matches.
    """
    sel = Selection.of(selection, **options)
    if not 0 <= trim < 0.5:
        raise DefinitionError(f"trim {trim} must be in [0, 0.5)", fix="use e.g. 0.05 (5% tails)")
    pct = sorted({float(p) for p in percentiles} | {0.5})
    if any(not 0 <= p <= 1 for p in pct):
        raise DefinitionError("percentiles must be between 0 and 1", fix="use e.g. 0.9 for p90")
    eng = connect(source, sel.engine)
    if last is not None:
        start, end = last_span(eng, sel, last)
        sel = sel.with_(start=start, end=end, period=sel.period or last)
    keys = sel.keys

    facts = metrics.order_facts(eng, sel)
    expr, qs = metrics.kpi_stats(facts, keys, OrderStats, CustomerStats, pct, trim)
    rows = metrics.rows(eng.execute(expr))
    require_orders(sum(int(r["orders"] or 0) for r in rows))
    require_one_currency(max(int(r["currencies"]) for r in rows), sel)
    out = _table(eng, sel, rows, qs, pct, level, trim)
    data = metrics.rows(eng.execute(metrics.data_range(eng, sel)))[0]
    if sel.period:
        # The periods a comparison looks back to are read whatever the date filter: with
        # --start 2017-01-01, January 2017 still has its year-over-year change.
        before = _lookback(eng, sel, pct, level, trim)
        shown = out.assign(_shown=True)
        both = shown if before.empty else pd.concat([before, shown], ignore_index=True)
        out = _add_deltas(both, list(sel.by), sel.period, _edges(sel, data),
                          _edges(sel.with_(start=None, end=None), data))
        out = out[out.pop("_shown").eq(True)]
    out = out.sort_values(keys).reset_index(drop=True) if keys else out
    currencies = sorted(set(map(str, out["currency"])))
    return KpiResult("kpis", {"kpis": out}, notes=_history_note(sel, data, out), meta={
        "definition": sel.definition.name, "formula": sel.definition.formula,
        "label": sel.definition.label, "help": sel.definition.help,
        "currency": currencies[0] if len(currencies) == 1 else currencies,
        "statuses": list(sel.statuses), "period": sel.period, "by": list(sel.by),
        "start": sel.start, "end": sel.end, "first_date": _date_edge(rows, min),
        "last_date": _date_edge(rows, max), "data_first_date": _as_date(data["first_date"]),
        "data_last_date": _as_date(data["last_date"]),
        "partial_periods": int(out["partial"].sum()) if "partial" in out else 0,
        "engine": getattr(eng, "name", sel.engine_name),
        "trim": trim, "level": level, "selection": sel.describe()})


def _table(eng, sel: Selection, rows: list[Mapping[str, Any]], qs: list[float],
           pct: list[float], level: float, trim: float, *,
           with_traffic: bool = True) -> pd.DataFrame:
    """The KPI rows of one query's statistics (with conversion where traffic covers them,
    unless ``with_traffic`` is False)."""
    traffic_expr = metrics.traffic_stats(eng, sel, TrafficStats) if with_traffic else None
    traffic = None
    if traffic_expr is not None:
        # None when the workspace has no traffic in the range: no columns of NaN then
        traffic = {_key(r, sel.keys): TrafficStats.from_row(r)
                   for r in metrics.rows(eng.execute(traffic_expr))} or None
    return pd.DataFrame([_row(r, sel.keys, sel, qs, pct, level, trim, traffic) for r in rows])


def _lookback(eng, sel: Selection, pct: list[float], level: float,
              trim: float) -> pd.DataFrame:
    """The whole periods before ``sel.start`` that its first year compares with (empty
    without a start): a previous period and the same period a year earlier."""
    if sel.start is None:
        return pd.DataFrame()
    first = period_floor(sel.start, sel.period)
    since = (pd.Timestamp(first) - YEAR[sel.period] - STEP[sel.period]).date()
    until = (pd.Timestamp(first) - pd.Timedelta(days=1)).date()
    back = sel.with_(start=since, end=until)
    facts = metrics.order_facts(eng, back)
    expr, qs = metrics.kpi_stats(facts, back.keys, OrderStats, CustomerStats, pct, trim)
    rows = [r for r in metrics.rows(eng.execute(expr)) if int(r["orders"] or 0) > 0]
    if not rows:
        return pd.DataFrame()
    # only orders, revenue and AOV are compared: the look-back needs no traffic
    return _table(eng, back, rows, qs, pct, level, trim,
                  with_traffic=False).assign(_shown=False)


def _history_note(sel: Selection, data: Mapping[str, Any], out: pd.DataFrame) -> list[str]:
    """New vs returning knows only the workspace's history: say so when the selection
    starts less than a year after it (a 2-day GA4 export calls most buyers new)."""
    first = _as_date(data["first_date"])
    if first is None or not (out["customers"] > 0).any():
        return []
    since = max(sel.start or first, first)
    if (since - first).days >= 365:
        return []
    return [f"new vs returning knows only this workspace's history, which starts on {first} "
            f"({(since - first).days} day(s) before the selection): a customer who bought "
            "before then counts as new"]


def _as_date(value: Any) -> Any:
    return pd.Timestamp(value).date() if value is not None and not pd.isna(value) else None


def _edges(sel: Selection, data: Mapping[str, Any]) -> tuple[Any, Any]:
    """The first and last day with data in the selection: the data's own first and last
    order dates, narrowed by the date filter."""
    lo, hi = _as_date(data["first_date"]), _as_date(data["last_date"])
    if sel.start is not None and (lo is None or sel.start > lo):
        lo = sel.start
    if sel.end is not None and (hi is None or sel.end < hi):
        hi = sel.end
    return lo, hi


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


def _add_deltas(out: pd.DataFrame, by: list[str], period: str,
                edges: tuple[Any, Any], data_edges: tuple[Any, Any]) -> pd.DataFrame:
    """Change against the previous period and the same period a year earlier.

    A period cut by the data's first or last day, or by the date filter, is ``partial``
    (the demo's December 2011 has 9 days); a change with a partial period on either side
    is flagged in ``pop_partial`` / ``yoy_partial`` (the CLI shows "partial" instead of a
    percentage that compares 9 days with 31). The periods read only as a comparison base
    (``_shown`` False) are whole unless the data cuts them: the filter does not apply.
    """
    def cut(s: Any, shown: bool) -> bool:
        lo, hi = edges if shown else data_edges
        return bool((lo is not None and s < lo) or (
            hi is not None and period_last(s, period) > hi))

    starts = [pd.Timestamp(p).date() for p in out["period"]]
    out = out.assign(partial=[cut(s, bool(shown)) for s, shown in zip(
        starts, out["_shown"], strict=True)])
    base = out[list(dict.fromkeys(["period", *by, "currency", "orders", "revenue", "aov",
                                   "partial"]))].copy()
    base["period"] = pd.to_datetime(base["period"])
    cur = out.copy()
    cur["_p"] = pd.to_datetime(cur["period"])
    for tag, step in (("pop", STEP[period]), ("yoy", YEAR[period])):
        prev = base.rename(columns={"orders": "_o", "revenue": "_r", "aov": "_a",
                                    "partial": "_part"})
        prev["_p"] = prev["period"] + step
        prev = prev.drop(columns="period")
        # the same currency only: a base period in another currency (or mixed) gives no
        # change, as a mixed selection gives no AOV
        cur = cur.merge(prev, on=list(dict.fromkeys(["_p", *by, "currency"])), how="left")
        cur[f"aov_{tag}_change"] = cur["aov"] - cur["_a"]
        for col, short in (("aov", "_a"), ("revenue", "_r"), ("orders", "_o")):
            cur[f"{col}_{tag}_pct"] = [ratio(a - b, b) for a, b in zip(cur[col], cur[short],
                                                                        strict=True)]
        cur[f"{tag}_partial"] = cur["partial"] | cur["_part"].eq(True)
        cur = cur[[c for c in cur.columns if c not in ("_o", "_r", "_a", "_part")]]
    return cur.drop(columns="_p")
