"""The ``aovlab`` command: a thin layer over the library.

Every command builds one :class:`~aovlab.query.Selection`, calls one documented function
(``import_files``, ``kpis``, ``histogram``, ``explain``) and hands the result to a
renderer of :mod:`aovlab.report`; every :class:`AovlabError` becomes a short message and
exit code 2. The ``import`` options are generated from the importers' option dataclasses.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..errors import AovlabError, is_interrupt, log_folder
from ..importers import FORMATS as IMPORT_FORMATS
from ..importers import option_fields
from ..query import DIMENSIONS, PERIODS, VS, Selection
from ..report import (
    FORMATS,
    check_output,
    histogram_bars,
    histogram_title,
    kpi_columns,
    kpi_title,
    render_clv,
    render_cohorts,
    render_explanation,
    render_holdout,
    render_segments,
    rich_table,
    write,
    write_console,
    write_text,
)
from ..schema import DEFAULT_DEFINITION, DEFINITIONS
from ..version import __version__

T = TypeVar("T")

app = typer.Typer(
    name="aovlab",
    help="Average Order Value analytics: import orders, measure AOV and explain why it moved.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide tables read better than wrapped ones when output goes to a log or a pipe (COLUMNS,
# when set, still decides); in a terminal, its width.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
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
    help="Engine: duckdb (embedded, default), spark (local[2] unless SPARK_MASTER is set) "
         "or postgres (the server of a postgresql:// --catalog, which it is by default).")]
Format_ = Annotated[str, typer.Option(
    "--format", "-f", help=f"Output format: {', '.join(FORMATS)}.")]
Output_ = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write to this file instead of the terminal (never onto the "
                           "workspace; an existing file only with --force).")]
Force_ = Annotated[bool, typer.Option("--force", help="Replace an existing --output file.")]
Last_ = Annotated[str | None, typer.Option(
    "--last", help="The data's last whole day, week, month, quarter or year (relative to "
                   "its last order date, not today).")]
Vs_ = Annotated[str, typer.Option(
    "--vs", help="Compare with the previous period or the same period a year earlier "
                 "(previous, year).")]


def _filters(where: list[str] | None) -> dict[str, str]:
    out = {}
    for item in where or []:
        if "=" not in item:
            raise AovlabError(f"--where {item!r} is not DIMENSION=VALUE",
                              fix="write e.g. --where country=France")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def selection_from(*, definition: str, start: str | None = None, end: str | None = None,
               currency: str | None = None, status: list[str] | None = None,
               where: list[str] | None = None, by: list[str] | str | None = None,
               period: str | None = None, engine: str = "duckdb") -> Selection:
    """The one selection a command works on, from its options."""
    return Selection.of(definition=definition, start=start, end=end, currency=currency,
                        statuses=status, filters=_filters(where), by=by or (), period=period,
                        engine=engine)


def emit_result(r: Any, fmt: str, output: Path | None, *, table: str,
                render: Callable[[Any, Console], None], protect: list[Path],
                force: bool) -> None:
    """A result where the user asked: the whole result as JSON (``-f json``), the table
    ``table`` as CSV/Parquet, else the terminal view ``render(r, console)`` on screen or,
    with ``--output``, as text in the file."""
    if fmt == "json":
        write_text(r.to_json(), output, protect=protect, force=force)
    elif fmt != "table":
        write(r.tables[table], fmt, output, protect=protect, force=force)
    elif output is not None:
        write_console(check_output(output, protect=protect, force=force),
                      lambda c: render(r, c))
    else:
        render(r, console)


def print_notes(r: Any) -> None:
    """The result's notes, on standard error (a pipe of the table stays clean)."""
    for note in r.notes:
        err.print(Text(f"note: {note}", style="yellow"))


def read_workspace(path: Path, question: Callable[[Any], T], *,
                   catalog_ok: bool = True) -> T:
    """``question(ws)`` on the workspace at ``path``, opened read-only and closed after —
    or, with ``--catalog`` (``AOVLAB_CATALOG``), on that catalog instead."""
    spec = _state.get("catalog")
    tables = _state.get("tables")
    if spec or tables:
        from ..storage import SparkTables, open_catalog

        if not catalog_ok:
            raise AovlabError("this command reads a workspace file, not a catalog",
                              fix="leave out --catalog and --table (and unset "
                                  "AOVLAB_CATALOG)")
        if spec and tables:
            raise AovlabError("--catalog and --table both say where the tables are",
                              fix="give one: --catalog parquet:DIR / postgresql://…, or "
                                  "--table NAME=SPARK_TABLE for tables in Spark")
        cat = SparkTables.parse(tables) if tables else open_catalog(str(spec))
        try:
            return question(cat)
        finally:
            cat.close()
    ws = _open(path)
    try:
        return question(ws)
    finally:
        ws.close()


