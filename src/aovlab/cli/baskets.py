"""The basket commands: baskets, bundles, cross-sell, movers, replenish.

Each builds one selection, calls one function of :mod:`aovlab.analyses.baskets` and
renders its result: a terminal view, or one table with ``-f csv/json/parquet`` (JSON
writes the whole result, tables and notes, for a storefront to load).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from ..errors import AovlabError
from ..report import check_output, render_baskets, write, write_console, write_text
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
    err,
    read_workspace,
    selection_from,
)

Item_ = Annotated[str, typer.Option(help="What an item is: product, category or name.")]
Support_ = Annotated[str, typer.Option(
    "--min-support", help="Minimum support: a share of the orders (0.01 = 1%) or a whole "
                          "number of orders (20).")]
Top_ = Annotated[int, typer.Option(help="Rows shown per table in the terminal.")]


def _support(text: str) -> float | int:
    """A share (0.01) or, written as a whole number (20), a count of orders — as the
    API reads ``min_support=0.01`` and ``min_support=20``."""
    t = text.strip()
    try:
        v: float | int = int(t) if t.isdigit() else float(t)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise AovlabError(f"--min-support {text!r} is not a number",
                          fix="write a share such as 0.01 or a number of orders such as "
                              "20")
    return v


def _emit(r, table: str | None, fmt: str, output: Path | None, workspace: Path,
          force: bool, top: int = 15) -> None:
    if table is not None and table not in r.tables:
        raise AovlabError(f"--table {table!r} is not one of {', '.join(r.tables)}",
                          fix=f"use one of {', '.join(r.tables)}")
    if fmt == "json" and table is None:
        write_text(r.to_json(), output, protect=[workspace], force=force)
    elif fmt != "table":
        write(r.tables[table or next(iter(r.tables))], fmt, output, protect=[workspace],
              force=force)
    elif output is not None:
        write_console(check_output(output, protect=[workspace], force=force),
                      lambda c: render_baskets(r, c, top))
    else:
        render_baskets(r, console, top)
    for note in r.notes:
        err.print(Text(f"note: {note}", style="yellow"))


def _run(workspace: Path, what: str, call: Callable):
    with err.status(f"{what} ...") if err.is_terminal else contextlib.nullcontext():
        return read_workspace(workspace, call)


Table_ = Annotated[str | None, typer.Option(
    help="With -f: write this table only (csv/parquet default: the first).")]


@app.command()
def baskets(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    min_support: Support_ = "0.01",
    min_confidence: Annotated[float, typer.Option(
        help="Minimum confidence of a rule A → C: the share of A's orders holding C.")] = 0.3,
    min_lift: Annotated[float, typer.Option(
        help="Minimum lift (1: no rule weaker than chance).")] = 1.0,
    max_size: Annotated[int | None, typer.Option(
        help="Largest itemset mined (default: no limit).")] = None,
    method: Annotated[str, typer.Option(
        help="memory (any itemset size, sparse matrix) or engine (item pairs counted by "
             "the engine, for the biggest stores).")] = "memory",
    item: Item_ = "product",
    table: Table_ = None,
    top: Top_ = 15,
    definition: Definition_ = DEFAULT_DEFINITION, start: Start_ = None, end: End_ = None,
    currency: Currency_ = None, status: Status_ = None, where: Where_ = None,
    engine: Engine_ = "duckdb", fmt: Format_ = "table", output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Frequent itemsets and association rules of the orders' products, ranked by money."""
    from ..analyses.baskets import baskets as run

    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                     status=status, where=where, engine=engine)
    r = _run(workspace, "mining the baskets", lambda ws: run(
        ws, sel, min_support=_support(min_support), min_confidence=min_confidence,
        min_lift=min_lift, max_size=max_size, method=method, item=item))
    _emit(r, table, fmt, output, workspace, force, top)


