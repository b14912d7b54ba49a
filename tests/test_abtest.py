"""aovlab.abtest: experiments analysed at the randomisation unit, checked against a pandas
reference written here (per-unit sums, the delta method and Welch's test by hand), on every
engine; the coverage of the delta-method AOV interval by simulation; the real Hillstrom
e-mail experiment end to end; the assignments importer's refusals."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import aovlab
from aovlab.errors import DefinitionError, InputError, NoDataError, WorkspaceError
from aovlab.stats import Moments, RatioMoments
from aovlab.stats.compare import compare_means, compare_ratios
from conftest import engine_for, shared_file
from fixtures import workspace_with

EXPOSURE = pd.Timestamp("2024-03-01 00:00", tz="UTC")


def _experiment(n: int = 300, seed: int = 5, lift: float = 0.0,
                arms: tuple[str, ...] = ("control", "treatment")) -> tuple[pd.DataFrame,
                                                                         pd.DataFrame]:
    """Assignments and orders: each unit a spending propensity that drives its orders
    both before exposure (the pre-period) and after it."""
    rng = np.random.default_rng(seed)
    units = [f"u{i:04d}" for i in range(n * len(arms))]
    variant = np.repeat(arms, n)
    exposure = EXPOSURE + pd.to_timedelta(rng.integers(0, 72, len(units)), unit="h")
    a = pd.DataFrame({"experiment": "checkout", "unit_id": units, "variant": variant,
                      "first_exposure": exposure.astype(str),
                      "channel": rng.choice(["web", "app"], len(units))})
    rows = []
    for u, v, t0 in zip(units, variant, exposure, strict=True):
        rate = rng.gamma(0.8, 1.0)
        scale = rng.lognormal(np.log(40), 0.5) * (1 + lift * (v != arms[0]))
        for k in range(rng.poisson(rate)):  # before exposure
            rows.append((u, t0 - pd.Timedelta(days=int(rng.integers(1, 200))),
                         round(scale * rng.lognormal(0, 0.3), 2), "placed", 1.0 + k % 3))
        for k in range(rng.poisson(rate)):  # after it
            rows.append((u, t0 + pd.Timedelta(hours=int(rng.integers(0, 500))),
                         round(scale * rng.lognormal(0, 0.3), 2),
                         "cancelled" if k == 2 else "placed", 1.0 + k % 3))
    rows.append((None, EXPOSURE + pd.Timedelta(days=1), 75.0, "placed", 1.0))  # a guest
    rows.append(("stranger", EXPOSURE + pd.Timedelta(days=1), 75.0, "placed", 1.0))
    o = pd.DataFrame(rows, columns=["customer_id", "created_at", "gross_sales", "status",
                                    "units"])
    o["order_id"] = [f"o{i}" for i in range(len(o))]
    o["total"] = o["gross_sales"]
    o["cost"] = (o["gross_sales"] * 0.6).round(2)
    o["created_at"] = o["created_at"].astype(str)
    return a, o


def _workspace(a: pd.DataFrame, o: pd.DataFrame, path: str = ":memory:"):
    ws = workspace_with(o, path, source="shop")
    aovlab.import_frame(ws, a, kind="assignments", source="shop")
    return ws


def _units(a: pd.DataFrame, o: pd.DataFrame, cap: float | None = None) -> pd.DataFrame:
    """The reference: per unit, revenue and orders from first exposure on."""
    o = o[o["status"].isin(["placed", "refunded"]) & o["customer_id"].notna()].copy()
    o["created_at"] = pd.to_datetime(o["created_at"], utc=True)
    m = a.assign(first_exposure=pd.to_datetime(a["first_exposure"], utc=True)).merge(
        o, left_on="unit_id", right_on="customer_id")
    post = m[m["created_at"] >= m["first_exposure"]].copy()
    post["value"] = post["gross_sales"] if cap is None else post["gross_sales"].clip(upper=cap)
    per = post.groupby("unit_id").agg(r=("value", "sum"), o=("value", "size"),
                                      u=("units", "sum"))
    return a.set_index("unit_id").join(per).fillna({"r": 0.0, "o": 0, "u": 0.0})


def _t_ci(mean: float, se: float, df: float, level: float = 0.95) -> tuple[float, float]:
    h = stats.t.ppf(0.5 + level / 2, df) * se
    return mean - h, mean + h


def _ratio_ref(g: pd.DataFrame, num: str = "r") -> tuple[float, float, int]:
    """The delta-method ratio and its variance, written out again."""
    x, y, n = g[num].to_numpy(float), g["o"].to_numpy(float), len(g)
    R = x.sum() / y.sum()
    cov = np.cov(x, y, ddof=1)
    var = (cov[0, 0] - 2 * R * cov[0, 1] + R * R * cov[1, 1]) / (n * y.mean() ** 2)
    return R, var, n


def _lift_ref(m0, v0, n0, m1, v1, n1):
    """Relative lift, its delta-method SE, Welch df, p."""
    se = math.sqrt(v1 / m0 ** 2 + v0 * m1 ** 2 / m0 ** 4)
    df = (v0 + v1) ** 2 / (v0 ** 2 / (n0 - 1) + v1 ** 2 / (n1 - 1))
    lift = m1 / m0 - 1
    return lift, se, df, 2 * stats.t.sf(abs(lift) / se, df)


def _row(t: pd.DataFrame, metric: str, variant: str) -> pd.Series:
    return t[(t["metric"] == metric) & (t["variant"] == variant)].iloc[0]


def test_every_metric_matches_the_reference_on_every_engine(engine_name):
    a, o = _experiment()
    ws = _workspace(a, o)
    r = aovlab.abtest(ws, use_cuped=False, engine=engine_for(ws, engine_name))
    t = r.table
    ref = _units(a, o)
    arms = {v: g for v, g in ref.groupby("variant")}
    for v, g in arms.items():
        R, var, n = _ratio_ref(g)
        row = _row(t, "aov", v)
        assert row["value"] == pytest.approx(R, rel=1e-9)
        lo, hi = _t_ci(R, math.sqrt(var), n - 1)
        assert (row["value_low"], row["value_high"]) == pytest.approx((lo, hi), rel=1e-9)
        rpu = _row(t, "revenue_per_unit", v)
        assert rpu["value"] == pytest.approx(g["r"].mean(), rel=1e-9)
        assert _row(t, "conversion", v)["value"] == pytest.approx((g["o"] > 0).mean())
        U, _, _ = _ratio_ref(g, "u")
        assert _row(t, "units_per_order", v)["value"] == pytest.approx(U, rel=1e-9)
        assert int(row["units"]) == len(g)
    # the lifts, by hand
    m0, v0, n0 = _ratio_ref(arms["control"])
    m1, v1, n1 = _ratio_ref(arms["treatment"])
    lift, se, df, p = _lift_ref(m0, v0, n0, m1, v1, n1)
    row = _row(t, "aov", "treatment")
    assert row["lift"] == pytest.approx(lift, rel=1e-9)
    assert (row["lift_low"], row["lift_high"]) == pytest.approx(_t_ci(lift, se, df), rel=1e-9)
    assert row["p"] == pytest.approx(p, rel=1e-7)
    y0, y1 = arms["control"]["r"], arms["treatment"]["r"]
    welch = stats.ttest_ind(y1, y0, equal_var=False)
    absolute = aovlab.abtest(ws, use_cuped=False, relative=False,
                             engine=engine_for(ws, engine_name)).table
    assert _row(absolute, "revenue_per_unit", "treatment")["p"] == pytest.approx(
        welch.pvalue, rel=1e-7)
    # margin: 40% of each counted order's value (cost is 60%)
    assert _row(t, "margin_per_unit", "control")["value"] == pytest.approx(
        0.4 * arms["control"]["r"].mean(), rel=1e-3)
    assert r.meta["control"] == "control" and not r.meta["srm_flagged"]


def test_a_cap_is_one_for_all_arms_and_feeds_every_metric(engine_name):
    a, o = _experiment(seed=6)
    ws = _workspace(a, o)
    t = aovlab.abtest(ws, cap=60.0, use_cuped=False, engine=engine_for(ws, engine_name)).table
    ref = _units(a, o, cap=60.0)
    for v, g in ref.groupby("variant"):
        R, _, _ = _ratio_ref(g)
        assert _row(t, "aov", v)["value"] == pytest.approx(R, rel=1e-9)
        assert 0 <= R <= 60
        assert _row(t, "revenue_per_unit", v)["value"] == pytest.approx(g["r"].mean())
        # the margin loses what the revenue lost: 0.4 × value − (value − capped)
        uncapped = _units(a, o).loc[g.index]
        want = (0.4 * uncapped["r"] - (uncapped["r"] - g["r"])).mean()
        assert _row(t, "margin_per_unit", v)["value"] == pytest.approx(want, rel=1e-3)


def test_a_percentile_cap_is_taken_from_all_arms_together():
    a, o = _experiment(seed=7)
    ws = _workspace(a, o)
    r = aovlab.abtest(ws, cap="p95")
    oo = o[o["status"] == "placed"].copy()
    oo["created_at"] = pd.to_datetime(oo["created_at"], utc=True)
    m = a.assign(first_exposure=pd.to_datetime(a["first_exposure"], utc=True)).merge(
        oo, left_on="unit_id", right_on="customer_id")
    values = m.loc[m["created_at"] >= m["first_exposure"], "gross_sales"]
    assert r.meta["cap"] == pytest.approx(values.quantile(0.95), rel=1e-9)
    assert "p95 of all arms'" in r.notes[0]
    assert int(r.tables["arms"]["capped_orders"].sum()) == int((values > r.meta["cap"]).sum())


def test_cuped_narrows_the_interval_on_a_correlated_pre_period():
    a, o = _experiment(n=800, seed=8)
    ws = _workspace(a, o)
    plain = _row(aovlab.abtest(ws, use_cuped=False).table, "revenue_per_unit", "treatment")
    adj = _row(aovlab.abtest(ws).table, "revenue_per_unit", "treatment")
    assert adj["method"] == "cuped" and adj["variance_reduction"] > 0.05
    width = adj["lift_high"] - adj["lift_low"]
    assert width < plain["lift_high"] - plain["lift_low"]
    assert width / (plain["lift_high"] - plain["lift_low"]) == pytest.approx(
        math.sqrt(1 - adj["variance_reduction"]), rel=0.02)


def test_sample_ratio_mismatch_warns_and_planned_shares_silence_it():
    a, o = _experiment(n=500, seed=9)
    a = a[~((a["variant"] == "treatment") & (a.index % 3 == 0))]  # a third of B lost
    ws = _workspace(a, o)
    r = aovlab.abtest(ws)
    assert r.meta["srm_flagged"] and r.notes[0].startswith("SAMPLE RATIO MISMATCH")
    n = r.tables["arms"].set_index("variant")["units"]
    share = n / n.sum()
    ok = aovlab.abtest(ws, shares=share.to_dict())
    assert not ok.meta["srm_flagged"]


def test_edge_cases_come_back_coded_and_the_rest_is_computed():
    a, o = _experiment(n=100, seed=10, arms=("control", "b", "empty"))
    o = o[~o["customer_id"].isin(a.loc[a["variant"] == "empty", "unit_id"])]
    ws = _workspace(a, o)
    t = aovlab.abtest(ws).table
    assert _row(t, "aov", "empty")["code"] == "no_denominator"
    assert _row(t, "conversion", "empty")["value"] == 0
    assert _row(t, "aov", "b")["code"] == "ok"
    one = pd.DataFrame({"experiment": "t", "unit_id": ["z1", "z2"], "variant": ["control", "x"],
                        "first_exposure": "2024-03-01"})
    aovlab.import_frame(ws, one, kind="assignments", source="shop")
    small = aovlab.abtest(ws, experiment="t").table
    assert set(small.loc[small["variant"] == "x", "code"]) == {"too_few_units",
                                                               "no_denominator"}


def test_segments_warn_and_add_up_to_the_whole():
    a, o = _experiment(seed=11)
    ws = _workspace(a, o)
    r = aovlab.abtest(ws, segment="channel", use_cuped=False)
    seg = r.tables["segments"]
    assert set(seg["segment"]) == {"web", "app"}
    units = seg[seg["metric"] == "conversion"].groupby("variant")["units"].sum()
    assert units.to_dict() == a["variant"].value_counts().to_dict()
    assert any("chosen after the test" in n for n in r.notes)
    ct = aovlab.abtest(ws, segment="customer_type").tables["segments"]
    assert set(ct["segment"]) <= {"new", "returning"} and len(set(ct["segment"])) == 2


def test_the_delta_method_interval_covers_where_the_per_order_one_does_not():
    """3,000 A/A tests with customer-level randomisation: customers differ in how much
    they spend per order and order several times, so their orders are correlated. The
    delta-method AOV interval at the customer covers the true lift (0) 95 ± 1.5% of the
    time; the naive interval that treats orders as independent covers far less."""
    rng = np.random.default_rng(7)
    reps, n = 3000, 2000

    def arm():
        k = rng.poisson(rng.gamma(1.5, 2.0, n))
        mu = rng.lognormal(np.log(50), 0.7, n)
        uid = np.repeat(np.arange(n), k)
        v = mu[uid] * rng.lognormal(0, 0.25, len(uid))
        r, y = np.bincount(uid, v, minlength=n), k.astype(float)
        return (RatioMoments(n, r.sum(), y.sum(), (r * r).sum(), (y * y).sum(), (r * y).sum()),
                Moments(len(v), v.sum(), (v * v).sum()))

    delta = naive = 0
    for _ in range(reps):
        (a, an), (b, bn) = arm(), arm()
        d, nv = compare_ratios(a, b), compare_means(an, bn)
        delta += d.ci_low <= 0 <= d.ci_high
        naive += nv.ci_low <= 0 <= nv.ci_high
    assert 0.935 <= delta / reps <= 0.965
    assert naive / reps < 0.85


def test_hillstrom_end_to_end_matches_an_independent_calculation():
    path = shared_file("hillstrom_email_experiment", "hillstrom.csv")
    d = pd.read_csv(path)
    ws = aovlab.Workspace(":memory:")
    aovlab.import_files(ws, path)
    r = aovlab.abtest(ws, use_cuped=False)
    assert r.meta["control"] == "No E-Mail" and r.meta["experiment"] == "hillstrom-email"
    t = r.table
    for arm, g in d.groupby("segment"):
        for metric, col in (("visit_rate", "visit"), ("conversion", "conversion"),
                            ("revenue_per_unit", "spend")):
            row = _row(t, metric, arm)
            x = g[col].to_numpy(float)
            se = x.std(ddof=1) / math.sqrt(len(x))
            assert row["value"] == pytest.approx(x.mean(), rel=1e-12)
            assert (row["value_low"], row["value_high"]) == pytest.approx(
                _t_ci(x.mean(), se, len(x) - 1), rel=1e-9)
        # AOV: spend per converter, by the delta method over all the arm's customers
        units = pd.DataFrame({"r": g["spend"], "o": g["conversion"]})
        R, var, n = _ratio_ref(units)
        row = _row(t, "aov", arm)
        assert row["value"] == pytest.approx(R, rel=1e-12)
        assert row["value_high"] == pytest.approx(R + stats.t.ppf(0.975, n - 1)
                                                  * math.sqrt(var), rel=1e-9)
    # the published check: 267 conversions and $113.53 per converter in the men's arm
    assert _row(t, "aov", "Mens E-Mail")["value"] == pytest.approx(113.53, abs=0.005)
    men = d[d["segment"] == "Mens E-Mail"]["spend"]
    none = d[d["segment"] == "No E-Mail"]["spend"]
    welch = stats.ttest_ind(men, none, equal_var=False)
    absolute = aovlab.abtest(ws, use_cuped=False, relative=False).table
    assert _row(absolute, "revenue_per_unit", "Mens E-Mail")["p"] == pytest.approx(
        welch.pvalue, rel=1e-7)
    cup = _row(aovlab.abtest(ws).table, "revenue_per_unit", "Mens E-Mail")
    assert cup["method"] == "cuped" and cup["variance_reduction"] > 0
    assert not r.meta["srm_flagged"]


def test_choosing_the_experiment_and_the_control():
    a, o = _experiment(n=50, seed=12, arms=("blue", "green"))
    ws = _workspace(a, o)
    with pytest.raises(DefinitionError, match="which variant is the control"):
        aovlab.abtest(ws)
    assert aovlab.abtest(ws, control="green").meta["control"] == "green"
    with pytest.raises(DefinitionError, match="control 'red'"):
        aovlab.abtest(ws, control="red")
    with pytest.raises(DefinitionError, match="no experiment 'nope'"):
        aovlab.abtest(ws, experiment="nope", control="blue")
    with pytest.raises(DefinitionError, match="cap 'top'"):
        aovlab.abtest(ws, control="blue", cap="top")
    with pytest.raises(DefinitionError, match="segment 'zip'"):
        aovlab.abtest(ws, control="blue", segment="zip")
    with pytest.raises(NoDataError, match="no experiment assignments"):
        aovlab.abtest(workspace_with(o))


def test_assignments_csv_with_aliases_is_imported_once(tmp_path):
    p = tmp_path / "exp.csv"
    p.write_text("experiment_id,user_id,group,timestamp,customer_type,visits\n"
                 "hero,c1,control,2024-03-01 10:00,new,3\n"
                 "hero,c2,b,2024-03-01T11:00:00+01:00,,0\n")
    ws = aovlab.Workspace(tmp_path / "w.duckdb")
    s = aovlab.import_files(ws, p, source="shop")
    assert s.tables["assignments"].added == 2
    got = ws.con.execute("SELECT unit_id, variant, first_exposure, customer_type, visits "
                         "FROM assignments ORDER BY unit_id").fetchall()
    assert [g[0] for g in got] == ["c1", "c2"] and got[0][3] == "new" and got[1][3] is None
    assert got[1][2] == pd.Timestamp("2024-03-01 10:00", tz="UTC")
    again = aovlab.import_files(ws, p, source="shop")
    assert again.tables["assignments"].added == 0
    assert again.tables["assignments"].already_present == 2


@pytest.mark.parametrize("body,match,row,column", [
    ("unit_id,variant,first_exposure\nc1,a,2024-03-01\nc1,b,2024-03-02\n",
     "assigned twice", 2, "unit_id"),
    ("unit_id,variant,first_exposure\nc1,a,2024-03-01\nc2,b,yesterday\n",
     "date and time", 2, "first_exposure"),
    ("unit_id,variant,first_exposure\nc1,,2024-03-01\n", "variant is empty", 1, "variant"),
    ("unit_id,variant,first_exposure,customer_type\nc1,a,2024-03-01,vip\n",
     "customer type", 1, "customer_type"),
    ("unit_id,variant,first_exposure,visits\nc1,a,2024-03-01,two\n", "whole number", 1,
     "visits"),
])
def test_bad_assignments_are_refused_naming_the_row(tmp_path, body, match, row, column):
    p = tmp_path / "exp.csv"
    p.write_text(body)
    ws = aovlab.Workspace(":memory:")
    with pytest.raises(InputError, match=match) as e:
        aovlab.import_files(ws, p, "assignments", experiment="x")
    assert e.value.location.row == row and e.value.location.column == column
    assert ws.count("assignments") == 0


def test_a_file_without_experiment_needs_the_option(tmp_path):
    p = tmp_path / "exp.csv"
    p.write_text("unit_id,variant,first_exposure\nc1,a,2024-03-01\n")
    ws = aovlab.Workspace(":memory:")
    with pytest.raises(InputError, match="--experiment"):
        aovlab.import_files(ws, p)
    aovlab.import_files(ws, p, experiment="hero")
    assert ws.con.execute("SELECT experiment FROM assignments").fetchone()[0] == "hero"


def _version_3(path) -> None:
    with aovlab.Workspace(path) as ws:
        aovlab.import_frame(ws, _experiment(n=5)[1], source="shop", currency="EUR")
        ws.con.execute("DROP TABLE assignments")
        for c in ("customer_key", "customer_seq"):  # schema 5's derived columns
            ws.con.execute(f"ALTER TABLE orders DROP COLUMN {c}")
        ws.con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")


@pytest.mark.parametrize("read_only", [False, True])
def test_a_version_3_workspace_is_upgraded_in_place(tmp_path, read_only):
    """Schema 4 only adds the assignments table: an older workspace gains it, its data
    kept, whether the first opening writes (an import) or only reads (kpis, serve)."""
    path = tmp_path / "old.duckdb"
    _version_3(path)
    with aovlab.Workspace(path, read_only=read_only) as ws:
        assert ws.count("assignments") == 0 and ws.count("orders") > 0
        assert ws.con.execute("SELECT value FROM meta WHERE key = 'schema_version'"
                              ).fetchone()[0] == str(aovlab.schema.SCHEMA_VERSION)
        # and the customer facts of schema 5, computed from the rows
        assert ws.con.execute("SELECT count(*) FROM orders WHERE customer_id IS NOT NULL "
                              "AND customer_key IS NULL").fetchone()[0] == 0


def test_a_workspace_of_an_unknown_version_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    with aovlab.Workspace(path) as ws:
        ws.con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(WorkspaceError, match="schema version '99'"):
        aovlab.Workspace(path, read_only=True)


def test_the_cli(tmp_path):
    a, o = _experiment(n=100, seed=13)
    _workspace(a, o, str(tmp_path / "w.duckdb")).close()

    def run(*args):
        return subprocess.run([sys.executable, "-m", "aovlab.cli", "abtest", "-w", "w.duckdb",
                               *args], cwd=tmp_path, capture_output=True, text=True,
                              env={"COLUMNS": "200", "PATH": ""}, timeout=300)

    res = run("--bayesian", "--cap", "p99")
    assert res.returncode == 0, res.stderr
    assert "Experiment checkout" in res.stdout and "P(beats control)" in res.stdout
    assert "capped at" in res.stderr
    csv = run("-f", "csv", "--table", "arms")
    arms = pd.read_csv(pd.io.common.StringIO(csv.stdout))
    assert sorted(arms["variant"]) == ["control", "treatment"]
    bad = run("--table", "segments")
    assert bad.returncode != 0 and "--table segments needs --segment" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_the_difference_is_the_absolute_lift():
    a, o = _experiment(seed=14)
    ws = _workspace(a, o)
    rel = aovlab.abtest(ws).table
    ab = aovlab.abtest(ws, relative=False).table
    for m in ("aov", "revenue_per_unit", "conversion"):
        x, y = _row(rel, m, "treatment"), _row(ab, m, "treatment")
        assert x["difference"] == pytest.approx(y["lift"], rel=1e-12)
        assert x["difference_low"] == pytest.approx(y["lift_low"], rel=1e-12)
    plain = aovlab.abtest(ws, use_cuped=False).table
    for m in ("aov", "revenue_per_unit", "conversion"):  # without CUPED: the values' gap
        assert _row(plain, m, "treatment")["difference"] == pytest.approx(
            _row(plain, m, "treatment")["value"] - _row(plain, m, "control")["value"],
            rel=1e-9)


def test_a_selection_that_would_change_the_outcomes_is_refused():
    a, o = _experiment(n=50, seed=15)
    ws = _workspace(a, o)
    with pytest.raises(DefinitionError, match="not filtered by channel"):
        aovlab.abtest(ws, filters={"channel": "web"})
    with pytest.raises(DefinitionError, match="first exposure"):
        aovlab.abtest(ws, start="2024-03-02")
    assert aovlab.abtest(ws, filters={"source": "shop"}).meta["source"] == "shop"
    # assignments under another source than the orders: said loudly
    other = a.assign(experiment="elsewhere")
    aovlab.import_frame(ws, other, kind="assignments", source="other")
    r = aovlab.abtest(ws, experiment="elsewhere")
    assert any(n.startswith("NO ORDERS") for n in r.notes)


def test_holm_sequential_bayesian_and_level_by_hand():
    """Three arms: each treatment's p-value Holm-adjusted over the two; the sequential
    interval is the normal mixture's (Howard et al. 2021, eq. 14) around the same lift;
    P(beats control) = Φ(lift / se); a 90% level narrows every interval."""
    a, o = _experiment(n=400, seed=16, lift=0.15, arms=("control", "b", "c"))
    ws = _workspace(a, o)
    kw = {"use_cuped": False, "relative": False}
    t = aovlab.abtest(ws, **kw, bayesian=True).table
    ref = _units(a, o)
    y = {v: g["r"].to_numpy() for v, g in ref.groupby("variant")}
    ps = {v: stats.ttest_ind(y[v], y["control"], equal_var=False).pvalue for v in ("b", "c")}
    lo, hi = sorted(ps, key=ps.get)
    want = {lo: min(1, 2 * ps[lo])}
    want[hi] = max(want[lo], min(1, ps[hi]))
    for v in ("b", "c"):
        row = _row(t, "revenue_per_unit", v)
        assert row["p"] == pytest.approx(ps[v], rel=1e-7)
        assert row["p_adjusted"] == pytest.approx(want[v], rel=1e-7)
        se = math.sqrt(y[v].var(ddof=1) / len(y[v]) + y["control"].var(ddof=1) / 400)
        assert row["chance_to_beat"] == pytest.approx(stats.norm.cdf(row["lift"] / se),
                                                      rel=1e-9)
    seq = _row(aovlab.abtest(ws, **kw, sequential=True).table, "revenue_per_unit", "b")
    fixed = _row(t, "revenue_per_unit", "b")
    b, c0 = y["b"], y["control"]
    se = math.sqrt(b.var(ddof=1) / len(b) + c0.var(ddof=1) / len(c0))
    n, alpha = len(b) + len(c0), 0.05
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / 5000
    sigma = se * math.sqrt(n)
    half = sigma * math.sqrt(2 * (n * rho2 + 1) / (n * n * rho2)
                             * math.log(math.sqrt(n * rho2 + 1) / alpha))
    assert seq["lift"] == pytest.approx(fixed["lift"], rel=1e-12)
    assert seq["lift_high"] - seq["lift"] == pytest.approx(half, rel=1e-9)
    assert seq["method"] == "welch+sequential" and seq["p"] >= fixed["p"]
    ninety = aovlab.abtest(ws, **kw, level=0.9).table
    for m in ("aov", "revenue_per_unit"):
        w95, w90 = _row(t, m, "b"), _row(ninety, m, "b")
        assert w90["value_high"] - w90["value_low"] == pytest.approx(
            (w95["value_high"] - w95["value_low"]) * stats.t.ppf(0.95, 399)
            / stats.t.ppf(0.975, 399), rel=1e-9)
        assert w90["lift_high"] - w90["lift_low"] < w95["lift_high"] - w95["lift_low"]


def test_window_and_end_bound_the_outcomes_and_the_units():
    a, o = _experiment(n=200, seed=17)
    ws = _workspace(a, o)
    t = aovlab.abtest(ws, window_days=3, use_cuped=False).table
    oo = o[o["status"] == "placed"].copy()
    oo["created_at"] = pd.to_datetime(oo["created_at"], utc=True)
    m = a.assign(first_exposure=pd.to_datetime(a["first_exposure"], utc=True)).merge(
        oo, left_on="unit_id", right_on="customer_id")
    keep = (m["created_at"] >= m["first_exposure"]) & (
        m["created_at"] < m["first_exposure"] + pd.Timedelta(days=3))
    r = m[keep].groupby("unit_id")["gross_sales"].sum()
    per = a.set_index("unit_id").join(r).fillna({"gross_sales": 0.0})
    for v, g in per.groupby("variant"):
        assert _row(t, "revenue_per_unit", v)["value"] == pytest.approx(
            g["gross_sales"].mean(), rel=1e-9)
    # with an end: only units exposed by then, only their orders up to it
    end = pd.Timestamp("2024-03-02")
    r2 = aovlab.abtest(ws, end="2024-03-02", use_cuped=False)
    exposed = pd.to_datetime(a["first_exposure"], utc=True).dt.date <= end.date()
    assert r2.tables["arms"]["units"].sum() == exposed.sum()
    keep2 = (m["created_at"] >= m["first_exposure"]) & (m["created_at"].dt.date <= end.date())
    assert r2.tables["arms"]["orders"].sum() == keep2.sum()


def test_planned_shares_see_a_lost_arm_and_bad_shares_are_refused():
    a, o = _experiment(n=200, seed=18)
    ws = _workspace(a, o)
    r = aovlab.abtest(ws, shares={"control": 1, "treatment": 1, "gone": 1})
    assert r.meta["srm_flagged"] and "gone 0" in r.notes[0]
    with pytest.raises(DefinitionError, match="positive"):
        aovlab.abtest(ws, shares={"control": 1, "treatment": 0})
    with pytest.raises(DefinitionError, match="no planned share"):
        aovlab.abtest(ws, shares={"control": 1})


def test_metrics_the_data_cannot_give_are_left_out_and_said():
    a, o = _experiment(n=100, seed=19)
    o = o.assign(cost=None, units=None)
    ws = _workspace(a, o)
    r = aovlab.abtest(ws)
    assert not {"units_per_order", "margin_per_unit", "visit_rate"} & set(r.table["metric"])
    assert any("not measured: units_per_order, margin_per_unit" in n for n in r.notes)
    empty = aovlab.abtest(ws, metrics_wanted=("margin_per_unit",))
    assert empty.table.empty and any("none of the metrics" in n for n in empty.notes)


def test_assignments_from_parquet_keep_their_instants(tmp_path):
    when = pd.to_datetime(["2024-03-01 10:30", "2024-03-02 23:00"])
    df = pd.DataFrame({"experiment": "e", "unit_id": ["a", "b"], "variant": ["control", "b"],
                       "first_exposure": when.tz_localize("Europe/Berlin")})
    df.to_parquet(tmp_path / "aware.parquet")
    df.assign(first_exposure=when).to_parquet(tmp_path / "naive.parquet")
    want = [pd.Timestamp("2024-03-01 09:30", tz="UTC"), pd.Timestamp("2024-03-02 22:00",
                                                                     tz="UTC")]
    for name, opts in (("aware", {}), ("naive", {"timezone": "Europe/Berlin"})):
        ws = aovlab.Workspace(":memory:")
        aovlab.import_files(ws, tmp_path / f"{name}.parquet", **opts)
        got = [r[0] for r in ws.con.execute(
            "SELECT first_exposure FROM assignments ORDER BY unit_id").fetchall()]
        assert got == want, name
