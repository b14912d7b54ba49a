"""Shopify "Export orders" importer: the two real exports, the mapping rules, and fuzz."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import tempfile
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import shared_file

import aovlab
from aovlab.errors import AovlabError, InputError
from aovlab.importers import import_files
from aovlab.storage import Workspace

TABLES = ("orders", "order_lines", "products", "customers", "traffic")


def _counts(ws: Workspace) -> dict[str, int]:
    return {t: ws.count(t) for t in TABLES} | {"imports": len(ws.imports())}


def _q(ws: Workspace, sql: str, *params):
    return ws.con.execute(sql, list(params)).fetchall()


def _read(path: Path) -> list[dict[str, str]]:
    """The export parsed with the csv module, independently of the importer."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _sum(rows: list[dict[str, str]], col: str) -> Decimal:
    return sum((Decimal(r[col]) for r in rows if r[col].strip()), Decimal(0))


def _cents(x: float) -> Decimal:
    return Decimal(str(round(x, 2)))


# -- real data: the development store (79 columns, one row per line item) -------------------


@pytest.fixture(scope="module")
def devstore():
    path = shared_file("shopify", "devstore_orders_export.csv")
    ws = Workspace(":memory:")
    summary = import_files(ws, path, "shopify")
    yield ws, summary, _read(path), path
    ws.close()


def test_devstore_reference_sums(devstore):
    ws, summary, rows, _ = devstore
    assert len(rows[0]) == 79 and len(rows) == 40
    assert summary.rows_read == 40 and summary.skipped == {}
    assert ws.count("orders") == 19 == len({r["Name"] for r in rows})
    assert ws.count("order_lines") == 40
    net, total = _q(ws, "SELECT sum(gross_sales - discounts), sum(total) FROM orders")[0]
    assert _cents(net) == _sum(rows, "Subtotal") == Decimal("14089.04")
    assert _cents(total) == _sum(rows, "Total") == Decimal("14089.04")
    assert dict(_q(ws, "SELECT status, count(*) FROM orders GROUP BY ALL")) == {"placed": 19}
    assert _q(ws, "SELECT DISTINCT currency, channel FROM orders") == [
        ("EUR", "shopify_draft_order")]
    # Units are Σ Lineitem quantity; line values add up to each order's gross sales.
    assert _q(ws, "SELECT sum(units) FROM orders")[0][0] == sum(
        int(r["Lineitem quantity"]) for r in rows)
    assert _q(ws, """SELECT count(*) FROM orders o WHERE abs(o.gross_sales - (
                       SELECT sum(quantity * unit_price - line_discount) FROM order_lines l
                       WHERE l.order_id = o.order_id)) > 0.005""")[0][0] == 0
    lines_per_order = Counter(r["Name"] for r in rows)
    assert dict(_q(ws, "SELECT order_id, count(*) FROM order_lines GROUP BY ALL")) == dict(
        lines_per_order)


def test_devstore_customers_are_hashed(devstore):
    ws, _, rows, _ = devstore
    emails = {r["Email"].strip().lower() for r in rows if r["Email"].strip()}
    ids = {hashlib.md5(e.encode()).hexdigest() for e in emails}
    assert len(ids) == 3  # Russel.winfield@ and russel.winfield@ would be one customer
    assert {r[0] for r in _q(ws, "SELECT customer_id FROM customers")} == ids
    guests = {r["Name"] for r in rows if not r["Email"].strip()}
    assert len(guests) == 10
    assert {r[0] for r in _q(ws, "SELECT order_id FROM orders WHERE customer_id IS NULL")} \
        == guests
    # the e-mail address itself is stored nowhere
    for table in ("orders", "customers"):
        text = str(ws.table(table).to_pylist())
        assert "@" not in text and "example.com" not in text