def _open(path: Path, *, create: bool = False):
    from ..errors import WorkspaceError
    from ..storage import Workspace

    if not create and not path.exists():
        raise WorkspaceError(f"workspace {path} does not exist",
                             fix="run 'aovlab import FILE --format ...' first, or pass "
                                 "--workspace")
    # Commands that only read open the file read-only: they cannot change it, and they work
    # on a read-only file or beside another reader.
    ws = Workspace(path, read_only=not create)
    if ws.recovered:
        err.print(Text(f"note: {ws.recovered}", style="yellow"))
    return ws


def import_cmd(files: list[Path], fmt: str, workspace: Path, as_json: bool,
               source: str | None = None, **options: object) -> None:
    """Import orders into a workspace: atomic (all or nothing) and idempotent."""
    from ..importers import choose_format, import_files, resolve_format

    given = {k: v for k, v in options.items() if v is not None}
    fmt, why = choose_format(files, fmt, given)
    importer = resolve_format(fmt)
    if why is not None:
        err.print(Text(f"format {importer.name}: recognised from the file ({why}); pass "
                       "--format to choose another"))
    accepted = set(importer.Options.__dataclass_fields__)
    unknown = sorted(set(given) - accepted)
    if unknown:
        flags = ", ".join("--" + u.replace("_", "-") for u in unknown)
        raise AovlabError(
            f"the {importer.name} format takes no {flags}",
            fix="its options are: " + (", ".join("--" + a.replace("_", "-") for a in sorted(
                accepted & set(option_fields()))) or "none"))
    existed = workspace.exists()
    if not existed:
        _state["creating"] = workspace
    ws = _open(workspace, create=True)
    ok = False
    try:
        # Import steps (reading, checking values, building orders, validating, writing) are
        # single DuckDB statements of unknown length: a pulsing bar with the step's name.
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TimeElapsedColumn(), console=err, transient=True,
                      disable=as_json or not err.is_terminal) as bar:
            task = bar.add_task(f"importing {', '.join(map(str, files))}", total=None)

            def progress(step: str) -> None:
                bar.update(task, description=f"{step}: {', '.join(map(str, files))}")

            summary = import_files(ws, files, fmt, source=source, progress=progress, **given)
        ok = True
        _state.pop("creating", None)
    finally:
        ws.close()
        if not ok and not existed:  # a first import that fails leaves no file behind
            for p in (workspace, workspace.with_name(workspace.name + ".wal")):
                p.unlink(missing_ok=True)
    if as_json:
        import json

        console.print_json(json.dumps(summary.to_dict(), default=str))
        return
    _print_summary(summary, workspace)


def _print_summary(summary, workspace: Path) -> None:
    from rich.table import Table

    t = Table(title=Text(f"Imported into {workspace} ({summary.format}, source "
                         f"{summary.source})"))
    for col in ("table", "rows in file(s)", "added", "already present", "kept (differs)"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for name, c in summary.tables.items():
        t.add_row(name, f"{c.staged:,}", f"{c.added:,}", f"{c.already_present:,}",
                  f"{c.changed:,}")
    console.print(t)
    console.print(f"rows read from the file(s): {summary.rows_read:,}")
    for reason, n in summary.skipped.items():
        console.print(Text(f"skipped {n:,} rows: {reason}", style="yellow"))
    for note in summary.notes:
        console.print(Text(f"note: {note}", style="yellow"))


def _import_signature() -> inspect.Signature:
    """``aovlab import``'s parameters: the fixed ones, then every importer option."""
    fixed = [
        inspect.Parameter("files", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
            list[Path], typer.Argument(help="File(s) or folder to import.")]),
        inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, default="auto",
                          annotation=Annotated[str, typer.Option("--format", "-f", help=(
                              "Source format (default auto: recognised from the file's "
                              "header; generic with --mapping): " + "; ".join(
                                  f"{i.name} ({i.help.rstrip('.')})"
                                  for i in IMPORT_FORMATS.values()) + "."))]),
        inspect.Parameter("workspace", inspect.Parameter.KEYWORD_ONLY,
                          default=Path("aovlab.duckdb"), annotation=Workspace_),
        inspect.Parameter("source", inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[str | None, typer.Option(
                              "--source", help=(
                                  "Namespace of the imported rows: the store or data set "
                                  "(default: the format's name). Order ids are unique per "
                                  "source and rows never join another source's; give a "
                                  "second store its own name (--source au-store)."))]),
    ]
    for name, (f, formats) in option_fields().items():
        spelt = str(f.type)  # annotations are text (PEP 563)
        py = bool if "bool" in spelt else Path if "Path" in spelt else str
        flag = "--" + name.replace("_", "-")
        decl = f"{flag}/--no-{name.replace('_', '-')}" if py is bool else flag
        fixed.append(inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[py | None, typer.Option(
                decl, help=f"{f.metadata['help']} Formats: {', '.join(formats)}.")]))
    fixed.append(inspect.Parameter(
        "as_json", inspect.Parameter.KEYWORD_ONLY, default=False,
        annotation=Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]))
    return inspect.Signature(fixed)


