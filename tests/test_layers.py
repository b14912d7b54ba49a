"""The contracts between the layers: selections, typed statistics, catalogs, staging, results."""

from __future__ import annotations

import json
import threading

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fixtures import tiny_orders, workspace_with

from aovlab import DefinitionError, Selection, Workspace, explain, import_frame, kpis
from aovlab.engines import connect
from aovlab.importers import FORMATS, import_files
from aovlab.metrics import order_facts, order_stats
from aovlab.stats import OrderStats


@pytest.fixture
def tiny_ws():
    return workspace_with(tiny_orders())


def test_selection_is_validated_once_and_reused(tiny_ws):
    sel = Selection.of(definition="total", by="channel", start="2024-01-01",
                       currency="eur", statuses=["placed"])
    assert sel.by == ("channel",) and sel.currency == "EUR"
    assert sel.keys == ["channel"]
    a = kpis(tiny_ws, sel).table
    b = kpis(tiny_ws, definition="total", by=["channel"], start="2024-01-01",
             currency="EUR", statuses=["placed"]).table
    assert a.equals(b)
    # a selection's settings can be overridden per call, and are checked again
    monthly = kpis(tiny_ws, sel, period="month").table
    assert list(monthly.columns[:2]) == ["period", "channel"]
    with pytest.raises(DefinitionError, match="unknown dimension"):
        sel.with_(by=["colour"])
    with pytest.raises(DefinitionError, match="unknown selection setting"):
        Selection.of(colour="red")


def test_order_stats_merge_like_the_whole(tiny_ws):
    """Per-channel statistics added with + are the statistics of all orders."""
    sel = Selection.of()
    eng = connect(tiny_ws)
    per = [OrderStats.from_row(r) for r in eng.execute(
        order_stats(order_facts(eng, sel, by=("channel",)), ["channel"], OrderStats)
    ).to_dict("records")]
    whole = OrderStats.from_row(eng.execute(
        order_stats(order_facts(eng, sel, by=()), [], OrderStats)).to_dict("records")[0])
    merged = per[0] + per[1]
    assert merged.orders == whole.orders == 7
    assert merged.revenue == pytest.approx(whole.revenue) == pytest.approx(760.0)
    assert merged.min_value == whole.min_value == 30.0
    assert merged.max_value == whole.max_value == 270.0
    assert merged.guest_orders == 1 and merged.new_orders == 4


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=20),
       st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=20))
def test_sufficient_add_is_concatenation(xs, ys):
    def of(v):
        return OrderStats(**{**{f: 0 for f in OrderStats.__dataclass_fields__},
                             "orders": len(v), "revenue": sum(v),
                             "revenue_sq": sum(x * x for x in v),
                             "min_value": min(v), "max_value": max(v)})
    m = of(xs) + of(ys)
    assert m.orders == len(xs) + len(ys)
    assert m.revenue == pytest.approx(sum(xs) + sum(ys))
    assert m.min_value == min(xs + ys) and m.max_value == max(xs + ys)
    assert OrderStats.zero() + of(xs) == of(xs)


