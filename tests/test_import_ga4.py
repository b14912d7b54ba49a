"""GA4 BigQuery export importer: real two-day sample, hand-written reference queries, fuzz."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import shared_file

from aovlab.errors import AovlabError, InputError
from aovlab.importers import import_files
from aovlab.importers.ga4 import SKIP_DUPLICATE, SKIP_NO_TRANSACTION
from aovlab.storage import Workspace

DAYS = ("events_20201118.parquet", "events_20201119.parquet")
TABLES = ("orders", "order_lines", "traffic", "products", "customers")


def _sample() -> list[Path]:
    return [shared_file("ga4_sample", d) for d in DAYS]


@pytest.fixture(scope="module")
def imported():
    files = _sample()
    ws = Workspace(":memory:")
    summary = import_files(ws, files, "ga4")
    yield ws, summary, files
    ws.close()


def _ref(files: list[Path], sql: str) -> list[tuple]:
    """Run ``sql`` over view ``e`` = the raw export files, independently of the importer."""
    con = duckdb.connect()
    paths = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    con.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet([{paths}])")
    return con.execute(sql).fetchall()


# Reference queries, written the way one would in BigQuery, without the importer's SQL.
ORDERS_REF = """
    SELECT count(DISTINCT ecommerce.transaction_id) FROM e
    WHERE event_name = 'purchase' AND ecommerce.transaction_id IS NOT NULL
      AND ecommerce.transaction_id <> '(not set)'
"""
REVENUE_REF = """
    SELECT sum(revenue), sum(tax) FROM (
        SELECT ecommerce.transaction_id,
               arg_min(ecommerce.purchase_revenue_in_usd, event_timestamp) AS revenue,
               arg_min(ecommerce.tax_value_in_usd, event_timestamp) AS tax
        FROM e WHERE event_name = 'purchase' AND ecommerce.transaction_id <> '(not set)'
        GROUP BY 1)
"""
VISITORS_REF = """
    SELECT strptime(event_date, '%Y%m%d')::DATE, count(DISTINCT user_pseudo_id)
    FROM (SELECT event_date, user_pseudo_id, unnest(event_params) AS p FROM e)
    WHERE p.key = 'ga_session_id'
    GROUP BY 1 ORDER BY 1
"""
SESSIONS_REF = """
    SELECT strptime(event_date, '%Y%m%d')::DATE,
           count(DISTINCT user_pseudo_id || '-' || p.value.int_value)
    FROM (SELECT event_date, user_pseudo_id, unnest(event_params) AS p FROM e)
    WHERE p.key = 'ga_session_id'
    GROUP BY 1 ORDER BY 1
"""
PURCHASE_SESSIONS_REF = """
    SELECT count(DISTINCT event_date || user_pseudo_id || '-' || p.value.int_value)
    FROM (SELECT event_date, user_pseudo_id, unnest(event_params) AS p FROM e
          WHERE event_name = 'purchase' AND ecommerce.transaction_id <> '(not set)')
    WHERE p.key = 'ga_session_id'
