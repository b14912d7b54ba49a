"""Terminal rendering with Rich: tables, and each analysis result as the CLI shows it."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analyses import Explanation, Histogram, KpiResult, Result
from ..errors import AovlabError
from ..stats import MIN_INTERVAL_UNITS

#: Columns shown in the terminal for multi-row KPI tables (files get every column).
KPI_TABLE_COLUMNS = ["orders", "revenue", "aov", "aov_ci_low", "aov_ci_high", "median",
                     "trimmed_aov", "units_per_order", "customers", "repeat_customer_rate",
                     "session_conversion_rate", "orders_per_session", "aov_pop_pct",
                     "aov_yoy_pct"]


def _fmt(value: object, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if column.endswith(("_rate", "_share", "_pct", "coverage")) or column.startswith(
                "share_") or column in (
                "orders_per_session",):
            return f"{value * 100:,.1f}%"
        if abs(value) >= 1e12:
            return f"{value:.3e}"
        return f"{value:,.2f}" if abs(value) >= 10 or value == int(value) else f"{value:,.3f}"
    if isinstance(value, date | pd.Timestamp):
        return str(value)[:10]
    return str(value)


def rich_table(df: pd.DataFrame, title: str | None = None, caption: str | None = None,
               transpose: bool = False, width: int | None = None) -> Table:
    """A Rich table; ``transpose`` shows one row per metric (for single-row results).

    Every cell, title and caption is plain text: values such as a channel named ``[/red]``
    come from the user's data and must never be read as Rich markup. Given the terminal's
    ``width``, columns that do not fit are left out (the first one, the row's key, always
    stays) and the caption says how many: a number split across two lines misreads.
    """
    plain_title = Text(title) if title is not None else None
    if transpose and len(df) == 1:
        t = Table(title=plain_title, caption=Text(caption) if caption else None,
                  show_lines=False)
        t.add_column("metric", style="bold", no_wrap=True)
        t.add_column("value", justify="right", no_wrap=True)
        row = df.iloc[0]
        for col in df.columns:
            v = row[col]
            t.add_row(Text(str(col)), Text(_fmt(v.item() if hasattr(v, "item") else v, col)))
        return t
    cells = {c: [_fmt(v.item() if hasattr(v, "item") else v, c) for v in df[c]]
             for c in df.columns}
    # the leading text and date columns are the row keys (period, channel, ...)
    keys = next((i for i, c in enumerate(df.columns)
                 if pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != bool),
                len(df.columns))
    shown = _fitting(df.columns, cells, width, max(keys, 1))
    hidden = len(df.columns) - len(shown)
    if hidden:
        more = (f"{hidden} more column(s) do not fit this terminal: widen it, pick with "
                "--columns, or write every column with -f csv/json/parquet")
        caption = f"{caption}; {more}" if caption else more
    t = Table(title=plain_title, caption=Text(caption) if caption else None)
    for col in shown:
        numeric = (pd.api.types.is_numeric_dtype(df[col]) and df[col].dtype != bool) or str(
            col).endswith(("_pct", "_change"))
        t.add_column(Text(str(col)), justify="right" if numeric else "left", no_wrap=numeric,
                     overflow="ellipsis" if numeric else "fold")
    for i in range(len(df)):
        t.add_row(*(Text(cells[c][i]) for c in shown))
    return t


def _fitting(columns, cells: dict[str, list[str]], width: int | None,
             keys: int = 1) -> list[str]:
    """The columns, in order, that fit ``width`` (all of them when it is None); the first
    ``keys`` (what tells the rows apart) always stay."""
    if width is None:
        return list(columns)
    out, used = [], 4  # the table's outer border
    for i, c in enumerate(columns):
        need = max([len(str(c)), *map(len, cells[c])]) + 3  # padding and separator
        if i >= keys and used + need > width:
            continue  # later, narrower columns may still fit
        out.append(c)
        used += need
    return out


def kpi_columns(result: KpiResult, columns: list[str] | None, *, terminal: bool
                ) -> pd.DataFrame:
    """The KPI table with the ``columns`` asked for (keys first), or the terminal's summary
    set for a multi-row table shown in a terminal."""
    df = result.table
    keys = (["period"] if result.meta.get("period") else []) + list(result.meta.get("by", []))
    flags = [c for c in ("pop_partial", "yoy_partial") if c in df.columns]
    if columns:
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise AovlabError(f"unknown column(s) {unknown}",
                              fix=f"choose from {', '.join(df.columns)}")
        df = df[list(dict.fromkeys(keys + columns + (flags if terminal else [])))]
    elif terminal and len(df) > 1:
        df = df[keys + [c for c in KPI_TABLE_COLUMNS if c in df.columns] + flags]
    if terminal:
        df = _mark_partial(df, keep=set(columns or ()))
    return df


def _mark_partial(df: pd.DataFrame, keep: set[str]) -> pd.DataFrame:
    """In the terminal, a change that involves a partial period reads "partial", not a
    percentage comparing 9 days with 31 (files keep the numbers and the flags)."""
    df = df.copy()
    for tag in ("pop", "yoy"):
        flag = f"{tag}_partial"
        if flag not in df:
            continue
        marked = df[flag].fillna(False).astype(bool)
        if flag not in keep:  # shown only when asked for by name
            df = df.drop(columns=flag)
        for col in [c for c in df.columns if c.endswith((f"_{tag}_pct", f"_{tag}_change"))]:
            df[col] = [("partial" if m and not is_missing(v) else v)
                       for v, m in zip(df[col], marked, strict=True)]
    return df


def is_missing(v: object) -> bool:
    """None or NaN: a cell with no value."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def date_range(first: object, last: object) -> str:
    """``orders 2010-12-01..2011-12-09``: the range every output names."""
    if first is None or last is None:
        return "no orders"
    return f"orders {str(first)[:10]}..{str(last)[:10]}"


