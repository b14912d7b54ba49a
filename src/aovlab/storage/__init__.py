"""Storage: the workspace file, the staging of imports, and the catalog engines read."""

from .catalog import Catalog, DuckDBCatalog, SparkTables
from .parquet import ParquetCatalog, export_parquet, open_catalog
from .staging import ImportSummary, ProgressFn, StagingContext, TableCounts, no_progress
from .workspace import Workspace, workspace_status

__all__ = ["Catalog", "DuckDBCatalog", "ImportSummary", "ParquetCatalog", "ProgressFn",
           "SparkTables", "StagingContext", "TableCounts", "Workspace", "export_parquet",
           "no_progress", "open_catalog", "workspace_status"]