def test_devstore_hand_checked_order(devstore):
    # #1013, rows 30-31: pending (Net 7 payment terms), Gift Card - $100 at 102.00 and
    # Selling Plans Ski Wax at 25.59, Subtotal = Total = 127.59 EUR, karine.ruby@example.com,
    # billed in Ottawa, CA, created 2025-05-16 02:36:49 -0400.
    ws, _, _, path = devstore
    o = ws.con.execute("SELECT * FROM orders WHERE order_id = '#1013'").fetchdf().iloc[0]
    assert o["source"] == "shopify" and o["status"] == "placed"
    assert o["customer_id"] == hashlib.md5(b"karine.ruby@example.com").hexdigest()
    assert o["created_at"].to_pydatetime() == datetime(2025, 5, 16, 6, 36, 49, tzinfo=UTC)
    assert o["order_date"].date() == date(2025, 5, 16)
    assert (o["currency"], o["country"], o["channel"]) == ("EUR", "CA", "shopify_draft_order")
    assert (o["gross_sales"], o["discounts"], o["shipping"], o["tax"], o["returns"],
            o["total"], o["units"]) == (127.59, 0, 0, 0, 0, 127.59, 2)
    assert o["coupon"] is None and o["device"] is None
    lines = _q(ws, "SELECT line_no, line_type, product_id, name, quantity, unit_price, "
                   "line_discount FROM order_lines WHERE order_id = '#1013' ORDER BY line_no")
    assert lines == [
        (1, "product", "Gift Card - $100", "Gift Card - $100", 1.0, 102.0, 0.0),
        (2, "product", "Selling Plans Ski Wax - Selling Plans Ski Wax",
         "Selling Plans Ski Wax - Selling Plans Ski Wax", 1.0, 25.59, 0.0),
    ]
    # the SKU is the product id when there is one
    assert _q(ws, "SELECT DISTINCT product_id FROM order_lines WHERE order_id = '#1012'") == [
        ("sku-untracked-1",)]
    assert _q(ws, "SELECT country, region, city FROM customers WHERE customer_id = ?",
              o["customer_id"]) == [("CA", "ON", "Ottawa")]


def test_devstore_reimport_adds_nothing(devstore):
    ws, _, _, path = devstore
    before = _counts(ws)
    again = import_files(ws, path, "shopify")
    assert again.orders_added == 0 and again.lines_added == 0
    assert again.tables["orders"].changed == 0 and again.tables["order_lines"].changed == 0
    assert again.tables["customers"].changed == 0
    assert _counts(ws) == before | {"imports": before["imports"] + 1}


# -- real data: the Australian store (10 columns, prices include GST) ---------------------


@pytest.fixture(scope="module")
def austore():
    path = shared_file("shopify", "au_store_orders_export.csv")
    ws = Workspace(":memory:")
    summary = import_files(ws, path, "shopify", currency="AUD")
    yield ws, summary, _read(path), path
    ws.close()


def test_au_reference_sums(austore):
    ws, summary, rows, _ = austore
    assert len(rows[0]) == 10 and summary.rows_read == 1057 and summary.skipped == {}
    assert ws.count("orders") == 1057 and ws.count("order_lines") == 0
    assert ws.count("customers") == 0  # no e-mail column: every order is a guest's
    net, total, tax = _q(ws, "SELECT sum(gross_sales - discounts), sum(total), sum(tax) "
                             "FROM orders")[0]
    assert _sum(rows, "Subtotal") == Decimal("53823.55")  # GST included
    assert _cents(total) == _sum(rows, "Total") == Decimal("68141.45")
    # GST is inside the prices: Shopify's gross sales exclude it, and it is the tax
    assert _cents(tax) == _sum(rows, "Taxes")
    # On orders taxed in full at 10% (Taxes = Total / 11; others hold GST-free goods) the
    # merchandise without GST is Subtotal / 1.1, to the cent Taxes is rounded to
    full = {r["Name"]: float(r["Subtotal"]) for r in rows
            if abs(float(r["Taxes"]) - float(r["Total"]) / 11) <= 0.005}
    assert len(full) > 900
    for name, n in _q(ws, "SELECT order_id, gross_sales - discounts FROM orders"):
        if name in full:
            assert n == pytest.approx(full[name] / 1.1, abs=0.011), name
    assert round(net / 1057, 2) == 46.38  # Shopify's AOV; 50.92 with the GST left in
    assert dict(_q(ws, "SELECT status, count(*) FROM orders GROUP BY ALL")) == {"placed": 1057}
    assert _q(ws, "SELECT DISTINCT currency, country FROM orders") == [("AUD", "AU")]
    assert round(total / 1057, 2) == 64.47  # AOV as PROVENANCE.md states it
    assert _q(ws, "SELECT min(order_date), max(order_date) FROM orders")[0] == (
        date(2014, 9, 4), date(2017, 5, 8))
    assert _q(ws, "SELECT count(*) FROM orders WHERE units IS NOT NULL")[0][0] == 0
    # total = net + shipping + tax on every order; each order's total is the file's Total
    assert _q(ws, "SELECT count(*) FROM orders WHERE abs(total - (gross_sales - discounts "
                  "+ shipping + tax)) > 0.005")[0][0] == 0
    by_name = {r["Name"]: Decimal(r["Total"]) for r in rows}
    assert {k: _cents(v) for k, v in _q(ws, "SELECT order_id, total FROM orders")} == by_name
    # 1,039 orders with GST included, 17 where the shipping charge was waived, and #1848 with
    # no shipping and no GST at all
    assert summary.notes[0].startswith("1039 orders have prices that include tax")
    assert summary.notes[1].startswith("17 orders have a waived or discounted shipping")
    assert _q(ws, "SELECT count(*) FROM orders WHERE shipping = 0")[0][0] == 21


