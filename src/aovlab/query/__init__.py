"""The query layer: one validated :class:`Selection` per question, and the shared guards."""

from .calendar import (
    LAST_UNITS,
    STEP,
    VS,
    YEAR,
    compared_with,
    last_whole,
    period_floor,
    period_last,
)
from .selection import (
    DERIVED_DIMENSIONS,
    DIMENSIONS,
    ORDER_DIMENSIONS,
    PERIODS,
    TRAFFIC_DIMENSIONS,
    Selection,
    SelectionOptions,
    check_dimensions,
    parse_date,
    parse_range,
    require_one_currency,
    require_orders,
)

__all__ = ["DERIVED_DIMENSIONS", "DIMENSIONS", "LAST_UNITS", "ORDER_DIMENSIONS", "PERIODS",
           "STEP", "VS", "compared_with", "last_whole",
           "TRAFFIC_DIMENSIONS", "YEAR", "Selection", "SelectionOptions", "check_dimensions",
           "parse_date", "parse_range", "period_floor", "period_last", "require_one_currency",
           "require_orders"]
