"""Engines run the metric expressions (written once, in Ibis) over a catalog of tables.

``duckdb`` (default) queries the catalog's DuckDB database in place, a cursor per call.
``spark`` runs the very same expressions on a Spark session (local mode unless
``SPARK_MASTER`` says otherwise): a Parquet catalog's files and a Spark catalog's tables
are read in place, a DuckDB catalog's tables are copied to Parquet once per engine.
``postgres`` runs them inside the PostgreSQL server of a :class:`PostgresCatalog`.
A catalog that only one engine can read (PostgreSQL, Spark tables) names it as its
``native_engine``, which the default ``duckdb`` then means.
An engine is given a :class:`~aovlab.storage.Catalog` (or anything with a ``catalog``
attribute, such as a workspace) and never touches a workspace's internals.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import EngineError
from ..storage.catalog import Catalog

ENGINES = ("duckdb", "spark", "postgres")


class Engine(Protocol):
    name: str

    def sql_target(self):  # a context manager yielding a check.SqlTarget
        ...

    def lacks(self, name: str) -> frozenset[str]:  # columns filled in, not stored
        ...

    def table(self, name: str):  # -> ibis.Table
        ...

    def execute(self, expr):  # ibis expression -> pandas.DataFrame
        ...


def check_tables(source: object, engine: str = "duckdb") -> list[dict]:
    """``aovlab check``: see :func:`aovlab.engines.check.check_tables`."""
    from .check import check_tables as run

    return run(source, engine)


def catalog_of(source: object) -> Catalog:
    """The catalog of ``source``: a catalog itself, or an object holding one (a workspace)."""
    cat = getattr(source, "catalog", source)
    if not hasattr(cat, "cursor") and not hasattr(cat, "native_engine"):
        raise EngineError(f"cannot read tables from a {type(source).__name__}",
                          fix="pass a Workspace or a Catalog")
    return cat


def connect(source: object, engine: str | Engine = "duckdb") -> Engine:
    """An engine over ``source``'s canonical tables (an engine object is returned as is)."""
    if not isinstance(engine, str):
        return engine
    key = engine.lower()
    if key not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}", fix=f"use one of {', '.join(ENGINES)}")
    cat = catalog_of(source)
    native = getattr(cat, "native_engine", "duckdb")
    if key == "duckdb" and native != "duckdb":
        key = native  # the default engine cannot read this catalog: its own engine does
    if key not in (native, "duckdb", "spark") or (native == "postgres" and key != native):
        raise EngineError(f"the {key} engine cannot read {cat.description}",
                          fix=f"use --engine {native} (or leave --engine out)")
    if key == "duckdb":
        from .duckdb import DuckDBEngine

        return DuckDBEngine(cat)
    if key == "spark":
        from .spark import SparkEngine

        return SparkEngine(cat)
    from .postgres import PostgresEngine

    return PostgresEngine(cat)