"""


def test_orders_match_hand_query(imported):
    ws, summary, files = imported
    (n_ref,), = _ref(files, ORDERS_REF)
    (revenue_ref, tax_ref), = _ref(files, REVENUE_REF)
    n, total, gross, currencies = ws.con.execute(
        "SELECT count(*), sum(total), sum(gross_sales), list(DISTINCT currency) FROM orders"
    ).fetchone()
    assert n == n_ref == 99
    assert gross == pytest.approx(revenue_ref) and revenue_ref == pytest.approx(7068.0)
    # what the customer paid: GA4's purchase revenue excludes tax (shipping is null here)
    assert total == pytest.approx(revenue_ref + tax_ref) and tax_ref == pytest.approx(611.0)
    assert currencies == ["USD"]
    assert summary.rows_read == _ref(files, "SELECT count(*) FROM e")[0][0] == 109388
    # 152 purchase events = 99 orders + 47 repeats + 6 without a transaction id
    assert summary.skipped[SKIP_DUPLICATE] == 47
    assert summary.skipped[SKIP_NO_TRANSACTION] == 6
    purchases = _ref(files, "SELECT count(*) FROM e WHERE event_name = 'purchase'")[0][0]
    assert purchases == n + summary.skipped[SKIP_DUPLICATE] + summary.skipped[SKIP_NO_TRANSACTION]


def test_traffic_matches_hand_query(imported):
    ws, _, files = imported
    ref = _ref(files, SESSIONS_REF)
    got = ws.con.execute(
        "SELECT date, sum(sessions) FROM traffic GROUP BY 1 ORDER BY 1").fetchall()
    assert got == ref
    assert [r[1] for r in ref] == [4133, 4197]
    # each visitor counts once a day (in the row of their first session), so rows add up
    visitors = ws.con.execute(
        "SELECT date, sum(visitors) FROM traffic GROUP BY 1 ORDER BY 1").fetchall()
    assert visitors == _ref(files, VISITORS_REF)
    (purchase_sessions,), = _ref(files, PURCHASE_SESSIONS_REF)
    assert ws.con.execute("SELECT sum(purchases) FROM traffic").fetchone()[0] \
        == purchase_sessions == 88
    # Dimensions are never NULL, and the funnel narrows.
    bad = ws.con.execute(
        "SELECT count(*) FROM traffic WHERE channel IS NULL OR country IS NULL OR device IS NULL "
        "OR NOT (sessions >= view_item AND sessions >= purchases AND visitors <= sessions)"
    ).fetchone()[0]
    assert bad == 0


def test_orders_line_up_with_traffic(imported):
    ws, _, _ = imported
    orphans = ws.con.execute(
        "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM traffic t WHERE "
        "t.date = o.order_date AND t.channel = o.channel AND t.country = o.country "
        "AND t.device = o.device AND t.purchases > 0)"
    ).fetchone()[0]
    assert orphans == 0


def test_order_lines_are_the_kept_purchases_items(imported):
    ws, _, files = imported
    (n_items,), = _ref(files, """
        SELECT sum(len(items)) FROM (
            SELECT arg_min(items, event_timestamp) AS items FROM e
            WHERE event_name = 'purchase' AND ecommerce.transaction_id <> '(not set)'
            GROUP BY ecommerce.transaction_id)
    """)
    n_lines, bad_no, units = ws.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE line_no < 1), sum(quantity) FROM order_lines"
    ).fetchone()
    assert n_lines == n_items == 285
    assert bad_no == 0
    assert ws.con.execute("SELECT sum(units) FROM orders").fetchone()[0] == units


def test_reimport_adds_nothing(imported):
    ws, _, files = imported
    before = {t: ws.count(t) for t in TABLES}
    again = import_files(ws, files, "ga4")
    assert {t: ws.count(t) for t in TABLES} == before
    assert all(c.added == 0 and c.changed == 0 for c in again.tables.values())


def test_day_by_day_equals_both_at_once(imported):
    ws, _, files = imported
    ws2 = Workspace(":memory:")
    for f in files:
        import_files(ws2, [f], "ga4")
    for t in ("orders", "traffic"):
        # customer keys are numbered in order of first import, so they may differ; each
        # order's position in its customer's history may not
        q = f"SELECT * EXCLUDE (created_at, customer_key) FROM {t} ORDER BY ALL" \
            if t == "orders" else f"SELECT * FROM {t} ORDER BY ALL"
        assert ws2.con.execute(q).fetchall() == ws.con.execute(q).fetchall()


# -- fuzz: malformed GA4-shaped files -----------------------------------------------------------
PARAM = pa.struct([("key", pa.string()), ("value", pa.struct([
    ("string_value", pa.string()), ("int_value", pa.int64()),
    ("float_value", pa.float64()), ("double_value", pa.float64())]))])
ITEM = pa.struct([("item_id", pa.string()), ("item_name", pa.string()),
                  ("item_category", pa.string()), ("price_in_usd", pa.float64()),
                  ("quantity", pa.int64()), ("item_revenue_in_usd", pa.float64())])
SCHEMA = pa.schema([
    ("event_date", pa.string()), ("event_timestamp", pa.int64()), ("event_name", pa.string()),
    ("event_params", pa.list_(PARAM)), ("user_id", pa.string()),
    ("user_pseudo_id", pa.string()),
    ("device", pa.struct([("category", pa.string())])),
    ("geo", pa.struct([("country", pa.string())])),
    ("traffic_source", pa.struct([("medium", pa.string()), ("name", pa.string()),
                                  ("source", pa.string())])),
    ("ecommerce", pa.struct([("purchase_revenue_in_usd", pa.float64()),
                             ("shipping_value_in_usd", pa.float64()),
                             ("tax_value_in_usd", pa.float64()),
                             ("transaction_id", pa.string())])),
    ("items", pa.list_(ITEM)),
])
T0 = 1_605_657_600_000_000  # 2020-11-18 00:00 UTC in microseconds


def ga4_events() -> dict[str, list]:
    """A tiny valid export: one session that views, adds to cart and buys."""
    def params(sid: int, **extra: str) -> list[dict]:
        ps = [{"key": "ga_session_id", "value": {"int_value": sid}}]
        ps += [{"key": k, "value": {"string_value": v}} for k, v in extra.items()]
        return ps

    item = {"item_id": "SKU1", "item_name": "Mug", "item_category": "Drinkware",
            "price_in_usd": 12.0, "quantity": 2, "item_revenue_in_usd": 24.0}
    names = ["session_start", "view_item", "add_to_cart", "purchase"]
    return {
        "event_date": ["20201118"] * 4,
        "event_timestamp": [T0 + i * 1_000_000 for i in range(4)],
        "event_name": names,
        "event_params": [params(7), params(7), params(7), params(7, coupon="X")],
        "user_id": [None] * 4,
        "user_pseudo_id": ["u1"] * 4,
        "device": [{"category": "mobile"}] * 4,
        "geo": [{"country": "Germany"}] * 4,
        "traffic_source": [{"medium": "organic", "name": "(organic)", "source": "google"}] * 4,
        "ecommerce": [None, None, None, {"purchase_revenue_in_usd": 24.0,
                                         "shipping_value_in_usd": None,
                                         "tax_value_in_usd": 2.0, "transaction_id": "T1"}],
        "items": [[], [item], [item], [item]],
    }


def write_events(path: Path, cols: dict[str, list], schema: pa.Schema | None = None) -> Path:
    if schema is None:
        schema = pa.schema([f for f in SCHEMA if f.name in cols])
        table = pa.table({f.name: pa.array(cols[f.name], f.type) for f in schema})
    else:
        table = pa.table(cols, schema=schema)
    pq.write_table(table, path)
    return path


def test_tiny_valid_file_imports(tmp_path):
    ws = Workspace(":memory:")
    s = import_files(ws, [write_events(tmp_path / "events_20201118.parquet", ga4_events())], "ga4")
    assert s.rows_read == 4
    assert ws.con.execute(
        "SELECT order_id, total, tax, shipping, units, coupon, channel, country, device "
        "FROM orders").fetchall() == [("T1", 26.0, 2.0, 0.0, 2.0, "X", "organic", "Germany",
                                       "mobile")]
    assert ws.con.execute(
        "SELECT sessions, visitors, view_item, add_to_cart, begin_checkout, purchases "
        "FROM traffic").fetchall() == [(1, 1, 1, 1, 0, 1)]


def _ev(name: str, sec: int, user: str | None, sid: int | None, *, tid: str | None = None,
        revenue: float | None = None, items: list | None = None, medium: str = "organic",
        source: str = "google", user_id: str | None = None, coupon: str | None = None,
        date: str | None = "20201118") -> dict:
    params = [] if sid is None else [{"key": "ga_session_id", "value": {"int_value": sid}}]
    if coupon:
        params.append({"key": "coupon", "value": {"string_value": coupon}})
    return {
        "event_date": date, "event_timestamp": T0 + sec * 1_000_000, "event_name": name,
        "event_params": params, "user_id": user_id, "user_pseudo_id": user,
        "device": {"category": "Desktop"}, "geo": {"country": None},
        "traffic_source": {"medium": medium, "name": None, "source": source},
        "ecommerce": None if name != "purchase" else {
            "purchase_revenue_in_usd": revenue, "shipping_value_in_usd": None,
            "tax_value_in_usd": 1.0, "transaction_id": tid},
        "items": items or [],
    }


def _item(item_id: str, price: float | None, qty: int | None = 1,
          revenue: float | None = None) -> dict:
    return {"item_id": item_id, "item_name": item_id, "item_category": "(not set)",
            "price_in_usd": price, "quantity": qty, "item_revenue_in_usd": revenue}


def test_rules_on_a_small_export(tmp_path):
    nothing = _item("(not set)", None, None)
    rows = [
        # session 1 (direct): a purchase sent twice, the repeat 1 s later with a coupon
        _ev("session_start", 0, "u1", 1, medium="(none)", source="(direct)"),
        _ev("purchase", 5, "u1", 1, tid="A", revenue=30.0, medium="(none)", source="(direct)",
            items=[_item("P1", 10.0, 2), nothing, _item("P2", 10.0, None)]),
        _ev("purchase", 6, "u1", 1, tid="A", revenue=30.0, medium="(none)", source="(direct)",
            items=[_item("P1", 10.0, 2)], coupon="SAVE"),
        # session 2 (cpc, logged in): revenue 0 is kept; a placeholder item with revenue too
        _ev("purchase", 10, "u2", 2, tid="B", revenue=0.0, medium="cpc", user_id="crm-9",
            items=[_item("(not set)", None, 1, 4.0)]),
        # session 3 ((data deleted) medium): a purchase without transaction id
        _ev("purchase", 20, "u3", 3, tid="(not set)", revenue=0.0, medium="(data deleted)",
            source="(data deleted)"),
        # session 4 (<Other>) and an event without a session id (consent-mode ping)
        _ev("view_item", 30, "u4", 4, medium="<Other>", source="<Other>"),
        _ev("page_view", 40, None, None),
    ]
    p = tmp_path / "events_20201118.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), p)
    ws = Workspace(":memory:")
    s = import_files(ws, [p], "ga4")
    assert s.rows_read == 7
    assert s.skipped == {
        SKIP_DUPLICATE: 1, SKIP_NO_TRANSACTION: 1,
        "'(not set)' placeholder item without revenue": 1,
        "event without user_pseudo_id or ga_session_id (left out of traffic)": 1,
    }
    assert ws.con.execute(
        "SELECT order_id, customer_id, channel, country, device, total, tax, units, coupon, "
        "strftime(created_at, '%S') FROM orders ORDER BY 1").fetchall() == [
        ("A", "u1", "direct", "(not set)", "desktop", 31.0, 1.0, 3.0, "SAVE", "05"),
        ("B", "crm-9", "cpc", "(not set)", "desktop", 1.0, 1.0, 1.0, None, "10"),
    ]
    assert ws.con.execute(
        "SELECT order_id, line_no, product_id, category, quantity, unit_price "
        "FROM order_lines ORDER BY 1, 2").fetchall() == [
        ("A", 1, "P1", None, 2.0, 10.0), ("A", 2, "P2", None, 1.0, 10.0),
        ("B", 1, None, None, 1.0, 4.0),
    ]
    assert ws.con.execute(
        "SELECT channel, sessions, visitors, view_item, purchases FROM traffic ORDER BY 1"
    ).fetchall() == [("(not set)", 1, 1, 0, 0), ("cpc", 1, 1, 0, 1), ("direct", 1, 1, 0, 1),
                     ("other", 1, 1, 1, 0)]


def test_empty_event_date_falls_back_to_timezone(tmp_path):
    rows = [_ev("page_view", 0, "u1", 1, date=None)]  # 2020-11-18 00:00 UTC
    p = tmp_path / "e.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), p)
    ws = Workspace(":memory:")
    import_files(ws, [p], "ga4", timezone="America/Los_Angeles")
    assert str(ws.con.execute("SELECT date FROM traffic").fetchone()[0]) == "2020-11-17"


def _mutated(**changes) -> dict[str, list]:
    cols = ga4_events()
    for k, v in changes.items():
        if v is None:
            cols.pop(k)
        else:
            cols[k] = v
    return cols


def _retyped(name: str, typ: pa.DataType, values: list) -> tuple[dict, pa.Schema]:
    cols = ga4_events()
    cols[name] = values
    schema = pa.schema([pa.field(name, typ) if f.name == name else f for f in SCHEMA])
    return cols, schema


BAD_ITEM = {"item_id": "S", "item_name": "n", "item_category": "c", "price_in_usd": "cheap",
            "quantity": "2", "item_revenue_in_usd": "1"}
STR_ITEM = pa.struct([(f.name, pa.string()) for f in ITEM])
STR_PARAM = pa.struct([("key", pa.string()), ("value", pa.struct([
    ("string_value", pa.string()), ("int_value", pa.string())]))])


def _case_files(case: str, tmp: Path) -> list[Path]:  # noqa: C901 - a table of cases
    p = tmp / "events_20201118.parquet"
    if case == "csv_named_parquet":
        p.write_text("event_date,event_name\n20201118,page_view\n")
    elif case == "csv":
        p = tmp / "events.csv"
        p.write_text("event_date,event_name\n20201118,page_view\n")
    elif case == "empty_file":
        p.write_bytes(b"")
    elif case == "zero_rows":
        pq.write_table(SCHEMA.empty_table(), p)
    elif case == "not_ga4":
        pq.write_table(pa.table({"order_id": ["1"], "total": [3.0]}), p)
    elif case == "truncated":
        write_events(p, ga4_events())
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    elif case == "missing_ecommerce":
        write_events(p, _mutated(ecommerce=None))
    elif case == "missing_transaction_id":
        cols = ga4_events()
        cols["ecommerce"] = [None] * 3 + [{"purchase_revenue_in_usd": 1.0}]
        schema = pa.schema([pa.field("ecommerce", pa.struct(
            [("purchase_revenue_in_usd", pa.float64())])) if f.name == "ecommerce" else f
            for f in SCHEMA])
        write_events(p, cols, schema)
    elif case == "missing_items_price":
        cols = ga4_events()
        cols["items"] = [[{"item_id": "a"}]] * 4
        write_events(p, cols, pa.schema([pa.field("items", pa.list_(pa.struct(
            [("item_id", pa.string())]))) if f.name == "items" else f for f in SCHEMA]))
    elif case == "event_params_as_json_text":
        write_events(p, *_retyped("event_params", pa.string(), ['[{"key":"ga_session_id"}]'] * 4))
    elif case == "items_not_a_list":
        write_events(p, *_retyped("items", ITEM, [None, None, None, {"item_id": "x"}]))
    elif case == "geo_as_text":
        write_events(p, *_retyped("geo", pa.string(), ["Germany"] * 4))
    elif case == "timestamp_in_ms":
        write_events(p, _mutated(event_timestamp=[T0 // 1000 + i for i in range(4)]))
    elif case == "timestamp_text":
        write_events(p, *_retyped("event_timestamp", pa.string(),
                            [str(T0), str(T0 + 1), "yesterday", str(T0 + 3)]))
    elif case == "timestamp_null":
        write_events(p, _mutated(event_timestamp=[T0, None, T0, T0]))
    elif case == "event_date_bad":
        write_events(p, _mutated(event_date=["20201118", "2020-13-45", "20201118", "20201118"]))
    elif case == "event_date_7_digits":
        write_events(p, _mutated(event_date=["20201118", "2020111", "20201118", "20201118"]))
    elif case == "event_name_null":
        write_events(p, _mutated(event_name=["page_view", None, "purchase", "purchase"]))
    elif case == "item_price_text":
        write_events(p, *_retyped("items", pa.list_(STR_ITEM), [[], [], [], [BAD_ITEM]]))
    elif case == "revenue_text":
        cols = ga4_events()
        cols["ecommerce"] = [None] * 3 + [{"purchase_revenue_in_usd": "ten",
                                           "transaction_id": "T"}]
        write_events(p, cols, pa.schema([pa.field("ecommerce", pa.struct(
            [("purchase_revenue_in_usd", pa.string()), ("transaction_id", pa.string())]))
            if f.name == "ecommerce" else f for f in SCHEMA]))
    elif case == "session_id_text":
        bad = [[{"key": "ga_session_id", "value": {"int_value": "abc"}}]] * 4
        write_events(p, *_retyped("event_params", pa.list_(STR_PARAM), bad))
    elif case == "folder":
        p = tmp / "folder"
        p.mkdir()
    elif case == "does_not_exist":
        p = tmp / "nope.parquet"
    elif case == "good_then_bad":
        good = write_events(tmp / "events_20201117.parquet", ga4_events())
        p.write_text("not parquet")
        return [good, p]
    else:  # pragma: no cover
        raise AssertionError(case)
    return [p]


CASES = ["csv_named_parquet", "csv", "empty_file", "zero_rows", "not_ga4", "truncated",
         "missing_ecommerce", "missing_transaction_id", "missing_items_price",
         "event_params_as_json_text", "items_not_a_list", "geo_as_text", "timestamp_in_ms",
         "timestamp_text", "timestamp_null", "event_date_bad", "event_date_7_digits",
         "event_name_null", "item_price_text", "revenue_text", "session_id_text", "folder",
         "does_not_exist", "good_then_bad"]


@pytest.fixture(scope="module")
def seeded_ws(tmp_path_factory):
    """A workspace already holding the tiny file, so 'unchanged' is not just 'empty'."""
    ws = Workspace(":memory:")
    seed = write_events(tmp_path_factory.mktemp("seed") / "e.parquet", ga4_events())
    import_files(ws, [seed], "ga4")
    yield ws
    ws.close()


def _counts(ws: Workspace) -> dict[str, int]:
    return {**{t: ws.count(t) for t in TABLES}, "imports": len(ws.imports())}


@pytest.mark.parametrize("case", CASES)
def test_malformed_input_is_refused_cleanly(case, tmp_path, seeded_ws):
    files = _case_files(case, tmp_path)
    before = _counts(seeded_ws)
    with pytest.raises(AovlabError) as info:
        import_files(seeded_ws, files, "ga4")
    assert _counts(seeded_ws) == before
    assert info.value.fix  # every refusal says how to fix it
    if isinstance(info.value, InputError) and case not in ("does_not_exist", "folder"):
        assert Path(info.value.location.file).name in str(info.value)


def test_row_column_and_value_are_named(tmp_path, seeded_ws):
    err = pytest.raises(InputError, import_files, seeded_ws,
                        _case_files("timestamp_text", tmp_path), "ga4").value
    assert (err.location.row, err.location.column, err.location.value) == \
        (3, "event_timestamp", "yesterday")
    err = pytest.raises(InputError, import_files, seeded_ws,
                        _case_files("item_price_text", tmp_path), "ga4").value
    assert (err.location.row, err.location.column) == (4, "items.price_in_usd")


def test_no_files_bad_timezone_and_options(tmp_path, seeded_ws):
    with pytest.raises(AovlabError):
        import_files(seeded_ws, [], "ga4")
    good = write_events(tmp_path / "e.parquet", ga4_events())
    with pytest.raises(AovlabError, match="time zone"):
        import_files(seeded_ws, [good], "ga4", timezone="Mars/Olympus")
    with pytest.raises(AovlabError, match="no option currency"):
        import_files(seeded_ws, [good], "ga4", currency="EUR")


# Random damage: drop columns, swap a column's type, or flip bytes. The importer must either
# import or refuse with an AovlabError, and a refusal must leave the workspace as it was.
_VALUES = st.one_of(st.none(), st.text(max_size=8), st.integers(-10**18, 10**18),
                    st.floats(allow_nan=True))


@st.composite
def _damage(draw):
    cols = ga4_events()
    schema = SCHEMA
    kind = draw(st.sampled_from(["drop", "retype", "nulls", "bytes"]))
    name = draw(st.sampled_from([f.name for f in SCHEMA]))
    if kind == "drop":
        schema = pa.schema([f for f in SCHEMA if f.name != name])
        cols.pop(name)
    elif kind == "retype":
        typ = draw(st.sampled_from([pa.string(), pa.int64(), pa.float64()]))
        vals = draw(st.lists(_VALUES, min_size=4, max_size=4))
        conv = {pa.string(): lambda v: None if v is None else str(v),
                pa.int64(): lambda v: v if isinstance(v, int) else None,
                pa.float64(): lambda v: float(v) if isinstance(v, int | float) else None}[typ]
        cols[name] = [conv(v) for v in vals]
        schema = pa.schema([pa.field(name, typ) if f.name == name else f for f in SCHEMA])
    elif kind == "nulls":
        mask = draw(st.lists(st.booleans(), min_size=4, max_size=4))
        cols[name] = [None if m else v for m, v in zip(mask, cols[name], strict=True)]
    flips = draw(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6)) \
        if kind == "bytes" else []
    return cols, schema, flips


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_damage())
def test_fuzz_never_crashes(tmp_path, seeded_ws, damage):
    cols, schema, flips = damage
    p = tmp_path / "fuzz.parquet"
    pq.write_table(pa.table(cols, schema=schema), p)
    if flips:
        data = bytearray(p.read_bytes())
        for where, byte in flips:
            data[int(where * (len(data) - 1))] = byte
        p.write_bytes(bytes(data))
    before = _counts(seeded_ws)
    try:
        import_files(seeded_ws, [p], "ga4")
    except AovlabError:
        assert _counts(seeded_ws) == before
