"""Price tests: which tested price earns most per visitor, and is a higher AOV better?

The arms come as sufficient statistics, one row per tested price, from any tool that ran
the test (a CSV or Parquet file, or a pandas / polars / Arrow frame):

========== ========================================================================
column     meaning
========== ========================================================================
price      the tested product's price in the arm (required, above 0)
visitors   visitors shown the price (required)
orders     their orders (required; at most one per converting visitor is assumed
           by the intervals)
units      units of the tested product sold (required)
revenue    the value of those orders (required)
revenue_sq optional: Σ over visitors of their revenue², for intervals of revenue per
           visitor and AOV
units_sq   optional: Σ over orders of their units² of the product, for the elasticity's
           interval when orders carry several units
cost       optional: the cost of goods of those orders (then profit = revenue − cost)
unit_cost  optional: the tested product's unit cost (also an argument); profit counts
           units × (price − unit cost), plus ``margin`` × the rest of the orders' value
arm        optional: a name for the arm
========== ========================================================================

Per arm: conversion (Wilson interval), units per visitor, AOV, revenue and profit per
visitor; each against the control arm (absolute and relative lift, normal intervals,
p-values); the elasticity of units per visitor on price and the profit-maximising price
within the tested range (:mod:`aovlab.stats.prices`). A warning says when an arm raised AOV
but lowered revenue or profit per visitor: a higher AOV is not always better.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ...errors import DefinitionError, InputError, Location
from ...stats.prices import best_price, elasticity, wilson
from ..result import Result

REQUIRED = ("price", "visitors", "orders", "units", "revenue")
OPTIONAL = ("revenue_sq", "units_sq", "cost", "unit_cost", "arm")


def _read(arms: Any) -> tuple[pd.DataFrame, str]:
    """The arms as a pandas frame, and what to call their source in messages."""
    if isinstance(arms, str | Path):
        path = Path(arms)
        if not path.exists():
            raise InputError("the file does not exist", Location(str(path)),
                             fix="pass the CSV or Parquet file of the test's arms")
        try:
            df = (pd.read_parquet(path) if path.suffix.lower() == ".parquet"
                  else pd.read_csv(path))
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise InputError(f"cannot be read as a table: {str(exc).splitlines()[0]}",
                             Location(str(path)),
                             fix="write one row per tested price with a header row") from None
        return df, str(path)
    if isinstance(arms, pd.DataFrame):
        return arms.copy(), "the arms frame"
    if hasattr(arms, "to_pandas"):  # polars, Arrow
        return arms.to_pandas(), "the arms frame"
    raise DefinitionError(f"arms of type {type(arms).__name__} cannot be read",
                          fix="pass a CSV or Parquet path, or a pandas/polars/Arrow frame")


def _check(df: pd.DataFrame, where: str) -> pd.DataFrame:
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"columns {', '.join(missing)} are missing",
                         Location(where, column=missing[0]),
                         fix="one row per tested price with the columns "
                             + ", ".join(REQUIRED) + " (and optionally "
                             + ", ".join(OPTIONAL) + ")")
    if len(df) < 2:
        raise InputError(f"{len(df)} arm(s): a price test compares two or more",
                         Location(where), fix="add a row per tested price")
    for col in (*REQUIRED, "revenue_sq", "units_sq", "cost", "unit_cost"):
        if col not in df.columns:
            continue
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() & ~(df[col].isna() & (col not in REQUIRED))
        bad |= ~np.isfinite(num.fillna(0)) | (num < 0)
        if col == "price":
            bad |= num <= 0
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{col} must be a finite number"
                             + (" above 0" if col == "price" else ", not negative"),
                             Location(where, row=i + 1, column=col, value=df[col].iloc[i]),
                             fix=f"correct the {col} of that arm")
        df[col] = num.astype(float)
    for i, r in enumerate(df.itertuples()):
        if r.orders > r.visitors:
            raise InputError(f"{r.orders:g} orders from {r.visitors:g} visitors",
                             Location(where, row=i + 1, column="orders", value=r.orders),
                             fix="orders cannot exceed visitors: check the two columns")
        if r.visitors == 0:
            raise InputError("no visitors", Location(where, row=i + 1, column="visitors",
                                                     value=0),
                             fix="drop the arm, or give its visitors")
        # Σx² ≥ (Σx)² / (the visitors who spent), and those are at most the orders
        sq = getattr(r, "revenue_sq", math.nan)
        if r.orders > 0 and math.isfinite(sq) and sq < r.revenue ** 2 / r.orders * (1 - 1e-9):
            raise InputError(f"revenue_sq {sq:g} is below revenue² / orders "
                             f"({r.revenue ** 2 / r.orders:g}): no visitors spend that way",
                             Location(where, row=i + 1, column="revenue_sq", value=sq),
                             fix="revenue_sq is Σ over visitors of their revenue squared")
        usq = getattr(r, "units_sq", math.nan)
        if r.orders > 0 and math.isfinite(usq) and usq < r.units ** 2 / r.orders * (1 - 1e-9):
            raise InputError(f"units_sq {usq:g} is below units² / orders",
                             Location(where, row=i + 1, column="units_sq", value=usq),
                             fix="units_sq is Σ over orders of their units squared")
    if df["price"].duplicated().any():
        i = int(np.flatnonzero(df["price"].duplicated().to_numpy())[0])
        raise InputError("two arms have the same price",
                         Location(where, row=i + 1, column="price",
                                  value=df["price"].iloc[i]),
                         fix="merge them into one row (add their sums)")
    return df.reset_index(drop=True)


def price_test(arms: Any, *, control: float | None = None, unit_cost: float | None = None,
               margin: float | None = None, level: float = 0.95) -> Result:
    """Per tested price: conversion, units, AOV, revenue and profit per visitor, each
    against the ``control`` price (default: the first arm), the elasticity of units per
    visitor on price and the profit-maximising price within the tested range. ``arms``: a
    CSV/Parquet path or a frame (columns in the module's doc). ``unit_cost``: the tested
    product's unit cost (or a ``unit_cost`` column); ``margin``: the gross margin on the
    rest of the orders' value. Tables ``arms`` and ``elasticity``."""
    if not (isinstance(level, float) and 0.5 <= level < 1):
        raise DefinitionError(f"level {level!r} must be from 0.5 to below 1", fix="use 0.95")
    for name, v, hi in (("unit cost", unit_cost, None), ("margin", margin, 1.0)):
        if v is not None and not (isinstance(v, int | float) and math.isfinite(v) and v >= 0
                                  and (hi is None or v <= hi)):
            raise DefinitionError(f"the {name} {v!r} must be a number, 0 or more"
                                  + (" and at most 1" if hi else ""),
                                  fix="e.g. unit_cost=12.5, margin=0.4")
    df, where = _read(arms)
    df = _check(df, where)
    if control is None:
        ci = 0
    else:
        hit = np.flatnonzero(np.isclose(df["price"], control))
        if not len(hit):
            raise DefinitionError(f"no arm has the control price {control:g}",
                                  fix="pass one of " + ", ".join(f"{p:g}" for p in df["price"]))
        ci = int(hit[0])
    notes: list[str] = []
    z = float(ndtri(0.5 + level / 2))
    if "unit_cost" not in df.columns:
        df["unit_cost"] = unit_cost if unit_cost is not None else np.nan
    elif unit_cost is not None:
        df["unit_cost"] = df["unit_cost"].fillna(unit_cost)

    # profit: the orders' cost, else the product's margin plus the rest's
    product_rev = df["price"] * df["units"]
    other = (df["revenue"] - product_rev).clip(lower=0)
    if "cost" in df.columns and df["cost"].notna().all():
        profit = df["revenue"] - df["cost"]
        profit_from = "revenue − the orders' cost"
    elif df["unit_cost"].notna().all():
        profit = df["units"] * (df["price"] - df["unit_cost"]) + (margin or 0.0) * other
        profit_from = ("units × (price − unit cost)" + (f" + {margin:.0%} of the rest of the "
                                                       "orders' value" if margin else ""))
        if margin is None and (other > 0).any():
            notes.append("the orders hold more than the tested product, and no margin was "
                         "given for the rest: profit counts the tested product only; pass "
                         "margin= (--margin)")
    else:
        profit = pd.Series(np.nan, index=df.index)
        profit_from = None
        notes.append("no costs: profit per visitor is not computed; pass unit_cost= "
                     "(--unit-cost) or a cost column")

    v, n, u, rev = (df[c].to_numpy(float) for c in ("visitors", "orders", "units", "revenue"))
    sq = df["revenue_sq"].to_numpy(float) if "revenue_sq" in df.columns else np.full(len(df),
                                                                                      np.nan)
    if np.isnan(sq).any():
        notes.append("no revenue_sq column: revenue per visitor and AOV have no intervals")
    conv = n / v
    rpv = rev / v
    rpv_se = np.sqrt(np.maximum(sq / v - rpv ** 2, 0) / v)
    aov = np.where(n > 0, rev / np.maximum(n, 1), np.nan)
    aov_se = np.sqrt(np.maximum(sq / np.maximum(n, 1) - aov ** 2, 0) / np.maximum(n, 1))
    ppv = profit.to_numpy(float) / v
    # profit is a fixed share of revenue within an arm (one price): its variance scales
    share = np.where(rev > 0, profit.to_numpy(float) / np.where(rev > 0, rev, 1), np.nan)
    ppv_se = np.abs(share) * rpv_se
    conv_se = np.sqrt(conv * (1 - conv) / v)
    upv = u / v
    upv_se = np.sqrt(u) / v  # Poisson units

    def counts(x: np.ndarray) -> np.ndarray:
        return x.astype(np.int64) if np.all(x == np.round(x)) else x

    table = pd.DataFrame({"arm": df["arm"].astype(str) if "arm" in df.columns else [
        f"{p:g}" for p in df["price"]], "price": df["price"], "control": False,
        "visitors": counts(v), "orders": counts(n), "units": counts(u), "revenue": rev,
        "conversion": conv})
    table.loc[ci, "control"] = True
    wl = [wilson(k, m, level) for k, m in zip(n, v, strict=True)]
    table["conversion_ci_low"] = [w[0] for w in wl]
    table["conversion_ci_high"] = [w[1] for w in wl]
    table["units_per_visitor"] = upv
    table["aov"] = aov
    table["revenue_per_visitor"] = rpv
    table["profit_per_visitor"] = ppv
    for name, x, se in (("conversion", conv, conv_se), ("units_per_visitor", upv, upv_se),
                        ("aov", aov, aov_se), ("revenue_per_visitor", rpv, rpv_se),
                        ("profit_per_visitor", ppv, ppv_se)):
        d = x - x[ci]
        dse = np.sqrt(se ** 2 + se[ci] ** 2)
        # relative to the control's size, so a loss that shrinks reads as a gain; the
        # delta method for two independent means, in a form that holds at x = 0
        base = abs(x[ci])
        rel = d / base if base else np.full(len(x), np.nan)
        rse = (np.sqrt(se ** 2 + (x / x[ci]) ** 2 * se[ci] ** 2) / base if base
               else rel)
        table[f"{name}_lift"] = rel
        table[f"{name}_lift_ci_low"] = np.where(np.arange(len(x)) == ci, np.nan, rel - z * rse)
        table[f"{name}_lift_ci_high"] = np.where(np.arange(len(x)) == ci, np.nan,
                                                 rel + z * rse)
        # no spread in either arm: a difference is certain, none is none
        p = np.where(dse > 0, 2 * ndtr(-np.abs(d) / np.where(dse > 0, dse, 1)),
                     np.where(d != 0, 0.0, 1.0))
        table[f"{name}_p"] = np.where((np.arange(len(x)) == ci) | np.isnan(dse), np.nan, p)

    # a higher AOV is not always better
    for i in range(len(table)):
        if i == ci or not aov[i] > aov[ci]:
            continue
        worse = [f"{w} per visitor {x[i] / x[ci] - 1:+.1%}"
                 for w, x in (("revenue", rpv), ("profit", ppv))
                 if np.isfinite(x[i]) and x[i] < x[ci]]
        if worse:
            notes.append(f"warning: at {df['price'][i]:g} AOV rose {aov[i] / aov[ci] - 1:+.1%} "
                         f"against {df['price'][ci]:g}, but {' and '.join(worse)}: a higher "
                         "AOV is not always better")

    el_rows, meta_el = [], {}
    usq = df["units_sq"].to_numpy(float) if "units_sq" in df.columns else None
    if usq is not None and np.isnan(usq).any():
        usq = None
    if usq is None and (u > n).any():
        notes.append("orders carry several units and there is no units_sq column: the "
                     "elasticity's interval assumes Poisson units and is too narrow")
    sold = u > 0
    if not sold.all():
        notes.append("no units sold at " + ", ".join(f"{p:g}" for p in df["price"][~sold])
                     + ": left out of the elasticity, and the best price is sought between "
                       "the prices that sold")
    try:
        e = elasticity(df["price"], u, v, level, usq)
    except ValueError as exc:
        notes.append(f"no elasticity: {exc}")
    else:
        lo_p, hi_p = float(df["price"][sold].min()), float(df["price"][sold].max())
        costs = df["unit_cost"].dropna()
        c = float(costs.mean()) if len(costs) else 0.0
        best, best_lo, best_hi = best_price(e, lo_p, hi_p, c)
        el_rows.append({"elasticity": e.value, "ci_low": e.ci[0], "ci_high": e.ci[1],
                        "p": e.p, "se": e.se, "arms": e.arms, "dispersion": e.dispersion,
                        "unit_cost": c if len(costs) else np.nan,
                        "best_price": best, "best_price_ci_low": best_lo,
                        "best_price_ci_high": best_hi,
                        "objective": "the tested product's profit per visitor" if len(costs)
                        else "revenue per visitor (no unit cost)"})
        meta_el = el_rows[0]
        if best in (lo_p, hi_p):
            notes.append(f"the best price under the fitted elasticity is the "
                         f"{'lowest' if best == lo_p else 'highest'} tested ({best:g}): "
                         "the optimum may lie beyond the tested range, which the model "
                         "cannot see")
        if e.dispersion > 1:
            notes.append(f"the arms scatter {e.dispersion:.1f}× more than Poisson noise "
                         "around the constant-elasticity curve: its interval is widened "
                         "by that")
    best_arm = int(np.nanargmax(ppv)) if np.isfinite(ppv).any() else int(np.argmax(rpv))
    return Result("price_test", {"arms": table, "elasticity": pd.DataFrame(el_rows)},
                  notes=notes, meta={
        "source": where, "control": float(df["price"][ci]), "level": level,
        "profit": profit_from, "margin": margin,
        "best_tested": float(df["price"][best_arm]),
        "best_tested_by": "profit per visitor" if np.isfinite(ppv).any()
        else "revenue per visitor", "elasticity": meta_el})
