"""Small hand-made stores used by the metric tests, and a pandas reference implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import mstats

from aovlab import Workspace, import_frame


def tiny_orders() -> pd.DataFrame:
    """Nine orders, hand-checkable: two channels, a guest, a cancellation, a refund."""
    rows = [
        # order, customer, created_at, channel, gross, disc, ship, tax, returns, units, cost, status
        ("o1", "c1", "2024-01-05 10:00", "web", 100.0, 10.0, 5.0, 0.0, 0.0, 2, 40.0, "placed"),
        ("o2", "c2", "2024-01-06 11:00", "web", 50.0, 0.0, 5.0, 0.0, 0.0, 1, 20.0, "placed"),
        ("o3", "c1", "2024-01-20 12:00", "app", 200.0, 20.0, 0.0, 0.0, 0.0, 4, 80.0, "placed"),
        ("o4", None, "2024-01-21 09:00", "app", 30.0, 0.0, 5.0, 0.0, 0.0, 1, None, "placed"),
        ("o5", "c3", "2024-01-22 09:00", "web", 999.0, 0.0, 0.0, 0.0, 0.0, 9, None, "cancelled"),
        ("o6", "c2", "2024-02-02 09:00", "web", 80.0, 0.0, 5.0, 0.0, 30.0, 2, 30.0, "refunded"),
        ("o7", "c3", "2024-02-03 09:00", "app", 300.0, 30.0, 0.0, 0.0, 0.0, 3, 100.0, "placed"),
        ("o8", "c4", "2024-02-10 09:00", "web", 60.0, 0.0, 5.0, 0.0, 0.0, 2, 25.0, "placed"),
        ("o9", "c1", "2024-02-11 09:00", "web", 40.0, 0.0, 5.0, 0.0, 0.0, 1, 15.0, "test"),
    ]
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "created_at", "channel",
                                     "gross_sales", "discounts", "shipping", "tax", "returns",
                                     "units", "cost", "status"])
    df["total"] = df.gross_sales - df.discounts + df.shipping + df.tax
    df["currency"] = "EUR"
    return df


def workspace_with(df: pd.DataFrame, path: str = ":memory:", **settings) -> Workspace:
    ws = Workspace(path)
    settings.setdefault("currency", "EUR")
    import_frame(ws, df, kind="orders", **settings)
    return ws


def _div(a: float, b: float) -> float:
    return a / b if b else np.nan


VALUE = {
    "gross": lambda d: d.gross_sales,
    "net": lambda d: d.gross_sales - d.discounts,
    "net_of_returns": lambda d: d.gross_sales - d.discounts - d.returns,
    "total": lambda d: d.total,
}


def _delta_ci(g: pd.DataFrame, level: float = 0.95) -> tuple[float, float]:
    """AOV's delta-method interval from per-unit (customer, or guest order) totals."""
    unit = g.customer_id.where(g.customer_id.notna(), "guest:" + g.order_id)
    per = g.groupby(unit).agg(x=("value", "sum"), y=("value", "size"))
    n = len(per)
    if n < 5:  # too few independent units for an interval (documented in docs/metrics.md)
        return np.nan, np.nan
    (vx, cxy), (_, vy) = np.cov(per.x, per.y, ddof=1)
    r = per.x.mean() / per.y.mean()
    se = np.sqrt(max(vx - 2 * r * cxy + r * r * vy, 0) / (n * per.y.mean() ** 2))
    t = stats.t.ppf(0.5 + level / 2, n - 1)
    return (max(r - t * se, 0.0) if r >= 0 else r - t * se), r + t * se


