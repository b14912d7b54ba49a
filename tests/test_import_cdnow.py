"""CDNOW importer: the real master file checked against its published figures, and fuzz."""

from __future__ import annotations

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
HEADER = " customer_id  date number_of_cds  dollar_value"


def _counts(ws: Workspace) -> dict[str, int]:
    return {t: ws.count(t) for t in TABLES} | {"imports": len(ws.imports())}


def _parse(path: Path) -> list[tuple[str, str, int, Decimal]]:
    """The master file parsed independently of the importer."""
    out = []
    for line in path.read_text().splitlines()[1:]:
        cust, day, cds, dollars = line.split()
        out.append((cust, day, int(cds), Decimal(dollars)))
    return out


# -- real data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    path = shared_file("cdnow", "CDNOW_master.txt")
    ws = Workspace(":memory:")
    summary = import_files(ws, path, "cdnow")
    yield ws, summary, path
    ws.close()


def test_real_figures(real):
    ws, summary, path = real
    rows = _parse(path)
    assert len(rows) == 69_659 and summary.rows_read == 69_659
    assert summary.skipped == {}
    assert _counts(ws) == {"orders": 69_659, "order_lines": 0, "products": 0,
                           "customers": 23_570, "imports": 1}
    n, customers, total, gross, units, lo, hi = ws.con.execute(
        "SELECT count(*), count(DISTINCT customer_id), sum(total), sum(gross_sales), "
        "sum(units), min(order_date), max(order_date) FROM orders").fetchone()
    assert n == 69_659 and customers == 23_570 == len({r[0] for r in rows})
    assert round(total, 2) == 2_500_315.63 == float(sum(r[3] for r in rows))
    assert gross == pytest.approx(total)
    assert units == 167_881 == sum(r[2] for r in rows)
    assert (lo, hi) == (date(1997, 1, 1), date(1998, 6, 30))
    assert ws.con.execute("SELECT count(*) FROM orders WHERE units IS NULL OR status <> 'placed' "
                          "OR currency <> 'USD' OR discounts + shipping + tax + returns <> 0"
                          ).fetchone()[0] == 0


def test_real_repeated_customer_days_stay_separate(real):
    ws, summary, path = real
    pairs = Counter((r[0], r[1]) for r in _parse(path))
    assert sum(pairs.values()) - len(pairs) == 2_068
    repeats = ws.con.execute("SELECT count(*) FROM orders WHERE NOT ends_with(order_id, '-1')"
                             ).fetchone()[0]
    assert repeats == 2_068
    assert any("2068 lines repeat" in n for n in summary.notes)
    # Customer 00002 bought twice on 1997-01-12: two orders, in file order.
    got = ws.con.execute("SELECT order_id, units, total FROM orders WHERE customer_id = '00002' "
                         "AND order_date = DATE '1997-01-12' ORDER BY order_id").fetchall()
    assert got == [("00002-19970112-1", 1.0, 12.0), ("00002-19970112-2", 5.0, 77.0)]


def test_real_first_line_and_time_zone(real):
    ws, _, _ = real
    row = ws.con.execute("SELECT customer_id, created_at, order_date, total, units FROM orders "
                         "WHERE order_id = '00001-19970101-1'").fetchone()
    cust, created, day, total, units = row
    assert (cust, day, total, units) == ("00001", date(1997, 1, 1), 11.77, 1.0)
    # Midnight in New York (EST, UTC−5).
    assert created.astimezone(UTC) == datetime(1997, 1, 1, 5, tzinfo=UTC)


def test_real_reimport_is_a_no_op(real):
    ws, _, path = real
    before = _counts(ws)
    again = import_files(ws, path, "cdnow")
    assert again.orders_added == 0
    for name, c in again.tables.items():
        assert c.added == 0 and c.changed == 0 and c.already_present == c.staged, name
    assert _counts(ws) == before | {"imports": before["imports"] + 1}


# -- synthetic files (always run) ---------------------------------------------------------

GOOD = [HEADER, " 00001 19970101  1   11.77", " 00002 19970112  1   12.00",
        " 00002 19970112  5   77.00", " 00003 19970102  2   20.76"]


def write(path: Path, lines: list[str], end: str = "\r\n") -> Path:
    path.write_bytes(end.join(lines).encode() + end.encode())
    return path


def test_tiny_file(tmp_path):
    ws = Workspace(":memory:")
    s = import_files(ws, write(tmp_path / "m.txt", GOOD), "cdnow")
    assert s.rows_read == 4 and ws.count("orders") == 4 and ws.count("customers") == 3
    ids = [r[0] for r in ws.con.execute("SELECT order_id FROM orders ORDER BY 1").fetchall()]
    assert ids == ["00001-19970101-1", "00002-19970112-1", "00002-19970112-2",
                   "00003-19970102-1"]


def test_no_header_blank_lines_tabs_and_unpadded_ids(tmp_path):
    lines = ["1\t19970101\t1\t11.77", "", "2 19970112 1 12.00", "   ", "2 19970112 5 77"]
    ws = Workspace(":memory:")
    s = import_files(ws, write(tmp_path / "m.txt", lines, "\n"), "cdnow")
    assert s.rows_read == 5 and s.skipped == {"blank lines": 2}
    assert ws.con.execute("SELECT list(order_id ORDER BY order_id) FROM orders").fetchone()[0] \
        == ["00001-19970101-1", "00002-19970112-1", "00002-19970112-2"]
    # Same purchases written with the padded ids of the master file: nothing new.
    again = import_files(ws, write(tmp_path / "p.txt", GOOD[:4]), "cdnow")
    assert again.orders_added == 0 and again.tables["orders"].changed == 0


