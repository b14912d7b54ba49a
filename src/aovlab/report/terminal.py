"""Terminal rendering with Rich: tables, and each analysis result as the CLI shows it."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analyses import Explanation, Histogram, KpiResult
from ..errors import AovlabError
from ..stats import MIN_INTERVAL_UNITS

#: Columns shown in the terminal for multi-row KPI tables (files get every column).
KPI_TABLE_COLUMNS = ["orders", "revenue", "aov", "aov_ci_low", "aov_ci_high", "median",
                     "trimmed_aov", "units_per_order", "customers", "repeat_customer_rate",
                     "conversion_rate", "aov_pop_pct", "aov_yoy_pct"]


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
    """A Rich table; ``transpose`` shows one row per metric (for single-row results).

    Every cell, title and caption is plain text: values such as a channel named ``[/red]``
    come from the user's data and must never be read as Rich markup.
    """
    plain_title = Text(title) if title is not None else None
    plain_caption = Text(caption) if caption is not None else None
    if transpose and len(df) == 1:
        t = Table(title=plain_title, caption=plain_caption, show_lines=False)
        t.add_column("metric", style="bold")
        t.add_column("value", justify="right")
        row = df.iloc[0]
        for col in df.columns:
            v = row[col]
            t.add_row(Text(str(col)), Text(_fmt(v.item() if hasattr(v, "item") else v, col)))
        return t
    t = Table(title=plain_title, caption=plain_caption)
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col]) and df[col].dtype != bool
        t.add_column(Text(str(col)), justify="right" if numeric else "left", overflow="fold")
    for _, row in df.iterrows():
        t.add_row(*(Text(_fmt(v.item() if hasattr(v, "item") else v, c))
                    for c, v in row.items()))
    return t


def kpi_columns(result: KpiResult, columns: list[str] | None, *, terminal: bool
                ) -> pd.DataFrame:
    """The KPI table with the ``columns`` asked for (keys first), or the terminal's summary
    set for a multi-row table shown in a terminal."""
    df = result.table
    keys = (["period"] if result.meta.get("period") else []) + list(result.meta.get("by", []))
    if columns:
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise AovlabError(f"unknown column(s) {unknown}",
                              fix=f"choose from {', '.join(df.columns)}")
        return df[list(dict.fromkeys(keys + columns))]
    if terminal and len(df) > 1:
        return df[keys + [c for c in KPI_TABLE_COLUMNS if c in df.columns]]
    return df


def kpi_title(result: KpiResult) -> tuple[str, str | None]:
    m = result.meta
    cur = m.get("currency")
    caption = f"currency {', '.join(cur) if isinstance(cur, list) else cur}" if cur else None
    t = result.table
    if "aov_units" in t and (t["aov_units"] < MIN_INTERVAL_UNITS).any():
        few = int((t["aov_units"] < MIN_INTERVAL_UNITS).sum())
        note = (f"{few} row(s) without an AOV interval: fewer than {MIN_INTERVAL_UNITS} "
                "independent units (customers, guest orders)")
        caption = f"{caption}; {note}" if caption else note
    return f"AOV KPIs — {m['definition']} definition ({m['help']})", caption


def histogram_title(h: Histogram) -> tuple[str, str]:
    m = h.meta
    return (f"Order values — {m['definition']} definition",
            f"{h.outlier_orders:,} outlier orders above {h.fence:,.2f} {m['currency']}: "
            f"{h.outlier_order_share:.1%} of orders, {h.outlier_revenue_share:.1%} of revenue")


def render_explanation(x: Explanation, console: Console, top: int = 10) -> None:
    pct = x.change / x.aov_base if x.aov_base else float("nan")
    by = x.dimension
    console.print(
        f"[bold]{x.definition} AOV[/bold] {x.aov_base:,.2f} → {x.aov_compare:,.2f} "
        f"{x.currency} ({x.change:+,.2f}, {pct:+.1%}) from {x.base[0]}..{x.base[1]} to "
        f"{x.compare[0]}..{x.compare[1]}")
    console.print(f"  mix ({by} shares moved): {x.mix_effect:+,.2f}   "
                  f"rate (AOV within each {by} moved): {x.rate_effect:+,.2f}")
    console.print(rich_table(x.periods, title="Each period's AOV, with its 95% interval"))
    console.print(rich_table(x.top(top), title=f"Top {by} contributors"))
    console.print(rich_table(x.factors, title="Identities (effects add up to each change)"))
    for note in x.notes:
        console.print(Text(f"note: {note}", style="yellow"))
