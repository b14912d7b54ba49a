"""Analyse an A/B experiment: per arm and metric, the value, the lift over the control and
how sure it is, at the randomisation unit.

The units are an experiment's ``assignments``; their orders from first exposure on are
the outcomes (:mod:`aovlab.metrics.experiments`), summed per arm into
:class:`~aovlab.stats.experiment.ExperimentStats`, and compared by
:func:`~aovlab.stats.experiment.compare_arms`: AOV and units per order by the delta method
(a customer's orders are not independent), revenue per unit, conversion, orders per unit,
margin per unit and the visit rate by Welch's test, revenue per unit and conversion
CUPED-adjusted by pre-exposure spend; Holm's adjustment over several treatment arms; the
sample-ratio-mismatch check; optionally always-valid (sequential) intervals and the
chance to beat the control.

Capping (``cap``: an amount, or ``"p99"`` for a percentile) is one cap for every arm,
taken from all arms' post-exposure orders together, and applied to each order's value —
so AOV's numerator, revenue per unit and margin all see the same capped orders, and the
denominators (orders, units) are never capped apart from them (GrowthBook issue #6331:
capping the two sides of a ratio separately can flip its sign).
"""

from __future__ import annotations

import math
from typing import Any, Unpack

import pandas as pd

from ... import metrics
from ...engines import connect
from ...errors import DefinitionError, NoDataError
from ...query import Selection, SelectionOptions, require_one_currency
from ...stats.experiment import METRIC_NAMES, ExperimentStats, Options, compare_arms
from ...stats.power import sample_ratio
from ..result import Result

#: Variant names taken as the control when none is given (lower case).
CONTROL_NAMES = ("control", "baseline", "original", "a", "no e-mail", "no email", "holdout",
                 "none")
#: p-value below which the sample-ratio check warns (the usual 0.001: a real mismatch is
#: rarely subtle, and a stricter level keeps false alarms rare over many tests).
SRM_ALPHA = 0.001


