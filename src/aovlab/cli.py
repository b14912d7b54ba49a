"""The ``aovlab`` command: a thin layer over the library.

Every command calls one documented function (``import_files``, ``kpis``, ``histogram``,
``explain``); every :class:`AovlabError` becomes a short message and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from . import __version__
from .definitions import DEFAULT_DEFINITION, DEFINITIONS
from .errors import AovlabError
from .metrics import DIMENSIONS, PERIODS
from .report.output import FORMATS, rich_table, write

app = typer.Typer(
    name="aovlab",
    help="Average Order Value analytics: import orders, measure AOV and explain why it moved.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide tables read better than wrapped ones when output goes to a log or a pipe.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)

# Settings declared once, with their help text; every command reuses them.
Workspace_ = Annotated[Path, typer.Option(
    "--workspace", "-w", envvar="AOVLAB_WORKSPACE",
    help="Workspace file (DuckDB). Created by 'import' when missing.")]
Definition_ = Annotated[str, typer.Option(
    "--definition", "-d",
    help="AOV definition: " + "; ".join(f"{d.name} = {d.help}" for d in DEFINITIONS.values())
    + f". Default {DEFAULT_DEFINITION}.")]
Start_ = Annotated[str | None, typer.Option(help="First order date included (YYYY-MM-DD).")]
End_ = Annotated[str | None, typer.Option(help="Last order date included (YYYY-MM-DD).")]
Currency_ = Annotated[str | None, typer.Option(
    help="Only orders in this currency (ISO code). Needed when the workspace mixes currencies.")]
Status_ = Annotated[list[str] | None, typer.Option(
    "--status", help="Order statuses counted (repeatable). Default: placed and refunded.")]
Where_ = Annotated[list[str] | None, typer.Option(
    "--where", help="Keep only orders with DIMENSION=VALUE (repeatable), e.g. country=France.")]
Engine_ = Annotated[str, typer.Option(
    help="Engine: duckdb (embedded, default) or spark (local[2] unless SPARK_MASTER is set).")]
Format_ = Annotated[str, typer.Option(
    "--format", "-f", help=f"Output format: {', '.join(FORMATS)}.")]
Output_ = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write to this file instead of the terminal.")]


def _filters(where: list[str] | None) -> dict[str, str]:
    out = {}
    for item in where or []:
        if "=" not in item:
            raise AovlabError(f"--where {item!r} is not DIMENSION=VALUE",
                              fix="write e.g. --where country=France")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _open(path: Path, *, create: bool = False):
    from .errors import WorkspaceError
    from .workspace import Workspace

    if not create and not path.exists():
        raise WorkspaceError(f"workspace {path} does not exist",
                             fix="run 'aovlab import FILE --format ...' first, or pass "
                                 "--workspace")
    return Workspace(path)


@app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="File(s) or folder to import.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=(
        "Source format: generic, shopify, online_retail (uci), cdnow, ga4, olist."))] = "generic",
    workspace: Workspace_ = Path("aovlab.duckdb"),
    mapping: Annotated[Path | None, typer.Option(
        help="Column-mapping TOML file (generic format; see docs/importers.md).")] = None,
    currency: Annotated[str | None, typer.Option(
        help="Currency for files without a currency column (ISO code).")] = None,
    timezone: Annotated[str | None, typer.Option(
        help="Store time zone for timestamps written without an offset (IANA name).")] = None,
    order_prefix: Annotated[str | None, typer.Option(
        help="Prefix for order ids (shopify), so two stores numbering from #1001 can share "
             "a workspace.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import orders into a workspace: atomic (all or nothing) and idempotent."""
    from .importers import import_files

    options: dict[str, object] = {}
    if mapping is not None:
        options["mapping"] = mapping
    if currency is not None:
        options["currency"] = currency
    if timezone is not None:
        options["timezone"] = timezone
    if order_prefix is not None:
        options["order_prefix"] = order_prefix
    ws = _open(workspace, create=True)
    try:
        # Import steps (reading, checking values, building orders, validating, writing) are
        # single DuckDB statements of unknown length: a pulsing bar with the step's name.
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TimeElapsedColumn(), console=err, transient=True, disable=as_json) as bar:
            task = bar.add_task(f"importing {', '.join(map(str, files))}", total=None)

            def progress(step: str) -> None:
                bar.update(task, description=f"{step}: {', '.join(map(str, files))}")

            summary = import_files(ws, files, fmt, progress=progress, **options)
    finally:
        ws.close()
    if as_json:
        import json

        console.print_json(json.dumps(summary.to_dict(), default=str))
        return
    from rich.table import Table

    t = Table(title=f"Imported into {workspace} ({summary.format})")
    for col in ("table", "rows in file(s)", "added", "already present", "kept (differs)"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for name, c in summary.tables.items():
        t.add_row(name, f"{c.staged:,}", f"{c.added:,}", f"{c.already_present:,}",
                  f"{c.changed:,}")
    console.print(t)
    console.print(f"source rows read: {summary.rows_read:,}")
    for reason, n in summary.skipped.items():
        console.print(f"[yellow]skipped {n:,} rows: {reason}[/yellow]")
    for note in summary.notes:
        console.print(f"[yellow]note: {note}[/yellow]")


KPI_TABLE_COLUMNS = ["orders", "revenue", "aov", "aov_ci_low", "aov_ci_high", "median",
                     "trimmed_aov", "units_per_order", "customers", "repeat_customer_rate",
                     "conversion_rate", "aov_pop_pct", "aov_yoy_pct"]


@app.command()
def kpis(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    by: Annotated[list[str] | None, typer.Option(
        "--by", "-b", help=f"Group by a dimension (repeatable): {', '.join(DIMENSIONS)}.")] = None,
    period: Annotated[str | None, typer.Option(
        "--period", "-p", help=f"Time grain: {', '.join(PERIODS)}.")] = None,
    definition: Definition_ = DEFAULT_DEFINITION,
    start: Start_ = None,
    end: End_ = None,
    currency: Currency_ = None,
    status: Status_ = None,
    where: Where_ = None,
    trim: Annotated[float, typer.Option(
        help="Tail share cut on each side for trimmed/winsorized AOV.")] = 0.05,
    columns: Annotated[str | None, typer.Option(
        help="Comma-separated columns to show (default: a summary set in the terminal, all "
             "columns in files).")] = None,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
) -> None:
    """AOV, median, trimmed AOV, percentiles, customers, conversion and deltas."""
    from .kpis import kpis as run

    ws = _open(workspace)
    try:
        df = run(ws, by=by or [], period=period, definition=definition, start=start, end=end,
                 currency=currency, statuses=status, filters=_filters(where), trim=trim,
                 engine=engine)
    finally:
        ws.close()
    keys = (["period"] if period else []) + list(by or [])
    if columns:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in df.columns]
        if unknown:
            raise AovlabError(f"unknown column(s) {unknown}",
                              fix=f"choose from {', '.join(df.columns)}")
        df = df[list(dict.fromkeys(keys + wanted))]
    elif fmt == "table" and len(df) > 1:
        df = df[keys + [c for c in KPI_TABLE_COLUMNS if c in df.columns]]
    write(df, fmt, output, title=f"AOV KPIs — {df.attrs.get('definition', definition)} "
          f"definition ({DEFINITIONS[df.attrs.get('definition', definition)].help})",
          caption=f"currency {', '.join(sorted(set(map(str, df['currency']))))}"
          if "currency" in df.columns else None, console=console if output is None else None)


