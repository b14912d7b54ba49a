"""Experiments on the workspace: the analysis of an A/B test at its randomisation unit
(:func:`abtest`), and how many units and days a test of AOV or revenue per visitor needs,
from the store's own variance (:func:`power_analysis`)."""

from .abtest import abtest
from .power import power_analysis

__all__ = ["abtest", "power_analysis"]