def test_explain_periods_carry_the_kpis_interval(tiny_ws):
    x = explain(tiny_ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29", by="channel")
    for period, (s, e) in (("base", x.base), ("compare", x.compare)):
        k = kpis(tiny_ws, start=s, end=e).table.iloc[0]
        row = x.periods.set_index("period").loc[period]
        assert row.aov == pytest.approx(k.aov)
        assert row.aov_ci_low == pytest.approx(k.aov_ci_low, nan_ok=True)
        assert row.aov_ci_high == pytest.approx(k.aov_ci_high, nan_ok=True)
        assert row.aov_units == k.aov_units


def test_result_converts_everywhere(tiny_ws):
    res = kpis(tiny_ws, by=["channel"], period="month")
    df = res.to_pandas()
    assert len(df) == 4 and res.meta["definition"] == "net"
    assert res.meta["formula"] == "gross_sales − discounts"
    assert res.meta["currency"] == "EUR" and res.meta["engine"] == "duckdb"
    assert isinstance(res.to_arrow(), pa.Table) and res.to_arrow().num_rows == 4
    assert isinstance(res.to_polars(), pl.DataFrame) and res.to_polars().height == 4
    d = json.loads(res.to_json())
    assert d["kind"] == "kpis" and d["meta"]["selection"]["by"] == ["channel"]
    first = d["tables"]["kpis"][0]
    assert first["period"] == "2024-01-01" and first["orders"] == df.orders.iloc[0]
    assert first["aov_pop_pct"] is None  # NaN becomes null, never 'NaN' in JSON
    html = res._repr_html_()
    assert "<table" in html and "net" in html
    with pytest.raises(KeyError, match="kpis"):
        res.to_pandas("nope")


def test_engine_serves_threads_with_their_own_cursors(tiny_ws):
    eng = connect(tiny_ws)
    results, errors = [], []

    def work():
        try:
            results.append(kpis(tiny_ws, by=["channel"], engine=eng).table.orders.sum())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [7] * 6


def test_staging_fills_defaults_and_drops_its_temp_tables(tmp_path):
    ws = Workspace(":memory:")

    def stage(ctx):
        ctx.execute("CREATE TEMP TABLE my_scratch AS SELECT 1 AS x")
        ctx.emit("orders", "SELECT 'f.csv' AS _file, 1 AS _row, 'o1' AS order_id, "
                 "'t' AS source, TIMESTAMPTZ '2024-01-01 10:00:00+00' AS created_at, "
                 "DATE '2024-01-01' AS order_date, 'EUR' AS currency, 10.0 AS gross_sales, "
                 "10.0 AS total, 'placed' AS status")

    ws.run_import("test", ["f.csv"], stage)
    row = ws.con.execute("SELECT discounts, shipping, tax, returns, cost, channel "
                         "FROM orders").fetchone()
    assert row == (0.0, 0.0, 0.0, 0.0, None, None)
    temps = ws.con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()
    assert temps == (0,)


def test_table_rules_come_from_the_schema():
    ws = Workspace(":memory:")

    def stage(ctx):
        ctx.emit("orders", "SELECT 'f.csv' AS _file, 3 AS _row, 'o1' AS order_id, "
                 "'t' AS source, TIMESTAMPTZ '2024-01-01 10:00:00+00' AS created_at, "
                 "DATE '2024-01-01' AS order_date, 'euro' AS currency, 10.0 AS gross_sales, "
                 "10.0 AS total, 'placed' AS status")

    with pytest.raises(Exception, match="three-letter ISO 4217") as info:
        ws.run_import("test", ["f.csv"], stage)
    assert "row 3" in str(info.value) and "'euro'" in str(info.value)
    assert ws.count("orders") == 0


def test_importers_declare_typed_options(tmp_path):
    assert list(FORMATS)[:3] == ["generic", "shopify", "online_retail"]
    assert {f for f in FORMATS["shopify"].Options.__dataclass_fields__} == {
        "timezone", "currency"}
    with pytest.raises(DefinitionError, match="no option order_prefix"):
        import_files(Workspace(":memory:"), tmp_path / "x.csv", "shopify", order_prefix="a")


def test_frames_import_through_the_generic_importer():
    ws = Workspace(":memory:")
    s = import_frame(ws, tiny_orders(), kind="orders", currency="EUR")
    assert s.format == "frame" and s.orders_added == 9


def test_architecture_doc_matches_the_contracts():
    """docs/architecture.md lists the layers in the order import-linter enforces them."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    contracts = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c["layers"] for c in contracts["contracts"] if c["type"] == "layers")
    doc = (root / "docs" / "architecture.md").read_text()
    diagram = doc.split("```text")[1].split("```")[0]
    listed = [line.split()[0] for line in diagram.strip().splitlines()]
    assert ["aovlab." + name for name in listed] == layers
    packages = {p.name for p in (root / "src" / "aovlab").iterdir()
                if (p / "__init__.py").exists()}
    assert packages == set(listed)
    for name in listed:
        assert f"## {name} — `aovlab/{name}/`" in doc


def test_explain_takes_the_dimension_of_its_selection(tiny_ws):
    sel = Selection.of(by="customer_type")
    x = explain(tiny_ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29", sel)
    assert x.dimension == "customer_type" and "customer_type" in x.segments.columns
    assert explain(tiny_ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29").dimension \
        == "channel"


def test_with_replaces_and_clears():
    sel = Selection.of(currency="EUR", period="month", filters={"channel": "web"})
    cleared = sel.with_(currency=None, period=None, filters={"country": "DE"})
    assert cleared.currency is None and cleared.period is None
    assert cleared.filters == (("country", "DE"),)
    assert sel.with_(by="country").currency == "EUR"


def test_unknown_engine_is_an_engine_error(tiny_ws):
    from aovlab import EngineError

    with pytest.raises(EngineError, match="unknown engine"):
        kpis(tiny_ws, engine="oracle")


def test_tables_are_checked_in_schema_order(tmp_path):
    """A lines file with a bad status and a bad line type: the order's status is named."""
    from aovlab import InputError

    p = tmp_path / "lines.csv"
    p.write_text("order_id,created_at,quantity,unit_price,status,line_type,currency\n"
                 "a1,2024-01-01 10:00,1,5,weird,product,EUR\n"
                 "a1,2024-01-01 10:00,1,5,,nonsense,EUR\n")
    with pytest.raises(InputError, match="unknown order status"):
        import_files(Workspace(":memory:"), p, "generic", mapping={"kind": "lines"})
    ok = tmp_path / "ok.csv"
    ok.write_text("order_id,created_at,quantity,unit_price,currency\n"
                  "a1,2024-01-01 10:00,1,5,EUR\n")
    s = import_files(Workspace(":memory:"), ok, "generic", mapping={"kind": "lines"})
    assert list(s.tables) == ["orders", "order_lines"]


def test_json_is_safe_for_every_value():
    import math
    from decimal import Decimal

    import numpy as np
    import pandas as pd

    from aovlab.analyses.result import plain

    assert plain(np.datetime64("2024-01-10T00:00:00")) == "2024-01-10"
    assert plain(pd.NaT) is None and plain(pd.NA) is None and plain(math.nan) is None
    assert plain(Decimal("1.25")) == 1.25
    assert plain(np.array([1.0, np.nan])) == [1.0, None]
    assert plain(pd.Timestamp("2024-01-10 10:00", tz="UTC")) == "2024-01-10T10:00:00+00:00"
    json.dumps(plain({"a": np.int64(3), "b": [np.float32(0.5)]}))


def test_old_synthetic_import_path_still_works():
    from aovlab.synthetic import import_synthetic, write_orders

    assert callable(write_orders) and callable(import_synthetic)


def test_category_ties_go_to_the_first_name():
    ws = Workspace(":memory:")
    lines = pd.DataFrame({
        "order_id": ["t1", "t1", "t2", "t2"], "created_at": "2024-05-01 10:00",
        "quantity": [1, 1, 2, 1], "unit_price": [10.0, 10.0, 5.0, 20.0],
        "category": ["toys", "books", "toys", "garden"]})
    import_frame(ws, lines, kind="lines", currency="EUR")
    k = kpis(ws, by=["category"]).table.set_index("category")
    assert k.orders.to_dict() == {"books": 1, "garden": 1}  # t1 ties books/toys; t2 garden
