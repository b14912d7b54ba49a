"""Generic CSV/Parquet with a mapping file, and frames from pandas, polars and Arrow."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from aovlab import AovlabError, InputError, MappingError, Workspace, import_files, import_frame

LINES_CSV = """Order,Date,Customer,SKU,Qty,Price,Ship,State
1001,03.01.2024 10:15,c1,A,2,10.00,4.90,paid
1001,03.01.2024 10:15,c1,B,1,5.50,,paid
1002,04.01.2024 23:30,,A,1,10.00,0,voided
"""

MAPPING = """kind = "lines"
timezone = "Europe/Berlin"
currency = "eur"
date_format = "%d.%m.%Y %H:%M"
source = "erp"

[columns]
order_id = "Order"
created_at = "Date"
customer_id = "Customer"
product_id = "SKU"
quantity = "Qty"
unit_price = "Price"
shipping = "Ship"
status = "State"

[status]
paid = "placed"
voided = "cancelled"
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "lines.csv").write_text(LINES_CSV)
    (tmp_path / "map.toml").write_text(MAPPING)
    return tmp_path


def test_lines_with_mapping(files):
    ws = Workspace(":memory:")
    s = import_files(ws, files / "lines.csv", "generic", mapping=files / "map.toml")
    assert (s.orders_added, s.lines_added, s.rows_read) == (2, 3, 3)
    o = ws.con.execute(
        "SELECT order_id, source, customer_id, gross_sales, shipping, total, units, status, "
        "currency, CAST(created_at AT TIME ZONE 'UTC' AS VARCHAR), order_date "
        "FROM orders ORDER BY 1").fetchall()
    assert o[0][:9] == ("1001", "erp", "c1", 25.5, 4.9, 30.4, 3.0, "placed", "EUR")
    assert o[0][9].startswith("2024-01-03 09:15:00")  # Berlin is UTC+1 in January
    assert o[1][7] == "cancelled" and o[1][2] is None
    # 23:30 in Berlin on 4 January is still 4 January locally (22:30 UTC)
    assert str(o[1][10]) == "2024-01-04"


def test_parquet_orders_and_reimport(tmp_path):
    df = pd.DataFrame({"order_id": ["a", "b"], "created_at": ["2024-05-01T10:00:00Z"] * 2,
                       "total": [12.0, 30.0], "shipping": [2.0, 0.0], "currency": ["USD"] * 2})
    p = tmp_path / "orders.parquet"
    df.to_parquet(p)
    ws = Workspace(":memory:")
    assert import_files(ws, p, "parquet").orders_added == 2
    gross = ws.con.execute("SELECT sum(gross_sales) FROM orders").fetchone()[0]
    assert gross == pytest.approx(40.0)  # total − shipping − tax + discounts
    assert import_files(ws, p, "parquet").orders_added == 0


@pytest.mark.parametrize("maker", [
    lambda d: d, lambda d: pl.from_pandas(d), lambda d: pa.Table.from_pandas(d)])
def test_frames(maker):
    d = pd.DataFrame({"order_id": ["x1", "x2"], "created_at": ["2024-01-01 10:00"] * 2,
                      "gross_sales": [10.0, 20.0], "discounts": [1.0, 0.0]})
    ws = Workspace(":memory:")
    s = import_frame(ws, maker(d), currency="GBP", timezone="Europe/London")
    assert s.orders_added == 2
    assert ws.con.execute("SELECT sum(total) FROM orders").fetchone()[0] == pytest.approx(29.0)


@pytest.mark.parametrize("mapping,needle", [
    ('kind = "rows"', "kind must be"),
    ('[columns]\norder_nr = "Order"', "unknown canonical column"),
    ('[status]\npaid = "done"', "status mapped to"),
    ('colour = "red"', "unknown setting"),
    ("kind = ", "not valid TOML"),
])
def test_bad_mappings(files, mapping, needle):
    (files / "bad.toml").write_text(mapping)
    with pytest.raises(MappingError, match=needle):
        import_files(Workspace(":memory:"), files / "lines.csv", mapping=files / "bad.toml")


@pytest.mark.parametrize("edit,needle", [
    (lambda t: t.replace("Qty", "Quantity"), "'Qty'"),
    (lambda t: t.replace("2,10.00", "two,10.00"), "row 1"),
    (lambda t: t.replace(",4.90,", ",-4.90,"), "shipping is negative"),
    (lambda t: t.replace("04.01.2024", "44.01.2024"), "date and time"),
    (lambda t: t.replace(",voided", ",lost"), "unknown order status"),
    (lambda t: t.replace("1002,", ",", 1), "required but empty"),
    (lambda t: t.replace(",1,5.50,", ",nan,5.50,"), "row 2"),
    (lambda t: t.replace(",1,5.50,", ",1,1e400,"), "'Price'"),
])
def test_bad_rows_change_nothing(files, edit, needle):
    ws = Workspace(":memory:")
    other = pd.DataFrame({"order_id": ["keep"], "created_at": ["2024-01-01"],
                          "total": [1.0]})
    import_frame(ws, other, currency="EUR")
    (files / "bad.csv").write_text(edit(LINES_CSV))
    with pytest.raises(InputError, match=needle) as info:
        import_files(ws, files / "bad.csv", mapping=files / "map.toml")
    assert "bad.csv" in str(info.value) and "Fix:" in str(info.value)
    assert ws.count("orders") == 1 and ws.count("order_lines") == 0


