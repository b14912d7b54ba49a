"""The store owner's language: labels through gettext catalogs, numbers, dates and money
formatted by Babel (CLDR).

The catalogs are the ``.po`` files in ``report/locales/<code>/LC_MESSAGES/aovlab.po``, read
as they are shipped (compiled to a ``.mo`` in memory, so there is no build step to forget);
English is the source language and needs none. Persian is written right to left: the page
says ``dir="rtl"`` and the charts keep their left-to-right axes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from ..errors import AovlabError
from .terminal import is_missing

#: The languages the report and the dashboard speak: English and those of the source articles.
LOCALES = ("en", "de", "fa", "ro", "zh_TW")
DEFAULT_LOCALE = "en"
_RTL = {"fa"}


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    """Marks ``message`` for the catalogs without translating it here."""
    return message


@cache
def _translations(code: str):
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import NullTranslations, Translations

    if code == DEFAULT_LOCALE:
        return NullTranslations()
    po = resources.files("aovlab.report").joinpath("locales", code, "LC_MESSAGES", "aovlab.po")
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def check_locale(code: str | None) -> str:
    """``code`` as one of :data:`LOCALES` (``de-DE`` and ``de_AT`` are ``de``; ``zh-Hant``
    and ``zh-TW`` are ``zh_TW``), or a clean error listing them."""
    if code is None or code == "":
        return DEFAULT_LOCALE
    from babel import Locale, UnknownLocaleError

    tag = str(code).replace("-", "_")
    try:
        parsed = Locale.parse(tag)
    except (UnknownLocaleError, ValueError, TypeError):
        try:  # de-US, fa-US: CLDR has no such pair, the language is what counts
            parsed = Locale.parse(tag.split("_")[0]) if tag.split("_")[0].isalpha() else None
        except (UnknownLocaleError, ValueError, TypeError):
            parsed = None
    if parsed is not None:
        if parsed.language == "zh" and (parsed.territory in ("TW", "HK", "MO")
                                        or parsed.script == "Hant"):
            return "zh_TW"
        if parsed.language in LOCALES:
            return parsed.language
    raise AovlabError(f"locale {code!r} is not one aovlab speaks",
                      fix=f"use one of {', '.join(LOCALES)}")


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`LOCALES` for a browser's ``Accept-Language`` header (English when
    none fits or the header is malformed)."""
    wanted = []
    for part in (accept_language or "").split(",")[:20]:
        tag, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if tag and tag != "*" and 0 < q <= 1:  # q=0: "not this one"
            wanted.append((q, tag))
    for _, tag in sorted(wanted, key=lambda w: -w[0]):
        try:
            return check_locale(tag)
        except AovlabError:
            continue
    return DEFAULT_LOCALE


@dataclass(frozen=True)
class Speaker:
    """Translations and number formats of one locale; what the renderers write with."""

    code: str = DEFAULT_LOCALE

    @classmethod
    def of(cls, code: str | None) -> Speaker:
        return cls(check_locale(code))

    @property
    def translations(self) -> Any:
        return _translations(self.code)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    @property
    def direction(self) -> str:
        return "rtl" if self.code in _RTL else "ltr"

    @property
    def html_lang(self) -> str:
        return self.code.replace("_", "-")

    def money(self, value: float, currency: str) -> str:
        from babel.numbers import format_currency

        if is_missing(value):
            return "–"
        try:
            return format_currency(value, currency, locale=self.code)
        except (ValueError, TypeError):  # not an ISO code Babel knows: the number and the code
            return f"{self.number(value, 2)} {currency}"

    def signed_money(self, value: float) -> str:
        from babel.numbers import format_decimal

        if is_missing(value):
            return "–"
        return format_decimal(value, "+#,##0.00;-#,##0.00", locale=self.code)

    def number(self, value: float, digits: int = 2) -> str:
        from babel.numbers import format_decimal

        if is_missing(value):
            return "–"
        return format_decimal(value, "#,##0." + "0" * digits if digits else "#,##0",
                              locale=self.code)

    def count(self, value: float) -> str:
        return self.number(value, 0)

    def percent(self, value: float, digits: int = 1, *, signed: bool = False) -> str:
        from babel.numbers import format_percent

        if is_missing(value):
            return "–"
        body = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
        return format_percent(value, f"+{body};-{body}" if signed else body, locale=self.code)

    def date(self, value: date | str) -> str:
        from babel.dates import format_date

        return format_date(_as_date(value), "medium", locale=self.code)

    def date_range(self, start: date | str, end: date | str) -> str:
        from babel.dates import format_interval

        return format_interval(_as_date(start), _as_date(end), "yMMMd", locale=self.code)

    def separators(self) -> str:
        """Plotly's ``layout.separators``: the decimal, then the thousands symbol."""
        from babel.numbers import get_decimal_symbol, get_group_symbol

        return get_decimal_symbol(self.code) + get_group_symbol(self.code)


def _as_date(value: date | str) -> date:
    import pandas as pd

    return pd.Timestamp(value).date()

