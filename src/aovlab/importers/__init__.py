"""Importers: each maps one source format onto the canonical tables.

Every importer module exposes ``stage(con, summary, progress, *paths, **options)``, which
creates temporary ``stage_<table>`` tables (canonical columns plus ``_file``/``_row``) and
fills ``summary.rows_read`` and ``summary.skipped``. :func:`import_files` runs it inside
one workspace transaction, so an import is all or nothing, and merges by key, so
re-importing the same rows adds nothing.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import DefinitionError
from ..workspace import ImportSummary, ProgressFn, Workspace, _no_progress


@dataclass(frozen=True)
class Format:
    name: str
    module: str
    help: str
    files: str  # how many files it takes, in words


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("generic", "generic", "Any CSV/Parquet of orders or order lines, with a "
               "column-mapping file (--mapping).", "one file"),
        Format("shopify", "shopify", "Shopify admin 'Export orders' CSV (one row per line "
               "item, or orders only).", "one or more files"),
        Format("online_retail", "online_retail", "UCI Online Retail / Online Retail II "
               "(CSV, CSV.GZ or Parquet).", "one file"),
        Format("cdnow", "cdnow", "CDNOW master file (customer, date, CDs, dollars).",
               "one file"),
        Format("ga4", "ga4", "GA4 BigQuery export (events_YYYYMMDD Parquet): sessions, "
               "funnel, purchases de-duplicated by transaction_id.", "one or more files"),
        Format("olist", "olist", "Olist marketplace folder (orders, order_items, "
               "order_payments, products, customers CSVs).", "one folder"),
    )
}
ALIASES = {"uci": "online_retail", "online_retail_ii": "online_retail", "csv": "generic",
           "parquet": "generic"}


def resolve_format(fmt: str) -> Format:
    key = ALIASES.get(fmt.lower(), fmt.lower())
    if key not in FORMATS:
        raise DefinitionError(
            f"unknown import format {fmt!r}",
            fix=f"use one of {', '.join(FORMATS)}",
        )
    return FORMATS[key]


def _options_of(stage) -> set[str] | None:
    """Keyword options a stage function takes; ``None`` when it takes any."""
    params = inspect.signature(stage).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind is p.KEYWORD_ONLY}


def import_files(
    workspace: Workspace,
    paths: str | Path | Sequence[str | Path],
    fmt: str = "generic",
    *,
    progress: ProgressFn = _no_progress,
    **options: object,
) -> ImportSummary:
    """Import ``paths`` in format ``fmt`` into ``workspace``, atomically and idempotently.

    Options are passed to the format's importer (e.g. ``mapping=`` for ``generic``,
    ``timezone=`` for ``shopify``). Returns what was imported, skipped and why.
    """
    spec = resolve_format(fmt)
    if isinstance(paths, str | Path):
        paths = [paths]
    files = [str(p) for p in paths]
    module = importlib.import_module(f"{__name__}.{spec.module}")
    accepted = _options_of(module.stage)
    unknown = sorted(set(options) - accepted) if accepted is not None else []
    if unknown:
        raise DefinitionError(
            f"the {spec.name} importer has no option {', '.join(unknown)}",
            fix=f"its options are: {', '.join(sorted(accepted)) or 'none'}",
        )

    def stage(con, summary, prog):  # noqa: ANN001 - thin adapter
        module.stage(con, summary, prog, *files, **options)

    return workspace.run_import(spec.name, files, stage, progress)
