"""What every customer model shares: the scikit-learn estimator contract, weighted unique
rows, a deterministic maximum-likelihood fit and standard errors from the Hessian.

Pure maths (NumPy and SciPy): the models never see transactions or an engine, only the
summary arrays (``frequency``, ``recency``, ``T``, spend) and how many customers share each
row (``weights``), so a summary computed anywhere can be fitted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ..errors import ModelError, NotFittedError


def as_column(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-D float array of finite numbers, or a clean error naming them."""
    try:
        out = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{name} must be numbers", fix=f"pass {name} as an array of "
                         "numbers, one per customer") from exc
    if not np.isfinite(out).all():
        raise ModelError(f"{name} holds {int((~np.isfinite(out)).sum())} missing or infinite "
                         "value(s)", fix=f"drop those customers or fill {name}")
    return out


def compress(columns: Sequence[np.ndarray], weights: np.ndarray | None
             ) -> tuple[list[np.ndarray], np.ndarray]:
    """The unique rows of ``columns`` and the summed weight of each: a likelihood summed
    over customers needs each distinct (x, t_x, T) once, times how many share it."""
    n = len(columns[0])
    w = np.ones(n) if weights is None else as_column(weights, "weights")
    if len(w) != n:
        raise ModelError(f"weights has {len(w)} values for {n} customers",
                         fix="pass one weight per customer")
    if (w < 0).any():
        raise ModelError("weights must be 0 or more", fix="pass customer counts as weights")
    keep = w > 0
    rows = np.column_stack([c[keep] for c in columns])
    uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights=w[keep], minlength=len(uniq))
    return [uniq[:, i] for i in range(uniq.shape[1])], summed


def hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` (``f`` is smooth and cheap here; the
    step is relative to each coordinate, which are log-parameters of order 1)."""
    k = len(x)
    h = step * np.maximum(1.0, np.abs(x))
    out = np.empty((k, k))

    def at(i: int, j: int, di: float, dj: float) -> float:
        y = x.copy()
        y[i] += di * h[i]
        y[j] += dj * h[j]
        return f(y)

    for i in range(k):
        for j in range(i, k):
            v = (at(i, j, 1, 1) - at(i, j, 1, -1) - at(i, j, -1, 1) + at(i, j, -1, -1)) / (
                4 * h[i] * h[j])
            out[i, j] = out[j, i] = v
    return out


class CustomerModel:
    """Base of the models: subclasses name :attr:`PARAMS` and give the per-row
    log-likelihood :meth:`_log_likelihood` (log-space, finite at the extremes)."""

    PARAMS: tuple[str, ...] = ()

    def __init__(self, *, tol: float = 1e-10, max_iter: int = 20_000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    # -- to be given by each model --------------------------------------------------------
    def _log_likelihood(self, params: np.ndarray, *data: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- the fit ------------------------------------------------------------------------------
    def _maximise(self, data: list[np.ndarray], weights: np.ndarray) -> None:
        total = float(weights.sum())

        def nll(log_params: np.ndarray) -> float:  # mean, so the tolerance is per customer
            ll = self._log_likelihood(np.exp(log_params), *data)
            v = -float(np.dot(weights, ll)) / total
            return v if math.isfinite(v) else 1e300

        # deterministic: one fixed start, Nelder-Mead to the basin, BFGS to polish
        x0 = np.zeros(len(self.PARAMS))
        first = minimize(nll, x0, method="Nelder-Mead",
                         options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": self.max_iter,
                                  "maxfev": self.max_iter * 2})
        best = minimize(nll, first.x, method="BFGS", options={"gtol": self.tol,
                                                              "maxiter": self.max_iter})
        result = best if best.fun <= first.fun else first
        log_params = result.x
        params = np.exp(log_params)
        if not np.isfinite(params).all() or (np.abs(log_params) > 30).any():
            name = self.PARAMS[int(np.argmax(np.abs(log_params)))]
            raise ModelError(f"the {type(self).__name__} fit does not converge: {name} runs "
                             f"away (to {params[int(np.argmax(np.abs(log_params)))]:.3g})",
                             fix="check the summary (frequency, recency, T in one unit), or "
                                 "try another model")
        self.params_ = dict(zip(self.PARAMS, (float(p) for p in params), strict=True))
        self.log_likelihood_ = -result.fun * total
        self.n_customers_ = total
        self.converged_ = bool(result.success or first.success)
        # standard errors: the inverse Hessian of the total negative log-likelihood in
        # log-parameters, carried to the parameters by the delta method (dθ = θ dlogθ)
        h = hessian(nll, log_params) * total
        try:
            cov = np.linalg.inv(h)
            se = params * np.sqrt(np.clip(np.diag(cov), 0, None))
        except np.linalg.LinAlgError:
            se = np.full(len(params), np.nan)
        self.standard_errors_ = dict(zip(self.PARAMS, (float(s) for s in se), strict=True))
        k = len(self.PARAMS)
        self.aic_ = 2 * k - 2 * self.log_likelihood_
        self.bic_ = k * math.log(total) - 2 * self.log_likelihood_

    def _params(self) -> np.ndarray:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet",
                                 fix="call fit(...) first")
        return np.array([self.params_[p] for p in self.PARAMS])

    def summary(self) -> list[dict[str, float | str]]:
        """One row per parameter: its estimate, standard error and 95% interval."""
        self._params()
        return [{"parameter": p, "estimate": self.params_[p],
                 "standard_error": self.standard_errors_[p],
                 "ci_low": self.params_[p] - 1.959964 * self.standard_errors_[p],
                 "ci_high": self.params_[p] + 1.959964 * self.standard_errors_[p]}
                for p in self.PARAMS]

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}() (not fitted)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown})"
