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
