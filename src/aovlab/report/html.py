"""The offline HTML report: one file a store owner opens in any browser, with no network.

:func:`report` runs the analyses (KPIs, the trend, the histogram, breakdowns, the funnel,
why AOV moved; :mod:`.gather`) on one selection and renders them (:func:`render`) with the
Plotly figures of :mod:`.charts` and a Jinja2 template, in the reader's language
(:mod:`.locale`). In the file Plotly's JavaScript is inlined once, so it works offline and
requests nothing; the dashboard serves the same page with its scripts as files, so that
its Content-Security-Policy needs no inline script. Figures travel as JSON data blocks
that one small script draws. The report opens as Shopify Analytics and GA4 do — the last
whole period's AOV, median, orders and revenue beside the period before and a year
earlier — and then shows what they do not: the named definition on every chart, the median
and the outliers, and why AOV moved. A section appears only when the data has what it needs.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import AovlabError
from ..query import Selection
from ..version import __version__
from .charts import Chart, charts
from .files import check_output, replacing, write_text
from .gather import ReportData, gather
from .locale import N_, Speaker
from .terminal import is_missing

#: The figure formats ``--charts DIR`` writes (Plotly's static export through kaleido).
CHART_FORMATS = ("png", "svg")


@dataclass
class Card:
    """One KPI card: its value now and its change against two earlier periods."""

    kpi: str
    label: str
    value: str
    raw: float
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (vs, text, css)
    note: str = ""


def report(source: Any, selection: Selection | None = None, /, *,
           output: str | Path | None = None, force: bool = False,
           title: str | None = None, locale: str | None = None, last: str | None = None,
           vs: str = "previous", charts_dir: str | Path | None = None,
           **options: Any) -> str:
    """The HTML report of ``source`` (a workspace or catalog) for a selection, as text.

    With ``output`` it is also written there (atomically; an existing file only with
    ``force``); with ``charts_dir`` every chart is also written there as PNG and SVG. The
    selection takes the usual keywords (``definition``, ``currency``, ``filters``,
    ``statuses``, ``start``, ``end``, ``engine``); ``last`` narrows the report to the
    data's last whole week, month, quarter or year; ``locale`` (``de``, ``fa``, ``ro``,
    ``zh_TW``; English by default) is the language of its labels, numbers and dates.
    Raises :class:`~aovlab.errors.CurrencyMixError` when the selection holds two currencies
    (pass ``currency=``).
    """
    speaker = Speaker.of(locale)
    sel = Selection.of(selection, **options).with_(by=(), period=None)
    protect = [p] if (p := getattr(source, "path", None)) else []
    target = None if output is None else check_output(output, protect=protect, force=force)
    folder = None if charts_dir is None else _charts_folder(charts_dir)
    data = gather(source, sel, last=last, vs=vs)
    drawn = charts(data, speaker)
    html = render(data, speaker, title=title, drawn=drawn)
    if folder is not None:
        export_charts(drawn, folder, force=force)
    if target is not None:
        write_text(html, target, force=True)
    return html


# -- cards ----------------------------------------------------------------------------------
def _change(row: pd.Series, col: str, tag: str, s: Speaker) -> tuple[str, str]:
    pct = row.get(f"{col}_{tag}_pct", math.nan)
    if bool(row.get(f"{tag}_partial", False)) and not is_missing(pct):
        return s.gettext("partial period"), "muted"
    if is_missing(pct):
        return s.gettext("no earlier data"), "muted"
    return s.percent(pct, signed=True), "up" if pct > 0 else "down" if pct < 0 else "muted"


_CARDS = (("aov", N_("AOV"), "money"), ("median", N_("Median order"), "money"),
          ("orders", N_("Orders"), "count"), ("revenue", N_("Revenue"), "money"),
          ("session_conversion_rate", N_("Session conversion"), "percent"))


def cards(data: ReportData, s: Speaker) -> tuple[list[Card], str]:
    """The KPI cards of the report's opening period, and that period as text."""
    _ = s.gettext
    latest = data.latest
    base = latest if latest is not None else data.overall
    row = base.table.iloc[0]
    cur = str(row["currency"])
    period = (s.date_range(base.meta["start"], base.meta["end"]) if latest is not None
              else s.date_range(base.meta["first_date"], base.meta["last_date"]))
    fmt = {"money": lambda v: s.money(v, cur), "count": s.count,
           "percent": lambda v: s.percent(v, 2)}
    out = []
    for col, label, kind in _CARDS:
        value = row.get(col, math.nan)
        if col == "session_conversion_rate" and is_missing(value):
            continue
        card = Card(col, _(label), fmt[kind](value), float(value))
        if latest is not None and col in ("aov", "orders", "revenue"):
            for tag, vs in (("pop", N_("previous period")), ("yoy", N_("a year earlier"))):
                text, css = _change(row, col, tag, s)
                card.changes.append((_(vs), text, css))
        out.append(card)
    why = data.why
    if why is not None and why.beyond_noise is not None:
        out[0].note = (_("the change is beyond noise") if why.beyond_noise else
                       _("the change is within noise (its 95% interval holds 0)"))
    return out, period


