"""Why AOV moved: hand-computed decompositions that add up exactly."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import engine_for
from tests.fixtures import workspace_with

from aovlab import DefinitionError, NoDataError, explain
from aovlab.analyses.explain import check_additivity
from aovlab.stats import mix_rate, shapley3


def two_period_store() -> pd.DataFrame:
    # January: web 3 orders of 100, app 1 order of 50.  AOV 87.5
    # February: web 1 order of 120, app 3 orders of 60.   AOV 75
    rows = [(f"j{i}", "2024-01-10 10:00", "web", 100.0, 2) for i in range(3)]
    rows += [("j9", "2024-01-11 10:00", "app", 50.0, 1)]
    rows += [("f1", "2024-02-10 10:00", "web", 120.0, 2)]
    rows += [(f"f{i}", "2024-02-11 10:00", "app", 60.0, 3) for i in range(2, 5)]
    return pd.DataFrame(rows, columns=["order_id", "created_at", "channel", "gross_sales",
                                       "units"])


def test_hand_computed_mix_and_rate(engine_name):
    ws = workspace_with(two_period_store())
    x = explain(ws, "2024-01-01:2024-01-31", ("2024-02-01", "2024-02-29"), by="channel",
                engine=engine_for(ws, engine_name))
    assert (x.aov_base, x.aov_compare) == (pytest.approx(87.5), pytest.approx(75.0))
    seg = x.segments.set_index("channel")
    # mix is centred on the mean overall AOV (87.5 + 75) / 2 = 81.25:
    # web: shares 0.75 -> 0.25, AOV 100 -> 120: mix = -0.5 * (110 - 81.25) = -14.375,
    # rate = 0.5 * 20 = 10
    assert seg.loc["web", "mix_effect"] == pytest.approx(-14.375)
    assert seg.loc["web", "rate_effect"] == pytest.approx(10.0)
    # app: shares 0.25 -> 0.75, AOV 50 -> 60, below the overall AOV: its growing share
    # pulled AOV down, mix = 0.5 * (55 - 81.25) = -13.125 (against zero it would be +27.5)
    assert seg.loc["app", "mix_effect"] == pytest.approx(-13.125)
    assert seg.loc["app", "rate_effect"] == pytest.approx(5.0)
    assert x.mix_effect + x.rate_effect == pytest.approx(x.change)  # -27.5 + 15 = -12.5
    f = x.factors.set_index("component")
    # units per order 7/4 -> 11/4, price per unit 50 -> 300/11
    assert f.loc["units per order", "effect"] + f.loc["average unit price", "effect"] == \
        pytest.approx(-12.5)
    assert check_additivity(x)
    assert list(x.top(1).channel) == ["app"]  # total -8.125 against web's -4.375


def test_a_new_low_aov_segment_has_a_negative_mix_effect():
    # web 100 orders at 100; then web 80 at 100 and a new channel 20 at 10: AOV 100 -> 82.
    # The new channel pulled AOV down by most of the 18: centred mix 0.2 * (10 - 91) = -16.2.
    parts = mix_rate([100, 0], [10_000, 0], [80, 20], [8_000, 200])
    assert parts[1].mix_effect == pytest.approx(-16.2)
    assert parts[0].mix_effect == pytest.approx(-0.2 * (100 - 91))
    assert sum(p.total_effect for p in parts) == pytest.approx(-18.0)


def test_segment_in_one_period_only_is_all_mix():
    parts = mix_rate([2, 0], [200, 0], [1, 1], [100, 300])
    assert parts[1].rate_effect == 0
    assert sum(p.total_effect for p in parts) == pytest.approx(200 - 100)


def test_shapley3_is_exact():
    a, b, c = (100.0, 150.0), (0.02, 0.025), (80.0, 70.0)
    parts = shapley3(a, b, c)
    assert sum(parts) == pytest.approx(150 * 0.025 * 70 - 100 * 0.02 * 80)
    # a factor that does not move gets nothing
    assert shapley3((5.0, 5.0), b, c)[0] == 0


def test_funnel_split_with_traffic(engine_name):
    ws = workspace_with(two_period_store())
    ws.con.execute("INSERT INTO traffic VALUES ('ga4','2024-01-15','web','(not set)',"
                   "'(not set)',200,150,NULL,NULL,NULL,NULL), ('ga4','2024-02-15','web',"
                   "'(not set)','(not set)',"
                   "100,90,NULL,NULL,NULL,NULL)")
    x = explain(ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29",
                engine=engine_for(ws, engine_name))
    funnel = x.factors[x.factors.identity == "funnel"].set_index("component")
    # revenue 350 -> 300: sessions 200 -> 100, conversion 4/200 -> 4/100, AOV 87.5 -> 75
    assert funnel.effect.sum() == pytest.approx(300 - 350, abs=1e-9)
    assert funnel.loc["sessions", ["base", "compare"]].tolist() == [200, 100]
    assert funnel.loc["conversion rate", ["base", "compare"]].tolist() == pytest.approx(
        [4 / 200, 4 / 100])
    assert funnel.loc["aov", ["base", "compare"]].tolist() == pytest.approx([87.5, 75.0])


def test_errors():
    ws = workspace_with(two_period_store())
    with pytest.raises(DefinitionError):
        explain(ws, "2024-01-01", "2024-02-01:2024-02-29")
    with pytest.raises(DefinitionError):
        explain(ws, "2024-01-31:2024-01-01", "2024-02-01:2024-02-29")
    with pytest.raises(NoDataError):
        explain(ws, "2023-01-01:2023-01-31", "2024-02-01:2024-02-29")


def _guest_store(base: list[float], compare: list[float]):
    """One order per customer: the AOV interval is the interval of a mean."""
    import aovlab

    rows = [{"order_id": f"a{i}", "customer_id": f"ca{i}", "created_at": "2024-01-10 10:00",
             "total": v} for i, v in enumerate(base)]
    rows += [{"order_id": f"b{i}", "customer_id": f"cb{i}", "created_at": "2024-02-10 10:00",
              "total": v} for i, v in enumerate(compare)]
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, pd.DataFrame(rows), currency="EUR")
    return ws


@pytest.mark.parametrize(("base", "compare", "beyond"), [
    ([10.0, 12, 9, 11, 10, 13, 8, 12], [30.0, 28, 33, 31, 29, 35, 30, 27], True),
    ([10.0, 12, 9, 11, 10, 13, 8, 12], [11.0, 9, 12, 10, 13, 9, 10, 11, 12], False),
])
def test_explain_says_whether_the_change_is_beyond_noise(base, compare, beyond, engine_name):
    """With one order per customer the interval of the change is Welch's interval of a
    difference of means (scipy.stats.ttest_ind, equal_var=False)."""
    from scipy import stats as st

    ws = _guest_store(base, compare)
    x = explain(ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29", definition="total",
                engine=engine_for(ws, engine_name))
    ci = st.ttest_ind(compare, base, equal_var=False).confidence_interval(0.95)
    assert (x.meta["change_ci_low"], x.meta["change_ci_high"]) == pytest.approx(
        (ci.low, ci.high), rel=1e-9)
    assert x.beyond_noise is beyond and x.to_dict()["headline"]["beyond_noise"] is beyond


def test_explain_gives_no_verdict_below_the_minimum_of_units():
    ws = _guest_store([10.0, 20.0], [30.0, 40.0, 50.0, 60.0, 70.0])
    x = explain(ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29", definition="total")
    assert x.beyond_noise is None and x.change == pytest.approx(35.0)


def test_explain_notes_say_exactly_what_is_missing():
    ws = _guest_store([10.0, 12, 9, 11, 10], [30.0, 28, 33, 31, 29])
    x = explain(ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29")
    assert any(n.startswith("no order has units") for n in x.notes), x.notes
    assert any(n.startswith("the workspace has no traffic") for n in x.notes), x.notes
    ws.con.execute("INSERT INTO traffic VALUES ('ga4','2024-01-15','web','(not set)',"
                   "'(not set)',200,150,NULL,NULL,NULL,NULL)")
    x = explain(ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29")
    assert "no sessions in the compare period 2024-02-01..2024-02-29: no sessions × " \
           "conversion × AOV split" in x.notes, x.notes


def test_explain_json_is_valid_json_even_without_an_interval():
    """A period of too few units has no interval: null in JSON, never NaN."""
    import json

    ws = _guest_store([10.0, 20.0], [30.0, 40.0, 50.0, 60.0, 70.0])
    x = explain(ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29", definition="total")
    d = json.loads(x.to_json(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert d["headline"]["change_ci_low"] is None and d["headline"]["beyond_noise"] is None