def kpi_title(result: KpiResult) -> tuple[str, str | None]:
    m = result.meta
    cur = m.get("currency")
    caption = date_range(m.get("first_date"), m.get("last_date"))
    if cur:
        caption += f"; currency {', '.join(cur) if isinstance(cur, list) else cur}"
    if m.get("partial_periods"):
        caption += (f"; {m['partial_periods']} partial period(s), cut by the data's first or "
                    "last day or by --start/--end: their changes read 'partial'")
    t = result.table
    if "aov_units" in t and (t["aov_units"] < MIN_INTERVAL_UNITS).any():
        few = int((t["aov_units"] < MIN_INTERVAL_UNITS).sum())
        note = (f"{few} row(s) without an AOV interval: fewer than {MIN_INTERVAL_UNITS} "
                "independent units (customers, guest orders)")
        caption = f"{caption}; {note}" if caption else note
    return f"AOV KPIs — {m['definition']} definition ({m['help']})", caption


def histogram_title(h: Histogram) -> tuple[str, str]:
    m = h.meta
    return (f"Order values — {m['definition']} definition",
            f"{date_range(m.get('first_date'), m.get('last_date'))}; "
            f"{h.outlier_orders:,} outlier orders above {h.fence:,.2f} {m['currency']}: "
            f"{h.outlier_order_share:.1%} of orders, {h.outlier_revenue_share:.1%} of revenue")


#: Width of the longest histogram bar, in characters.
BAR_WIDTH = 30


