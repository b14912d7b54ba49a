"""The lever and experiment commands: threshold (free shipping or "X off over Y"),
threshold-change, price-test, abtest and power.

Each builds one selection, calls one function of :mod:`aovlab.analyses.levers` and renders
its result: a terminal view, one table with ``-f csv/parquet`` (``--table``), the whole
result with ``-f json``, and ``--chart FILE.html`` for the order-value chart.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from ..errors import AovlabError
from ..report import (
    check_output,
    render_abtest,
    render_price_test,
    render_threshold,
    render_threshold_change,
    write,
    write_text,
)
from ..schema import DEFAULT_DEFINITION
from . import (
    Currency_,
    Definition_,
    End_,
    Engine_,
    Force_,
    Format_,
    Output_,
    Start_,
    Status_,
    Where_,
    Workspace_,
    app,
    console,
    emit_result,
    err,
    print_notes,
    read_workspace,
    selection_from,
)


def _numbers(text: str | None, option: str) -> list[float] | None:
    """``40,50,60`` or ``40:100:5`` (from 40 to 100 in steps of 5) as numbers."""
    if text is None:
        return None
    try:
        if ":" in text:
            a, b, step = (float(x) for x in text.split(":"))
            if not (step > 0 and b >= a and (b - a) / step < 1000):
                raise ValueError
            return [a + i * step for i in range(int(math.floor((b - a) / step + 1e-9)) + 1)]
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        out = []
    if not out or not all(map(math.isfinite, out)):
        raise AovlabError(f"{option} {text!r} is not a list of thresholds",
                          fix=f"write e.g. {option} 40,50,60 or {option} 40:100:5 (at most "
                              "1,000 thresholds)")
    return out


@app.command()
def threshold(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    current: Annotated[float | None, typer.Option(
        help="The store's existing threshold; default: detected from the order values.")
    ] = None,
    detect: Annotated[bool, typer.Option(
        "--detect/--no-detect", help="Look for an existing threshold in the order values "
                                     "when --current is not given.")] = True,
    offer: Annotated[str, typer.Option(
        help="shipping (free shipping over the threshold) or discount (--amount or --rate "
             "off over it).")] = "shipping",
    fee: Annotated[float | None, typer.Option(
        help="Shipping a qualifying order no longer pays; default: the mean shipping "
             "charged per order below the existing threshold (or per order).")] = None,
    amount: Annotated[float, typer.Option(help="With --offer discount: the amount off.")
    ] = 0.0,
    rate: Annotated[float, typer.Option(
        help="With --offer discount: the share off the order value (0.1 = 10%).")] = 0.0,
    margin: Annotated[float | None, typer.Option(
        help="Gross margin on order value (0.45 = 45%); default from the orders' costs, "
             "else assumed 50%.")] = None,
    share: Annotated[float | None, typer.Option(
        help="Share of the orders within --reach below a threshold that pad up to it; "
             "default measured at the existing threshold, else 20% (12-28% published).")
    ] = None,
    reach: Annotated[float | None, typer.Option(
        help="How far below a threshold orders pad up from, as a share of it (0.3).")] = None,
    overshoot: Annotated[float | None, typer.Option(
        help="How far above a threshold padded orders land, up to, as a share of it.")
    ] = None,
    candidates: Annotated[str | None, typer.Option(
        help="Thresholds to compare: 40,50,60 or 40:100:5; default round numbers from "
             "60% to 200% of the AOV.")] = None,
    boots: Annotated[int, typer.Option(
        help="Bootstrap resamples for the measured response's interval.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    table: Annotated[str, typer.Option(
        help="With -f csv/parquet: candidates, bins or detection.")] = "candidates",
    chart: Annotated[Path | None, typer.Option(
        help="Also write the order-value chart (threshold, counterfactual, excess) to "
             "this HTML file.")] = None,
    definition: Definition_ = DEFAULT_DEFINITION, start: Start_ = None, end: End_ = None,
    currency: Currency_ = None, status: Status_ = None, where: Where_ = None,
    engine: Engine_ = "duckdb", fmt: Format_ = "table", output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Where a free-shipping or "X off over Y" threshold should be, and what it costs."""
    from ..analyses.levers import threshold as run

    if table not in ("candidates", "bins", "detection"):
        raise AovlabError(f"--table {table!r} is not one of the threshold's tables",
                          fix="use candidates, bins or detection")
    cands = _numbers(candidates, "--candidates")
    if chart is not None and not chart.parent.exists():
        raise AovlabError(f"the folder of --chart {chart} does not exist",
                          fix=f"create {chart.parent} first, or write elsewhere")
    chart_path = (check_output(chart, protect=[workspace, *([output] if output else [])],
                               force=force) if chart is not None else None)
    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                         status=status, where=where, engine=engine)
    with err.status("measuring the order-value distribution ...") if err.is_terminal else \
            contextlib.nullcontext():
        r = read_workspace(workspace, lambda ws: run(
            ws, sel, current=current, detect=detect, offer=offer, fee=fee, amount=amount,
            rate=rate, margin=margin, share=share, reach=reach, overshoot=overshoot,
            candidates=cands, boots=boots, seed=seed))
    emit_result(r, fmt, output, table=table, render=render_threshold, protect=[workspace],
                force=force)
    if chart_path is not None:
        from ..report.html import threshold_page

        write_text(threshold_page(r), chart_path, force=True)
        err.print(Text(f"chart written to {chart_path}"))
    print_notes(r)


