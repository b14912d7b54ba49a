"""compare_means against GrowthBook gbstats' published frequentist reference vectors, and
its coded edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from aovlab.stats import Moments
from aovlab.stats.compare import compare_means

A = Moments(3407, 1396.87, 52377.9767)
B = Moments(3461, 2422.7, 134698.29)


def test_gbstats_reference_relative():
    r = compare_means(A, B, relative=True)
    assert round(r.lift, 5) == 0.70732
    assert (round(r.ci_low, 5), round(r.ci_high, 5)) == (-0.03526, 1.44989)
    assert round(r.p, 5) == 0.06191 and r.ok


def test_gbstats_reference_absolute():
    r = compare_means(A, B, relative=False)
    assert round(r.lift, 5) == 0.29
    assert (round(r.ci_low, 5), round(r.ci_high, 5)) == (0.04538, 0.53462)
    assert round(r.p, 5) == 0.02016


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n0=st.integers(2, 300), n1=st.integers(2, 300))
def test_absolute_equals_scipy_welch(seed, n0, n1):
    rng = np.random.default_rng(seed)
    x, y = rng.gamma(2.0, 10.0, n0), rng.gamma(2.0, 11.0, n1)
    r = compare_means(Moments(n0, x.sum(), (x * x).sum()), Moments(n1, y.sum(), (y * y).sum()),
                      relative=False)
    ref = stats.ttest_ind(y, x, equal_var=False)
    assert r.p == pytest.approx(ref.pvalue, rel=1e-6)
    ci = ref.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-6)


@pytest.mark.parametrize(("a", "b", "code"), [
    (Moments(0, 0, 0), B, "empty_arm"),
    (Moments(1, 5.0, 25.0), B, "too_few_units"),
    (Moments(10, 0.0, 0.0), Moments(10, 5.0, 5.0), "zero_control_mean"),
    (Moments(10, 10.0, 10.0), Moments(10, 20.0, 40.0), "zero_variance"),
])
def test_edge_cases_are_coded(a, b, code):
    r = compare_means(a, b)
    assert r.code == code and not r.ok and math.isnan(r.p)
    if code == "zero_variance":
        assert r.lift == pytest.approx(1.0)  # 2 against 1, exactly, but no interval


def test_the_public_path():
    import aovlab
    import aovlab.experiments

    assert aovlab.experiments.compare_means is compare_means
    assert aovlab.experiments.compare_means(A, B, relative=False).lift == pytest.approx(0.29)


def test_the_sequential_interval_holds_under_continuous_peeking():
    """200 A/A streams of 4,000 units, looked at after every 10: the always-valid interval
    misses 0 at some look in at most ~5% of them, where the fixed-sample one misses in far
    more (peeking)."""
    from aovlab.stats.compare import compare_means_sequential

    rng = np.random.default_rng(2)
    ever_seq = ever_fixed = 0
    for _ in range(200):
        x, y = rng.gamma(2.0, 10.0, 2000), rng.gamma(2.0, 10.0, 2000)
        cx, cy = np.cumsum(x), np.cumsum(y)
        qx, qy = np.cumsum(x * x), np.cumsum(y * y)
        miss_seq = miss_fixed = False
        for k in range(50, 2000, 10):
            a, b = Moments(k, cx[k - 1], qx[k - 1]), Moments(k, cy[k - 1], qy[k - 1])
            s = compare_means_sequential(a, b, relative=False)
            f = compare_means(a, b, relative=False)
            miss_seq |= not s.ci_low <= 0 <= s.ci_high
            miss_fixed |= not f.ci_low <= 0 <= f.ci_high
        ever_seq += miss_seq
        ever_fixed += miss_fixed
    assert ever_seq <= 16  # 5% of 200 is 10; binomial slack
    assert ever_fixed >= 40


def test_sequential_is_wider_and_its_p_value_consistent():
    from aovlab.stats.compare import compare_means_sequential

    f, s = compare_means(A, B, relative=False), compare_means_sequential(A, B, relative=False)
    assert s.ci_high - s.ci_low > f.ci_high - f.ci_low and s.lift == f.lift
    assert s.p > f.p
    # the interval at level 1 − p just touches 0
    t = compare_means_sequential(A, B, relative=False, level=1 - s.p)
    assert t.ci_low == pytest.approx(0, abs=1e-6)


def test_cuped_narrows_the_interval_and_keeps_the_lift():
    """Spend correlated with the pre-period's (ρ ≈ 0.8): CUPED's interval is about
    √(1 − ρ²) as wide, the lift estimate is unbiased over seeds, and with θ = 0 the plain
    comparison comes back exactly."""
    from aovlab.stats.compare import PairedMoments, cuped

    def pm(x, y):
        return PairedMoments(len(y), y.sum(), (y * y).sum(), x.sum(), (x * x).sum(),
                             (x * y).sum())

    rng = np.random.default_rng(3)
    widths, lifts, covered = [], [], 0
    for _ in range(300):
        x0, x1 = rng.normal(50, 10, 2000), rng.normal(50, 10, 2000)
        y0 = 0.8 * x0 + rng.normal(10, 6, 2000)
        y1 = 0.8 * x1 + rng.normal(12, 6, 2000)  # the true absolute lift is 2
        plain = compare_means(Moments(2000, y0.sum(), (y0 * y0).sum()),
                              Moments(2000, y1.sum(), (y1 * y1).sum()), relative=False)
        adj, theta = cuped(pm(x0, y0), pm(x1, y1), relative=False)
        widths.append((adj.ci_high - adj.ci_low) / (plain.ci_high - plain.ci_low))
        lifts.append(adj.lift)
        covered += adj.ci_low <= 2 <= adj.ci_high
        assert theta == pytest.approx(0.8, abs=0.05)
    rho = 0.8 * 10 / math.hypot(0.8 * 10, 6)
    assert np.mean(widths) == pytest.approx(math.sqrt(1 - rho ** 2), rel=0.05)
    assert np.mean(lifts) == pytest.approx(2.0, abs=0.05)
    assert 270 <= covered <= 297
    # a constant covariate: no adjustment
    y = rng.normal(5, 1, 100)
    same = pm(np.ones(100), y)
    r, theta = cuped(same, same, relative=False)
    assert theta == 0.0 and r.lift == pytest.approx(0.0, abs=1e-12)


def test_holm_by_hand_and_nan_kept():
    from aovlab.stats.compare import holm

    # sorted 0.01, 0.02, 0.04 → 3·0.01, max(0.03, 2·0.02), max(0.04, 1·0.04)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    out = holm([0.3, math.nan, 0.01])
    assert out[0] == pytest.approx(0.3) and math.isnan(out[1]) and out[2] == pytest.approx(0.02)
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # 2 · 0.8 capped at 1, and monotone


def test_chance_to_beat_control():
    from aovlab.stats.compare import chance_to_beat

    r = compare_means(A, B, relative=False)
    assert chance_to_beat(r) == pytest.approx(stats.norm.cdf(0.29 / r.se))
    assert chance_to_beat(r) > 0.98 and math.isnan(chance_to_beat(compare_means(
        Moments(0, 0, 0), B)))
