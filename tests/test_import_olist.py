"""Olist importer: real 10,000-order folder checked against the raw CSVs, and fuzz."""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import shared_file

from aovlab.errors import AovlabError, InputError
from aovlab.importers import import_files
from aovlab.storage import Workspace

TABLES = ("orders", "order_lines", "products", "customers")
EXAMPLE = "e481f51cbdc54678b7cc49136f2d6af7"


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _counts(ws: Workspace) -> dict[str, int]:
    return {t: ws.count(t) for t in TABLES} | {"imports": len(ws.imports())}


# -- real data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    folder = shared_file("olist")
    ws = Workspace(":memory:")
    summary = import_files(ws, folder, "olist")
    yield ws, summary, folder
    ws.close()


def test_real_counts(real):
    ws, summary, folder = real
    assert ws.count("orders") == 10_000
    assert ws.count("order_lines") == 11_252
    assert summary.orders_added == 10_000 and summary.lines_added == 11_252
    assert summary.skipped == {}
    assert summary.rows_read == sum(
        len(_rows(folder, f)) for f in ("orders.csv", "order_items.csv", "order_payments.csv",
                                        "customers.csv", "products.csv",
                                        "product_category_name_translation.csv"))


def test_real_statuses(real):
    ws, _, folder = real
    source = {r["order_id"]: r["order_status"] for r in _rows(folder, "orders.csv")}
    assert Counter(source.values()) == {
        "delivered": 9_649, "shipped": 104, "unavailable": 98, "canceled": 57,
        "processing": 47, "invoiced": 43, "created": 2}
    mapped = dict(ws.con.execute("SELECT order_id, status FROM orders").fetchall())
    pairs = Counter((source[o], s) for o, s in mapped.items())
    assert pairs == {("delivered", "placed"): 9_649, ("shipped", "placed"): 104,
                     ("unavailable", "cancelled"): 98, ("canceled", "cancelled"): 57,
                     ("processing", "placed"): 47, ("invoiced", "placed"): 43,
                     ("created", "placed"): 2}


def test_real_customers_are_unique_ids(real):
    ws, _, folder = real
    customers = _rows(folder, "customers.csv")
    unique = {r["customer_unique_id"] for r in customers}
    assert len(unique) == 9_920
    assert ws.count("customers") == 9_920
    got = {r[0] for r in ws.con.execute("SELECT DISTINCT customer_id FROM orders").fetchall()}
    assert got == unique
    # Each order's customer is the unique id of its Olist customer_id.
    to_unique = {r["customer_id"]: r["customer_unique_id"] for r in customers}
    orders = {r["order_id"]: to_unique[r["customer_id"]] for r in _rows(folder, "orders.csv")}
    assert dict(ws.con.execute("SELECT order_id, customer_id FROM orders").fetchall()) == orders
    bad = ws.con.execute("SELECT count(*) FROM customers WHERE country <> 'BR' OR region IS NULL "
                         "OR length(region) <> 2 OR city IS NULL").fetchone()[0]
    assert bad == 0


def test_real_money_matches_raw_files(real):
    ws, _, folder = real
    items = _rows(folder, "order_items.csv")
    payments = _rows(folder, "order_payments.csv")
    price = sum(Decimal(r["price"]) for r in items)
    freight = sum(Decimal(r["freight_value"]) for r in items)
    paid = sum(Decimal(r["payment_value"]) for r in payments)
    gross, shipping, total, discounts, units = ws.con.execute(
        "SELECT sum(gross_sales), sum(shipping), sum(total), sum(discounts), sum(units) "
        "FROM orders").fetchone()
    assert gross == pytest.approx(float(price), abs=0.01)
    assert shipping == pytest.approx(float(freight), abs=0.01)
    # Every one of the 10,000 orders has payments, so Σ total is Σ payment_value.
    assert len({r["order_id"] for r in payments}) == 10_000
    assert total == pytest.approx(float(paid), abs=0.01)
    assert round(total, 2) == 1_620_279.37
    assert discounts == 0
    assert units == len(items) == 11_252
    # Lines carry the item prices one by one.
    line_sum = ws.con.execute("SELECT sum(quantity * unit_price) FROM order_lines").fetchone()[0]
    assert line_sum == pytest.approx(float(price), abs=0.01)


