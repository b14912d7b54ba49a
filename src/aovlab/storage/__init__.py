"""Storage: the workspace file, the staging of imports, and the catalog engines read."""

from .catalog import Catalog, DuckDBCatalog
from .staging import ImportSummary, ProgressFn, StagingContext, TableCounts, no_progress
from .workspace import Workspace, workspace_status

__all__ = ["Catalog", "DuckDBCatalog", "ImportSummary", "ProgressFn", "StagingContext",
           "TableCounts", "Workspace", "no_progress", "workspace_status"]
