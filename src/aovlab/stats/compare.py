"""Two-sample comparisons of means from sufficient statistics (n, Σx, Σx²): the frequentist
test of an A/B experiment, as GrowthBook's gbstats computes it.

With means m₀, m₁, unbiased variances s₀², s₁² and sizes n₀, n₁ of control and treatment:

* absolute lift Δ = m₁ − m₀, Var = s₁²/n₁ + s₀²/n₀;
* relative lift Δ / m₀ = m₁/m₀ − 1, by the delta method
  Var = s₁²/(n₁ m₀²) + s₀² m₁²/(n₀ m₀⁴);
* Student's t on the Welch–Satterthwaite degrees of freedom
  ν = (s₀²/n₀ + s₁²/n₁)² / ((s₀²/n₀)²/(n₀ − 1) + (s₁²/n₁)²/(n₁ − 1)) for the interval and the
  two-sided p-value.

An empty arm, an arm of one unit, zero variance on both sides or a control mean of 0 (no
relative lift) come back as a coded :class:`Comparison` (``code``), with NaN figures, so one
bad metric never blanks a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import stdtr, stdtrit

from .moments import Moments, RatioMoments


@dataclass(frozen=True)
class Comparison:
    """A lift, its interval and p-value; ``code`` is ``"ok"`` or why there are none."""

    lift: float
    ci_low: float
    ci_high: float
    p: float
    se: float
    df: float
    relative: bool
    code: str = "ok"

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def _coded(code: str, relative: bool, lift: float = math.nan) -> Comparison:
    return Comparison(lift, math.nan, math.nan, math.nan, math.nan, math.nan, relative, code)


def compare_means(control: Moments, treatment: Moments, *, relative: bool = True,
                  level: float = 0.95) -> Comparison:
    """The treatment's lift over the control (relative: a share of the control's mean),
    with a ``level`` Welch interval and a two-sided p-value."""
    if control.n == 0 or treatment.n == 0:
        return _check_level(level) or _coded("empty_arm", relative)
    return _welch(control.mean, control.variance / control.n, control.n,
                  treatment.mean, treatment.variance / treatment.n, treatment.n,
                  relative=relative, level=level)


def compare_ratios(control: RatioMoments, treatment: RatioMoments, *, relative: bool = True,
                   level: float = 0.95) -> Comparison:
    """:func:`compare_means` for a ratio metric such as AOV (Σ revenue / Σ orders over the
    randomisation units): each arm's ratio and its delta-method variance at the unit
    (:class:`~aovlab.stats.RatioMoments`, Deng et al. 2018), then the same Welch interval.
    An arm whose units have no denominator (no orders) is coded ``no_denominator``."""
    if control.n == 0 or treatment.n == 0:
        return _check_level(level) or _coded("empty_arm", relative)
    if not control.sum_y or not treatment.sum_y:
        return _check_level(level) or _coded("no_denominator", relative)
    return _welch(control.ratio, _var(control), control.n, treatment.ratio, _var(treatment),
                  treatment.n, relative=relative, level=level)


def _var(r: RatioMoments) -> float:
    v = r.variance
    return 0.0 if math.isnan(v) else v


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")


def _welch(m0: float, v0: float, n0: int, m1: float, v1: float, n1: int, *,
           relative: bool, level: float) -> Comparison:
    """The comparison of two estimates m₀, m₁ with sampling variances v₀, v₁ (already
    divided by their sizes n₀, n₁): the formulas of the module docstring."""
    _check_level(level)
    if n0 < 2 or n1 < 2:
        return _coded("too_few_units", relative)
    if relative and m0 == 0:
        return _coded("zero_control_mean", relative)
    if v0 + v1 == 0:
        return _coded("zero_variance", relative, (m1 - m0) / (m0 if relative else 1.0))
    df = (v0 + v1) ** 2 / (v0 ** 2 / (n0 - 1) + v1 ** 2 / (n1 - 1))
    if relative:
        lift = m1 / m0 - 1
        se = math.sqrt(v1 / m0 ** 2 + v0 * m1 ** 2 / m0 ** 4)
    else:
        lift = m1 - m0
        se = math.sqrt(v0 + v1)
    if not se > 0:  # a relative lift of −100% (a treatment mean of 0 without spread)
        return _coded("zero_variance", relative, lift)
    half = float(stdtrit(df, 0.5 + level / 2)) * se
    p = float(2 * stdtr(df, -abs(lift) / se))
    return Comparison(lift, lift - half, lift + half, p, se, df, relative)


#: The sample size the sequential interval is tightest at (units in both arms), by default.
SEQUENTIAL_TUNING = 5000


def _mixture_half(se: float, n: int, alpha: float, tuning: float) -> float:
    """Half-width of the two-sided normal-mixture confidence sequence (Howard, Ramdas,
    McAuliffe & Sekhon 2021, eq. 14) for an estimate of standard error ``se`` from ``n``
    units: σ√(2(nρ² + 1)/(n²ρ²) · log(√(nρ² + 1)/α)) with σ = se·√n, and ρ² chosen to be
    tightest at ``tuning`` units, ρ² = (−2 log α + log(−2 log α + 1)) / tuning."""
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    sigma = se * math.sqrt(n)
    return sigma * math.sqrt(2 * (n * rho2 + 1) / (n * n * rho2)
                             * math.log(math.sqrt(n * rho2 + 1) / alpha))


def compare_means_sequential(control: Moments, treatment: Moments, *, relative: bool = True,
                             level: float = 0.95,
                             tuning: float = SEQUENTIAL_TUNING) -> Comparison:
    """:func:`compare_means` with an always-valid interval: it may be looked at after
    every unit and still covers the true lift with probability ``level`` at all times at
    once (peeking does not inflate false positives). Wider than the fixed-sample interval;
    the p-value is the always-valid one (the smallest 1 − level whose interval excludes
    0), and ``df`` is NaN (a normal mixture, not a t)."""
    fixed = compare_means(control, treatment, relative=relative, level=level)
    return sequential(fixed, control.n + treatment.n, level=level, tuning=tuning)


def sequential(fixed: Comparison, n: int, *, level: float = 0.95,
               tuning: float = SEQUENTIAL_TUNING) -> Comparison:
    """The always-valid version of a fixed-sample comparison from ``n`` units in all (any
    estimate with a standard error: a mean, a ratio, a CUPED-adjusted mean)."""
    if not fixed.ok:
        return fixed
    half = _mixture_half(fixed.se, n, 1 - level, tuning)

    def excludes(alpha: float) -> bool:
        return abs(fixed.lift) > _mixture_half(fixed.se, n, alpha, tuning)

    if not excludes(1 - 1e-12):
        p = 1.0
    else:  # bisection on log α: excluding 0 is monotone in α
        lo, hi = 1e-300, 1 - 1e-12
        for _ in range(200):
            mid = math.sqrt(lo * hi)
            lo, hi = (lo, mid) if excludes(mid) else (mid, hi)
        p = hi
    return Comparison(fixed.lift, fixed.lift - half, fixed.lift + half, p, fixed.se,
                      math.nan, fixed.relative)


@dataclass(frozen=True)
class PairedMoments:
    """n, Σy, Σy², Σx, Σx², Σxy of a sample of (metric y, pre-exposure covariate x)."""

    n: int
    sum_y: float
    sum_yy: float
    sum_x: float
    sum_xx: float
    sum_xy: float

    def __add__(self, other: PairedMoments) -> PairedMoments:
        return PairedMoments(*(a + b for a, b in zip(self._t(), other._t(), strict=True)))

    def _t(self) -> tuple:
        return (self.n, self.sum_y, self.sum_yy, self.sum_x, self.sum_xx, self.sum_xy)

    def adjusted(self, theta: float, x_mean: float) -> Moments:
        """The moments of y − θ(x − x̄): CUPED's adjusted metric."""
        s = self.sum_y - theta * (self.sum_x - self.n * x_mean)
        # Σ(y − θx + θx̄)² expanded in the sums
        c = theta * x_mean
        ss = (self.sum_yy + theta ** 2 * self.sum_xx + self.n * c * c
              - 2 * theta * self.sum_xy + 2 * c * self.sum_y - 2 * theta * c * self.sum_x)
        return Moments(self.n, s, ss)


