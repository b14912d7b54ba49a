"""Write a table as CSV, JSON or Parquet (or hand it to the terminal renderer).

CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
are prefixed with an apostrophe (OWASP's CSV-injection advice); numbers are left alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


def check_output(output: str | Path, *, protect: Sequence[str | Path] = (),
                 force: bool = False) -> Path:
    """The output path, refused when writing there would destroy something.

    Never the workspace (or its ``.wal``) the result was read from; an existing file only
    with ``force``; a folder, a missing folder or an unwritable place is a clean error.
    """
    out = Path(output)
    target = out.resolve()
    for p in protect:
        ws = Path(p).resolve()
        if target in (ws, ws.with_name(ws.name + ".wal")):
            raise AovlabError(f"--output {out} is the workspace itself",
                              fix="write the result to another file, e.g. -o kpis.csv")
    if out.is_dir():
        raise AovlabError(f"--output {out} is a folder", fix="name a file inside it")
    if not out.parent.exists():
        raise AovlabError(f"the folder of --output {out} does not exist",
                          fix=f"create {out.parent} first, or write elsewhere")
    if out.exists() and not force:
        raise AovlabError(f"--output {out} exists already",
                          fix="add --force to replace it, or choose another name")
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise AovlabError(f"--output {out} cannot be written (no permission)",
                          fix="write to a folder you own")
    return out


@contextmanager
def replacing(output: Path) -> Iterator[Path]:
    """A temporary path beside ``output`` that becomes ``output`` only if the block succeeds.

    A failure or Ctrl-C half-way leaves ``output`` as it was (or absent), never truncated.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_console(output: Path, render: Callable[[Console], None]) -> None:
    """What ``render`` prints, written to ``output`` (atomically) as plain text."""
    with replacing(output) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        render(Console(file=fh, width=160))


def write_text(text: str, output: str | Path | None = None, *,
               protect: Sequence[str | Path] = (), force: bool = False) -> None:
    """``text`` to ``output`` (atomically, with :func:`check_output`) or standard output."""
    _put_text(text, None if output is None else check_output(output, protect=protect,
                                                             force=force))


def _put_text(text: str, output: Path | None) -> None:
    """``text`` to an already checked ``output`` (atomically), or standard output."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    with replacing(output) as tmp:
        tmp.write_text(text, encoding="utf-8")


def flat_items(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of item tuples (itemsets, rules, bundles) as text, items joined by " + ":
    a CSV cell or a terminal cell holds one string (JSON and Parquet keep the lists)."""
    cols = [c for c in df.columns if df[c].dtype == object and len(df)
            and isinstance(df[c].iloc[0], tuple | list)]
    if not cols:
        return df
    return df.assign(**{c: df[c].map(lambda v: " + ".join(map(str, v))
                                     if isinstance(v, tuple | list) else v) for c in cols})


def write(df: pd.DataFrame, fmt: str = "table", output: str | Path | None = None, *,
          title: str | None = None, caption: str | None = None,
          console: Console | None = None, protect: Sequence[str | Path] = (),
          force: bool = False) -> None:
    """Render ``df`` as ``fmt`` to ``output`` (a path) or standard output.

    ``protect`` lists files that must not be overwritten (the workspace); an existing
    ``output`` is replaced only with ``force`` (see :func:`check_output`).
    """
    if fmt not in FORMATS:
        raise AovlabError(f"unknown output format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
    if fmt == "parquet" and output is None:
        raise AovlabError("Parquet output needs a file", fix="add --output result.parquet")
    if output is not None:
        output = check_output(output, protect=protect, force=force)
    if fmt in ("table", "csv"):
        df = flat_items(df)
    if fmt == "table":
        if output is None:
            con = console or Console()
            con.print(rich_table(df, title, caption, transpose=len(df) == 1,
                                 width=con.width))
            return
        write_console(output, lambda c: c.print(rich_table(df, title, caption,
                                                            transpose=len(df) == 1)))
        return
    if fmt == "parquet":
        with replacing(output) as tmp:
            df.to_parquet(tmp, index=False)
        return
    if fmt == "csv":
        text = spreadsheet_safe(df).to_csv(index=False)
    else:
        text = df.to_json(orient="records", date_format="iso", indent=2)
    _put_text(text, output)
