"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
purchase they drop out with probability p ~ Beta(a, b). For a customer with ``x`` repeat
purchases, the last at ``t_x``, observed for ``T`` (time since the first purchase):

    L(r, α, a, b | x, t_x, T) = B(a, b + x) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + T)^(r+x))
        + δ(x > 0) B(a + 1, b + x − 1) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + t_x)^(r+x))

(their eq. 6), evaluated in log space — ``gammaln``, ``betaln`` and ``logaddexp`` of the
two terms — so that x = 200 or T ≫ t_x neither overflows nor underflows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1, psi

from .base import Rows
from .repeat import RepeatPurchaseModel


def guarded_hyp2f1(a: Any, b: Any, c: Any, z: Any) -> np.ndarray:
    """Gauss's 2F1 for 0 ≤ z < 1. SciPy's series loses accuracy (or overflows) for large a,
    b with z near 1; Euler's transformation 2F1(a, b; c; z) = (1 − z)^(c − a − b)
    2F1(c − a, c − b; c; z) gives the same value through much smaller terms there."""
    direct = np.asarray(hyp2f1(a, b, c, z), dtype=float)
    bad = ~np.isfinite(direct)
    if bad.any():
        a, b, c, z = np.broadcast_arrays(a, b, c, z)
        euler = (1 - z[bad]) ** (c[bad] - a[bad] - b[bad]) * hyp2f1(
            c[bad] - a[bad], c[bad] - b[bad], c[bad], z[bad])
        direct = direct.copy()
        direct[bad] = euler
    return direct


class BetaGeo(RepeatPurchaseModel):
    """BG/NBD: ``fit(frequency, recency, T, weights=None)``; ``params_`` holds r, α, a, b.

    Settings: ``tol`` and ``max_iter`` of the optimiser. Fitted: ``params_``,
    ``standard_errors_``, ``log_likelihood_``, ``aic_``, ``bic_``, ``n_customers_``,
    ``converged_``. The fit is deterministic (one fixed start, no random restarts).
    """

    PARAMS = ("r", "alpha", "a", "b")
    LIMIT = {"a": 0.0, "b": float("inf")}  # no dropout: the NBD

    @staticmethod
    def _terms(params: np.ndarray, d: Rows) -> tuple[np.ndarray, ...]:
        """log of the common factor, of the alive term and of the dropout term (−inf at
        x = 0, where it does not exist: betaln(a + 1, b − 1) is not defined there)."""
        r, alpha, a, b = params
        x = d["x"]
        common = d.on("x", lambda x: gammaln(r + x) - gammaln(r)) + r * np.log(alpha) - betaln(a, b)
        alive = d.on("x", lambda x: betaln(a, b + x)) - (r + x) * d.on(
            "T", lambda t: np.log(alpha + t))
        gone = d.on("x", lambda x: np.where(x > 0, betaln(a + 1, b + np.maximum(x, 1) - 1),
                                            -np.inf))
        gone = gone - (r + x) * d.on("t_x", lambda t: np.log(alpha + t))
        return common, alive, gone

    @classmethod
    def _log_likelihood(cls, params: np.ndarray, d: Rows) -> np.ndarray:
        common, alive, gone = cls._terms(params, d)
        return common + np.logaddexp(alive, gone)

    @classmethod
    def _gradient(cls, params: np.ndarray, d: Rows) -> np.ndarray:
        """Σ_rows weight × ∂ log L / ∂(r, α, a, b): with w the dropout term's share of the
        two (v = 1 − w),
        ψ(r + x) − ψ(r) + log α − v log(α + T) − w log(α + t_x);
        r/α − (r + x) (v/(α + T) + w/(α + t_x));
        ψ(a + b) − ψ(a) + v (ψ(a) − ψ(a + b + x)) + w (ψ(a + 1) − ψ(a + b + x));
        ψ(a + b) − ψ(b) + v (ψ(b + x) − ψ(a + b + x)) + w (ψ(b + x − 1) − ψ(a + b + x)).
        Only w varies by row beyond x, T, t_x: each term is summed per distinct value of
        the one column it depends on (:meth:`Rows.sum_on`)."""
        r, alpha, a, b = params
        x, wt = d["x"], d.weights
        log_t = d.on("T", lambda t: np.log(alpha + t))
        log_tx = d.on("t_x", lambda t: np.log(alpha + t))
        # log(alive term / dropout term): +inf where x = 0, which has no dropout term
        alive_over_gone = d.on("x", lambda x: betaln(a, b + x) - np.where(
            x > 0, betaln(a + 1, b + np.maximum(x, 1) - 1), -np.inf)) - (r + x) * (
            log_t - log_tx)
        qw = wt / (1 + np.exp(alive_over_gone))  # weight × w
        qv = wt - qw
        total, gone_total = float(wt.sum()), float(qw.sum())
        abx = d.sum_on("x", wt, lambda x: psi(a + b + x))
        return np.array([
            d.sum_on("x", wt, lambda x: psi(r + x) - psi(r)) + total * np.log(alpha)
            - qv @ log_t - qw @ log_tx,
            total * r / alpha - d.sum_on("T", qv * (r + x), lambda t: 1 / (alpha + t))
            - d.sum_on("t_x", qw * (r + x), lambda t: 1 / (alpha + t)),
            total * (psi(a + b) - psi(a)) + (total - gone_total) * psi(a)
            + gone_total * psi(a + 1) - abx,
            total * (psi(a + b) - psi(b)) + d.sum_on("x", qv, lambda x: psi(b + x))
            + d.sum_on("x", qw, lambda x: psi(b + np.maximum(x, 1) - 1)) - abx])

    @staticmethod
    def _odds_gone(params: np.ndarray, x, t_x, big_t) -> np.ndarray:
        """δ(x > 0) · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x), in log space."""
        r, alpha, a, b = params
        xs = np.where(x > 0, x, 1.0)
        log_odds = (np.log(a) - np.log(b + xs - 1)
                    + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x)))
        return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)

    def _probability_alive(self, params, x, t_x, big_t) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / (1 + δ(x > 0) a/(b + x − 1) ((α + T)/(α + t_x))^(r+x))
        (Fader, Hardie & Lee 2008, note 021)."""
        return 1.0 / (1.0 + self._odds_gone(params, x, t_x, big_t))

    def _expected_purchases(self, params, t) -> np.ndarray:
        """E[X(t)], purchases of a new customer in ``t`` (eq. 7):
        (a + b − 1)/(a − 1) · [1 − (α/(α + t))^r 2F1(r, b; a + b − 1; t/(α + t))]."""
        r, alpha, a, b = params
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * guarded_hyp2f1(
            r, b, a + b - 1, t / (alpha + t)))

    def _future(self, params, t, x, big_t) -> np.ndarray:
        """E[Y(t) | alive, x, T] = (a + b + x − 1)/(a − 1) · [1 − ((α + T)/(α + T + t))^(r+x)
        2F1(r + x, b + x; a + b + x − 1; t/(α + T + t))] (eq. 10 without its P(alive))."""
        r, alpha, a, b = params
        z = t / (alpha + big_t + t)
        ratio = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
        return (a + b + x - 1) / (a - 1) * (
            1 - ratio * guarded_hyp2f1(r + x, b + x, a + b + x - 1, z))
