"""The offline HTML report: one file a store owner opens in any browser, with no network.

:func:`report` runs the analyses (KPIs, the trend, the histogram, breakdowns, the funnel,
why AOV moved) on one selection and renders them with Plotly figures and a Jinja2
template. Plotly's JavaScript is inlined once, so the file works offline and requests
nothing. The report opens as Shopify Analytics and GA4 do — the last whole period's AOV,
median, orders and revenue beside the period before and a year earlier — and then shows
what they do not: the named definition on every chart, the median and the outliers, and
why AOV moved. A section appears only when the data has what it needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..analyses import explain, histogram, kpis
from ..errors import AovlabError, CurrencyMixError
from ..query import Selection
from ..version import __version__
from .files import write_text
from .terminal import is_missing

#: Breakdowns drawn when the data has two groups or more, and the most bars each shows.
BREAKDOWNS = ("channel", "country", "region", "device", "customer_type", "source")
MAX_BARS = 12


@dataclass
class Card:
    """One KPI card: its value now and its change against two earlier periods."""

    label: str
    value: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (vs, text, css)
    note: str = ""


@dataclass
class Section:
    """A titled part of the report: a chart (Plotly's HTML) and a caption."""

    key: str
    title: str
    chart: str
    caption: str = ""


def report(source: Any, selection: Selection | None = None, /, *,
           output: str | Path | None = None, force: bool = False,
           title: str | None = None, **options: Any) -> str:
    """The HTML report of ``source`` (a workspace or catalog) for a selection, as text.

    With ``output`` it is also written there (atomically; an existing file only with
    ``force``). The selection takes the usual keywords (``definition``, ``currency``,
    ``filters``, ``statuses``, ``start``, ``end``, ``engine``); grouping keywords are the
    report's own. Raises :class:`~aovlab.errors.CurrencyMixError` when the selection holds
    two currencies (pass ``currency=``).
    """
    sel = Selection.of(selection, **options).with_(by=(), period=None)
    html = _render(_gather(source, sel), title)
    if output is not None:  # never onto the workspace file itself
        path = getattr(source, "path", None)
        write_text(html, output, protect=[path] if path else [], force=force)
    return html


# -- gathering ------------------------------------------------------------------------------
def _gather(source: Any, sel: Selection) -> dict[str, Any]:
    try:
        overall = kpis(source, sel)
    except CurrencyMixError as exc:
        raise CurrencyMixError(
            "the report draws one currency and the selection holds several",
            fix="pass --currency (e.g. --currency EUR), or --where source=... for one store",
        ) from exc
    meta = overall.meta
    first, last = meta["first_date"], meta["last_date"]
    span = (pd.Timestamp(last) - pd.Timestamp(first)).days if first is not None else 0
    grain = "month" if span >= 90 else "week" if span >= 21 else "day"
    out: dict[str, Any] = {"overall": overall, "grain": grain, "notes": list(overall.notes),
                           "sections": []}
    out["trend"] = kpis(source, sel, period=grain)
    out["latest"] = _latest(source, sel, grain, out["notes"])
    out["histogram"] = histogram(source, sel)
    out["breakdowns"] = {}
    for dim in BREAKDOWNS:
        t = kpis(source, sel, by=[dim]).table
        if (t[dim] != "(not set)").sum() >= 2:
            out["breakdowns"][dim] = t.sort_values("orders", ascending=False).head(MAX_BARS)
    # why AOV moved, split by the first dimension the data varies in (channel, country, ...)
    out["why_by"] = next(iter(out["breakdowns"]), "channel")
    out["why"] = _why(source, sel, grain, out["why_by"], out["notes"])
    return out


def _latest(source: Any, sel: Selection, grain: str, notes: list[str]):
    """The last whole period's KPIs with their changes, or None when there is none."""
    try:
        return kpis(source, sel, last=grain)
    except AovlabError as exc:
        notes.append(f"no whole {grain} to open the report with: {exc.message}")
        return None


def _why(source: Any, sel: Selection, grain: str, by: str, notes: list[str]):
    try:
        return explain(source, None, None, sel.with_(by=(by,)), last=grain, vs="previous")
    except AovlabError as exc:
        notes.append(f"why AOV moved is left out: {exc.message}")
        return None


# -- cards ----------------------------------------------------------------------------------
def _money(v: float, cur: str) -> str:
    return "–" if is_missing(v) else f"{v:,.2f} {cur}"


def _count(v: float) -> str:
    return "–" if is_missing(v) else f"{int(v):,}"


def _change(row: pd.Series, col: str, tag: str) -> tuple[str, str]:
    pct = row.get(f"{col}_{tag}_pct", math.nan)
    if bool(row.get(f"{tag}_partial", False)) and not is_missing(pct):
        return "partial period", "muted"
    if is_missing(pct):
        return "no earlier data", "muted"
    return f"{pct:+.1%}", "up" if pct > 0 else "down" if pct < 0 else "muted"


def _cards(data: dict[str, Any]) -> tuple[list[Card], str]:
    latest = data["latest"]
    base = latest if latest is not None else data["overall"]
    row = base.table.iloc[0]
    cur = str(row["currency"])
    period = (f"{base.meta['start']}..{base.meta['end']}" if latest is not None
              else f"{base.meta['first_date']}..{base.meta['last_date']}")
    spec = [("AOV", "aov", lambda v: _money(v, cur)), ("Median order", "median",
            lambda v: _money(v, cur)), ("Orders", "orders", _count),
            ("Revenue", "revenue", lambda v: _money(v, cur))]
    if not is_missing(row.get("session_conversion_rate", math.nan)):
        spec.append(("Session conversion", "session_conversion_rate", lambda v: f"{v:.2%}"))
    cards = []
    for label, col, fmt in spec:
        card = Card(label, fmt(row[col]))
        if latest is not None and col in ("aov", "orders", "revenue"):
            for tag, vs in (("pop", "previous period"), ("yoy", "a year earlier")):
                text, css = _change(row, col, tag)
                card.changes.append((vs, text, css))
        cards.append(card)
    why = data["why"]
    if why is not None and why.beyond_noise is not None:
        cards[0].note = ("the change is beyond noise" if why.beyond_noise else
                         "the change is within noise (its 95% interval holds 0)")
    return cards, period


# -- charts ---------------------------------------------------------------------------------
def _figure_html(fig) -> str:
    fig.update_layout(template="plotly_white", margin={"l": 60, "r": 20, "t": 60, "b": 50},
                      height=380, font={"family": "system-ui, sans-serif"})
    return fig.to_html(full_html=False, include_plotlyjs=False,
                       config={"displaylogo": False, "responsive": True})


def _trend(data: dict[str, Any], defn: str, cur: str) -> Section:
    import plotly.graph_objects as go

    t = data["trend"].table
    x = [str(p) for p in t["period"]]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=list(t["aov_ci_high"]) + list(
        t["aov_ci_low"])[::-1], fill="toself", line={"width": 0}, hoverinfo="skip",
        fillcolor="rgba(31,119,180,0.15)", name="AOV 95% interval"))
    fig.add_trace(go.Scatter(x=x, y=t["aov"], mode="lines+markers", name="AOV",
                             line={"color": "#1f77b4"}))
    fig.add_trace(go.Scatter(x=x, y=t["median"], mode="lines+markers", name="median",
                             line={"color": "#ff7f0e", "dash": "dot"}))
    partial = [p for p, flag in zip(x, t.get("partial", [False] * len(x)), strict=True)
               if flag]
    for p in partial:
        fig.add_annotation(x=p, y=float(t.loc[x.index(p), "aov"]), text="partial",
                           showarrow=True, arrowhead=2, ay=-30)
    fig.update_layout(title=f"AOV and median by {data['grain']} — {defn} definition",
                      yaxis_title=cur, hovermode="x unified")
    caption = ("The band is the AOV's 95% interval (customers as the independent units)."
               + (f" {len(partial)} partial {data['grain']}(s) — cut by the data's first or "
                  "last day — are marked: compare them with care." if partial else ""))
    return Section("trend", "Trend", _figure_html(fig), caption)


