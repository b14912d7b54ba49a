"""The one policy on signs, sizes and dates, and the bad files of the hardening report.

Every case is refused at import with the file, the row, the column, the value and a fix
(and changes nothing), or accepted where the policy says it is data (returns, reversals).
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest
from tests.test_import_ga4 import ga4_events, write_events

from aovlab import Workspace, import_files, import_frame
from aovlab.errors import AovlabError, InputError, WorkspaceError

HEADER = "order_id,created_at,total\n"


def _orders(**cols) -> pd.DataFrame:
    base = {"order_id": ["a"], "created_at": ["2024-01-01 10:00"], "total": [5.0]}
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize("frame,column,words", [
    (_orders(created_at=["2300-01-01"]), "order_date", "outside 1970..2199"),
    (_orders(created_at=["1901-01-01"]), "order_date", "outside 1970..2199"),
    (_orders(total=[1e308]), "gross_sales", "larger than any real amount"),
    (_orders(total=[-12.51]), "gross_sales", "negative on a counted order"),
    (_orders(discounts=[-3.0]), "discounts", "negative on a counted order"),
    (_orders(total=["1_000"]), "total", "cannot be read as a number"),
    (_orders(total=[1.5], units=[1e20]), "units", r"beyond 1e\+09 units"),
])
def test_orders_out_of_policy_are_refused_with_row_and_fix(frame, column, words):
    ws = Workspace(":memory:")
    with pytest.raises(InputError, match=words) as info:
        import_frame(ws, frame, currency="EUR")
    assert info.value.location.row == 1 and info.value.location.column == column
    assert info.value.fix
    assert ws.count("orders") == 0 and ws.imports() == []


def _lines(**cols) -> pd.DataFrame:
    base = {"order_id": ["a", "a"], "created_at": ["2024-01-01 10:00"] * 2,
            "product_id": ["x", "y"], "quantity": [2.0, 1.0], "unit_price": [3.0, 4.0]}
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize("frame,row,column,words", [
    (_lines(unit_price=[3.0, -4.0]), 2, "unit_price", "unit_price is negative"),
    (_lines(quantity=[2.0, 1e20]), 1, "gross_sales", "larger than any real amount"),
    (_lines(quantity=[2.0, math.inf]), 2, "quantity", "cannot be read as a number"),
    (_lines(line_discount=[0.0, -1.0]), 1, "discounts", "negative"),  # the order sums it
])
def test_lines_out_of_policy_are_refused(frame, row, column, words):
    ws = Workspace(":memory:")
    with pytest.raises(InputError, match=words) as info:
        import_frame(ws, frame, kind="lines", currency="EUR")
    assert (info.value.location.row, info.value.location.column) == (row, column)
    assert ws.count("order_lines") == 0


def test_returns_and_reversals_are_data_not_errors():
    ws = Workspace(":memory:")
    # a returned unit is a negative quantity; the order stays positive overall
    import_frame(ws, _lines(quantity=[2.0, -1.0]), kind="lines", currency="EUR")
    assert ws.con.execute("SELECT gross_sales FROM orders").fetchone()[0] == 2.0
    # a cancellation document may carry negative amounts
    import_frame(ws, _orders(order_id=["c"], total=[-5.0], status=["cancelled"]),
                 currency="EUR")
    assert ws.count("orders") == 2


def test_mixed_type_and_duplicated_frame_columns():
    ws = Workspace(":memory:")
    mixed = _orders(order_id=["a", "b", "c"], created_at=["2024-01-01"] * 3,
                    total=[1.5, "abc", 3])
    with pytest.raises(InputError, match="cannot be read as a number") as info:
        import_frame(ws, mixed, currency="EUR")
    assert (info.value.location.row, info.value.location.value) == (2, "abc")
    dup = pd.DataFrame([["a", "2024-01-01", 3.0, 4.0]],
                       columns=["order_id", "created_at", "total", "total"])
    with pytest.raises(InputError, match="appears twice"):
        import_frame(ws, dup, currency="EUR")
    assert ws.count("orders") == 0


def test_a_value_the_canonical_type_cannot_hold_names_its_row():
    ws = Workspace(":memory:")

    def stage(ctx):
        ctx.emit("traffic", "SELECT 'f.csv' AS _file, 7 AS _row, DATE '2024-01-01' AS date, "
                            "'web' AS channel, 'DE' AS country, 'mobile' AS device, "
                            "1e20 AS sessions, 1 AS visitors")

    with pytest.raises(InputError, match="cannot hold") as info:
        ws.run_import("test", ["f.csv"], stage)
    assert (info.value.location.row, info.value.location.column) == (7, "sessions")


def test_ga4_negative_revenue_is_refused(tmp_path):
    ev = ga4_events()
    ev["ecommerce"][3] = dict(ev["ecommerce"][3], purchase_revenue_in_usd=-12.51)
    ws = Workspace(":memory:")
    with pytest.raises(InputError, match="negative") as info:
        import_files(ws, [write_events(tmp_path / "events_20201118.parquet", ev)], "ga4")
    assert info.value.location.row is not None
    assert ws.count("orders") == 0


def test_cdnow_refuses_underscored_numbers(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("00001 19970101  1   11.77\n00002 19970102  1_000   12.00\n")
    with pytest.raises(InputError) as info:
        import_files(Workspace(":memory:"), path, "cdnow")
    assert info.value.location.row == 2


BAD_CSV = {
    "ragged": (HEADER + "o1,2024-01-01 10:00,5\no2,2024-01-02 10:00\n", 2),
    "truncated": (HEADER + "o1,2024-01-01 10:00,5\no2,2024-01-02 1", 2),
    "extra field": (HEADER + "o1,2024-01-01 10:00,5,9\n", 1),
}
UCI_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
UCI_LINE = "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_damaged_csv_lines_are_named_generic(tmp_path, case):
    text, row = BAD_CSV[case]
    path = tmp_path / "f.csv"
    path.write_text(text)
    with pytest.raises(InputError, match="fields where the header has 3") as info:
        import_files(Workspace(":memory:"), path, "generic", currency="EUR")
    assert info.value.location.row == row


@pytest.mark.parametrize("tail,row", [("536366,22633,HAND WARMER,6\n", 2),
                                      ("536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.8", 2),
                                      ("536366,22633,X,6,2010-12-01 08:28:00,1.85,1,UK,x\n", 2)])
def test_damaged_csv_lines_are_named_uci(tmp_path, tail, row):
    path = tmp_path / "uci.csv"
    path.write_text(UCI_HEADER + UCI_LINE + tail)
    with pytest.raises(InputError, match="fields where the header has 8") as info:
        import_files(Workspace(":memory:"), path, "online_retail")
    assert info.value.location.row == row


def test_duplicated_header_column_is_refused(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("order_id,created_at,total,total\no1,2024-01-01 10:00,5,6\n")
    with pytest.raises(InputError, match="'total' appears twice in the header"):
        import_files(Workspace(":memory:"), path, "generic", currency="EUR")


def test_semicolon_files_still_read(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("order_id;created_at;total\no1;2024-01-01 10:00;5.5\n")
    ws = Workspace(":memory:")
    import_files(ws, path, "generic", currency="EUR")
    assert ws.con.execute("SELECT total FROM orders").fetchone()[0] == 5.5


def test_schema_version_that_is_not_a_number(tmp_path):
    path = tmp_path / "ws.duckdb"
    Workspace(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = 'one' WHERE key = 'schema_version'")
    with pytest.raises(WorkspaceError, match="schema version 'one'"):
        Workspace(path)


@pytest.mark.parametrize("call", [
    lambda ws: __import__("aovlab").histogram(ws, fence_k=-1),
    lambda ws: __import__("aovlab").histogram(ws, fence_k=float("nan")),
    lambda ws: __import__("aovlab").histogram(ws, bins=100_000_000),
    lambda ws: __import__("aovlab").histogram(ws, bins=0),
    lambda ws: __import__("aovlab").kpis(ws, trim=float("nan")),
])
def test_option_bounds(call):
    ws = Workspace(":memory:")
    import_frame(ws, _orders(), currency="EUR")
    with pytest.raises(AovlabError):
        call(ws)


def test_discount_lines_may_carry_a_negative_price():
    ws = Workspace(":memory:")
    lines = _lines(product_id=["x", None], quantity=[1.0, 1.0], unit_price=[20.0, -5.0],
                   line_type=["product", "discount"])
    import_frame(ws, lines, kind="lines", currency="EUR")
    assert ws.con.execute("SELECT gross_sales, discounts FROM orders").fetchone() == (20.0, 5.0)


@pytest.mark.parametrize("text,columns", [
    ("order_id\tname, full\ttotal\no1\tBob, X\t5.5\n", ["order_id", "name, full", "total"]),
    ("order_id|name, full|total\no1|Bob, X|5.5\n", ["order_id", "name, full", "total"]),
    ("order_id;total, EUR\n1;12,50\n2;3,10\n", ["order_id", "total, EUR"]),
    ("order_id,created_at,total\no1,2024-01-01,5\n", ["order_id", "created_at", "total"]),
])
def test_the_delimiter_is_the_one_every_line_agrees_on(tmp_path, text, columns):
    from aovlab.importers.reading import csv_header

    path = tmp_path / "f.csv"
    path.write_text(text)
    assert csv_header(path)[0] == columns


def test_currency_codes_are_iso_4217():
    ws = Workspace(":memory:")
    with pytest.raises(InputError, match="not an ISO 4217 code") as info:
        import_frame(ws, _orders(), currency="AUS")
    assert info.value.location.column == "currency" and "AUD" in info.value.fix
    import_frame(ws, _orders(), currency="AUD")
    with pytest.raises(AovlabError, match="ISO 4217"):
        __import__("aovlab").kpis(ws, currency="AUS")
    assert __import__("aovlab").kpis(ws, currency="aud").table.orders.iloc[0] == 1
