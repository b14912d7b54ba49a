"""What the repeat-purchase models (BG/NBD, Pareto/NBD, MBG/NBD) share: the checked RFM
summary (x, t_x, T), the fit on its weighted unique rows, and the limiting NBD fit.

Each of them is a Poisson purchase process with a Gamma(r, α) rate that a dropout process
may stop. When nobody seems to drop out in the window, the maximum of the likelihood lies
on the edge of the parameter space, where the dropout process vanishes (BG/NBD: a → 0 or
b → ∞; Pareto/NBD: s → 0 or β → ∞) and the model *is* the NBD (Ehrenberg 1959):

    L(r, α | x, T) = Γ(r + x) α^r / (Γ(r) x!) · T^x / (α + T)^(r+x)     (up to T^x / x!,
                                                                        which has no r, α)

The fit therefore always fits that NBD too. If the model's own best interior point is not
more likely (by more than 1e-4 in log-likelihood: no evidence of any dropout), the limiting
fit is reported: the NBD's r and α, the dropout parameters at their limits,
``degenerate_ = True`` and a note — not an error, and not a penalised answer that depends
on the penalty.
"""

from __future__ import annotations

import abc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy.special import gammaln, psi

from ..errors import ModelError
from .base import CustomerModel, Rows, as_column, compressed_rows


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


NAMES = ("x", "t_x", "T")


def summary_rows(frequency: Any, recency: Any, T: Any, weights: Any = None  # noqa: N803
                 ) -> Rows:
    """The checked summary as weighted unique rows."""
    return compressed_rows(NAMES, checked_summary(frequency, recency, T), weights)


def nbd_log_likelihood(params: np.ndarray, d: Rows) -> np.ndarray:
    """The NBD's log-likelihood of (x, t_x, T), with the same constant as the models' (the
    density of the purchase times, not of the count, so that the values compare)."""
    r, alpha = params
    x = d["x"]
    return (d.on("x", lambda x: gammaln(r + x) - gammaln(r)) + r * np.log(alpha)
            - (r + x) * d.on("T", lambda t: np.log(alpha + t)))


def nbd_gradient(params: np.ndarray, d: Rows) -> np.ndarray:
    """Σ_rows weight × ∂ log L / ∂(r, α): ψ(r + x) − ψ(r) + log α − log(α + T) and
    r/α − (r + x)/(α + T)."""
    r, alpha = params
    wt = d.weights
    total = float(wt.sum())
    return np.array([
        d.sum_on("x", wt, lambda x: psi(r + x) - psi(r)) + total * np.log(alpha)
        - d.sum_on("T", wt, lambda t: np.log(alpha + t)),
        total * r / alpha - d.sum_on("T", wt * (r + d["x"]), lambda t: 1 / (alpha + t))])


class _NBD(CustomerModel):
    PARAMS = ("r", "alpha")
    _log_likelihood = staticmethod(nbd_log_likelihood)
    _gradient = staticmethod(nbd_gradient)


