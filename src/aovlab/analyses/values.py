"""The values of dimensions in the selected orders, with their order counts, in one query.

What a filter can be set to (the dashboard's selects, its checks of a request's values) and
which breakdowns have two groups or more (the report draws only those): far cheaper than a
KPI table per dimension, as no statistic beyond a count is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack

import ibis
import pandas as pd

from .. import metrics
from ..engines import connect
from ..query import Selection, SelectionOptions, check_dimensions
from .result import Result


def dimension_values(source: Any, dims: Sequence[str], selection: Selection | None = None,
                     /, **options: Unpack[SelectionOptions]) -> Result:
    """Each of ``dims``' values among the selected orders and its number of orders.

    The table has ``dimension``, ``value`` (text; ``(not set)`` where an order has none)
    and ``orders``, most orders first within each dimension (ties by value). Currencies are
    not told apart: this counts orders, it adds no money.
    """
    sel = Selection.of(selection, **options).with_(by=(), period=None)
    dims = list(dict.fromkeys(dims))
    check_dimensions(dims)
    eng = connect(source, sel.engine)
    # one fact relation for all of them, which the engine reads once (a shared CTE)
    f = metrics.order_facts(eng, sel, by=tuple(dims), period=None)
    parts = []
    for dim in dims:
        parts.append(f.group_by(dim).aggregate(orders=f.count()).select(
            dimension=ibis.literal(dim), value=f[dim].cast("string"), orders="orders"))
    if not parts:
        table = pd.DataFrame({"dimension": [], "value": [], "orders": []})
    else:
        table = eng.execute(ibis.union(*parts) if len(parts) > 1 else parts[0])
    order = {d: i for i, d in enumerate(dims)}
    table = table.assign(_d=table["dimension"].map(order)).sort_values(
        ["_d", "orders", "value"], ascending=[True, False, True]).drop(columns="_d")
    table["orders"] = table["orders"].astype("int64")
    return Result("values", {"values": table.reset_index(drop=True)},
                  meta={"dimensions": dims, "selection": sel.describe()})
