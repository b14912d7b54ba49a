"""aovlab serve: the same numbers as the library, safe by default, cached per workspace
version (an import invalidates the cache)."""

from __future__ import annotations

import hashlib
import re
import warnings

import pandas as pd
import pytest
from tests.fixtures import EVIL_PRODUCT, shop_lines, tiny_orders
from tests.test_cli import aovlab as run_cli

import aovlab

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx's successor
    from fastapi.testclient import TestClient as _TestClient

from aovlab.web import create_app


def TestClient(app):  # noqa: N802 - as FastAPI's, on the address the server answers
    return _TestClient(app, base_url="http://127.0.0.1:8000")


@pytest.fixture()
def shop(tmp_path):
    path = tmp_path / "ws.duckdb"
    with aovlab.Workspace(path) as ws:
        aovlab.import_frame(ws, tiny_orders(), currency="EUR")
    return path


def test_the_api_gives_the_librarys_numbers_and_its_openapi(shop):
    c = TestClient(create_app(shop))
    got = c.get("/api/kpis", params={"by": "channel", "period": "month"}).json()
    with aovlab.Workspace(shop, read_only=True) as ws:
        want = aovlab.kpis(ws, by=["channel"], period="month").to_dict()
    assert got["tables"]["kpis"] == want["tables"]["kpis"]
    assert got["meta"]["definition"] == "net"
    x = c.get("/api/explain", params={"base": "2024-01-01:2024-01-31",
                                      "compare": "2024-02-01:2024-02-29"}).json()
    assert x["headline"]["aov_base"] == pytest.approx((90 + 50 + 180 + 30) / 4)
    h = c.get("/api/histogram", params={"bins": 3}).json()
    assert sum(r["orders"] for r in h["tables"]["histogram"]) == 7
    paths = c.get("/openapi.json").json()["paths"]
    assert {"/", "/api/kpis", "/api/histogram", "/api/explain"} <= set(paths)
    page = c.get("/")
    assert page.status_code == 200 and '<section id="trend"' in page.text


