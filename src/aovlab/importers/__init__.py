"""Importers: each maps one source format onto the canonical tables.

Every format is an :class:`~aovlab.importers.base.Importer` registered by name
(:data:`FORMATS`); :func:`import_files` runs its read, check and build steps inside one
workspace transaction, so an import is all or nothing, and merges by key, so re-importing
the same rows adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..storage import ImportSummary, ProgressFn, StagingContext, Workspace, no_progress
from . import (  # noqa: F401 - register
    assignments,
    cdnow,
    ga4,
    generic,
    hillstrom,
    olist,
    online_retail,
    shopify,
    synthetic,
)
from .base import FORMATS, Importer, option_fields, register, resolve_format
from .detect import detect_format
from .frames import import_frame
from .online_retail import bundled_online_retail

# Listed in the order users meet them (help text, docs), not the order modules load.
for _name in ("generic", "shopify", "online_retail", "cdnow", "ga4", "olist", "synthetic",
              "assignments", "hillstrom"):
    FORMATS[_name] = FORMATS.pop(_name)

__all__ = ["FORMATS", "Importer", "bundled_online_retail", "choose_format", "detect_format",
           "import_files", "import_frame", "option_fields", "register", "resolve_format"]


def choose_format(paths: Sequence[str | Path], fmt: str = "auto",
                  options: dict | None = None) -> tuple[str, str | None]:
    """The format to import ``paths`` with, and why when it was recognised: ``fmt`` itself
    unless it is ``auto``; with a generic ``mapping`` option, ``generic``; else the format
    :func:`detect_format` recognises from the file's header."""
    if fmt != "auto":
        return fmt, None
    if (options or {}).get("mapping") is not None:
        return "generic", None
    return detect_format(paths)


def import_files(
    workspace: Workspace,
    paths: str | Path | Sequence[str | Path],
    fmt: str = "auto",
    *,
    source: str | None = None,
    progress: ProgressFn = no_progress,
    **options: object,
) -> ImportSummary:
    """Import ``paths`` in format ``fmt`` into ``workspace``, atomically and idempotently.

    ``fmt="auto"`` (the default) recognises Shopify, UCI, GA4, Olist, CDNOW and synthetic
    files from their header (:func:`detect_format`), and takes ``generic`` when a
    ``mapping`` is given; the summary's first note says which format it chose and why.

    ``source`` is the namespace the rows are written under (the store or data set; by
    default the format's name, or the generic mapping's ``source``): keys are unique per
    source and no row of one source joins another's, so two stores numbering their orders
    alike share a workspace under two names. An import whose keys are stored under its
    source with other values is refused (a second store under the first one's name).
    Options are the format's settings (its ``Options`` dataclass, e.g. ``mapping=`` for
    ``generic``, ``timezone=`` for ``shopify``); unknown ones are refused. Returns what was
    imported, skipped and why.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    files = [str(p) for p in paths]
    fmt, why = choose_format(files, fmt, options)
    importer = resolve_format(fmt)
    opts = importer.options(options)

    def stage(ctx: StagingContext) -> None:
        importer.stage(ctx, files, opts)

    summary = workspace.run_import(importer.name, files, stage, progress, source)
    if why is not None:
        summary.notes.insert(0, f"format {importer.name}, recognised from the file: {why}")
    return summary