@app.command("threshold-change")
def threshold_change(
    change: Annotated[str, typer.Option(
        help="First day of the new threshold (YYYY-MM-DD).")],
    workspace: Workspace_ = Path("aovlab.duckdb"),
    days: Annotated[int | None, typer.Option(
        help="Days compared on each side of the change; default as many as the data has "
             "on both sides, at most 91.")] = None,
    threshold: Annotated[float | None, typer.Option(
        help="The new threshold: adds the share of orders at or over it.")] = None,
    previous: Annotated[float | None, typer.Option(
        help="The old threshold: adds the share of orders at or over it.")] = None,
    by: Annotated[str | None, typer.Option(
        help="Dimension of the comparison (channel, country, ...), with --treated.")] = None,
    treated: Annotated[list[str] | None, typer.Option(
        help="A value of --by that got the change (repeatable).")] = None,
    control: Annotated[list[str] | None, typer.Option(
        help="A value of --by that did not (repeatable); default all other values.")] = None,
    table: Annotated[str, typer.Option(
        help="With -f csv/parquet: effects or periods.")] = "effects",
    definition: Definition_ = DEFAULT_DEFINITION, currency: Currency_ = None,
    status: Status_ = None, where: Where_ = None, engine: Engine_ = "duckdb",
    fmt: Format_ = "table", output: Output_ = None, force: Force_ = False,
) -> None:
    """Did a threshold change work? Before vs after, with difference-in-differences."""
    from ..analyses.levers import threshold_change as run

    if table not in ("effects", "periods"):
        raise AovlabError(f"--table {table!r} is not one of the threshold change's tables",
                          fix="use effects or periods")
    sel = selection_from(definition=definition, currency=currency, status=status,
                         where=where, engine=engine)
    with err.status("comparing the periods ...") if err.is_terminal else \
            contextlib.nullcontext():
        r = read_workspace(workspace, lambda ws: run(
            ws, sel, change=change, days=days, threshold=threshold, previous=previous,
            by=by, treated=treated, control=control))
    emit_result(r, fmt, output, table=table, render=render_threshold_change, protect=[workspace],
                force=force)
    print_notes(r)


@app.command("price-test")
def price_test(
    arms: Annotated[Path, typer.Argument(
        help="CSV or Parquet file, one row per tested price: price, visitors, orders, "
             "units, revenue (and optionally revenue_sq, cost, unit_cost, arm).")],
    control: Annotated[float | None, typer.Option(
        help="The control arm's price; default the first row.")] = None,
    unit_cost: Annotated[float | None, typer.Option(
        help="The tested product's unit cost, for profit per visitor.")] = None,
    margin: Annotated[float | None, typer.Option(
        help="Gross margin on the rest of the orders' value (0.4 = 40%).")] = None,
    table: Annotated[str, typer.Option(
        help="With -f csv/parquet: arms or elasticity.")] = "arms",
    fmt: Format_ = "table", output: Output_ = None, force: Force_ = False,
) -> None:
    """Analyse a price test: per-visitor conversion, units, revenue and profit, elasticity."""
    from ..analyses.levers import price_test as run

    if table not in ("arms", "elasticity"):
        raise AovlabError(f"--table {table!r} is not one of the price test's tables",
                          fix="use arms or elasticity")
    r = run(arms, control=control, unit_cost=unit_cost, margin=margin)
    emit_result(r, fmt, output, table=table, render=render_price_test, protect=[arms],
                force=force)
    print_notes(r)


