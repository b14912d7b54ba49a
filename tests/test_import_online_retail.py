"""UCI Online Retail / Online Retail II against the datasets' published figures."""

from __future__ import annotations

import gzip

import pytest
from tests.conftest import shared_file

from aovlab import AovlabError, Workspace, import_files
from aovlab.importers import bundled_online_retail


@pytest.fixture(scope="module")
def uci():
    ws = Workspace(":memory:")
    summary = import_files(ws, bundled_online_retail(), "online_retail")
    yield ws, summary
    ws.close()


def q(ws, sql):
    return ws.con.execute(sql).fetchone()


def test_published_totals(uci):
    ws, summary = uci
    assert summary.rows_read == 541_909
    assert ws.count("order_lines") == 541_909
    # Σ Quantity × UnitPrice over all lines, as published for this dataset
    assert round(q(ws, "SELECT sum(quantity * unit_price) FROM order_lines")[0], 2) == 9_747_747.93
    assert round(q(ws, "SELECT sum(total) FROM orders")[0], 2) == 9_747_747.93
    assert q(ws, "SELECT sum(quantity) FROM order_lines")[0] == 5_176_450
    assert ws.count("orders") == 25_900  # invoices
    assert q(ws, "SELECT count(*) FROM orders WHERE status = 'cancelled'")[0] == 3_836
    assert q(ws, "SELECT count(*) FROM orders WHERE order_id LIKE 'A%'")[0] == 3
    assert ws.count("customers") == 4_372
    assert q(ws, "SELECT count(DISTINCT country) FROM orders")[0] == 38
    assert q(ws, "SELECT count(DISTINCT product_id) FROM order_lines")[0] == 4_070


def test_rules(uci):
    ws, _ = uci
    # every cancellation line is negative, and cancellations are kept, not dropped
    assert q(ws, "SELECT count(*) FROM order_lines WHERE starts_with(order_id, 'C')")[0] == 9_288
    # postage codes become shipping, never merchandise
    assert q(ws, "SELECT count(*) FROM order_lines WHERE product_id IN ('POST','DOT','C2') "
                 "AND line_type <> 'shipping'")[0] == 0
    # first invoice of the file, checked by hand: 7 lines, 15.30+20.34+22.00+20.34+20.34+15.30+25.50
    row = q(ws, "SELECT gross_sales, units, customer_id, country, status, currency, "
                "CAST(created_at AT TIME ZONE 'UTC' AS VARCHAR), order_date "
                "FROM orders WHERE order_id = '536365'")
    assert row[0] == pytest.approx(139.12)
    assert row[1:6] == (40, "17850", "United Kingdom", "placed", "GBP")
    assert row[6].startswith("2010-12-01 08:26:00")  # UK winter time = UTC
    assert str(row[7]) == "2010-12-01"


def test_reimport_is_a_no_op(uci):
    ws, _ = uci
    before = [ws.count(t) for t in ("orders", "order_lines", "products", "customers")]
    again = import_files(ws, bundled_online_retail(), "online_retail")
    assert again.orders_added == 0 and again.lines_added == 0
    assert again.tables["orders"].changed == 0
    assert [ws.count(t) for t in ("orders", "order_lines", "products", "customers")] == before


def test_bundled_copy_is_the_shared_file():
    shared = shared_file("online_retail", "online_retail.parquet")
    assert shared.read_bytes() == bundled_online_retail().read_bytes()


def test_csv_gz_gives_the_same_orders(tmp_path):
    path = shared_file("online_retail", "online_retail.csv.gz")
    ws = Workspace(":memory:")
    import_files(ws, path, "uci")
    assert ws.count("orders") == 25_900
    assert round(q(ws, "SELECT sum(total) FROM orders")[0], 2) == 9_747_747.93


def test_online_retail_ii():
    path = shared_file("online_retail_ii", "online_retail_ii_2009_2010.parquet")
    ws = Workspace(":memory:")
    s = import_files(ws, path, "online_retail_ii")
    assert s.rows_read == 525_461
    assert ws.count("orders") == 28_816
    assert round(q(ws, "SELECT sum(quantity * unit_price) FROM order_lines")[0], 2) == 9_539_484.63
    assert ws.count("customers") == 4_383


HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
GOOD = [
    "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n",
    "536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,,United Kingdom\n",
]


@pytest.mark.parametrize("bad,row,column", [
    ("536367,22633,X,six,2010-12-01 08:28:00,1.85,17850,UK\n", 4, "Quantity"),
    ("536367,22633,X,6,2010-13-01 08:28:00,1.85,17850,UK\n", 4, "InvoiceDate"),
    ("536367,22633,X,6,2010-12-01 08:28:00,£1.85,17850,UK\n", 4, "UnitPrice"),
    (",22633,X,6,2010-12-01 08:28:00,1.85,17850,UK\n", 4, "InvoiceNo"),
])
def test_malformed_rows_name_row_and_column(tmp_path, bad, row, column):
    ws = Workspace(":memory:")
    import_files(ws, _write(tmp_path / "ok.csv", GOOD), "uci")
    before = ws.count("orders"), ws.count("order_lines")
    path = _write(tmp_path / "bad.csv", GOOD + [bad])
    with pytest.raises(AovlabError) as info:
        import_files(ws, path, "uci")
    msg = str(info.value)
    assert f"row {row}" in msg and repr(column) in msg and str(path) in msg
    assert "Fix:" in msg
    assert (ws.count("orders"), ws.count("order_lines")) == before  # nothing half-imported


@pytest.mark.parametrize("content", [
    "", HEADER, "just some text\nwithout columns\n",
    HEADER + '536365,"85123A,WHITE,6,2010-12-01 08:26:00,2.55,17850,UK\n',
    HEADER + "536365,85123A,WHITE,6,2010-12-01 08:26:00\n",
])
def test_unreadable_files(tmp_path, content):
    ws = Workspace(":memory:")
    p = tmp_path / "f.csv"
    p.write_text(content)
    with pytest.raises(AovlabError):
        import_files(ws, p, "uci")
    assert ws.count("orders") == 0


def test_gzip_and_missing_file(tmp_path):
    ws = Workspace(":memory:")
    p = tmp_path / "f.csv.gz"
    with gzip.open(p, "wt") as f:
        f.write(HEADER + "".join(GOOD))
    assert import_files(ws, p, "uci").orders_added == 2
    with pytest.raises(AovlabError, match="does not exist"):
        import_files(ws, tmp_path / "nope.csv", "uci")


def _write(path, lines):
    path.write_text(HEADER + "".join(lines))
    return path