def cuped(control: PairedMoments, treatment: PairedMoments, *, relative: bool = True,
          level: float = 0.95) -> tuple[Comparison, float]:
    """:func:`compare_means` on CUPED-adjusted metrics (Deng, Xu, Kohavi & Walker 2013):
    y − θ(x − x̄) with θ = Σₖ Cov_k(y, x) / Σₖ Var_k(x), the within-arm covariances pooled
    (so θ does not depend on the treatment effect, as a total covariance over both arms
    would through its between-arm term), and x̄ the pooled covariate mean; the means stay
    unbiased and the variance shrinks by the correlation squared. Returns the comparison
    and θ (0, and the plain comparison, when the covariate does not vary). The relative
    lift is against the control's adjusted mean, equal to its plain mean in expectation
    (randomisation balances x̄ across the arms)."""
    pool = control + treatment
    n = pool.n
    if n < 3:
        return compare_means(Moments(control.n, control.sum_y, control.sum_yy),
                             Moments(treatment.n, treatment.sum_y, treatment.sum_yy),
                             relative=relative, level=level), 0.0
    xm = pool.sum_x / n
    var_x = cov = 0.0
    for arm in (control, treatment):
        if arm.n:
            var_x += arm.sum_xx - arm.sum_x * arm.sum_x / arm.n
            cov += arm.sum_xy - arm.sum_x * arm.sum_y / arm.n
    theta = cov / var_x if var_x > 1e-12 * max(pool.sum_xx, 1e-300) else 0.0
    return compare_means(control.adjusted(theta, xm), treatment.adjusted(theta, xm),
                         relative=relative, level=level), theta


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of several variants' p-values against one control
    (Holm 1979): it controls the family-wise error rate like Bonferroni, and is never less
    powerful. NaN p-values (coded comparisons) stay NaN and do not count."""
    idx = [i for i, p in enumerate(p_values) if not math.isnan(p)]
    m = len(idx)
    out = [math.nan] * len(p_values)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda k: p_values[k])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = running
    return out


def chance_to_beat(c: Comparison) -> float:
    """The chance the treatment beats the control, P(lift > 0), under a flat prior and the
    normal posterior the interval describes (the Bayesian reading of the same statistics)."""
    if not c.ok or not c.se > 0:
        return math.nan
    from scipy.special import ndtr

    return float(ndtr(c.lift / c.se))
