"""Levers: what a free-shipping threshold or an "X off over Y" offer would do, measured from
the store's own orders (:func:`threshold`)."""

from .threshold import ThresholdResult, threshold

__all__ = ["ThresholdResult", "threshold"]
