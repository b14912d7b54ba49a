"""Why AOV changed between two periods, in parts that add up exactly to the change.

Three decompositions, all exact (no residual term):

* **Mix vs rate** across a dimension. AOV = Σᵢ wᵢ·aᵢ with wᵢ = nᵢ/N the segment's share of
  orders and aᵢ its AOV. With the midpoint (two-factor Shapley) weights
  ΔAOV = Σᵢ Δwᵢ·āᵢ + Σᵢ w̄ᵢ·Δaᵢ, where x̄ = (x_A + x_B)/2; the first sum is the *mix* effect
  (orders moved between segments), the second the *rate* effect (AOV within segments moved).
  A segment present in one period only has all of its effect as mix.
* **Basket**: AOV = units per order × average unit price; ΔAOV = ΔUPO·ĀPU + ŪPO·ΔAPU.
* **Funnel**: revenue = traffic × conversion rate × AOV, with the three-factor Shapley
  value, ΔR = Σ over factors of Δx · [(y_A z_A + y_B z_B)/3 + (y_A z_B + y_B z_A)/6].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from . import metrics
from .definitions import get_definition
from .errors import CurrencyMixError, DefinitionError, NoDataError
from .kpis import _engine, selection
from .workspace import Workspace


@dataclass
class Explanation:
    """The result of :func:`explain`; every effect column sums to ``change``."""

    definition: str
    dimension: str
    base: tuple[date, date]
    compare: tuple[date, date]
    aov_base: float
    aov_compare: float
    segments: pd.DataFrame  # per segment: shares, AOVs, mix/rate/total effects
    factors: pd.DataFrame  # component, effect, for the basket and funnel identities
    currency: str
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> float:
        return self.aov_compare - self.aov_base

    @property
    def mix_effect(self) -> float:
        return float(self.segments["mix_effect"].sum())

    @property
    def rate_effect(self) -> float:
        return float(self.segments["rate_effect"].sum())

    def top(self, n: int = 5) -> pd.DataFrame:
        """The segments that moved AOV most, either way."""
        s = self.segments
        return s.reindex(s["total_effect"].abs().sort_values(ascending=False).index).head(n)


def _period(value, what: str) -> tuple[date, date]:
    if isinstance(value, str):
        parts = value.split(":") if ":" in value else value.split("..")
        if len(parts) != 2:
            raise DefinitionError(f"{what} period {value!r} is not START:END",
                                  fix="write e.g. 2011-01-01:2011-03-31")
        value = tuple(parts)
    try:
        start, end = (v if isinstance(v, date) else date.fromisoformat(str(v).strip())
                      for v in value)
    except (TypeError, ValueError) as exc:
        raise DefinitionError(f"{what} period {value!r} is not two dates",
                              fix="write e.g. 2011-01-01:2011-03-31") from exc
    if start > end:
        raise DefinitionError(f"{what} period starts after it ends", fix="swap the two dates")
    return start, end


def shapley2(x_a: float, x_b: float, y_a: float, y_b: float) -> tuple[float, float]:
    """Exact split of Δ(x·y) into an x part and a y part (midpoint weights)."""
    return (x_b - x_a) * (y_a + y_b) / 2, (y_b - y_a) * (x_a + x_b) / 2


def shapley3(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
             ) -> tuple[float, float, float]:
    """Exact Shapley split of Δ(x·y·z) into x, y and z parts."""

    def part(x, y, z):
        return (x[1] - x[0]) * ((y[0] * z[0] + y[1] * z[1]) / 3 + (y[0] * z[1] + y[1] * z[0]) / 6)

    return part(a, b, c), part(b, a, c), part(c, a, b)


def mix_rate(n_a, r_a, n_b, r_b) -> pd.DataFrame:
    """Mix and rate effects per segment from order counts and revenues (arrays)."""
    n_a, r_a, n_b, r_b = (np.asarray(x, dtype="float64") for x in (n_a, r_a, n_b, r_b))
    w_a, w_b = n_a / n_a.sum(), n_b / n_b.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        a_a = np.where(n_a > 0, r_a / n_a, np.nan)
        a_b = np.where(n_b > 0, r_b / n_b, np.nan)
    # A segment absent from one period takes its other-period AOV there: no rate effect.
    fa = np.where(np.isnan(a_a), a_b, a_a)
    fb = np.where(np.isnan(a_b), a_a, a_b)
    mix = (w_b - w_a) * (fa + fb) / 2
    rate = (w_a + w_b) / 2 * (fb - fa)
    return pd.DataFrame({"share_base": w_a, "share_compare": w_b, "aov_base": a_a,
                         "aov_compare": a_b, "mix_effect": mix, "rate_effect": rate,
                         "total_effect": mix + rate})


def explain(
    workspace: Workspace,
    base: tuple | str,
    compare: tuple | str,
    *,
    by: str = "channel",
    definition: str | None = None,
    currency: str | None = None,
    traffic_unit: str = "sessions",
    engine: object = "duckdb",
) -> Explanation:
    """Decompose the AOV change from ``base`` to ``compare`` (each ``(start, end)``)."""
    metrics.check_grouping([by], None)
    if traffic_unit not in ("sessions", "visitors"):
        raise DefinitionError(f"traffic unit {traffic_unit!r}", fix="use sessions or visitors")
    pa_, pb_ = _period(base, "base"), _period(compare, "compare")
    eng = _engine(workspace, engine)
    stats, traffic = {}, {}
    notes: list[str] = []
    for tag, (s, e) in (("base", pa_), ("compare", pb_)):
        sel = selection(definition, s, e, currency)
        facts = metrics.order_facts(eng, sel, [by], None)
        df = eng.execute(metrics.order_stats(facts, [by], [0.5]))
        if df.empty:
            raise NoDataError(f"no orders in the {tag} period {s}..{e}",
                              fix="choose periods that hold orders ('aovlab kpis --period month')")
        if int(df["currencies"].max()) > 1 or df["currency_code"].nunique() > 1:
            raise CurrencyMixError("the periods mix currencies",
                                   fix="choose one with --currency EUR")
        df[by] = df[by].astype(str)
        stats[tag] = df.set_index(by)
        t_expr = metrics.traffic_stats(eng, sel, [], None)
        traffic[tag] = eng.execute(t_expr) if t_expr is not None else None
    cur = {stats[t]["currency_code"].iloc[0] for t in stats}
    if len(cur) > 1:
        raise CurrencyMixError(f"the two periods are in different currencies {sorted(cur)}",
                               fix="choose one with --currency")
    a, b = stats["base"], stats["compare"]
    seg = a.index.union(b.index)
    a, b = a.reindex(seg), b.reindex(seg)
    na, nb = a["orders"].fillna(0), b["orders"].fillna(0)
    ra, rb = a["revenue"].fillna(0), b["revenue"].fillna(0)
    parts = mix_rate(na, ra, nb, rb)
    parts.insert(0, by, seg)
    parts.insert(1, "orders_base", na.to_numpy().astype("int64"))
    parts.insert(2, "orders_compare", nb.to_numpy().astype("int64"))
    aov_a, aov_b = ra.sum() / na.sum(), rb.sum() / nb.sum()

    rows = []
    ua, ub = a["units"].fillna(0).sum(), b["units"].fillna(0).sum()
    complete = (a["orders_with_units"].fillna(0).sum() == na.sum()
                and b["orders_with_units"].fillna(0).sum() == nb.sum() and ua > 0 and ub > 0)
    if complete:
        upo = (ua / na.sum(), ub / nb.sum())
        apu = (ra.sum() / ua, rb.sum() / ub)
        e_upo, e_apu = shapley2(upo[0], upo[1], apu[0], apu[1])
        rows += [("aov", "units per order", upo[0], upo[1], e_upo),
                 ("aov", "average unit price", apu[0], apu[1], e_apu)]
    else:
        notes.append("units are missing on some orders: no units × price split")
    ea, eb = shapley2(na.sum(), nb.sum(), aov_a, aov_b)
    rows += [("revenue", "orders", na.sum(), nb.sum(), ea),
             ("revenue", "aov", aov_a, aov_b, eb)]
    ta, tb = traffic["base"], traffic["compare"]
    visits = [None if t is None or t.empty else t[traffic_unit].iloc[0] for t in (ta, tb)]
    if all(v is not None and not pd.isna(v) and v > 0 for v in visits):
        va, vb = float(visits[0]), float(visits[1])
        cr = (na.sum() / va, nb.sum() / vb)
        e_v, e_cr, e_aov = shapley3((va, vb), cr, (aov_a, aov_b))
        rows += [("funnel", traffic_unit, va, vb, e_v),
                 ("funnel", "conversion rate", cr[0], cr[1], e_cr),
                 ("funnel", "aov", aov_a, aov_b, e_aov)]
    else:
        notes.append("no traffic for one of the periods: no traffic × conversion × AOV split")
    factors = pd.DataFrame(rows, columns=["identity", "component", "base", "compare", "effect"])
    order = parts["total_effect"].abs().sort_values(ascending=False).index
    return Explanation(
        definition=get_definition(definition).name, dimension=by, base=pa_, compare=pb_,
        aov_base=float(aov_a), aov_compare=float(aov_b),
        segments=parts.loc[order].reset_index(drop=True), factors=factors,
        currency=cur.pop(), notes=notes,
    )


def check_additivity(x: Explanation, rel: float = 1e-9) -> bool:
    """True when every decomposition adds up to its total change (tests and CLI use it)."""
    tol = rel * max(1.0, abs(x.aov_base), abs(x.aov_compare))
    ok = math.isclose(x.mix_effect + x.rate_effect, x.change, abs_tol=tol)
    for ident, grp in x.factors.groupby("identity"):
        if ident == "aov":
            target = x.change
        else:
            prod_a = np.prod(grp["base"].to_numpy())
            prod_b = np.prod(grp["compare"].to_numpy())
            target = prod_b - prod_a
            tol = rel * max(1.0, abs(prod_a), abs(prod_b))
        ok &= math.isclose(grp["effect"].sum(), target, abs_tol=tol)
    return bool(ok)
