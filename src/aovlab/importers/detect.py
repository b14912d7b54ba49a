"""Which format a file is in, recognised from its header (``aovlab import FILE``).

Each rule reads only the start of a file (a CSV header, a Parquet schema, a folder's file
names) and says why it matched, so the CLI can tell the user which format it chose.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError, Location
from .assignments import ALIASES
from .reading import check_file, csv_header

#: (format, columns that must all be present, what the note says)
_BY_COLUMNS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("shopify", frozenset({"Name", "Subtotal", "Total", "Created at"}),
     "a Shopify orders export (Name, Subtotal, Total, Created at)"),
    ("online_retail", frozenset({"InvoiceNo", "StockCode", "InvoiceDate"}),
     "UCI Online Retail (InvoiceNo, StockCode, InvoiceDate)"),
    ("online_retail", frozenset({"Invoice", "StockCode", "InvoiceDate"}),
     "UCI Online Retail II (Invoice, StockCode, InvoiceDate)"),
    ("ga4", frozenset({"event_name", "event_timestamp", "user_pseudo_id"}),
     "a GA4 BigQuery export (event_name, event_timestamp, user_pseudo_id)"),
    ("hillstrom", frozenset({"history_segment", "segment", "conversion", "spend"}),
     "the Hillstrom e-mail experiment (history_segment, segment, conversion, spend)"),
    ("assignments", frozenset({"unit_id", "variant", "first_exposure"}),
     "experiment assignments (unit_id, variant, first_exposure)"),
    ("generic", frozenset({"order_id", "created_at"}),
     "canonical column names (order_id, created_at)"),
)
#: CDNOW's master file: customer id, YYYYMMDD date, units, dollars; no header.
_CDNOW_LINE = re.compile(r"^\s*\d+\s+(\d+\s+)?(19|20)\d{6}\s+\d+\s+\d+(\.\d+)?\s*$")
_OLIST_ORDERS = ("orders.csv", "olist_orders_dataset.csv")

KNOWN = ("shopify (orders export CSV), online_retail (UCI Online Retail / II), ga4 (BigQuery "
         "export Parquet files or their folder), olist (the folder of its CSV files), cdnow "
         "(CDNOW_master.txt), synthetic (a folder written by aovlab.synthetic), hillstrom "
         "(hillstrom.csv), assignments (unit_id, variant, first_exposure)")


def detect_format(paths: Sequence[str | Path]) -> tuple[str, str]:
    """The format of ``paths`` (their first entry decides) and why, or an
    :class:`InputError` listing the formats when none matches."""
    if not paths:
        raise InputError("no file given", Location("(none)"),
                         fix="pass the file(s) or folder to import")
    p = Path(paths[0])
    found = _folder(p) if p.is_dir() else _file(p)
    if found is None:
        raise InputError(
            "the format of this file is not one aovlab recognises", Location(str(p)),
            fix=f"pass --format: one of {KNOWN}; or --format generic with a --mapping "
                "that names your columns (docs/importers.md)")
    return found


def _folder(p: Path) -> tuple[str, str] | None:
    if (p / "manifest.json").exists() and (p / "orders").is_dir():
        return "synthetic", "a folder written by aovlab.synthetic (manifest.json)"
    if any((p / n).exists() for n in _OLIST_ORDERS):
        return "olist", "a folder of Olist CSV files (orders.csv)"
    parquet = sorted(q for q in p.iterdir() if q.suffix.lower() == ".parquet")
    if parquet:
        got = _by_columns(_parquet_columns(parquet[0]))
        if got and got[0] == "ga4":
            return got
    return None


def _file(p: Path) -> tuple[str, str] | None:
    check_file(p)  # missing, a folder, empty: said as such, not as an unknown format
    if p.name.lower().endswith(".parquet"):
        return _by_columns(_parquet_columns(p))
    if _cdnow(p):
        return "cdnow", "CDNOW purchase lines (customer, YYYYMMDD, units, dollars)"
    try:
        cols, _ = csv_header(p)
    except InputError:
        return None  # not a CSV: the message lists what is recognised
    if "order_purchase_timestamp" in cols:
        return "olist", "the Olist orders file (its folder holds the other files)"
    return _by_columns(cols)


def _by_columns(cols: Sequence[str]) -> tuple[str, str] | None:
    have = {c.strip() for c in cols}
    for fmt, needed, why in _BY_COLUMNS:
        if needed <= have:
            return fmt, why
    lower = {c.lower() for c in have}
    named = [next((c for c in ALIASES[k] if c in lower), None)
             for k in ("unit_id", "variant", "first_exposure")]
    if all(named) and "order_id" not in lower:
        return "assignments", f"experiment assignments ({', '.join(named)})"
    return None


def _parquet_columns(p: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(p).names)
    except (OSError, ValueError):
        return []


def _cdnow(p: Path) -> bool:
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rt", encoding="utf-8", errors="replace") as fh:
            lines = [line for _, line in zip(range(6), fh, strict=False) if line.strip()]
    except (OSError, EOFError, UnicodeError, zlib.error):
        return False
    if lines and re.fullmatch(r"\s*[A-Za-z_]+(\s+[A-Za-z_]+){3}\s*", lines[0]):
        lines = lines[1:]  # the copy in lifetimes has a header line
    return bool(lines) and all(_CDNOW_LINE.match(line) for line in lines)
