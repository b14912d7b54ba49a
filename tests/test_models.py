"""Customer models against published numbers: Fader, Hardie & Lee (2005) on CDNOW, Hardie's
note 027, and the extremes where a naive likelihood overflows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import shared_file

from aovlab.errors import ModelError, NotFittedError
from aovlab.models import BetaGeo, compress, guarded_hyp2f1


@pytest.fixture(scope="module")
def cdnow():
    """The 39-week calibration summary of the CDNOW 1/10 sample (2,357 customers)."""
    return pd.read_csv(shared_file("cdnow", "cdnow_customers_summary.csv"))


@pytest.fixture(scope="module")
def bgnbd(cdnow):
    return BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_bgnbd_reproduces_the_papers_cdnow_fit(bgnbd):
    # Fader, Hardie & Lee (2005), p. 279: r = 0.243, α = 4.414, a = 0.793, b = 2.426
    got = {k: round(v, 3) for k, v in bgnbd.params_.items()}
    assert got == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    # the standard errors lifetimes prints for the same fit: 0.0126, 0.3782, 0.1857, 0.7053
    se = {k: round(v, 4) for k, v in bgnbd.standard_errors_.items()}
    assert se == {"r": 0.0126, "alpha": 0.3782, "a": 0.1857, "b": 0.7053}
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.43, abs=0.01)  # the paper's LL
    assert bgnbd.aic_ == pytest.approx(8 - 2 * bgnbd.log_likelihood_)
    assert bgnbd.bic_ == pytest.approx(4 * np.log(2357) - 2 * bgnbd.log_likelihood_)
    assert bgnbd.converged_ and bgnbd.n_customers_ == 2357
    assert not bgnbd.degenerate_  # CDNOW's customers do drop out


def test_bgnbd_conditional_expectation_and_alive(bgnbd):
    # the paper's worked example: x = 2, t_x = 30.43, T = 38.86 → 1.226 in the next 39 weeks
    got = bgnbd.conditional_expected_purchases(39, 2, 30.43, 38.86)
    assert round(float(got[0]), 3) == 1.226
    p = bgnbd.probability_alive([0, 2, 2], [0, 30.43, 1.0], [38.86, 38.86, 38.86])
    assert p[0] == 1.0 and 0 < p[2] < p[1] < 1  # an early last purchase: likelier gone
    assert bgnbd.expected_purchases([0.0])[0] == 0.0
    assert np.all(np.diff(bgnbd.expected_purchases(np.arange(0, 80, 8.0))) > 0)


def test_bgnbd_log_likelihood_of_hardies_note_027():
    m = BetaGeo()
    m.params_ = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    m.standard_errors_ = dict.fromkeys(m.params_, float("nan"))
    assert m.log_likelihood(0, 0, 40)[0] == pytest.approx(-0.59947382, abs=5e-9)


def test_bgnbd_is_finite_at_the_extremes(bgnbd):
    x, t_x, big_t = [200, 200, 1, 0], [38.0, 1.0, 0.5, 0.0], [38.86, 1e6, 1e6, 1e6]
    assert np.isfinite(bgnbd.log_likelihood(x, t_x, big_t)).all()
    alive = bgnbd.probability_alive(x, t_x, big_t)
    assert np.isfinite(alive).all() and ((alive >= 0) & (alive <= 1)).all()
    assert alive[1] < 1e-100  # 200 purchases, none in a million weeks: gone
    e = bgnbd.conditional_expected_purchases(39, x, t_x, big_t)
    assert np.isfinite(e).all() and (e >= 0).all()
    assert e[0] > 100  # a heavy buyer, still active, keeps buying
    # Euler's transformation where the series overflows, equal where both work
    assert guarded_hyp2f1(0.5, 1.2, 3.1, 0.7) == pytest.approx(
        (1 - 0.7) ** (3.1 - 1.7) * guarded_hyp2f1(2.6, 1.9, 3.1, 0.7))


def test_weights_are_customers_sharing_a_row(cdnow):
    rows, w = compress([cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")],
                       None)
    assert w.sum() == 2357 and len(w) < 2357
    weighted = BetaGeo().fit(rows[0], rows[1], rows[2], weights=w)
    plain = BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for k in plain.params_:
        assert weighted.params_[k] == pytest.approx(plain.params_[k], rel=1e-6)


def test_bad_input_and_unfitted_use_are_clean_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        BetaGeo().probability_alive(1, 1, 2)
    assert isinstance(NotFittedError("x"), AttributeError)  # scikit-learn's contract
    cases = [(([1], [3], [2]), "recency ≤ T"), (([-1], [0], [2]), "repeat purchases"),
             (([1.5], [1], [2]), "repeat purchases"), (([0], [1], [2]), "recency 0"),
             (([0, 0], [0, 0], [2, 3]), "no customer bought again"),
             (([1], [np.nan], [2]), "missing"), (([1, 2], [1], [2]), "values")]
    for args, message in cases:
        with pytest.raises(ModelError, match=message):
            BetaGeo().fit(*args)
    with pytest.raises(ModelError, match="weights"):
        BetaGeo().fit([1, 2], [1, 1], [2, 2], weights=[1, -1])


def test_pareto_nbd_reproduces_the_cdnow_fit(cdnow):
    from aovlab.models import ParetoNBD

    m = ParetoNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    got = {k: round(v, 3) for k, v in m.params_.items()}
    # published: r = 0.553, α = 10.578, s = 0.606, β = 11.669. β is the flattest direction
    # (standard error 6.2): the maximum lies at 11.6679, whose log-likelihood is higher than
    # at the published 11.669, so that digit is the published optimiser's stopping point.
    assert {k: got[k] for k in ("r", "alpha", "s")} == {"r": 0.553, "alpha": 10.578,
                                                         "s": 0.606}
    assert m.params_["beta"] == pytest.approx(11.669, abs=0.002)
    published = ParetoNBD()
    published.params_ = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    assert m.log_likelihood_ >= published.log_likelihood(
        cdnow["frequency"], cdnow["recency"], cdnow["T"]).sum()
    assert m.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)  # FHL's −9595.0
    # finite where the 2F1 series diverges (heavy, recent buyers; T ≫ t_x), and continuous
    # where the formula switches branch (α = β)
    ll = m.log_likelihood([200, 200, 0, 3], [38.0, 1.0, 0.0, 38.86], [38.86, 1e6, 1e6, 38.86])
    assert np.isfinite(ll).all()
    at = []
    for al in (4.0 - 1e-6, 4.0, 4.0 + 1e-6):
        published.params_ = {"r": 0.5, "alpha": al, "s": 0.6, "beta": 4.0}
        at.append(published.log_likelihood(2, 10, 30)[0])
    assert at[0] == pytest.approx(at[1], abs=1e-6) and at[2] == pytest.approx(at[1], abs=1e-6)


def test_modified_bgnbd_reproduces_the_cdnow_fit(cdnow):
    from aovlab.models import ModifiedBetaGeo

    m = ModifiedBetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    got = {k: round(v, 3) for k, v in m.params_.items()}
    assert got == {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}  # Batislam et al.
    alive = m.probability_alive([0, 2], [0.0, 30.43], [38.86, 38.86])
    assert 0 < alive[0] < 1  # unlike BG/NBD, one who never came back may be gone
    assert np.isfinite(m.log_likelihood([200, 0], [38.0, 0.0], [38.86, 1e6])).all()


def test_gamma_gamma_reproduces_the_cdnow_fit():
    from aovlab.models import GammaGamma

    t = pd.read_csv(shared_file("cdnow", "cdnow_customers_summary_with_transactions.csv"))
    g = GammaGamma().fit(t["x"], t["zbar"])  # customers with x = 0 are left out
    assert g.n_customers_ == int((t["x"] > 0).sum()) == 946
    # FHL (2005, RFM and CLV): p = 6.25, q = 3.74, γ = 15.44 — the maximum is at
    # 15.4477 (lifetimes finds the same), printed there cut to two decimals
    assert (round(g.params_["p"], 2), round(g.params_["q"], 2)) == (6.25, 3.74)
    assert np.floor(g.params_["v"] * 100) / 100 == 15.44
    p, q, v = (g.params_[k] for k in ("p", "q", "v"))
    e = g.conditional_expected_average_value([2, 0], [22.35, 0.0])
    assert e[0] == pytest.approx(p * (v + 2 * 22.35) / (p * 2 + q - 1))
    assert e[1] == pytest.approx(p * v / (q - 1))  # no history: the population's mean
    weighted = GammaGamma().fit(t["x"], t["zbar"], weights=np.ones(len(t)))
    assert weighted.params_ == pytest.approx(g.params_, rel=1e-6)
    with pytest.raises(ModelError, match="mean spend of 0 or less"):
        GammaGamma().fit([1, 2], [10.0, 0.0])


def test_closed_form_gradients_match_the_likelihood(cdnow):
    from scipy.optimize import approx_fprime

    from aovlab.models import GammaGamma, ModifiedBetaGeo
    from aovlab.models.base import Rows
    from aovlab.models.repeat import _NBD, summary_rows

    rows = summary_rows(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    spend = Rows.of(("x", "m", "log_m", "xm"), (np.array([1.0, 2, 5]), np.array([9.5, 30, 12]),
                                                np.log([9.5, 30, 12]), np.array([9.5, 60, 60])))
    for model, at, data in ((BetaGeo, [0.3, 5.0, 0.7, 2.2], rows),
                            (ModifiedBetaGeo, [0.5, 6.0, 0.9, 1.6], rows),
                            (_NBD, [0.4, 7.0], rows), (GammaGamma, [6.0, 3.5, 15.0], spend)):
        theta = np.array(at)
        total = lambda th, m=model, d=data: float(d.weights @ m._log_likelihood(th, d))  # noqa: E731
        numeric = approx_fprime(theta, total, 1e-7)
        exact = model._gradient(theta, data)
        assert exact == pytest.approx(numeric, rel=1e-4, abs=1e-3), model.__name__


def test_the_sampled_start_reaches_the_same_optimum(cdnow):
    m = BetaGeo()
    m.SAMPLE = 300  # forces the large-store path: basin on a sample, polish on every row
    m.fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    got = {k: round(v, 3) for k, v in m.params_.items()}
    assert got == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert m.log_likelihood_ == pytest.approx(-9582.43, abs=0.01)


def test_pareto_and_mbg_predictions_match_lifetimes():
    from aovlab.models import ModifiedBetaGeo, ParetoNBD

    # lifetimes 0.11.3 at the same parameters (conditional_probability_alive and
    # conditional_expected_number_of_purchases_up_to_time, t = 39)
    x, t_x, big_t = [0, 2, 5, 200], [0, 30.43, 10.0, 38.0], [38.86] * 4
    cases = (
        (ParetoNBD(), {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6686},
         [0.29515499, 0.86914335, 0.04667345, 0.91107857],
         [0.10710309, 1.45520098, 0.16995800, 119.81151882],
         [0.05100586, 1.21351731, 1.91013651]),
        (ModifiedBetaGeo(), {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
         [0.38973508, 0.70620227, 0.02530552, 0.82579982],
         [0.15401275, 1.26296062, 0.09561945, 107.11490174],
         [0.05308480, 1.18295367, 1.80475758]),
        (BetaGeo(), {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
         [1.0, 0.72657857, 0.02480437, 0.82021090],
         [0.19509805, 1.22602817, 0.09444008, 113.09852446],
         [0.05326789, 1.19672319, 1.86051906]))
    for m, params, alive, expected, new in cases:
        m.params_ = params
        # expected_number_of_purchases_up_to_time at t = 1, 39, 78
        assert m.expected_purchases([1.0, 39.0, 78.0]) == pytest.approx(new, rel=1e-6)
        assert m.probability_alive(x, t_x, big_t) == pytest.approx(alive, rel=1e-6)
        assert m.conditional_expected_purchases(39, x, t_x, big_t) == pytest.approx(
            expected, rel=1e-6)


def test_no_dropout_gives_the_limiting_nbd_fit_not_an_error():
    from aovlab.models import ModifiedBetaGeo
    from aovlab.models.simulate import beta_geo_purchases, summarise

    # customers who never leave: the BG/NBD optimum is on the edge a → 0, b → ∞
    who, when, big_t = beta_geo_purchases(4000, 0.8, 5.0, None, None,
                                          np.linspace(20, 52, 4000), seed=1)
    x, t_x, big_t = summarise(who, when, big_t)
    for model in (BetaGeo, ModifiedBetaGeo):
        m = model().fit(x, t_x, big_t)
        assert m.degenerate_, model.__name__
        assert m.params_["a"] == 0.0 and m.params_["b"] == np.inf
        assert 0.6 < m.params_["r"] < 1.0 and 3.5 < m.params_["alpha"] < 6.5
        # at least as likely as interior points heading for the edge
        for a, b in ((0.5, 50.0), (0.05, 500.0), (1e-3, 1e4)):
            probe = model()
            probe.params_ = {"r": m.params_["r"], "alpha": m.params_["alpha"], "a": a, "b": b}
            assert m.log_likelihood_ >= probe.log_likelihood(x, t_x, big_t).sum()
        assert m.log_likelihood(x, t_x, big_t).sum() == pytest.approx(m.log_likelihood_)
        assert (m.probability_alive(x, t_x, big_t) == 1.0).all()
        e = m.conditional_expected_purchases(10, x, t_x, big_t)
        assert e == pytest.approx((m.params_["r"] + x) * 10 / (m.params_["alpha"] + big_t))


@pytest.mark.slow
def test_bgnbd_recovers_the_parameters_it_was_simulated_from():
    from aovlab.models.simulate import beta_geo_purchases, summarise

    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    who, when, big_t = beta_geo_purchases(200_000, *truth.values(),
                                          np.linspace(27, 39, 200_000), seed=7)
    m = BetaGeo().fit(*summarise(who, when, big_t))
    for k, v in truth.items():  # within three standard errors of the truth
        assert abs(m.params_[k] - v) < 3 * m.standard_errors_[k], (k, m.params_[k])
        assert m.standard_errors_[k] < 0.15 * v


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6), st.sampled_from(
    [0.0, 0.5, 1 / 7, 2.25, 1e6])), min_size=1, max_size=40))
def test_unique_rows_is_numpys_unique(rows):
    from aovlab.models.base import unique_rows

    cols = [np.array([r[i] for r in rows], dtype=float) / (7 if i == 1 else 1)
            for i in range(3)]
    got, inverse = unique_rows(cols)
    want, want_inverse = np.unique(np.column_stack(cols), axis=0, return_inverse=True)
    assert all((got[i] == want[:, i]).all() for i in range(3))
    assert (inverse == want_inverse.reshape(-1)).all()
    assert all((got[i][inverse] == cols[i]).all() for i in range(3))  # rows rebuilt
