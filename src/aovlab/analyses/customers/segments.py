"""RFM segments and spend tiers, each with what it is worth and what to do about it.

Scores (1–5, quantile-based, higher is better) per customer up to a cut-off:

* R: days since the last purchase (fewer is better);
* F: orders;
* M: total spend under the selection's AOV definition.

A score is ⌈5 · (rank of the customer's value, ties at their lowest rank) / customers⌉, so
tied customers share one score: the 60% of a store who bought once all get F = 1, not a
random spread of 1 and 2 as an equal-count split would give them.

Named segments, the first rule that holds (every R, F, M lands in exactly one):
champions (R ≥ 4, F ≥ 4, M ≥ 4), can't lose (R ≤ 2, F ≥ 4, M ≥ 4), loyal (R ≥ 3, F ≥ 4),
at risk (R ≤ 2, F ≥ 3), new (R ≥ 4, F = 1), potential loyalists (R ≥ 3), hibernating
(R = 2), lost (R = 1).

Spend tiers by total spend: low (below the median), mid (to the 80th percentile), high (to
the 95th), top (the top 5%).

Each segment and tier gets its customers, orders, AOV, revenue share, mean CLV (from
:func:`~aovlab.analyses.customers.clv`, when the store has the history for it) and a
suggested action drawn from the levers that raise AOV; a threshold offer names its
threshold: the 75th percentile of the segment's customers' average order value, a basket
most of them would have to grow into.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Unpack

import numpy as np
import pandas as pd

from ...errors import AovlabError
from ...query import Selection, SelectionOptions
from ..result import Result
from .clv import clv
from .summary import SAME_DAY, summarise

SEGMENTS = ("champions", "loyal", "potential loyalists", "new", "at risk", "can't lose",
            "hibernating", "lost")
TIERS = ("top", "high", "mid", "low")
#: What to do for each, from the levers: thresholds, bundles, cross-sell, loyalty, win-back.
ACTIONS = {
    "champions": "loyalty rewards and early access; premium bundles; ask for reviews",
    "loyal": "loyalty points that grow with the basket; cross-sell complementary products",
    "potential loyalists": "a membership or subscription offer; bundles for the next order",
    "new": "onboarding e-mails; a free-shipping threshold just above their first basket",
    "at risk": "a win-back threshold coupon (spend more than the threshold, save a fixed "
               "amount)",
    "can't lose": "personal win-back: reach out with the best offer and ask what went wrong",
    "hibernating": "a threshold coupon on best sellers; a reactivation campaign",
    "lost": "low-cost reactivation only; leave out of paid retargeting",
    "top": "VIP service, early access and free shipping on every order",
    "high": "loyalty rewards; upsell premium versions",
    "mid": "bundles and cross-sell to lift the basket",
    "low": "a threshold coupon for small spenders (spend more than the threshold to save)",
}
#: The actions that are a threshold offer, whose threshold is reported.
THRESHOLD_OFFERS = {"new", "at risk", "hibernating", "low"}


def score(values: np.ndarray | pd.Series, higher_is_better: bool = True) -> np.ndarray:
    """Quantile score 1–5: ⌈5 · rank / n⌉ with ties at their lowest rank."""
    v = pd.Series(np.asarray(values, dtype=float))
    ranks = (v if higher_is_better else -v).rank(method="min").to_numpy()
    return np.clip(np.ceil(5 * ranks / len(v)), 1, 5).astype(int)


def name(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The named segment of each (R, F, M), by the rules of the module docstring."""
    rules = [(r >= 4) & (f >= 4) & (m >= 4), (r <= 2) & (f >= 4) & (m >= 4),
             (r >= 3) & (f >= 4), (r <= 2) & (f >= 3), (r >= 4) & (f == 1), r >= 3,
             r == 2, r == 1]
    order = ["champions", "can't lose", "loyal", "at risk", "new", "potential loyalists",
             "hibernating", "lost"]
    return np.select(rules, order, default="lost")