def abtest(
    source: Any,
    selection: Selection | None = None,
    /,
    *,
    experiment: str | None = None,
    control: str | None = None,
    cap: float | str | None = None,
    window_days: int | None = None,
    pre_days: int = 365,
    use_cuped: bool = True,
    sequential: bool = False,
    bayesian: bool = False,
    relative: bool = True,
    level: float = 0.95,
    segment: str | None = None,
    shares: dict[str, float] | None = None,
    metrics_wanted: tuple[str, ...] | None = None,
    **options: Unpack[SelectionOptions],
) -> Result:
    """The experiment's result table (``.table``: one row per metric and variant; with
    ``segment``, per segment too) and per-arm counts (``tables["arms"]``).

    ``experiment`` may be left out when the workspace holds one; ``control`` defaults to
    a variant named like a control (control, baseline, A, No E-Mail …). ``cap`` caps each
    order's value at an amount (a number, or text such as ``"500"``), or at a percentile
    of all arms' post-exposure orders (``"p99"``). ``window_days`` counts orders within so
    many days of each unit's first exposure (default: all after it, up to the
    selection's ``end``); ``pre_days`` is the pre-period CUPED reads when the assignments
    carry no ``pre_value``. ``shares`` are the
    planned traffic shares per variant for the sample-ratio check (default equal).
    ``segment`` (channel, country, device or customer_type) adds a breakdown, with a
    warning: slices chosen after the fact find chance differences.
    """
    sel = Selection.of(selection, **options)
    cap = _amount(cap)
    _check(level, pre_days, window_days, segment, metrics_wanted)
    _check_selection(sel)
    eng = connect(source, sel.engine)
    src = dict(sel.filters).get("source")
    name, found_src = _experiment(eng, experiment, src)
    summary = metrics.rows(eng.execute(metrics.post_order_summary(
        eng, name, found_src, sel.definition, sel.statuses, sel.currency, window_days,
        sel.end, quantile=_percentile(cap))))[0]
    if int(summary["currencies"] or 0) > 1:
        require_one_currency(int(summary["currencies"]), sel,
                             fix="choose one with --currency EUR")
    cap_value, cap_note = _cap(cap, summary)
    common = {"source": found_src, "definition": sel.definition, "statuses": sel.statuses,
              "currency": sel.currency, "cap": cap_value, "window_days": window_days,
              "end": sel.end, "pre_days": pre_days}
    arms = _arms(eng, name, common)
    ctrl = _control(control, list(arms))
    arms = {ctrl: arms[ctrl], **{v: s for v, s in arms.items() if v != ctrl}}
    opts = Options(relative=relative, level=level, cuped=use_cuped, sequential=sequential,
                   bayesian=bayesian)
    wanted = metrics_wanted or METRIC_NAMES
    table = pd.DataFrame(compare_arms(arms, ctrl, opts, wanted))
    notes = [cap_note] if cap_note else []
    if window_days is not None and sel.end is not None:
        notes.append(f"units first exposed within {window_days} days of {sel.end} have "
                     "less than the whole window observed")
    if not int(summary["orders"] or 0):
        notes.append("NO ORDERS by the experiment's units after their first exposure: are "
                     "the assignments under the source of the store's orders (they join on "
                     "source and customer_id = unit_id)? Re-import them with --source")
    srm = _srm(arms, ctrl, shares, notes)
    tables = {"abtest": table, "arms": _arms_table(arms, srm)}
    if segment is not None:
        tables["segments"] = _segments(eng, name, common, segment, ctrl, opts, wanted)
        notes.append(f"segments by {segment} were chosen after the test, not randomised "
                     "within: with several slices one differs by chance, so treat a "
                     "segment's lift as a question for the next test, not an answer")
    notes.extend(_reading_notes(table, opts, summary, wanted))
    return Result("abtest", tables, notes=notes, meta={
        "experiment": name, "source": found_src, "control": ctrl,
        "variants": list(arms), "definition": sel.definition.name,
        "formula": sel.definition.formula, "currency": summary["currency_code"],
        "cap": cap_value, "window_days": window_days, "pre_days": pre_days,
        "srm_p": srm.p, "srm_flagged": srm.flagged, "relative": relative, "level": level,
        "cuped": use_cuped, "sequential": sequential, "selection": sel.describe(),
        "engine": getattr(eng, "name", sel.engine_name)})


def _check(level: float, pre_days: int, window_days: int | None, segment: str | None,
           wanted: tuple[str, ...] | None) -> None:
    if not (isinstance(level, float | int) and 0.5 <= level < 1):
        raise DefinitionError(f"level {level!r} must be from 0.5 to 1 (0.95 = 95%)",
                              fix="use e.g. --level 0.95")
    for nm, v in (("pre_days", pre_days), ("window_days", window_days)):
        if v is not None and not (isinstance(v, int) and 1 <= v <= 36_600):
            raise DefinitionError(f"{nm} {v!r} must be a whole number of days from 1",
                                  fix=f"use e.g. --{nm.replace('_', '-')} 14")
    if segment is not None and segment not in metrics.SEGMENTS:
        raise DefinitionError(f"segment {segment!r} is not one aovlab breaks tests down by",
                              fix=f"use one of {', '.join(metrics.SEGMENTS)}")
    bad = [m for m in wanted or () if m not in METRIC_NAMES]
    if bad:
        raise DefinitionError(f"unknown metric(s) {', '.join(bad)}",
                              fix=f"use {', '.join(METRIC_NAMES)}")


def _check_selection(sel: Selection) -> None:
    """What a selection may say to an experiment: statuses, definition, currency, the
    end of the test and the source; the rest would quietly mean something else."""
    other = [k for k, _ in sel.filters if k != "source"]
    if other:
        raise DefinitionError(
            f"an experiment is not filtered by {', '.join(other)}: the units are randomised, "
            "a filter on orders would drop some of their outcomes",
            fix="use --segment to break the result down, or --where source=NAME only")
    if sel.start is not None:
        raise DefinitionError(
            "an experiment counts each unit's orders from its first exposure, not from a "
            "start date", fix="leave out the start; use --window DAYS or --end DATE")
    if sel.by or sel.period:
        raise DefinitionError("an experiment is not grouped by order dimensions",
                              fix="use --segment channel|country|device|customer_type")