@app.command()
def histogram(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    bins: Annotated[int, typer.Option(help="Equal-width bins below the outlier fence.")] = 20,
    fence: Annotated[float, typer.Option(
        help="Outliers are above Q3 + FENCE × IQR (3 = Tukey's far-out fence).")] = 3.0,
    definition: Definition_ = DEFAULT_DEFINITION,
    start: Start_ = None,
    end: End_ = None,
    currency: Currency_ = None,
    status: Status_ = None,
    where: Where_ = None,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
) -> None:
    """Order-value histogram with outliers flagged and their share of revenue."""
    from .kpis import histogram as run

    ws = _open(workspace)
    try:
        h = run(ws, bins=bins, fence_k=fence, definition=definition, start=start, end=end,
                currency=currency, statuses=status, filters=_filters(where), engine=engine)
    finally:
        ws.close()
    a = h.attrs
    caption = (f"{a['outlier_orders']:,} outlier orders above {a['fence']:,.2f} {a['currency']}: "
               f"{a['outlier_order_share']:.1%} of orders, {a['outlier_revenue_share']:.1%} of "
               "revenue")
    write(h, fmt, output, title=f"Order values — {a['definition']} definition",
          caption=caption, console=console if output is None else None)


@app.command()
def explain(
    base: Annotated[str, typer.Option(help="Base period START:END, e.g. 2011-01-01:2011-03-31.")],
    compare: Annotated[str, typer.Option(help="Period to compare, START:END.")],
    workspace: Workspace_ = Path("aovlab.duckdb"),
    by: Annotated[str, typer.Option(
        "--by", "-b", help=f"Dimension for mix vs rate: {', '.join(DIMENSIONS)}.")] = "channel",
    definition: Definition_ = DEFAULT_DEFINITION,
    currency: Currency_ = None,
    top: Annotated[int, typer.Option(help="Segments to show, largest effect first.")] = 10,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
) -> None:
    """Why AOV changed: mix vs rate, units × price, traffic × conversion × AOV."""
    from .explain import explain as run

    ws = _open(workspace)
    try:
        x = run(ws, base, compare, by=by, definition=definition, currency=currency,
                engine=engine)
    finally:
        ws.close()
    if fmt != "table":
        write(x.segments.assign(definition=x.definition), fmt, output)
        return
    pct = x.change / x.aov_base if x.aov_base else float("nan")
    console.print(
        f"[bold]{x.definition} AOV[/bold] {x.aov_base:,.2f} → {x.aov_compare:,.2f} "
        f"{x.currency} ({x.change:+,.2f}, {pct:+.1%}) from {x.base[0]}..{x.base[1]} to "
        f"{x.compare[0]}..{x.compare[1]}")
    console.print(f"  mix ({by} shares moved): {x.mix_effect:+,.2f}   "
                  f"rate (AOV within each {by} moved): {x.rate_effect:+,.2f}")
    console.print(rich_table(x.top(top), title=f"Top {by} contributors"))
    console.print(rich_table(x.factors, title="Identities (effects add up to each change)"))
    for note in x.notes:
        console.print(f"[yellow]note: {note}[/yellow]")


