"""dimension_values: each dimension's values and order counts, on every engine, by hand."""

from __future__ import annotations

import pytest
from tests.conftest import engine_for
from tests.fixtures import tiny_orders, workspace_with

from aovlab.analyses import dimension_values
from aovlab.errors import AovlabError


@pytest.fixture(scope="module")
def tiny_ws():
    return workspace_with(tiny_orders())


def test_values_and_counts_by_hand(tiny_ws, engine_name):
    eng = engine_for(tiny_ws, engine_name)
    t = dimension_values(tiny_ws, ["channel", "customer_type", "currency"], engine=eng).table
    got = [tuple(r) for r in t[["dimension", "value", "orders"]].itertuples(index=False)]
    # counted orders o1-o4, o6-o8 (o5 cancelled, o9 a test): web o1 o2 o6 o8, app o3 o4 o7;
    # new = each customer's first counted order (c3's o5 is cancelled: o7 is new)
    assert got == [("channel", "web", 4), ("channel", "app", 3),
                   ("customer_type", "new", 4), ("customer_type", "returning", 2),
                   ("customer_type", "guest", 1), ("currency", "EUR", 7)]
    feb = dimension_values(tiny_ws, ["channel"], start="2024-02-01", filters={
        "channel": "web"}, engine=eng).table
    assert list(feb["orders"]) == [2] and list(feb["value"]) == ["web"]  # o6, o8


def test_unknown_dimensions_are_refused(tiny_ws):
    with pytest.raises(AovlabError, match="unknown dimension"):
        dimension_values(tiny_ws, ["colour"])
    assert dimension_values(tiny_ws, []).table.empty
