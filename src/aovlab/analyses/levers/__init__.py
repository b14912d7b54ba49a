"""Levers: what a free-shipping threshold or an "X off over Y" offer would do, measured from
the store's own orders (:func:`threshold`), whether a change of one worked
(:func:`threshold_change`), and which tested price earns most (:func:`price_test`)."""

from .change import threshold_change
from .prices import price_test
from .threshold import ThresholdResult, threshold

__all__ = ["ThresholdResult", "price_test", "threshold", "threshold_change"]
