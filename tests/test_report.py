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
    assert _sections(html) == ["trend", "histogram", "why", "by-country", "by-customer_type",
                               "by-product", "notes"]  # no traffic: no funnel; one channel
    figures = re.findall(r'<script type="application/json" id="figure-[^"]+">(.*?)</script>',
                         html, re.S)
    titles = [json.loads(f)["layout"]["title"]["text"] for f in figures]
    assert len(titles) == 6 and all(t.endswith("— net definition") for t in titles)
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
