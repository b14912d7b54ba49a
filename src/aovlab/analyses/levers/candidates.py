"""The candidate thresholds side by side, and the recommendation with its reason."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ...stats.offers import Prediction, Response, predict


def join(a: str, b: str) -> str:
    return f"{a}, {b}" if a else b


def _row(p: Prediction, lo: Prediction, hi: Prediction, base: Prediction | None,
         label: str) -> dict[str, Any]:
    r = {"threshold": p.threshold, "label": label, "orders": p.orders, "aov": p.aov,
         "aov_low": min(lo.aov, hi.aov), "aov_high": max(lo.aov, hi.aov),
         "revenue": p.revenue, "padded_orders": p.padded, "qualifying_orders": p.qualifying,
         "qualifying_share": p.qualifying / p.orders if p.orders else math.nan,
         "shipping_absorbed": p.shipping_absorbed, "discount_cost": p.discount_cost,
         "gross_profit": p.gross_profit,
         "profit_low": min(lo.gross_profit, hi.gross_profit),
         "profit_high": max(lo.gross_profit, hi.gross_profit)}
    if base is not None:
        r["profit_change"] = p.gross_profit - base.gross_profit
        r["aov_change"] = p.aov - base.aov
    return r


def candidates_table(edges, c, s, wanted: list[float], resp: Response,
                     band: tuple[float, float], costs: dict[str, float], t0: float | None,
                     rule: float | None) -> pd.DataFrame:
    """No threshold first, then every candidate with its band."""
    revenue = float(np.sum(s))
    base = Prediction(math.nan, float(np.sum(c)), revenue, 0.0, 0.0, 0.0, 0.0,
                      costs["margin"] * revenue)
    rows = [_row(base, base, base, base, "no threshold")]
    for t in wanted:
        p = predict(edges, c, s, t, resp, **costs)
        lo = predict(edges, c, s, t, Response(band[0], resp.reach, resp.overshoot), **costs)
        hi = predict(edges, c, s, t, Response(band[1], resp.reach, resp.overshoot), **costs)
        label = ", ".join(x for x, on in (("current", t == t0),
                                          ("30% above AOV", t == rule)) if on)
        rows.append(_row(p, lo, hi, base, label))
    return pd.DataFrame(rows)


def recommend(table: pd.DataFrame, resp: Response, band: tuple[float, float],
               t0: float | None, margin: float) -> tuple[float | None, str]:
    cand = table.iloc[1:]
    base = table.iloc[0]
    best = cand.loc[cand["gross_profit"].idxmax()]
    gain = best["gross_profit"] - base["gross_profit"]
    if gain <= 0:
        return None, (f"no candidate beats having no threshold: at a {margin:.0%} margin the "
                      "shipping given away and the discounts cost more than the padded "
                      "orders add")
    t = float(best["threshold"])
    parts = [f"{t:g} has the highest predicted gross profit, {gain:+,.0f} against no "
             f"threshold, with an AOV of {best['aov']:,.2f} ({best['aov_change']:+,.2f})"]
    if t0 is not None and t != t0:
        cur = table.loc[table["threshold"] == t0].iloc[0]
        parts.append(f"{best['gross_profit'] - cur['gross_profit']:+,.0f} against the "
                     f"current {t0:g}")
    if t == float(cand["threshold"].max()):
        parts.append("it is the highest candidate, so a higher one may do better "
                     "(pass --candidates)")
    close = cand[(cand["profit_high"] >= best["profit_low"]) & (cand["threshold"] != t)]
    if len(close):
        parts.append("within its band: " + ", ".join(f"{x:g}" for x in close["threshold"]))
    low_best = cand.loc[cand["profit_low"].idxmax()]
    if band[0] != band[1]:
        if float(low_best["threshold"]) == t:
            parts.append(f"it stays the best at the low end of the response "
                         f"({band[0]:.0%} padded)")
        else:
            parts.append(f"at the low end of the response ({band[0]:.0%} padded) "
                         f"{float(low_best['threshold']):g} would do better")
        if best["profit_low"] < base["gross_profit"]:
            parts.append("and it may lose money there")
    source = "measured" if resp.measured else "assumed"
    return t, "; ".join(parts) + f" (response {source})"
