"""The bunching estimator (issue #17's first piece) on seeded stores with known padding."""

from __future__ import annotations

import numpy as np
import pytest

from aovlab.stats.bunching import bunching

T = 50.0


def _store(seed: int, share: float, n: int = 50_000) -> tuple[np.ndarray, float]:
    """Lognormal order values (median 40); ``share`` of the orders that would have landed
    in [T − 15, T) are padded to T + U(0, 5). Returns the values and the true share."""
    rng = np.random.default_rng(seed)
    v = rng.lognormal(np.log(40), 0.5, n)
    near = (v >= T - 15) & (v < T)
    pad = near & (rng.random(n) < share)
    v = np.where(pad, T + rng.uniform(0, 5, n), v)
    return v, pad.sum() / near.sum()


def _fit(v: np.ndarray, seed: int, boots: int = 200):
    return bunching(v, T, width=1.0, below=15, above=5, span=40, degree=5, boots=boots,
                    seed=seed)


def test_recovers_the_padded_share_within_its_interval():
    """≥ 90% of 200 seeded stores: the true share inside the reported 95% interval."""
    hits, est = 0, []
    for s in range(200):
        v, truth = _store(s, 0.2)
        b = _fit(v, s, boots=100)
        est.append(b.padded_share)
        hits += b.padded_share_ci[0] <= truth <= b.padded_share_ci[1]
    assert hits / 200 >= 0.90
    assert np.mean(est) == pytest.approx(0.2, abs=0.005)


def test_mass_is_conserved_and_padding_measured():
    v, truth = _store(3, 0.25)
    b = _fit(v, 3)
    assert b.excess == pytest.approx(b.missing, rel=1e-9)  # the integration constraint
    # padded orders came from U-ish [35, 50) and went to [50, 55): about 10 more
    assert 7 < b.mean_padding < 13
    assert b.mean_padding_ci[0] < b.mean_padding < b.mean_padding_ci[1]


def test_no_threshold_no_bunching():
    v, truth = _store(5, 0.0)
    assert truth == 0
    b = _fit(v, 5)
    assert b.padded_share_ci[0] <= 0 <= b.padded_share_ci[1]
    assert abs(b.padded_share) < 0.02


def test_bad_settings():
    v, _ = _store(1, 0.1, n=1000)
    with pytest.raises(ValueError, match="positive"):
        bunching(v, T, width=0, below=15, above=5)
    with pytest.raises(ValueError, match="span"):
        bunching(v, T, width=1, below=15, above=5, span=10)
    with pytest.raises(ValueError, match="polynomial"):
        bunching(v, T, width=5, below=15, above=5, span=20, degree=5)
