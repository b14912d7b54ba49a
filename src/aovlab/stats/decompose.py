"""Exact decompositions of a change, with no residual term.

* **Two factors**, Δ(x·y) = Δx·ȳ + x̄·Δy with x̄ = (x_A + x_B)/2 (the two-factor Shapley
  value, equivalently midpoint weights).
* **Three factors**, Δ(x·y·z) with the three-factor Shapley value,
  part_x = Δx · [(y_A z_A + y_B z_B)/3 + (y_A z_B + y_B z_A)/6].
* **Mix vs rate**: AOV = Σᵢ wᵢ·aᵢ with wᵢ = nᵢ/N the segment's share of orders and aᵢ its
  AOV; ΔAOV = Σᵢ Δwᵢ·(āᵢ − Ā) (mix: orders moved between segments) + Σᵢ w̄ᵢ·Δaᵢ (rate: AOV
  within segments moved), Ā the mean of both periods' overall AOV. Centring the mix term
  changes no total (ΣΔwᵢ = 0) but gives each segment the sign of its pull: a segment below
  the overall AOV whose share grew pulled AOV down, and its mix effect is negative (against
  zero it would read positive). A segment present in one period only has all of its effect
  as mix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def shapley2(x_a: float, x_b: float, y_a: float, y_b: float) -> tuple[float, float]:
    """Exact split of Δ(x·y) into an x part and a y part (midpoint weights)."""
    return (x_b - x_a) * (y_a + y_b) / 2, (y_b - y_a) * (x_a + x_b) / 2


def shapley3(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
             ) -> tuple[float, float, float]:
    """Exact Shapley split of Δ(x·y·z) into x, y and z parts."""

    def part(x, y, z):
        return (x[1] - x[0]) * ((y[0] * z[0] + y[1] * z[1]) / 3 + (y[0] * z[1] + y[1] * z[0]) / 6)

    return part(a, b, c), part(b, a, c), part(c, a, b)


@dataclass(frozen=True)
class MixRate:
    """One segment's part of an AOV change."""

    share_base: float
    share_compare: float
    aov_base: float  # NaN when the segment has no orders in the base period
    aov_compare: float
    mix_effect: float
    rate_effect: float

    @property
    def total_effect(self) -> float:
        return self.mix_effect + self.rate_effect


def mix_rate(n_a: Sequence[float], r_a: Sequence[float], n_b: Sequence[float],
             r_b: Sequence[float]) -> list[MixRate]:
    """Mix and rate effects per segment from order counts and revenues of two periods."""
    na_total, nb_total = float(sum(n_a)), float(sum(n_b))
    # the overall AOV both periods' mix effects are measured against
    centre = (sum(r_a) / na_total + sum(r_b) / nb_total) / 2
    out = []
    for na, ra, nb, rb in zip(n_a, r_a, n_b, r_b, strict=True):
        w_a, w_b = na / na_total, nb / nb_total
        a_a = ra / na if na > 0 else math.nan
        a_b = rb / nb if nb > 0 else math.nan
        # A segment absent from one period takes its other-period AOV there: no rate effect.
        fa = a_b if math.isnan(a_a) else a_a
        fb = a_a if math.isnan(a_b) else a_b
        if math.isnan(fa):  # no orders in either period: the segment moves nothing
            out.append(MixRate(w_a, w_b, a_a, a_b, 0.0, 0.0))
            continue
        out.append(MixRate(w_a, w_b, a_a, a_b, (w_b - w_a) * ((fa + fb) / 2 - centre),
                           (w_a + w_b) / 2 * (fb - fa)))
    return out