def reference_kpis(df: pd.DataFrame, by: list[str], definition: str = "net",
                   statuses=("placed", "refunded"), period: str | None = None,
                   trim: float = 0.05) -> pd.DataFrame:
    """The KPIs computed the plain pandas way, independently of aovlab's SQL."""
    d = df.copy()
    d["created_at"] = pd.to_datetime(d["created_at"], utc=True)
    d = d[d.status.isin(statuses)].copy()
    # new = the customer's first counted order in the whole data, one per customer: walk
    # the orders in time order (order id on ties) and take each customer's first row
    walk = d.sort_values(["created_at", "order_id"], kind="stable")
    first = walk.index[walk.customer_id.notna() & ~walk.duplicated("customer_id")]
    d["customer_type"] = np.where(d.customer_id.isna(), "guest",
                                  np.where(d.index.isin(first), "new", "returning"))
    d["value"] = VALUE[definition](d)
    keys = list(by)
    if period == "month":
        d["period"] = d.created_at.dt.tz_convert(None).dt.to_period("M").dt.start_time.dt.date
        keys = ["period", *keys]
    rows = []
    groups = d.groupby(keys) if keys else [((), d)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        v = g.value
        known = g[g.customer_id.notna()]
        per_c = known.groupby("customer_id").size()
        row = dict(zip(keys, key, strict=True))
        row.update(
            orders=len(g), revenue=v.sum(), aov=v.mean(), median=v.median(),
            trimmed_aov=stats.trim_mean(v, trim),
            winsorized_aov=np.asarray(mstats.winsorize(v.to_numpy(), limits=(trim, trim))).mean(),
            p90=v.quantile(0.9), min_value=v.min(), max_value=v.max(),
            units_per_order=g.units.sum() / len(g), avg_unit_price=v.sum() / g.units.sum(),
            customers=known.customer_id.nunique(),
            purchase_frequency=_div(len(known), known.customer_id.nunique()),
            repeat_customer_rate=_div((per_c >= 2).sum(), len(per_c)),
            avg_customer_spend=_div(known.value.sum(), known.customer_id.nunique()),
            new_orders=int((g.customer_type == "new").sum()),
            returning_orders=int((g.customer_type == "returning").sum()),
            guest_orders=int((g.customer_type == "guest").sum()),
            discount_share=g.discounts.sum() / g.gross_sales.sum(),
            shipping_share=g.shipping.sum() / g.total.sum(),
        )
        row["aov_ci_low"], row["aov_ci_high"] = _delta_ci(g)
        with_cost = g[g.cost.notna()]
        row["margin_per_order"] = ((with_cost.gross_sales - with_cost.discounts
                                    - with_cost.returns - with_cost.cost).sum() / len(with_cost)
                                   if len(with_cost) else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


#: A product name a spreadsheet would run as a formula (OWASP's CSV injection example).
EVIL_PRODUCT = '=HYPERLINK("http://evil.example","free gift")'


def shop_lines(days: int = 90) -> pd.DataFrame:
    """Order lines of a small shop over ``days`` days from 2024-01-01: two channels, two
    countries, a mug in every order and, in every fourth, a product named like a formula."""
    rows = []
    for i in range(days):
        day = str(pd.Timestamp("2024-01-01") + pd.Timedelta(days=i))
        head = (f"o{i}", f"c{i % 23}", day, "web" if i % 3 else "app", "FR" if i % 2 else "DE")
        rows.append((*head, "mug", 1 + i % 3, 12.5))
        if i % 4 == 0:
            rows.append((*head, EVIL_PRODUCT, 1, 40.0 + i))
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "created_at", "channel",
                                       "country", "product_id", "quantity", "unit_price"])


def cdnow_sample_orders(path) -> pd.DataFrame:
    """The CDNOW 1/10 sample (master id, sample id, YYYYMMDD, CDs, dollars) as orders of
    the sample's customer ids, one order per line."""
    s = pd.read_csv(path, sep=r"\s+", header=None, dtype={"date": str},
                    names=["master", "id", "date", "cds", "value"])
    n = s.groupby(["master", "date"]).cumcount().astype(str)
    return pd.DataFrame({"order_id": s["master"].astype(str) + "-" + s["date"] + "-" + n,
                         "customer_id": s["id"].astype(str),
                         "created_at": pd.to_datetime(s["date"]).dt.strftime("%Y-%m-%d"),
                         "gross_sales": s["value"], "total": s["value"], "units": s["cds"]})
