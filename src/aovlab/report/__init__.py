"""Renderers: results drawn in a terminal (Rich) or written to files; HTML comes next."""

from .files import (
    FORMATS,
    check_output,
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
    render_explanation,
    rich_table,
)

__all__ = ["FORMATS", "KPI_TABLE_COLUMNS", "check_output", "histogram_bars",
           "histogram_title", "kpi_columns",
           "kpi_title", "render_explanation", "rich_table", "safe_cell", "spreadsheet_safe",
           "write", "write_console", "write_text"]
