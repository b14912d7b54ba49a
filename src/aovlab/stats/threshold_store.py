"""A seeded store with a known response to a threshold: the ground truth that the
levers' estimators (bunching now; candidate thresholds next) are tested against.

Order values without the threshold are lognormal (median ``median``, log-sd ``sigma``:
order values are right-skewed and roughly lognormal in most stores). Of the orders that
would have landed in the reach [T − reach, T), each is padded with probability ``share``
to T + U(0, ``overshoot``): the customer adds an item to clear the threshold, and
overshoots it a little. The realised share of the reach that was padded is returned with
the values, so a test compares an estimate with what actually happened in that sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ThresholdStore:
    """The store's behaviour; :meth:`sample` draws its orders."""

    threshold: float = 50.0
    share: float = 0.2
    reach: float = 15.0
    overshoot: float = 5.0
    median: float = 40.0
    sigma: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.share <= 1:
            raise ValueError("share must be from 0 to 1")
        if min(self.threshold, self.reach, self.median, self.sigma) <= 0 or self.overshoot < 0:
            raise ValueError("threshold, reach, median and sigma must be positive, "
                             "overshoot not negative")

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, float]:
        """``n`` order values and the realised padded share of the reach (NaN when no
        order fell in it)."""
        rng = np.random.default_rng(seed)
        v = rng.lognormal(np.log(self.median), self.sigma, n)
        near = (v >= self.threshold - self.reach) & (v < self.threshold)
        pad = near & (rng.random(n) < self.share)
        v = np.where(pad, self.threshold + rng.uniform(0, self.overshoot, n), v)
        return v, float(pad.sum() / near.sum()) if near.any() else float("nan")

    def at(self, threshold: float) -> ThresholdStore:
        """The same customers facing ``threshold`` instead: reach and overshoot keep their
        size relative to the threshold (the response model of :mod:`.offers`)."""
        k = threshold / self.threshold
        return ThresholdStore(threshold, self.share, self.reach * k, self.overshoot * k,
                              self.median, self.sigma)

    def profit(self, threshold: float, *, margin: float, fee: float, n: int = 2_000_000,
               seed: int = 0) -> float:
        """Gross profit per order at ``threshold`` (margin × value − the shipping fee no
        longer charged on orders at or over it), by simulation of ``n`` orders."""
        v, _ = self.at(threshold).sample(n, seed)
        return float(margin * v.mean() - fee * (v >= threshold).mean())