# -- rendering ------------------------------------------------------------------------------
def _json_block(fig: Any) -> str:
    """A figure as JSON that can sit inside ``<script type="application/json">``: ``<``,
    ``>`` and ``&`` escaped, so that no value from the data (a channel named
    ``</script>``) can end the block."""
    text = fig.to_json()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def _environment(code: str):
    """The template environment of one language: one each, as installing a catalog changes
    the environment and the dashboard renders pages of several languages at once."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("aovlab.report", "templates"),
                             autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(Speaker(code).translations, newstyle=True)
    return env


@cache
def script(name: str) -> str:
    """One of the page's scripts: ``plotly.js`` (Plotly's own) or ``aovlab.js`` (draws the
    figures)."""
    if name == "plotly.js":
        from plotly.offline import get_plotlyjs

        return get_plotlyjs()
    if name == "aovlab.js":
        return resources.files("aovlab.report").joinpath("templates", "aovlab.js").read_text(
            encoding="utf-8")
    raise AovlabError(f"no script {name!r}", fix="use plotly.js or aovlab.js")


SCRIPTS = ("plotly.js", "aovlab.js")


def render(data: ReportData, speaker: Speaker | None = None, *, title: str | None = None,
           drawn: list[Chart] | None = None, scripts: str | None = None,
           controls: list[Any] | None = None, downloads: list[Any] | None = None) -> str:
    """The page of ``data`` in ``speaker``'s language.

    With ``scripts`` (a URL prefix such as ``"static/"``) the page loads its scripts from
    there instead of inlining them; ``controls`` and ``downloads`` add the dashboard's
    filter form and download links.
    """
    s = speaker or Speaker()
    env = _environment(s.code)
    meta = data.overall.meta
    card_list, card_period = cards(data, s)
    drawn = charts(data, s) if drawn is None else drawn
    inline = [] if scripts else [script(n) for n in SCRIPTS]
    return env.get_template("report.html.j2").render(
        title=title or s.gettext("AOV report"), lang=s.html_lang, dir=s.direction,
        inline_scripts=inline, script_urls=[scripts + n for n in SCRIPTS] if scripts else [],
        cards=card_list, card_period=card_period,
        sections=[(c, _json_block(c.figure)) for c in drawn], notes=data.notes,
        definition=meta["definition"], formula=meta["formula"], help=meta["help"],
        currency=data.currency,
        date_range=s.date_range(meta["first_date"], meta["last_date"]),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), version=__version__,
        controls=controls or [], downloads=downloads or [])


# -- static charts --------------------------------------------------------------------------
def _charts_folder(folder: str | Path) -> Path:
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise AovlabError(f"--charts {out} is a file", fix="name a folder (it is created)")
    if not out.parent.exists():
        raise AovlabError(f"the folder holding --charts {out} does not exist",
                          fix=f"create {out.parent} first, or write elsewhere")
    return out


def export_charts(drawn: list[Chart], folder: str | Path, *, force: bool = False,
                  formats: tuple[str, ...] = CHART_FORMATS) -> list[Path]:
    """Every chart written to ``folder`` as ``<key>.png`` and ``<key>.svg`` (atomically;
    existing files only with ``force``), through kaleido and the system's Chromium."""
    import plotly.io as pio

    out = _charts_folder(folder)
    out.mkdir(exist_ok=True)
    targets = [(c, check_output(out / f"{c.key}.{fmt}", force=force), fmt)
               for c in drawn for fmt in formats]
    with ExitStack() as stack:  # every file appears only if all were drawn
        temps = [stack.enter_context(replacing(target)) for _c, target, _f in targets]
        try:  # one Chromium for all of them: starting it is most of the time
            pio.write_images([c.figure for c, _t, _f in targets], temps,
                             format=[f for _c, _t, f in targets], width=1000, height=450,
                             scale=[2 if f == "png" else 1 for _c, _t, f in targets])
        except (RuntimeError, ValueError, OSError) as exc:  # no Chromium, or it failed
            raise AovlabError(
                f"could not draw the charts: {str(exc).splitlines()[0] if str(exc) else exc!r}",
                fix="install Chromium (apt-get install chromium) or set BROWSER_PATH to a "
                    "Chrome or Chromium binary") from exc
        empty = [t.name for (_c, t, _f), tmp in zip(targets, temps, strict=True)
                 if tmp.stat().st_size == 0]
        if empty:  # kaleido reports a figure it could not draw by leaving its file empty
            raise AovlabError(f"could not draw {', '.join(empty)}",
                              fix="run again; if it persists, report the figure")
    return [target for _c, target, _f in targets]


def threshold_page(result: Any, speaker: Speaker | None = None) -> str:
    """A threshold result as one offline HTML page: the chart, the recommendation and the
    candidates table (the data behind the chart below it, always)."""
    from html import escape

    from .charts import threshold_chart

    s = speaker or Speaker()
    c = threshold_chart(result, s)
    figure = c.figure.to_html(include_plotlyjs=True, full_html=False)
    rec = result.meta["recommended"]
    head = (s.gettext("Recommended threshold: %(value)s") % {"value": s.number(rec)}
            if rec is not None else s.gettext("Recommended: no threshold"))
    notes = "".join(f"<li>{escape(n)}</li>" for n in result.notes)
    return (f'<!doctype html><html lang="{s.html_lang}" dir="{s.direction}"><head>'
            f'<meta charset="utf-8"><title>{escape(c.title)}</title></head><body '
            'style="font-family: system-ui, sans-serif; max-width: 1100px; margin: auto">'
            f"<h1>{escape(c.title)}</h1>{figure}<p>{escape(c.caption)}</p>"
            f"<h2>{escape(head)}</h2><p>{escape(result.meta['reason'])}</p>"
            f"<ul>{notes}</ul>"
            + result.table.to_html(index=False, float_format=lambda v: f"{v:,.2f}",
                                   na_rep="–")
            + "</body></html>")
