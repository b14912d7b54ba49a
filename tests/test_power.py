"""The sample-ratio-mismatch check and the power / sample-size calculator: hand-computed
values, SciPy's χ² test, and a simulation of the power they promise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from aovlab.stats.power import power, sample_ratio, sample_size


def test_a_50_5_to_49_5_split_of_a_million_is_flagged():
    r = sample_ratio([505_000, 495_000])
    assert r.chi2 == pytest.approx(100.0) and r.flagged and r.p < 1e-20
    assert not sample_ratio([500_310, 499_690]).flagged  # χ² 0.38


def test_sample_ratio_equals_scipy_with_planned_shares():
    obs, shares = [2050, 980, 1030], [0.5, 0.25, 0.25]
    r = sample_ratio(obs, shares)
    ref = stats.chisquare(obs, [sum(obs) * s for s in shares])
    assert r.chi2 == pytest.approx(ref.statistic) and r.p == pytest.approx(ref.pvalue)
    assert r.df == 2
    with pytest.raises(ValueError):
        sample_ratio([10])


def test_sample_size_by_hand():
    # σ = 1, δ = 0.1, α = 0.05, power 0.8: (1.959964 + 0.841621)² · 2 / 0.01 = 1569.8
    assert sample_size(variance=1.0, lift=0.1, relative=False) == (1570, 1570)
    # relative: a 5% lift on a mean of 40 with σ 30: δ = 2
    n0, n1 = sample_size(variance=900.0, lift=0.05, mean=40.0, ratio=2.0)
    z = 1.959964 + 0.841621
    assert n0 == math.ceil(z * z * 900 * 1.5 / 4) and n1 == 2 * n0
    assert power(n0, n1, variance=900.0, lift=0.05, mean=40.0) == pytest.approx(0.8, abs=0.002)


def test_the_promised_power_is_what_a_simulation_finds():
    rng = np.random.default_rng(5)
    n0, n1 = sample_size(variance=1.0, lift=0.2, relative=False, target=0.7)
    hits = 0
    for _ in range(1000):
        a, b = rng.normal(0, 1, n0), rng.normal(0.2, 1, n1)
        hits += stats.ttest_ind(b, a).pvalue < 0.05
    assert 0.66 <= hits / 1000 <= 0.74


def test_bad_settings():
    with pytest.raises(ValueError, match="lift"):
        sample_size(variance=1.0, lift=0.0)
    with pytest.raises(ValueError):
        power(0, 10, variance=1.0, lift=0.1)
