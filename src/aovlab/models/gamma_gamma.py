"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV:
using iso-value curves for customer base analysis"; Hardie's note 025).

A customer's transaction values are Gamma(p, ν) around their own mean, and ν ~ Gamma(q, γ)
across customers (γ is written ``v`` here, as in lifetimes). For a customer with ``x``
transactions of mean value ``m_x`` the likelihood of that mean is (note 025, eq. 1)

    log L = log Γ(p x + q) − log Γ(p x) − log Γ(q) + q log v + (p x − 1) log m_x
            + p x log x − (p x + q) log(x m_x + v),

and their expected spend per transaction is (p (v + x m_x)) / (p x + q − 1) (eq. 3). Only
customers with a repeat purchase carry a mean: the others are left out of the fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln, psi

from ..errors import ModelError
from .base import CustomerModel, Rows, as_column, compress


def _checked(frequency: Any, monetary_value: Any) -> tuple[np.ndarray, np.ndarray]:
    x, m = as_column(frequency, "frequency"), as_column(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise ModelError(f"frequency and monetary_value have {len(x)} and {len(m)} values",
                         fix="pass one of each per customer")
    if (x < 0).any():
        raise ModelError("frequency must count repeat purchases (0, 1, 2, ...)",
                         fix="pass the number of purchases after the first")
    if ((x > 0) & (m <= 0)).any():
        raise ModelError(f"{int(((x > 0) & (m <= 0)).sum())} customer(s) with repeat "
                         "purchases have a mean spend of 0 or less",
                         fix="leave out customers whose orders were all refunded, or use "
                             "a definition with a positive order value")
    return x, m


class GammaGamma(CustomerModel):
    """Gamma-Gamma: ``fit(frequency, monetary_value, weights=None)``; ``params_`` holds p,
    q, v. Customers with frequency 0 are left out (they have no repeat spend)."""

    PARAMS = ("p", "q", "v")

    def fit(self, frequency: Any, monetary_value: Any, weights: Any = None) -> GammaGamma:
        x, m = _checked(frequency, monetary_value)
        keep = x > 0
        if keep.sum() < 2:
            raise ModelError("fewer than 2 customers bought again: no spread of spend to "
                             "fit", fix="use a longer period")
        w = None
        if weights is not None:
            w = as_column(weights, "weights")
            if len(w) != len(x):
                raise ModelError(f"weights has {len(w)} values for {len(x)} customers",
                                 fix="pass one weight per customer")
            w = w[keep]
        (xs, ms), w = compress([x[keep], m[keep]], w)
        # log m_x and x m_x are fixed: computed once, not at every step of the optimiser
        self._maximise(Rows({"x": xs, "m": ms, "log_m": np.log(ms), "xm": xs * ms}, w))
        return self

    @staticmethod
    def _log_likelihood(params: np.ndarray, d: Rows) -> np.ndarray:
        p, q, v = params
        x = d["x"]
        px = p * x
        return (d.on("x", lambda x: gammaln(p * x + q) - gammaln(p * x) + p * x * np.log(x))
                - gammaln(q) + q * np.log(v) + (px - 1) * d["log_m"]
                - (px + q) * np.log(d["xm"] + v))

    @staticmethod
    def _gradient(params: np.ndarray, d: Rows) -> np.ndarray:
        """Σ_rows weight × ∂ log L / ∂(p, q, v):
        x (ψ(p x + q) − ψ(p x) + log m_x + log x − log(x m_x + v));
        ψ(p x + q) − ψ(q) + log v − log(x m_x + v); q/v − (p x + q)/(x m_x + v)."""
        p, q, v = params
        x = d["x"]
        log_xmv = np.log(d["xm"] + v)
        pxq = d.on("x", lambda x: psi(p * x + q))
        return d.weights @ np.column_stack([
            x * (pxq - d.on("x", lambda x: psi(p * x) - np.log(x)) + d["log_m"] - log_xmv),
            pxq - psi(q) + np.log(v) - log_xmv,
            q / v - (p * x + q) / (d["xm"] + v)])

    def conditional_expected_average_value(self, frequency: Any, monetary_value: Any
                                           ) -> np.ndarray:
        """E[M | x, m_x] = p (v + x m_x) / (p x + q − 1): the customer's expected spend per
        transaction, shrunk from their own mean towards the population's (eq. 3)."""
        p, q, v = self._params()
        x, m = _checked(frequency, monetary_value)
        if q <= 1:
            raise ModelError(f"q = {q:.3g} ≤ 1: the population's mean spend is infinite",
                             fix="the spend has too heavy a tail for Gamma-Gamma")
        return p * (v + x * m) / (p * x + q - 1)