@pytest.mark.parametrize("stamp,ok", [
    ("2025-05-11 09:55:16 -0400", True), ("2025-05-11T09:55:16-04:00", True),
    ("2025-05-11 09:55:16Z", True), ("2025-05-11 09:55:16 -9900", False)])
def test_offsets(tmp_path, stamp, ok):
    p = tmp_path / "o.csv"
    p.write_text(f"order_id,created_at,total,currency\n#1001,{stamp},5,EUR\n")
    ws = Workspace(":memory:")
    if not ok:
        with pytest.raises(InputError, match="date and time"):
            import_files(ws, p)
        return
    import_files(ws, p)  # '#1001' must not be read as a comment
    utc, day = ws.con.execute("SELECT CAST(created_at AT TIME ZONE 'UTC' AS VARCHAR), "
                              "order_date FROM orders").fetchone()
    assert utc.startswith("2025-05-11 13:55:16" if "-04" in stamp else "2025-05-11 09:55:16")
    assert str(day) == "2025-05-11"


def test_duplicate_orders_in_one_file(tmp_path):
    p = tmp_path / "o.csv"
    p.write_text("order_id,created_at,total,currency\n1,2024-01-01,5,EUR\n1,2024-01-02,6,EUR\n")
    with pytest.raises(InputError, match="more than once") as info:
        import_files(Workspace(":memory:"), p)
    assert "row 1" in str(info.value)


def test_an_order_stored_with_other_values_is_refused_and_named():
    ws = Workspace(":memory:")
    d = pd.DataFrame({"order_id": ["a", "b"], "created_at": ["2024-01-01"] * 2,
                      "total": [5.0, 6.0]})
    import_frame(ws, d, currency="EUR")
    d["total"] = [5.0, 7.0]
    with pytest.raises(InputError) as info:
        import_frame(ws, d, currency="EUR", name="later.csv")
    msg = str(info.value)
    assert "order 'b' of source 'generic'" in msg and "gross_sales: 6.0 there, 7.0 here" in msg
    assert "row 2" in msg and "1 of this import's 2 orders rows" in msg
    assert "--source later" in info.value.fix
    assert ws.con.execute("SELECT list(total ORDER BY order_id) FROM orders").fetchone()[0] \
        == [5.0, 6.0]
    # under a source of its own it is another store's order b, and both are kept
    s = import_frame(ws, d, currency="EUR", source="other")
    assert s.orders_added == 2 and ws.count("orders") == 4


def test_a_product_or_customer_that_changed_is_kept_and_reported():
    """Descriptions drift (a product renamed): the stored row is kept, the import goes on."""
    ws = Workspace(":memory:")

    def stage(name):
        def run(ctx):
            ctx.emit("products", f"SELECT 'p.csv' AS _file, 1 AS _row, 'sku1' AS product_id, "
                                 f"'{name}' AS name")
        return run

    ws.run_import("test", ["p.csv"], stage("Tee"), source="shop")
    s = ws.run_import("test", ["p.csv"], stage("Tee (blue)"), source="shop")
    assert s.tables["products"].changed == 1 and any("different values" in n for n in s.notes)
    assert ws.con.execute("SELECT name FROM products").fetchall() == [("Tee",)]


def test_a_source_name_is_checked():
    ws = Workspace(":memory:")
    d = pd.DataFrame({"order_id": ["a"], "created_at": ["2024-01-01"], "total": [5.0]})
    for bad in ("AU Store", "", "-x", "a" * 65, "x'y"):
        with pytest.raises(AovlabError, match="short lower-case name"):
            import_frame(ws, d, currency="EUR", source=bad or None, mapping={"source": bad})
    assert ws.count("orders") == 0


def test_missing_currency_and_unknown_format(files):
    with pytest.raises(InputError, match="currency"):
        import_frame(Workspace(":memory:"), pd.DataFrame(
            {"order_id": ["a"], "created_at": ["2024-01-01"], "total": [1.0]}))
    with pytest.raises(AovlabError, match="unknown import format"):
        import_files(Workspace(":memory:"), files / "lines.csv", "woocommerce")


def test_several_files_in_one_atomic_import(files):
    (files / "more.csv").write_text(LINES_CSV.replace("1001", "2001").replace("1002", "2002"))
    ws = Workspace(":memory:")
    s = import_files(ws, [files / "lines.csv", files / "more.csv"], mapping=files / "map.toml")
    assert s.orders_added == 4 and s.lines_added == 6
    (files / "broken.csv").write_text(LINES_CSV.replace("1001", "3001").replace("10.00", "x", 1))
    with pytest.raises(InputError, match="broken.csv"):
        import_files(ws, [files / "lines.csv", files / "broken.csv"], mapping=files / "map.toml")
    assert ws.count("orders") == 4


def test_unknown_option_is_refused(files):
    with pytest.raises(AovlabError, match="no option currency"):
        import_files(Workspace(":memory:"), files / "lines.csv", "online_retail", currency="EUR")


def test_workspace_refuses_lines_without_orders():
    ws = Workspace(":memory:")

    def stage(ctx):
        ctx.emit("order_lines", "SELECT 'f.csv' AS _file, CAST(7 AS BIGINT) AS _row, "
                 "'nope' AS order_id, 1 AS line_no, 'product' AS line_type, 1.0 AS quantity, "
                 "2.0 AS unit_price")

    with pytest.raises(InputError, match="neither in this import") as info:
        ws.run_import("test", ["f.csv"], stage)
    assert "row 7" in str(info.value)
    assert ws.count("order_lines") == 0
