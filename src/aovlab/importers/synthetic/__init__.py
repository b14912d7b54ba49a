"""The synthetic store as a source format: generated Parquet files, imported like any other.

:func:`write_orders` (in :mod:`.generate`) writes a seeded store in canonical shape;
the ``synthetic`` importer reads those files with DuckDB's ``read_parquet`` straight into
the staging tables, through the same validation and atomic, idempotent merge as every
importer. ``_file`` is the path relative to the store's folder, ``_row`` the 1-based row in
that file, so errors point at the right place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from ... import schema
from ...errors import AovlabError, InputError, Location
from ...storage import ImportSummary, ProgressFn, StagingContext, Workspace, no_progress
from ..base import Importer, option, register
from .generate import SyntheticStore, read_manifest, write_orders

__all__ = ["Synthetic", "SyntheticOptions", "SyntheticStore", "import_synthetic",
           "read_manifest", "write_orders"]


@dataclass(frozen=True)
class SyntheticOptions:
    lines: bool = option("Import order lines and products too (synthetic).", True)


@dataclass(frozen=True)
class _Found:
    root: Path
    orders: list[str]
    lines: list[str]
    products: list[str]


def _parquet_list(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


@register
class Synthetic(Importer):
    name = "synthetic"
    help = "A store written by aovlab.synthetic.write_orders (a folder of Parquet files)."
    reads = "one folder"
    Options = SyntheticOptions

    def read(self, ctx: StagingContext, paths: list[str], opts: SyntheticOptions) -> _Found:
        if len(paths) != 1:
            raise AovlabError(f"the synthetic format reads one folder, got {len(paths)}",
                              fix="pass the folder write_orders wrote")
        root = Path(paths[0])
        orders = sorted(str(p) for p in (root / "orders").glob("*.parquet"))
        if not orders:
            raise InputError("no orders/*.parquet files", Location(str(root)),
                             fix="write them first with aovlab.synthetic.write_orders")
        lines = sorted(str(p) for p in (root / "order_lines").glob("*.parquet"))
        products = [str(root / "products.parquet")] if (root / "products.parquet").exists() \
            else []
        return _Found(root, orders, lines if opts.lines else [],
                      products if opts.lines else [])

    def check(self, ctx: StagingContext, found: _Found, opts: SyntheticOptions) -> None:
        """The files are canonical already: the workspace's table rules check them."""

    def build(self, ctx: StagingContext, found: _Found, opts: SyntheticOptions) -> None:
        prefix = len(str(found.root)) + 1  # _file relative to the folder: orders/00003.parquet
        def stored(t: schema.Table, files: list) -> str:
            """The canonical columns the files hold (every one but the source; a store
            written by an older aovlab may lack a newer column, which stays NULL)."""
            have = set(pq.read_schema(files[0]).names)
            return ", ".join(c for c in t.column_names if c != "source" and c in have)

        for table, files, t in (("orders", found.orders, schema.ORDERS),
                                ("order_lines", found.lines, schema.ORDER_LINES),
                                ("products", found.products, schema.PRODUCTS)):
            if not files:
                continue
            cols = stored(t, files)
            ctx.progress(f"reading {table}")
            ctx.emit(table, f"SELECT substr(filename, {prefix + 1}) AS _file, "
                            f"CAST(file_row_number + 1 AS BIGINT) AS _row, {cols} "
                            f"FROM read_parquet({_parquet_list(files)}, filename = true, "
                            "file_row_number = true)")
            ctx.summary.rows_read += ctx.count(f"stage_{table}")


def import_synthetic(
    workspace: Workspace,
    path_dir: str | Path,
    *,
    lines: bool = True,
    source: str | None = None,
    progress: ProgressFn = no_progress,
) -> ImportSummary:
    """Import a store written by :func:`write_orders` (atomic and idempotent)."""
    importer = Synthetic()
    opts = SyntheticOptions(lines=lines)

    def stage(ctx: StagingContext) -> None:
        importer.stage(ctx, [str(path_dir)], opts)

    return workspace.run_import("synthetic", [str(path_dir)], stage, progress, source)
