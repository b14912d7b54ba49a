"""Customer facts derived at import: an integer key per customer and each order's position
among its customer's counted orders — right whatever the order of the imports, kept when
an older order arrives later, computed on an upgrade, carried to Parquet and PostgreSQL,
and read by the metrics with the numbers the window gives."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import aovlab
from aovlab import schema
from aovlab.engines import connect
from aovlab.metrics.facts import customer_facts
from aovlab.query import Selection
from fixtures import tiny_orders, workspace_with


def _expected(df: pd.DataFrame) -> pd.DataFrame:
    """The position the hand way: counted orders per customer by (time, order id)."""
    d = df.copy()
    d["created_at"] = pd.to_datetime(d["created_at"], utc=True)
    counted = d[d.status.isin(schema.COUNTED_STATUSES) & d.customer_id.notna()]
    counted = counted.sort_values(["customer_id", "created_at", "order_id"])
    d["seq"] = counted.groupby("customer_id").cumcount().add(1).reindex(d.index)
    return d.set_index("order_id")


def _stored(ws) -> pd.DataFrame:
    return ws.con.execute("SELECT order_id, customer_id, customer_key, customer_seq "
                          "FROM orders").df().set_index("order_id")


def _check(ws, df: pd.DataFrame) -> None:
    got, want = _stored(ws), _expected(df)
    got = got.loc[want.index]
    assert (got.customer_seq.astype("Float64").fillna(-1).to_numpy()
            == want.seq.astype("Float64").fillna(-1).to_numpy()).all()
    # one key per customer, a different one for each, none for guests
    keyed = got[got.customer_id.notna()]
    assert keyed.groupby("customer_id").customer_key.nunique().eq(1).all()
    assert keyed.drop_duplicates("customer_id").customer_key.is_unique
    assert got[got.customer_id.isna()].customer_key.isna().all()


orders = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", None]), st.integers(0, 5),
              st.sampled_from(["placed", "placed", "refunded", "cancelled"])),
    min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(orders, st.integers(1, 3), st.randoms(use_true_random=False))
def test_positions_are_right_whatever_the_order_of_the_imports(rows, parts, rnd):
    df = pd.DataFrame({
        "order_id": [f"o{i:02d}" for i in range(len(rows))],
        "customer_id": [c for c, _, _ in rows],
        # ties at one instant are common (a CDNOW day): the lower order id is first
        "created_at": [f"2024-01-0{1 + d} 10:00" for _, d, _ in rows],
        "gross_sales": 10.0, "total": 10.0, "status": [s for _, _, s in rows]})
    idx = list(df.index)
    rnd.shuffle(idx)
    ws = aovlab.Workspace(":memory:")
    for chunk in np.array_split(np.array(idx), parts):
        if len(chunk):
            aovlab.import_frame(ws, df.loc[chunk], kind="orders", currency="EUR")
    _check(ws, df)


def test_an_older_order_moves_the_later_ones_and_keys_stay():
    ws = workspace_with(tiny_orders())
    before = _stored(ws)
    older = tiny_orders().iloc[[0]].assign(order_id="o0", created_at="2023-12-01 10:00")
    newcomer = tiny_orders().iloc[[0]].assign(order_id="o10", customer_id="zz")
    aovlab.import_frame(ws, pd.concat([older, newcomer]), kind="orders", currency="EUR")
    after = _stored(ws)
    assert after.loc[["o0", "o1", "o3"], "customer_seq"].tolist() == [1, 2, 3]
    assert pd.isna(after.loc["o9", "customer_seq"])  # a test order has no position
    assert (after.loc[before.index, "customer_key"].fillna(-1)
            == before.customer_key.fillna(-1)).all()  # keys never change
    assert after.loc["o10", "customer_key"] == before.customer_key.max() + 1
    again = aovlab.import_frame(ws, pd.concat([older, newcomer]), kind="orders",
                                currency="EUR")
    assert again.orders_added == 0 and _stored(ws).equals(after)


def test_the_facts_answer_the_default_statuses_and_the_window_the_others():
    ws = workspace_with(tiny_orders())
    eng = connect(ws)
    assert customer_facts(eng, Selection.of())
    assert not customer_facts(eng, Selection.of(statuses=["placed"]))
    # counting refunds only, c2's refund o6 is its first counted order (its stored
    # position among placed and refunded orders is 2): the window decides
    k = aovlab.kpis(ws, statuses=["refunded"]).table.iloc[0]
    assert (k.new_orders, k.returning_orders, k.guest_orders) == (1, 0, 0)
    k = aovlab.kpis(ws, statuses=["placed", "refunded", "test"]).table.iloc[0]
    assert (k.new_orders, k.returning_orders, k.guest_orders) == (4, 3, 1)


def test_a_version_4_workspace_is_upgraded_with_its_facts(tmp_path):
    path = tmp_path / "old.duckdb"
    with workspace_with(tiny_orders(), str(path)) as ws:
        want = aovlab.kpis(ws, by=["channel"]).table
        expected = _stored(ws)
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE orders DROP COLUMN customer_key")
    con.execute("ALTER TABLE orders DROP COLUMN customer_seq")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    with aovlab.Workspace(path, read_only=True) as ws:  # upgraded on any opening
        pd.testing.assert_frame_equal(_stored(ws).loc[expected.index], expected)
        pd.testing.assert_frame_equal(aovlab.kpis(ws, by=["channel"]).table, want)


def test_an_export_without_the_facts_is_read_with_the_window(tmp_path):
    """A Parquet dataset written by an older aovlab (or a pipeline) has no facts: the
    metrics compute them, with the same numbers."""
    ws = workspace_with(tiny_orders())
    aovlab.storage.export_parquet(ws, tmp_path / "d")
    for f in (tmp_path / "d" / "orders").rglob("*.parquet"):
        t = pd.read_parquet(f).drop(columns=["customer_key", "customer_seq"])
        t.to_parquet(f)
    with aovlab.storage.ParquetCatalog(tmp_path / "d") as cat:
        eng = connect(cat)
        assert eng.lacks("orders") == {"customer_key", "customer_seq"}
        assert not customer_facts(eng, Selection.of())
        got = aovlab.kpis(cat, by=["customer_type"]).table
    pd.testing.assert_frame_equal(got, aovlab.kpis(ws, by=["customer_type"]).table)


def test_facts_a_pipeline_wrote_are_not_trusted(tmp_path):
    """A dataset whose schema file does not say aovlab derived the columns (a pipeline's)
    is read with the window, even when it carries them — here all NULL."""
    import json

    ws = workspace_with(tiny_orders())
    aovlab.storage.export_parquet(ws, tmp_path / "d")
    info_file = tmp_path / "d" / "_aovlab_schema.json"
    info = json.loads(info_file.read_text())
    del info["derived_columns"]
    info_file.write_text(json.dumps(info))
    for f in (tmp_path / "d" / "orders").rglob("*.parquet"):
        t = pd.read_parquet(f)
        t["customer_key"], t["customer_seq"] = pd.NA, pd.NA
        t.astype({"customer_key": "Int64", "customer_seq": "Int64"}).to_parquet(f)
    with aovlab.storage.ParquetCatalog(tmp_path / "d") as cat:
        assert not customer_facts(connect(cat), Selection.of())
        got = aovlab.kpis(cat, by=["customer_type"]).table
    pd.testing.assert_frame_equal(got, aovlab.kpis(ws, by=["customer_type"]).table)


def test_an_interrupted_import_leaves_no_moved_position(tmp_path):
    """Recovery deletes what an interrupted import added and computes the facts again, so
    a stored order an older one had moved is first again."""
    from aovlab.storage import recovery

    path = tmp_path / "w.duckdb"
    with workspace_with(tiny_orders(), str(path)) as ws:
        recovery.begin(ws.con, "frame", ["x"])
        # what a kill mid-commit could leave: the new row and the moved position
        ws.con.execute("INSERT INTO orders SELECT * REPLACE ('o0' AS order_id, "
                       "TIMESTAMPTZ '2023-12-01 10:00:00+00' AS created_at, 1 AS customer_seq) "
                       "FROM orders WHERE order_id = 'o1'")
        ws.con.execute("UPDATE orders SET customer_seq = customer_seq + 1 "
                       "WHERE customer_key = 1 AND order_id <> 'o0'")
    with aovlab.Workspace(path, read_only=True) as ws:  # the opening repairs it
        assert ws.recovered
        got = _stored(ws)
        assert "o0" not in got.index
        assert got.loc[["o1", "o3"], "customer_seq"].tolist() == [1, 2]
