"""aovlab: what your Average Order Value really is, why it moves, on DuckDB and Spark.

>>> import aovlab
>>> ws = aovlab.Workspace("shop.duckdb")                       # doctest: +SKIP
>>> aovlab.import_files(ws, "orders_export.csv", "shopify")   # doctest: +SKIP
>>> aovlab.kpis(ws, by=["channel"], period="month")            # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from .definitions import DEFAULT_DEFINITION, DEFINITIONS, get_definition
from .errors import (
    AovlabError,
    CurrencyMixError,
    DefinitionError,
    EngineError,
    InputError,
    MappingError,
    NoDataError,
    WorkspaceError,
)
from .explain import Explanation, explain
from .importers import FORMATS, import_files
from .importers.frames import import_frame
from .kpis import histogram, kpis
from .workspace import ImportSummary, Workspace, workspace_status

__all__ = [
    "DEFAULT_DEFINITION", "DEFINITIONS", "FORMATS", "AovlabError", "CurrencyMixError",
    "DefinitionError", "EngineError", "Explanation", "ImportSummary", "InputError",
    "MappingError", "NoDataError", "Workspace", "WorkspaceError", "__version__", "explain",
    "get_definition", "histogram", "import_files", "import_frame", "kpis", "workspace_status",
]
