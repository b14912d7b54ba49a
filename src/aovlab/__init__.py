"""aovlab: what your Average Order Value really is, why it moves, on DuckDB and Spark.

>>> import aovlab
>>> ws = aovlab.Workspace("shop.duckdb")                       # doctest: +SKIP
>>> aovlab.import_files(ws, "orders_export.csv", "shopify")   # doctest: +SKIP
>>> aovlab.kpis(ws, by=["channel"], period="month").to_pandas()  # doctest: +SKIP

The package is layered (``docs/architecture.md``): schema → storage and importers →
engines → query → metrics → stats → analyses → report → cli.
"""

from __future__ import annotations

from . import experiments, models, synthetic
from .analyses import (
    Explanation,
    Histogram,
    KpiResult,
    Result,
    ThresholdResult,
    abtest,
    baskets,
    bundles,
    check_additivity,
    clv,
    cohorts,
    cross_sell,
    explain,
    histogram,
    holdout,
    kpis,
    movers,
    power_analysis,
    price_test,
    replenishment,
    rfm,
    segments,
    threshold,
    threshold_change,
)
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
from .importers import FORMATS, import_files, import_frame
from .query import Selection
from .report.html import report as html_report
from .schema import DEFAULT_DEFINITION, DEFINITIONS, get_definition
from .storage import Catalog, ImportSummary, Workspace, workspace_status
from .version import __version__

__all__ = [
    "AovlabError", "Catalog", "CurrencyMixError", "DEFAULT_DEFINITION", "DEFINITIONS",
    "DefinitionError", "EngineError", "Explanation", "FORMATS", "Histogram",
    "ImportSummary", "InputError", "KpiResult", "MappingError", "NoDataError", "Result",
    "Selection", "Workspace", "WorkspaceError", "__version__", "baskets", "bundles",
    "check_additivity", "clv", "cohorts", "experiments", "cross_sell", "explain", "get_definition",
    "histogram", "holdout", "html_report", "import_files", "import_frame", "kpis", "models",
    "movers", "replenishment", "rfm", "segments", "synthetic", "threshold",
    "ThresholdResult", "threshold_change", "price_test", "power_analysis", "abtest",
    "workspace_status"
]
