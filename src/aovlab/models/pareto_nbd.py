"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), as derived by Fader, Hardie
& Lee (2005, "A note on deriving the Pareto/NBD model and related expressions").

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); their lifetime
is exponential with rate μ ~ Gamma(s, β). For ``x`` repeat purchases, the last at ``t_x``,
observed for ``T`` (the note's eq. 22):

    L = Γ(r + x) α^r β^s / Γ(r) · [ 1 / ((α + T)^(r+x) (β + T)^s) + s / (r + s + x) · A₀ ]

with, for α ≥ β (swap α ↔ β and s + 1 → r + x otherwise),

    A₀ = 2F1(r+s+x, s+1; r+s+x+1; (α−β)/(α+t_x)) / (α+t_x)^(r+s+x)
       − 2F1(r+s+x, s+1; r+s+x+1; (α−β)/(α+T)) / (α+T)^(r+s+x).

Evaluated in log space. The 2F1 is the hard part: with c − a − b = −s < 0 its series
diverges as z → 1, which is where heavy, recent buyers sit (SciPy returns inf or loses all
digits there). Euler's transformation 2F1(a, b; c; z) = (1 − z)^(c−a−b) 2F1(c−a, c−b; c; z)
turns it into (1 − z)^(−s) 2F1(1, r + x; r + s + x + 1; z) (resp. 2F1(1, s + 1; …)), a
series of positive terms that converges for every z < 1: this is the guarded ``hyp2f1``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from .base import Rows
from .repeat import NAMES, RepeatPurchaseModel


def _log_a0_term(a: np.ndarray, b_small: np.ndarray, s_exp: np.ndarray, big: float,
                 t: np.ndarray, diff: float) -> np.ndarray:
    """log[2F1(a, b; a + 1; z) / (big + t)^a] with z = diff / (big + t), through Euler's
    transformation: 2F1(a, b; a + 1; z) = (1 − z)^(1 − b) 2F1(1, a + 1 − b; a + 1; z);
    ``s_exp`` is b − 1 and ``b_small`` is a + 1 − b."""
    z = diff / (big + t)
    return (-s_exp * np.log1p(-z) + np.log(hyp2f1(1.0, b_small, a + 1.0, z))
            - a * np.log(big + t))


class ParetoNBD(RepeatPurchaseModel):
    """Pareto/NBD: ``fit(frequency, recency, T, weights=None)``; ``params_`` holds r, α, s, β.

    Settings and fitted attributes as :class:`~aovlab.models.BetaGeo`.
    """

    PARAMS = ("r", "alpha", "s", "beta")
    LIMIT = {"s": 0.0, "beta": float("inf")}  # no dropout: the NBD

    @staticmethod
    def _terms(params: np.ndarray, d: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The log of the leading factor and of the two bracketed terms of L: alive at T,
        and gone before it (s / (r + s + x) · A₀)."""
        r, alpha, s, beta = params
        x = d["x"]
        head = (d.on("x", lambda x: gammaln(r + x) - gammaln(r)) + r * np.log(alpha)
                + s * np.log(beta))
        alive = (-(r + x) * d.on("T", lambda t: np.log(alpha + t))
                 - s * d.on("T", lambda t: np.log(beta + t)))
        if alpha >= beta:
            big, diff, swap = alpha, alpha - beta, False
        else:
            big, diff, swap = beta, beta - alpha, True

        def log_f(x: np.ndarray, t: np.ndarray) -> np.ndarray:
            a = r + s + x
            if diff == 0:  # z = 0: 2F1 = 1
                return -a * np.log(big + t)
            b = r + x if swap else s + 1.0
            return _log_a0_term(a, a + 1.0 - b, b - 1.0, big, t, diff)

        # A₀ = F(t_x) − F(T) > 0 (F falls with t): log F(t_x) + log(1 − F(T)/F(t_x));
        # the 2F1 is computed once per distinct (x, t_x) and (x, T)
        f_tx, f_t = d.on(("x", "t_x"), log_f), d.on(("x", "T"), log_f)
        gap = np.minimum(f_t - f_tx, 0.0)
        with np.errstate(divide="ignore"):  # t_x = T: A₀ = 0, its log −inf, which adds 0
            log_a0 = f_tx + np.log(-np.expm1(gap))
        return head, alive, np.log(s) - np.log(r + s + x) + log_a0

    @classmethod
    def _log_likelihood(cls, params: np.ndarray, d: Rows) -> np.ndarray:
        head, alive, gone = cls._terms(params, d)
        return head + np.logaddexp(alive, gone)

    def _probability_alive(self, params, x, t_x, big_t) -> np.ndarray:
        """P(alive | x, t_x, T): the alive term's share of the bracket of L (the note's
        eq. 24, 1 / (1 + s/(r + s + x) (α + T)^(r+x) (β + T)^s A₀))."""
        _, alive, gone = self._terms(params, Rows.of(NAMES, (x, t_x, big_t)))
        return np.exp(alive - np.logaddexp(alive, gone))

    def _expected_purchases(self, params, t) -> np.ndarray:
        """E[X(t)] = r β / (α (s − 1)) · [1 − (β/(β + t))^(s−1)] (the note's eq. 17), with
        its s → 1 limit (r β/α) log((β + t)/β)."""
        r, alpha, s, beta = params
        shrink = np.log(beta) - np.log(beta + t)
        sm1 = s - 1.0
        bracket = -shrink if abs(sm1) < 1e-12 else -np.expm1(sm1 * shrink) / sm1
        return r * beta / alpha * bracket

    def _future(self, params, t, x, big_t) -> np.ndarray:
        """E[Y(t) | alive, x, T] = (r + x)(β + T) / ((α + T)(s − 1)) · [1 − ((β + T)/(β + T
        + t))^(s−1)] (the note's eq. 25 without its P(alive)); the bracket over s − 1 is
        taken with ``expm1``, so that s → 1 gives its limit log((β + T + t)/(β + T))."""
        r, alpha, s, beta = params
        shrink = np.log(beta + big_t) - np.log(beta + big_t + t)  # ≤ 0
        sm1 = s - 1.0
        bracket = -shrink if abs(sm1) < 1e-12 else -np.expm1(sm1 * shrink) / sm1
        return (r + x) * (beta + big_t) / (alpha + big_t) * bracket
