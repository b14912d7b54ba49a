"""Fuzzing the text importers: any corruption gives an AovlabError or a clean import, never a
traceback and never a partial import."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aovlab import AovlabError, Workspace, import_files

UCI = ("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
       "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
       "536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.00,17850,United Kingdom\n"
       "C536366,22633,HAND WARMER,-6,2010-12-01 08:28:00,1.85,,United Kingdom\n")
GENERIC = ("order_id,created_at,customer_id,gross_sales,discounts,shipping,currency,status\n"
           "a1,2024-01-01 10:00,c1,100.00,5,4.90,EUR,placed\n"
           "a2,2024-01-02 11:00:00+01:00,,20,0,0,EUR,cancelled\n")

junk = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['"', '""', ",", "\n", "nan", "-inf", "1e999", "", " ", "#", "C",
                     "2010-02-30 10:00", "12,5", "€3", "\x00", "NULL", "-1"]),
)


def _corrupt(text: str, row: int, col: int, value: str) -> str:
    lines = text.splitlines(keepends=True)
    row = row % len(lines)
    cells = lines[row].rstrip("\n").split(",")
    cells[col % len(cells)] = value
    lines[row] = ",".join(cells) + "\n"
    return "".join(lines)


def _check(text: str, fmt: str, **options) -> None:
    ws = Workspace(":memory:")
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "input.csv"
        p.write_bytes(text.encode("utf-8", "surrogatepass"))
        before = [ws.count(t) for t in ("orders", "order_lines")]
        try:
            import_files(ws, p, fmt, **options)
        except AovlabError as exc:
            assert str(exc)  # a message, and nothing written
            assert [ws.count(t) for t in ("orders", "order_lines")] == before
            return
        # accepted: every counted order has a finite value, and what was imported is what
        # the file says, read here with Python's csv module
        assert ws.con.execute("SELECT count(*) FROM orders WHERE NOT isfinite(total)"
                              ).fetchone()[0] == 0
        _same_content(ws, text, fmt)


def _same_content(ws: Workspace, text: str, fmt: str) -> None:
    rows = [r for r in csv.DictReader(io.StringIO(text)) if any((v or "").strip()
                                                                for v in r.values())]
    if fmt == "generic":
        got = dict(ws.con.execute("SELECT order_id, gross_sales FROM orders").fetchall())
        want = {r["order_id"].strip(): float(r["gross_sales"]) for r in rows}
        assert got.keys() == want.keys()
        assert got == pytest.approx(want)
    else:  # UCI: every source line is kept, with its quantity
        lines = ws.con.execute("SELECT count(*), sum(quantity) FROM order_lines").fetchone()
        assert lines[0] == len(rows)
        assert lines[1] == pytest.approx(sum(float(r["Quantity"]) for r in rows))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10), st.integers(0, 10), junk)
def test_uci_fuzz(row, col, value):
    _check(_corrupt(UCI, row, col, value), "online_retail")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10), st.integers(0, 10), junk)
def test_generic_fuzz(row, col, value):
    _check(_corrupt(GENERIC, row, col, value), "generic")


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data):
    ws = Workspace(":memory:")
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.csv"
        p.write_bytes(data)
        for fmt in ("generic", "online_retail"):
            # random bytes never carry the required columns: always refused, cleanly
            with pytest.raises(AovlabError):
                import_files(ws, p, fmt)
            assert ws.count("orders") == 0
