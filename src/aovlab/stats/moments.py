"""Sufficient statistics that engines return and that merge with ``+``.

``Moments`` summarises one variable (count, sum, sum of squares); ``RatioMoments`` summarises
a ratio metric Σx / Σy over independent units (customers), such as AOV = revenue / orders
when a customer's orders are not independent of each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import stdtrit

#: Fewer independent units than this get no AOV interval: with under 4 degrees of freedom
#: the sample (co)variances behind the delta method are too unstable for the interval to
#: mean anything (a day of 2 orders gave -733 .. +1,300), and the t quantile exceeds 2.78.
MIN_INTERVAL_UNITS = 5


def _t(level: float, df: int) -> float:
    """Student's t quantile for a two-sided ``level`` interval: with the few units of a
    period x segment group, z under-covers (86% at 10 units for a nominal 90%).

    ``scipy.special.stdtrit`` is the ufunc behind ``scipy.stats.t.ppf``, 40x faster per
    call (3 us against 133 us): a 96 x 49 KPI table computes 4,704 of them."""
    return float(stdtrit(df, 0.5 + level / 2))


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
        """Student-t interval of the mean, n − 1 degrees of freedom."""
        if self.n < 2:
            return math.nan, math.nan
        half = _t(level, self.n - 1) * self.se
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

    def ci(self, level: float = 0.95, *, floor: float | None = None) -> tuple[float, float]:
        """Delta-method interval with Student's t on n − 1 degrees of freedom; (NaN, NaN)
        below :data:`MIN_INTERVAL_UNITS` units. ``floor`` bounds it below (0 for a ratio
        that cannot be negative, such as AOV, when its estimate is not)."""
        if self.n < MIN_INTERVAL_UNITS or math.isnan(self.se):
            return math.nan, math.nan
        half = _t(level, self.n - 1) * self.se
        lo, hi = self.ratio - half, self.ratio + half
        if floor is not None and self.ratio >= floor:
            lo = max(lo, floor)
        return lo, hi


def difference_ci(a: RatioMoments, b: RatioMoments,
                  level: float = 0.95) -> tuple[float, float, float]:
    """``b.ratio − a.ratio`` and its interval, the two taken as independent samples.

    SE = √(SEa² + SEb²), Student's t on the Welch–Satterthwaite degrees of freedom
    ν = (SEa² + SEb²)² / (SEa⁴/(na − 1) + SEb⁴/(nb − 1)) (Welch 1947). Two periods of one
    store share customers, whose spend is positively correlated, so the true variance of
    the difference is smaller and the interval errs wide: "beyond noise" is not claimed
    lightly. No interval when either side has fewer than :data:`MIN_INTERVAL_UNITS` units.
    """
    d = b.ratio - a.ratio
    if min(a.n, b.n) < MIN_INTERVAL_UNITS or math.isnan(a.se) or math.isnan(b.se):
        return d, math.nan, math.nan
    va, vb = a.se ** 2, b.se ** 2
    if va + vb == 0:
        return d, d, d
    df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1))
    half = float(stdtrit(df, 0.5 + level / 2)) * math.sqrt(va + vb)
    return d, d - half, d + half