def test_au_hand_checked_orders(austore):
    ws, _, _, _ = austore
    # #1030,88.88,11.75,9.15,100.63,2014-11-25 14:45:53 +1100,Darwin,'0812,NT,AU
    row = _q(ws, "SELECT gross_sales, discounts, shipping, tax, returns, total, created_at, "
                 "order_date, country, currency, customer_id, status, channel "
                 "FROM orders WHERE order_id = '#1030'")[0]
    # GST 9.15 split over goods and shipping in proportion: 88.88 and 11.75 times 1 − 9.15 /
    # 100.63 (Shopify reports both without the tax): 80.80 and 10.68
    assert row[:6] == pytest.approx((88.88 / 1.1, 0, 11.75 / 1.1, 9.15, 0, 100.63), abs=0.005)
    assert row[6] == datetime(2014, 11, 25, 3, 45, 53, tzinfo=UTC)
    assert row[7:] == (date(2014, 11, 25), "AU", "AUD", None, "placed", None)
    # #1409: Subtotal 17.95, Shipping 8, Taxes 1.63, Total 17.95 — shipping waived, so the
    # GST is all in the goods
    assert _q(ws, "SELECT gross_sales, shipping, tax, total FROM orders "
                  "WHERE order_id = '#1409'") == [(pytest.approx(16.32), 0.0, 1.63, 17.95)]
    # a late-evening order: the local date as written, not the UTC date
    # (#1009, 2014-09-19 09:53:32 +1000 is 2014-09-18 23:53:32 UTC)
    assert _q(ws, "SELECT order_date, created_at FROM orders WHERE order_id = '#1009'") == [
        (date(2014, 9, 19), datetime(2014, 9, 18, 23, 53, 32, tzinfo=UTC))]


def test_au_reimport_adds_nothing(austore):
    ws, _, _, path = austore
    before = _counts(ws)
    again = import_files(ws, path, "shopify", currency="AUD")
    assert again.orders_added == 0 and again.tables["orders"].changed == 0
    assert _counts(ws) == before | {"imports": before["imports"] + 1}


def test_au_needs_a_currency():
    path = shared_file("shopify", "au_store_orders_export.csv")
    ws = Workspace(":memory:")
    with pytest.raises(InputError) as info:
        import_files(ws, path, "shopify")
    assert "no Currency column" in str(info.value) and "--currency" in str(info.value)
    assert info.value.location.column == "Currency"
    with pytest.raises(InputError, match="three-letter"):
        import_files(ws, path, "shopify", currency="A$")
    assert _counts(ws)["orders"] == 0


