"""Customer lifetime value: predictive (BG/NBD or a sibling, with Gamma-Gamma spend) and
historical (the source articles' AOV × purchase frequency × lifespan × margin).

Predictive, per customer, from the RFM summary up to a cut-off (Fader, Hardie & Lee 2005):

* P(alive) and the purchases expected in the next ``horizon`` months, E[Y(t) | x, t_x, T];
* the spend expected per purchase, E[M | x, m_x] (Gamma-Gamma, which shrinks a customer's
  own mean towards the store's);
* discounted CLV = margin × E[M] × Σ_j (E[Y(t_j)] − E[Y(t_{j−1})]) / (1 + d)^j over the
  months j = 1…horizon, with d the monthly rate of the annual ``discount_rate``.

Historical, for the store: AOV (value per order of the customers' orders) × purchase
frequency (orders per customer-year observed) × lifespan (years; by default the customers'
mean observed age, which makes the product the average customer spend to date) × margin.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, Unpack

import numpy as np
import pandas as pd

from ... import metrics
from ...errors import DefinitionError, ModelError, NoDataError
from ...metrics.customers import cost_margin
from ...models import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from ...query import Selection, SelectionOptions, require_one_currency
from ..result import Result
from .summary import SAME_DAY, UNITS, Summary, summarise

#: The repeat-purchase models by the name ``--model`` takes.
MODELS = {"bgnbd": BetaGeo, "pareto": ParetoNBD, "mbg": ModifiedBetaGeo}
MODEL_LABELS = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "mbg": "MBG/NBD"}
MONTH_DAYS = 365.25 / 12
#: Less history than this (days from the oldest first purchase to the cut-off) is refused.
MIN_HISTORY_DAYS = 28


def clv(source: Any, selection: Selection | None = None, /, *,
        cutoff: date | str | None = None, horizon: int = 12, discount_rate: float = 0.10,
        margin: float | None = None, model: str = "bgnbd", compare: bool = False,
        lifespan_years: float | None = None, unit: str = "week",
        **options: Unpack[SelectionOptions]) -> Result:
    """Per-customer predictive CLV and the store's historical CLV.

    ``horizon`` months ahead, discounted at the annual ``discount_rate``; ``margin`` the
    share of the order value that is profit (default: from the workspace's costs, else 1,
    i.e. CLV of revenue); ``model`` one of ``bgnbd``, ``pareto``, ``mbg``; ``compare`` fits
    all three and adds a comparison table; ``lifespan_years`` projects the historical CLV
    over that lifespan instead of the observed one.

    Tables: ``customers`` (one row each), ``historical``, ``parameters`` and, with
    ``compare``, ``models``.
    """
    if model not in MODELS:
        raise DefinitionError(f"model {model!r} is not one aovlab fits",
                              fix=f"use one of {', '.join(MODELS)}")
    if not (isinstance(horizon, int) and 1 <= horizon <= 600):
        raise DefinitionError(f"horizon {horizon!r} is not a number of months from 1 to 600",
                              fix="pass e.g. --horizon 12")
    if not (math.isfinite(discount_rate) and 0 <= discount_rate < 10):
        raise DefinitionError(f"discount rate {discount_rate!r} is not an annual rate",
                              fix="pass e.g. --discount-rate 0.1 for 10% a year")
    if margin is not None and not (math.isfinite(margin) and 0 < margin <= 1):
        raise DefinitionError(f"margin {margin!r} is not a share of the order value",
                              fix="pass e.g. --margin 0.3 for a 30% margin")
    if lifespan_years is not None and not (math.isfinite(lifespan_years)
                                           and lifespan_years > 0):
        raise DefinitionError(f"lifespan {lifespan_years!r} is not a number of years",
                              fix="pass e.g. --lifespan 3")
    s = summarise(source, selection, cutoff=cutoff, unit=unit, **options)
    c = s.customers
    check_history(s)
    x, t_x, big_t = (c[k].to_numpy(float) for k in ("frequency", "recency", "T"))
    # the margin query (DuckDB or Spark) and the spend model run beside the purchase model
    with ThreadPoolExecutor(max_workers=2) as pool:
        money_job = pool.submit(lambda: metrics.rows(s.engine.execute(
            cost_margin(s.engine, s.selection, s.cutoff)))[0])
        spend_job = pool.submit(_spend_model, c)
        try:
            fitted = MODELS[model]().fit(x, t_x, big_t)
        finally:  # two currencies are the problem to report, whatever else went wrong
            money = money_job.result()
            require_one_currency(int(money["currencies"] or 0), s.selection,
                                 fix="choose one with --currency: a customer's value is in "
                                     "one money")
        spend, spend_notes = spend_job.result()
    notes = [SAME_DAY]
    share, source_note = _margin(margin, money)
    notes.append(source_note)
    if fitted.degenerate_:
        notes.append(f"nobody seems to drop out before the cut-off: the {MODEL_LABELS[model]} "
                     "optimum is on the edge of its parameter space, where it is the NBD "
                     "(no dropout); the limiting fit is reported, every customer alive")
    notes += spend_notes

    days = UNITS[unit]
    steps = np.arange(1, horizon + 1) * MONTH_DAYS / days
    per_order = _expected_spend(spend, c)
    monthly = (1 + discount_rate) ** (1 / 12) - 1
    discount = (1 + monthly) ** -np.arange(1, horizon + 1)
    # Σ_j (E_j − E_{j−1}) d_j = Σ_j E_j (d_j − d_{j+1}), d_{h+1} = 0: one product, no
    # (customers × months) array of increments; beside it the last month's E_h
    weights = discount - np.append(discount[1:], 0.0)
    last = np.zeros(horizon)
    last[-1] = 1.0
    path = fitted.expected_purchases_by(steps, x, t_x, big_t,
                                        combine=np.column_stack([weights, last]))
    value = share * per_order * path[:, 0]
    customers = ranked(c, ["source", "customer_id", "first_purchase", "last_purchase", "orders",
                           "frequency", "recency", "T", "monetary_value"], {
        "probability_alive": fitted.probability_alive(x, t_x, big_t),
        "expected_purchases": path[:, 1],
        "expected_value_per_purchase": per_order,
        "expected_spend": path[:, 1] * per_order,
        "clv": value,
    }, by=value)

    tables = {"customers": customers,
              "historical": _historical(c, days, share, lifespan_years),
              "parameters": _parameters({MODEL_LABELS[model]: fitted, "Gamma-Gamma": spend})}
    if compare:
        tables["models"] = _comparison(x, t_x, big_t, {model: fitted})
    return Result("clv", tables, notes=notes, meta={
        "definition": s.selection.definition.name, "currency": money["currency"],
        "cutoff": s.cutoff, "unit": unit, "horizon_months": horizon,
        "discount_rate": discount_rate, "margin": share,
        "margin_source": "user" if margin is not None else (
            "costs" if share != 1.0 or money["orders_with_cost"] else "none"),
        "model": MODEL_LABELS[model], "params": fitted.params_,
        "degenerate": fitted.degenerate_, "log_likelihood": fitted.log_likelihood_,
        "spend_params": spend.params_, "customers": len(c),
        "repeat_customers": int((x > 0).sum()), "total_clv": float(customers["clv"].sum()),
        "engine": s.engine_name, "selection": s.selection.describe()})


def ranked(frame: pd.DataFrame, keep: list[str], extra: dict[str, np.ndarray],
           by: np.ndarray) -> pd.DataFrame:
    """``frame[keep]`` and the ``extra`` columns, rows in descending order of ``by``.
    Gathered column by column — a pyarrow take for the ids — into a frame that is not
    consolidated: a pandas ``sort_values`` over a million customers moves every block
    twice and costs three times as much."""
    order = np.argsort(-by)  # ties in no promised order: a stable sort costs 3x
    columns = {**{k: frame[k] for k in keep}, **extra}

    def gather(values: Any) -> Any:
        if isinstance(getattr(values, "dtype", None), pd.StringDtype):
            return values.array.take(order)
        return np.asarray(values)[order]

    # random gathers wait on memory, not the CPU, and release the GIL: two at a time
    with ThreadPoolExecutor(max_workers=2) as pool:
        cols = dict(zip(columns, pool.map(gather, columns.values()), strict=True))
    return pd.DataFrame(cols, copy=False)


def check_history(s: Summary) -> None:
    """Refuse a summary with too little history or repeat behaviour to model."""
    c = s.customers
    oldest = float(c["T"].max()) * UNITS[s.unit]
    if oldest < MIN_HISTORY_DAYS:
        raise NoDataError(f"too little history: the oldest customer first bought only "
                          f"{oldest:.0f} days before the cut-off {s.cutoff}",
                          fix=f"use at least {MIN_HISTORY_DAYS} days of orders, better a "
                              "year: the models learn from repeat purchases")
    if int((c["frequency"] > 0).sum()) < 2:
        raise NoDataError(f"{int((c['frequency'] > 0).sum())} of {len(c):,} customers bought "
                          f"again before the cut-off {s.cutoff}: no repeat behaviour to model",
                          fix="use a longer period or a later --cutoff; the historical CLV "
                              "(aovlab kpis: AOV × orders per customer) needs no model")


def _margin(margin: float | None, money: dict) -> tuple[float, str]:
    if margin is not None:
        return margin, f"margin {margin:.1%} of the order value, as set"
    with_cost, orders = int(money["orders_with_cost"] or 0), int(money["orders"] or 0)
    net = float(money["net_sales"] or 0.0)
    if with_cost == 0 or net <= 0:
        return 1.0, ("no costs in the workspace: CLV is of revenue, not profit "
                     "(set --margin to the share of the order value you keep)")
    share = float(money["margin"]) / net
    if not 0 < share <= 1:
        raise ModelError(f"the workspace's costs give a margin of {share:.1%}",
                         fix="check the cost columns, or set --margin")
    note = (f"margin {share:.1%}: (net sales − cost) / net sales of the {with_cost:,} orders "
            f"with a cost ({with_cost / orders:.0%} of {orders:,})")
    if with_cost < orders / 2:
        note += "; under half the orders have a cost: set --margin if it is not typical"
    return share, note


def _spend_model(c: pd.DataFrame) -> tuple[GammaGamma, list[str]]:
    keep = (c["frequency"] > 0) & (c["monetary_value"] > 0)
    dropped = int(((c["frequency"] > 0) & ~keep).sum())
    notes = []
    if dropped:
        notes.append(f"{dropped:,} repeat customer(s) whose repeat orders sum to 0 or less "
                     "are left out of the spend model (they get the store's mean)")
    x, m = c.loc[keep, "frequency"].to_numpy(float), c.loc[keep, "monetary_value"].to_numpy(float)
    spend = GammaGamma().fit(x, m)
    if len(x) > 2 and x.std() > 0 and m.std() > 0:  # a constant has no correlation
        rho = float(np.corrcoef(x, m)[0, 1])
        if abs(rho) > 0.3:
            notes.append(f"repeat frequency and spend per purchase correlate (ρ = {rho:.2f}): "
                         "Gamma-Gamma assumes they do not, so read expected spend with care")
    return spend, notes


def _expected_spend(spend: GammaGamma, c: pd.DataFrame) -> np.ndarray:
    """E[M | x, m_x]; customers without a usable repeat mean get the store's, p v/(q − 1)."""
    usable = (c["frequency"] > 0) & (c["monetary_value"] > 0)
    x = np.where(usable, c["frequency"], 0.0)
    m = np.where(usable, c["monetary_value"], 0.0)
    return spend.conditional_expected_average_value(x, m)


