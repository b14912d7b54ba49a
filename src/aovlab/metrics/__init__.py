"""Metrics: Ibis expressions, written once, that produce sufficient statistics per group.

Engines execute them; nothing here computes a ratio. :mod:`.facts` selects the orders,
:mod:`.aggregates` compiles the statistics declared by :mod:`aovlab.stats` into aggregates.
"""

from .aggregates import (
    PREDICATES,
    aggregates,
    cost_totals,
    digit_bounds,
    histogram_stats,
    kpi_stats,
    order_stats,
    rows,
    traffic_stats,
    unit_stats,
    value_bins,
    value_digits,
)
from .customers import rfm_summary
from .experiments import SEGMENTS, experiment_list, experiment_stats, post_order_summary
from .facts import TRUNCATE, data_range, main_category, order_facts, order_value, period_start

__all__ = ["PREDICATES", "TRUNCATE", "aggregates", "data_range", "histogram_stats", "kpi_stats",
           "main_category", "order_facts", "order_stats", "order_value", "period_start",
           "rfm_summary", "rows", "traffic_stats", "unit_stats",
           "value_bins", "value_digits", "digit_bounds", "cost_totals", "SEGMENTS",
           "experiment_list", "experiment_stats", "post_order_summary"]
