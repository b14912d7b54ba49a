"""Engines run the metric expressions (written once, in Ibis) on a workspace's tables.

``duckdb`` (default) queries the workspace file in place. ``spark`` loads the canonical
tables into a Spark session (local mode unless ``SPARK_MASTER`` says otherwise) and runs
the very same expressions there.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import EngineError
from ..workspace import Workspace

ENGINES = ("duckdb", "spark")


class Engine(Protocol):
    name: str

    def table(self, name: str):  # -> ibis.Table
        ...

    def execute(self, expr):  # ibis expression -> pandas.DataFrame
        ...


def connect(workspace: Workspace, engine: str = "duckdb") -> Engine:
    """An engine over ``workspace``'s canonical tables."""
    key = engine.lower()
    if key == "duckdb":
        from .duckdb import DuckDBEngine

        return DuckDBEngine(workspace)
    if key == "spark":
        from .spark import SparkEngine

        return SparkEngine(workspace)
    raise EngineError(f"unknown engine {engine!r}", fix=f"use one of {', '.join(ENGINES)}")
