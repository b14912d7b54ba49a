"""Statistics on sufficient statistics only: pure maths, no engine, no pandas.

:mod:`.sufficient` declares the statistics engines return (the engine→stats contract),
:mod:`.moments` the moment and ratio-moment types with their intervals, :mod:`.kpi` every
KPI as a function of them, and :mod:`.decompose` the exact Shapley and mix/rate splits.
"""

from .compare import Comparison, compare_means
from .decompose import MixRate, mix_rate, shapley2, shapley3
from .kpi import aov_moments, order_kpis, percentile_name, ratio, traffic_kpis
from .moments import MIN_INTERVAL_UNITS, Moments, RatioMoments, difference_ci
from .sufficient import (
    Agg,
    CustomerStats,
    Distribution,
    OrderStats,
    Sufficient,
    TrafficStats,
    stat,
)

__all__ = ["MIN_INTERVAL_UNITS", "Agg", "Comparison", "CustomerStats", "Distribution", "MixRate",
           "Moments",
           "OrderStats", "RatioMoments", "Sufficient", "TrafficStats", "aov_moments",
           "compare_means", "difference_ci", "mix_rate",
           "order_kpis", "percentile_name", "ratio", "shapley2", "shapley3", "stat",
           "traffic_kpis"]