def _experiment(eng, experiment: str | None, source: str | None) -> tuple[str, str]:
    """The experiment's name and source, checked against the workspace's experiments."""
    found = eng.execute(metrics.experiment_list(eng))
    if source is not None:
        found = found[found["source"] == source]
    if found.empty:
        raise NoDataError(
            "no experiment assignments in the workspace" + (
                f" under source {source}" if source else ""),
            fix="import them: aovlab import assignments.csv --format assignments --source "
                "<your store's source> (columns unit_id, variant, first_exposure)")
    names = sorted(set(found["experiment"]))
    if experiment is None:
        if len(names) > 1:
            raise DefinitionError(
                f"the workspace holds {len(names)} experiments: {', '.join(names[:10])}",
                fix="name one with --experiment NAME")
        experiment = names[0]
    rows = found[found["experiment"] == experiment]
    if rows.empty:
        raise DefinitionError(f"no experiment {experiment!r} in the workspace",
                              fix=f"use one of {', '.join(names[:10])}")
    if len(rows) > 1:
        raise DefinitionError(
            f"experiment {experiment!r} is in several sources "
            f"({', '.join(rows['source'])})", fix="choose one with --where source=NAME")
    return experiment, str(rows["source"].iloc[0])


def _amount(cap: float | str | None) -> float | str | None:
    """A cap as typed (``"500"``) is an amount; ``"p99"`` stays a percentile."""
    if isinstance(cap, str) and not cap.strip().lower().startswith("p"):
        try:
            return float(cap)
        except ValueError:
            return cap  # refused below, with what a cap may be
    return cap


def _percentile(cap: float | str | None) -> float | None:
    if isinstance(cap, str):
        text = cap.strip().lower().removeprefix("p").removesuffix("%")
        try:
            q = float(text)
        except ValueError:
            q = math.nan
        if not 50 <= q < 100:
            raise DefinitionError(f"cap {cap!r} is not a percentile from p50 to p99.9",
                                  fix="write --cap p99 (the 99th percentile) or an amount "
                                      "such as --cap 500")
        return q / 100
    if cap is not None and not (isinstance(cap, int | float) and math.isfinite(cap)
                                and cap > 0):
        raise DefinitionError(f"cap {cap!r} must be a positive amount or a percentile",
                              fix="write --cap 500 or --cap p99")
    return None


def _cap(cap: float | str | None, summary: dict) -> tuple[float | None, str | None]:
    if cap is None:
        return None, None
    if isinstance(cap, str):
        value = summary.get("cap")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None, "no orders after exposure: nothing to cap"
        return float(value), (
            f"each order's value capped at {float(value):,.2f}, the {cap} of all arms' "
            f"{int(summary['orders']):,} post-exposure orders together; the same capped "
            "orders feed every metric")
    return float(cap), (f"each order's value capped at {float(cap):,.2f} in every arm; the "
                        "same capped orders feed every metric")


def _arms(eng, name: str, common: dict, segment: str | None = None
          ) -> dict[str, ExperimentStats]:
    df = eng.execute(metrics.experiment_stats(eng, name, ExperimentStats, segment=segment,
                                              **common))
    if segment is not None:
        return df
    return {str(r["variant"]): ExperimentStats.from_row(r) for r in metrics.rows(df)}


def _control(control: str | None, variants: list[str]) -> str:
    if len(variants) < 2:
        raise NoDataError(f"the experiment has {len(variants)} variant: nothing to compare",
                          fix="check the assignments' variant column")
    if control is not None:
        if control not in variants:
            raise DefinitionError(f"control {control!r} is not a variant of the experiment",
                                  fix=f"use one of {', '.join(variants)}")
        return control
    named = [v for v in variants if v.strip().lower() in CONTROL_NAMES]
    if len(named) == 1:
        return named[0]
    raise DefinitionError(
        f"which variant is the control? ({', '.join(variants)})",
        fix="name it with --control NAME")


