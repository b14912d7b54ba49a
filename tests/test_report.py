"""The offline HTML report: self-contained, in the store owner's language, sections only
where the data has them, and every number the same as the analyses'."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from tests.conftest import shared_file
from tests.test_cli import aovlab as run_cli

import aovlab
from aovlab.errors import CurrencyMixError
from aovlab.report.html import report


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
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)=', html)
    assert "@import" not in html and "cdn.plot.ly" not in html.split("<script>", 1)[0]
    assert get_plotlyjs()[:200] in html  # Plotly's JavaScript, inlined once
    assert html.count(get_plotlyjs()[:200]) == 1
    assert _sections(html) == ["trend", "histogram", "why", "by-country", "by-customer_type",
                               "notes"]  # no traffic: no funnel; one channel: no channel bars
    charts = re.findall(r'"text":"([^"]*definition)"', html)
    assert len(charts) >= 5 and all("net definition" in c for c in charts)
    assert "Orders 2010-12-01 .. 2011-12-09, GBP" in html


def test_the_cards_are_the_last_whole_month_with_its_changes(uci):
    html = report(uci)
    k = aovlab.kpis(uci, last="month").table.iloc[0]
    assert "<h2>2011-11-01..2011-11-30</h2>" in html
    card = re.search(r'data-kpi="AOV">(.*?)</div>\s*</div>', html, re.S).group(1)
    assert f"{k.aov:,.2f} GBP" in card and f"{k.aov_pop_pct:+.1%}" in card
    assert "no earlier data</span> vs a year earlier" in card  # no November 2010
    assert "within noise" in card or "beyond noise" in card
    orders = re.search(r'data-kpi="Orders">(.*?)</div>\s*</div>', html, re.S).group(1)
    assert f"{int(k.orders):,}" in orders
    assert "partial" in html  # December 2011 (9 days) is marked in the trend


def test_traffic_adds_the_funnel_and_conversion():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_files(ws, shared_file("ga4_sample"))
    html = report(ws)
    assert "funnel" in _sections(html) and "by-device" in _sections(html)
    k = aovlab.kpis(ws).table.iloc[0]
    assert f"{k.session_conversion_rate:.2%}" in html
    assert 'data-kpi="Session conversion"' in html


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
