"""Renderers: results drawn in a terminal (Rich), written to files, or as HTML."""

from .files import (
    FORMATS,
    check_output,
    flat_items,
    safe_cell,
    spreadsheet_safe,
    write,
    write_console,
    write_text,
)
from .terminal import (
    KPI_TABLE_COLUMNS,
    histogram_bars,
    histogram_title,
    kpi_columns,
    kpi_title,
    render_abtest,
    render_baskets,
    render_clv,
    render_cohorts,
    render_explanation,
    render_holdout,
    render_price_test,
    render_segments,
    render_threshold,
    render_threshold_change,
    rich_table,
)

__all__ = [
    "FORMATS", "KPI_TABLE_COLUMNS", "check_output", "flat_items", "histogram_bars",
    "histogram_title", "kpi_columns", "kpi_title", "render_baskets", "render_clv",
    "render_cohorts", "render_explanation", "render_holdout", "render_segments",
    "render_abtest", "render_price_test", "render_threshold", "render_threshold_change",
    "rich_table", "safe_cell", "spreadsheet_safe", "write", "write_console", "write_text"
]
