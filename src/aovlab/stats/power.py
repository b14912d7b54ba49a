"""Before and around an experiment: the sample-ratio-mismatch check and the power and
sample size of a two-arm test of a mean (revenue per visitor, or AOV from its
delta-method variance per unit).

* **SRM**: Pearson's χ² of the units per arm against the planned split, k − 1 degrees of
  freedom; flagged below ``alpha`` (0.001 by default, as the A/B literature uses, since a
  false alarm stops a good experiment: Fabijan et al. 2019).
* **Power** of a two-sided z-test of a lift δ between arms of n₀ and n₁ units with
  per-unit variance σ²: Φ(|δ| / SE − z₁₋α/₂) + Φ(−|δ| / SE − z₁₋α/₂), SE = σ√(1/n₀ + 1/n₁).
* **Sample size** per arm for a power: n₀ = (z₁₋α/₂ + z_power)² σ² (1 + 1/r) / δ², n₁ = r n₀
  for a split of r treatment units per control unit (the inverse of the power, dropping
  the far tail's negligible term).

A relative lift is a share of the control's mean (δ = lift × mean).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import chdtrc, ndtr, ndtri


@dataclass(frozen=True)
class SampleRatio:
    """The χ² test of the units per arm against the planned shares."""

    chi2: float
    df: int
    p: float
    flagged: bool
    observed: tuple[int, ...]
    expected: tuple[float, ...]


def sample_ratio(counts: list[int] | tuple[int, ...], shares: list[float] | None = None,
                 *, alpha: float = 0.001) -> SampleRatio:
    """Sample-ratio mismatch: are the units per arm (``counts``) what the planned
    ``shares`` (default equal) make likely?"""
    n = [int(c) for c in counts]
    if len(n) < 2 or min(n) < 0:
        raise ValueError("counts must be two or more arms, none negative")
    w = [1.0] * len(n) if shares is None else [float(s) for s in shares]
    if len(w) != len(n) or min(w) <= 0:
        raise ValueError("one positive planned share per arm")
    total = sum(n)
    if total == 0:
        return SampleRatio(math.nan, len(n) - 1, math.nan, False, tuple(n),
                           tuple(0.0 for _ in n))
    expected = [total * s / sum(w) for s in w]
    chi2 = sum((o - e) ** 2 / e for o, e in zip(n, expected, strict=True))
    p = float(chdtrc(len(n) - 1, chi2))
    return SampleRatio(chi2, len(n) - 1, p, p < alpha, tuple(n), tuple(expected))


def _delta(lift: float, mean: float, relative: bool) -> float:
    d = lift * mean if relative else lift
    if not (math.isfinite(d) and d != 0):
        raise ValueError("the lift to detect must be a finite number other than 0")
    return abs(d)


def power(n_control: float, n_treatment: float, *, variance: float, lift: float,
          mean: float = 1.0, relative: bool = True, alpha: float = 0.05) -> float:
    """The chance a two-sided test at ``alpha`` finds ``lift`` with these arms."""
    if min(n_control, n_treatment) <= 0 or not variance > 0:
        raise ValueError("arms need units and the metric a variance above 0")
    se = math.sqrt(variance * (1 / n_control + 1 / n_treatment))
    d = _delta(lift, mean, relative) / se
    z = float(ndtri(1 - alpha / 2))
    return float(ndtr(d - z) + ndtr(-d - z))


def sample_size(*, variance: float, lift: float, mean: float = 1.0, relative: bool = True,
                alpha: float = 0.05, target: float = 0.8,
                ratio: float = 1.0) -> tuple[int, int]:
    """Units per arm (control, treatment) for ``target`` power to find ``lift``, with
    ``ratio`` treatment units per control unit."""
    if not (variance > 0 and 0 < target < 1 and ratio > 0 and 0 < alpha < 1):
        raise ValueError("variance and ratio must be above 0, target and alpha in (0, 1)")
    d = _delta(lift, mean, relative)
    z = float(ndtri(1 - alpha / 2)) + float(ndtri(target))
    n0 = math.ceil(z * z * variance * (1 + 1 / ratio) / (d * d))
    return n0, math.ceil(ratio * n0)