def tier(spend: np.ndarray) -> np.ndarray:
    q50, q80, q95 = np.quantile(spend, [0.5, 0.8, 0.95])
    return np.select([spend > q95, spend > q80, spend >= q50], ["top", "high", "mid"], "low")


def segments(source: Any, selection: Selection | None = None, /, *,
             cutoff: date | str | None = None, horizon: int = 12,
             discount_rate: float = 0.10, margin: float | None = None,
             **options: Unpack[SelectionOptions]) -> Result:
    """RFM scores, named segments and spend tiers of the customers up to ``cutoff``.

    Tables: ``segments`` and ``tiers`` (one row each: customers, orders, revenue, AOV,
    revenue share, mean CLV, action, threshold) and ``customers`` (one row per customer
    with scores, segment, tier and CLV: the list a mail tool loads). ``horizon``,
    ``discount_rate`` and ``margin`` are those of the CLV.
    """
    s = summarise(source, selection, cutoff=cutoff, unit="day", **options)
    c = s.customers
    notes = [SAME_DAY]
    recency_days = (pd.Timestamp(s.cutoff) - c["last_purchase"]).dt.days.to_numpy(float)
    spend = c["total_value"].to_numpy(float)
    r, f, m = (score(recency_days, higher_is_better=False), score(c["orders"]),
               score(spend))
    out = c[["source", "customer_id", "first_purchase", "last_purchase", "orders"]].assign(
        days_since_last=recency_days.astype(int), spend=spend,
        aov=spend / c["orders"].to_numpy(float), r=r, f=f, m=m,
        rfm=[f"{a}{b}{d}" for a, b, d in zip(r, f, m, strict=True)],
        segment=name(r, f, m), tier=tier(spend))
    try:
        value = clv(source, s.selection, cutoff=s.cutoff, horizon=horizon,
                    discount_rate=discount_rate, margin=margin).table
        out = out.merge(value[["source", "customer_id", "probability_alive", "clv"]],
                        on=["source", "customer_id"], how="left")
    except AovlabError as exc:
        out = out.assign(probability_alive=np.nan, clv=np.nan)
        notes.append(f"no CLV per segment: {exc.message}")
    rank = out["segment"].map({k: i for i, k in enumerate(SEGMENTS)})
    out = out.assign(_rank=rank).sort_values(["_rank", "spend"], ascending=[True, False],
                                             kind="stable").drop(columns="_rank")
    return Result("segments", {
        "segments": _profile(out, "segment", SEGMENTS),
        "tiers": _profile(out, "tier", TIERS),
        "customers": out.reset_index(drop=True)}, notes=notes, meta={
        "definition": s.selection.definition.name, "cutoff": s.cutoff,
        "customers": len(out), "horizon_months": horizon, "engine": s.engine_name,
        "selection": s.selection.describe()})


def _profile(out: pd.DataFrame, key: str, names: tuple[str, ...]) -> pd.DataFrame:
    g = out.groupby(key)
    t = pd.DataFrame({
        "customers": g.size(), "orders": g["orders"].sum(), "revenue": g["spend"].sum(),
        "mean_clv": g["clv"].mean(), "mean_days_since_last": g["days_since_last"].mean(),
        "threshold": g["aov"].quantile(0.75)}).reindex(list(names)).dropna(
        subset=["customers"])
    t["customers"] = t["customers"].astype(int)
    t["orders"] = t["orders"].astype(int)
    t.insert(3, "aov", t["revenue"] / t["orders"])
    t.insert(4, "revenue_share", t["revenue"] / t["revenue"].sum())
    t.insert(2, "customer_share", t["customers"] / t["customers"].sum())
    t["threshold"] = [v if k in THRESHOLD_OFFERS else np.nan
                      for k, v in zip(t.index, t["threshold"], strict=True)]
    t["action"] = [ACTIONS[k] for k in t.index]
    return t.rename_axis(key).reset_index()
