"""Write a result frame as a Rich table, CSV, JSON or Parquet.

CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
are prefixed with an apostrophe (OWASP's CSV-injection advice); numbers are left alone.
"""

from __future__ import annotations

import math
import sys
from datetime import date
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from ..errors import AovlabError

FORMATS = ("table", "csv", "json", "parquet")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    return out


def _fmt(value: object, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if column.endswith(("_rate", "_share", "_pct", "coverage")) or column.startswith(
                "share_") or column in (
                "conversion_rate",):
            return f"{value * 100:,.1f}%"
        if abs(value) >= 1e12:
            return f"{value:.3e}"
        return f"{value:,.2f}" if abs(value) >= 10 or value == int(value) else f"{value:,.3f}"
    if isinstance(value, date | pd.Timestamp):
        return str(value)[:10]
    return str(value)


def rich_table(df: pd.DataFrame, title: str | None = None, caption: str | None = None,
               transpose: bool = False) -> Table:
    """A Rich table; ``transpose`` shows one row per metric (for single-row results)."""
    if transpose and len(df) == 1:
        t = Table(title=title, caption=caption, show_lines=False)
        t.add_column("metric", style="bold")
        t.add_column("value", justify="right")
        row = df.iloc[0]
        for col in df.columns:
            v = row[col]
            t.add_row(col, _fmt(v.item() if hasattr(v, "item") else v, col))
        return t
    t = Table(title=title, caption=caption)
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col]) and df[col].dtype != bool
        t.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for _, row in df.iterrows():
        t.add_row(*(_fmt(v.item() if hasattr(v, "item") else v, c) for c, v in row.items()))
    return t


def write(df: pd.DataFrame, fmt: str = "table", output: str | Path | None = None, *,
          title: str | None = None, caption: str | None = None,
          console: Console | None = None) -> None:
    """Render ``df`` as ``fmt`` to ``output`` (a path) or standard output."""
    if fmt not in FORMATS:
        raise AovlabError(f"unknown output format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
    if fmt == "parquet" and output is None:
        raise AovlabError("Parquet output needs a file", fix="add --output result.parquet")
    if fmt == "table":
        console = console or Console(file=open(output, "w") if output else None)  # noqa: SIM115
        console.print(rich_table(df, title, caption, transpose=len(df) == 1))
        return
    if fmt == "parquet":
        df.to_parquet(output, index=False)
        return
    if fmt == "csv":
        text = spreadsheet_safe(df).to_csv(index=False)
    else:
        text = df.to_json(orient="records", date_format="iso", indent=2)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        Path(output).write_text(text, encoding="utf-8")
