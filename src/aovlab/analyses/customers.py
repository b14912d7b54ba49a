"""The RFM summary of a store's customers: what the customer models fit.

:func:`rfm` turns a workspace's orders into one row per customer — frequency (repeat
purchase days), recency, age T and mean spend per repeat purchase under the selection's AOV
definition — up to a cut-off date, on any engine (:func:`aovlab.metrics.customers
.rfm_summary` is one Ibis expression). One customer's orders of one day count as one
transaction, the usual practice of the BG/NBD literature; guests (no customer id) have no
history and are left out. ``aovlab.models`` fits the result.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Unpack

import numpy as np
import pandas as pd

from .. import metrics
from ..engines import connect
from ..errors import DefinitionError, NoDataError
from ..metrics.customers import rfm_summary
from ..query import Selection, SelectionOptions, parse_date
from .result import Result

#: The units recency and T are measured in, in days.
UNITS = {"day": 1.0, "week": 7.0}


def rfm(source: Any, selection: Selection | None = None, /, *, cutoff: date | str | None = None,
        unit: str = "week", **options: Unpack[SelectionOptions]) -> Result:
    """One row per customer whose first purchase is on or before ``cutoff`` (default: the
    selection's last order date): ``frequency``, ``recency``, ``T`` (in ``unit``: ``week``
    or ``day``), ``monetary_value`` (mean value of the repeat transactions, 0 without one)
    and ``first_value``. The selection's start date, if any, is ignored: a customer's
    history starts at their first order.
    """
    if unit not in UNITS:
        raise DefinitionError(f"unit {unit!r} is not one the models measure time in",
                              fix=f"use one of {', '.join(UNITS)}")
    sel = Selection.of(selection, **options).with_(by=(), period=None, start=None)
    eng = connect(source, sel.engine)
    if cutoff is None:
        row = metrics.rows(eng.execute(metrics.data_range(eng, sel)))[0]
        if row["last_date"] is None or pd.isna(row["last_date"]):
            raise NoDataError("the selection holds no orders", fix="check the filters")
        cut = pd.Timestamp(row["last_date"]).date()
        if sel.end is not None and sel.end < cut:
            cut = sel.end
    else:
        cut = parse_date(cutoff, "cutoff")
    t = eng.execute(rfm_summary(eng, sel, cut))
    if t.empty:
        raise NoDataError(f"no customer with an id bought on or before {cut}",
                          fix="pick a later --cutoff; guests (orders without a customer id) "
                              "have no purchase history to model")
    days = UNITS[unit]
    x = t["frequency"].astype("int64")
    out = pd.DataFrame({
        "source": t["source"], "customer_id": t["customer_id"],
        "first_purchase": pd.to_datetime(t["first"]).dt.date, "frequency": x,
        "recency": t["recency_days"] / days, "T": t["age_days"] / days,
        "monetary_value": np.where(x > 0, t["repeat_value"] / x.clip(lower=1), 0.0),
        "first_value": t["first_value"],
    }).sort_values(["source", "customer_id"]).reset_index(drop=True)
    repeaters = int((x > 0).sum())
    notes = ["one customer's orders of one day count as one transaction (the BG/NBD "
             "convention); guests are left out"]
    if repeaters == 0:
        notes.append("no customer bought again before the cut-off: the repeat-purchase "
                     "models have nothing to learn from")
    return Result("rfm", {"customers": out}, notes=notes, meta={
        "definition": sel.definition.name, "cutoff": cut, "unit": unit,
        "customers": len(out), "repeat_customers": repeaters,
        "engine": getattr(eng, "name", sel.engine_name), "selection": sel.describe()})