def _hist(data: dict[str, Any], defn: str, cur: str) -> Section:
    import plotly.graph_objects as go

    h = data["histogram"]
    t = h.table
    inside = t[~t["outlier"]]
    fig = go.Figure(go.Bar(x=(inside["bin_low"] + inside["bin_high"]) / 2, y=inside["orders"],
                           width=(inside["bin_high"] - inside["bin_low"]), name="orders",
                           marker_color="#1f77b4"))
    fig.add_vline(x=h.fence, line_dash="dash", line_color="#d62728",
                  annotation_text=f"outlier fence {h.fence:,.2f}")
    fig.update_layout(title=f"Order values — {defn} definition", xaxis_title=cur,
                      yaxis_title="orders", bargap=0.02)
    caption = (f"{h.outlier_orders:,} orders above the fence ({h.outlier_order_share:.1%} of "
               f"orders) carry {h.outlier_revenue_share:.1%} of revenue: read the median "
               "beside the AOV.")
    return Section("histogram", "Order values", _figure_html(fig), caption)


def _breakdown(dim: str, t: pd.DataFrame, defn: str, cur: str) -> Section:
    import plotly.graph_objects as go

    err_hi = (t["aov_ci_high"] - t["aov"]).tolist()
    err_lo = (t["aov"] - t["aov_ci_low"]).tolist()
    fig = go.Figure(go.Bar(
        x=[str(v) for v in t[dim]], y=t["aov"], marker_color="#2ca02c",
        error_y={"type": "data", "array": err_hi, "arrayminus": err_lo, "visible": True},
        text=[f"{int(n):,} orders" for n in t["orders"]], textposition="outside",
        name="AOV"))
    label = dim.replace("_", " ")
    fig.update_layout(title=f"AOV by {label} — {defn} definition", yaxis_title=cur)
    return Section(f"by-{dim}", f"By {label}", _figure_html(fig),
                   "Bars show each group's AOV with its 95% interval, largest groups first.")


