"""Analyses: each takes one validated selection and returns a result object.

Siblings (kpis, histogram, explain, values, customers, baskets; later levers,
experiments) share only the layers below them and never import one another.
"""

from .baskets import baskets, bundles, cross_sell, movers, replenishment
from .customers import clv, cohorts, holdout, rfm, segments
from .experiments import abtest, power_analysis
from .explain import Explanation, check_additivity, explain
from .histogram import Histogram, histogram
from .kpis import DEFAULT_PERCENTILES, KpiResult, kpis
from .levers import ThresholdResult, price_test, threshold, threshold_change
from .result import Result
from .values import dimension_values

__all__ = [
    "DEFAULT_PERCENTILES", "Explanation", "Histogram", "KpiResult", "Result", "baskets",
    "bundles", "check_additivity", "clv", "cohorts", "cross_sell", "dimension_values",
    "explain", "histogram", "holdout", "kpis", "movers", "replenishment", "rfm", "segments",
    "threshold", "ThresholdResult", "threshold_change", "price_test",
    "power_analysis", "abtest"
]