def _import_entry(**kwargs: object) -> None:
    import_cmd(kwargs.pop("files"), kwargs.pop("fmt"), kwargs.pop("workspace"),
               kwargs.pop("as_json"), kwargs.pop("source"), **kwargs)


_import_entry.__signature__ = _import_signature()  # type: ignore[attr-defined]
_import_entry.__doc__ = import_cmd.__doc__
app.command("import")(_import_entry)


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
    last: Last_ = None,
    vs: Annotated[str | None, typer.Option(
        "--vs", help="With --last: show the change against the previous period or a year "
                     "earlier (previous, year; default both).")] = None,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
    force: Force_ = False,
) -> None:
    """AOV, median, trimmed AOV, percentiles, customers, conversion and deltas."""
    from ..analyses import kpis as run

    if vs is not None and vs not in VS:
        raise AovlabError(f"--vs {vs!r} is not a comparison", fix="use previous or year")
    if (start or end) and last:
        raise AovlabError("give --start/--end or --last, not both", fix="drop one of them")
    if vs is not None and not (last or period):
        raise AovlabError("--vs picks a change between periods: it needs --last or --period",
                          fix="add --last month (or --period month)")
    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                     status=status, where=where, by=by, period=period, engine=engine)
    result = read_workspace(workspace, lambda ws: run(ws, sel, trim=trim, last=last))
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if wanted is None and vs is not None and fmt == "table":
        tag = "pop" if vs == "previous" else "yoy"
        wanted = ["orders", "revenue", "aov", "aov_ci_low", "aov_ci_high", "median",
                  f"aov_{tag}_change", f"aov_{tag}_pct", f"orders_{tag}_pct",
                  f"revenue_{tag}_pct"]
    df = kpi_columns(result, wanted, terminal=fmt == "table")
    title, caption = kpi_title(result)
    write(df, fmt, output, title=title, caption=caption,
          console=console if output is None else None, protect=[workspace], force=force)
    for note in result.notes:
        err.print(Text(f"note: {note}", style="yellow"))


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
    force: Force_ = False,
) -> None:
    """Order-value histogram with outliers flagged and their share of revenue."""
    from ..analyses import histogram as run

    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                     status=status, where=where, engine=engine)
    h = read_workspace(workspace, lambda ws: run(ws, sel, bins=bins, fence_k=fence))
    title, caption = histogram_title(h)
    write(histogram_bars(h) if fmt == "table" else h.table, fmt, output, title=title,
          caption=caption,
          console=console if output is None else None, protect=[workspace], force=force)
    for note in h.notes:
        err.print(Text(f"note: {note}", style="yellow"))


