"""Experiments on the workspace: how many units and days a test of AOV or revenue per
visitor needs, from the store's own variance (:func:`power_analysis`)."""

from .power import power_analysis

__all__ = ["power_analysis"]
