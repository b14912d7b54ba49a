"""What a free-shipping or "X off over Y" threshold would do, from the binned order-value
distribution without it and a response.

The response (:class:`Response`) says which orders pad up and where they land, in terms
relative to the threshold so that one measured at an existing threshold T transfers to a
candidate T′: of the orders that would have landed in [T′(1 − reach), T′), a ``share``
is padded to T′(1 + U(0, overshoot)), mean T′(1 + overshoot / 2). Orders are not created
or lost (the threshold may also lift conversion; that is not modelled and is said so).

For a candidate T′, with cⱼ, sⱼ the orders and value of bin j of the distribution:

* padded orders  P = share · Σ_{j ∈ reach} cⱼ,
* revenue        R = Σ sⱼ + share · Σ_{j ∈ reach} (T′(1 + overshoot/2) · cⱼ − sⱼ),
* qualifying     Q = Σ_{zⱼ ≥ T′} cⱼ + P orders at or over T′,
* shipping absorbed = fee · Q (free shipping: the fee those orders no longer pay),
* discount cost  = amount · Q, or rate · (value of the qualifying orders),
* gross profit   = margin · R − shipping absorbed − discount cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Response:
    """How customers respond to a threshold; ``measured`` False when assumed."""

    share: float
    reach: float
    overshoot: float
    measured: bool = False

    def __post_init__(self) -> None:
        if not (0 <= self.share <= 1 and 0 < self.reach < 1 and self.overshoot >= 0):
            raise ValueError("share must be from 0 to 1, reach between 0 and 1, "
                             "overshoot not negative")


@dataclass(frozen=True)
class Prediction:
    """One candidate threshold's predicted orders, revenue, costs and profit."""

    threshold: float
    orders: float
    revenue: float
    padded: float
    qualifying: float
    shipping_absorbed: float
    discount_cost: float
    gross_profit: float

    @property
    def aov(self) -> float:
        return self.revenue / self.orders if self.orders else float("nan")


def predict(edges: np.ndarray, counts: np.ndarray, sums: np.ndarray, threshold: float,
            response: Response, *, margin: float, fee: float = 0.0, amount: float = 0.0,
            rate: float = 0.0) -> Prediction:
    """The outcome of ``threshold`` on the binned distribution (``edges``, ``counts``,
    ``sums`` per bin; a bin belongs to a side by its centre, so thresholds on bin edges
    are exact). ``fee``: shipping no longer charged per qualifying order; ``amount`` or
    ``rate``: the "X off" of an offer, per qualifying order or as a share of its value."""
    edges = np.asarray(edges, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    s = np.asarray(sums, dtype=np.float64)
    x = (edges[:-1] + edges[1:]) / 2
    t = float(threshold)
    reach = (x >= t * (1 - response.reach)) & (x < t)
    over = x >= t
    land = t * (1 + response.overshoot / 2)
    padded = response.share * float(c[reach].sum())
    revenue = float(s.sum()) + response.share * float((land * c[reach] - s[reach]).sum())
    qualifying = float(c[over].sum()) + padded
    qual_value = float(s[over].sum()) + padded * land
    shipping = fee * qualifying
    discount = amount * qualifying + rate * qual_value
    return Prediction(t, float(c.sum()), revenue, padded, qualifying, shipping, discount,
                      margin * revenue - shipping - discount)


def without_bunching(edges: np.ndarray, counts: np.ndarray, sums: np.ndarray,
                     fit) -> tuple[np.ndarray, np.ndarray]:
    """The distribution without an existing threshold: inside the bunching ``fit``'s
    window, counts are replaced by its counterfactual and values by counterfactual × bin
    centre; elsewhere the data stand. The fit's bins must be whole multiples of the
    distribution's (equal-width) bins and start on one of its edges; a fit bin's
    counterfactual is spread evenly over the fine bins it holds. Bins after the regular
    ones (an overflow bin of a different width) are left as they are."""
    edges = np.asarray(edges, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64).copy()
    s = np.asarray(sums, dtype=np.float64).copy()
    width = edges[1] - edges[0]
    k = (fit.edges[1] - fit.edges[0]) / width
    start = (fit.edges[0] - edges[0]) / width
    kk, i = int(round(k)), int(round(start))
    if not (np.isclose(k, kk) and kk >= 1 and np.isclose(start, i) and i >= 0
            and i + kk * len(fit.counts) <= len(c)
            and np.allclose(edges[i:i + kk * len(fit.counts) + 1],
                            edges[i] + width * np.arange(kk * len(fit.counts) + 1))):
        raise ValueError("the bunching fit's bins must be whole multiples of the "
                         "distribution's bins, on its edges")
    centres = (edges[:-1] + edges[1:]) / 2
    for j in np.flatnonzero(fit.window):
        fine = slice(i + kk * j, i + kk * (j + 1))
        c[fine] = max(float(fit.counterfactual[j]), 0.0) / kk
        s[fine] = c[fine] * centres[fine]
    return c, s


def measured_response(fit) -> Response:
    """The response a bunching ``fit`` measured, relative to its threshold: the share
    padded, the reach (the window below, as a share of T) and the overshoot (twice the
    excess mass's mean distance above T, as a share of T, for a uniform landing)."""
    t = fit.threshold
    xc = (fit.edges[:-1] + fit.edges[1:]) / 2
    up = (xc >= t) & (xc < t + fit.above)
    gap = np.clip((fit.counts - fit.counterfactual)[up], 0, None)
    land = float(np.average(xc[up], weights=gap)) if gap.sum() > 0 else t
    share = min(max(float(fit.padded_share), 0.0), 1.0)
    return Response(share, fit.below / t, max(2 * (land - t) / t, 0.0), measured=True)