def test_a_second_store_under_the_same_source_is_refused_whole():
    """Both stores number from #1001: the AU store's #1005 must never get the devstore's
    snowboard lines (it did: 26 lines joined AU orders, exit 0)."""
    dev = shared_file("shopify", "devstore_orders_export.csv")
    au = shared_file("shopify", "au_store_orders_export.csv")
    for first, second, extra in ((au, dev, {}), (dev, au, {"currency": "AUD"})):
        ws = Workspace(":memory:")
        import_files(ws, first, "shopify", **({"currency": "AUD"} if first == au else {}))
        before = _q(ws, "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM "
                        "order_lines)")
        with pytest.raises(InputError) as info:
            import_files(ws, second, "shopify", **extra)
        assert "of source 'shopify' is already in the workspace with other values" in str(
            info.value)
        assert "13 of this import's" in str(info.value) and "--source" in info.value.fix
        assert _q(ws, "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM "
                      "order_lines)") == before


def test_two_stores_share_a_workspace_under_their_own_sources():
    dev = shared_file("shopify", "devstore_orders_export.csv")
    au = shared_file("shopify", "au_store_orders_export.csv")
    ws = Workspace(":memory:")
    import_files(ws, au, "shopify", currency="AUD", source="au-store")
    s = import_files(ws, dev, "shopify", source="devstore")
    assert s.orders_added == 19 and s.lines_added == 40 and ws.count("orders") == 1076
    # every line sits on its own store's order: none on the AU store's (which has no lines)
    assert _q(ws, "SELECT source, count(*) FROM order_lines GROUP BY 1") == [("devstore", 40)]
    assert _q(ws, "SELECT total, currency FROM orders "
                  "WHERE source = 'au-store' AND order_id = '#1005'") == [(91.9, "AUD")]
    # per-store AOV: the source is a dimension and a filter
    k = aovlab.kpis(ws, by=["source"]).table.set_index("source")
    assert k.loc["au-store", "orders"] == 1057 and k.loc["devstore", "currency"] == "EUR"


# -- the mapping rules, on a small hand-written export -----------------------------------

HEADER = ["Name", "Email", "Financial Status", "Currency", "Subtotal", "Shipping", "Taxes",
          "Total", "Discount Code", "Discount Amount", "Created at", "Lineitem quantity",
          "Lineitem name", "Lineitem price", "Lineitem sku", "Lineitem discount",
          "Billing City", "Billing Province", "Billing Country", "Shipping Country",
          "Cancelled at", "Refunded Amount", "Tags", "Payment Method", "Source"]
T0 = "2025-05-11 09:55:16 -0400"
T1 = "2025-05-12 23:30:00 -0400"  # 2025-05-13 03:30 UTC: local date stays the 12th


def _row(name, *, email="", fin="paid", cur="USD", sub="", ship="", tax="", total="",
         code="", disc="", at=T0, qty="1", item="Tee", price="", sku="", ldisc="0.00",
         city="", prov="", country="", ship_country="", cancelled="", refunded="",
         tags="", gateway="shopify_payments", source="web"):
    return [name, email, fin, cur, sub, ship, tax, total, code, disc, at, qty, item, price,
            sku, ldisc, city, prov, country, ship_country, cancelled, refunded, tags,
            gateway, source]


def _more(name, *, email="", at=T0, qty="1", item="Cap", price="", sku="", ldisc="0.00"):
    """A follow-on line item row: order-level fields blank, as Shopify writes them."""
    return _row(name, email=email, fin="", cur="", at=at, qty=qty, item=item, price=price,
                sku=sku, ldisc=ldisc, gateway="", source="")


