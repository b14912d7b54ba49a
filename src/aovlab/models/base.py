"""What every customer model shares: the scikit-learn estimator contract, weighted unique
rows, a deterministic maximum-likelihood fit and standard errors from the Hessian.

Pure maths (NumPy and SciPy): the models never see transactions or an engine, only the
summary arrays (``frequency``, ``recency``, ``T``, spend) and how many customers share each
row (``weights``), so a summary computed anywhere can be fitted.
"""

from __future__ import annotations

import abc
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


def compress(columns: Sequence[np.ndarray], weights: Any = None
             ) -> tuple[list[np.ndarray], np.ndarray]:
    """The unique rows of ``columns`` and the summed weight of each: a likelihood summed
    over customers needs each distinct (x, t_x, T) once, times how many share it."""
    rows = compressed_rows([str(i) for i in range(len(columns))], columns, weights)
    return list(rows.columns.values()), rows.weights


def compressed_rows(names: Sequence[str], columns: Sequence[np.ndarray],
                    weights: Any = None) -> Rows:
    """:func:`compress` as :class:`Rows` that already know each column's distinct values
    (found on the way), so that the likelihood need not sort the columns again."""
    n = len(columns[0])
    w = np.ones(n) if weights is None else as_column(weights, "weights")
    if len(w) != n:
        raise ModelError(f"weights has {len(w)} values for {n} customers",
                         fix="pass one weight per customer")
    if (w < 0).any():
        raise ModelError("weights must be 0 or more", fix="pass customer counts as weights")
    keep = w > 0
    found: list[tuple[np.ndarray, np.ndarray]] = []
    uniq, inverse = unique_rows([c[keep] for c in columns], found)
    rows = Rows(dict(zip(names, uniq, strict=True)),
                np.bincount(inverse, weights=w[keep], minlength=len(uniq[0])))
    for name, coded in zip(names, found, strict=False):
        rows._distinct[name] = coded
    return rows


