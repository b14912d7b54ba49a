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
from scipy.special import betaln, gammaln, hyp2f1

from ..errors import ModelError
from .base import CustomerModel, as_column, compress


def checked_summary(frequency: Any, recency: Any, T: Any  # noqa: N803 - the papers' T
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The RFM summary as arrays, refused with the fix when it cannot be one."""
    x, t_x, big_t = (as_column(v, n) for v, n in ((frequency, "frequency"),
                                                   (recency, "recency"), (T, "T")))
    if not len(x) == len(t_x) == len(big_t):
        raise ModelError(f"frequency, recency and T have {len(x)}, {len(t_x)} and "
                         f"{len(big_t)} values", fix="pass one of each per customer")
    if len(x) == 0:
        raise ModelError("no customers to fit", fix="select a period with customers")
    if (x < 0).any() or (x != np.round(x)).any():
        raise ModelError("frequency must count repeat purchases (0, 1, 2, ...)",
                         fix="pass the number of purchases after the first")
    if (big_t <= 0).any() or (t_x < 0).any() or (t_x > big_t).any():
        raise ModelError("every customer needs 0 ≤ recency ≤ T and T > 0",
                         fix="measure recency (first to last purchase) and T (first "
                             "purchase to the end of the period) in the same unit")
    if ((x == 0) & (t_x != 0)).any():
        raise ModelError("a customer with no repeat purchase has recency 0",
                         fix="set recency to 0 where frequency is 0")
    return x, t_x, big_t


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


class BetaGeo(CustomerModel):
    """BG/NBD: ``fit(frequency, recency, T, weights=None)``; ``params_`` holds r, α, a, b.

    Settings: ``tol`` and ``max_iter`` of the optimiser. Fitted: ``params_``,
    ``standard_errors_``, ``log_likelihood_``, ``aic_``, ``bic_``, ``n_customers_``,
    ``converged_``. The fit is deterministic (one fixed start, no random restarts).
    """

    PARAMS = ("r", "alpha", "a", "b")

    def fit(self, frequency: Any, recency: Any, T: Any,  # noqa: N803
            weights: Any = None) -> BetaGeo:
        x, t_x, big_t = checked_summary(frequency, recency, T)
        if not (x > 0).any():
            raise ModelError("no customer bought again: a repeat-purchase model has "
                             "nothing to learn from", fix="use a longer period, or the "
                             "historical CLV (AOV × frequency × lifespan)")
        data, w = compress([x, t_x, big_t], weights)
        self._maximise(data, w)
        return self

    @staticmethod
    def _log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                        big_t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = params
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
        alive = betaln(a, b + x) - (r + x) * np.log(alpha + big_t)
        # the dropout term exists for x > 0 only; betaln(a + 1, b − 1) is not defined at x = 0
        xs = np.where(x > 0, x, 1.0)
        gone = np.where(x > 0, betaln(a + 1, b + xs - 1) - (r + x) * np.log(alpha + t_x),
                        -np.inf)
        return common + np.logaddexp(alive, gone)

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Each customer's log-likelihood under the fitted parameters."""
        return self._log_likelihood(self._params(), *checked_summary(frequency, recency, T))

    def _odds_gone(self, x, t_x, big_t) -> np.ndarray:
        """δ(x > 0) · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x), in log space."""
        r, alpha, a, b = self._params()
        xs = np.where(x > 0, x, 1.0)
        log_odds = (np.log(a) - np.log(b + xs - 1)
                    + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x)))
        return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """P(alive | x, t_x, T) = 1 / (1 + δ(x > 0) a/(b + x − 1) ((α + T)/(α + t_x))^(r+x))
        (Fader, Hardie & Lee 2008, note 021)."""
        x, t_x, big_t = checked_summary(frequency, recency, T)
        return 1.0 / (1.0 + self._odds_gone(x, t_x, big_t))

    def expected_purchases(self, t: Any) -> np.ndarray:
        """E[X(t)], purchases of a new customer in ``t`` (eq. 7):
        (a + b − 1)/(a − 1) · [1 − (α/(α + t))^r 2F1(r, b; a + b − 1; t/(α + t))]."""
        r, alpha, a, b = self._params()
        t = as_column(t, "t")
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * guarded_hyp2f1(
            r, b, a + b - 1, t / (alpha + t)))

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray:  # noqa: N803
        """E[Y(t) | x, t_x, T], purchases in the next ``t`` (eq. 10):
        (a + b + x − 1)/(a − 1) · [1 − ((α + T)/(α + T + t))^(r+x)
        2F1(r + x, b + x; a + b + x − 1; t/(α + T + t))] / (1 + odds of having dropped out)."""
        r, alpha, a, b = self._params()
        x, t_x, big_t = checked_summary(frequency, recency, T)
        t = as_column(t, "t")
        if (t < 0).any():
            raise ModelError("the horizon t must be 0 or more", fix="pass e.g. t=52 (weeks)")
        z = t / (alpha + big_t + t)
        ratio = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
        core = 1 - ratio * guarded_hyp2f1(r + x, b + x, a + b + x - 1, z)
        return (a + b + x - 1) / (a - 1) * core / (1 + self._odds_gone(x, t_x, big_t))
