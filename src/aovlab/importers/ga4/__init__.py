"""GA4 BigQuery export: daily ``events_YYYYMMDD`` tables as Parquet (files or a folder).

One row of the export is one event, with nested ``event_params`` (key/value structs),
``items`` (a list of structs) and the ``ecommerce``, ``device``, ``geo`` and
``traffic_source`` structs. Everything happens in DuckDB, one file at a time, so an export
of any size goes through in bounded memory: per file, events are folded into one row per
session and day, and only ``purchase`` events are kept whole.

Rules (documented in docs/importers.md, section "ga4"):

* **Sessions** are distinct ``(user_pseudo_id, ga_session_id)`` pairs, counted on each
  ``event_date`` on which they have events (a session crossing midnight counts on both
  days, as GA4's own BigQuery recipes do). Events without ``user_pseudo_id`` or
  ``ga_session_id`` (consent-mode pings) cannot be put in a session: they are left out of
  ``traffic`` and counted in ``summary.skipped``.
* **Dates**: ``event_date`` is already the property's local date and is used as it is;
  ``timezone`` is only used for an event whose ``event_date`` is empty (its
  ``event_timestamp`` is then converted to that zone).
* **Channel / country / device** of a session: the first non-empty value among its events
  that day (by ``event_timestamp``). Channel comes from the ``traffic_source`` struct
  (``medium``, ``source``) — see :func:`channel_sql`; country is ``geo.country``; device is
  ``device.category``. Missing values are ``(not set)``. An order takes the dimensions of
  the session its purchase event belongs to, so orders and traffic line up.
* **Funnel**: sessions with at least one ``view_item``, ``add_to_cart``,
  ``begin_checkout`` or ``purchase`` event; a purchase event counts only when it has a
  transaction id (the skipped ones are skipped here too), so ``purchases`` matches the
  sessions the orders come from.
* **Orders**: one per ``ecommerce.transaction_id`` among ``purchase`` events. Repeated
  purchase events of one transaction (page reloads) keep the first by
  ``event_timestamp`` (then file and row); the others are counted as skipped. Purchases
  without a transaction id (NULL, empty or ``(not set)``) are skipped and counted.
  ``order_id`` = transaction id, ``customer_id`` = ``user_id`` when set, else
  ``user_pseudo_id``. Money is GA4's ``*_in_usd`` fields, currency USD:
  ``gross_sales`` = ``purchase_revenue_in_usd`` (GA4's "purchase revenue", which in this
  export excludes tax: it equals the items' revenue; NULL counts as 0 and is noted),
  ``tax`` = ``tax_value_in_usd``, ``shipping`` = ``shipping_value_in_usd`` (NULL → 0),
  ``total`` = revenue + shipping + tax, ``discounts`` = ``returns`` = 0, status
  ``placed``; zero-revenue purchases are kept. ``coupon`` is the purchase's ``coupon``
  event parameter.
* **Order lines**: the kept purchases' items, in their order; ``(not set)`` placeholder
  items (no id and no name) are dropped only when they carry no revenue (counted).
  ``quantity`` NULL means 1 (GA4's default); ``unit_price`` = ``price_in_usd``, else
  ``item_revenue_in_usd / quantity``, else 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError, Location
from ...storage import StagingContext
from ..base import Importer, option, register
from ..reading import check_file, check_timezone
from .build import stage_orders, stage_traffic
from .events import PURCHASES_DDL, SESSIONS_DDL, read_file
from .fields import (
    SKIP_DUPLICATE,
    SKIP_NO_SESSION,
    SKIP_NO_TRANSACTION,
    SKIP_PLACEHOLDER,
    channel_sql,
)

__all__ = ["SKIP_DUPLICATE", "SKIP_NO_SESSION", "SKIP_NO_TRANSACTION", "SKIP_PLACEHOLDER",
           "Ga4", "Ga4Options", "channel_sql"]


@dataclass(frozen=True)
class Ga4Options:
    # GA4 money is always USD and dates come from event_date: no currency option.
    timezone: str | None = option(
        "Store time zone for timestamps written without an offset (IANA name).")


@register
class Ga4(Importer):
    name = "ga4"
    help = ("GA4 BigQuery export (events_YYYYMMDD Parquet): sessions, funnel, purchases "
            "de-duplicated by transaction_id.")
    reads = "one or more files, or a folder"
    Options = Ga4Options

    def read(self, ctx: StagingContext, paths: list[str], opts: Ga4Options) -> list[str]:
        """Each file is checked as it is read and folded into session rows (bounded memory)."""
        files = _expand(ctx, paths)
        timezone = check_timezone(ctx.con, opts.timezone or "UTC", files[0])
        ctx.execute(SESSIONS_DDL)
        ctx.execute(PURCHASES_DDL)
        ctx.execute("CREATE TEMP TABLE raw_ga4_files (_fidx INTEGER, _file VARCHAR)")
        for fidx, file in enumerate(files):
            ctx.progress(f"reading {file}")
            ctx.execute("INSERT INTO raw_ga4_files VALUES (?, ?)", [fidx, file])
            read_file(ctx.con, file, fidx, timezone, ctx.summary)
        return files

    def check(self, ctx: StagingContext, files: list[str], opts: Ga4Options) -> None:
        """Done per file inside :meth:`read` (each file is read once, in bounded memory)."""

    def build(self, ctx: StagingContext, files: list[str], opts: Ga4Options) -> None:
        ctx.progress("building sessions")
        stage_traffic(ctx)
        ctx.progress("building orders")
        stage_orders(ctx)


def _expand(ctx: StagingContext, paths: list[str]) -> list[str]:
    """Files and folders of files, each once."""
    if not paths:
        raise InputError("no GA4 export files given", Location("(none)"),
                         fix="pass one or more events_YYYYMMDD.parquet files")
    expanded: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(q for q in p.iterdir() if q.suffix.lower() == ".parquet")
            if not inside:
                raise InputError("folder holds no .parquet files", Location(str(p)),
                                 fix="pass the events_YYYYMMDD.parquet files, or their folder")
            expanded.extend(inside)
        else:
            expanded.append(p)
    files: list[str] = []
    for p in expanded:
        f = str(check_file(p, "GA4 export file"))
        if any(Path(f).resolve() == Path(g).resolve() for g in files):
            ctx.summary.notes.append(f"{f} was given twice; read once")
            continue
        files.append(f)
    return files
