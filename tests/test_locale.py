"""The report in the store owner's language: every message translated in every catalog,
numbers, dates and money formatted by CLDR (Babel), Persian right to left."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from tests.fixtures import shop_lines

import aovlab
from aovlab.errors import AovlabError
from aovlab.report.html import report
from aovlab.report.locale import LOCALES, Speaker, check_locale, negotiate

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")


def _extracted():
    spec = importlib.util.spec_from_file_location("update_catalogs",
                                                  ROOT / "scripts" / "update_catalogs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [m.id for m in mod.template() if m.id]


@pytest.mark.parametrize("code", [c for c in LOCALES if c != "en"])
def test_every_message_is_translated_with_the_same_placeholders(code):
    po = ROOT / "src" / "aovlab" / "report" / "locales" / code / "LC_MESSAGES" / "aovlab.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    wanted = _extracted()
    assert len(wanted) > 60  # the extraction found the report's and dashboard's messages
    for msgid in wanted:
        entry = catalog.get(msgid)
        assert entry is not None and entry.string, f"{code}: {msgid!r} is not translated"
        assert sorted(PLACEHOLDER.findall(entry.string)) == sorted(
            PLACEHOLDER.findall(msgid)), f"{code}: {msgid!r} → {entry.string!r}"
    # and nothing the code no longer uses lingers (run scripts/update_catalogs.py)
    assert {m.id for m in catalog if m.id} == set(wanted)


def test_locales_are_parsed_and_negotiated():
    assert [check_locale(c) for c in ("de-DE", "de_AT", "zh-TW", "zh-Hant", "fa-IR", "ro",
                                      None, "")] == ["de", "de", "zh_TW", "zh_TW", "fa", "ro",
                                                     "en", "en"]
    with pytest.raises(AovlabError, match="not one aovlab speaks") as info:
        check_locale("pt-BR")
    assert "zh_TW" in info.value.fix
    for bad in ("../../etc/passwd", "x" * 300, "de\x00"):
        with pytest.raises(AovlabError):
            check_locale(bad)
    assert negotiate("fr-FR,fr;q=0.9,de;q=0.8,en;q=0.5") == "de"
    assert negotiate("zh-TW,zh;q=0.9") == "zh_TW"
    assert negotiate("zh-CN") == "en"  # Simplified Chinese is not Traditional
    assert negotiate("*;q=bad,,;;") == "en" and negotiate(None) == "en"
    assert negotiate("fr, de;q=0") == "en"  # q=0: not German
    assert negotiate("fr;level=1;q=0.9, ro;q=0.4") == "ro"
    assert check_locale("de-US") == "de" and check_locale("fa-US") == "fa"


def test_money_numbers_and_dates_follow_cldr():
    de, en, ro, zh = (Speaker.of(c) for c in ("de", "en", "ro", "zh_TW"))
    assert de.money(1234.5, "EUR") == "1.234,50\xa0€"
    assert en.money(1234.5, "EUR") == "€1,234.50"
    assert ro.money(1234.5, "RON") == "1.234,50\xa0RON"
    assert de.percent(0.1234, signed=True) == "+12,3\xa0%" or de.percent(
        0.1234, signed=True) == "+12,3%"
    assert en.count(2769) == "2,769" and de.count(2769) == "2.769"
    assert de.date("2011-11-30") == "30.11.2011"
    assert zh.date("2011-11-30") == "2011年11月30日"
    assert de.separators() == ",." and en.separators() == ".,"
    assert en.money(float("nan"), "EUR") == "–"
    assert en.money(5.0, "XYZ")  # a code CLDR does not know still prints
    assert Speaker.of("fa").direction == "rtl" and de.direction == "ltr"


@pytest.fixture(scope="module")
def shop():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, shop_lines(), kind="lines", currency="EUR")
    return ws


def test_the_report_speaks_german_and_persian(shop):
    k = aovlab.kpis(shop, last="month").table.iloc[0]
    de = report(shop, locale="de", last="month")
    assert '<html lang="de" dir="ltr">' in de and "<title>AOV-Bericht</title>" in de
    assert "Warum sich der AOV bewegt hat" in de
    figures = [json.loads(f) for f in re.findall(
        r'<script type="application/json" id="figure-[^"]+">(.*?)</script>', de, re.S)]
    assert all(f["layout"]["title"]["text"].endswith("— Definition net") for f in figures)
    assert Speaker.of("de").money(k.aov, "EUR") in de  # 1.234,56 €
    assert {f["layout"]["separators"] for f in figures} == {",."}  # the charts' numbers too
    fa = report(shop, locale="fa")
    assert '<html lang="fa" dir="rtl">' in fa and "روند" in fa
    assert fa.count('<div dir="ltr"><div class="plot"') == len(
        re.findall(r'<section id="(?!notes)', fa))  # each chart keeps its axes
    zh = report(shop, locale="zh_TW")
    assert '<html lang="zh-TW"' in zh and "AOV 為何變動" in zh
    with pytest.raises(AovlabError, match="not one aovlab speaks"):
        report(shop, locale="klingon")
