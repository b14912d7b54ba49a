"""The dashboard and the offline report in a real browser: Playwright driving Debian's
Chromium by path (``scripts/ensure-chromium.sh`` installs it; Playwright's own browser
downloads are not used). Screenshots are kept in ``test-artifacts/`` (or
``$AOVLAB_ARTIFACTS``)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from tests.conftest import IN_CI, ROOT
from tests.fixtures import EVIL_PRODUCT, shop_lines

import aovlab
from aovlab.importers import bundled_online_retail
from aovlab.report.locale import Speaker

ARTIFACTS = Path(os.environ.get("AOVLAB_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM = os.environ.get("AOVLAB_CHROMIUM") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
# As root in a container, without the sandbox; without the background services, whose
# connections this machine's closed network refuses.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EN = Speaker()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        msg = "Chromium is not installed (apt-get install chromium; make test does it)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Watched:
    """A page whose console errors, uncaught exceptions and network requests are kept."""

    def __init__(self, browser, **context):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900},
                                           accept_downloads=True, **context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def drawn(self) -> int:
        """Wait until every chart is drawn; their number."""
        self.page.wait_for_function(
            "[...document.querySelectorAll('div[data-figure]')].every("
            "d => d.dataset.drawn === 'true' && d.querySelector('svg.main-svg'))",
            timeout=30_000)
        return self.page.locator("div[data-figure]").count()

    def cards(self) -> dict[str, tuple[float, str]]:
        out = {}
        for card in self.page.locator("div.card").all():
            out[card.get_attribute("data-kpi")] = (float(card.get_attribute("data-value")),
                                                   card.locator(".value").inner_text())
        return out

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    def close(self) -> None:
        self.context.close()


def _serve(path: Path, **options):
    import uvicorn

    from aovlab.web import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(path, **options), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with aovlab.Workspace(path) as ws:  # what `aovlab demo` imports
        aovlab.import_files(ws, bundled_online_retail(), "online_retail")
    server, thread, url = _serve(path)
    yield path, url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    path = tmp_path_factory.mktemp("shop") / "shop.duckdb"
    with aovlab.Workspace(path) as ws:
        aovlab.import_frame(ws, shop_lines(), kind="lines", currency="EUR")
    server, thread, url = _serve(path)
    yield path, url
    server.should_exit = True
    thread.join(10)


def _kpis(path: Path, **options):
    with aovlab.Workspace(path, read_only=True) as ws:
        return aovlab.kpis(ws, **options)


def _assert_cards(got: dict, want, currency: str) -> None:
    for kpi in ("aov", "median", "revenue"):
        assert got[kpi][0] == pytest.approx(want[kpi], rel=1e-12), kpi
        assert got[kpi][1] == EN.money(want[kpi], currency), kpi
    assert got["orders"] == (want["orders"], EN.count(want["orders"]))


def test_the_dashboard_loads_on_the_demo_and_filters_to_the_librarys_numbers(browser, demo):
    path, url = demo
    w = Watched(browser)
    w.page.goto(url)
    assert w.page.title() == "AOV report"
    assert w.drawn() >= 5
    whole = _kpis(path, last="month").table.iloc[0]  # the page opens on the last month
    _assert_cards(w.cards(), whole, "GBP")
    w.shot("dashboard-demo")
    w.page.select_option("select[name=country]", "France")
    w.page.select_option("select[name=preset]", "quarter")
    with w.page.expect_navigation():
        w.page.click("form.filters button[type=submit]")
    assert "country=France" in w.page.url and "preset=quarter" in w.page.url
    w.drawn()
    want = _kpis(path, filters={"country": "France"}, last="quarter").table.iloc[0]
    assert want["orders"] != whole["orders"]  # the numbers changed ...
    _assert_cards(w.cards(), want, "GBP")  # ... to exactly the library's
    assert w.page.locator("#period").inner_text() == EN.date_range("2011-07-01",
                                                                    "2011-09-30")
    w.shot("dashboard-demo-france-last-quarter")
    assert w.errors == []
    assert all(r.startswith(url) for r in w.requests)  # nothing left the machine
    w.close()


def test_a_channel_and_a_period_then_a_csv_download(browser, shop, tmp_path):
    path, url = shop
    w = Watched(browser)
    w.page.goto(url)
    w.page.select_option("select[name=channel]", "web")
    w.page.select_option("select[name=preset]", "month")
    with w.page.expect_navigation():
        w.page.click("form.filters button[type=submit]")
    w.drawn()
    want = _kpis(path, filters={"channel": "web"}, last="month").table.iloc[0]
    _assert_cards(w.cards(), want, "EUR")
    w.shot("dashboard-shop-web-last-month")
    link = w.page.locator("#downloads li", has_text="main product").locator("a",
                                                                         has_text="CSV")
    with w.page.expect_download() as info:
        link.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == "by-product.csv"
    text = saved.read_text()
    assert "'" + EVIL_PRODUCT.replace('"', '""') in text  # neutralised: no formula runs
    assert not any(line.lstrip('"').startswith("=") for line in text.splitlines())
    assert w.errors == []
    w.close()


def test_persian_renders_right_to_left_with_readable_charts(browser, shop):
    _path, url = shop
    w = Watched(browser, locale="fa-IR")  # the browser's Accept-Language
    w.page.goto(url)
    assert w.page.evaluate("document.documentElement.dir") == "rtl"
    assert w.page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    h1 = w.page.locator("header h1").bounding_box()
    assert h1["x"] + h1["width"] > 1280 - 60  # the title starts at the right edge
    assert w.drawn() >= 5
    assert w.page.evaluate("getComputedStyle(document.querySelector('.plot')).direction") \
        == "ltr"  # the axes still read left to right
    assert "روند" in w.page.locator("#trend h2").inner_text()
    w.shot("dashboard-fa")
    assert w.errors == []
    w.close()


def test_the_report_opens_offline_from_a_file_with_every_request_blocked(browser, demo,
                                                                          tmp_path):
    path, _url = demo
    out = tmp_path / "report.html"
    with aovlab.Workspace(path, read_only=True) as ws:
        aovlab.html_report(ws, output=out)
    w = Watched(browser)
    blocked: list[str] = []

    def only_the_file(route):  # the file itself loads; any other request is refused
        if route.request.url == out.as_uri():
            return route.continue_()
        blocked.append(route.request.url)
        return route.abort()
    w.context.route("**/*", only_the_file)
    w.page.goto(out.as_uri())
    sections = w.page.locator("section div[data-figure]").count()
    assert w.drawn() == sections >= 5  # every chart drawn, with nothing fetched
    assert blocked == [] and all(r == out.as_uri() or r.startswith("data:")
                                 for r in w.requests), blocked
    _assert_cards(w.cards(), _kpis(path, last="month").table.iloc[0], "GBP")
    w.shot("report-offline")
    assert w.errors == []
    w.close()