@app.command()
def explain(
    base: Annotated[str | None, typer.Option(
        help="Base period START:END, e.g. 2011-01-01:2011-03-31.")] = None,
    compare: Annotated[str | None, typer.Option(help="Period to compare, START:END.")] = None,
    last: Last_ = None,
    vs: Vs_ = "previous",
    workspace: Workspace_ = Path("aovlab.duckdb"),
    by: Annotated[str, typer.Option(
        "--by", "-b", help=f"Dimension for mix vs rate: {', '.join(DIMENSIONS)}.")] = "channel",
    definition: Definition_ = DEFAULT_DEFINITION,
    currency: Currency_ = None,
    status: Status_ = None,
    where: Where_ = None,
    top: Annotated[int, typer.Option(help="Segments to show, largest effect first.")] = 10,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Why AOV changed: mix vs rate, units × price, traffic × conversion × AOV."""
    from ..analyses import explain as run

    sel = selection_from(definition=definition, currency=currency, status=status, where=where,
                     by=by, engine=engine)
    x = read_workspace(workspace, lambda ws: run(ws, base, compare, sel, last=last, vs=vs))
    if fmt == "json":  # the whole explanation: headline, periods, segments, identities
        write_text(x.to_json(), output, protect=[workspace], force=force)
    elif fmt != "table":  # a table format: the segment rows
        write(x.segments.assign(definition=x.definition), fmt, output, protect=[workspace],
              force=force)
    elif output is not None:
        write_console(check_output(output, protect=[workspace], force=force),
                      lambda c: render_explanation(x, c, top))
    else:
        render_explanation(x, console, top)


@app.command()
def clv(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    cutoff: Annotated[str | None, typer.Option(
        help="Fit on orders up to this date (YYYY-MM-DD); default the last order date.")] = None,
    horizon: Annotated[int, typer.Option(help="Months of future purchases valued.")] = 12,
    discount_rate: Annotated[float, typer.Option(
        help="Annual discount rate of future spend (0.1 = 10% a year).")] = 0.10,
    margin: Annotated[float | None, typer.Option(
        help="Share of the order value kept as profit (0.3 = 30%); default from the "
             "workspace's costs, else 1 (CLV of revenue).")] = None,
    model: Annotated[str, typer.Option(
        help="Repeat-purchase model: bgnbd (BG/NBD), pareto (Pareto/NBD) or mbg "
             "(modified BG/NBD).")] = "bgnbd",
    compare: Annotated[bool, typer.Option(
        "--compare", help="Fit all three models and compare their log-likelihood, AIC and "
                          "BIC.")] = False,
    lifespan: Annotated[float | None, typer.Option(
        help="Years a customer stays, for the historical CLV; default their observed mean "
             "age.")] = None,
    unit: Annotated[str, typer.Option(help="Time unit of recency and T: week or day.")] = "week",
    top: Annotated[int, typer.Option(help="Customers shown in the terminal.")] = 10,
    definition: Definition_ = DEFAULT_DEFINITION,
    currency: Currency_ = None,
    status: Status_ = None,
    where: Where_ = None,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Customer lifetime value: P(alive), expected purchases and spend, discounted CLV."""
    from ..analyses import clv as run

    sel = selection_from(definition=definition, currency=currency, status=status, where=where,
                     engine=engine)
    with err.status("fitting the customer models ...") if err.is_terminal else \
            contextlib.nullcontext():
        r = read_workspace(workspace, lambda ws: run(
            ws, sel, cutoff=cutoff, horizon=horizon, discount_rate=discount_rate,
            margin=margin, model=model, compare=compare, lifespan_years=lifespan, unit=unit))
    if fmt == "json":  # everything: customers, parameters, historical, comparison, meta
        write_text(r.to_json(), output, protect=[workspace], force=force)
    elif fmt != "table":  # a table format: one row per customer
        write(r.table, fmt, output, protect=[workspace], force=force)
    elif output is not None:
        write_console(check_output(output, protect=[workspace], force=force),
                      lambda c: render_clv(r, c, top))
    else:
        render_clv(r, console, top)
    for note in r.notes:
        err.print(Text(f"note: {note}", style="yellow"))


@app.command()
def holdout(
    calibration_end: Annotated[str, typer.Option(
        "--calibration-end", help="Fit on orders up to this date (YYYY-MM-DD); the hold-out "
                                  "follows it.")],
    end: Annotated[str | None, typer.Option(
        help="Last day of the hold-out (YYYY-MM-DD); default the last order date.")] = None,
    workspace: Workspace_ = Path("aovlab.duckdb"),
    model: Annotated[str, typer.Option(
        help="Repeat-purchase model: bgnbd, pareto or mbg.")] = "bgnbd",
    unit: Annotated[str, typer.Option(help="Time unit of the fit: week or day.")] = "week",
    table: Annotated[str, typer.Option(
        help="With -f csv/json/parquet: which table, by_frequency or weekly.")] = "by_frequency",
    definition: Definition_ = DEFAULT_DEFINITION,
    currency: Currency_ = None,
    status: Status_ = None,
    where: Where_ = None,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Check a customer model: fit up to a date, predict the hold-out, compare with it."""
    from ..analyses import holdout as run

    if table not in ("by_frequency", "weekly"):
        raise AovlabError(f"--table {table!r} is not one of the hold-out's tables",
                          fix="use by_frequency or weekly")
    sel = selection_from(definition=definition, currency=currency, status=status, where=where,
                     engine=engine)
    with err.status("fitting and checking the model ...") if err.is_terminal else \
            contextlib.nullcontext():
        r = read_workspace(workspace, lambda ws: run(ws, sel, calibration_end=calibration_end,
                                            end=end, model=model, unit=unit))
    emit_result(r, fmt, output, table=table, render=render_holdout, protect=[workspace],
                force=force)
    print_notes(r)


@app.command()
def segments(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    export: Annotated[Path | None, typer.Option(
        "--export", help="Also write one row per customer (segment, tier, scores, CLV) to "
                         "this CSV, for a mail tool (safe against spreadsheet formulas).")
    ] = None,
    cutoff: Annotated[str | None, typer.Option(
        help="Score the customers as of this date (YYYY-MM-DD); default the last order "
             "date.")] = None,
    horizon: Annotated[int, typer.Option(help="Months of the CLV per segment.")] = 12,
    margin: Annotated[float | None, typer.Option(
        help="Share of the order value kept, for the CLV; default from costs, else 1.")] = None,
    table: Annotated[str, typer.Option(
        help="With -f csv/json/parquet: segments, tiers or customers.")] = "segments",
    definition: Definition_ = DEFAULT_DEFINITION,
    currency: Currency_ = None,
    status: Status_ = None,
    where: Where_ = None,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
    force: Force_ = False,
) -> None:
    """RFM segments and spend tiers with their AOV, revenue share, CLV and an action."""
    from ..analyses import segments as run

    if table not in ("segments", "tiers", "customers"):
        raise AovlabError(f"--table {table!r} is not one of the segments' tables",
                          fix="use segments, tiers or customers")
    if export is not None:
        check_output(export, protect=[workspace], force=force)
    sel = selection_from(definition=definition, currency=currency, status=status, where=where,
                     engine=engine)
    with err.status("scoring the customers ...") if err.is_terminal else \
            contextlib.nullcontext():
        r = read_workspace(workspace, lambda ws: run(ws, sel, cutoff=cutoff, horizon=horizon,
                                            margin=margin))
    if fmt == "json":
        write_text(r.to_json(), output, protect=[workspace], force=force)
    elif fmt != "table":
        write(r.tables[table], fmt, output, protect=[workspace], force=force)
    elif output is not None:
        write_console(check_output(output, protect=[workspace], force=force),
                      lambda c: render_segments(r, c))
    else:
        render_segments(r, console)
    if export is not None:
        write(r.tables["customers"], "csv", export, protect=[workspace], force=force)
        err.print(Text(f"wrote {len(r.tables['customers']):,} customers to {export}"))
    for note in r.notes:
        err.print(Text(f"note: {note}", style="yellow"))


@app.command()
def cohorts(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    by: Annotated[str, typer.Option(
        "--by", "-b", help="Group customers by their first order's month, channel, country "
                           "or coupon.")] = "month",
    months: Annotated[int | None, typer.Option(
        help="Follow each cohort this many months after its first (default: all).")] = None,
    cutoff: Annotated[str | None, typer.Option(
        help="Last order date counted (YYYY-MM-DD); default the last order date.")] = None,
    table: Annotated[str, typer.Option(
        help="With -f csv/json/parquet: cohorts, triangle or aov.")] = "cohorts",
    definition: Definition_ = DEFAULT_DEFINITION,
    currency: Currency_ = None,
    status: Status_ = None,
    where: Where_ = None,
    engine: Engine_ = "duckdb",
    fmt: Format_ = "table",
    output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Cohorts: retention by month since the first order, revenue per customer, first vs
    later AOV."""
    from ..analyses import cohorts as run

    if table not in ("cohorts", "triangle", "aov"):
        raise AovlabError(f"--table {table!r} is not one of the cohorts' tables",
                          fix="use cohorts, triangle or aov")
    sel = selection_from(definition=definition, currency=currency, status=status, where=where,
                     engine=engine)
    r = read_workspace(workspace, lambda ws: run(ws, sel, by=by, months=months, cutoff=cutoff))
    if fmt == "json":
        write_text(r.to_json(), output, protect=[workspace], force=force)
    elif fmt != "table":
        write(r.tables[table], fmt, output, protect=[workspace], force=force)
    elif output is not None:
        write_console(check_output(output, protect=[workspace], force=force),
                      lambda c: render_cohorts(r, c))
    else:
        render_cohorts(r, console)
    for note in r.notes:
        err.print(Text(f"note: {note}", style="yellow"))


@app.command()
def report(
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="The HTML file to write (works offline: no network).")],
    workspace: Workspace_ = Path("aovlab.duckdb"),
    definition: Definition_ = DEFAULT_DEFINITION,
    start: Start_ = None,
    end: End_ = None,
    last: Annotated[str | None, typer.Option(
        help="Report on the data's last whole week, month, quarter or year only.")] = None,
    vs: Annotated[str, typer.Option(
        help="What 'why AOV moved' compares the last period with: previous or year.")
    ] = "previous",
    currency: Currency_ = None,
    status: Status_ = None,
    where: Where_ = None,
    title: Annotated[str | None, typer.Option(help="The report's title.")] = None,
    locale: Annotated[str | None, typer.Option(
        help="Language of labels, numbers and dates: en, de, fa, ro or zh_TW.")] = None,
    charts: Annotated[Path | None, typer.Option(
        "--charts", help="Also write every chart into this folder as PNG and SVG "
                         "(needs Chromium).")] = None,
    engine: Engine_ = "duckdb",
    force: Force_ = False,
) -> None:
    """An offline HTML report: KPI cards, trend, histogram, why AOV moved, breakdowns, funnel."""
    from ..report.html import report as run

    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                     status=status, where=where, engine=engine)
    with err.status("building the report ...") if err.is_terminal else \
            contextlib.nullcontext():
        html = read_workspace(workspace, lambda ws: run(ws, sel, output=output, force=force,
                                               title=title, locale=locale, last=last,
                                               vs=vs, charts_dir=charts))
    err.print(Text(f"wrote {output} ({len(html.encode()) / 1e6:.1f} MB, works offline)"
                   + (f" and the charts into {charts}/" if charts is not None else "")))