GOOD = [
    # tax on top, discount code: lines 2×30 + 40 = 100, −10 discount, +5 shipping, +9.50 tax
    _row("#1001", email=" A@Example.com ", sub="90.00", ship="5.00", tax="9.50",
         total="104.50", code="SAVE10", disc="10.00", qty="2", price="30.00", sku="TEE-1",
         ldisc="5.00", city="Ottawa", prov="ON", country="CA"),
    _more("#1001", email=" A@Example.com ", item="Cap", price="40.00", ldisc="5.00"),
    _row("#1002", email="a@example.com", fin="refunded", sub="20.00", ship="0", tax="0",
         total="20.00", price="20.00", refunded="20.00", at=T1, ship_country="us"),
    _row("#1003", fin="voided", sub="15", ship="0", tax="0", total="15", price="15",
         cancelled="2025-05-12 10:00:00 -0400"),
    _row("#1004", sub="15", ship="0", tax="0", total="15", price="15", gateway="bogus"),
    _row("#1005", sub="15", ship="0", tax="0", total="15", price="15", tags="vip, Test"),
    _row("#1006", sub="15", ship="0", tax="0", total="15", price="15", tags="testing, vip",
         fin="partially_refunded", refunded="5.00", source="pos"),
    # prices include tax (Total = Subtotal + Shipping)
    _row("#1007", sub="55.00", ship="10.00", tax="5.00", total="65.00", price="55.00"),
    # tax on top, shipping waived (Total = Subtotal + Taxes)
    _row("#1008", sub="50.00", ship="8.00", tax="5.00", total="55.00", price="50.00"),
    # a tip the export does not itemise (Total above everything)
    _row("#1009", sub="50.00", ship="0", tax="5.00", total="60.00", price="50.00",
         fin="pending"),
]


def _csv(rows, header=HEADER) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _write(path: Path, rows, header=HEADER) -> Path:
    path.write_text(_csv(rows, header), encoding="utf-8")
    return path


def _orders(ws):
    df = ws.con.execute("SELECT * FROM orders ORDER BY order_id").fetchdf()
    return {r["order_id"]: r for r in df.to_dict("records")}


def test_mapping_rules(tmp_path):
    ws = Workspace(":memory:")
    s = import_files(ws, _write(tmp_path / "x.csv", GOOD), "shopify")
    assert s.rows_read == 10 and s.skipped == {}
    o = _orders(ws)
    a = o["#1001"]
    assert (a["gross_sales"], a["discounts"], a["shipping"], a["tax"], a["total"],
            a["units"], a["coupon"], a["country"], a["channel"]) == (
        100, 10, 5, 9.5, 104.5, 3, "SAVE10", "CA", "web")
    assert a["gross_sales"] - a["discounts"] == 90  # = Subtotal
    assert a["customer_id"] == hashlib.md5(b"a@example.com").hexdigest()
    assert o["#1002"]["customer_id"] == a["customer_id"]  # same person, other spelling
    assert (o["#1002"]["status"], o["#1002"]["returns"]) == ("refunded", 20)
    assert o["#1002"]["country"] == "US"  # shipping country when no billing country
    assert o["#1002"]["order_date"].date() == date(2025, 5, 12)
    assert o["#1003"]["status"] == "cancelled"
    assert o["#1004"]["status"] == "test"  # Bogus Gateway
    assert o["#1005"]["status"] == "test"  # tag "Test"
    assert (o["#1006"]["status"], o["#1006"]["returns"], o["#1006"]["channel"]) == (
        "placed", 5, "pos")  # "testing" is not the tag "test"; partial refund stays placed
    # included tax 5 of 65: goods and shipping without it are 55 and 10 times 12/13
    assert (o["#1007"]["gross_sales"], o["#1007"]["shipping"], o["#1007"]["tax"],
            o["#1007"]["total"]) == pytest.approx((660 / 13, 120 / 13, 5, 65))
    assert _q(ws, "SELECT unit_price FROM order_lines WHERE order_id = '#1007'") == [
        (pytest.approx(660 / 13),)]
    assert (o["#1008"]["shipping"], o["#1008"]["tax"], o["#1008"]["total"]) == (0, 5, 55)
    assert (o["#1009"]["shipping"], o["#1009"]["tax"], o["#1009"]["total"]) == (0, 5, 60)
    assert o["#1009"]["status"] == "placed"
    assert o["#1003"]["customer_id"] is None
    assert len(s.notes) == 3 and s.notes[2].startswith("1 orders have a Total above")
    lines = _q(ws, "SELECT line_no, product_id, name, quantity, unit_price, line_discount "
                   "FROM order_lines WHERE order_id = '#1001' ORDER BY line_no")
    assert lines == [(1, "TEE-1", "Tee", 2.0, 30.0, 5.0), (2, "Cap", "Cap", 1.0, 40.0, 5.0)]
    assert _q(ws, "SELECT country, region, city FROM customers") == [("CA", "ON", "Ottawa")]


