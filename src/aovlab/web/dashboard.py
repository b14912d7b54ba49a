"""The dashboard page: the report with a filter form and a download for every table.

The form is a plain GET form (no script needed): a period preset (the data's last whole
week, month, quarter or year, or the whole history), a date range, what "why AOV moved"
compares with, channel, country, device, customer type, the AOV definition, the currency
and the language. Every value is checked against what the workspace holds before any
query runs: a dimension value the workspace does not have, a preset or a locale that does
not exist, is a 400 — never a query built from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..analyses import dimension_values
from ..errors import AovlabError
from ..query import Selection
from ..report.charts import dimension_label
from ..report.gather import BREAKDOWNS
from ..report.locale import LOCALES, N_, Speaker, check_locale
from ..schema import DEFAULT_DEFINITION, DEFINITIONS, NOT_SET

#: The dimensions the form filters on, and the most values each select lists (the largest).
FILTERS = ("channel", "country", "device", "customer_type")
MAX_OPTIONS = 200
PRESETS = {"": N_("whole history"), "week": N_("last week"), "month": N_("last month"),
           "quarter": N_("last quarter"), "year": N_("last year")}
COMPARE = {"previous": N_("previous period"), "year": N_("a year earlier")}
LANGUAGES = {"en": "English", "de": "Deutsch", "fa": "فارسی", "ro": "Română",
             "zh_TW": "繁體中文"}
#: The query parameters the page reads; any other is refused (a typo must not pass unseen).
PAGE_PARAMS = ("preset", "start", "end", "vs", "definition", "currency", "locale", "token",
               *FILTERS)
DOWNLOAD_FORMATS = ("csv", "json", "parquet")


@dataclass(frozen=True)
class Control:
    """One field of the filter form."""

    name: str
    label: str
    kind: str  # "select" or "date"
    value: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PageQuery:
    """The page's query string, checked: what the report is asked for."""

    preset: str = ""
    start: str = ""
    end: str = ""
    vs: str = "previous"
    definition: str = DEFAULT_DEFINITION
    currency: str = ""
    locale: str = ""
    filters: tuple[tuple[str, str], ...] = ()

    def selection(self) -> Selection:
        return Selection.of(definition=self.definition, start=self.start or None,
                            end=self.end or None, currency=self.currency or None,
                            filters=dict(self.filters))

    def key(self) -> tuple:
        """What the computed report depends on (not the language)."""
        return (self.preset, self.start, self.end, self.vs, self.definition, self.currency,
                self.filters)

    def query_string(self) -> str:
        pairs = [("preset", self.preset), ("start", self.start), ("end", self.end),
                 ("vs", self.vs), ("definition", self.definition),
                 ("currency", self.currency), ("locale", self.locale), *self.filters]
        return urlencode([(k, v) for k, v in pairs if v])


def _one_of(name: str, value: str, allowed: Any) -> str:
    if value not in allowed:  # a set or dict: the check costs nothing for 100,000 products
        shown = ", ".join(repr(a) for a in list(allowed)[:12])
        raise AovlabError(f"{name} {value!r} is not one of this workspace's values",
                          fix=f"use one of {shown}")
    return value


def parse(params: Mapping[str, Any], values: Callable[[str], list[str]]) -> PageQuery:
    """The page's query, every field checked against what may be asked.

    ``values(dim)`` lists the workspace's values of a dimension (``currency`` too).
    """
    unknown = sorted(set(params) - set(PAGE_PARAMS))
    if unknown:
        raise AovlabError(f"the page has no parameter {unknown[0]!r}",
                          fix=f"use {', '.join(PAGE_PARAMS[:-len(FILTERS)])} or a filter "
                              f"({', '.join(FILTERS)})")
    get = {k: str(params.get(k) or "") for k in PAGE_PARAMS}
    preset = _one_of("preset", get["preset"], PRESETS)
    vs = _one_of("vs", get["vs"] or "previous", COMPARE)
    definition = _one_of("definition", get["definition"] or DEFAULT_DEFINITION, DEFINITIONS)
    currency = get["currency"].upper()
    if currency:
        _one_of("currency", currency, values("currency"))
    locale = check_locale(get["locale"]) if get["locale"] else ""
    filters = tuple((dim, _one_of(dim, get[dim], values(dim))) for dim in FILTERS
                    if get[dim])
    q = PageQuery(preset=preset, start=get["start"], end=get["end"], vs=vs,
                  definition=definition, currency=currency, locale=locale, filters=filters)
    q.selection()  # dates are checked by the selection: a bad one is a 400 here
    return q


