"""Import pandas, polars or Arrow frames from Python, through the generic mapping."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from ..errors import InputError, Location
from ..storage import ImportSummary, ProgressFn, StagingContext, Workspace, no_progress
from . import generic


def to_arrow(frame: object) -> pa.Table:
    """Accept a pyarrow Table/RecordBatch, a pandas or a polars DataFrame."""
    if isinstance(frame, pa.Table):
        return frame
    if isinstance(frame, pa.RecordBatch):
        return pa.Table.from_batches([frame])
    mod = type(frame).__module__.split(".")[0]
    if mod == "pandas":
        return pa.Table.from_pandas(frame, preserve_index=False)
    if mod == "polars":
        return frame.to_arrow()
    if hasattr(frame, "__arrow_c_stream__"):
        return pa.table(frame)
    raise InputError(f"cannot import a {type(frame).__name__}", Location("<frame>"),
                     fix="pass a pandas DataFrame, a polars DataFrame or a pyarrow Table")


def import_frame(
    workspace: Workspace,
    frame: object,
    *,
    kind: str = "orders",
    mapping: str | Path | Mapping | None = None,
    name: str = "<frame>",
    progress: ProgressFn = no_progress,
    **settings: object,
) -> ImportSummary:
    """Import a frame of orders (``kind="orders"``) or order lines (``kind="lines"``).

    Columns named like canonical columns are used directly; ``mapping`` (a dict or TOML
    path, as for ``--format generic``) renames the others. ``settings`` are mapping
    options such as ``currency="EUR"`` or ``timezone="Europe/Paris"``.
    """
    table = to_arrow(frame)
    m = dict(generic.load_mapping(mapping)) if mapping is not None else {}
    m.setdefault("kind", kind)
    m.update(settings)
    m = generic.load_mapping(m)

    importer = generic.Generic()
    opts = generic.GenericOptions(mapping=m, relation="aovlab_frame_input")

    def stage(ctx: StagingContext) -> None:
        ctx.con.register("aovlab_frame_input", table)
        try:
            importer.stage(ctx, [name], opts)
        finally:
            ctx.con.unregister("aovlab_frame_input")

    return workspace.run_import("frame", [name], stage, progress)