@app.command()
def serve(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs "
                                           "--token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option(
        envvar="AOVLAB_TOKEN", help="Required on every request (?token= or a Bearer "
                                    "header); needed for a non-loopback --host.")] = None,
    locale: Annotated[str | None, typer.Option(
        help="The dashboard's language (en, de, fa, ro, zh_TW); without it, the "
             "browser's Accept-Language.")] = None,
) -> None:
    """A local dashboard at / (the report with filters and downloads) and a JSON API
    (OpenAPI at /openapi.json)."""
    from ..web import LOOPBACK, create_app

    if host not in LOOPBACK and not token:
        raise AovlabError(f"--host {host} would serve the workspace beyond this machine "
                          "without a token",
                          fix="pass --token SECRET (or AOVLAB_TOKEN), or keep --host 127.0.0.1")
    if not 0 < port < 65536:
        raise AovlabError(f"--port {port} is not a port", fix="use e.g. --port 8000")
    import uvicorn

    app_ = create_app(workspace, token=token, locale=locale)
    err.print(Text(f"serving {workspace} (read-only) at http://{host}:{port}/ — Ctrl-C stops"))
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@app.command()
def status(workspace: Workspace_ = Path("aovlab.duckdb")) -> None:
    """What the workspace holds: rows per table, date range, currencies, imports."""
    from ..storage import workspace_status

    info = read_workspace(workspace, workspace_status, catalog_ok=False)
    console.print(rich_table(info["tables"], title=f"Workspace {workspace}"))
    console.print(rich_table(info["orders"], title="Orders by status and currency"))
    console.print(rich_table(info["imports"], title="Imports"))