class RepeatPurchaseModel(CustomerModel):
    """``fit(frequency, recency, T, weights=None)``, ``log_likelihood``, and the
    predictions every repeat-purchase model gives: :meth:`probability_alive` and
    :meth:`conditional_expected_purchases`. Subclasses name :attr:`LIMIT`, the values
    their dropout parameters take in the no-dropout (NBD) limit."""

    LIMIT: dict[str, float] = {}

    def fit(self, frequency: Any, recency: Any, T: Any,  # noqa: N803 - the papers' T
            weights: Any = None) -> RepeatPurchaseModel:
        rows = summary_rows(frequency, recency, T, weights)
        if not (rows["x"] > 0).any():
            raise ModelError("no customer bought again: a repeat-purchase model has "
                             "nothing to learn from", fix="use a longer period, or the "
                             "historical CLV (AOV × frequency × lifespan)")
        nbd = _NBD(tol=self.tol, max_iter=self.max_iter)
        # the two fits are independent, and NumPy releases the GIL in its loops: on a
        # large store the second core fits the NBD meanwhile
        with ThreadPoolExecutor(max_workers=1) as pool:
            limit = pool.submit(nbd._maximise, rows, errors=False)  # errors if reported
            try:
                self._maximise(rows)
            except ModelError:
                # ran away: towards the no-dropout edge if the NBD explains the data
                self.log_likelihood_ = -np.inf
            limit.result()
        # the edge wins unless the dropout process buys a real gain in likelihood: 1e-4 is
        # far below any likelihood-ratio test's threshold and above the optimiser's noise
        gain = self.log_likelihood_ - nbd.log_likelihood_
        self.degenerate_ = bool(gain <= max(1e-4, 1e-10 * abs(nbd.log_likelihood_)))
        if self.degenerate_:
            nbd._standard_errors(rows)
            self._take_limit(nbd)
        return self

    def _edge(self):
        # a dropout parameter e^20 (or e^-20) from 1 on its way to its limit: the fit is
        # then indistinguishable from the NBD's, which the caller compares it with
        where = [(i, 1 if np.isinf(self.LIMIT[p]) else -1)
                 for i, p in enumerate(self.PARAMS) if p in self.LIMIT]
        return lambda lp: any(sign * lp[i] > 20 for i, sign in where)

    def _take_limit(self, nbd: CustomerModel) -> None:
        self.params_ = {**nbd.params_, **self.LIMIT}
        self.standard_errors_ = {**nbd.standard_errors_, **dict.fromkeys(self.LIMIT, np.nan)}
        self.params_ = {p: self.params_[p] for p in self.PARAMS}
        self.standard_errors_ = {p: self.standard_errors_[p] for p in self.PARAMS}
        self.log_likelihood_ = nbd.log_likelihood_
        self.n_customers_ = nbd.n_customers_
        self.converged_ = nbd.converged_
        self.aic_, self.bic_ = nbd.aic_, nbd.bic_  # two free parameters are left

    def _at_limit(self) -> bool:
        return bool(getattr(self, "degenerate_", False))

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Each customer's log-likelihood under the fitted parameters."""
        rows = Rows.of(NAMES, checked_summary(frequency, recency, T))
        if self._at_limit():
            self._params()
            return nbd_log_likelihood(np.array([self.params_["r"], self.params_["alpha"]]),
                                      rows)
        return self._log_likelihood(self._params(), rows)

    def probability_alive(self, frequency: Any, recency: Any, T: Any  # noqa: N803
                          ) -> np.ndarray:
        """P(alive | x, t_x, T): 1 everywhere in the NBD limit."""
        x, t_x, big_t = checked_summary(frequency, recency, T)
        if self._at_limit():
            self._params()
            return np.ones(len(x))
        return self._probability_alive(self._params(), x, t_x, big_t)

    def expected_purchases(self, t: Any) -> np.ndarray:
        """E[X(t)], the repeat purchases of a customer in the ``t`` after their first; r t/α
        in the NBD limit."""
        params = self._params()
        t = as_column(t, "t")
        if (t < 0).any():
            raise ModelError("the time t must be 0 or more", fix="pass e.g. t=52 (weeks)")
        if self._at_limit():
            return self.params_["r"] * t / self.params_["alpha"]
        return self._expected_purchases(params, t)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray:  # noqa: N803
        """E[Y(t) | x, t_x, T], a customer's expected purchases in the next ``t`` (one
        horizon for all, or one each); in the NBD limit (r + x) t / (α + T)."""
        x, t_x, big_t = checked_summary(frequency, recency, T)
        t = np.broadcast_to(as_column(t, "t"), x.shape) if np.ndim(t) == 0 else as_column(
            t, "t")
        return self.expected_purchases_by([0.0], x, t_x, big_t, offsets=t)[:, 0]

    def expected_purchases_by(self, horizons: Any, frequency: Any, recency: Any, T: Any,
                              *, offsets: Any = None, combine: Any = None
                              ) -> np.ndarray:  # noqa: N803
        """E[Y(t) | x, t_x, T] for each horizon t (customers × horizons), as P(alive) ×
        the purchases expected of a live customer, the second computed once per distinct
        (x, T) — a discounted CLV asks for a dozen horizons over millions of customers.
        ``offsets`` (one per customer) are added to every horizon.

        ``combine`` (horizons × k): return the customers × k products ``E @ combine``
        instead — e.g. discount weights, or a column picking the last horizon — formed per
        distinct (x, T) before they are spread over the customers."""
        x, t_x, big_t = checked_summary(frequency, recency, T)
        ts = as_column(horizons, "horizons")
        extra = np.zeros(len(x)) if offsets is None else as_column(offsets, "offsets")
        if (ts < 0).any() or (extra < 0).any():
            raise ModelError("the horizon t must be 0 or more", fix="pass e.g. t=52 (weeks)")
        mix = np.eye(len(ts)) if combine is None else np.asarray(combine, dtype=float)
        if mix.ndim != 2 or mix.shape[0] != len(ts):
            raise ModelError(f"combine has shape {mix.shape} for {len(ts)} horizons",
                             fix="pass one row per horizon")
        params = self._params()
        if self._at_limit():  # (r + x)(t + offset)/(α + T): linear in t
            r, alpha = self.params_["r"], self.params_["alpha"]
            rate = (r + x) / (alpha + big_t)
            return rate[:, None] * (ts @ mix + extra[:, None] * mix.sum(axis=0))
        alive = self._probability_alive(params, x, t_x, big_t)
        names, cols = (("x", "T"), (x, big_t)) if offsets is None else (
            ("x", "T", "dt"), (x, big_t, extra))
        rows = Rows.of(names, cols)

        def per_distinct(x, big_t, dt=0.0):
            return np.column_stack([self._future(params, t + dt, x, big_t) for t in ts]) @ mix

        out = rows.on(names, per_distinct)
        return alive[:, None] * out

    @abc.abstractmethod
    def _probability_alive(self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                           big_t: np.ndarray) -> np.ndarray: ...

    @abc.abstractmethod
    def _expected_purchases(self, params: np.ndarray, t: np.ndarray) -> np.ndarray: ...

    @abc.abstractmethod
    def _future(self, params: np.ndarray, t: np.ndarray, x: np.ndarray,
                big_t: np.ndarray) -> np.ndarray:
        """E[Y(t) | alive at T, x]: the purchases a customer known to be alive makes in
        the next ``t``."""