def test_several_files_make_one_import(tmp_path):
    one = Workspace(":memory:")
    import_files(one, _write(tmp_path / "all.csv", GOOD), "shopify")
    two = Workspace(":memory:")
    s = import_files(two, [_write(tmp_path / "a.csv", GOOD[:4]),
                           _write(tmp_path / "b.csv", GOOD[4:])], "shopify")
    assert s.rows_read == len(GOOD) and len(two.imports()) == 1
    for table in ("orders", "order_lines", "customers"):
        key = "order_id, line_no" if table == "order_lines" else "2"
        assert _q(one, f"SELECT * FROM {table} ORDER BY {key}") == _q(
            two, f"SELECT * FROM {table} ORDER BY {key}")
    # the same order in two files of one import is refused, naming it
    with pytest.raises(InputError, match="#1001"):
        import_files(Workspace(":memory:"), [tmp_path / "all.csv", tmp_path / "a.csv"],
                     "shopify")


def test_times_without_offset_need_a_timezone(tmp_path):
    rows = [_row("#1", sub="10", total="10", price="10", at="2025-01-15 23:30:00")]
    path = _write(tmp_path / "local.csv", rows)
    ws = Workspace(":memory:")
    with pytest.raises(InputError, match="time zone") as info:
        import_files(ws, path, "shopify")
    assert (info.value.location.row, info.value.location.column) == (1, "Created at")
    import_files(ws, path, "shopify", timezone="Australia/Sydney")
    assert _q(ws, "SELECT created_at, order_date FROM orders") == [
        (datetime(2025, 1, 15, 12, 30, tzinfo=UTC), date(2025, 1, 15))]
    with pytest.raises(InputError, match="time zone"):
        import_files(Workspace(":memory:"), path, "shopify", timezone="Mars/Olympus")


def test_a_refund_of_a_tax_inclusive_order_excludes_its_tax(tmp_path):
    """Refunded Amount includes the tax too: net of returns of a full refund is 0."""
    header = ["Name", "Subtotal", "Shipping", "Taxes", "Total", "Created at",
              "Financial Status", "Refunded Amount"]
    path = _write(tmp_path / "r.csv", [["#9", "110", "0", "10", "110", T0, "refunded", "110"]],
                  header)
    ws = Workspace(":memory:")
    import_files(ws, path, "shopify", currency="AUD")
    assert _q(ws, "SELECT gross_sales, returns, tax, total FROM orders") == [
        (pytest.approx(100.0), pytest.approx(100.0), 10.0, 110.0)]
    k = aovlab.kpis(ws, definition="net_of_returns").table.iloc[0]
    assert k.aov == pytest.approx(0.0, abs=1e-9)


def test_orders_only_export_and_currency_option(tmp_path):
    header = ["Name", "Subtotal", "Shipping", "Taxes", "Total", "Created at", "Currency"]
    rows = [["#7", "10", "2", "1", "13", T0, "gbp"], ["#8", "10", "2", "1", "12", T0, ""]]
    path = _write(tmp_path / "o.csv", rows, header)
    with pytest.raises(InputError, match="Currency is empty") as info:
        import_files(Workspace(":memory:"), path, "shopify")
    assert info.value.location.row == 2
    ws = Workspace(":memory:")
    import_files(ws, path, "shopify", currency="EUR")  # fills the blank only
    assert _q(ws, "SELECT order_id, currency, tax, units FROM orders ORDER BY 1") == [
        ("#7", "GBP", 1.0, None), ("#8", "EUR", 1.0, None)]  # on top; included
    assert "order_lines" not in import_files(ws, path, "shopify", currency="EUR").tables


MONEY_COLS = ["Subtotal", "Shipping", "Taxes", "Total", "Discount Amount", "Refunded Amount",
              "Lineitem quantity", "Lineitem price", "Lineitem discount"]
BAD_NUMBERS = ["abc", "1,50", "€10", "$5", "nan", "inf", "-1", "1.2.3", "--5", "1e400",
               "12 EUR", "0x10", "NaN"]