@app.command()
def export(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    parquet: Annotated[Path | None, typer.Option(
        help="Folder to write the canonical tables to as a Parquet dataset (orders and "
             "lines partitioned by month, with a schema file).")] = None,
    postgres: Annotated[str | None, typer.Option(
        help="PostgreSQL DSN to write the canonical tables to, e.g. "
             "postgresql://user@host/shop?schema=aovlab (schema aovlab by default), in one "
             "transaction; the password from PGPASSWORD or ~/.pgpass.")] = None,
    force: Force_ = False,
) -> None:
    """Write the workspace's canonical tables as a Parquet dataset or into PostgreSQL, for
    --catalog (DuckDB, Spark, PostgreSQL)."""
    import pandas as pd

    if (parquet is None) == (postgres is None):
        raise AovlabError("say where to export: --parquet DIR or --postgres DSN (one of them)",
                          fix="e.g. aovlab export -w shop.duckdb --parquet shop-data/")
    if parquet is not None:
        from ..storage import export_parquet

        info = read_workspace(workspace, lambda ws: export_parquet(ws, parquet, force=force),
                              catalog_ok=False)
        rows = pd.DataFrame([{"table": t, "rows": v["rows"],
                              "partitioned by month": v["partitioned"]}
                             for t, v in info["tables"].items()])
        title = f"Wrote {parquet} (read it with --catalog parquet:{parquet})"
    else:
        from ..storage.postgres import export_postgres, shown_dsn

        with err.status("writing to PostgreSQL ...") if err.is_terminal else \
                contextlib.nullcontext() as status:
            def progress(table: str, n: int) -> None:
                if status is not None:
                    status.update(f"writing {table} to PostgreSQL: {n:,} rows")

            info = read_workspace(workspace, lambda ws: export_postgres(
                ws, postgres, force=force, progress=progress), catalog_ok=False)
        rows = pd.DataFrame([{"table": t, "rows": n} for t, n in info["tables"].items()])
        title = f"Wrote PostgreSQL schema {info['schema']}"
        err.print(Text(f"read it with --catalog '{shown_dsn(postgres)}'"))
    console.print(rich_table(rows, title=title))