def _funnel(data: dict[str, Any]) -> Section | None:
    import plotly.graph_objects as go

    row = data["overall"].table.iloc[0]
    steps = [("sessions", "sessions"), ("viewed an item", "view_item_sessions"),
             ("added to cart", "add_to_cart_sessions"),
             ("began checkout", "begin_checkout_sessions"), ("purchased", "purchase_sessions")]
    values = [(label, row.get(col, math.nan)) for label, col in steps]
    values = [(label, v) for label, v in values if not is_missing(v)]
    if len(values) < 2:
        return None
    fig = go.Figure(go.Funnel(y=[v[0] for v in values], x=[v[1] for v in values],
                              textinfo="value+percent previous"))
    fig.update_layout(title="Sessions through the funnel")
    return Section("funnel", "Funnel", _figure_html(fig),
                   f"Session conversion {row['session_conversion_rate']:.2%} (sessions with "
                   "a purchase / sessions, GA4's definition).")


def _waterfall(data: dict[str, Any], defn: str, cur: str) -> Section | None:
    import plotly.graph_objects as go

    x = data["why"]
    if x is None:
        return None
    f = x.factors.set_index(["identity", "component"])["effect"]
    by = x.dimension.replace("_", " ")
    steps = [(f"mix ({by} shares)", x.mix_effect), (f"rate (AOV within each {by})",
                                                    x.rate_effect)]
    fig = go.Figure(go.Waterfall(
        x=[f"AOV {x.base[0]}..{x.base[1]}", *(s[0] for s in steps),
           f"AOV {x.compare[0]}..{x.compare[1]}"],
        y=[x.aov_base, *(s[1] for s in steps), x.aov_compare],
        measure=["absolute", *("relative" for _ in steps), "total"],
        text=[f"{x.aov_base:,.2f}", *(f"{s[1]:+,.2f}" for s in steps),
              f"{x.aov_compare:,.2f}"], textposition="outside"))
    fig.update_layout(title=f"Why AOV moved — {defn} definition", yaxis_title=cur,
                      showlegend=False)
    parts = []
    if ("aov", "units per order") in f.index:
        parts.append(f"units per order {f[('aov', 'units per order')]:+,.2f}, unit price "
                     f"{f[('aov', 'average unit price')]:+,.2f}")
    if ("funnel", "conversion rate") in f.index:
        parts.append(f"revenue: traffic {f.loc['funnel'].iloc[0]:+,.2f}, conversion "
                     f"{f[('funnel', 'conversion rate')]:+,.2f}, AOV {f[('funnel', 'aov')]:+,.2f}")
    lo, hi = x.meta["change_ci_low"], x.meta["change_ci_high"]
    noise = ("" if is_missing(lo) else
             f" Change {x.change:+,.2f}, 95% interval {lo:+,.2f} .. {hi:+,.2f}: "
             + ("beyond noise." if x.beyond_noise else "within noise."))
    return Section("why", "Why AOV moved", _figure_html(fig),
                   "The parts add up to the change." + noise
                   + (" Also: " + "; ".join(parts) + "." if parts else ""))


# -- rendering ------------------------------------------------------------------------------
def _render(data: dict[str, Any], title: str | None) -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    overall = data["overall"]
    meta = overall.meta
    defn = meta["definition"]
    cur = str(overall.table.iloc[0]["currency"])
    cards, card_period = _cards(data)
    sections = [_trend(data, defn, cur), _hist(data, defn, cur)]
    why = _waterfall(data, defn, cur)
    if why is not None:
        sections.append(why)
    sections += [_breakdown(d, t, defn, cur) for d, t in data["breakdowns"].items()]
    funnel = _funnel(data)
    if funnel is not None:
        sections.append(funnel)
    env = jinja2.Environment(loader=jinja2.PackageLoader("aovlab.report", "templates"),
                             autoescape=True)
    return env.get_template("report.html.j2").render(
        title=title or "AOV report", plotly_js=get_plotlyjs(), cards=cards,
        card_period=card_period, sections=sections, notes=data["notes"],
        definition=defn, formula=meta["formula"], help=meta["help"], currency=cur,
        first_date=str(meta["first_date"])[:10], last_date=str(meta["last_date"])[:10],
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), version=__version__)