@app.command()
def status(workspace: Workspace_ = Path("aovlab.duckdb")) -> None:
    """What the workspace holds: rows per table, date range, currencies, imports."""
    from .workspace import workspace_status

    ws = _open(workspace)
    try:
        info = workspace_status(ws)
    finally:
        ws.close()
    console.print(rich_table(info["tables"], title=f"Workspace {workspace}"))
    console.print(rich_table(info["orders"], title="Orders by status and currency"))
    console.print(rich_table(info["imports"], title="Imports"))


@app.command()
def definitions() -> None:
    """List the AOV definitions and their formulas."""
    import pandas as pd

    df = pd.DataFrame([{"name": d.name, "formula": d.formula, "meaning": d.help,
                        "default": d.name == DEFAULT_DEFINITION} for d in DEFINITIONS.values()])
    console.print(rich_table(df, title="AOV definitions"))


@app.command()
def demo(
    workspace: Workspace_ = Path("demo.duckdb"),
    engine: Engine_ = "duckdb",
) -> None:
    """Import the bundled UCI Online Retail data (CC BY 4.0) and print its KPIs."""
    from .demo import run_demo

    run_demo(workspace, console=console, engine=engine)


@app.callback(invoke_without_command=True)
def _root(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False
          ) -> None:
    if version:
        console.print(f"aovlab {__version__}")
        raise typer.Exit()


def main() -> None:
    try:
        app(standalone_mode=False)
    except AovlabError as exc:
        err.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False)
        if exc.fix:
            err.print(f"[bold]fix:[/bold] {exc.fix}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own message and code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
