"""Result objects: an analysis's tables together with what they mean.

Every analysis returns a :class:`Result`: named tables (pandas frames; the first is the
main one) and metadata — the AOV definition and its formula, currency, period, statuses,
the whole selection, the engine and notes. It converts to pandas, polars, Arrow, a dict or
JSON and shows itself in Jupyter; the report layer renders it in a terminal (and, later,
in HTML).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd


def plain(v: Any) -> Any:
    """A JSON-safe value: NaN, NaT and NA → None, dates → ISO text, numbers → Python."""
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray):
        return [plain(x) for x in v]
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
        if v is pd.NaT:
            return None
    if isinstance(v, pd.Timestamp):
        # a date at midnight without a zone is a calendar date: write it as one
        if v.tzinfo is None and v == v.normalize():
            return v.date().isoformat()
        return v.isoformat()
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        v = float(v)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


@dataclass
class Result:
    """Tables and metadata of one analysis."""

    kind: str
    tables: dict[str, pd.DataFrame]
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def table(self) -> pd.DataFrame:
        """The main table."""
        return next(iter(self.tables.values()))

    def _pick(self, name: str | None) -> pd.DataFrame:
        if name is None:
            return self.table
        if name not in self.tables:
            raise KeyError(f"{self.kind} has tables {', '.join(self.tables)}, not {name!r}")
        return self.tables[name]

    def to_pandas(self, name: str | None = None) -> pd.DataFrame:
        """A table (the main one by default) as a pandas DataFrame (a copy)."""
        return self._pick(name).copy()

    def to_arrow(self, name: str | None = None):
        import pyarrow as pa

        return pa.Table.from_pandas(self._pick(name), preserve_index=False)

    def to_polars(self, name: str | None = None):
        import polars as pl

        return pl.from_arrow(self.to_arrow(name))

    def to_dict(self) -> dict[str, Any]:
        """Metadata, notes and every table as records, all JSON-safe."""
        return {"kind": self.kind, "meta": plain(self.meta), "notes": list(self.notes),
                "tables": {n: [{k: plain(v) for k, v in row.items()}
                               for row in t.to_dict("records")]
                           for n, t in self.tables.items()}}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @property
    def title(self) -> str:
        d = self.meta.get("definition")
        return f"{self.kind} — {d} AOV" if d else self.kind

    def _repr_html_(self) -> str:
        from html import escape

        facts = ", ".join(f"{escape(str(k))}: {escape(str(v))}" for k, v in self.meta.items()
                          if k != "selection" and v not in (None, [], {}))
        parts = [f"<h4>{escape(self.title)}</h4>", f"<p><small>{facts}</small></p>"]
        for name, t in self.tables.items():
            if len(self.tables) > 1:
                parts.append(f"<h5>{escape(name)}</h5>")
            parts.append(t.to_html(index=False, max_rows=50, na_rep="–"))
        parts += [f"<p><em>note: {escape(n)}</em></p>" for n in self.notes]
        return "\n".join(parts)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}: {len(t)} rows" for n, t in self.tables.items())
        return f"<{type(self).__name__} {self.title} ({shapes})>"