def test_real_payment_mismatches(real):
    """Payments ≠ items + freight on 59 orders with items (28 by more than a cent)."""
    ws, summary, folder = real
    per: dict[str, Decimal] = Counter()
    for r in _rows(folder, "order_items.csv"):
        per[r["order_id"]] += Decimal(r["price"]) + Decimal(r["freight_value"])
    paid: dict[str, Decimal] = Counter()
    for r in _rows(folder, "order_payments.csv"):
        paid[r["order_id"]] += Decimal(r["payment_value"])
    diff = {o: paid[o] - v for o, v in per.items() if paid[o] != v}
    assert len(diff) == 59
    assert sum(1 for d in diff.values() if abs(d) > Decimal("0.01")) == 28
    got = ws.con.execute(
        "SELECT count(*) FROM orders WHERE units > 0 "
        "AND abs(total - (gross_sales + shipping)) > 0.005").fetchone()[0]
    assert got == 59
    assert any("59 orders" in n for n in summary.notes)
    # Orders without items (unavailable, canceled, created): total is what was paid.
    assert ws.con.execute("SELECT count(*), sum(gross_sales) FROM orders WHERE units = 0"
                          ).fetchone() == (111, 0)


def test_real_example_order(real):
    ws, _, _ = real
    row = ws.con.execute(
        "SELECT gross_sales, shipping, discounts, total, units, status, currency, country, "
        "created_at, order_date, channel FROM orders WHERE order_id = ?", [EXAMPLE]).fetchone()
    gross, shipping, discounts, total, units, status, currency, country, created, day, ch = row
    assert (gross, shipping, discounts) == (29.99, 8.72, 0.0)
    assert total == pytest.approx(18.12 + 2.00 + 18.59) and round(total, 2) == 38.71
    assert (units, status, currency, country, ch) == (1, "placed", "BRL", "BR", "marketplace")
    # 2017-10-02 10:56:33 in São Paulo (UTC−3, before DST began on 15 October).
    assert created.astimezone(UTC) == datetime(2017, 10, 2, 13, 56, 33, tzinfo=UTC)
    assert day == date(2017, 10, 2)
    lines = ws.con.execute("SELECT line_no, line_type, quantity, unit_price, category "
                           "FROM order_lines WHERE order_id = ?", [EXAMPLE]).fetchall()
    assert lines == [(1, "product", 1.0, 29.99, "housewares")]


def test_real_categories_in_english(real):
    ws, summary, _ = real
    top = ws.con.execute("SELECT category FROM order_lines GROUP BY 1 "
                         "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    assert top == "bed_bath_table"
    # pc_gamer has no translation in Olist's own file: the Portuguese name is kept.
    assert ws.con.execute("SELECT count(*) FROM products WHERE category = 'pc_gamer'"
                          ).fetchone()[0] == 1
    assert ws.con.execute("SELECT count(*) FROM products WHERE category IS NULL"
                          ).fetchone()[0] == 116
    assert any("pc_gamer" in n for n in summary.notes)


def test_real_dates(real):
    ws, _, _ = real
    lo, hi = ws.con.execute("SELECT min(order_date), max(order_date) FROM orders").fetchone()
    assert (lo, hi) == (date(2017, 1, 5), date(2017, 12, 31))


def test_real_reimport_adds_nothing(real):
    ws, _, folder = real
    before = _counts(ws)
    again = import_files(ws, folder, "olist")
    assert again.orders_added == 0 and again.lines_added == 0
    for name, c in again.tables.items():
        assert c.added == 0 and c.changed == 0, name
        assert c.already_present == c.staged, name
    after = _counts(ws)
    assert after == before | {"imports": before["imports"] + 1}


# -- synthetic folder (always runs) -------------------------------------------------------

ORDERS_H = ["order_id", "customer_id", "order_status", "order_purchase_timestamp",
            "order_approved_at", "order_delivered_carrier_date",
            "order_delivered_customer_date", "order_estimated_delivery_date"]
ITEMS_H = ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date",
           "price", "freight_value"]