BAD_TIMES = ["yesterday", "2025-02-30 10:00:00 -0400", "2025-13-01 09:55:16 -0400",
             "11/05/2025 09:55", "2025-05-11 25:00:00 -0400", "2025-05-11 09:55:16 -9900",
             "20250511", "May 11 2025"]
_seq = itertools.count()


def _renamed(rows, prefix):
    return [[prefix + r[0][1:], *r[1:]] for r in rows]


@pytest.fixture(scope="module")
def loaded():
    with tempfile.TemporaryDirectory() as d:
        ws = Workspace(":memory:")
        # other orders already in the workspace, so a partial import would show in the counts
        import_files(ws, _write(Path(d) / "base.csv", _renamed(GOOD, "#9")), "shopify")
        # and the undamaged file imports fine (into another workspace)
        assert import_files(Workspace(":memory:"), _write(Path(d) / "good.csv", GOOD),
                            "shopify").orders_added == 9
        yield Path(d), ws
        ws.close()


def _with(rows, i, **changes):
    rows = [list(r) for r in rows]
    for col, value in changes.items():
        rows[i][HEADER.index(col.replace("_", " "))] = value
    return rows


@pytest.mark.parametrize("rows,row,column,value,words", [
    (_with(GOOD, 0, Total="104,50"), 1, "Total", "104,50", "number"),
    (_with(GOOD, 2, Subtotal="€20"), 3, "Subtotal", "€20", "number"),
    (_with(GOOD, 1, Lineitem_price="abc"), 2, "Lineitem price", "abc", "number"),
    (_with(GOOD, 4, Shipping="nan"), 5, "Shipping", "nan", "number"),
    (_with(GOOD, 4, Taxes="-1"), 5, "Taxes", "-1", "negative"),
    (_with(GOOD, 3, Created_at="2025-02-30 10:00:00 -0400"), 4, "Created at",
     "2025-02-30 10:00:00 -0400", "date and time"),
    (_with(GOOD, 3, Created_at="11/05/2025 09:55"), 4, "Created at", "11/05/2025 09:55",
     "date and time"),
    (_with(GOOD, 3, Created_at="2025-05-11 09:55:16 -9900"), 4, "Created at",
     "2025-05-11 09:55:16 -9900", "date and time"),
    (_with(GOOD, 2, Total=""), 3, "Total", "", "first row of order #1002"),
    (_with(GOOD, 0, Subtotal=""), 1, "Subtotal", "", "first row of order #1001"),
    (_with(GOOD, 1, Name=""), 2, "Name", "", "empty"),
    (_with(GOOD, 1, Total="104.50"), 2, "Total", "#1001", "two rows"),
    (_with(GOOD, 7, Total="50.00"), 8, "Total", "50.00", "Total 50 is less than Subtotal 55"),
    (_with(GOOD, 1, Lineitem_quantity=""), 2, "Lineitem quantity", "", "no quantity"),
    (_with(GOOD, 0, Currency=""), 1, "Currency", "", "Currency is empty"),
])
def test_bad_values_name_file_row_column_value(loaded, tmp_path, rows, row, column, value,
                                               words):
    _, ws = loaded
    before = _counts(ws)
    path = _write(tmp_path / "bad.csv", rows)
    with pytest.raises(InputError) as info:
        import_files(ws, path, "shopify")
    loc, msg = info.value.location, str(info.value)
    assert (loc.file, loc.row, loc.column) == (str(path), row, column)
    assert loc.value == value and words in msg and "Fix:" in msg
    assert _counts(ws) == before


