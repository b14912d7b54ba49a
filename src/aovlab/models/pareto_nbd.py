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

from typing import Any

import numpy as np
from scipy.special import gammaln, hyp2f1

from ..errors import ModelError
from .base import CustomerModel, compress
from .beta_geo import checked_summary


def _log_a0_term(a: np.ndarray, b_small: np.ndarray, s_exp: np.ndarray, big: float,
                 t: np.ndarray, diff: float) -> np.ndarray:
    """log[2F1(a, b; a + 1; z) / (big + t)^a] with z = diff / (big + t), through Euler's
    transformation: 2F1(a, b; a + 1; z) = (1 − z)^(1 − b) 2F1(1, a + 1 − b; a + 1; z);
    ``s_exp`` is b − 1 and ``b_small`` is a + 1 − b."""
    z = diff / (big + t)
    return (-s_exp * np.log1p(-z) + np.log(hyp2f1(1.0, b_small, a + 1.0, z))
            - a * np.log(big + t))


class ParetoNBD(CustomerModel):
    """Pareto/NBD: ``fit(frequency, recency, T, weights=None)``; ``params_`` holds r, α, s, β.

    Settings and fitted attributes as :class:`~aovlab.models.BetaGeo`.
    """

    PARAMS = ("r", "alpha", "s", "beta")

    def fit(self, frequency: Any, recency: Any, T: Any,  # noqa: N803 - the papers' T
            weights: Any = None) -> ParetoNBD:
        x, t_x, big_t = checked_summary(frequency, recency, T)
        if not (x > 0).any():
            raise ModelError("no customer bought again: a repeat-purchase model has "
                             "nothing to learn from", fix="use a longer period")
        data, w = compress([x, t_x, big_t], weights)
        self._maximise(data, w)
        return self

    @staticmethod
    def _log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                        big_t: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = params
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        a = r + s + x
        if alpha >= beta:
            big, diff, b = alpha, alpha - beta, s + 1.0
        else:
            big, diff, b = beta, beta - alpha, r + x
        # A₀ = F(t_x) − F(T) > 0 (F falls with t): log F(t_x) + log(1 − F(T)/F(t_x))
        if diff == 0:  # z = 0: 2F1 = 1
            f_tx, f_t = -a * np.log(big + t_x), -a * np.log(big + big_t)
        else:
            f_tx = _log_a0_term(a, a + 1.0 - b, b - 1.0, big, t_x, diff)
            f_t = _log_a0_term(a, a + 1.0 - b, b - 1.0, big, big_t, diff)
        gap = np.minimum(f_t - f_tx, 0.0)
        with np.errstate(divide="ignore"):  # t_x = T: A₀ = 0, its log −inf, which adds 0
            log_a0 = f_tx + np.log(-np.expm1(gap))
        gone = np.log(s) - np.log(a) + log_a0
        return head + np.logaddexp(alive, gone)

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Each customer's log-likelihood under the fitted parameters."""
        return self._log_likelihood(self._params(), *checked_summary(frequency, recency, T))
