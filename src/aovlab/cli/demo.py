"""The demo: real bundled data (UCI Online Retail, CC BY 4.0) to KPIs in one command."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from ..analyses import explain, histogram, kpis, threshold
from ..importers import bundled_online_retail, import_files
from ..report import render_explanation, rich_table
from ..storage import Workspace

MONTH_COLUMNS = ["period", "orders", "revenue", "aov", "median", "trimmed_aov",
                 "units_per_order", "avg_unit_price", "new_aov", "returning_aov", "aov_pop_pct"]

__all__ = ["bundled_online_retail", "run_demo"]


def run_demo(path: str | Path = "demo.duckdb", *, console: Console | None = None,
             engine: str = "duckdb") -> dict:
    """Import the bundled data into ``path`` (idempotent) and print the main KPIs, why AOV
    moved and the free-shipping threshold the orders show."""
    console = console or Console()
    console.print(f"1/6 importing the bundled UCI Online Retail data into {path} ...")
    ws = Workspace(path)
    try:
        summary = import_files(ws, bundled_online_retail(), "online_retail")
        console.print(
            f"[bold]Workspace[/bold] {path}: {ws.count('orders'):,} invoices, "
            f"{ws.count('order_lines'):,} lines from UCI Online Retail (CC BY 4.0); "
            f"this run added {summary.orders_added:,} orders.")
        console.print(f"2/6 KPIs of every order ({engine}) ...")
        total = kpis(ws, engine=engine)
        console.print(rich_table(total.table, title="UCI Online Retail — KPIs, net AOV "
                                 "(gross − discounts), placed orders, GBP", transpose=True))
        console.print("3/6 KPIs by month ...")
        monthly = kpis(ws, period="month", engine=engine)
        console.print(rich_table(monthly.table[MONTH_COLUMNS], title="By month"))
        console.print("4/6 the order-value histogram and its outliers ...")
        hist = histogram(ws, engine=engine)
        console.print(
            f"Outliers (above Q3 + 3·IQR = £{hist.fence:,.2f}): {hist.outlier_orders:,} "
            f"orders, {hist.outlier_order_share:.1%} of orders and "
            f"{hist.outlier_revenue_share:.1%} of revenue — compare AOV with the median.")
        console.print("5/6 why AOV moved from Q1 to Q4 2011 ...")
        why = explain(ws, ("2011-01-01", "2011-03-31"), ("2011-10-01", "2011-12-09"),
                      by="country", engine=engine)
        console.print("[bold]Why AOV moved from Q1 to Q4 2011[/bold]")
        render_explanation(why, console, top=5)
        console.print("6/6 the free-shipping threshold in the orders ...")
        lever = threshold(ws, engine=engine)
        if lever.current is not None:
            b = lever.meta["bunching"]
            lo, hi = b["padded_share_ci"]
            console.print(
                f"A threshold at £{lever.current:,.0f} ({lever.meta['current_source']}): "
                f"{b['excess']:,.0f} more orders just above it than a smooth distribution "
                f"has; {b['padded_share']:.0%} [{lo:.0%}, {hi:.0%}] of the orders within "
                f"£{lever.current - b['window'][0]:,.0f} below it "
                "were padded up. 'aovlab threshold -w "
                f"{path}' compares candidate thresholds and their cost.")
        return {"total": total, "monthly": monthly, "histogram": hist, "explain": why,
                "threshold": lever}
    finally:
        ws.close()
