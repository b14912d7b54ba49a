"""Levers: what a free-shipping threshold or an "X off over Y" offer would do, measured from
the store's own orders (:func:`threshold`), and whether a change of one worked
(:func:`threshold_change`)."""

from .change import threshold_change
from .threshold import ThresholdResult, threshold

__all__ = ["ThresholdResult", "threshold", "threshold_change"]