def histogram_bars(h: Histogram) -> pd.DataFrame:
    """The histogram table with its bars drawn (for the terminal: files get the numbers):
    each bin's orders as a bar of block characters, the longest BAR_WIDTH wide, eighths
    of a block for the remainder; the outlier row is drawn like the others."""
    df = h.table.drop(columns=["definition"])
    top = max(int(df["orders"].max()), 1)
    blocks = " ▏▎▍▌▋▊▉"

    def bar(n: int) -> str:
        eighths = round(n / top * BAR_WIDTH * 8)
        if n and not eighths:
            eighths = 1  # a bin with orders never looks empty
        return "█" * (eighths // 8) + (blocks[eighths % 8] if eighths % 8 else "")

    return df.assign(bar=[bar(int(n)) for n in df["orders"]])


def render_explanation(x: Explanation, console: Console, top: int = 10) -> None:
    pct = x.change / x.aov_base if x.aov_base else float("nan")
    by = x.dimension
    console.print(
        f"[bold]{x.definition} AOV[/bold] {x.aov_base:,.2f} → {x.aov_compare:,.2f} "
        f"{x.currency} ({x.change:+,.2f}, {pct:+.1%}) from {x.base[0]}..{x.base[1]} to "
        f"{x.compare[0]}..{x.compare[1]}")
    lo, hi = x.meta["change_ci_low"], x.meta["change_ci_high"]
    level = x.meta.get("level", 0.95)
    if x.beyond_noise is None:
        noise = (f"too few independent units in a period (under {MIN_INTERVAL_UNITS}) to tell "
                 "the change from noise")
    else:
        verdict = "beyond noise" if x.beyond_noise else "within noise (the interval holds 0)"
        noise = f"{level:.0%} interval of the change {lo:+,.2f} .. {hi:+,.2f}: {verdict}"
    console.print(Text(f"  {noise}"))
    console.print(f"  mix ({by} shares moved): {x.mix_effect:+,.2f}   "
                  f"rate (AOV within each {by} moved): {x.rate_effect:+,.2f}")
    console.print(rich_table(x.periods, title="Each period's AOV, with its 95% interval"))
    console.print(rich_table(x.top(top), title=f"Top {by} contributors"))
    console.print(rich_table(x.factors, title="Identities (effects add up to each change)"))
    for note in x.notes:
        console.print(Text(f"note: {note}", style="yellow"))


#: Customer columns shown in the terminal (files get every column).
CLV_COLUMNS = ["customer_id", "orders", "frequency", "recency", "T", "monetary_value",
               "probability_alive", "expected_purchases", "expected_value_per_purchase",
               "clv"]


def render_clv(r: Result, console: Console, top: int = 10) -> None:
    """``aovlab clv`` in a terminal: the fit, the historical view, the top customers."""
    m = r.meta
    unit = m["unit"]
    console.print(Text(
        f"{m['model']} + Gamma-Gamma on {m['customers']:,} customers "
        f"({m['repeat_customers']:,} bought again) up to {m['cutoff']}, in {unit}s; "
        f"{m['definition']} order value in {m['currency']}"))
    console.print(Text(
        f"CLV over {m['horizon_months']} months, discounted {m['discount_rate']:.1%} a year, "
        f"margin {m['margin']:.1%}: {m['total_clv']:,.2f} {m['currency']} in all, "
        f"{m['total_clv'] / m['customers']:,.2f} per customer"))
    console.print(rich_table(r.tables["parameters"], title="Parameters (95% intervals)"))
    if "models" in r.tables:
        console.print(rich_table(r.tables["models"], title="Models compared (lowest AIC first)"))
    console.print(rich_table(r.tables["historical"], transpose=True,
                             title="Historical CLV = AOV × purchase frequency × lifespan × "
                                   "margin"))
    console.print(rich_table(r.table[CLV_COLUMNS].head(top), title=f"Top {top} customers by CLV",
                             caption=f"recency and T in {unit}s; expected purchases over "
                                     f"{m['horizon_months']} months",
                             width=console.width))


def render_holdout(r: Result, console: Console) -> None:
    """``aovlab holdout`` in a terminal: predicted vs made, per bucket and week by week."""
    m = r.meta
    console.print(Text(
        f"{m['model']} fitted on {m['customers']:,} customers up to {m['calibration_end']}; "
        f"hold-out to {m['end']} ({m['holdout_length']:.1f} {m['unit']}s): "
        f"{m['predicted_total']:,.1f} repeat purchases predicted, {m['actual_total']:,.0f} "
        f"made ({m['total_error']:+.1%})"))
    console.print(rich_table(r.tables["by_frequency"],
                             title="Hold-out repeat purchases by calibration frequency"))
    weekly = r.tables["weekly"]
    step = max(1, len(weekly) // 26)  # about half a year of rows on a screen
    shown = weekly.iloc[sorted(set(range(0, len(weekly), step)) | {len(weekly) - 1})]
    console.print(rich_table(shown, title="Cumulative repeat purchases, week by week",
                             caption=f"every {step} week(s); -f csv for all"))


def render_segments(r: Result, console: Console) -> None:
    """``aovlab segments`` in a terminal: the segments and the spend tiers."""
    m = r.meta
    console.print(Text(f"{m['customers']:,} customers up to {m['cutoff']}, "
                       f"{m['definition']} order value; CLV over {m['horizon_months']} months"))
    for key, title in (("segments", "RFM segments"), ("tiers", "Spend tiers")):
        console.print(rich_table(r.tables[key].drop(columns="action"), title=title,
                                 width=console.width,
                                 caption="threshold: the 75th percentile of the customers' "
                                         "average order value, for threshold offers"))
        for _, row in r.tables[key].iterrows():
            console.print(Text(f"  {row.iloc[0]}: {row['action']}"))


def render_cohorts(r: Result, console: Console, months: int = 12) -> None:
    """``aovlab cohorts`` in a terminal: the retention triangle and first vs later AOV."""
    m = r.meta
    console.print(Text(f"{m['customers']:,} customers in {m['cohorts']} cohorts by first-order "
                       f"{m['by']}, up to {m['cutoff']}; {m['definition']} order value"))
    tri = r.tables["triangle"]
    shown = tri[["cohort", *[c for c in tri.columns[1:]][: months + 1]]]
    sizes = r.tables["aov"].set_index("cohort")["customers"]
    shown = shown.assign(customers=shown["cohort"].map(sizes))
    shown = shown[["cohort", "customers", *shown.columns[1:-1]]].rename(
        columns=lambda c: c if not c.startswith("m") or not c[1:].isdigit()
        else f"{c}_rate")
    console.print(rich_table(shown, title="Retention: share of each cohort ordering in month "
                                          "m after its first", width=console.width,
                             caption="m0 is the month of the first order; -f csv for every "
                                     "column"))
    console.print(rich_table(r.tables["aov"][["cohort", "customers", "first_order_aov",
                                              "later_order_aov", "orders_per_customer",
                                              "revenue_per_customer"]],
                             title="First vs later orders", width=console.width))


#: What each basket result shows in a terminal: (table, title, columns).
BASKET_VIEWS: dict[str, list[tuple[str, str, list[str]]]] = {
    "baskets": [("rules", "Association rules, by the consequent's revenue in them",
                 ["antecedent_names", "consequent_names", "baskets", "support",
                  "confidence", "lift", "revenue", "value_per_basket", "antecedent",
                  "consequent"]),
                ("itemsets", "Frequent itemsets", ["names", "size", "baskets", "support",
                                                   "itemset"])],
    "bundles": [("bundles", "Bundles, by expected gross profit (revenue without costs)",
                 ["bundle", "orders_together", "co_purchase_rate", "revenue_together",
                  "list_price", "bundle_price", "discount", "bundle_margin",
                  "expected_revenue", "expected_gross_profit", "expected_aov_change",
                  "names"])],
    "cross_sell": [("cross_sell", "Frequently bought together",
                    ["item", "name", "rank", "recommend", "recommend_name",
                     "orders_together", "confidence", "lift"]),
                   ("upsell", "Upsell ladders", ["item", "name", "price", "rank", "upgrade",
                                                 "upgrade_price", "price_step"]),
                   ("add_ons", "Low-price add-ons", ["item", "name", "price", "share_of_aov",
                                                     "attach_rate", "with_other_items"]),
                   ("evaluation", "Held-out last baskets", ["method", "k", "baskets",
                                                            "cases", "hit_rate",
                                                            "revenue_hit_rate", "coverage"])],
    "movers": [("movers", "Items and the AOV of their orders",
                ["item", "name", "orders", "attach_rate", "alone_rate", "aov_with",
                 "aov_without", "difference", "ci_low", "ci_high"])],
    "replenishment": [("intervals", "Repurchase intervals",
                       ["item", "name", "repeat_buyers", "repurchases", "median_days",
                        "mean_days"]),
                      ("due", "Due for a reminder", ["customer_id", "item", "name", "last",
                                                     "median_days", "days_overdue"]),
                      ("next_product", "Bought A, then B on the next purchase day",
                       ["item", "name", "then", "then_name", "customers",
                        "median_gap_days"])],
}


def render_baskets(r: Result, console: Console, top: int = 15) -> None:
    """A basket result (baskets, bundles, cross-sell, movers, replenishment) in a terminal:
    the first ``top`` rows of each of its tables, tuples of items joined by " + "."""
    from .files import flat_items

    m = r.meta
    head = [f"{m[k]:,} {k}" for k in ("baskets", "orders") if isinstance(m.get(k), int)]
    if m.get("currency"):
        head.append(f"values in {m['currency']}")
    if head:
        console.print(Text("; ".join(head)))
    movers_by = m.get("by") if r.kind == "movers" else None
    for name, title, cols in BASKET_VIEWS[r.kind]:
        t = r.tables.get(name)
        if t is None or t.empty:
            continue
        shown = [c for c in ([movers_by] if movers_by else []) + cols if c in t.columns]
        if "names" in cols and "names" not in t.columns:  # no product names: ids lead
            shown = [c for c in shown if c != "names"]
            if "itemset" in shown:
                shown = ["itemset"] + [c for c in shown if c != "itemset"]
        if "antecedent_names" in cols and "antecedent_names" not in t.columns:
            shown = ["antecedent", "consequent"] + [c for c in shown
                                                    if c not in ("antecedent", "consequent")]
        more = f"first {top} of {len(t):,}; -f csv/json for all" if len(t) > top else None
        console.print(rich_table(flat_items(t[shown].head(top)), title=title, caption=more,
                                 width=console.width))


#: The candidates' columns a terminal shows (-f csv/json/parquet writes them all).
THRESHOLD_COLUMNS = ["threshold", "label", "aov", "aov_change", "padded_orders",
                     "qualifying_share", "shipping_absorbed", "discount_cost",
                     "gross_profit", "profit_change", "change_band"]


def render_threshold(r: Result, console: Console) -> None:
    """``aovlab threshold`` in a terminal: what was found, the candidates, the pick."""
    m = r.meta
    cur = m["current"]
    resp = m["response"]
    lo, hi = resp["share_band"]
    what = "free shipping" if m["offer"] == "shipping" else "the discount"
    if cur is None:
        found = "no existing threshold"
    else:
        b = m["bunching"]
        found = (f"existing threshold {cur:,.2f} ({m['current_source']}): "
                 f"{b['excess']:,.0f} orders bunched just above it; "
                 f"{b['padded_share']:.1%} [{lo:.1%}, {hi:.1%}] of the orders within "
                 f"{resp['reach']:.0%} below it padded up, by {b['mean_padding']:,.2f} on "
                 "average")
    console.print(Text(f"{m['orders']:,} orders, {m['definition']} AOV {m['aov']:,.2f} "
                       f"{m['currency']}; {found}"))
    console.print(Text(
        f"response {'measured' if resp['measured'] else 'assumed'}: {resp['share']:.0%} "
        f"padded (band {lo:.0%}–{hi:.0%}); margin {m['margin']:.0%} ({m['margin_source']})"
        + (f"; shipping given away per qualifying order {m['fee']:,.2f} ({m['fee_source']})"
           if m["offer"] == "shipping" else "")))
    t = r.table.copy()
    base = t["gross_profit"].iloc[0]
    t["change_band"] = [f"{lo - base:+,.0f} to {hi - base:+,.0f}" if i else "–"
                        for i, (lo, hi) in enumerate(zip(t["profit_low"], t["profit_high"],
                                                         strict=True))]
    cols = [c for c in THRESHOLD_COLUMNS if c in t.columns
            and not (c == "discount_cost" and m["offer"] == "shipping")
            and not (c == "shipping_absorbed" and m["offer"] == "discount")]
    console.print(rich_table(t[cols], title=f"Candidate thresholds for {what}",
                             caption="change_band: the profit change over the response's "
                                     "band; -f csv for every column", width=console.width))
    rec = m["recommended"]
    head = f"recommended: {rec:,.2f}" if rec is not None else "recommended: no threshold"
    console.print(Text(f"{head} — {m['reason']}", style="bold"))
    rule = m["rule_of_thumb"]
    console.print(Text("rule of thumb (30% above AOV): "
                       + (f"{rule:,.2f}" if rule is not None else "left out (see the notes)")))


def render_threshold_change(r: Result, console: Console) -> None:
    """``aovlab threshold-change`` in a terminal: the effects, then the periods."""
    m = r.meta
    who = (f"{', '.join(m['treated'])} ({m['by']}) against "
           f"{', '.join(m['control']) if m['control'] else 'the other values'}"
           if m["comparison"] else "all selected orders, no comparison group")
    console.print(Text(f"{m['days']} days before vs from {m['change']}: {who}; "
                       f"{m['definition']} AOV, {m['currency']}"))
    e = r.tables["effects"]
    if m["comparison"]:
        keep = ["metric", "treated_before", "treated_after", "treated_change",
                "comparison_change", "did", "did_ci_low", "did_ci_high", "did_p",
                "placebo_p"]
    else:
        keep = ["metric", "treated_before", "treated_after", "treated_change",
                "treated_change_pct", "treated_ci_low", "treated_ci_high"]
    console.print(rich_table(e[keep], title="Effects (after − before)",
                             caption=f"{m['level']:.0%} intervals; -f csv for every column",
                             width=console.width))
    console.print(rich_table(r.tables["periods"], title="Periods", width=console.width))


def render_price_test(r: Result, console: Console) -> None:
    """``aovlab price-test`` in a terminal: the arms against the control, the elasticity."""
    m = r.meta
    a = r.tables["arms"]
    cols = ["arm", "price", "control", "visitors", "conversion", "units_per_visitor", "aov",
            "revenue_per_visitor", "profit_per_visitor", "conversion_lift",
            "revenue_per_visitor_lift", "profit_per_visitor_lift"]
    console.print(rich_table(a[[c for c in cols if c in a]],
                             title=f"Price test, against {m['control']:g}",
                             caption="lifts are relative; -f csv for intervals and p-values",
                             width=console.width))
    e = m["elasticity"]
    if e:
        console.print(Text(
            f"elasticity of units per visitor on price: {e['elasticity']:.2f} "
            f"[{e['ci_low']:.2f}, {e['ci_high']:.2f}] (p {e['p']:.3g}, {e['arms']} arms); "
            f"best price for {e['objective']} within the tested range: "
            f"{e['best_price']:,.2f} [{e['best_price_ci_low']:,.2f}, "
            f"{e['best_price_ci_high']:,.2f}]"))
    console.print(Text(f"best tested arm by {m['best_tested_by']}: {m['best_tested']:g}",
                       style="bold"))


def _interval(v: float, lo: float, hi: float, pct: bool) -> str:
    if v != v:  # NaN
        return "—"
    f = (lambda x: f"{x:+.1%}") if pct else (lambda x: f"{x:,.4g}")
    shown = f(v)
    return shown if lo != lo else f"{shown} [{f(lo)}, {f(hi)}]"


def render_abtest(r: Result, console: Console) -> None:
    """``aovlab abtest`` in a terminal: per metric and variant, the value and the lift over
    the control with their intervals; the p-value Holm-adjusted over several variants."""
    m = r.meta
    t = r.table
    several = len(m["variants"]) > 2
    rel = m["relative"]
    rows = []
    for _, x in t.iterrows():
        control = x["code"] == "control"
        rows.append({
            "metric": x["metric"], "variant": x["variant"] + (" (control)" if control else ""),
            "units": int(x["units"]),
            "value [interval]": _interval(x["value"], x["value_low"], x["value_high"], False),
            "lift [interval]": "" if control else _interval(
                x["lift"], x["lift_low"], x["lift_high"], rel),
            "p (Holm)" if several else "p": "" if control or x["p"] != x["p"]
            else f"{x['p_adjusted']:.3g}",
            **({"P(beats control)": "" if control or x.get("chance_to_beat") != x.get(
                "chance_to_beat") else f"{x['chance_to_beat']:.1%}"}
               if "chance_to_beat" in t else {}),
            "how": "" if control else x["method"] if x["code"] == "ok" else x["code"],
        })
    level = f"{m['level']:.0%}"
    console.print(rich_table(pd.DataFrame(rows),
                             title=f"Experiment {m['experiment']} ({m['definition']} AOV, "
                                   f"{m['currency']}), against {m['control']}",
                             caption=f"{level} intervals; lifts "
                                     f"{'relative' if rel else 'absolute'}; -f csv for "
                                     "every column", width=console.width))
    a = r.tables["arms"]
    split = ", ".join(f"{v} {n:,}" for v, n in zip(a["variant"], a["units"], strict=True))
    style = "bold red" if m["srm_flagged"] else "dim"
    console.print(Text(f"units per arm: {split} (sample-ratio check p = {m['srm_p']:.3g})",
                       style=style))
