"""Import pandas, polars or Arrow frames from Python, through the generic mapping."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from ..errors import InputError, Location
from ..storage import ImportSummary, ProgressFn, StagingContext, Workspace, no_progress
from . import generic
from .assignments import Assignments
from .base import Importer


def to_arrow(frame: object, name: str = "<frame>") -> pa.Table:
    """Accept a pyarrow Table/RecordBatch, a pandas or a polars DataFrame."""
    if isinstance(frame, pa.Table):
        table = frame
    elif isinstance(frame, pa.RecordBatch):
        table = pa.Table.from_batches([frame])
    elif type(frame).__module__.split(".")[0] == "pandas":
        table = _from_pandas(frame, name)
    elif type(frame).__module__.split(".")[0] == "polars":
        table = frame.to_arrow()
    elif hasattr(frame, "__arrow_c_stream__"):
        table = pa.table(frame)
    else:
        raise InputError(f"cannot import a {type(frame).__name__}", Location(name),
                         fix="pass a pandas DataFrame, a polars DataFrame or a pyarrow Table")
    _refuse_duplicates([str(c) for c in table.column_names], name)
    return table


def _refuse_duplicates(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise InputError(f"column {n!r} appears twice (position {i + 1})",
                             Location(where, None, n),
                             fix="rename or drop one of them; aovlab would not know which to use")
        seen.add(n)


def _from_pandas(df, name: str) -> pa.Table:
    """A pandas frame as Arrow; a column mixing kinds (numbers and text) becomes text, so
    that the import names the first value it cannot read instead of failing in Arrow."""
    _refuse_duplicates([str(c) for c in df.columns], name)
    arrays = []
    for col in df.columns:
        values = df[col]
        try:
            arrays.append(pa.array(values, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arrays.append(pa.array([None if _missing(v) else str(v) for v in values],
                                   pa.string()))
    return pa.Table.from_arrays(arrays, names=[str(c) for c in df.columns])


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (
        type(v).__name__ in ("NaTType", "NAType"))


def import_frame(
    workspace: Workspace,
    frame: object,
    *,
    kind: str = "orders",
    mapping: str | Path | Mapping | None = None,
    name: str = "<frame>",
    source: str | None = None,
    progress: ProgressFn = no_progress,
    **settings: object,
) -> ImportSummary:
    """Import a frame of orders (``kind="orders"``), order lines (``kind="lines"``) or
    experiment assignments (``kind="assignments"``; settings ``experiment=``, ``timezone=``).

    Columns named like canonical columns are used directly; ``mapping`` (a dict or TOML
    path, as for ``--format generic``) renames the others; ``source`` is the namespace, as
    for :func:`~aovlab.importers.import_files` (default: the mapping's, else ``generic``).
    ``settings`` are mapping
    options such as ``currency="EUR"`` or ``timezone="Europe/Paris"``.
    """
    table = to_arrow(frame, name)
    if kind == "assignments":
        if mapping is not None:
            raise InputError("assignments take no mapping", Location(name),
                             fix="name the frame's columns unit_id, variant, first_exposure "
                                 "(and experiment), or their usual aliases")
        imp = Assignments()
        return _run(workspace, table, name, imp,
                    imp.options({**settings, "relation": _RELATION}), progress, source)
    m = dict(generic.load_mapping(mapping)) if mapping is not None else {}
    m.setdefault("kind", kind)
    m.update(settings)
    m = generic.load_mapping(m)

    opts = generic.GenericOptions(mapping=m, relation=_RELATION)
    return _run(workspace, table, name, generic.Generic(), opts, progress, source)


_RELATION = "aovlab_frame_input"


def _run(workspace: Workspace, table: pa.Table, name: str, importer: Importer, opts: object,
         progress: ProgressFn, source: str | None) -> ImportSummary:
    """Stage ``table`` (registered as a relation) with ``importer`` and merge it."""

    def stage(ctx: StagingContext) -> None:
        ctx.con.register(_RELATION, table)
        try:
            importer.stage(ctx, [name], opts)
        finally:
            ctx.con.unregister(_RELATION)

    return workspace.run_import("frame", [name], stage, progress, source)
