"""The report's charts as Plotly figures, in the reader's language.

Each builder turns one analysis result of :class:`~.gather.ReportData` into a
:class:`Chart` (a figure, its title and caption), or None when the data has nothing to
draw. The HTML report, the dashboard and ``--charts DIR`` (PNG and SVG through kaleido)
all draw these same figures; every chart names the AOV definition.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

from .gather import ReportData
from .locale import N_, Speaker
from .terminal import is_missing

#: The dimensions' names as a reader sees them (translated through the catalogs).
DIMENSION_LABELS = {
    "channel": N_("channel"), "country": N_("country"), "region": N_("region"),
    "device": N_("device"), "customer_type": N_("customer type"), "source": N_("store"),
    "category": N_("main category"), "product": N_("main product"),
}
GRAIN_LABELS = {"day": N_("day"), "week": N_("week"), "month": N_("month"),
                "quarter": N_("quarter"), "year": N_("year")}


@dataclass
class Chart:
    """One chart of the report: its anchor, title, Plotly figure and caption."""

    key: str
    title: str
    figure: Any
    caption: str = ""


def _plain(value: object) -> str:
    """A value from the store as Plotly's text: Plotly reads some HTML in labels (``<a>``,
    ``<b>``), so a product named ``<a href=...>`` must show as written, not as a link."""
    return html.escape(str(value), quote=False)


def dimension_label(dim: str, s: Speaker) -> str:
    return s.gettext(DIMENSION_LABELS.get(dim, dim.replace("_", " ")))


def _style(fig: Any, s: Speaker) -> Any:
    fig.update_layout(template="plotly_white", margin={"l": 60, "r": 20, "t": 60, "b": 50},
                      height=380, font={"family": "system-ui, sans-serif"},
                      separators=s.separators())
    return fig


def _titled(text: str, defn: str, s: Speaker) -> str:
    return s.gettext("%(chart)s — %(definition)s definition") % {"chart": text,
                                                                  "definition": defn}


def trend(data: ReportData, s: Speaker) -> Chart:
    import plotly.graph_objects as go

    _ = s.gettext
    t = data.trend.table
    x = [str(p)[:10] for p in t["period"]]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=list(t["aov_ci_high"]) + list(
        t["aov_ci_low"])[::-1], fill="toself", line={"width": 0}, hoverinfo="skip",
        fillcolor="rgba(31,119,180,0.15)", name=_("AOV 95% interval")))
    fig.add_trace(go.Scatter(x=x, y=t["aov"], mode="lines+markers", name=_("AOV"),
                             line={"color": "#1f77b4"}))
    fig.add_trace(go.Scatter(x=x, y=t["median"], mode="lines+markers", name=_("median"),
                             line={"color": "#ff7f0e", "dash": "dot"}))
    flags = t["partial"] if "partial" in t else [False] * len(x)
    partial = [i for i, flag in enumerate(flags) if bool(flag)]
    for i in partial:
        fig.add_annotation(x=x[i], y=float(t["aov"].iloc[i]), text=_("partial"),
                           showarrow=True, arrowhead=2, ay=-30)
    grain = _(GRAIN_LABELS[data.grain])
    fig.update_layout(title=_titled(_("AOV and median by %(grain)s") % {"grain": grain},
                                    data.definition, s),
                      yaxis_title=data.currency, hovermode="x unified")
    caption = _("The band is the AOV's 95% interval (customers as the independent units).")
    if partial:
        caption += " " + _("%(n)s partial periods, cut by the data's first or last day, are "
                           "marked: compare them with care.") % {"n": s.count(len(partial))}
    return Chart("trend", _("Trend"), _style(fig, s), caption)


def order_values(data: ReportData, s: Speaker) -> Chart:
    import plotly.graph_objects as go

    _ = s.gettext
    h = data.histogram
    t = h.table
    inside = t[~t["outlier"]]
    fig = go.Figure(go.Bar(x=(inside["bin_low"] + inside["bin_high"]) / 2, y=inside["orders"],
                           width=(inside["bin_high"] - inside["bin_low"]), name=_("orders"),
                           marker_color="#1f77b4"))
    fig.add_vline(x=h.fence, line_dash="dash", line_color="#d62728",
                  annotation_text=_("outlier fence %(value)s") % {"value": s.number(h.fence)})
    fig.update_layout(title=_titled(_("Order values"), data.definition, s),
                      xaxis_title=data.currency, yaxis_title=_("orders"), bargap=0.02)
    caption = _("%(orders)s orders above the fence (%(order_share)s of orders) carry "
                "%(revenue_share)s of revenue: read the median beside the AOV.") % {
        "orders": s.count(h.outlier_orders), "order_share": s.percent(h.outlier_order_share),
        "revenue_share": s.percent(h.outlier_revenue_share)}
    return Chart("histogram", _("Order values"), _style(fig, s), caption)


def breakdown(data: ReportData, dim: str, s: Speaker) -> Chart:
    import plotly.graph_objects as go

    _ = s.gettext
    t = data.breakdowns[dim]
    fig = go.Figure(go.Bar(
        x=[_plain(v) for v in t[dim]], y=t["aov"], marker_color="#2ca02c",
        error_y={"type": "data", "array": (t["aov_ci_high"] - t["aov"]).tolist(),
                 "arrayminus": (t["aov"] - t["aov_ci_low"]).tolist(), "visible": True},
        text=[_("%(n)s orders") % {"n": s.count(n)} for n in t["orders"]],
        textposition="outside", name=_("AOV")))
    label = dimension_label(dim, s)
    fig.update_layout(title=_titled(_("AOV by %(dimension)s") % {"dimension": label},
                                    data.definition, s), yaxis_title=data.currency)
    fig.update_xaxes(type="category")  # product codes and years are names, not numbers
    return Chart(f"by-{dim}", _("By %(dimension)s") % {"dimension": label}, _style(fig, s),
                 _("Bars show each group's AOV with its 95% interval, largest groups first."))


FUNNEL_STEPS = (
    (N_("sessions"), "sessions"), (N_("viewed an item"), "view_item_sessions"),
    (N_("added to cart"), "add_to_cart_sessions"),
    (N_("began checkout"), "begin_checkout_sessions"), (N_("purchased"), "purchase_sessions"),
)


def funnel(data: ReportData, s: Speaker) -> Chart | None:
    import plotly.graph_objects as go

    _ = s.gettext
    row = data.overall.table.iloc[0]
    values = [(_(label), row.get(col, math.nan)) for label, col in FUNNEL_STEPS]
    values = [(label, v) for label, v in values if not is_missing(v)]
    if len(values) < 2:
        return None
    fig = go.Figure(go.Funnel(y=[v[0] for v in values], x=[v[1] for v in values],
                              textinfo="value+percent previous"))
    fig.update_layout(title=_("Sessions through the funnel"))
    return Chart("funnel", _("Funnel"), _style(fig, s), _(
        "Session conversion %(rate)s (sessions with a purchase / sessions, GA4's "
        "definition).") % {"rate": s.percent(row["session_conversion_rate"], 2)})


def why(data: ReportData, s: Speaker) -> Chart | None:
    import plotly.graph_objects as go

    _ = s.gettext
    x = data.why
    if x is None:
        return None
    f = x.factors.set_index(["identity", "component"])["effect"]
    by = dimension_label(x.dimension, s)
    steps = [(_("mix (%(dimension)s shares)") % {"dimension": by}, x.mix_effect),
             (_("rate (AOV within each %(dimension)s)") % {"dimension": by}, x.rate_effect)]
    ends = [_("AOV %(period)s") % {"period": s.date_range(*p)} for p in (x.base, x.compare)]
    fig = go.Figure(go.Waterfall(
        x=[ends[0], *(st[0] for st in steps), ends[1]],
        y=[x.aov_base, *(st[1] for st in steps), x.aov_compare],
        measure=["absolute", *("relative" for _st in steps), "total"],
        text=[s.number(x.aov_base), *(s.signed_money(st[1]) for st in steps),
              s.number(x.aov_compare)], textposition="outside"))
    fig.update_layout(title=_titled(_("Why AOV moved"), data.definition, s),
                      yaxis_title=data.currency, showlegend=False)
    caption = [_("The parts add up to the change.")]
    lo, hi = x.meta["change_ci_low"], x.meta["change_ci_high"]
    if not is_missing(lo):
        caption.append(_("Change %(change)s, 95%% interval %(low)s .. %(high)s.") % {
            "change": s.signed_money(x.change), "low": s.signed_money(lo),
            "high": s.signed_money(hi)})
        caption.append(_("Beyond noise.") if x.beyond_noise else _("Within noise."))
    if ("aov", "units per order") in f.index:
        caption.append(_("Units per order %(units)s, unit price %(price)s.") % {
            "units": s.signed_money(f[("aov", "units per order")]),
            "price": s.signed_money(f[("aov", "average unit price")])})
    if ("funnel", "conversion rate") in f.index:
        caption.append(_("Revenue: traffic %(traffic)s, conversion %(conversion)s, AOV "
                         "%(aov)s.") % {
            "traffic": s.signed_money(f.loc["funnel"].iloc[0]),
            "conversion": s.signed_money(f[("funnel", "conversion rate")]),
            "aov": s.signed_money(f[("funnel", "aov")])})
    return Chart("why", _("Why AOV moved"), _style(fig, s), " ".join(caption))


#: The RFM segments' names as a reader sees them.
SEGMENT_LABELS = {
    "champions": N_("champions"), "loyal": N_("loyal"),
    "potential loyalists": N_("potential loyalists"), "new": N_("new"),
    "at risk": N_("at risk"), "can't lose": N_("can't lose"),
    "hibernating": N_("hibernating"), "lost": N_("lost"),
}
#: The cohorts and months since the first order the triangle shows at most.
TRIANGLE_COHORTS, TRIANGLE_MONTHS = 24, 24


def cohort_triangle(data: ReportData, s: Speaker) -> Chart | None:
    """Retention by first-order month (rows) and months since it (columns), the latest
    cohorts first; month 0 (100% by definition) is left out so the colours show the rest."""
    import plotly.graph_objects as go

    _ = s.gettext
    if data.cohorts is None:
        return None
    t = data.cohorts.tables["cohorts"]
    t = t[(t["months"] >= 1) & (t["months"] <= TRIANGLE_MONTHS)]
    if t.empty:
        return None
    shown = sorted(t["cohort"].unique())[-TRIANGLE_COHORTS:]
    grid = t[t["cohort"].isin(shown)].pivot(index="cohort", columns="months",
                                            values="retention")
    sizes = t.drop_duplicates("cohort").set_index("cohort")["customers"]
    z = [[None if is_missing(v) else 100 * float(v) for v in row] for row in grid.to_numpy()]
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(m) for m in grid.columns], y=[str(c) for c in grid.index],
        colorscale="Blues", zmin=0, colorbar={"title": "%", "ticksuffix": "%"},
        text=[[("" if v is None else s.percent(v / 100)) for v in row] for row in z],
        texttemplate="%{text}", hovertemplate=_("cohort %(cohort)s, month %(month)s: "
                                                "%(value)s") % {
            "cohort": "%{y}", "month": "%{x}", "value": "%{text}"} + "<extra></extra>"))
    fig.update_layout(title=_titled(_("Customers ordering again, by first-order month"),
                                    data.definition, s),
                      xaxis_title=_("months since the first order"),
                      yaxis_title=_("first-order month"))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_xaxes(type="category")
    biggest = str(sizes.loc[shown].idxmax())
    caption = _("Each cell is the share of a cohort's customers who ordered in that month, "
                "among those observed that long; the last month may be partial. The largest "
                "cohort shown, %(cohort)s, has %(customers)s customers.") % {
        "cohort": biggest, "customers": s.count(int(sizes[biggest]))}
    return _sized(Chart("cohorts", _("Cohorts"), _style(fig, s), caption), len(shown))


def _sized(chart: Chart, rows: int) -> Chart:
    chart.figure.update_layout(height=max(380, 120 + 22 * rows))
    return chart


def customer_segments(data: ReportData, s: Speaker) -> Chart | None:
    """Each RFM segment's share of the customers beside its share of revenue."""
    import plotly.graph_objects as go

    _ = s.gettext
    if data.segments is None:
        return None
    t = data.segments.tables["segments"]
    if t.empty:
        return None
    names = [s.gettext(SEGMENT_LABELS.get(k, k)) for k in t["segment"]]
    hover = [_("%(customers)s customers, AOV %(aov)s") % {
        "customers": s.count(int(c)), "aov": s.number(a)} + "<br>" + _plain(act)
        for c, a, act in zip(t["customers"], t["aov"], t["action"], strict=True)]
    fig = go.Figure([
        go.Bar(y=names, x=(100 * t[col]).tolist(), orientation="h", name=label,
               marker_color=colour, hovertext=hover, hoverinfo="text+x")
        for col, label, colour in (("customer_share", _("customers"), "#9ecae1"),
                                   ("revenue_share", _("revenue"), "#1f77b4"))])
    fig.update_layout(title=_titled(_("Customer segments (RFM)"), data.definition, s),
                      xaxis_title=_("share, %"), barmode="group")
    fig.update_yaxes(autorange="reversed", automargin=True)
    top = t.sort_values("revenue_share", ascending=False).iloc[0]
    caption = _("Recency, frequency and spend scored 1–5 against the other customers. "
                "%(segment)s: %(customers)s of customers, %(revenue)s of revenue. The "
                "segments table holds each one's mean CLV and a suggested action.") % {
        "segment": s.gettext(SEGMENT_LABELS.get(top["segment"], top["segment"])),
        "customers": s.percent(top["customer_share"]),
        "revenue": s.percent(top["revenue_share"])}
    return Chart("segments", _("Customer segments"), _style(fig, s), caption)