def _srm(arms: dict[str, ExperimentStats], ctrl: str, shares: dict[str, float] | None,
         notes: list[str]):
    names = list(arms)
    counts = [arms[v].units for v in names]
    if shares is not None:
        missing = [v for v in names if v not in shares]
        if missing:
            raise DefinitionError(f"no planned share for variant(s) {', '.join(missing)}",
                                  fix="give one share per variant, e.g. control=0.5,b=0.5")
        bad = [f"{k}={v!r}" for k, v in shares.items()
               if not (isinstance(v, int | float) and math.isfinite(v) and v > 0)]
        if bad:
            raise DefinitionError(f"planned shares must be positive: {', '.join(bad)}",
                                  fix="give one share per variant, e.g. control=0.5,b=0.5")
        # a planned arm with no unit at all is the worst mismatch, not a missing key
        lost = [k for k in shares if k not in arms]
        names, counts = names + lost, counts + [0] * len(lost)
    w = None if shares is None else [shares[v] for v in names]
    srm = sample_ratio(counts, w, alpha=SRM_ALPHA)
    if srm.flagged:
        split = ", ".join(f"{v} {n:,}" for v, n in zip(names, counts, strict=True))
        notes.insert(0, f"SAMPLE RATIO MISMATCH: the units per arm ({split}) are not the "
                        f"planned split (χ² p = {srm.p:.2g}). The assignment or the logging "
                        "is broken, and no result of this test can be trusted until it is "
                        "found")
    return srm


def _arms_table(arms: dict[str, ExperimentStats], srm) -> pd.DataFrame:
    rows = []
    for (v, s), expected in zip(arms.items(), srm.expected, strict=False):
        rows.append({"variant": v, "units": s.units, "expected_units": expected,
                     "converted": s.converted, "orders": s.orders, "revenue": s.revenue,
                     "capped_orders": s.capped_orders, "returning_units": s.returning,
                     "visits_known": s.visits_known})
    return pd.DataFrame(rows)


def _segments(eng, name: str, common: dict, segment: str, ctrl: str, opts: Options,
              wanted: tuple[str, ...]) -> pd.DataFrame:
    df = _arms(eng, name, common, segment)
    out = []
    for seg, part in df.groupby("segment", sort=True):
        arms = {str(r["variant"]): ExperimentStats.from_row(r) for r in metrics.rows(part)}
        if ctrl not in arms or len(arms) < 2:
            continue
        for row in compare_arms(arms, ctrl, opts, wanted):
            out.append({"segment": seg, **row})
    return pd.DataFrame(out)


def _reading_notes(table: pd.DataFrame, opts: Options, summary: dict,
                   wanted: tuple[str, ...]) -> list[str]:
    notes = [f"AOV and units per order are ratios over the randomised units (delta "
             f"method): a customer's orders are not independent. {int(summary['orders']):,} "
             "post-exposure orders"]
    if table.empty:
        return notes + ["none of the metrics asked for can be measured on this data"]
    if opts.cuped and (table["method"].str.startswith("cuped")).any():
        notes.append("revenue per unit and conversion are CUPED-adjusted by each unit's "
                     "spend before exposure (variance_reduction: how much narrower)")
    if opts.sequential:
        notes.append("intervals and p-values are always-valid (sequential): they may be "
                     "read at every look without inflating false positives")
    skipped = [m for m in ("units_per_order", "margin_per_unit", "visit_rate")
               if m in wanted and m not in set(table["metric"])]
    if skipped:
        notes.append(f"not measured: {', '.join(skipped)} (orders without units or costs, "
                     "or assignments without visits)")
    coded = table[~table["code"].isin(["ok", "control"])]
    for _, r in coded.iterrows():
        notes.append(f"{r['metric']} for {r['variant']}: {r['code'].replace('_', ' ')}")
    return notes