PAY_H = ["order_id", "payment_sequential", "payment_type", "payment_installments",
         "payment_value"]
CUST_H = ["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city",
          "customer_state"]
PROD_H = ["product_id", "product_category_name", "product_name_lenght"]
CAT_H = ["product_category_name", "product_category_name_english"]


def tiny(prefix: str = "b") -> dict[str, list[list[str]]]:
    """A small valid Olist folder as {file name: rows incl. header}."""
    p = prefix
    return {
        "orders.csv": [
            ORDERS_H,
            [f"{p}o1", f"{p}c1", "delivered", "2017-10-02 10:56:33", "", "", "", ""],
            [f"{p}o2", f"{p}c2", "canceled", "2017-10-03 08:00:00", "", "", "", ""],
            [f"{p}o3", f"{p}c3", "shipped", "2017-11-01 23:30:00", "", "", "", ""],
        ],
        "order_items.csv": [
            ITEMS_H,
            [f"{p}o1", "1", f"{p}p1", "s1", "", "29.99", "8.72"],
            [f"{p}o3", "1", f"{p}p1", "s1", "", "10.00", "5.00"],
            [f"{p}o3", "2", f"{p}p2", "s1", "", "20.50", "0"],
        ],
        "order_payments.csv": [
            PAY_H,
            [f"{p}o1", "1", "credit_card", "1", "18.12"],
            [f"{p}o1", "2", "voucher", "1", "18.59"],
            [f"{p}o1", "3", "voucher", "1", "2.0"],
            [f"{p}o2", "1", "boleto", "1", "50.00"],
            [f"{p}o3", "1", "credit_card", "2", "35.50"],
        ],
        "customers.csv": [
            CUST_H,
            [f"{p}c1", f"{p}u1", "1151", "sao paulo", "SP"],
            [f"{p}c2", f"{p}u2", "22000", "rio de janeiro", "RJ"],
            [f"{p}c3", f"{p}u1", "13023", "campinas", "SP"],
        ],
        "products.csv": [
            PROD_H,
            [f"{p}p1", "utilidades_domesticas", "40.0"],
            [f"{p}p2", "", ""],
        ],
        "product_category_name_translation.csv": [
            CAT_H, ["utilidades_domesticas", "housewares"],
        ],
    }


