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

from typing import Any

import numpy as np
from scipy.special import betaln, gammaln

from ..errors import ModelError
from .base import CustomerModel, compress
from .beta_geo import checked_summary


class ModifiedBetaGeo(CustomerModel):
    """MBG/NBD: ``fit(frequency, recency, T, weights=None)``; ``params_`` holds r, α, a, b.

    Settings and fitted attributes as :class:`~aovlab.models.BetaGeo`.
    """

    PARAMS = ("r", "alpha", "a", "b")

    def fit(self, frequency: Any, recency: Any, T: Any,  # noqa: N803 - the papers' T
            weights: Any = None) -> ModifiedBetaGeo:
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
        r, alpha, a, b = params
        alive = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1)
                 - betaln(a, b) - (r + x) * np.log(alpha + big_t))
        log_ratio = (np.log(a) - np.log(b + x)
                     + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x)))
        return alive + np.logaddexp(0.0, log_ratio)

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Each customer's log-likelihood under the fitted parameters."""
        return self._log_likelihood(self._params(), *checked_summary(frequency, recency, T))

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """P(alive | x, t_x, T) = 1 / (1 + a/(b + x) ((α + T)/(α + t_x))^(r+x))."""
        r, alpha, a, b = self._params()
        x, t_x, big_t = checked_summary(frequency, recency, T)
        log_ratio = (np.log(a) - np.log(b + x)
                     + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x)))
        return np.exp(-np.logaddexp(0.0, log_ratio))
