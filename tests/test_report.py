"""The offline HTML report: self-contained, in the store owner's language, sections only
where the data has them, and every number the same as the analyses'."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from tests.conftest import shared_file
from tests.test_cli import aovlab as run_cli

import aovlab
from aovlab.errors import CurrencyMixError
from aovlab.report.html import report
from aovlab.report.locale import Speaker

EN = Speaker()


@pytest.fixture(scope="module")
def uci():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_files(ws, shared_file("online_retail", "online_retail.parquet"))
    return ws


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def test_the_report_works_offline_and_names_its_definition(uci):
    html = report(uci)
    # no request of any kind: no external script, stylesheet, image, font or frame
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(?!data:)', html)
    assert "@import" not in html and "cdn.plot.ly" not in html.split("<script>", 1)[0]
    assert get_plotlyjs()[:200] in html  # Plotly's JavaScript, inlined once
    assert html.count(get_plotlyjs()[:200]) == 1
    assert _sections(html) == ["trend", "histogram", "threshold", "why", "by-country",
                               "by-customer_type", "by-product", "cohorts", "segments",
                               "notes"]  # no traffic: no funnel; one channel; UCI's £300
    # free-delivery threshold
    figures = re.findall(r'<script type="application/json" id="figure-[^"]+">(.*?)</script>',
                         html, re.S)
    titles = [json.loads(f)["layout"]["title"]["text"] for f in figures]
    assert len(titles) == 9 and all(t.endswith("— net definition") for t in titles)
    assert f"Orders {EN.date_range('2010-12-01', '2011-12-09')}, GBP." in html


def test_the_cards_are_the_last_whole_month_with_its_changes(uci):
    html = report(uci)
    k = aovlab.kpis(uci, last="month").table.iloc[0]
    assert f'<h2 id="period">{EN.date_range("2011-11-01", "2011-11-30")}</h2>' in html
    card = re.search(r'data-kpi="aov"[^>]*>(.*?)</div>\s*</div>', html, re.S).group(1)
    assert f"£{k.aov:,.2f}" in card and f"{k.aov_pop_pct:+.1%} vs previous period" in card
    assert "no earlier data vs a year earlier" in card  # no November 2010
    assert "within noise" in card or "beyond noise" in card
    orders = re.search(r'data-kpi="orders"[^>]*>(.*?)</div>\s*</div>', html, re.S).group(1)
    assert f"{int(k.orders):,}" in orders
    assert "partial" in html  # December 2011 (9 days) is marked in the trend


def _figure(html: str, key: str) -> dict:
    block = re.search(rf'<script type="application/json" id="figure-{key}">(.*?)</script>',
                      html, re.S)
    return json.loads(block.group(1))


def test_the_customers_section_draws_the_cohorts_and_segments_the_library_gives(uci):
    html = report(uci)
    tri = _figure(html, "cohorts")["data"][0]
    c = aovlab.cohorts(uci).tables["cohorts"].set_index(["cohort", "months"])["retention"]
    # UCI: first orders 2010-12 to 2011-12; month 0 (100%) is left out, and with it
    # 2011-12, which has no later month yet
    assert tri["y"] == ["2010-12", *(f"2011-{m:02d}" for m in range(1, 12))]
    assert tri["x"] == [str(m) for m in range(1, 13)]
    assert tri["z"][0][0] == pytest.approx(100 * c[("2010-12", 1)])
    assert tri["z"][3][4] == pytest.approx(100 * c[("2011-03", 5)])
    assert tri["z"][11][1:] == [None] * 11  # 2011-11 has only its month 1
    assert tri["z"][1][11] is None  # 2011-01 no month 12
    seg = _figure(html, "segments")["data"]
    t = aovlab.segments(uci).tables["segments"]
    assert seg[0]["y"] == list(t["segment"])  # English labels are the keys
    assert seg[1]["x"] == pytest.approx(list(100 * t["revenue_share"]))
    assert sum(seg[0]["x"]) == pytest.approx(100)
    top = t.sort_values("revenue_share").iloc[-1]
    assert f"{top['segment']}: {top['customer_share']:.1%} of customers" in html
    de = report(uci, locale="de")
    assert ">Kohorten<" in de and ">Kundensegmente<" in de  # the sections, in German


def test_a_store_of_guests_has_no_customers_section_but_says_why():
    ws = aovlab.Workspace(":memory:")
    days = pd.date_range("2024-01-01", periods=60, freq="2D").astype(str)
    aovlab.import_frame(ws, pd.DataFrame({
        "order_id": [f"o{i}" for i in range(60)], "created_at": days,
        "total": [20.0 + i % 7 for i in range(60)]}), currency="EUR")
    html = report(ws)
    assert "cohorts" not in _sections(html) and "segments" not in _sections(html)
    assert "cohorts are left out: no customer with an id" in html
    assert "customer segments are left out" in html


def test_traffic_adds_the_funnel_and_conversion():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_files(ws, shared_file("ga4_sample"))
    html = report(ws)
    assert "funnel" in _sections(html) and "by-device" in _sections(html)
    k = aovlab.kpis(ws).table.iloc[0]
    assert f"{k.session_conversion_rate:.2%}" in html
    assert 'data-kpi="session_conversion_rate"' in html


def test_data_from_the_store_is_escaped_and_one_currency_is_required(tmp_path):
    ws = aovlab.Workspace(":memory:")
    days = pd.date_range("2024-01-01", periods=40, freq="5D").astype(str)
    aovlab.import_frame(ws, pd.DataFrame({
        "order_id": [f"o{i}" for i in range(40)], "created_at": days,
        "total": [10.0 + i for i in range(40)],
        "channel": ["</script><script>alert(1)</script>", "web"] * 20}), currency="EUR")
    html = report(ws, title="<b>Shop</b>")
    assert "</script><script>alert(1)" not in html and "<b>Shop</b>" not in html
    aovlab.import_frame(ws, pd.DataFrame({"order_id": ["u1"], "created_at": ["2024-02-01"],
                                          "total": [5.0]}), currency="USD", source="us")
    with pytest.raises(CurrencyMixError, match="one currency") as info:
        report(ws)
    assert "--currency" in info.value.fix
    assert "by-source" not in _sections(report(ws, currency="EUR"))


def test_the_cli_writes_the_report_and_never_onto_the_workspace(tmp_path):
    path = shared_file("shopify", "au_store_orders_export.csv")
    assert run_cli("import", str(path), "--currency", "AUD", "-w", "ws.duckdb",
                   cwd=tmp_path).returncode == 0
    res = run_cli("report", "-w", "ws.duckdb", "-o", "r.html", cwd=tmp_path)
    assert res.returncode == 0 and "works offline" in res.stderr, res.stderr
    html = (tmp_path / "r.html").read_text()
    assert "by-region" in _sections(html) and "AUD" in html
    res = run_cli("report", "-w", "ws.duckdb", "-o", "r.html", cwd=tmp_path)
    assert res.returncode == 2 and "--force" in res.stderr
    res = run_cli("report", "-w", "ws.duckdb", "-o", "ws.duckdb", cwd=tmp_path)
    assert res.returncode == 2 and "workspace itself" in res.stderr


def test_charts_are_exported_as_png_and_svg_through_chromium(tmp_path):
    from tests.fixtures import shop_lines

    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, shop_lines(), kind="lines", currency="EUR")
    html = report(ws, charts_dir=tmp_path / "charts", locale="de")
    keys = [k for k in _sections(html) if k != "notes"]
    files = sorted(p.name for p in (tmp_path / "charts").iterdir())
    assert files == sorted(f"{k}.{ext}" for k in keys for ext in ("png", "svg"))
    assert (tmp_path / "charts" / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "charts" / "histogram.svg").read_text()
    assert svg.startswith("<svg") and "Definition net" in svg and "Bestellwerte" in svg
    with pytest.raises(aovlab.AovlabError, match="exists already"):
        report(ws, charts_dir=tmp_path / "charts")
    (tmp_path / "file").write_text("x")
    with pytest.raises(aovlab.AovlabError, match="is a file"):
        report(ws, charts_dir=tmp_path / "file")


def test_every_table_of_the_report_has_a_download_label(uci):
    """The dashboard names each table's download: a table the report gains (the threshold's
    candidates) without a label broke the page once."""
    from aovlab.query import Selection
    from aovlab.report.gather import gather
    from aovlab.web.dashboard import DOWNLOAD_LABELS

    names = set(gather(uci, Selection.of(None)).tables())
    assert "threshold" in names
    assert {n for n in names if not n.startswith("by-")} <= set(DOWNLOAD_LABELS)