@app.command()
def check(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    all_checks: Annotated[bool, typer.Option(
        "--all", help="List the checks that pass too.")] = False,
    engine: Annotated[str, typer.Option(
        help="Where the checks run: duckdb (default; for a PostgreSQL or Spark-table "
             "catalog, its own engine), spark or postgres.")] = "duckdb",
    fmt: Format_ = "table", output: Output_ = None, force: Force_ = False,
) -> None:
    """Check the canonical tables (a workspace, or --catalog) against the schema's rules;
    exit 1 when any row breaks one."""
    import pandas as pd

    from ..engines import check_tables

    df = pd.DataFrame(read_workspace(workspace, lambda ws: check_tables(ws, engine)))
    failing = df[df["rows_failing"] > 0]
    shown = df if all_checks else failing
    from ..storage.postgres import shown_dsn

    where = shown_dsn(str(_state["catalog"])) if _state.get("catalog") else (
        "the Spark tables" if _state.get("tables") else workspace)
    if fmt != "table" or output is not None or not shown.empty:
        write(shown, fmt, output, title=f"Checks failing on {where}" if not all_checks
              else f"Checks on {where}", console=console if output is None else None,
              protect=[workspace], force=force)
    if failing.empty:
        err.print(Text(f"all {len(df)} checks pass on {where}", style="green"))
        return
    err.print(Text(f"{len(failing)} of {len(df)} checks fail "
                   f"({int(failing['rows_failing'].sum()):,} rows)", style="bold red"))
    raise typer.Exit(1)


#: Settings stored with a workspace: name -> help.
SETTINGS = {"memory_limit": "Memory DuckDB may use for this workspace, e.g. 8GB or 30% "
                            "(--memory-limit and AOVLAB_MEMORY_LIMIT still override it)."}


@app.command()
def config(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    name: Annotated[str | None, typer.Argument(
        help="The setting: " + "; ".join(f"{k}: {v}" for k, v in SETTINGS.items()))] = None,
    value: Annotated[str | None, typer.Argument(help="Its new value.")] = None,
    unset: Annotated[bool, typer.Option(
        "--unset", help="Forget the setting (back to the default).")] = False,
) -> None:
    """Settings stored with the workspace: list them, or set or --unset one."""
    import pandas as pd

    from ..storage import Workspace

    if name is not None and name not in SETTINGS:
        raise AovlabError(f"{name!r} is not a workspace setting",
                          fix=f"use one of {', '.join(SETTINGS)}")
    if (value is not None or unset) and _state.get("catalog"):
        raise AovlabError("settings belong to a workspace file, not a catalog",
                          fix="leave out --catalog (and unset AOVLAB_CATALOG)")
    if value is not None and unset:
        raise AovlabError("give a value or --unset, not both", fix="e.g. memory_limit 8GB")
    if value is None and not unset:
        ws = _open(workspace)
    elif name is None:
        raise AovlabError("say which setting to change", fix="e.g. aovlab config memory_limit 8GB")
    else:
        _open(workspace).close()  # exists, and is a workspace (said as for any command)
        ws = Workspace(workspace)
        ws.set_memory_limit(None if unset else value)
    try:
        stored = ws.stored_memory_limit
        rows = pd.DataFrame([{"setting": "memory_limit", "stored": stored or "(not set)",
                              "in effect": f"{ws.memory_limit / 2 ** 30:.2f} GiB"}])
    finally:
        ws.close()
    console.print(rich_table(rows, title=f"Settings of {workspace}"))


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
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", envvar="AOVLAB_DEBUG",
        help="Show the full traceback of an internal error instead of a one-line message.")
    ] = False,
    catalog: Annotated[str | None, typer.Option(
        "--catalog", envvar="AOVLAB_CATALOG",
        help="Read the canonical tables from a catalog instead of the workspace: "
             "parquet:DIR (a dataset written by aovlab export --parquet) or "
             "postgresql://user@host/db?schema=aovlab (tables or views in PostgreSQL, "
             "queried there).")] = None,
    table: Annotated[list[str] | None, typer.Option(
        "--table", help="A canonical table in the Spark session's catalog, as "
                        "NAME=SPARK_TABLE (repeat it): e.g. --table orders=shop.orders "
                        "--table order_lines=shop.lines; read in place by Spark (a path "
                        "table such as parquet.`/lake/orders` works too).")] = None,
    memory_limit: Annotated[str | None, typer.Option(
        "--memory-limit", envvar="AOVLAB_MEMORY_LIMIT",
        help="Memory DuckDB may use, e.g. 4GB or 50% (default: half of this machine's); "
             "beyond it, work spills to disk.")] = None,
) -> None:
    _state["debug"] = debug
    if memory_limit is not None:
        from ..storage.memory import ENV, memory_limit_bytes

        memory_limit_bytes(memory_limit)  # a bad value is said here, once
        os.environ[ENV] = memory_limit
    _state["catalog"] = catalog
    _state["tables"] = table or None
    if version:
        console.print(f"aovlab {__version__}")
        raise typer.Exit()