@app.command()
def bundles(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    min_support: Support_ = "0.005",
    max_size: Annotated[int, typer.Option(help="Most items in a bundle.")] = 3,
    discount: Annotated[float, typer.Option(
        help="Target bundle discount off the list price (0.1 = 10%).")] = 0.1,
    margin_floor: Annotated[float | None, typer.Option(
        help="Lowest margin a bundle may keep, where costs are known.")] = 0.2,
    margin: Annotated[float | None, typer.Option(
        help="Share of the price kept, for items without a cost.")] = None,
    take_rate: Annotated[float, typer.Option(
        help="Assumed share of the orders holding some of a bundle's items that would "
             "complete it.")] = 0.1,
    item: Item_ = "product",
    table: Table_ = None,
    top: Annotated[int, typer.Option(help="Bundles kept, best first.")] = 50,
    definition: Definition_ = DEFAULT_DEFINITION, start: Start_ = None, end: End_ = None,
    currency: Currency_ = None, status: Status_ = None, where: Where_ = None,
    engine: Engine_ = "duckdb", fmt: Format_ = "table", output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Bundles ranked by money: co-purchase rate, a price under a margin floor, and the
    expected effect on AOV and gross profit."""
    from ..analyses.baskets import bundles as run

    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                     status=status, where=where, engine=engine)
    r = _run(workspace, "pricing the bundles", lambda ws: run(
        ws, sel, min_support=_support(min_support), max_size=max_size, discount=discount,
        margin_floor=margin_floor, margin=margin, take_rate=take_rate, item=item, top=top))
    _emit(r, table, fmt, output, workspace, force)


@app.command("cross-sell")
def cross_sell(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    k: Annotated[int, typer.Option("--k", help="Items per list.")] = 5,
    min_together: Annotated[int, typer.Option(
        help="Fewest orders holding both items of a pair.")] = 3,
    addon_share: Annotated[float, typer.Option(
        help="Add-ons cost at most this share of the AOV.")] = 0.1,
    evaluate: Annotated[bool, typer.Option(
        "--evaluate/--no-evaluate", help="Score the lists on each customer's held-out "
                                         "last basket.")] = True,
    item: Item_ = "product",
    table: Table_ = None,
    top: Top_ = 15,
    definition: Definition_ = DEFAULT_DEFINITION, start: Start_ = None, end: End_ = None,
    currency: Currency_ = None, status: Status_ = None, where: Where_ = None,
    engine: Engine_ = "duckdb", fmt: Format_ = "table", output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Frequently-bought-together lists, upsell ladders and add-ons, with a held-out
    evaluation against the best sellers; -f csv/json exports the lists."""
    from ..analyses.baskets import cross_sell as run

    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                     status=status, where=where, engine=engine)
    r = _run(workspace, "building the lists", lambda ws: run(
        ws, sel, k=k, min_together=min_together, addon_share=addon_share,
        evaluation=evaluate, item=item))
    _emit(r, table, fmt, output, workspace, force, top)


@app.command()
def movers(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    by: Annotated[str | None, typer.Option(
        help="Repeat per value of this order dimension (channel, country, device, ...).")
    ] = None,
    min_orders: Annotated[int, typer.Option(help="Fewest orders of an item shown.")] = 30,
    item: Item_ = "product",
    table: Table_ = None,
    top: Top_ = 15,
    definition: Definition_ = DEFAULT_DEFINITION, start: Start_ = None, end: End_ = None,
    currency: Currency_ = None, status: Status_ = None, where: Where_ = None,
    engine: Engine_ = "duckdb", fmt: Format_ = "table", output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Products that move AOV: attach rate, AOV with and without each, the difference with
    an interval."""
    from ..analyses.baskets import movers as run

    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                     status=status, where=where, engine=engine)
    r = _run(workspace, "comparing orders", lambda ws: run(ws, sel, by=by,
                                                            min_orders=min_orders,
                                                            item=item))
    _emit(r, table, fmt, output, workspace, force, top)


@app.command()
def replenish(
    workspace: Workspace_ = Path("aovlab.duckdb"),
    min_buyers: Annotated[int, typer.Option(
        help="Fewest repeat buyers behind an interval (and customers behind a pair).")] = 5,
    as_of: Annotated[str | None, typer.Option(
        help="Who is due as of this date (YYYY-MM-DD); default the last order date.")
    ] = None,
    item: Item_ = "product",
    table: Table_ = None,
    top: Top_ = 15,
    definition: Definition_ = DEFAULT_DEFINITION, start: Start_ = None, end: End_ = None,
    currency: Currency_ = None, status: Status_ = None, where: Where_ = None,
    engine: Engine_ = "duckdb", fmt: Format_ = "table", output: Output_ = None,
    force: Force_ = False,
) -> None:
    """Replenishment: repurchase intervals, customers due for a reminder, and what
    customers buy next."""
    from ..analyses.baskets import replenishment as run

    sel = selection_from(definition=definition, start=start, end=end, currency=currency,
                     status=status, where=where, engine=engine)
    r = _run(workspace, "reading repurchases", lambda ws: run(
        ws, sel, min_buyers=min_buyers, as_of=as_of, item=item))
    _emit(r, table, fmt, output, workspace, force, top)
