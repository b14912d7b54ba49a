"""Customers drawn from the models' own stories, for parameter-recovery checks and
benchmarks: seeded, vectorised over customers (one step per purchase, not per customer).

:func:`beta_geo_purchases` follows BG/NBD (Fader, Hardie & Lee 2005, §3): a customer's rate
is λ ~ Gamma(r, α) (rate α), their dropout probability p ~ Beta(a, b); they buy at time 0,
then at exponential gaps, and after each repeat purchase leave with probability p. With
``a = None`` nobody leaves (the NBD).
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError


def beta_geo_purchases(n: int, r: float, alpha: float, a: float | None, b: float | None,
                       T: float | np.ndarray, *, seed: int = 0,  # noqa: N803 - the papers' T
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(customer, time, T)``: every purchase's customer index and time since that
    customer's first purchase (the first is at 0), and each customer's observed length."""
    if n < 1 or r <= 0 or alpha <= 0 or (a is not None and (a <= 0 or b is None or b <= 0)):
        raise ModelError("simulate needs n ≥ 1 and positive r, α (and a, b)",
                         fix="pass e.g. n=1000, r=0.25, alpha=4, a=0.8, b=2.5")
    rng = np.random.default_rng(seed)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = np.zeros(n) if a is None else rng.beta(a, b, n)
    who, when = [np.arange(n)], [np.zeros(n)]
    active, now = np.arange(n), np.zeros(n)
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        active = active[now[active] <= big_t[active]]
        who.append(active)
        when.append(now[active].copy())
        active = active[rng.random(active.size) >= p[active]]
    customer = np.concatenate(who)
    order = np.argsort(customer, kind="stable")
    return customer[order], np.concatenate(when)[order], big_t


def summarise(customer: np.ndarray, time: np.ndarray, T: np.ndarray  # noqa: N803
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) of simulated purchases: repeat purchases, the last one's time, T."""
    n = len(T)
    x = np.bincount(customer, minlength=n) - 1
    t_x = np.zeros(n)
    np.maximum.at(t_x, customer, time)
    return x.astype(float), t_x, np.asarray(T, dtype=float)