def _dense_unique(k: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(k, return_inverse=True)`` for integers 0 ≤ k < ``size``, by marking the
    values present and counting them: no sort."""
    present = np.zeros(size, dtype=bool)
    present[k] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present), rank[k]


def unique_values(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``c`` (sorted) and each one's index among them. Counts and
    days — whole numbers in a range not much wider than there are values — are coded
    without a sort (five times faster on a million customers); anything else by
    ``np.unique``."""
    n = len(c)
    if n > 1024 and c.dtype.kind == "f":
        lo, hi = float(c.min()), float(c.max())
        if hi - lo < 4 * n and np.array_equal(c, np.floor(c)):
            u, inv = _dense_unique((c - lo).astype(np.int64), int(hi - lo) + 1)
            return u + lo, inv
    u, inv = np.unique(c, return_inverse=True)
    return u, inv.reshape(-1)


def unique_rows(columns: Sequence[np.ndarray],
                found: list[tuple[np.ndarray, np.ndarray]] | None = None
                ) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` (sorted) and each row's index among them.

    Each column is coded by its distinct values (a 1-D sort), the codes packed into one
    integer per row and those sorted once: three times faster than a ``lexsort`` of the
    rows on millions of them (which remains for the rare rows whose codes do not fit).
    ``found``, if given, receives each column's distinct values and every distinct row's
    code among them (the packed path only)."""
    codes, values, size = [], [], 1
    for c in columns:
        u, inv = unique_values(c)
        codes.append(inv.astype(np.int64, copy=False))
        values.append(u)
        size *= max(len(u), 1)
    if size < 2**62:
        key = codes[0]
        for code, u in zip(codes[1:], values[1:], strict=True):
            key = key * len(u) + code
        if size <= 4 * len(key) + 1024:
            distinct, inverse = _dense_unique(key, size)
        else:
            distinct, inverse = np.unique(key, return_inverse=True)
        out, at, rest = [], [], distinct
        for u in values[::-1]:  # unpack the last column first
            code = rest % len(u)
            out.append(u[code])
            at.append((u, code))
            rest = rest // len(u)
        if found is not None:
            found.extend(at[::-1])
        return out[::-1], inverse.reshape(-1)
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    new = np.ones(len(order), dtype=bool)
    if len(order):
        new[1:] = np.any([c[1:] != c[:-1] for c in ordered], axis=0)
    ids = np.cumsum(new) - 1
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = ids
    return [c[new] for c in ordered], inverse


class Rows:
    """Weighted unique rows of named columns, with each column's (or pair of columns')
    distinct values: a likelihood evaluated a thousand times by the optimiser computes a
    special function of ``x`` once per distinct ``x`` (a few hundred), not once per row
    (up to millions), and gathers it with :meth:`on`."""

    def __init__(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> None:
        self.columns = columns
        self.weights = weights
        self._distinct: dict[Any, tuple[Any, np.ndarray]] = {}

    @classmethod
    def of(cls, names: Sequence[str], columns: Sequence[np.ndarray],
           weights: np.ndarray | None = None) -> Rows:
        """Rows as given, one weight each (default 1): no compression."""
        w = np.ones(len(columns[0])) if weights is None else np.asarray(weights, float)
        return cls(dict(zip(names, columns, strict=True)), w)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.weights)

    def _codes(self, names: str | tuple[str, ...]) -> tuple[Any, np.ndarray]:
        if names not in self._distinct:
            if isinstance(names, str):
                u, inv = unique_values(self.columns[names])
            else:
                distinct, inv = unique_rows([self.columns[n] for n in names])
                u = tuple(distinct)
            self._distinct[names] = (u, inv.reshape(-1))
        return self._distinct[names]

    def on(self, names: str | tuple[str, ...], f) -> np.ndarray:
        """``f`` of the distinct values of column(s) ``names``, one per row."""
        u, inv = self._codes(names)
        out = f(*u) if isinstance(names, tuple) else f(u)
        return np.asarray(out, dtype=float)[inv]

    def sum_on(self, names: str, q: np.ndarray, f) -> float:
        """Σ over the rows of ``q`` × ``f`` of their value of column ``names``: ``q``
        summed per distinct value (one pass) and dotted with ``f`` of those, instead of
        ``f`` spread over every row and multiplied there (three passes)."""
        u, inv = self._codes(names)
        return float(np.bincount(inv, weights=q, minlength=len(u)) @ np.asarray(f(u), float))

    def sample(self, n: int, seed: int = 0) -> Rows:
        """``n`` customers drawn (seeded, with replacement) in proportion to the weights:
        a cheap, unbiased stand-in for finding the basin of the optimum."""
        counts = np.random.default_rng(seed).multinomial(n, self.weights / self.weights.sum())
        keep = counts > 0
        return Rows({k: v[keep] for k, v in self.columns.items()}, counts[keep].astype(float))


def hessian(f, x: np.ndarray, step: float = 1e-4, grad=None, *, forward: bool = False,
            g0: np.ndarray | None = None) -> np.ndarray:
    """Hessian of ``f`` at ``x`` by central differences — of the gradient ``grad`` when
    there is one (2k evaluations), of ``f`` otherwise. The step is relative to each
    coordinate, which are log-parameters of order 1.

    ``forward``: forward differences of ``grad`` (k + 1 evaluations, for the standard
    errors of a million-row fit; k with ``g0``, the gradient at ``x`` already known). With a
    step of 1e-6 their truncation error (~ step) and the rounding of a mean gradient
    (~1e-13 / step) both stay near 1e-6 relative."""
    k = len(x)
    h = step * np.maximum(1.0, np.abs(x))
    out = np.empty((k, k))
    if grad is not None and forward:
        g0 = grad(x) if g0 is None else g0
        for i in range(k):
            up = x.copy()
            up[i] += h[i]
            out[:, i] = (grad(up) - g0) / h[i]
        return (out + out.T) / 2
    if grad is not None:
        for i in range(k):
            up, down = x.copy(), x.copy()
            up[i] += h[i]
            down[i] -= h[i]
            out[:, i] = (grad(up) - grad(down)) / (2 * h[i])
        return (out + out.T) / 2

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


class CustomerModel(abc.ABC):
    """Base of the models: subclasses name :attr:`PARAMS` and give the per-row
    log-likelihood :meth:`_log_likelihood` (log-space, finite at the extremes)."""

    PARAMS: tuple[str, ...] = ()
    #: Above this many unique rows the basin is found on a seeded sample of customers
    #: first, and only the final polish runs on every row.
    SAMPLE = 5_000

    def __init__(self, *, tol: float = 1e-10, max_iter: int = 20_000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    # -- to be given by each model --------------------------------------------------------
    @abc.abstractmethod
    def _log_likelihood(self, params: np.ndarray, rows: Rows) -> np.ndarray:
        """Each row's log-likelihood at ``params`` (in :attr:`PARAMS` order)."""

    #: The gradient of the weighted log-likelihood, Σ_rows weight × ∂ log L/∂θ (one value
    #: per parameter), where a model gives it in closed form; the optimiser differentiates
    #: numerically otherwise.
    _gradient = None

    # -- the fit ------------------------------------------------------------------------------
    def _edge(self):
        """A test of log-parameters for having reached the edge where the model becomes a
        simpler one (:class:`~aovlab.models.RepeatPurchaseModel`), or None."""
        return None

    def _objective(self, rows: Rows):
        """The mean negative log-likelihood in log-parameters (mean, so that the
        tolerances are per customer), and its gradient when the model has one."""
        w, total = rows.weights, float(rows.weights.sum())

        def nll(log_params: np.ndarray) -> float:
            with np.errstate(all="ignore"):
                v = -float(np.dot(w, self._log_likelihood(np.exp(log_params), rows))) / total
            return v if math.isfinite(v) else 1e300

        if self._gradient is None:
            return nll, None

        def jac(log_params: np.ndarray) -> np.ndarray:
            theta = np.exp(log_params)
            with np.errstate(all="ignore"):
                g = -self._gradient(theta, rows) * theta / total  # d/dlogθ = θ d/dθ
            return np.where(np.isfinite(g), g, 0.0)

        return nll, jac

    def _search(self, rows: Rows, x0: np.ndarray, *, rough: bool = False
                ) -> tuple[np.ndarray, bool]:
        """Deterministic: one fixed start, Nelder-Mead to the basin, BFGS to polish
        (``rough``: the basin only, for a start that BFGS polishes on every row)."""
        nll, jac = self._objective(rows)
        edge = self._edge()

        def stop_at_the_edge(intermediate_result) -> None:
            # the optimum lies on the edge of the parameter space: no need to crawl there
            if edge is not None and edge(intermediate_result.x):
                raise StopIteration

        if rough and jac is not None:
            # a sample only shows where the basin is: BFGS with the model's gradient gets
            # there in a few dozen steps where Nelder-Mead takes hundreds; Nelder-Mead
            # remains for a start BFGS cannot leave
            quick = minimize(nll, x0, jac=jac, method="BFGS", callback=stop_at_the_edge,
                             options={"gtol": 1e-6, "maxiter": 1_000})
            at_edge = edge is not None and edge(quick.x)
            if quick.fun < 1e300 and np.isfinite(quick.x).all() and (quick.success or at_edge):
                return quick.x, True
        xatol, fatol = (1e-5, 1e-10) if rough else (1e-10, 1e-14)
        first = minimize(nll, x0, method="Nelder-Mead", callback=stop_at_the_edge,
                         options={"xatol": xatol, "fatol": fatol, "maxiter": self.max_iter,
                                  "maxfev": self.max_iter * 2})
        if rough or (edge is not None and edge(first.x)):
            return first.x, bool(first.success)
        best = minimize(nll, first.x, jac=jac, method="BFGS", callback=stop_at_the_edge,
                        options={"gtol": self.tol, "maxiter": self.max_iter})
        ok = bool(best.success or first.success)
        return (best.x, ok) if best.fun <= first.fun else (first.x, ok)

    def _maximise(self, rows: Rows, *, errors: bool = True) -> None:
        total = float(rows.weights.sum())
        start = np.zeros(len(self.PARAMS))
        if len(rows) > self.SAMPLE:
            sample = rows.sample(self.SAMPLE)
            start, _ = self._search(sample, start, rough=True)
            # the sample's curvature starts BFGS on every row: a few steps, not dozens
            s_nll, s_jac = self._objective(sample)
            # the mean log-likelihood of a million rows is exact to ~1e-13 only: a gradient
            # below ~1e-6 cannot be told from rounding, and asking for it costs dozens of
            # failed line searches (the parameters are then exact to ~1e-5 relative)
            options: dict[str, Any] = {"gtol": max(self.tol, 1e-6), "maxiter": self.max_iter}
            try:
                inv_h = np.linalg.inv(hessian(s_nll, start, grad=s_jac))
                inv_h = (inv_h + inv_h.T) / 2
                np.linalg.cholesky(inv_h)  # positive definite, or BFGS starts from I
                options["hess_inv0"] = inv_h
            except np.linalg.LinAlgError:
                pass
            nll, jac = self._objective(rows)
            polish = minimize(nll, start, jac=jac, method="BFGS", options=options)
            log_params, value, ok = polish.x, polish.fun, polish.success
            gradient = polish.jac  # at polish.x: not worth a million-row evaluation again
        else:
            log_params, ok = self._search(rows, start)
            nll, jac = self._objective(rows)
            value = nll(log_params)
            gradient = jac(log_params) if jac is not None else None
        params = np.exp(log_params)
        if not np.isfinite(params).all() or (np.abs(log_params) > 30).any():
            name = self.PARAMS[int(np.argmax(np.abs(log_params)))]
            raise ModelError(f"the {type(self).__name__} fit does not converge: {name} runs "
                             f"away (to {params[int(np.argmax(np.abs(log_params)))]:.3g})",
                             fix="check the summary (frequency, recency, T in one unit), or "
                                 "try another model")
        self.params_ = dict(zip(self.PARAMS, (float(p) for p in params), strict=True))
        self.log_likelihood_ = -value * total
        self.n_customers_ = total
        grad_norm = float(np.abs(gradient).max()) if gradient is not None else 0.0
        self.converged_ = bool(ok or grad_norm < 1e-6)
        if errors:
            self._standard_errors(rows, gradient)
        k = len(self.PARAMS)
        self.aic_ = 2 * k - 2 * self.log_likelihood_
        self.bic_ = k * math.log(total) - 2 * self.log_likelihood_

    def _standard_errors(self, rows: Rows, gradient: np.ndarray | None = None) -> None:
        """The inverse Hessian of the total negative log-likelihood in log-parameters,
        carried to the parameters by the delta method (dθ = θ dlogθ)."""
        nll, jac = self._objective(rows)
        params = self._params()
        if jac is not None and len(rows) > self.SAMPLE:
            h = hessian(nll, np.log(params), 1e-6, grad=jac, forward=True, g0=gradient)
        else:
            h = hessian(nll, np.log(params), grad=jac)
        h = h * float(rows.weights.sum())
        try:
            se = params * np.sqrt(np.clip(np.diag(np.linalg.inv(h)), 0, None))
        except np.linalg.LinAlgError:
            se = np.full(len(params), np.nan)
        self.standard_errors_ = dict(zip(self.PARAMS, (float(s) for s in se), strict=True))

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
