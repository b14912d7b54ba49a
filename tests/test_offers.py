"""Candidate thresholds (issue #17): the prediction by hand, and the recommended threshold
against the true optimum of seeded stores with a known response."""

from __future__ import annotations

import numpy as np
import pytest

from aovlab.stats.bunching import bunching
from aovlab.stats.offers import Response, measured_response, predict, without_bunching
from aovlab.stats.threshold_store import ThresholdStore


def test_prediction_by_hand():
    # bins [0,10) [10,20) [20,30) [30,40): 4, 6, 5, 5 orders worth 20, 90, 125, 175
    edges = np.array([0.0, 10, 20, 30, 40])
    counts, sums = np.array([4.0, 6, 5, 5]), np.array([20.0, 90, 125, 175])
    r = Response(share=0.5, reach=0.5, overshoot=0.2)
    p = predict(edges, counts, sums, 30, r, margin=0.5, fee=2)
    # reach [15, 30): the bins centred 15 and 25 → 11 orders, half padded = 5.5,
    # landing at 30 × 1.1 = 33: revenue 410 + 0.5 × (33 × 11 − 215) = 484
    assert p.padded == 5.5
    assert p.revenue == pytest.approx(484)
    assert p.qualifying == 5 + 5.5
    assert p.shipping_absorbed == pytest.approx(2 * 10.5)
    assert p.gross_profit == pytest.approx(0.5 * p.revenue - 21)
    assert p.aov == pytest.approx(p.revenue / 20)
    offer = predict(edges, counts, sums, 30, r, margin=0.5, amount=3, rate=0.1)
    assert offer.discount_cost == pytest.approx(3 * 10.5 + 0.1 * (175 + 5.5 * 33))
    assert offer.shipping_absorbed == 0
    with pytest.raises(ValueError, match="share"):
        Response(1.2, 0.3, 0.1)


MARGIN, FEE = 0.6, 1.0
CANDIDATES = np.arange(40, 105, 5.0)


def _recommend(v: np.ndarray, seed: int) -> float:
    """What the analysis does: bunching at the existing threshold (50), the distribution
    without it, the measured response moved to each candidate, the best gross profit."""
    fit = bunching(v, 50, width=1, below=15, above=5, span=40, boots=0, seed=seed)
    edges = np.arange(0, np.ceil(v.max()) + 2, 1.0)
    counts = np.histogram(v, edges)[0]
    sums = np.bincount(np.floor(v).astype(int), v, len(counts))
    c, s = without_bunching(edges, counts, sums, fit)
    r = measured_response(fit)
    profit = {t: predict(edges, c, s, t, r, margin=MARGIN, fee=FEE).gross_profit
              for t in CANDIDATES}
    return max(profit, key=profit.get)


def test_recommended_threshold_profit_within_5_percent_of_the_true_optimum():
    """20 seeded stores (35% of the orders in the reach pad up): the recommended
    threshold's true profit is within 5% of the true optimum's, and it keeps at least 90%
    of the best possible gain over no threshold."""
    store = ThresholdStore(50, 0.35, 15, 5)
    true = {t: store.profit(t, margin=MARGIN, fee=FEE, n=1_000_000) for t in CANDIDATES}
    none = MARGIN * ThresholdStore(50, 0.0, 15, 5).sample(1_000_000, 0)[0].mean()
    best = max(true.values())
    assert best > none  # an interior optimum worth having, not "no threshold"
    for seed in range(20):
        v, _ = store.sample(50_000, 1000 + seed)
        pick = _recommend(v, seed)
        assert true[pick] >= 0.95 * best
        assert true[pick] - none >= 0.9 * (best - none)


def test_measured_response_and_the_distribution_without_the_threshold():
    v, truth = ThresholdStore(50, 0.3, 15, 5).sample(100_000, 4)
    base, _ = ThresholdStore(50, 0.0, 15, 5).sample(100_000, 4)
    fit = bunching(v, 50, width=1, below=15, above=5, span=40, boots=0)
    r = measured_response(fit)
    assert r.measured and r.reach == pytest.approx(0.3)
    assert r.share == pytest.approx(truth, abs=0.02)
    assert r.overshoot == pytest.approx(0.1, abs=0.01)  # U(0, 5) above 50
    edges = np.arange(0, np.ceil(v.max()) + 2, 1.0)
    counts = np.histogram(v, edges)[0]
    sums = np.bincount(np.floor(v).astype(int), v, len(counts))
    c, _ = without_bunching(edges, counts, sums, fit)
    w = (edges[:-1] >= 35) & (edges[:-1] < 55)
    # the reconstructed window looks like the store without the threshold
    true_c = np.histogram(base, edges)[0]
    assert np.abs(c[w] - true_c[w]).sum() / true_c[w].sum() < 0.05
    assert c.sum() == pytest.approx(counts.sum(), rel=1e-9)  # mass conserved
    with pytest.raises(ValueError, match="multiples of the distribution's bins"):
        without_bunching(edges + 0.5, counts, sums, fit)
    # on a grid four times finer, each fit bin's counterfactual is spread over its four
    fine = np.arange(0, edges[-1] + 0.125, 0.25)  # four fine bins in each of edges'
    fc = np.histogram(v, fine)[0]
    cf, sf = without_bunching(fine, fc, np.bincount(np.floor(v * 4).astype(int), v,
                                                    len(fc)), fit)
    np.testing.assert_allclose(cf.reshape(-1, 4).sum(axis=1), c)
    inside = np.repeat(fit.window, 4)
    start = int(fit.edges[0] / 0.25)
    np.testing.assert_allclose(cf[start:start + len(inside)][inside],
                               np.repeat(fit.counterfactual[fit.window] / 4, 4))
