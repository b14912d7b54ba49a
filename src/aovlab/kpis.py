"""AOV and its companion KPIs by period × any dimension, with period-over-period deltas.

:func:`kpis` asks the engine for sufficient statistics (:mod:`aovlab.metrics`) and derives
every ratio here, so AOV × orders = revenue in every row and the same numbers come out of
every engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from . import metrics, schema
from .definitions import get_definition
from .engines import connect
from .errors import CurrencyMixError, DefinitionError, NoDataError
from .stats import Moments, RatioMoments
from .workspace import Workspace

DEFAULT_PERCENTILES = (0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
# A year earlier, per period: weeks and days step back a whole number of weeks so that
# Mondays compare with Mondays.
_STEP = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1),
         "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
         "year": pd.DateOffset(years=1)}
_YEAR = {"day": pd.DateOffset(days=364), "week": pd.DateOffset(weeks=52),
         "month": pd.DateOffset(years=1), "quarter": pd.DateOffset(years=1),
         "year": pd.DateOffset(years=1)}


def _engine(workspace, engine):
    if isinstance(engine, str):
        return connect(workspace, engine)
    return engine


def selection(
    definition: str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    currency: str | None = None,
    statuses: Sequence[str] | None = None,
    filters: dict[str, str] | None = None,
) -> metrics.Selection:
    """Check and bundle the settings that choose which orders count."""
    d = get_definition(definition)
    statuses = tuple(statuses or schema.COUNTED_STATUSES)
    bad = [s for s in statuses if s not in schema.STATUSES]
    if bad:
        raise DefinitionError(f"unknown status(es) {bad}",
                              fix=f"use any of {', '.join(schema.STATUSES)}")
    flt = tuple((filters or {}).items())
    metrics.check_grouping([k for k, _ in flt], None)
    s, e = _date(start, "start"), _date(end, "end")
    if s and e and s > e:
        raise DefinitionError(f"start {s} is after end {e}", fix="swap --start and --end")
    return metrics.Selection(d, s, e, statuses, currency.upper() if currency else None, flt)


def _date(value: date | str | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise DefinitionError(f"--{what} {value!r} is not a date",
                              fix="write dates as YYYY-MM-DD") from exc


def kpis(
    workspace: Workspace,
    *,
    by: Sequence[str] = (),
    period: str | None = None,
    definition: str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    currency: str | None = None,
    statuses: Sequence[str] | None = None,
    filters: dict[str, str] | None = None,
    trim: float = 0.05,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    level: float = 0.95,
    engine: object = "duckdb",
) -> pd.DataFrame:
    """AOV and companion KPIs, one row per period × ``by`` group.

    ``definition`` is one of gross, net (default), net_of_returns, total and is named in
    the ``definition`` column. AOV's interval is a delta-method interval for the ratio
    Σ value / Σ orders with customers as the independent units (so a customer's orders are
    not treated as independent). ``trim`` sets the trimmed/winsorized AOV's tails.
    Raises :class:`CurrencyMixError` if a group mixes currencies.
    """
    by = list(dict.fromkeys(by))
    metrics.check_grouping(by, period)
    if not 0 <= trim < 0.5:
        raise DefinitionError(f"trim {trim} must be in [0, 0.5)", fix="use e.g. 0.05 (5% tails)")
    pct = sorted({float(p) for p in percentiles} | {0.5})
    if any(not 0 <= p <= 1 for p in pct):
        raise DefinitionError("percentiles must be between 0 and 1", fix="use e.g. 0.9 for p90")
    sel = selection(definition, start, end, currency, statuses, filters)
    eng = _engine(workspace, engine)
    keys = metrics.keys_of(by, period)

    facts = metrics.order_facts(eng, sel, by, period)
    expr, qs = metrics.kpi_stats(facts, keys, pct, trim)
    df = eng.execute(expr)
    if df.empty or int(df["orders"].sum()) == 0:
        raise NoDataError("no orders match the selection",
                          fix="check --start/--end, --currency, filters and statuses; "
                              "'aovlab status' shows what the workspace holds")
    if "currency" not in by and int(df["currencies"].max()) > 1:
        raise CurrencyMixError(
            "the selection mixes currencies; sums across currencies are meaningless",
            fix="add --by currency, or choose one with --currency EUR")
    traffic_expr = metrics.traffic_stats(eng, sel, by, period)
    traffic = eng.execute(traffic_expr) if traffic_expr is not None else None

    df = _normalise_keys(df, keys)
    if traffic is not None:
        df = df.merge(_normalise_keys(traffic, keys), on=keys, how="left") if keys else \
            pd.concat([df, traffic.reset_index(drop=True)], axis=1)
    out = _derive(df, keys, sel, qs, pct, level, trim, has_traffic=traffic is not None)
    if period:
        out = _add_deltas(out, by, period)
    out = out.sort_values(keys).reset_index(drop=True) if keys else out
    out.attrs.update(definition=sel.definition.name, formula=sel.definition.formula,
                     statuses=list(sel.statuses), period=period, by=by,
                     engine=getattr(eng, "name", str(engine)))
    return out


def _normalise_keys(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    df = df.copy()
    if "period" in keys:
        df["period"] = pd.to_datetime(df["period"]).dt.date
    for k in keys:
        if k != "period":
            df[k] = df[k].astype(str)
    return df


def _ratio(num, den):
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / den, np.nan)


#: Sums that are NULL where a group has no known customers, or no guest orders.
_ZERO_WHEN_NONE = ("customers", "repeat_customers", "customer_orders", "customer_revenue",
                   "customer_xx", "customer_yy", "customer_xy", "guest_revenue",
                   "guest_revenue_sq")


def _aov_moments(r) -> RatioMoments:
    """AOV = Σ value / Σ orders over units: each known customer, and each guest order."""
    return RatioMoments(
        int(r.customers + r.guest_orders), r.revenue, r.orders,
        r.customer_xx + r.guest_revenue_sq, r.customer_yy + r.guest_orders,
        r.customer_xy + r.guest_revenue)


def _derive(df: pd.DataFrame, keys: list[str], sel, qs: list[float], pct: list[float],
            level: float, trim: float, *, has_traffic: bool) -> pd.DataFrame:
    out = df[keys].copy() if keys else pd.DataFrame(index=df.index)
    out["definition"] = sel.definition.name
    out["currency"] = df["currency_code"].where(df["currencies"] == 1, "(mixed)")
    orders = df["orders"].astype("int64")
    out["orders"] = orders
    out["revenue"] = df["revenue"].astype(float)
    out["aov"] = _ratio(df["revenue"], orders)
    for c in _ZERO_WHEN_NONE:
        df[c] = df[c].astype("float64").fillna(0)
    lo_hi = [_aov_moments(r).ci(level) for r in df.itertuples()]
    out["aov_ci_low"] = [a for a, _ in lo_hi]
    out["aov_ci_high"] = [b for _, b in lo_hi]
    out["aov_std"] = [Moments(int(r.orders), r.revenue, r.revenue_sq).std
                      for r in df.itertuples()]
    q = np.array([list(x) if x is not None else [math.nan] * len(qs)
                  for x in df["quantiles"]], dtype="float64")
    out["median"] = q[:, qs.index(0.5)]
    if trim > 0:
        out["trimmed_aov"] = _ratio(df["trimmed_sum"], df["trimmed_n"])
        out["winsorized_aov"] = _ratio(df["winsor_sum"], orders)
    for p in pct:
        if p != 0.5:
            out[f"p{round(p * 100, 1):g}"] = q[:, qs.index(p)]
    out["min_value"] = df["min_value"].astype(float)
    out["max_value"] = df["max_value"].astype(float)
    complete_units = df["orders_with_units"] == orders
    out["units_per_order"] = np.where(complete_units, _ratio(df["units"], orders), np.nan)
    out["avg_unit_price"] = np.where(complete_units, _ratio(df["revenue"], df["units"]), np.nan)
    out["customers"] = df["customers"].astype("int64")
    out["purchase_frequency"] = _ratio(df["customer_orders"], df["customers"])
    out["repeat_customer_rate"] = _ratio(df["repeat_customers"], df["customers"])
    out["avg_customer_spend"] = _ratio(df["customer_revenue"], df["customers"])
    for seg in ("new", "returning", "guest"):
        out[f"{seg}_orders"] = df[f"{seg}_orders"].astype("int64")
        out[f"{seg}_aov"] = _ratio(df[f"{seg}_revenue"], df[f"{seg}_orders"])
    out["discount_share"] = _ratio(df["discounts"], df["gross_sales"])
    out["shipping_share"] = _ratio(df["shipping"], df["total_paid"])
    out["margin_per_order"] = _ratio(df["margin"], df["orders_with_cost"])
    out["cost_coverage"] = _ratio(df["orders_with_cost"], orders)
    if has_traffic:
        sessions = df["sessions"].astype(float)
        out["sessions"] = sessions
        out["visitors"] = df["visitors"].astype(float)
        out["conversion_rate"] = _ratio(orders, sessions)
        out["revenue_per_visitor"] = _ratio(df["revenue"], df["visitors"])
        out["revenue_per_session"] = _ratio(df["revenue"], sessions)
    return out


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
        cur[f"aov_{tag}_pct"] = _ratio(cur["aov"] - cur["_a"], cur["_a"])
        cur[f"revenue_{tag}_pct"] = _ratio(cur["revenue"] - cur["_r"], cur["_r"])
        cur[f"orders_{tag}_pct"] = _ratio(cur["orders"] - cur["_o"], cur["_o"])
        cur = cur.drop(columns=["_o", "_r", "_a"])
    return cur.drop(columns="_p")


def histogram(
    workspace: Workspace,
    *,
    bins: int = 30,
    fence_k: float = 3.0,
    definition: str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    currency: str | None = None,
    statuses: Sequence[str] | None = None,
    filters: dict[str, str] | None = None,
    engine: object = "duckdb",
) -> pd.DataFrame:
    """Order-value histogram with outliers flagged.

    An order is an outlier when its value is above Q3 + ``fence_k`` × IQR (Tukey's far-out
    fence for k = 3). Bins span the non-outlier range in equal widths, outliers get their own
    rows; ``attrs`` hold the outliers' count and share of orders and of revenue.
    """
    if bins < 1:
        raise DefinitionError("bins must be at least 1", fix="use e.g. --bins 30")
    sel = selection(definition, start, end, currency, statuses, filters)
    eng = _engine(workspace, engine)
    facts = metrics.order_facts(eng, sel, [], None)
    summary = eng.execute(metrics.order_stats(facts, [], [0.25, 0.75]))
    if summary.empty or int(summary["orders"].iloc[0]) == 0:
        raise NoDataError("no orders match the selection", fix="widen the selection")
    if int(summary["currencies"].iloc[0]) > 1:
        raise CurrencyMixError("the selection mixes currencies",
                               fix="choose one with --currency EUR")
    q1, q3 = (float(x) for x in summary["quantiles"].iloc[0])
    fence = q3 + fence_k * (q3 - q1)
    lo = float(summary["min_value"].iloc[0])
    hi = min(float(summary["max_value"].iloc[0]), fence)
    width = (hi - lo) / bins if hi > lo else 1.0
    h = eng.execute(metrics.histogram_stats(facts, lo, width, bins, fence))
    rows = []
    inside = h[~h["outlier"].astype(bool)].set_index("bin")
    for b in range(bins):
        n = int(inside["orders"].get(b, 0)) if b in inside.index else 0
        rev = float(inside["revenue"].get(b, 0.0)) if b in inside.index else 0.0
        rows.append({"bin_low": lo + b * width, "bin_high": lo + (b + 1) * width,
                     "orders": n, "revenue": rev, "outlier": False})
    out_rows = h[h["outlier"].astype(bool)]
    n_out = int(out_rows["orders"].sum())
    rev_out = float(out_rows["revenue"].sum())
    if n_out:
        rows.append({"bin_low": fence, "bin_high": float(summary["max_value"].iloc[0]),
                     "orders": n_out, "revenue": rev_out, "outlier": True})
    res = pd.DataFrame(rows)
    total_n, total_rev = int(summary["orders"].iloc[0]), float(summary["revenue"].iloc[0])
    res["order_share"] = res["orders"] / total_n
    res["revenue_share"] = res["revenue"] / total_rev if total_rev else np.nan
    res.insert(0, "definition", sel.definition.name)
    res.attrs.update(definition=sel.definition.name, fence=fence, q1=q1, q3=q3,
                     outlier_orders=n_out, outlier_order_share=n_out / total_n,
                     outlier_revenue_share=rev_out / total_rev if total_rev else math.nan,
                     currency=str(summary["currency_code"].iloc[0]))
    return res