@app.command("power")
def power_cmd(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    lift: Annotated[float, typer.Option(
        help="Relative lift to find (0.05 = 5%).")] = 0.05,
    metric: Annotated[str, typer.Option(
        help="aov (by customer), revenue_per_visitor (needs traffic) or all.")] = "all",
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    power: Annotated[float, typer.Option(help="Chance of finding the lift.")] = 0.8,
    ratio: Annotated[float, typer.Option(
        help="Treatment units per control unit (1 = an even split).")] = 1.0,
    definition: Definition_ = DEFAULT_DEFINITION, start: Start_ = None, end: End_ = None,
    currency: Currency_ = None, status: Status_ = None, where: Where_ = None,
    engine: Engine_ = "duckdb", fmt: Format_ = "table", output: Output_ = None,
    force: Force_ = False,
) -> None:
    """How many units and days an A/B test of AOV or revenue per visitor needs."""
    from ..analyses.experiments import power_analysis

    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                         status=status, where=where, engine=engine)
    r = read_workspace(workspace, lambda ws: power_analysis(
        ws, sel, lift=lift, metric=metric, alpha=alpha, target=power, ratio=ratio))
    if fmt == "json":
        write_text(r.to_json(), output, protect=[workspace], force=force)
    else:  # one table: the generic table view, transposed for its one row
        write(r.table, fmt, output, title=f"Test size for a {lift:.1%} lift "
              f"(α {alpha:g}, power {power:.0%})", console=console if output is None
              else None, protect=[workspace], force=force)
    print_notes(r)


def _shares(text: str | None) -> dict[str, float] | None:
    """``control=0.5,b=0.5`` as planned shares per variant."""
    if text is None:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, share = part.partition("=")
        try:
            out[name.strip()] = float(share)
        except ValueError:
            out = {}
            break
    if not out or not all(math.isfinite(v) and v > 0 for v in out.values()):
        raise AovlabError(f"--shares {text!r} is not a list of variant=share",
                          fix="write e.g. --shares control=0.5,treatment=0.5")
    return out


@app.command("abtest")
def abtest_cmd(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    experiment: Annotated[str | None, typer.Option(
        help="The experiment (from the assignments); needed when the workspace holds "
             "several.")] = None,
    control: Annotated[str | None, typer.Option(
        help="The control variant; default the one named control, baseline, A, ...")] = None,
    cap: Annotated[str | None, typer.Option(
        help="Cap each order's value: an amount (500) or a percentile of all arms' "
             "post-exposure orders (p99).")] = None,
    window: Annotated[int | None, typer.Option(
        help="Count orders within this many days of each unit's first exposure.")] = None,
    pre_days: Annotated[int, typer.Option(
        help="Days before exposure whose spend CUPED adjusts by.")] = 365,
    cuped: Annotated[bool, typer.Option(
        help="CUPED-adjust revenue per unit and conversion.")] = True,
    sequential: Annotated[bool, typer.Option(
        help="Always-valid intervals, safe to read at every look.")] = False,
    bayesian: Annotated[bool, typer.Option(
        help="Add the chance each variant beats the control.")] = False,
    absolute: Annotated[bool, typer.Option(
        help="Lifts as differences instead of shares of the control.")] = False,
    segment: Annotated[str | None, typer.Option(
        help="Break down by channel, country, device or customer_type.")] = None,
    shares: Annotated[str | None, typer.Option(
        help="Planned split for the sample-ratio check, e.g. control=0.5,b=0.5.")] = None,
    level: Annotated[float, typer.Option(help="Interval level.")] = 0.95,
    table: Annotated[str, typer.Option(
        help="With -f csv/parquet: abtest, arms or segments.")] = "abtest",
    definition: Definition_ = DEFAULT_DEFINITION, end: End_ = None,
    currency: Currency_ = None, status: Status_ = None, where: Where_ = None,
    engine: Engine_ = "duckdb", fmt: Format_ = "table", output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Analyse an A/B test: AOV, revenue per unit, conversion and more per variant."""
    from ..analyses.experiments import abtest

    if table not in ("abtest", "arms", "segments"):
        raise AovlabError(f"--table {table!r} is not one of the test's tables",
                          fix="use abtest, arms or segments (with --segment)")
    if table == "segments" and segment is None:
        raise AovlabError("--table segments needs --segment",
                          fix="add e.g. --segment channel")
    sel = selection_from(definition=definition, end=end, currency=currency, status=status,
                         where=where, engine=engine)
    r = read_workspace(workspace, lambda ws: abtest(
        ws, sel, experiment=experiment, control=control, cap=cap, window_days=window,
        pre_days=pre_days, use_cuped=cuped, sequential=sequential, bayesian=bayesian,
        relative=not absolute, level=level, segment=segment, shares=_shares(shares)))
    emit_result(r, fmt, output, table=table, render=render_abtest, protect=[workspace],
                force=force)
    print_notes(r)
