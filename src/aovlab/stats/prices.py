"""Price tests: demand per visitor at each tested price, its elasticity and the price that
maximises profit per visitor within the tested range.

Each arm (a price p shown to v visitors) has u units sold. Demand per visitor
q = u / v; its constant-elasticity model ln q = a + ε·ln p is fitted by weighted least
squares over the arms, with weights u (the delta method gives Var(ln q̂) ≈ 1/u for Poisson
counts; u²/Σk² with the orders' Σ units², compound Poisson). With three or more arms the
standard error is scaled by √(max(1, X²/(k − 2))), the Pearson dispersion of the fit
(quasi-likelihood, McCullagh & Nelder 1989, §4.5), so arms that scatter more than the
noise widen the interval — then on Student's t with k − 2 degrees of freedom, as the scale
is estimated (a dispersion at or below 1 keeps the known Poisson scale, and the normal).
With two arms the fit is exact:
ε = Δln q / Δln p, SE = √(1/u₁ + 1/u₂) / |Δln p|.

Profit per visitor at price p is π(p) = q(p)·(p − c) for a unit cost c (c = 0: revenue
per visitor). Its maximiser depends on ε and c only (eᵃ scales π), and rises with ε, so
the interval of the best price is the best price at the ends of ε's interval. It is sought
within the tested prices only: the model says nothing beyond them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri, stdtr, stdtrit


def wilson(k: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval of a proportion k / n (Wilson 1927): unlike the normal
    interval it stays inside [0, 1] and is not degenerate at 0 or n."""
    if n <= 0:
        return math.nan, math.nan
    z = float(ndtri(0.5 + level / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


@dataclass(frozen=True)
class Elasticity:
    """ε of demand per visitor on price, its interval and p-value (against 0)."""

    value: float
    se: float
    ci: tuple[float, float]
    p: float
    intercept: float
    arms: int
    dispersion: float

    def demand(self, price: np.ndarray | float) -> np.ndarray | float:
        """Fitted demand per visitor at ``price``."""
        return np.exp(self.intercept) * np.power(price, self.value)


def elasticity(prices: np.ndarray, units: np.ndarray, visitors: np.ndarray,
               level: float = 0.95, units_sq: np.ndarray | None = None) -> Elasticity:
    """The constant-elasticity fit of units per visitor on price over the arms (those with
    units sold and visitors; at least two distinct prices). ``units_sq`` (Σ over orders of
    their units², per arm) makes the units compound Poisson, Var(ln q̂) ≈ Σk² / u²: orders
    of several units scatter more than Poisson units. With three or more arms the interval
    uses Student's t on k − 2 degrees of freedom when the dispersion is estimated above 1."""
    p = np.asarray(prices, dtype=np.float64)
    u = np.asarray(units, dtype=np.float64)
    v = np.asarray(visitors, dtype=np.float64)
    sq = u if units_sq is None else np.asarray(units_sq, dtype=np.float64)
    ok = (u > 0) & (v > 0) & (p > 0)
    p, u, v, sq = p[ok], u[ok], v[ok], sq[ok]
    if len(np.unique(p)) < 2:
        raise ValueError("an elasticity needs units sold at two or more prices")
    x, y = np.log(p), np.log(u / v)
    X = np.column_stack([np.ones_like(x), x])
    xtw = X.T * (u * u / np.maximum(sq, u))
    cov = np.linalg.inv(xtw @ X)
    beta = cov @ xtw @ y
    k = len(p)
    dispersion = 1.0
    if k > 2:
        fitted = v * np.exp(X @ beta)
        var = fitted * np.maximum(sq, u) / u  # Poisson, or compound Poisson with units_sq
        dispersion = max(1.0, float(np.sum((u - fitted) ** 2 / var)) / (k - 2))
    se = math.sqrt(cov[1, 1] * dispersion)
    estimated = dispersion > 1
    z = float(stdtrit(k - 2, 0.5 + level / 2)) if estimated else float(ndtri(0.5 + level / 2))
    e = float(beta[1])
    p_value = float(2 * (stdtr(k - 2, -abs(e) / se) if estimated else ndtr(-abs(e) / se)))
    return Elasticity(e, se, (e - z * se, e + z * se), p_value, float(beta[0]), k,
                      dispersion)


def best_price(e: Elasticity, low: float, high: float, unit_cost: float = 0.0,
               points: int = 2001) -> tuple[float, float, float]:
    """The price maximising q(p)·(p − c) in [low, high] under the fitted elasticity, and
    at the ends of its interval (the maximiser rises with ε)."""
    grid = np.linspace(low, high, points)

    def argmax(eps: float) -> float:
        profit = np.power(grid, eps) * (grid - unit_cost)
        return float(grid[int(np.argmax(profit))])

    lo, hi = e.ci
    return argmax(e.value), argmax(lo), argmax(hi)
