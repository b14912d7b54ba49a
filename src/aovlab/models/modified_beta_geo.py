"""The modified BG/NBD model (Batislam, Denizel & Filiztekin 2007).

As BG/NBD, but a customer may drop out right after the first purchase too, so one who never
bought again is not assumed alive. For ``x`` repeat purchases, the last at ``t_x``, observed
for ``T``:

    L = B(a, b + x + 1) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + T)^(r+x))
        + B(a + 1, b + x) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + t_x)^(r+x)),

the second term for every x, x = 0 included. In log space: the ratio of the two terms is
a / (b + x) · ((α + T) / (α + t_x))^(r+x), added with ``logaddexp``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, psi

from .base import Rows
from .beta_geo import guarded_hyp2f1
from .repeat import RepeatPurchaseModel


class ModifiedBetaGeo(RepeatPurchaseModel):
    """MBG/NBD: ``fit(frequency, recency, T, weights=None)``; ``params_`` holds r, α, a, b.

    Settings and fitted attributes as :class:`~aovlab.models.BetaGeo`.
    """

    PARAMS = ("r", "alpha", "a", "b")
    LIMIT = {"a": 0.0, "b": float("inf")}  # no dropout: the NBD

    @staticmethod
    def _log_odds_gone(params, x, t_x, big_t) -> np.ndarray:
        r, alpha, a, b = params
        return (np.log(a) - np.log(b + x)
                + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x)))

    @staticmethod
    def _pieces(params: np.ndarray, d: Rows) -> tuple[np.ndarray, np.ndarray]:
        """log of the alive term, and the log of the dropout term's ratio to it."""
        r, alpha, a, b = params
        x = d["x"]
        log_t = d.on("T", lambda t: np.log(alpha + t))
        alive = (d.on("x", lambda x: gammaln(r + x) - gammaln(r) + betaln(a, b + x + 1))
                 + r * np.log(alpha) - betaln(a, b) - (r + x) * log_t)
        ratio = (np.log(a) - d.on("x", lambda x: np.log(b + x))
                 + (r + x) * (log_t - d.on("t_x", lambda t: np.log(alpha + t))))
        return alive, ratio

    @classmethod
    def _log_likelihood(cls, params: np.ndarray, d: Rows) -> np.ndarray:
        alive, ratio = cls._pieces(params, d)
        return alive + np.logaddexp(0.0, ratio)

    @classmethod
    def _gradient(cls, params: np.ndarray, d: Rows) -> np.ndarray:
        """Σ_rows weight × ∂ log L / ∂(r, α, a, b) = ∂A + σ(R) ∂R, A the alive term's log, R
        the log ratio:
        r: ψ(r + x) − ψ(r) + log α − log(α + T) + σ (log(α + T) − log(α + t_x));
        α: r/α − (r + x)/(α + T) + σ (r + x) (1/(α + T) − 1/(α + t_x));
        a: ψ(a + b) − ψ(a + b + x + 1) + σ/a;
        b: ψ(b + x + 1) − ψ(a + b + x + 1) − ψ(b) + ψ(a + b) − σ/(b + x)."""
        r, alpha, a, b = params
        x = d["x"]
        _, ratio = cls._pieces(params, d)
        sig = np.exp(ratio - np.logaddexp(0.0, ratio))
        log_t, log_tx = (d.on(c, lambda t: np.log(alpha + t)) for c in ("T", "t_x"))
        inv_t, inv_tx = (d.on(c, lambda t: 1 / (alpha + t)) for c in ("T", "t_x"))
        abx = d.on("x", lambda x: psi(a + b + x + 1))
        return d.weights @ np.column_stack([
            d.on("x", lambda x: psi(r + x) - psi(r)) + np.log(alpha) - log_t
            + sig * (log_t - log_tx),
            r / alpha - (r + x) * inv_t + sig * (r + x) * (inv_t - inv_tx),
            psi(a + b) - abx + sig / a,
            d.on("x", lambda x: psi(b + x + 1)) - abx - psi(b) + psi(a + b)
            - sig * d.on("x", lambda x: 1 / (b + x))])

    def _probability_alive(self, params, x, t_x, big_t) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / (1 + a/(b + x) ((α + T)/(α + t_x))^(r+x))."""
        return np.exp(-np.logaddexp(0.0, self._log_odds_gone(params, x, t_x, big_t)))

    def _expected_purchases(self, params, t) -> np.ndarray:
        """E[X(t)] = b/(a − 1) · [1 − (α/(α + t))^r 2F1(r, b + 1; a + b; t/(α + t))]
        (Batislam et al., eq. 8)."""
        r, alpha, a, b = params
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * guarded_hyp2f1(
            r, b + 1, a + b, t / (alpha + t)))

    def _future(self, params, t, x, big_t) -> np.ndarray:
        """E[Y(t) | alive, x, T] = (a + b + x)/(a − 1) · [1 − ((α + T)/(α + T + t))^(r+x)
        2F1(r + x, b + x + 1; a + b + x; t/(α + T + t))] (Batislam et al., eq. 11, without
        its P(alive))."""
        r, alpha, a, b = params
        ratio = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
        return (a + b + x) / (a - 1) * (
            1 - ratio * guarded_hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + big_t + t)))
