"""The demo: real bundled data (UCI Online Retail, CC BY 4.0) to KPIs in one command."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rich.console import Console

from .explain import explain
from .importers import import_files
from .kpis import histogram, kpis
from .report.output import rich_table
from .workspace import Workspace

MONTH_COLUMNS = ["period", "orders", "revenue", "aov", "median", "trimmed_aov",
                 "units_per_order", "avg_unit_price", "new_aov", "returning_aov", "aov_pop_pct"]


def bundled_online_retail() -> Path:
    return Path(str(resources.files("aovlab") / "data" / "online_retail.parquet"))


def run_demo(path: str | Path = "demo.duckdb", *, console: Console | None = None,
             engine: str = "duckdb") -> dict:
    """Import the bundled data into ``path`` (idempotent) and print the main KPIs."""
    console = console or Console()
    ws = Workspace(path)
    try:
        summary = import_files(ws, bundled_online_retail(), "online_retail")
        console.print(
            f"[bold]Workspace[/bold] {path}: {ws.count('orders'):,} invoices, "
            f"{ws.count('order_lines'):,} lines from UCI Online Retail (CC BY 4.0); "
            f"this run added {summary.orders_added:,} orders.")
        total = kpis(ws, engine=engine)
        console.print(rich_table(total, title="UCI Online Retail — KPIs, net AOV "
                                 "(gross − discounts), placed orders, GBP", transpose=True))
        monthly = kpis(ws, period="month", engine=engine)
        console.print(rich_table(monthly[MONTH_COLUMNS], title="By month"))
        hist = histogram(ws, engine=engine)
        a = hist.attrs
        console.print(
            f"Outliers (above Q3 + 3·IQR = £{a['fence']:,.2f}): {a['outlier_orders']:,} "
            f"orders, {a['outlier_order_share']:.1%} of orders and "
            f"{a['outlier_revenue_share']:.1%} of revenue — compare AOV with the median.")
        why = explain(ws, ("2011-01-01", "2011-03-31"), ("2011-10-01", "2011-12-09"),
                      by="country", engine=engine)
        console.print(
            f"Why AOV moved from Q1 to Q4 2011: {why.aov_base:,.2f} → {why.aov_compare:,.2f} "
            f"(mix {why.mix_effect:+,.2f}, rate {why.rate_effect:+,.2f}).")
        console.print(rich_table(why.top(5), title="Top countries behind the change"))
        console.print(rich_table(why.factors, title="Identities"))
        return {"total": total, "monthly": monthly, "histogram": hist, "explain": why}
    finally:
        ws.close()