def controls(q: PageQuery, s: Speaker, values: Callable[[str], list[str]], *,
             token: str | None = None) -> list[Control]:
    """The filter form's fields, with ``q``'s values selected (and the page's ``token``
    carried as a hidden field, so that applying the filters keeps it)."""
    _ = s.gettext
    chosen = dict(q.filters)
    out = [
        Control("preset", _("Period"), "select", q.preset,
                tuple((k, _(v)) for k, v in PRESETS.items())),
        Control("start", _("From"), "date", q.start),
        Control("end", _("To"), "date", q.end),
        Control("vs", _("Compared with"), "select", q.vs,
                tuple((k, _(v)) for k, v in COMPARE.items())),
    ]
    for dim in FILTERS:
        options = values(dim)
        if len(options) >= 2 or dim in chosen:
            shown = options[:MAX_OPTIONS]  # the largest; any other still filters by URL
            if dim in chosen and chosen[dim] not in shown:
                shown = [*shown, chosen[dim]]
            out.append(Control(dim, dimension_label(dim, s).capitalize(), "select",
                               chosen.get(dim, ""),
                               (("", _("all")), *((v, v) for v in shown))))
    out.append(Control("definition", _("AOV definition"), "select", q.definition,
                       tuple((d.name, f"{d.name} — {d.formula}")
                             for d in DEFINITIONS.values())))
    currencies = values("currency")
    if len(currencies) >= 2:
        out.append(Control("currency", _("Currency"), "select", q.currency,
                           tuple((c, c) for c in currencies)))
    out.append(Control("locale", _("Language"), "select", s.code,
                       tuple((code, LANGUAGES[code]) for code in LOCALES)))
    if token:
        out.append(Control("token", "", "hidden", token))
    return out


DOWNLOAD_LABELS = {"kpis": N_("KPIs of the whole range"), "latest": N_("KPIs of the last "
                   "period, with changes"), "trend": N_("Trend"), "histogram":
                   N_("Order values (histogram)"), "why": N_("Why AOV moved (segments)"),
                   "cohorts": N_("Cohorts (retention by month)"),
                   "cohort-aov": N_("Cohorts: first vs later order AOV"),
                   "segments": N_("Customer segments (RFM)"),
                   "tiers": N_("Customer spend tiers"),
                   "threshold": N_("Free-shipping threshold: candidates")}


def downloads(tables: list[str], q: PageQuery, s: Speaker, *, prefix: str = "download/",
              token: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """A link per table and format, carrying the page's own query (and ``token``)."""
    qs = "&".join(p for p in (q.query_string(), urlencode({"token": token}) if token else "")
                  if p)
    out = []
    for name in tables:
        if name.startswith("by-"):
            label = s.gettext("By %(dimension)s") % {"dimension": dimension_label(name[3:], s)}
        else:
            label = s.gettext(DOWNLOAD_LABELS[name])
        out.append((label, [(fmt.upper(), f"{prefix}{name}.{fmt}" + (f"?{qs}" if qs else ""))
                            for fmt in DOWNLOAD_FORMATS]))
    return out


#: The dimensions whose values the dashboard reads once per workspace version: the filters',
#: the currency and the report's breakdowns (one with a single value is never drawn).
KNOWN = tuple(dict.fromkeys((*FILTERS, "currency", *BREAKDOWNS)))


def workspace_values(ws: Any) -> dict[str, list[str]]:
    """The values of the :data:`KNOWN` dimensions in the workspace's counted orders, most
    orders first (one query)."""
    t = dimension_values(ws, KNOWN).table
    return {dim: list(t.loc[t["dimension"] == dim, "value"]) for dim in KNOWN}


def breakdowns(values: Callable[[str], list[str]]) -> tuple[str, ...]:
    """The report's breakdowns that can have two groups: the workspace has two values."""
    return tuple(d for d in BREAKDOWNS
                 if sum(v != NOT_SET for v in values(d)) >= 2)
