"""Write a table as CSV, JSON or Parquet (or hand it to the terminal renderer).

CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
are prefixed with an apostrophe (OWASP's CSV-injection advice); numbers are left alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from rich.console import Console

from ..errors import AovlabError
from .terminal import rich_table

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