def test_timezone_option(tmp_path):
    ws = Workspace(":memory:")
    import_files(ws, write(tmp_path / "m.txt", GOOD), "cdnow", timezone="UTC")
    created = ws.con.execute("SELECT min(created_at) FROM orders").fetchone()[0]
    assert created.astimezone(UTC) == datetime(1997, 1, 1, tzinfo=UTC)


# (id, lines or bytes, expected row, column, value); rows are data rows, header excluded.
BAD = [
    ("three-fields", GOOD[:2] + [" 00002 19970112  1"] + GOOD[3:], 2, "dollar_value",
     "00002 19970112  1"),
    ("one-field", GOOD + ["00009"], 5, "date", "00009"),
    ("five-fields", GOOD[:3] + [" 00002 1 19970112 5 77.00"], 3, "field 5",
     "00002 1 19970112 5 77.00"),
    ("date-not-a-day", GOOD[:2] + [" 00002 19970230  1   12.00"], 2, "date", "19970230"),
    ("date-iso", GOOD[:2] + [" 00002 1997-01-12  1   12.00"], 2, "date", "1997-01-12"),
    ("date-short", GOOD[:4] + [" 00003 970102  2   20.76"], 4, "date", "970102"),
    ("dollars-text", GOOD[:2] + [" 00002 19970112  1   twelve"], 2, "dollar_value", "twelve"),
    ("dollars-comma", GOOD[:2] + [" 00002 19970112  1   12,00"], 2, "dollar_value", "12,00"),
    ("dollars-negative", GOOD[:2] + [" 00002 19970112  1   -12.00"], 2, "dollar_value",
     "-12.0"),
    ("dollars-nan", GOOD[:2] + [" 00002 19970112  1   nan"], 2, "dollar_value", "nan"),
    ("dollars-inf", GOOD[:2] + [" 00002 19970112  1   Infinity"], 2, "dollar_value",
     "Infinity"),
    ("cds-fraction", GOOD[:2] + [" 00002 19970112  1.5   12.00"], 2, "number_of_cds", "1.5"),
    ("cds-negative", GOOD[:2] + [" 00002 19970112  -1   12.00"], 2, "number_of_cds", "-1"),
    ("customer-text", GOOD[:2] + [" abc 19970112  1   12.00"], 2, "customer_id", "abc"),
    ("header-again", GOOD + [HEADER], 5, "customer_id", "customer_id"),
]


@pytest.fixture(scope="module")
def loaded():
    """A workspace with other purchases in it, to prove a failed import changes nothing."""
    with tempfile.TemporaryDirectory() as d:
        ws = Workspace(":memory:")
        import_files(ws, write(Path(d) / "other.txt", [" 09999 19980101  3   30.00"]), "cdnow")
        yield ws
        ws.close()


@pytest.mark.parametrize(("lines", "row", "column", "value"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_line_is_refused_whole(loaded, tmp_path, lines, row, column, value):
    before = _counts(loaded)
    path = write(tmp_path / "CDNOW_master.txt", lines)
    with pytest.raises(InputError) as info:
        import_files(loaded, path, "cdnow")
    assert _counts(loaded) == before
    loc = info.value.location
    assert (Path(loc.file).name, loc.row, loc.column, loc.value) == (
        "CDNOW_master.txt", row, column, value)
    text = str(info.value)
    assert f"row {row}" in text and "Fix:" in text


BAD_FILES = [
    ("empty", b""),
    ("header-only", (HEADER + "\r\n").encode()),
    ("blank-only", b"\n\n  \n"),
    ("invalid-utf8", b" 00001 19970101  1   11.77\n 00002 1997\xff0112  1   12.00\n"),
    ("binary", bytes(range(256)) * 4),
    ("control-char", b" 00001 19970101  1   11.77\x01 3\n"),
]


@pytest.mark.parametrize("content", [b[1] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_bad_file_is_refused_whole(loaded, tmp_path, content):
    before = _counts(loaded)
    path = tmp_path / "CDNOW_master.txt"
    path.write_bytes(content)
    with pytest.raises(AovlabError) as info:
        import_files(loaded, path, "cdnow")
    assert _counts(loaded) == before
    assert info.value.fix


@pytest.mark.parametrize("kind", ["folder", "missing", "two-files", "option", "timezone"])
def test_bad_call_is_refused(loaded, tmp_path, kind):
    before = _counts(loaded)
    good = write(tmp_path / "m.txt", GOOD)
    args: dict = {}
    paths: object = good
    if kind == "folder":
        paths = tmp_path
    elif kind == "missing":
        paths = tmp_path / "nope.txt"
    elif kind == "two-files":
        paths = [good, good]
    elif kind == "option":
        args = {"currency": "EUR"}
    else:
        args = {"timezone": "Nowhere/Land"}
    with pytest.raises(AovlabError):
        import_files(loaded, paths, "cdnow", **args)
    assert _counts(loaded) == before


_FIELD = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10),
    st.sampled_from(["00001", "19970101", "1", "11.77", "0", "-1", "1e309", "NaN", "20000229",
                     "99999999", "1.0", "0x10", "", " ", "\t"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.lists(_FIELD, min_size=0, max_size=6), at=st.integers(1, len(GOOD)))
def test_fuzz_one_line(fields, at):
    """Any line anywhere: the import succeeds or raises AovlabError, all or nothing."""
    lines = [*GOOD[:at], " ".join(fields), *GOOD[at:]]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "CDNOW_master.txt"
        path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
        ws = Workspace(":memory:")
        try:
            import_files(ws, path, "cdnow")
        except AovlabError:
            assert _counts(ws) == {t: 0 for t in TABLES} | {"imports": 0}
        else:
            assert ws.count("orders") in (4, 5)
        finally:
            ws.close()
