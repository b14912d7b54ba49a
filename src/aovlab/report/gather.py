"""What the report and the dashboard show, computed once per selection by the analyses.

:func:`gather` runs the library's own functions (``kpis``, ``histogram``, ``explain`` and,
for the customers, ``cohorts`` and ``segments``) so that every number on a page is one the
CLI and the API give for the same selection;
:class:`ReportData` holds their results and names the tables a user can download.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..analyses import cohorts, explain, histogram, kpis, segments, threshold
from ..errors import AovlabError, CurrencyMixError
from ..query import LAST_UNITS, VS, Selection, compared_with, last_whole

#: Breakdowns drawn when the data has two groups or more, and the most bars each shows.
BREAKDOWNS = ("channel", "country", "region", "device", "customer_type", "source",
              "category", "product")
MAX_BARS = 12


@dataclass
class ReportData:
    """The analyses' results behind one report (see :func:`gather`)."""

    selection: Selection
    overall: Any
    grain: str
    trend: Any
    latest: Any | None
    histogram: Any
    breakdowns: dict[str, pd.DataFrame]
    why_by: str
    why: Any | None
    last: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Monthly cohorts and RFM segments, or None without customer ids (or when left out).
    cohorts: Any | None = None
    segments: Any | None = None
    #: The free-shipping threshold analysis, where the orders show an existing threshold.
    threshold: Any | None = None

    @property
    def currency(self) -> str:
        return str(self.overall.table.iloc[0]["currency"])

    @property
    def definition(self) -> str:
        return self.overall.meta["definition"]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the report draws, by the name its download has."""
        out = {"kpis": self.overall.table, "trend": self.trend.table,
               "histogram": self.histogram.table}
        if self.latest is not None:
            out["latest"] = self.latest.table
        out.update({f"by-{dim}": t for dim, t in self.breakdowns.items()})
        if self.why is not None:
            out["why"] = self.why.segments
        if self.cohorts is not None:
            out["cohorts"] = self.cohorts.tables["cohorts"]
            out["cohort-aov"] = self.cohorts.tables["aov"]
        if self.segments is not None:
            out["segments"] = self.segments.tables["segments"]
            out["tiers"] = self.segments.tables["tiers"]
        if self.threshold is not None:
            out["threshold"] = self.threshold.table
        return out


def gather(source: Any, sel: Selection, *, last: str | None = None,
           vs: str = "previous", dimensions: tuple[str, ...] = BREAKDOWNS,
           customers: bool = True) -> ReportData:
    """Run the report's analyses on ``sel``.

    Without ``last`` the report covers the selection's dates and opens with its last whole
    period (a month when the data spans three months or more, else a week, else a day);
    with ``last`` (``week``, ``month``, ``quarter``, ``year``) it covers only the data's
    last whole such period, compared with the one before it and a year earlier.
    ``vs`` is what "why AOV moved" compares the last period with. ``dimensions`` are the
    breakdowns to try (one drawn where the selection has two groups or more); the
    dashboard leaves out those the whole workspace has one value of. ``customers`` adds
    the monthly cohorts and the RFM segments (with their CLV) up to the selection's last
    order, where orders carry customer ids.
    """
    if last is not None and last not in LAST_UNITS:
        raise AovlabError(f"last {last!r} is not a period", fix=f"use one of "
                          f"{', '.join(LAST_UNITS)}")
    if vs not in VS:
        raise AovlabError(f"vs {vs!r} is not a comparison", fix=f"use one of {', '.join(VS)}")
    notes: list[str] = []
    latest = None
    try:
        if last is not None:
            latest = kpis(source, sel, last=last)
            sel = sel.with_(start=latest.meta["start"], end=latest.meta["end"])
        overall = kpis(source, sel)
    except CurrencyMixError as exc:
        raise CurrencyMixError(
            "the report draws one currency and the selection holds several",
            fix="pass --currency (e.g. --currency EUR), or --where source=... for one store",
        ) from exc
    notes += overall.notes
    meta = overall.meta
    first, last_day = meta["first_date"], meta["last_date"]
    span = (pd.Timestamp(last_day) - pd.Timestamp(first)).days if first is not None else 0
    grain = "month" if span >= 90 else "week" if span >= 21 else "day"
    unit = last or grain
    if latest is None:
        latest = _latest(source, sel, grain, last_day, notes)
    opening = None if latest is None else (latest.meta["start"], latest.meta["end"])
    breakdowns = {}
    for dim in dimensions:
        t = kpis(source, sel, by=[dim]).table
        if (t[dim] != "(not set)").sum() >= 2:
            breakdowns[dim] = t.sort_values(["orders", dim], ascending=[False, True]).head(
                MAX_BARS).reset_index(drop=True)
    # why AOV moved, split by the first dimension the data varies in (channel, country, ...)
    why_by = next(iter(breakdowns), "channel")
    return ReportData(
        selection=sel, overall=overall, grain=grain, trend=kpis(source, sel, period=grain),
        latest=latest, histogram=histogram(source, sel), breakdowns=breakdowns,
        why_by=why_by, why=_why(source, sel, opening, unit, why_by, vs, notes), last=last,
        notes=notes, threshold=_threshold(source, sel),
        **(_customers(source, sel, notes) if customers else {}))


def _threshold(source: Any, sel: Selection):
    """The threshold analysis when the orders show an existing threshold (a report does
    not draw an assumed response), else None."""
    try:
        r = threshold(source, sel, boots=100)
    except AovlabError:  # no positive order values, a threshold too near the edge, ...
        return None
    return r if r.current is not None else None


def _latest(source: Any, sel: Selection, grain: str, last_day: Any, notes: list[str]):
    """The KPIs of the selection's last whole ``grain`` (the one its last order closes, else
    the one before) with their changes, or None when the selection holds none whole."""
    start, end = last_whole(pd.Timestamp(last_day).date(), grain)
    if sel.start is not None and start < sel.start:
        notes.append(f"no whole {grain} in the dates chosen: the cards show the whole range")
        return None
    try:
        return kpis(source, sel.with_(start=start, end=end, period=grain))
    except AovlabError as exc:
        notes.append(f"no whole {grain} to open the report with: {exc.message}")
        return None


def _why(source: Any, sel: Selection, opening: tuple | None, unit: str, by: str, vs: str,
         notes: list[str]):
    """Why AOV moved from the period before the opening one (or a year earlier) to it."""
    if opening is None:
        return None
    try:
        return explain(source, compared_with(opening, unit, vs), opening,
                       sel.with_(by=(by,), start=None, end=None))
    except AovlabError as exc:
        notes.append(f"why AOV moved is left out: {exc.message}")
        return None


def _customers(source: Any, sel: Selection, notes: list[str]) -> dict[str, Any]:
    """The cohorts and segments of the selection's customers (their history from their
    first order, up to the selection's end), each left out with a note when it cannot be
    had — a store of guests has neither."""
    out: dict[str, Any] = {}
    for key, analysis, label in (("cohorts", cohorts, "cohorts"),
                                 ("segments", segments, "customer segments")):
        try:
            out[key] = analysis(source, sel.with_(by=(), period=None))
        except AovlabError as exc:
            notes.append(f"{label} are left out: {exc.message}")
            out[key] = None
    return out