def test_not_a_shopify_export(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("InvoiceNo,StockCode,Quantity\n536365,85123A,6\n")
    with pytest.raises(InputError, match="'Name', 'Subtotal', 'Total', 'Created at'") as info:
        import_files(Workspace(":memory:"), path, "shopify")
    assert info.value.location.column == "Name"
    header = [h for h in HEADER if h != "Lineitem price"]
    rows = [[v for h, v in zip(HEADER, r, strict=True) if h != "Lineitem price"] for r in GOOD]
    with pytest.raises(InputError, match="Lineitem price"):
        import_files(Workspace(":memory:"), _write(tmp_path / "np.csv", rows, header),
                     "shopify")


# -- fuzz: damaged exports never raise anything but AovlabError, never half-import -------

def _first_rows() -> list[int]:
    seen: set[str] = set()
    out = []
    for i, r in enumerate(GOOD):
        if r[0] not in seen:
            seen.add(r[0])
            out.append(i)
    return out


@st.composite
def damaged(draw) -> str:
    """A copy of GOOD with one damage that must be refused."""
    kind = draw(st.sampled_from(["number", "time", "blank_name", "blank_total", "truncate",
                                 "extra_field", "missing_field", "empty", "header_only",
                                 "drop_column", "unclosed_quote", "binary"]))
    rows = [list(r) for r in GOOD]
    i = draw(st.integers(0, len(rows) - 1))
    if kind == "number":
        col = draw(st.sampled_from(MONEY_COLS))
        rows[i][HEADER.index(col)] = draw(st.sampled_from(BAD_NUMBERS))
    elif kind == "time":
        rows[i][HEADER.index("Created at")] = draw(st.sampled_from(BAD_TIMES))
    elif kind == "blank_name":
        rows[i][0] = draw(st.sampled_from(["", " ", "  "]))
    elif kind == "blank_total":
        rows[draw(st.sampled_from(_first_rows()))][HEADER.index("Total")] = ""
    elif kind == "empty":
        return ""
    elif kind == "header_only":
        return _csv([])
    elif kind == "binary":
        return draw(st.sampled_from(["\x00\x01\x02\x03", "PK\x03\x04\x00\x00"]))
    elif kind == "drop_column":
        col = draw(st.sampled_from(["Name", "Total", "Subtotal", "Created at"]))
        j = HEADER.index(col)
        return _csv([r[:j] + r[j + 1:] for r in rows], HEADER[:j] + HEADER[j + 1:])
    lines = _csv(rows).splitlines(keepends=True)
    k = i + 1  # the damaged data line (line 0 is the header)
    line = lines[k].rstrip("\n")
    if kind == "truncate":  # cut before the last comma: at least one field goes missing
        cut = draw(st.integers(1, line.rindex(",")))
        lines[k] = line[:cut] + "\n"
    elif kind == "extra_field":
        # (a trailing empty field, "…,web," or "…,web,\"\"", is tolerated by DuckDB and
        # loses nothing, so it is not among the damages)
        lines[k] = line + "," + draw(st.sampled_from(["x", "1.00", '"y"'])) + "\n"
    elif kind == "missing_field":
        lines[k] = line[:line.rindex(",")] + "\n"
    elif kind == "unclosed_quote":
        lines[k] = '"' + line + "\n"
    return "".join(lines)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(content=damaged())
def test_fuzz_damaged_exports_are_refused_cleanly(loaded, content):
    folder, ws = loaded
    before = _counts(ws)
    path = folder / f"bad{next(_seq)}.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AovlabError):
        import_files(ws, path, "shopify")
    assert _counts(ws) == before
    assert not _q(ws, "SELECT table_name FROM duckdb_tables() WHERE temporary")


@pytest.mark.parametrize("content,words", [
    ("", "empty"),
    (_csv([]), "no data rows"),
    (_csv(GOOD).replace("\n#1002", "\n#1002,x", 1), "line 4 has 26 fields"),
    (_csv(GOOD)[:-30], "fields where the header has 25"),
    ('"' + _csv(GOOD), "unclosed quote"),
    (_csv(GOOD).replace("#1003,", '"#1003,', 1), "cannot be read as CSV"),
])
def test_unreadable_files(tmp_path, content, words):
    path = tmp_path / "f.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=words):
        import_files(Workspace(":memory:"), path, "shopify")


def test_crlf_bom_and_blank_lines_are_fine(tmp_path):
    path = tmp_path / "win.csv"
    path.write_bytes(("\ufeff" + _csv(GOOD).replace("\n", "\r\n") + "\r\n").encode("utf-8"))
    ws = Workspace(":memory:")
    s = import_files(ws, path, "shopify")
    assert (s.orders_added, s.lines_added) == (9, 10)
