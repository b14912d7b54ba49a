"""The RFM summary of a store's customers: what the customer models fit.

:func:`rfm` turns a workspace's orders into one row per customer — frequency (repeat
purchase days), recency, age T and mean spend per repeat purchase under the selection's AOV
definition — up to a cut-off date, on any engine (:func:`aovlab.metrics.customers
.rfm_summary` is one Ibis expression). One customer's orders of one day count as one
transaction, the usual practice of the BG/NBD literature; guests (no customer id) have no
history and are left out. ``aovlab.models`` fits the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Unpack

import numpy as np
import pandas as pd
import pyarrow as pa

from ... import metrics
from ...engines import connect
from ...errors import DefinitionError, NoDataError
from ...metrics.customers import rfm_summary
from ...query import Selection, SelectionOptions, parse_date
from ..result import Result

#: The units recency and T are measured in, in days.
UNITS = {"day": 1.0, "week": 7.0}
SAME_DAY = ("one customer's orders of one day count as one transaction (the BG/NBD "
            "convention); guests are left out")


@dataclass(frozen=True)
class Summary:
    """One row per customer (see :func:`rfm`) and how it was made."""

    customers: pd.DataFrame
    cutoff: date
    unit: str
    selection: Selection
    engine: Any

    @property
    def engine_name(self) -> str:
        return getattr(self.engine, "name", self.selection.engine_name)


def last_order_date(eng, sel: Selection) -> date:
    """The selection's last order date (its end date if earlier)."""
    row = metrics.rows(eng.execute(metrics.data_range(eng, sel)))[0]
    if row["last_date"] is None or pd.isna(row["last_date"]):
        raise NoDataError("the selection holds no orders", fix="check the filters")
    cut = pd.Timestamp(row["last_date"]).date()
    return sel.end if sel.end is not None and sel.end < cut else cut


def summarise(source: Any, selection: Selection | None = None, /, *,
              cutoff: date | str | None = None, unit: str = "week",
              **options: Unpack[SelectionOptions]) -> Summary:
    """The per-customer summary up to ``cutoff`` (see :func:`rfm`), with ``last_purchase``,
    ``orders`` and ``total_value`` (all orders) beside the model's columns."""
    if unit not in UNITS:
        raise DefinitionError(f"unit {unit!r} is not one the models measure time in",
                              fix=f"use one of {', '.join(UNITS)}")
    sel = Selection.of(selection, **options).with_(by=(), period=None, start=None)
    eng = connect(source, sel.engine)
    cut = last_order_date(eng, sel) if cutoff is None else parse_date(cutoff, "cutoff")
    # Arrow-backed strings and datetime64 dates: no million Python objects to build (and
    # to move when the result is sorted); columns kept apart, not consolidated into blocks
    # that would be copied now and again when the columns are taken apart
    t = eng.execute_arrow(rfm_summary(eng, sel, cut)).to_pandas(
        date_as_object=False, split_blocks=True, types_mapper={
            pa.string(): pd.StringDtype("pyarrow"),
            pa.large_string(): pd.StringDtype("pyarrow")}.get)
    if t.empty:
        raise NoDataError(f"no customer with an id bought on or before {cut}",
                          fix="pick a later --cutoff; guests (orders without a customer id) "
                              "have no purchase history to model")
    days = UNITS[unit]
    x = t["frequency"].to_numpy("int64")
    repeat = t["repeat_value"].to_numpy(float)
    out = pd.DataFrame({
        "source": t["source"].array, "customer_id": t["customer_id"].array,
        "first_purchase": t["first"].to_numpy(), "last_purchase": t["last"].to_numpy(),
        "frequency": x, "recency": t["recency_days"].to_numpy(float) / days,
        "T": t["age_days"].to_numpy(float) / days,
        "monetary_value": np.where(x > 0, repeat / np.maximum(x, 1), 0.0),
        "first_value": t["first_value"].to_numpy(float),
        "orders": t["orders"].to_numpy("int64"),
        "total_value": t["total_value"].to_numpy(float),
    }, copy=False)
    return Summary(out, cut, unit, sel, eng)


def rfm(source: Any, selection: Selection | None = None, /, *, cutoff: date | str | None = None,
        unit: str = "week", **options: Unpack[SelectionOptions]) -> Result:
    """One row per customer whose first purchase is on or before ``cutoff`` (default: the
    selection's last order date): ``frequency``, ``recency``, ``T`` (in ``unit``: ``week``
    or ``day``), ``monetary_value`` (mean value of the repeat transactions, 0 without one)
    and ``first_value``. The selection's start date, if any, is ignored: a customer's
    history starts at their first order.
    """
    s = summarise(source, selection, cutoff=cutoff, unit=unit, **options)
    out = s.customers[["source", "customer_id", "first_purchase", "frequency", "recency", "T",
                       "monetary_value", "first_value"]].sort_values(
        ["source", "customer_id"], kind="stable").reset_index(drop=True)
    repeaters = int((out["frequency"] > 0).sum())
    notes = [SAME_DAY]
    if repeaters == 0:
        notes.append("no customer bought again before the cut-off: the repeat-purchase "
                     "models have nothing to learn from")
    return Result("rfm", {"customers": out}, notes=notes, meta={
        "definition": s.selection.definition.name, "cutoff": s.cutoff, "unit": unit,
        "customers": len(out), "repeat_customers": repeaters, "engine": s.engine_name,
        "selection": s.selection.describe()})
