"""aovlab serve: the same numbers as the library, safe by default, cached per workspace
version (an import invalidates the cache)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from tests.fixtures import tiny_orders
from tests.test_cli import aovlab as run_cli

import aovlab

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx's successor
    from fastapi.testclient import TestClient

from aovlab.web import create_app


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
    assert "default-src 'none'" in r.headers["content-security-policy"]
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