def _historical(c: pd.DataFrame, days: float, margin: float,
                lifespan: float | None) -> pd.DataFrame:
    """The source articles' CLV = AOV × purchase frequency × lifespan × margin, with each
    factor as measured: AOV over the customers' orders, orders per customer-year observed,
    and the customers' mean observed age unless a ``lifespan`` is given."""
    n, orders = len(c), float(c["orders"].sum())
    revenue = float(c["total_value"].sum())
    # a customer first seen on the cut-off day has been observed for one day, not zero
    ages = np.maximum(c["T"].to_numpy(float) * days, 1.0) / 365.25
    aov = revenue / orders
    per_year = orders / float(ages.sum())
    span = float(ages.mean()) if lifespan is None else lifespan
    return pd.DataFrame([{
        "customers": n, "orders": int(orders), "revenue": revenue, "aov": aov,
        "orders_per_customer": orders / n, "average_customer_spend": revenue / n,
        "purchase_frequency_per_year": per_year, "lifespan_years": span,
        "lifespan_source": "observed mean age" if lifespan is None else "as set",
        "margin": margin, "historical_clv": aov * per_year * span * margin,
    }])


def _parameters(models: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for label, m in models.items():
        for row in m.summary():
            rows.append({"model": label, **row})
    return pd.DataFrame(rows)


def _comparison(x, t_x, big_t, done: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name, cls in MODELS.items():
        m = done.get(name) or cls().fit(x, t_x, big_t)
        rows.append({"model": MODEL_LABELS[name],
                     "parameters": ", ".join(f"{k}={v:.4g}" for k, v in m.params_.items()),
                     "log_likelihood": m.log_likelihood_, "aic": m.aic_, "bic": m.bic_,
                     "degenerate": m.degenerate_, "converged": m.converged_})
    out = pd.DataFrame(rows).sort_values("aic", kind="stable").reset_index(drop=True)
    out["delta_aic"] = out["aic"] - out["aic"].min()
    return out
