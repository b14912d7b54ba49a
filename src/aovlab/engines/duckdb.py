"""The embedded default engine: Ibis on the workspace's own DuckDB connection."""

from __future__ import annotations

import ibis

from ..workspace import Workspace


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        # One connection per workspace: DuckDB allows one writer per file per process.
        self.backend = ibis.duckdb.from_connection(workspace.con)

    def table(self, name: str):
        return self.backend.table(name)

    def execute(self, expr):
        with self.workspace._lock:
            return self.backend.execute(expr)