def charts(data: ReportData, s: Speaker) -> list[Chart]:
    """Every chart the data has, in the report's order."""
    out: list[Chart | None] = [trend(data, s), order_values(data, s)]
    if data.threshold is not None:
        out.append(threshold_chart(data.threshold, s))
    out.append(why(data, s))
    out += [breakdown(data, dim, s) for dim in data.breakdowns]
    out += [funnel(data, s), cohort_triangle(data, s), customer_segments(data, s)]
    return [c for c in out if c is not None]



def threshold_chart(result: Any, s: Speaker) -> Chart:
    """The order values around a threshold (a :class:`~aovlab.analyses.levers.
    ThresholdResult`): the bins, the smooth counterfactual without the threshold and the
    excluded window where one exists, and lines at the existing, recommended and
    rule-of-thumb thresholds."""
    import plotly.graph_objects as go

    _ = s.gettext
    m = result.meta
    b = result.tables["bins"]
    x = (b["bin_low"] + b["bin_high"]) / 2
    fig = go.Figure(go.Bar(x=x, y=b["orders"], width=b["bin_high"] - b["bin_low"],
                           name=_("orders"), marker_color="#1f77b4"))
    if b["counterfactual"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=b["counterfactual"], mode="lines",
                                 name=_("without the threshold (fitted)"),
                                 line={"color": "#ff7f0e", "width": 2}))
        lo, hi = m["bunching"]["window"]
        fig.add_vrect(x0=lo, x1=hi, fillcolor="#ff7f0e", opacity=0.08, line_width=0)
    lines = [(m["current"], _("current %(value)s"), "#d62728", "solid"),
             (m["recommended"], _("recommended %(value)s"), "#2ca02c", "dash"),
             (m["rule_of_thumb"], _("30%% above AOV: %(value)s"), "#7f7f7f", "dot")]
    for value, label, colour, dash in lines:
        if value is not None and b["bin_low"].min() <= value <= b["bin_high"].max():
            fig.add_vline(x=value, line_color=colour, line_dash=dash,
                          annotation_text=label % {"value": s.number(value)})
    fig.update_layout(title=_titled(_("Order values around the threshold"), m["definition"],
                                    s), xaxis_title=m["currency"], yaxis_title=_("orders"),
                      bargap=0.02)
    if m["current"] is not None:
        bunch = m["bunching"]
        caption = _("%(excess)s more orders just above %(threshold)s than the smooth "
                    "counterfactual: %(share)s of the orders just below it were padded "
                    "up to it.") % {"excess": s.count(bunch["excess"]),
                                    "threshold": s.number(m["current"]),
                                    "share": s.percent(bunch["padded_share"])}
    else:
        caption = _("No threshold in these orders: the response to one is an assumption, "
                    "not a measurement.")
    return Chart("threshold", _("Order values around the threshold"), _style(fig, s),
                 caption)
