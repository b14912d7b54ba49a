"""Sufficient statistics that engines return and that merge with ``+``.

``Moments`` summarises one variable (count, sum, sum of squares); ``RatioMoments`` summarises
a ratio metric Σx / Σy over independent units (customers), such as AOV = revenue / orders
when a customer's orders are not independent of each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as _st


def _z(level: float) -> float:
    return float(_st.norm.ppf(0.5 + level / 2))


@dataclass(frozen=True)
class Moments:
    """n, Σx, Σx² of a sample."""

    n: int
    sum: float
    sum_sq: float

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.sum + other.sum, self.sum_sq + other.sum_sq)

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        """Unbiased sample variance, (Σx² − n·x̄²)/(n − 1), floored at 0 for rounding."""
        if self.n < 2:
            return math.nan
        return max(self.sum_sq - self.sum * self.sum / self.n, 0.0) / (self.n - 1)

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    @property
    def se(self) -> float:
        """Standard error of the mean."""
        return math.sqrt(self.variance / self.n) if self.n >= 2 else math.nan

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        half = _z(level) * self.se
        return self.mean - half, self.mean + half


@dataclass(frozen=True)
class RatioMoments:
    """Per-unit sums for a ratio R = Σx / Σy with delta-method variance.

    Var(R̂) ≈ (1/n) · (σx² − 2R·σxy + R²·σy²) / ȳ²  (delta method; Deng et al. 2018, eq. 3),
    with σ the per-unit sample (co)variances; units are the independent sampling units.
    """

    n: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_yy: float
    sum_xy: float

    def __add__(self, other: RatioMoments) -> RatioMoments:
        return RatioMoments(*(a + b for a, b in zip(self._tuple(), other._tuple(), strict=True)))

    def _tuple(self) -> tuple:
        return (self.n, self.sum_x, self.sum_y, self.sum_xx, self.sum_yy, self.sum_xy)

    @property
    def ratio(self) -> float:
        return self.sum_x / self.sum_y if self.sum_y else math.nan

    @property
    def variance(self) -> float:
        n = self.n
        if n < 2 or not self.sum_y:
            return math.nan
        mx, my = self.sum_x / n, self.sum_y / n
        vx = (self.sum_xx - n * mx * mx) / (n - 1)
        vy = (self.sum_yy - n * my * my) / (n - 1)
        cxy = (self.sum_xy - n * mx * my) / (n - 1)
        r = mx / my
        return max(vx - 2 * r * cxy + r * r * vy, 0.0) / (n * my * my)

    @property
    def se(self) -> float:
        return math.sqrt(self.variance) if not math.isnan(self.variance) else math.nan

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        half = _z(level) * self.se
        return self.ratio - half, self.ratio + half
