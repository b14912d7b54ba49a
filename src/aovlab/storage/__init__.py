"""Storage: the workspace file, the staging of imports, and the catalog engines read."""

from .catalog import Catalog, DuckDBCatalog
from .check import check_tables
from .parquet import ParquetCatalog, export_parquet, open_catalog
from .staging import ImportSummary, ProgressFn, StagingContext, TableCounts, no_progress
from .workspace import Workspace, workspace_status

__all__ = ["Catalog", "DuckDBCatalog", "ImportSummary", "ParquetCatalog", "ProgressFn",
           "StagingContext", "TableCounts", "Workspace", "check_tables", "export_parquet",
           "no_progress", "open_catalog", "workspace_status"]
