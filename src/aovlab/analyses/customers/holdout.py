"""Calibration / hold-out validation of a repeat-purchase model (Fader, Hardie & Lee 2005).

Fit on the orders up to ``calibration_end``; predict, for each of those customers, the
repeat purchases of the hold-out period that follows (E[Y(t) | x, t_x, T]); compare with
what they did:

* ``by_frequency``: per calibration frequency 0, 1, …, 7+ (the paper's Figure 4), the
  customers, and the mean and total repeat purchases predicted and made in the hold-out;
* ``weekly``: cumulative repeat purchases of the calibration customers week by week over
  both periods, made and expected (Σ over customers of E[X(age)], the paper's Figure 2).

A warning is added when the fit is poor: the hold-out total off by more than 20%, or the
cumulative curve at the end of the calibration period off by more than 10%.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Unpack

import numpy as np
import pandas as pd

from ...errors import DefinitionError
from ...metrics.customers import holdout_purchases, repeat_days
from ...query import Selection, SelectionOptions, parse_date
from ..result import Result
from .clv import MODEL_LABELS, MODELS, check_history
from .summary import SAME_DAY, UNITS, last_order_date, summarise

#: Calibration frequencies from this one up share one bucket ("7+"), as in the paper.
TOP_BUCKET = 7
#: Relative errors above these flag a poor fit: the hold-out total, the calibration curve.
POOR_TOTAL, POOR_CURVE = 0.20, 0.10


def holdout(source: Any, selection: Selection | None = None, /, *,
            calibration_end: date | str, end: date | str | None = None,
            model: str = "bgnbd", unit: str = "week",
            **options: Unpack[SelectionOptions]) -> Result:
    """Fit up to ``calibration_end``, predict the hold-out up to ``end`` (default: the last
    order date) and compare. Tables ``by_frequency`` and ``weekly``; ``meta`` holds the
    totals, their relative error and ``poor_fit``."""
    if model not in MODELS:
        raise DefinitionError(f"model {model!r} is not one aovlab fits",
                              fix=f"use one of {', '.join(MODELS)}")
    s = summarise(source, selection, cutoff=calibration_end, unit=unit, **options)
    check_history(s)
    cal = s.cutoff
    last = last_order_date(s.engine, s.selection) if end is None else parse_date(end, "end")
    if last <= cal:
        raise DefinitionError(f"the hold-out ends on {last}, not after the calibration end "
                              f"{cal}", fix="pass a calibration end before the last order "
                                            "date, or a later --end")
    days = UNITS[unit]
    c = s.customers
    x, t_x, big_t = (c[k].to_numpy(float) for k in ("frequency", "recency", "T"))
    fitted = MODELS[model]().fit(x, t_x, big_t)
    made = s.engine.execute(holdout_purchases(s.engine, s.selection, cal, last))
    made = c[["source", "customer_id"]].merge(made, on=["source", "customer_id"], how="left")
    actual = made["holdout"].fillna(0).to_numpy(float)
    length = (last - cal).days / days
    predicted = fitted.conditional_expected_purchases(length, x, t_x, big_t)

    buckets = np.minimum(x, TOP_BUCKET).astype(int)
    by = pd.DataFrame({"bucket": buckets, "actual": actual, "predicted": predicted}).groupby(
        "bucket").agg(customers=("actual", "size"), actual_total=("actual", "sum"),
                      predicted_total=("predicted", "sum")).reset_index()
    by.insert(0, "calibration_frequency", [f"{b}+" if b == TOP_BUCKET else str(b)
                                           for b in by.pop("bucket")])
    total = {"calibration_frequency": "all", "customers": len(c),
             "actual_total": float(actual.sum()), "predicted_total": float(predicted.sum())}
    by = pd.concat([by, pd.DataFrame([total])], ignore_index=True)
    by["actual_mean"] = by["actual_total"] / by["customers"]
    by["predicted_mean"] = by["predicted_total"] / by["customers"]

    weekly = _weekly(s.engine, s.selection, c, fitted, cal, last, days)
    total_error = _relative(total["predicted_total"], total["actual_total"])
    at_cal = weekly[weekly["period"] == "calibration"].iloc[-1]
    curve_error = _relative(at_cal["predicted_cumulative"], at_cal["actual_cumulative"])
    poor = bool(abs(total_error) > POOR_TOTAL or abs(curve_error) > POOR_CURVE)
    notes = [SAME_DAY]
    label = MODEL_LABELS[model]
    if poor:
        notes.append(f"poor fit: {label} predicts {total['predicted_total']:,.0f} hold-out "
                     f"repeat purchases against {total['actual_total']:,.0f} made "
                     f"({total_error:+.0%}), and {curve_error:+.0%} on the calibration "
                     "curve; try --compare in aovlab clv, or a calibration period without "
                     "a change of business (a launch, a migration) in it")
    if fitted.degenerate_:
        notes.append(f"the {label} fit degenerated to the NBD: nobody seems to drop out in "
                     "the calibration period")
    return Result("holdout", {"by_frequency": by, "weekly": weekly}, notes=notes, meta={
        "definition": s.selection.definition.name, "model": label,
        "params": fitted.params_, "calibration_end": cal, "end": last, "unit": unit,
        "holdout_length": length, "customers": len(c),
        "actual_total": total["actual_total"], "predicted_total": total["predicted_total"],
        "total_error": total_error, "curve_error_at_calibration_end": curve_error,
        "poor_fit": poor, "engine": s.engine_name, "selection": s.selection.describe()})


def _relative(predicted: float, actual: float) -> float:
    return predicted / actual - 1 if actual else float("nan")


def _weekly(engine, sel: Selection, c: pd.DataFrame, fitted, cal: date, last: date,
            days: float) -> pd.DataFrame:
    """Cumulative repeat purchases week by week from the first purchase, made and expected."""
    day_one = c["first_purchase"].dt.date
    start = min(day_one)
    n_weeks = (last - start).days // 7 + 1
    ends = [start + timedelta(days=7 * k - 1) for k in range(1, n_weeks + 1)]
    ends[-1] = min(ends[-1], last)
    made = engine.execute(repeat_days(engine, sel, cal, last))
    per_day = pd.Series(made["repeats"].to_numpy(float),
                        index=pd.to_datetime(made["order_date"]).dt.date).groupby(level=0).sum()
    cum_days = per_day.sort_index().cumsum()
    firsts = day_one.groupby(day_one).size()
    first_days = np.array([(d - start).days for d in firsts.index], dtype=float)
    counts = firsts.to_numpy(float)
    rows = []
    for k, e in enumerate(ends, start=1):
        upto = cum_days[cum_days.index <= e]
        age = ((e - start).days + 1 - first_days) / days  # through the end of day e
        alive = age > 0
        expected = float(np.dot(counts[alive], fitted.expected_purchases(age[alive])))
        rows.append({"week": k, "week_end": e,
                     "period": "calibration" if e <= cal else "holdout",
                     "actual_cumulative": float(upto.iloc[-1]) if len(upto) else 0.0,
                     "predicted_cumulative": expected})
    return pd.DataFrame(rows)