_state: dict[str, object] = {"debug": False, "catalog": None, "tables": None}


def _say(message: str, fix: str | None = None) -> None:
    # Messages quote the user's data: printed as plain text, never as Rich markup.
    err.print(Text.assemble(("error: ", "bold red"), message), highlight=False)
    if fix:
        err.print(Text.assemble(("fix: ", "bold"), fix), highlight=False)


def _crash_log(exc: BaseException) -> Path | None:
    """Write the traceback of an internal error where the user can find and send it."""
    import os
    import traceback
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (f"aovlab {__version__}, Python {sys.version.split()[0]}\n"
            f"command: {' '.join(sys.argv)}\n\n"
            + "".join(traceback.format_exception(exc)))
    folder = log_folder()
    if folder is None:
        return None
    log = folder / f"aovlab-error-{stamp}-{os.getpid()}.log"
    try:
        log.write_text(text, encoding="utf-8")
    except OSError:
        return None
    return log


def _aborted() -> None:
    """Ctrl-C: say so and leave at once.

    No clean-up runs: after an interrupted query DuckDB can hang closing its connection,
    and nothing needs it. An import's transaction never committed, and the workspace's next
    opening clears the marker it left (as after a kill; see aovlab.storage.recovery).
    """
    import os
    from contextlib import suppress

    if err.is_terminal:
        sys.stderr.write("\x1b[?25h")  # the progress bar hid the cursor; no clean-up shows it
    err.print("aborted (Ctrl-C); nothing was written")
    created = _state.get("creating")
    if isinstance(created, Path):  # a first import leaves no file behind
        for p in (created, created.with_name(created.name + ".wal")):
            with suppress(OSError):
                p.unlink(missing_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def main() -> None:
    """The command line's one error boundary.

    Exit 0 on success; 2 with a message and a fix for anything the user can correct (usage
    errors print the usage); 130 on Ctrl-C; 1 for an internal error, with its traceback in
    a log file to report (printed instead with ``--debug``).
    """
    import signal

    # Ctrl-C leaves at once, from the handler: unwinding through DuckDB after an interrupted
    # query can hang in its connection's destructor (DuckDB 1.5, on a loaded machine).
    signal.signal(signal.SIGINT, lambda *_: _aborted())
    try:
        # Outside standalone mode typer turns Ctrl-C into a returned 130 and Exit(n) into n.
        code = app(standalone_mode=False)
        if code == 130:
            raise KeyboardInterrupt
        if isinstance(code, int) and code:
            sys.exit(code)
    except AovlabError as exc:
        _say(exc.message, exc.fix)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _aborted()
    except Exception as exc:
        if isinstance(exc, OSError) and exc.filename is not None and not _state["debug"]:
            # A path the system refuses (too long, no permission, a device): the user's to
            # fix, not a bug.
            shown = str(exc.filename)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            _say(f"cannot use {shown!r}: {exc.strerror or exc}",
                 fix="check the path, its length and its permissions")
            sys.exit(2)
        # Usage errors (unknown option, bad value, missing argument) are the bundled click's
        # exceptions (typer 0.29 vendors click): they print their usage and carry exit code 2.
        if callable(getattr(exc, "show", None)) and isinstance(
                getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        if is_interrupt(exc):  # Ctrl-C inside a DuckDB query
            _aborted()
        if _state["debug"]:
            raise
        log = _crash_log(exc)
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        _say(f"internal error ({type(exc).__name__}: {first}). This is a bug in aovlab, "
             "not in your data or options: please report it"
             + (f", with the log {log}" if log else ""),
             fix="run the command again with --debug to see the traceback")
        sys.exit(1)


# The basket and lever commands live in their own modules (registered on ``app`` when imported).
from . import baskets as _baskets  # noqa: E402, F401
from . import levers as _levers  # noqa: E402, F401

if __name__ == "__main__":  # pragma: no cover
    main()
