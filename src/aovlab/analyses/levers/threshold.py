"""Where should a free-shipping (or "X off over Y") threshold be, and what will it cost?

The analysis reads one grouped scan from the engine, so the orders never leave it: the
orders by currency and the first five significant digits of their value
(:func:`aovlab.metrics.value_digits`), which give the totals, the quantiles and the order
values in fine equal-width bins (w₀, a hundredth of the round step of the median: 0.05
for a median of 40) from 0 up to 2.2 × the highest threshold looked at. Everything else
is maths on those bins (:mod:`aovlab.stats.bunching`, :mod:`aovlab.stats.offers`;
:mod:`.distribution` and :mod:`.candidates` here):

1. **The existing threshold** — given, or detected as a jump in the order-value density
   at a round number between P10 and P90 (an excess just above and a deficit just below,
   Bonferroni over the candidates): on a store without one, none is reported.
2. **The response, measured** — at an existing threshold T, bunching: a polynomial
   counterfactual on bins of 1% of T fitted outside the window [T − 30%, T + 10%)
   (within 80% of T each side), under the integration constraint; the padded share of
   the orders that would have landed in the window below T, where the padded orders land,
   and bootstrap intervals. Without a threshold the response is an input, by default the
   published range (12–28% of the orders just below a threshold padded up, Hemmati et
   al.), and the result says the figures are assumptions.
3. **The candidates** — the distribution without the existing threshold (the
   counterfactual inside its window), the response moved to each candidate T′, and per
   candidate the predicted orders, AOV, revenue, shipping absorbed (the per-order shipping
   charged below T, or a fee given), discount cost, gross profit, and a band from the
   response's interval; the recommendation is the candidate with the highest gross
   profit, if it beats having no threshold, with the rule of thumb "30% above AOV" beside
   it.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Unpack

import numpy as np
import pandas as pd

from ... import metrics
from ...engines import connect
from ...errors import DefinitionError, NoDataError
from ...query import Selection, SelectionOptions, require_one_currency, require_orders
from ...stats.bunching import (
    Bunching,
    Jump,
    binned_quantiles,
    bunching_counts,
    critical_z,
    detect_counts,
    rebin,
    round_step,
    round_steps,
)
from ...stats.offers import Response, measured_response, without_bunching
from ..result import Result
from .candidates import candidates_table, join, recommend
from .distribution import Totals, bins_table, fine_bins, with_rest

#: The bunching window below and above T, the bin width and the span each side, as
#: shares of T (the window of the jump test is the same).
BELOW, ABOVE, BIN, SPAN = 0.3, 0.1, 0.01, 0.8
#: The fine bins: a hundredth of the round step; never more than this many.
FINE_PER_STEP, MAX_FINE = 100, 400_000
#: How far above the highest threshold the fine bins reach: the jump test's span (4 ×
#: the window below) above T, plus T.
REACH_FACTOR = 1 + 4 * BELOW
#: The published response where no threshold exists: 12–28% of the orders just below a
#: threshold padded up (Hemmati et al.), the midpoint as the estimate; landing within 10%
#: above it, from within 30% below.
ASSUMED_SHARE, ASSUMED_BAND = 0.20, (0.12, 0.28)
ASSUMED_REACH, ASSUMED_OVERSHOOT = BELOW, 0.2
#: The gross margin assumed when the orders carry no cost and none is given.
ASSUMED_MARGIN = 0.5
#: The rule of thumb the result shows beside the recommendation.
RULE_OF_THUMB = 1.3
#: Below this many orders the predictions rest on a handful of orders per candidate.
FEW_ORDERS = 1000
#: More candidates than a table can show; beyond it the predictions are only slow.
MAX_CANDIDATES = 1000
#: Default candidates: round numbers from 60% to 200% of the AOV.
CANDIDATE_RANGE = (0.6, 2.0)

Offer = Literal["shipping", "discount"]


class ThresholdResult(Result):
    """Candidate thresholds (``.table``), the bins and the detection tests; the existing
    threshold, the response, the recommendation and its reason in ``meta``."""

    @property
    def recommended(self) -> float | None:
        return self.meta["recommended"]

    @property
    def reason(self) -> str:
        return self.meta["reason"]

    @property
    def current(self) -> float | None:
        """The existing threshold (given or detected), or None."""
        return self.meta["current"]

    @property
    def response(self) -> Response:
        r = self.meta["response"]
        return Response(r["share"], r["reach"], r["overshoot"], r["measured"])

    @property
    def assumptions(self) -> list[str]:
        return self.meta["assumptions"]


def _check(name: str, value: float | None, low: float, high: float | None, fix: str) -> None:
    if value is None:
        return
    ok = isinstance(value, int | float) and math.isfinite(value) and value >= low and (
        high is None or value <= high)
    if not ok:
        span = f"from {low:g} to {high:g}" if high is not None else f"{low:g} or more"
        raise DefinitionError(f"{name} {value!r} must be a number {span}", fix=fix)


def threshold(
    source: Any,
    selection: Selection | None = None,
    /,
    *,
    current: float | None = None,
    offer: Offer = "shipping",
    fee: float | None = None,
    amount: float = 0.0,
    rate: float = 0.0,
    margin: float | None = None,
    share: float | None = None,
    reach: float | None = None,
    overshoot: float | None = None,
    candidates: list[float] | None = None,
    detect: bool = True,
    alpha: float = 0.05,
    degree: int = 5,
    boots: int = 200,
    level: float = 0.95,
    seed: int = 0,
    **options: Unpack[SelectionOptions],
) -> ThresholdResult:
    """Candidate free-shipping (``offer="shipping"``) or "X off over Y"
    (``offer="discount"``: ``amount`` off per qualifying order, or ``rate`` off its value)
    thresholds side by side, with the recommended one and why.

    ``current``: the store's existing threshold (else detected when ``detect``; pass
    ``detect=False`` to assume none). ``fee``: the shipping a qualifying order no longer
    pays (default: the mean shipping charged per order below the existing threshold, or
    per order). ``margin``: gross margin on order value (default: from the orders' costs,
    else assumed 50%). ``share``, ``reach``, ``overshoot`` override the response (the
    share of the orders within ``reach`` × T′ below a threshold T′ that pad up, landing up
    to ``overshoot`` × T′ above it). ``candidates``: thresholds to compare (default: round
    numbers from 60% to 200% of the AOV). ``boots`` bootstrap resamples (``seed``) give
    the ``level`` interval of the measured response.
    """
    if offer not in ("shipping", "discount"):
        raise DefinitionError(f"offer {offer!r} is not one aovlab models",
                              fix="use shipping (free shipping over a threshold) or discount "
                                  "(X off over a threshold)")
    _check("the current threshold", current, 1e-9, None, "pass the threshold in the "
           "store's currency, e.g. 50")
    _check("the shipping fee", fee, 0, None, "pass the shipping charged per order, e.g. 4.95")
    _check("the discount amount", amount, 0, None, "pass the amount off, e.g. 10")
    _check("the discount rate", rate, 0, 1, "pass a share, e.g. 0.1 for 10% off")
    _check("the margin", margin, 0, 1, "pass the gross margin as a share, e.g. 0.45")
    _check("the padded share", share, 0, 1, "pass a share, e.g. 0.2")
    _check("the reach", reach, 1e-9, 0.99, "pass a share of the threshold, e.g. 0.3")
    _check("the overshoot", overshoot, 0, 10, "pass a share of the threshold, e.g. 0.1")
    _check("alpha", alpha, 1e-12, 0.5, "use e.g. 0.05")
    _check("the level", level, 0.5, 0.999, "use e.g. 0.95")
    if not (isinstance(boots, int) and 0 <= boots <= 10_000):
        raise DefinitionError(f"boots {boots!r} must be a whole number from 0 to 10,000",
                              fix="use e.g. 200")
    if not (isinstance(degree, int) and 1 <= degree <= 9):
        raise DefinitionError(f"degree {degree!r} must be a whole number from 1 to 9",
                              fix="use 5 (the bunching literature's usual choice)")
    if offer == "discount" and not (amount or rate):
        raise DefinitionError("a discount offer needs an amount or a rate off",
                              fix="pass amount=10 (10 off) or rate=0.1 (10% off)")
    if amount and rate:
        raise DefinitionError("pass an amount or a rate off, not both",
                              fix="keep one of them")
    if candidates is not None:
        if not 1 <= len(candidates) <= MAX_CANDIDATES:
            raise DefinitionError(f"{len(candidates):,} candidate thresholds: pass 1 to "
                                  f"{MAX_CANDIDATES:,}", fix="e.g. candidates=[40, 50, 60]")
        for c in candidates:
            _check("a candidate threshold", c, 1e-9, None, "pass thresholds above 0")

    sel = Selection.of(selection, **options)
    eng = connect(source, sel.engine)
    facts = metrics.order_facts(eng, sel, by=(), period=None, customer_type=False)
    # one grouped scan: the orders by their currency and value's first five digits
    groups = eng.execute(metrics.value_digits(
        facts, shipping=offer == "shipping" and fee is None, costed=margin is None))
    require_orders(int(groups["orders"].sum()) if len(groups) else 0)
    codes = set(groups["currency"].dropna())
    require_one_currency(len(codes), sel.with_(by=()), fix="choose one with --currency EUR")
    low, high = metrics.digit_bounds(groups["key"].to_numpy())
    order = np.argsort(low, kind="stable")
    groups = groups.iloc[order].reset_index(drop=True)
    low, high = low[order], high[order]
    costs = (0.0, 0.0)
    if "orders_with_cost" in groups and groups["orders_with_cost"].sum() > 0:
        r = metrics.rows(eng.execute(metrics.cost_totals(facts)))[0]
        costs = (float(r["margin"] or 0), float(r["cost"] or 0))
    o = Totals.of(groups, low, high, costs)
    p10, med, p90 = binned_quantiles(groups["orders"], low, np.maximum(high - 1e-12 * np.abs(
        high), low), [0.1, 0.5, 0.9])
    aov = o.revenue / o.orders
    if not (med > 0 and aov > 0):
        raise NoDataError("the median order value or the AOV is not above 0: there is no "
                          "order-value distribution to put a threshold in",
                          fix="check the AOV definition (--definition) and --status")
    if current is not None and not o.min_value <= current <= o.max_value:
        raise DefinitionError(
            f"the current threshold {current:g} is outside the order values "
            f"({o.min_value:,.2f} to {o.max_value:,.2f}): no orders to measure it on",
            fix="pass the threshold in the orders' currency and AOV definition, or leave "
                "--current out to detect one")
    notes: list[str] = []
    assumptions: list[str] = []

    # the grid: every threshold looked at sits on a fine edge. The candidates centre on
    # the AOV, unless a few huge orders pull it above P90: then on P90
    step = round_step(med)
    centre = min(aov, p90) if p90 > 0 else aov
    if aov > 3 * max(med, 1e-12):
        notes.append(f"the AOV ({aov:,.2f}) is {aov / med:.1f}× the median ({med:,.2f}): a "
                     "few large orders pull it up, so the candidates centre on "
                     f"{centre:,.2f}" + (" (P90)" if centre < aov else ""))
    cand_step = round_step(centre)
    if candidates is None:
        lo_c, hi_c = CANDIDATE_RANGE
        cands = list(np.arange(math.ceil(lo_c * centre / cand_step) * cand_step,
                               hi_c * centre + cand_step / 2, cand_step))
    else:
        cands = [float(c) for c in candidates]
    detect_at = round_steps(p10, med, p90) if current is None and detect else np.array([])
    rule_at = RULE_OF_THUMB * aov
    looked = max([*cands, *detect_at, current or 0.0])
    if rule_at > 2 * looked:  # a rule far beyond every candidate would stretch the bins
        notes.append(f"the rule of thumb (30% above AOV, {rule_at:,.2f}) is far beyond the "
                     "candidates and is left out of the table")
        rule_at = None
    # bins above the largest order would all be empty: thresholds beyond it need none
    top = min(max(looked, rule_at or 0.0), max(o.max_value, rule_at or 0.0))
    w0 = step / FINE_PER_STEP
    while REACH_FACTOR * top / w0 > MAX_FINE:
        w0 *= 10
    n_fine = int(math.ceil(REACH_FACTOR * top / w0)) + 1
    fine = w0 * np.arange(n_fine + 1)
    counts, sums, ship = fine_bins(groups, low, w0, n_fine)

    def snap(x: float) -> float:
        # rounded: 4289 × 0.05 is 214.45000000000002 in binary
        return float(np.round(np.rint(x / w0) * w0, 9))

    # 1. the existing threshold
    jump_hit: Jump | None = None
    tests: list[Jump] = []
    t0 = snap(current) if current is not None else None
    if t0 is not None and t0 < 10 * w0:
        raise DefinitionError(
            f"the current threshold {current:g} is too small for these order values (median "
            f"{med:,.2f}): the bunching fit needs bins of at least {w0:g}",
            fix="pass the threshold in the orders' currency, or leave --current out")
    source_of_t0 = "given" if current is not None else None
    if current is None and detect and not len(detect_at):
        notes.append("too few distinct order values to look for an existing threshold: "
                     "the response below is assumed, not measured")
    if t0 is None and len(detect_at):
        jump_hit, tests = detect_counts(fine, counts, detect_at, alpha=alpha, below=BELOW,
                                        above=ABOVE, width=BIN, degree=degree)
        if jump_hit is not None:
            t0, source_of_t0 = float(jump_hit.threshold), "detected"
            notes.append(
                f"a threshold was detected at {t0:g}: {_share_of(jump_hit)}, the weaker beyond "
                f"the critical {critical_z(alpha, len(tests)):.1f} for {len(tests)} round "
                "candidates; pass --current to set it, or --no-detect to assume none")
        else:
            notes.append(
                f"no threshold found: no round number from {detect_at[0]:g} to "
                f"{detect_at[-1]:g} shows orders bunched just above it beyond noise "
                f"({len(tests)} tested, α {alpha:g} with Bonferroni); the response below is "
                "assumed, not measured")

    # 2. the response: measured by bunching at T0, else assumed
    fit: Bunching | None = None
    c0, s0 = counts, sums
    if t0 is not None:
        fit = _bunching(fine, counts, t0, w0, degree=degree, boots=boots, level=level,
                        seed=seed)
        resp = measured_response(fit)
        c0, s0 = without_bunching(fine, counts, sums, fit)
        lo_s, hi_s = (min(max(x, 0.0), 1.0) for x in fit.padded_share_ci)
        band = (lo_s, hi_s) if all(map(math.isfinite, (lo_s, hi_s))) else (resp.share,
                                                                              resp.share)
        if not fit.padded_share > 0:
            notes.append(f"no orders were padded up to {t0:g}: the bunching fit finds no "
                         "excess mass above it, so the candidates are predicted with no "
                         "response")
    else:
        resp = Response(ASSUMED_SHARE, ASSUMED_REACH, ASSUMED_OVERSHOOT, measured=False)
        band = ASSUMED_BAND
        assumptions.append(
            f"the response is assumed, not measured: {ASSUMED_SHARE:.0%} (band "
            f"{ASSUMED_BAND[0]:.0%}–{ASSUMED_BAND[1]:.0%}, Hemmati et al.) of the orders "
            f"within {ASSUMED_REACH:.0%} below a threshold pad up to it, landing up to "
            f"{ASSUMED_OVERSHOOT:.0%} above; pass --share, --reach, --overshoot to set it")
    given = {k: v for k, v in (("share", share), ("reach", reach),
                               ("overshoot", overshoot)) if v is not None}
    if given:
        resp = Response(given.get("share", resp.share), given.get("reach", resp.reach),
                        given.get("overshoot", resp.overshoot), measured=False)
        if "share" in given:
            band = (resp.share, resp.share)
        assumptions.append("the response is set by hand: " + ", ".join(
            f"{k} {v:g}" for k, v in given.items()))

    # costs: the shipping given away per qualifying order and the gross margin
    if offer == "discount":
        fee_used, fee_from = 0.0, "not used (a discount offer)"
    elif fee is not None:
        fee_used, fee_from = float(fee), "given"
    else:
        x = (fine[:-1] + fine[1:]) / 2
        below = x < t0 if t0 is not None else np.ones(n_fine, bool)
        n_below = counts[below].sum()
        fee_used = float(ship[below].sum() / n_below) if n_below else 0.0
        where = f"below {t0:g}" if t0 is not None else "of all orders"
        fee_from = f"the mean shipping charged per order {where} in the data"
        if fee_used == 0:
            assumptions.append("the orders carry no shipping charge, so free shipping gives "
                               "nothing away here; pass --fee with what a shipment costs you")
    margin_used, margin_from = _margin(o, margin)
    if margin_from == "assumed":
        assumptions.append(f"no costs in the orders: a gross margin of {margin_used:.0%} "
                           "is assumed; pass --margin")
    if sel.definition.name == "total" and offer == "shipping":
        notes.append("the total definition counts shipping in the order value: the "
                     "shipping given away is counted as a cost, not taken off the value")
    if o.orders < FEW_ORDERS:
        notes.append(f"only {o.orders:,} orders: a candidate's prediction rests on the few "
                     "orders just below it; read the table as a sketch")
    notes.append("orders are moved, not created: a threshold's effect on conversion is not "
                 "modelled, and the band covers the response's uncertainty only")

    # the distribution as the predictions read it: fine bins, then the orders beyond them
    neg = (float(o.negative_orders), o.negative_revenue)
    edges, c_all, s_all = with_rest(fine, c0, s0, o, float(counts.sum()),
                                     float(sums.sum()), neg)
    rule = snap(rule_at) if rule_at is not None else None
    # a candidate below the bin width would be 0: the smallest bin edge stands for it
    wanted = sorted({max(snap(c), w0) for c in cands} | ({rule} if rule else set())
                    | ({t0} if t0 is not None else set()))
    costs = {"margin": margin_used, "fee": fee_used, "amount": amount, "rate": rate}
    table = candidates_table(edges, c_all, s_all, wanted, resp, band, costs, t0, rule)
    rec, reason = recommend(table, resp, band, t0, margin_used)
    if rec is not None:
        table.loc[table["threshold"] == rec, "label"] = join(
            table.loc[table["threshold"] == rec, "label"].iloc[0], "recommended")

    bins = bins_table(fit, fine, counts, p90, step)
    det = pd.DataFrame([{"threshold": j.threshold, "z_above": j.z_above,
                         "z_below": j.z_below, "z": j.z} for j in tests],
                       columns=["threshold", "z_above", "z_below", "z"])
    if len(det):
        det["detected"] = det["threshold"] == (jump_hit.threshold if jump_hit else None)
    fitted = {} if fit is None else {
        "excess": fit.excess, "missing": fit.missing, "padded_share": fit.padded_share,
        "padded_share_ci": list(fit.padded_share_ci), "mean_padding": fit.mean_padding,
        "mean_padding_ci": list(fit.mean_padding_ci), "window": [t0 - fit.below,
                                                                 t0 + fit.above],
        "bin_width": float(fit.edges[1] - fit.edges[0]), "degree": degree,
        "boots": boots, "level": level}
    return ThresholdResult("threshold", {"candidates": table, "bins": bins,
                                         "detection": det},
                           notes=notes + assumptions, meta={
        "definition": sel.definition.name, "formula": sel.definition.formula,
        "currency": next(iter(codes), None), "statuses": list(sel.statuses),
        "start": sel.start, "end": sel.end, "engine": getattr(eng, "name", sel.engine_name),
        "offer": offer, "orders": o.orders, "aov": aov, "median": med,
        "current": t0, "current_source": source_of_t0, "bunching": fitted,
        "response": {"share": resp.share, "share_band": list(band), "reach": resp.reach,
                     "overshoot": resp.overshoot, "measured": resp.measured},
        "fee": fee_used, "fee_source": fee_from, "amount": amount, "rate": rate,
        "margin": margin_used, "margin_source": margin_from,
        "rule_of_thumb": rule, "recommended": rec, "reason": reason,
        "assumptions": assumptions, "bin_width": w0, "selection": sel.describe()})


def _share_of(j: Jump) -> str:
    return (f"an excess of orders just above it (z {j.z_above:.1f}) and a deficit just "
            f"below (z {j.z_below:.1f})")


def _bunching(fine: np.ndarray, counts: np.ndarray, t0: float, w0: float, *,
              degree: int, boots: int, level: float, seed: int) -> Bunching:
    """The bunching fit at ``t0`` on bins of ~1% of it summed from the fine bins: the
    window [T − 30%, T + 10%), the polynomial over 80% of T each side (not below 0)."""
    k = max(1, int(round(BIN * t0 / w0)))
    width = k * w0
    nb, na = max(1, int(round(BELOW * t0 / width))), max(1, int(round(ABOVE * t0 / width)))
    span = int(round(SPAN * t0 / width))
    lo = max(span, nb + 1)
    lo = min(lo, int(math.floor(t0 / width + 1e-9)))  # order values start at 0
    hi = max(span, na + 1)
    grid = t0 + width * np.arange(-lo, hi + 1)
    c = rebin(fine, counts, grid)
    try:
        return bunching_counts(grid, c, t0, below=nb * width, above=na * width,
                               degree=degree, boots=boots, level=level, seed=seed)
    except ValueError as e:
        raise NoDataError(f"the bunching fit at {t0:g} cannot be made: {e}",
                          fix="check the threshold (--current) against the order values, "
                              "or lower --degree") from None


def _margin(o: Totals, given: float | None) -> tuple[float, str]:
    """The gross margin on order value: given, else Σ margin / Σ net sales (margin +
    cost) of the orders with a cost, else assumed."""
    if given is not None:
        return float(given), "given"
    net = o.margin + o.cost
    if o.orders_with_cost == 0 or net <= 0:
        return ASSUMED_MARGIN, "assumed"
    cover = o.orders_with_cost / o.orders
    return o.margin / net, f"the orders' costs ({cover:.0%} of the orders have one)"