def test_bad_input_is_a_400_with_the_fix_and_headers_are_safe(shop):
    c = TestClient(create_app(shop))
    r = c.get("/api/kpis", params={"by": "colour"})
    assert r.status_code == 400 and "unknown dimension" in r.json()["error"]
    assert "group by" in r.json()["fix"]
    r = c.get("/api/kpis", params={"where": "channel web"})
    assert r.status_code == 400 and "DIMENSION=VALUE" in r.json()["error"]
    r = c.get("/api/kpis", params={"format": "xlsx"})
    assert r.status_code == 400
    for h, v in (("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
                 ("referrer-policy", "no-referrer")):
        assert r.headers[h] == v
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp  # no inline script
    assert c.get("/docs").status_code == 404  # Swagger UI would load code from a CDN


def test_downloads_neutralise_spreadsheet_formulas(tmp_path):
    path = tmp_path / "ws.duckdb"
    df = tiny_orders()
    df["channel"] = df["channel"].replace({"web": "=HYPERLINK(\"x\")"})
    with aovlab.Workspace(path) as ws:
        aovlab.import_frame(ws, df, currency="EUR")
    c = TestClient(create_app(path))
    csv = c.get("/api/kpis", params={"by": "channel", "format": "csv"})
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    assert "'=HYPERLINK" in csv.text and "\n=HYPERLINK" not in csv.text
    pq = c.get("/api/kpis", params={"format": "parquet"})
    assert pq.content[:4] == b"PAR1"


def test_results_are_cached_until_an_import_changes_the_workspace(shop):
    app = create_app(shop)
    c = TestClient(app)
    first = c.get("/api/kpis").json()["tables"]["kpis"][0]["orders"]
    c.get("/api/kpis")
    assert (app.state.cache.hits, app.state.cache.misses) == (1, 1)
    with aovlab.Workspace(shop) as ws:  # an import beside the running server
        aovlab.import_frame(ws, pd.DataFrame({"order_id": ["new"], "created_at": ["2024-02-20"],
                                              "total": [10.0]}), currency="EUR")
    again = c.get("/api/kpis").json()["tables"]["kpis"][0]["orders"]
    assert again == first + 1 and app.state.cache.misses == 2


def test_a_token_guards_every_request(shop):
    c = TestClient(create_app(shop, token="s3cret"))
    assert c.get("/api/kpis").status_code == 401
    assert c.get("/api/kpis", params={"token": "wrong"}).status_code == 401
    assert c.get("/api/kpis", params={"token": "s3cret"}).status_code == 200
    assert c.get("/api/kpis", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/openapi.json").status_code == 401


def test_serve_refuses_to_bind_beyond_loopback_without_a_token(shop):
    res = run_cli("serve", "-w", str(shop), "--host", "0.0.0.0", cwd=shop.parent)
    assert res.returncode == 2 and "without a token" in res.stderr and "--token" in res.stderr
    res = run_cli("serve", "-w", str(shop), "--port", "0", cwd=shop.parent)
    assert res.returncode == 2 and "is not a port" in res.stderr


@pytest.fixture()
def lines_shop(tmp_path):
    path = tmp_path / "lines.duckdb"
    with aovlab.Workspace(path) as ws:
        aovlab.import_frame(ws, shop_lines(), kind="lines", currency="EUR")
    return path


def _cards(html: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'data-kpi="(\w+)" data-value="([^"]+)"', html)}


def test_the_dashboard_filters_give_the_librarys_numbers(lines_shop):
    c = TestClient(create_app(lines_shop))
    page = c.get("/").text
    assert re.findall(r'<select name="(\w+)"', page) == [
        "preset", "vs", "channel", "country", "customer_type", "definition", "locale"]
    # no inline script: Plotly and the drawing code are files, the figures JSON data
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))", page) == []
    got = _cards(c.get("/", params={"channel": "web", "preset": "month"}).text)
    with aovlab.Workspace(lines_shop, read_only=True) as ws:
        want = aovlab.kpis(ws, filters={"channel": "web"}, last="month").table.iloc[0]
    assert want["orders"] == 20  # March 2024: 31 days, a third of them app
    assert got == {k: pytest.approx(want[k]) for k in ("aov", "median", "orders", "revenue")}
    de = c.get("/", params={"country": "FR"}, headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de" dir="ltr">' in de.text and "Bestellwerte" in de.text
    fa = c.get("/", params={"locale": "fa"}).text
    assert '<html lang="fa" dir="rtl">' in fa and '<div dir="ltr"><div class="plot"' in fa


def test_every_table_downloads_and_csv_neutralises_formulas(lines_shop):
    c = TestClient(create_app(lines_shop))
    page = c.get("/", params={"country": "DE"}).text
    links = [h.replace("&amp;", "&") for h in re.findall(r'href="(download/[^"]+)"', page)]
    names = {re.match(r"download/([\w-]+)\.", h).group(1) for h in links}
    assert {"kpis", "latest", "trend", "histogram", "by-channel", "by-product", "why"} <= names
    assert all("country=DE" in h for h in links) and len(links) == 3 * len(names)
    csv = c.get("/download/by-product.csv", params={"country": "DE"})
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    assert "'" + EVIL_PRODUCT.replace('"', '""') in csv.text
    assert "\n" + EVIL_PRODUCT not in csv.text and "\n\"=HYPERLINK" not in csv.text
    js = c.get("/download/by-product.json", params={"country": "DE"}).json()
    assert EVIL_PRODUCT in {r["product"] for r in js}  # JSON keeps the name as it is
    with aovlab.Workspace(lines_shop, read_only=True) as ws:
        want = aovlab.kpis(ws, by=["product"], filters={"country": "DE"}).table
    assert sorted(r["orders"] for r in js) == sorted(want["orders"])
    assert c.get("/download/by-product.parquet").content[:4] == b"PAR1"


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("params", [
    {"channel": "web' OR '1'='1"}, {"country": "FR\"; DROP TABLE orders; --"},
    {"channel": "../../etc/passwd"}, {"preset": "month'; SELECT 1"}, {"vs": "../year"},
    {"definition": "net; DELETE FROM orders"}, {"locale": "../../../etc/passwd"},
    {"start": "2024-01-01' OR 1=1"}, {"currency": "EUR' --"}, {"orders; --": "x"},
    {"product": "mug"},  # a parameter the page does not have
])
def test_hostile_filters_are_a_4xx_and_change_nothing(lines_shop, params):
    before = _digest(lines_shop)
    c = TestClient(create_app(lines_shop))
    for url in ("/", "/download/kpis.csv"):
        r = c.get(url, params=params)
        assert r.status_code == 400, (url, r.text)
        assert "Traceback" not in r.text
        if url == "/":  # the dashboard says it as a page, escaped, with no script
            assert "Fix:" in r.text and "<script" not in r.text
            assert "' OR '1'='1" not in r.text and "DROP TABLE orders; --\"" not in r.text
        else:
            assert r.json()["fix"]
    assert _digest(lines_shop) == before


@pytest.mark.parametrize("url", [
    "/download/..%2F..%2Fetc%2Fpasswd.csv", "/download/kpis.exe", "/download/orders.csv",
    "/download/..%2Flines.duckdb", "/static/..%2F..%2Fpyproject.toml", "/static/evil.js",
])
def test_names_outside_the_known_tables_are_a_404(lines_shop, url):
    before = _digest(lines_shop)
    r = TestClient(create_app(lines_shop)).get(url)
    assert r.status_code == 404 and "root:" not in r.text and "[project]" not in r.text
    assert _digest(lines_shop) == before


def test_the_form_and_downloads_carry_the_token(lines_shop):
    c = TestClient(create_app(lines_shop, token="s3cret"))
    page = c.get("/", params={"token": "s3cret"}).text
    assert '<input type="hidden" name="token" value="s3cret">' in page
    link = re.search(r'href="(download/kpis\.csv[^"]*)"', page).group(1).replace("&amp;", "&")
    assert c.get("/" + link).status_code == 200 and "token=s3cret" in link


def test_a_page_elsewhere_pointing_its_name_at_loopback_is_refused(lines_shop):
    app = create_app(lines_shop)
    r = _TestClient(app, base_url="http://evil.example").get("/api/kpis")
    assert r.status_code == 403 and "127.0.0.1" in r.json()["error"]  # DNS rebinding
    assert _TestClient(app, base_url="http://localhost:8000").get("/api/kpis").status_code \
        == 200
    assert _TestClient(app, base_url="http://[::1]:8000").get("/api/kpis").status_code == 200


def test_with_a_token_the_scripts_load_and_any_host_may_ask(lines_shop):
    c = _TestClient(create_app(lines_shop, token="s3cret"), base_url="http://shop.lan")
    assert c.get("/static/aovlab.js").status_code == 200  # public code, no data
    assert c.get("/static/aovlab.js").headers.get("cache-control") == "max-age=3600"
    assert c.get("/").status_code == 401
    basic = {"Authorization": "Basic cHJveHk6cHc="}  # a proxy's own credentials
    r = c.get("/api/kpis", params={"token": "s3cret"}, headers=basic)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert c.get("/api/kpis", headers={"Authorization": "bearer s3cret"}).status_code == 200


def test_the_cards_open_on_the_last_whole_period_of_the_dates_chosen(lines_shop):
    c = TestClient(create_app(lines_shop))
    page = c.get("/", params={"start": "2024-01-01", "end": "2024-02-15"}).text
    with aovlab.Workspace(lines_shop, read_only=True) as ws:
        want = aovlab.kpis(ws, start="2024-02-05", end="2024-02-11", period="week").table
    # 46 days: weeks; the last whole one before 15 February is 5-11 February
    assert _cards(page)["orders"] == want["orders"].iloc[0] == 7
    assert _cards(page)["aov"] == pytest.approx(want["aov"].iloc[0])


def test_a_bug_is_a_clean_500_with_the_security_headers(lines_shop, monkeypatch):
    from aovlab.web import dashboard

    def broken(ws):
        raise ValueError("a bug")
    monkeypatch.setattr(dashboard, "workspace_values", broken)
    r = TestClient(create_app(lines_shop)).get("/")
    assert r.status_code == 500 and r.json()["error"] == "internal error (ValueError)"
    assert "Traceback" not in r.text and r.headers["x-content-type-options"] == "nosniff"


def test_the_api_analyses_an_experiment_as_the_library_does(tmp_path):
    from test_abtest import _experiment, _workspace

    a, o = _experiment(n=80, seed=20)
    _workspace(a, o, str(tmp_path / "x.duckdb")).close()
    c = TestClient(create_app(tmp_path / "x.duckdb"))
    got = c.get("/api/abtest", params={"cap": "p99", "bayesian": "true"}).json()
    with aovlab.Workspace(tmp_path / "x.duckdb", read_only=True) as ws:
        want = aovlab.abtest(ws, cap="p99", bayesian=True).to_dict()
    assert got["tables"]["abtest"] == want["tables"]["abtest"]
    assert got["meta"]["cap"] == pytest.approx(want["meta"]["cap"])
    csv = c.get("/api/abtest", params={"format": "csv", "relative": "false"})
    assert csv.status_code == 200 and csv.text.startswith("metric,variant")
    bad = c.get("/api/abtest", params={"control": "nobody"})
    assert bad.status_code == 400 and "nobody" in bad.json()["error"]
