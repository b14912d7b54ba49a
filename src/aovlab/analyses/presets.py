"""``--last month`` and ``--vs previous|year``: periods named relative to the data's end."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from .. import metrics
from ..errors import DefinitionError
from ..query import LAST_UNITS, VS, Selection, compared_with, last_whole, require_orders


def last_span(eng: Any, sel: Selection, unit: str) -> tuple[date, date]:
    """The last whole ``unit`` (week, month, quarter, year) of the workspace's orders.

    Relative to the data's last order date, not to today: an export ends when it was
    taken, so "last month" of data ending 2011-12-09 is November 2011.
    """
    if unit not in LAST_UNITS:
        raise DefinitionError(f"--last {unit!r} is not a period",
                              fix=f"use one of {', '.join(LAST_UNITS)}")
    row = metrics.rows(eng.execute(metrics.data_range(eng, sel)))[0]
    if row["last_date"] is None or pd.isna(row["last_date"]):
        require_orders(0)
    return last_whole(pd.Timestamp(row["last_date"]).date(), unit)


def versus(span: tuple[date, date], unit: str, vs: str) -> tuple[date, date]:
    """The period ``span`` is compared with (``previous`` or ``year``)."""
    if vs not in VS:
        raise DefinitionError(f"--vs {vs!r} is not a comparison",
                              fix=f"use one of {', '.join(VS)}")
    return compared_with(span, unit, vs)
