"""Engines run the metric expressions (written once, in Ibis) over a catalog of tables.

``duckdb`` (default) queries the catalog's DuckDB database in place, a cursor per call.
``spark`` runs the very same expressions on a Spark session (local mode unless
``SPARK_MASTER`` says otherwise): a Parquet catalog's files are read in place, any other
catalog's tables are copied to Parquet once per engine.
An engine is given a :class:`~aovlab.storage.Catalog` (or anything with a ``catalog``
attribute, such as a workspace) and never touches a workspace's internals.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import EngineError
from ..storage.catalog import Catalog

ENGINES = ("duckdb", "spark")


class Engine(Protocol):
    name: str

    def table(self, name: str):  # -> ibis.Table
        ...

    def execute(self, expr):  # ibis expression -> pandas.DataFrame
        ...


def catalog_of(source: object) -> Catalog:
    """The catalog of ``source``: a catalog itself, or an object holding one (a workspace)."""
    cat = getattr(source, "catalog", source)
    if not hasattr(cat, "cursor"):
        raise EngineError(f"cannot read tables from a {type(source).__name__}",
                          fix="pass a Workspace or a Catalog")
    return cat


def connect(source: object, engine: str | Engine = "duckdb") -> Engine:
    """An engine over ``source``'s canonical tables (an engine object is returned as is)."""
    if not isinstance(engine, str):
        return engine
    key = engine.lower()
    if key == "duckdb":
        from .duckdb import DuckDBEngine

        return DuckDBEngine(catalog_of(source))
    if key == "spark":
        from .spark import SparkEngine

        return SparkEngine(catalog_of(source))
    raise EngineError(f"unknown engine {engine!r}", fix=f"use one of {', '.join(ENGINES)}")