def write(folder: Path, files: dict[str, list[list[str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    return folder


def test_tiny_folder_imports(tmp_path):
    ws = Workspace(":memory:")
    s = import_files(ws, write(tmp_path / "olist", tiny()), "olist")
    assert _counts(ws) == {"orders": 3, "order_lines": 3, "products": 2, "customers": 2,
                           "imports": 1}
    assert s.rows_read == 3 + 3 + 5 + 3 + 2 + 1
    rows = ws.con.execute("SELECT order_id, customer_id, status, gross_sales, shipping, total, "
                          "units FROM orders ORDER BY 1").fetchall()
    assert rows == [("bo1", "bu1", "placed", 29.99, 8.72, 38.71, 1.0),
                    ("bo2", "bu2", "cancelled", 0.0, 0.0, 50.0, 0.0),
                    ("bo3", "bu1", "placed", 30.5, 5.0, 35.5, 2.0)]
    # The repeat customer keeps the address of the earlier order.
    assert ws.con.execute("SELECT region, city FROM customers WHERE customer_id = 'bu1'"
                          ).fetchone() == ("SP", "sao paulo")
    assert ws.con.execute("SELECT category FROM order_lines ORDER BY order_id, line_no"
                          ).fetchall() == [("housewares",), ("housewares",), (None,)]


def test_kaggle_file_names_and_timezone_option(tmp_path):
    files = tiny()
    kaggle = {"orders.csv": "olist_orders_dataset.csv",
              "order_items.csv": "olist_order_items_dataset.csv",
              "customers.csv": "olist_customers_dataset.csv"}
    folder = write(tmp_path / "k", {kaggle.get(k, k): v for k, v in files.items()})
    ws = Workspace(":memory:")
    import_files(ws, folder, "olist", timezone="UTC")
    created = ws.con.execute("SELECT created_at FROM orders WHERE order_id = 'bo1'").fetchone()[0]
    assert created.astimezone(UTC) == datetime(2017, 10, 2, 10, 56, 33, tzinfo=UTC)


def test_unused_customers_are_counted(tmp_path):
    files = tiny()
    files["customers.csv"].append(["bc9", "bu9", "1000", "x", "SP"])
    ws = Workspace(":memory:")
    s = import_files(ws, write(tmp_path / "o", files), "olist")
    assert sum(s.skipped.values()) == 1
    assert ws.count("customers") == 2


def _set(files, name, row, col, value):
    header = files[name][0]
    files[name][row][header.index(col)] = value


def _mutations():
    """(id, mutate(files, folder) -> path to import, expected (file, row, column) or None)."""
    out = []
    for name in tiny():
        out.append((f"missing-{name}", lambda f, d, n=name: (write(d, f) / n).unlink() or d,
                    (name, None, None)))
    cell_cases = [
        ("price-text", "order_items.csv", 2, "price", "abc"),
        ("price-comma", "order_items.csv", 1, "price", "29,99"),
        ("price-negative", "order_items.csv", 3, "price", "-1"),
        ("price-nan", "order_items.csv", 1, "price", "nan"),
        ("price-inf", "order_items.csv", 1, "price", "inf"),
        ("price-empty", "order_items.csv", 1, "price", ""),
        ("freight-text", "order_items.csv", 2, "freight_value", "free"),
        ("item-no-fraction", "order_items.csv", 3, "order_item_id", "1.5"),
        ("item-no-zero", "order_items.csv", 1, "order_item_id", "0"),
        ("item-duplicate", "order_items.csv", 3, "order_item_id", "1"),
        ("item-orphan", "order_items.csv", 2, "order_id", "nope"),
        ("item-no-order", "order_items.csv", 2, "order_id", ""),
        ("payment-orphan", "order_payments.csv", 4, "order_id", "nope"),
        ("payment-text", "order_payments.csv", 2, "payment_value", "R$ 18,59"),
        ("date-bad", "orders.csv", 2, "order_purchase_timestamp", "2017-13-45 10:00:00"),
        ("date-words", "orders.csv", 1, "order_purchase_timestamp", "yesterday"),
        ("date-empty", "orders.csv", 3, "order_purchase_timestamp", ""),
        ("status-unknown", "orders.csv", 2, "order_status", "lost"),
        ("order-customer-orphan", "orders.csv", 1, "customer_id", "nobody"),
        ("customer-no-unique", "customers.csv", 2, "customer_unique_id", ""),
        ("product-duplicate", "products.csv", 2, "product_id", "bp1"),
    ]
    for cid, name, row, col, value in cell_cases:
        def mutate(f, d, name=name, row=row, col=col, value=value):
            _set(f, name, row or len(f[name]) - 1, col, value)
            return write(d, f)
        out.append((cid, mutate, (name, row, col)))

    def duplicate_order(f, d):
        f["orders.csv"].append(list(f["orders.csv"][1]))
        return write(d, f)

    def conflicting_customer(f, d):
        f["customers.csv"].append(["bc1", "bu7", "1", "x", "SP"])
        return write(d, f)

    def drop_column(f, d):
        f["order_items.csv"] = [r[:5] + r[6:] for r in f["order_items.csv"]]
        return write(d, f)

    def header_only(f, d):
        f["order_payments.csv"] = f["order_payments.csv"][:1]
        return write(d, f)

    def empty_file(f, d):
        write(d, f)
        (d / "orders.csv").write_bytes(b"")
        return d

    def ragged(f, d):
        f["order_items.csv"][2] = f["order_items.csv"][2] + ["extra", "fields"]
        return write(d, f)

    def bad_utf8(f, d):
        write(d, f)
        p = d / "customers.csv"
        p.write_bytes(p.read_bytes().replace(b"sao paulo", b"s\xe3o paulo"))
        return d

    def a_file(f, d):
        return write(d, f) / "orders.csv"

    def nowhere(f, d):
        return d / "does-not-exist"

    out += [("order-duplicate", duplicate_order, ("orders.csv", 4, "order_id")),
            ("customer-conflict", conflicting_customer, ("customers.csv", None, "customer_id")),
            ("column-missing", drop_column, ("order_items.csv", None, "price")),
            ("header-only", header_only, ("order_payments.csv", None, None)),
            ("empty-file", empty_file, ("orders.csv", None, None)),
            ("ragged-line", ragged, ("order_items.csv", None, None)),
            ("invalid-utf8", bad_utf8, ("customers.csv", None, None)),
            ("path-is-file", a_file, None),
            ("path-missing", nowhere, None)]
    return out


MUTATIONS = _mutations()


@pytest.fixture(scope="module")
def loaded():
    """A workspace holding a valid import with other ids, to prove failures change nothing."""
    with tempfile.TemporaryDirectory() as d:
        ws = Workspace(":memory:")
        import_files(ws, write(Path(d) / "a", tiny("a")), "olist")
        yield ws
        ws.close()


@pytest.mark.parametrize(("mutate", "where"), [(m, w) for _, m, w in MUTATIONS],
                         ids=[i for i, _, _ in MUTATIONS])
def test_bad_input_is_refused_whole(loaded, tmp_path, mutate, where):
    before = _counts(loaded)
    path = mutate(tiny("b"), tmp_path / "olist")
    with pytest.raises(AovlabError) as info:
        import_files(loaded, path, "olist")
    assert _counts(loaded) == before
    err = info.value
    assert err.fix
    if where is not None:
        assert isinstance(err, InputError)
        name, row, column = where
        assert Path(err.location.file).name == name
        if row is not None:
            assert err.location.row == row
        if column is not None:
            assert err.location.column == column


def test_error_message_names_file_row_column_value(tmp_path):
    files = tiny()
    _set(files, "order_items.csv", 2, "price", "abc")
    with pytest.raises(InputError) as info:
        import_files(Workspace(":memory:"), write(tmp_path / "o", files), "olist")
    text = str(info.value)
    assert "order_items.csv" in text and "row 2" in text and "'price'" in text
    assert "'abc'" in text and "Fix:" in text


def test_unknown_option_is_refused(tmp_path):
    with pytest.raises(AovlabError):
        import_files(Workspace(":memory:"), write(tmp_path / "o", tiny()), "olist",
                     currency="EUR")
    with pytest.raises(InputError):
        import_files(Workspace(":memory:"), write(tmp_path / "o", tiny()), "olist",
                     timezone="Mars/Olympus")


_CELLS = [(name, r, c) for name, rows in tiny().items()
          for r in range(1, len(rows)) for c in range(len(rows[0]))]


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cell=st.sampled_from(_CELLS),
       value=st.one_of(st.text(max_size=12),
                       st.sampled_from(["", "-", "1e309", "NaN", "0", "-0.01", "2017-02-30",
                                        "\"", "a,b", "\n", "999999999999"])))
def test_fuzz_any_cell(cell, value):
    """Any value in any cell: the import succeeds or raises AovlabError, all or nothing."""
    name, r, c = cell
    files = tiny()
    files[name][r][c] = value
    with tempfile.TemporaryDirectory() as d:
        folder = write(Path(d) / "o", files)
        ws = Workspace(":memory:")
        try:
            import_files(ws, folder, "olist")
        except AovlabError:
            assert all(ws.count(t) == 0 for t in TABLES) and ws.imports() == []
        else:
            assert ws.count("orders") == 3
        finally:
            ws.close()


def test_real_folder_copy_with_bad_price_is_refused(tmp_path):
    """The real folder with one price broken: refused whole, naming the row."""
    src = shared_file("olist")
    folder = tmp_path / "olist"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("*.parquet"))
    folder.chmod(0o755)
    for p in folder.iterdir():
        p.chmod(0o644)
    items = (folder / "order_items.csv").read_text().splitlines(keepends=True)
    items[100] = items[100].rsplit(",", 2)[0] + ",12.3.4," + items[100].rsplit(",", 1)[1]
    (folder / "order_items.csv").write_text("".join(items))
    ws = Workspace(":memory:")
    with pytest.raises(InputError) as info:
        import_files(ws, folder, "olist")
    assert info.value.location.row == 100 and info.value.location.column == "price"
    assert ws.count("orders") == 0
