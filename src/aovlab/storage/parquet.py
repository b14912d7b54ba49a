"""The canonical tables as a Parquet dataset, written from a workspace and read in place.

:func:`export_parquet` writes one folder per table — ``orders`` and ``order_lines``
hive-partitioned by the order's month (``order_month=2024-01/``), the others one file — and
``_aovlab_schema.json`` (the schema version, every table's columns and types, row counts).
:class:`ParquetCatalog` reads such a folder in place: DuckDB views over the files (no
workspace file), and Spark reads the same files (``parquet_dir``) without a copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from .. import schema
from ..errors import WorkspaceError, first_line
from . import memory
from .catalog import DuckDBCatalog

SCHEMA_FILE = "_aovlab_schema.json"
#: Tables partitioned by the order's month, and how each row finds its month.
PARTITIONED = {
    "orders": "SELECT *, strftime(order_date, '%Y-%m') AS order_month FROM orders",
    "order_lines": "SELECT l.*, strftime(o.order_date, '%Y-%m') AS order_month "
                   "FROM order_lines l JOIN orders o USING (source, order_id)",
}
PARTITION_COLUMN = "order_month"


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_parquet(source: object, directory: str | Path, *, force: bool = False) -> dict:
    """Write ``source``'s canonical tables (a workspace or any catalog) to ``directory`` as
    a Parquet dataset; returns the schema file's content. The folder appears whole or not
    at all (written beside it, then renamed); an existing one is replaced only with
    ``force``."""
    out = Path(directory)
    if out.exists() and not force:
        raise WorkspaceError(f"{out} already exists",
                             fix="pass another folder, or --force to replace it")
    if out.exists() and not (out / SCHEMA_FILE).exists() and any(out.iterdir()):
        raise WorkspaceError(f"{out} is a folder that is not an aovlab Parquet dataset",
                             fix="pass a new or empty folder; aovlab replaces only its own")
    if not out.parent.exists():
        raise WorkspaceError(f"the folder of {out} does not exist",
                             fix="create it first, or pass a path in an existing folder")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    catalog = getattr(source, "catalog", source)
    info = {"schema_version": schema.SCHEMA_VERSION, "partitioned_by": PARTITION_COLUMN,
            # aovlab computed these columns (a pipeline's dataset may carry them unchecked)
            "derived_columns": [f"{t.name}.{c.name}" for t in schema.TABLES.values()
                                for c in t.columns if c.derived],
            "tables": {}}
    try:
        with catalog.cursor() as cur:
            for name, table in schema.TABLES.items():
                rows = cur.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                info["tables"][name] = {
                    "rows": rows, "partitioned": name in PARTITIONED,
                    "columns": {c.name: c.type for c in table.columns}}
                if not rows:
                    continue
                if name in PARTITIONED:
                    cur.execute(f"COPY ({PARTITIONED[name]}) TO {_q(tmp / name)} "
                                f"(FORMAT parquet, PARTITION_BY ({PARTITION_COLUMN}))")
                else:
                    (tmp / name).mkdir()
                    cur.execute(f"COPY {name} TO {_q(tmp / name / 'data.parquet')} "
                                "(FORMAT parquet)")
        (tmp / SCHEMA_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return info


class ParquetCatalog(DuckDBCatalog):
    """Canonical tables in a Parquet dataset written by :func:`export_parquet` (or any
    pipeline writing the same layout and schema file), read in place."""

    def __init__(self, directory: str | Path, *, memory_limit: str | None = None) -> None:
        self.parquet_dir = Path(directory)
        self.info = _read_info(self.parquet_dir)
        super().__init__(duckdb.connect(":memory:"), f"parquet:{self.parquet_dir}")
        self._con.execute("SET enable_progress_bar = false")
        memory.apply(self._con, memory_limit)
        self._lacks: dict[str, frozenset[str]] = {}
        for name, table in schema.TABLES.items():
            files = self.files(name)
            if files is None:  # no rows were written: an empty table of the right shape
                self._con.execute(table.ddl())
                continue
            reader = (f"read_parquet({_q(Path(files))}, hive_partitioning = "
                      f"{str(name in PARTITIONED).lower()}, union_by_name = true)")
            try:
                have = {r[0] for r in self._con.execute(
                    f"DESCRIBE SELECT * FROM {reader}").fetchall()}
            except duckdb.Error as exc:
                raise WorkspaceError(
                    f"the {name} files of {self.parquet_dir} cannot be read: "
                    f"{first_line(exc)}",
                    fix="write them again (aovlab export --parquet), as Parquet files") from exc
            missing = table.missing_required(have)
            if missing:
                raise WorkspaceError(
                    f"the {name} files of {self.parquet_dir} lack the column(s) "
                    f"{', '.join(missing)}",
                    fix=f"write every required column of {name} (docs/data-model.md)")
            self._lacks[name] = frozenset(c.name for c in table.columns if c.name not in have)
            # a column the pipeline left out is NULL (or its default), as in an import
            cols = ", ".join(
                f"CAST({c.name if c.name in have else (c.default or 'NULL')} AS {c.type}) "
                f"AS {c.name}" for c in table.columns)
            self._con.execute(f"CREATE VIEW {name} AS SELECT {cols} FROM {reader}")

    def files(self, name: str) -> str | None:
        """The glob of ``name``'s Parquet files, or None when the dataset has none."""
        folder = self.parquet_dir / name
        if not folder.is_dir() or not any(folder.rglob("*.parquet")):
            return None
        return str(folder / "**" / "*.parquet")

    def tables(self) -> tuple[str, ...]:
        return tuple(schema.TABLES)  # views, or empty tables of the right shape

    def lacks(self, name: str) -> frozenset[str]:
        """The columns of ``name`` its files do not have (read as NULL or a default), and
        its derived columns unless aovlab's export wrote them."""
        trusted = set(self.info.get("derived_columns") or ())
        return self._lacks.get(name, frozenset()) | frozenset(
            c.name for c in schema.TABLES[name].columns
            if c.derived and f"{name}.{c.name}" not in trusted)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ParquetCatalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_info(d: Path) -> dict:
    if not d.is_dir():
        raise WorkspaceError(f"Parquet dataset {d} does not exist (or is not a folder)",
                             fix="write one with aovlab export -w shop.duckdb --parquet DIR")
    f = d / SCHEMA_FILE
    if not f.exists():
        raise WorkspaceError(f"{d} has no {SCHEMA_FILE}: not an aovlab Parquet dataset",
                             fix="write it with aovlab export --parquet, or add the schema "
                                 "file your pipeline's tables follow (docs/scale.md)")
    try:
        info = json.loads(f.read_text(encoding="utf-8"))
        version = int(info["schema_version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise WorkspaceError(f"{f} cannot be read: {exc}",
                             fix="write the dataset again with aovlab export --parquet") from exc
    if version != schema.SCHEMA_VERSION and version not in schema.UPGRADABLE:
        raise WorkspaceError(f"{d} has schema version {version}; this aovlab reads "
                             f"{schema.SCHEMA_VERSION}",
                             fix="export it again with this aovlab")
    return info


def open_catalog(spec: str):
    """A catalog from its name: ``parquet:DIR`` or a PostgreSQL DSN
    (``postgresql://…``, ``postgres://…``, or ``postgresql:`` before a key/value DSN)."""
    kind, sep, where = spec.partition(":")
    if sep and kind.lower() == "parquet" and where:
        return ParquetCatalog(where)
    if sep and kind.lower() in ("postgresql", "postgres"):
        from .postgres import PostgresCatalog

        return PostgresCatalog(spec if where.startswith("//") else where)
    raise WorkspaceError(f"catalog {spec!r} is not one aovlab reads",
                         fix="write parquet:DIR (a folder written by aovlab export --parquet) "
                             "or postgresql://user@host/db?schema=aovlab")
