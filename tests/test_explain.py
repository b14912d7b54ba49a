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


def test_funnel_split_with_traffic():
    ws = workspace_with(two_period_store())
    ws.con.execute("INSERT INTO traffic VALUES ('ga4','2024-01-15','web','(not set)',"
                   "'(not set)',200,150,NULL,NULL,NULL,NULL), ('ga4','2024-02-15','web',"
                   "'(not set)','(not set)',"
                   "100,90,NULL,NULL,NULL,NULL)")
    x = explain(ws, "2024-01-01:2024-01-31", "2024-02-01:2024-02-29")
    funnel = x.factors[x.factors.identity == "funnel"]
    assert funnel.effect.sum() == pytest.approx(300 - 350)
    assert funnel.set_index("component").loc["conversion rate", "base"] == pytest.approx(4 / 200)
    assert check_additivity(x)


def test_errors():
    ws = workspace_with(two_period_store())
    with pytest.raises(DefinitionError):
        explain(ws, "2024-01-01", "2024-02-01:2024-02-29")
    with pytest.raises(DefinitionError):
        explain(ws, "2024-01-31:2024-01-01", "2024-02-01:2024-02-29")
    with pytest.raises(NoDataError):
        explain(ws, "2023-01-01:2023-01-31", "2024-02-01:2024-02-29")
