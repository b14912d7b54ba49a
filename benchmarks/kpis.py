"""aovlab.kpis against hand-written DuckDB SQL, pandas and polars, on a synthetic store.

    python benchmarks/kpis.py                       # 10M orders (first run generates them)
    python benchmarks/kpis.py --orders 1000000      # quick run

The store is generated once with :mod:`aovlab.synthetic` (orders only) and cached in
``benchmarks/_work/`` (Parquet files plus an imported workspace). Every contender computes
the same outputs for ``by=["channel"], period="month"``, net definition:

* ``aovlab``: ``aovlab.kpis(ws, by=["channel"], period="month").table``.
* ``duckdb-sql``: one hand-written SQL statement of the same 40 columns on the same
  workspace connection.
* ``duckdb-min``: the query a user would write by hand for AOV by month × channel —
  orders, revenue, AOV, median and p90 in one ``GROUP BY`` — the floor any KPI table
  stands on (its five columns are checked against aovlab's too).
* ``pandas``/``polars``: the orders read from the same Parquet files; the read is timed
  and reported separately and is *not* part of the compute time.

Rounds are interleaved (aovlab, sql, pandas, polars, aovlab, ...) so that load from other
processes on a shared machine hits all contenders alike; the median of ``--repeats`` runs
is reported. All four results are checked against each other (40 columns).

Memory: in the timing process, peak RSS per run (Linux ``VmHWM``, reset before each run via
``/proc/self/clear_refs``) and the RSS when the run started are shown, but they mix with
what the other contenders hold (DuckDB keeps its buffer pool, pandas/polars their frames).
The clean figure is the second table: each contender run once in a fresh process
(``--isolated``), its ``VmHWM`` including the Parquet read for pandas/polars.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

import aovlab
from aovlab import synthetic

HERE = Path(__file__).resolve().parent
PCT = (0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
TRIM = 0.05
LEVEL = 0.95
MIN_UNITS = 5  # no interval below this many independent units (docs/metrics.md)
COUNTED = ("placed", "refunded")
#: Columns checked across the four contenders (all that derive from orders).
CHECKED = ["orders", "revenue", "aov", "aov_std", "aov_ci_low", "aov_ci_high", "median",
           "trimmed_aov", "winsorized_aov", "p25", "p75", "p90", "p95", "p99", "min_value",
           "max_value", "units_per_order", "avg_unit_price", "customers",
           "purchase_frequency", "repeat_customer_rate", "avg_customer_spend", "new_orders",
           "new_aov", "returning_orders", "returning_aov", "guest_orders", "guest_aov",
           "discount_share", "shipping_share", "margin_per_order", "cost_coverage",
           "aov_pop_change", "aov_pop_pct", "revenue_pop_pct", "orders_pop_pct",
           "aov_yoy_change", "aov_yoy_pct", "revenue_yoy_pct", "orders_yoy_pct"]
#: Looser tolerances per column (none: the trimmed means cut by rank, as SciPy, so every
#: contender keeps the same orders; the quantile cut points they once used were
#: interpolated with different rounding).
RTOL: dict[str, float] = {}
READ_COLUMNS = ["order_id", "customer_id", "created_at", "order_date", "channel", "currency",
                "gross_sales", "discounts", "shipping", "returns", "total", "cost", "units",
                "status"]


# -- memory -------------------------------------------------------------------------------
def _status(key: str) -> int:
    """A ``/proc/self/status`` value in bytes (0 where unavailable)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak() -> bool:
    """Reset the process's peak RSS (Linux ≥ 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def rss() -> int:
    return _status("VmRSS")


def peak_rss() -> int:
    return _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


# -- data -----------------------------------------------------------------------------------
def prepare(n_orders: int, seed: int, workdir: Path) -> tuple[Path, Path]:
    """Generate (once) the Parquet store and the imported workspace; return their paths."""
    store_dir = workdir / f"store-{n_orders}-s{seed}-orders"
    db = workdir / f"kpis-{n_orders}-s{seed}.duckdb"
    m = synthetic.read_manifest(store_dir)
    if m is None or m.n_orders != n_orders or m.seed != seed:
        print(f"generating {n_orders:,} orders in {store_dir} ...", flush=True)
        db.unlink(missing_ok=True)
        m = synthetic.write_orders(store_dir, n_orders, seed=seed, lines=False,
                                   progress=lambda s: print("  " + s, flush=True))
        print(f"  generated in {m.seconds:.1f}s", flush=True)
    if db.exists():
        try:
            with aovlab.Workspace(db, read_only=True) as ws:
                if ws.count("orders") == n_orders:
                    return store_dir, db
        except aovlab.WorkspaceError as exc:  # written by another aovlab: import again
            print(f"  {exc.message}: importing again", flush=True)
        db.unlink()
        db.with_name(db.name + ".wal").unlink(missing_ok=True)
    print(f"importing into {db} ...", flush=True)
    t = time.perf_counter()
    with aovlab.Workspace(db) as ws:
        ws.con.execute("SET enable_progress_bar = false")
        s = synthetic.import_synthetic(ws, store_dir, lines=False)
    print(f"  imported {s.orders_added:,} orders in {time.perf_counter() - t:.1f}s", flush=True)
    return store_dir, db


# -- (b) hand-written DuckDB SQL ------------------------------------------------------------
#: Quantiles every contender computes: the trim cut points and the percentiles.
QS = PCT
QNAMES = ("p25", "median", "p75", "p90", "p95", "p99")
HAND_SQL = f"""
WITH f AS (
  SELECT customer_id,
         date_trunc('month', order_date) AS period,
         coalesce(channel, '(not set)') AS channel,
         currency,
         gross_sales - discounts AS value,
         gross_sales - discounts - returns AS net_value,
         units, gross_sales, discounts, shipping, total, cost,
         CASE WHEN customer_id IS NULL THEN 'guest'
              -- one first order per customer: of two at the same instant, the lower id
              WHEN row_number() OVER (PARTITION BY source, customer_id
                                      ORDER BY created_at, order_id) = 1 THEN 'new'
              ELSE 'returning' END AS customer_type
  FROM orders
  WHERE status IN ('placed', 'refunded')
),
g AS (  -- order-level statistics per month x channel
  SELECT period, channel,
         count(*) AS orders, sum(value) AS revenue, stddev_samp(value) AS aov_std,
         quantile_cont(value, {list(QS)}) AS q,
         min(value) AS min_value, max(value) AS max_value,
         sum(units) AS units, count(units) AS orders_with_units,
         count(*) FILTER (WHERE customer_type = 'new') AS new_orders,
         avg(value) FILTER (WHERE customer_type = 'new') AS new_aov,
         count(*) FILTER (WHERE customer_type = 'returning') AS returning_orders,
         avg(value) FILTER (WHERE customer_type = 'returning') AS returning_aov,
         count(*) FILTER (WHERE customer_type = 'guest') AS guest_orders,
         avg(value) FILTER (WHERE customer_type = 'guest') AS guest_aov,
         sum(value) FILTER (WHERE customer_type = 'guest') AS guest_x,
         sum(value * value) FILTER (WHERE customer_type = 'guest') AS guest_xx,
         sum(discounts) / sum(gross_sales) AS discount_share,
         sum(shipping) / sum(total) AS shipping_share,
         avg(net_value - cost) AS margin_per_order,
         count(cost) / count(*) AS cost_coverage,
         CASE WHEN count(DISTINCT currency) = 1 THEN max(currency) ELSE '(mixed)' END
             AS currency
  FROM f GROUP BY ALL
),
c AS (  -- known customers per month x channel
  SELECT period, channel, count(*) AS customers,
         count(*) FILTER (WHERE n >= 2) AS repeat_customers,
         sum(n) AS customer_orders, sum(x) AS customer_revenue,
         sum(x * x) AS sxx, sum(n * n) AS syy, sum(x * n) AS sxy
  FROM (SELECT period, channel, customer_id, count(*) AS n, sum(value) AS x
        FROM f WHERE customer_id IS NOT NULL GROUP BY ALL)
  GROUP BY ALL
),
t AS (  -- 5 % trimmed and winsorized means as SciPy: floor(n * 0.05) cut from each end
  SELECT period, channel,
         avg(value) FILTER (WHERE r >= k AND r < n - k) AS trimmed_aov,
         (sum(value) FILTER (WHERE r >= k AND r < n - k)
          + max(k) * (max(value) FILTER (WHERE r = k) + max(value) FILTER (WHERE r = n - 1 - k)))
           / max(n) AS winsorized_aov
  FROM (SELECT period, channel, value, n, CAST(floor(n * {TRIM}) AS BIGINT) AS k,
               row_number() OVER (PARTITION BY period, channel ORDER BY value) - 1 AS r
        FROM (SELECT *, count(*) OVER (PARTITION BY period, channel) AS n FROM f))
  GROUP BY ALL
),
k AS (
  SELECT g.period, g.channel, 'net' AS definition, currency, orders, revenue,
         revenue / orders AS aov,
         -- delta-method interval for revenue / orders, customers (guest orders) as units
         customers + guest_orders AS n_units,
         coalesce(sxx, 0) + coalesce(guest_xx, 0) AS sum_xx,
         coalesce(syy, 0) + guest_orders AS sum_yy,
         coalesce(sxy, 0) + coalesce(guest_x, 0) AS sum_xy,
         aov_std, q[2] AS median, trimmed_aov, winsorized_aov,
         q[1] AS p25, q[3] AS p75, q[4] AS p90, q[5] AS p95, q[6] AS p99,
         min_value, max_value,
         CASE WHEN orders_with_units = orders THEN units / orders END AS units_per_order,
         CASE WHEN orders_with_units = orders THEN revenue / units END AS avg_unit_price,
         coalesce(customers, 0) AS customers,
         customer_orders / customers AS purchase_frequency,
         repeat_customers / customers AS repeat_customer_rate,
         customer_revenue / customers AS avg_customer_spend,
         new_orders, new_aov, returning_orders, returning_aov, guest_orders, guest_aov,
         discount_share, shipping_share, margin_per_order, cost_coverage
  FROM g LEFT JOIN c USING (period, channel) LEFT JOIN t USING (period, channel)
),
v AS (
  SELECT *, revenue / n_units AS mx, orders / n_units AS my FROM k
),
ci AS (
  -- the standard error; the t quantile on n_units - 1 is applied in Python (t_interval)
  SELECT * EXCLUDE (sum_xx, sum_yy, sum_xy, mx, my, var), sqrt(var) AS se
  FROM (
    SELECT *,
           CASE WHEN n_units >= 2 THEN greatest(
             (sum_xx - n_units * mx * mx) / (n_units - 1)
             - 2 * (mx / my) * (sum_xy - n_units * mx * my) / (n_units - 1)
             + (mx / my) * (mx / my) * (sum_yy - n_units * my * my) / (n_units - 1), 0)
             / (n_units * my * my) END AS var
    FROM v)
)
SELECT ci.*,
       ci.aov - p.aov AS aov_pop_change,
       (ci.aov - p.aov) / p.aov AS aov_pop_pct,
       (ci.revenue - p.revenue) / p.revenue AS revenue_pop_pct,
       (ci.orders - p.orders) / p.orders AS orders_pop_pct,
       ci.aov - y.aov AS aov_yoy_change,
       (ci.aov - y.aov) / y.aov AS aov_yoy_pct,
       (ci.revenue - y.revenue) / y.revenue AS revenue_yoy_pct,
       (ci.orders - y.orders) / y.orders AS orders_yoy_pct
FROM ci
LEFT JOIN ci AS p ON p.channel = ci.channel AND p.period = ci.period - INTERVAL 1 MONTH
LEFT JOIN ci AS y ON y.channel = ci.channel AND y.period = ci.period - INTERVAL 12 MONTH
ORDER BY ci.period, ci.channel
"""


#: What a user writes by hand for AOV by month x channel: one GROUP BY, five columns.
MIN_SQL = """
SELECT date_trunc('month', order_date) AS period,
       coalesce(channel, '(not set)') AS channel,
       count(*) AS orders,
       sum(gross_sales - discounts) AS revenue,
       sum(gross_sales - discounts) / count(*) AS aov,
       quantile_cont(gross_sales - discounts, 0.5) AS median,
       quantile_cont(gross_sales - discounts, 0.9) AS p90
FROM orders
WHERE status IN ('placed', 'refunded')
GROUP BY ALL
ORDER BY ALL
"""
MIN_CHECKED = ["orders", "revenue", "aov", "median", "p90"]


def run_min(ws: aovlab.Workspace) -> pd.DataFrame:
    with ws.cursor() as cur:
        return cur.execute(MIN_SQL).df()


def t_interval(aov, se, n_units):
    """Student's t interval on n − 1 (none below MIN_UNITS units), floored at 0: what every
    contender computes from its standard error (SQL has no t quantile)."""
    from scipy.special import stdtrit

    n = np.asarray(n_units, dtype=float)
    half = stdtrit(np.maximum(n - 1, 1), 0.5 + LEVEL / 2) * np.asarray(se, dtype=float)
    aov = np.asarray(aov, dtype=float)
    low = np.where(aov >= 0, np.maximum(aov - half, 0.0), aov - half)
    few = n < MIN_UNITS
    return np.where(few, np.nan, low), np.where(few, np.nan, aov + half)


def run_sql(ws: aovlab.Workspace) -> pd.DataFrame:
    with ws.cursor() as cur:
        df = cur.execute(HAND_SQL).df()
    df["aov_ci_low"], df["aov_ci_high"] = t_interval(df["aov"], df["se"], df["n_units"])
    return df


# -- (c) pandas -----------------------------------------------------------------------------
def read_pandas(store_dir: Path) -> pd.DataFrame:
    """The orders as an analyst would load them: low-cardinality text as categoricals,
    dates as datetime64 (pyarrow's default would give Python ``date`` objects)."""
    import pyarrow.parquet as pq

    t = pq.read_table(sorted((store_dir / "orders").glob("*.parquet")), columns=READ_COLUMNS)
    df = t.to_pandas(date_as_object=False, categories=["channel", "currency", "status"])
    return df


def _pct(cur: pd.Series, prev: pd.Series) -> pd.Series:
    return (cur - prev) / prev.where(prev != 0)


def run_pandas(df: pd.DataFrame) -> pd.DataFrame:
    keys = ["period", "channel"]
    d = df.loc[df["status"].isin(COUNTED),
               ["order_id", "customer_id", "created_at", "order_date", "channel", "currency",
                "gross_sales", "discounts", "returns", "shipping", "total", "cost", "units"]]
    d["channel"] = d["channel"].astype(str).where(d["channel"].notna(), "(not set)")
    d["period"] = d["order_date"].to_numpy().astype("datetime64[M]")
    d["value"] = d["gross_sales"] - d["discounts"]
    # one first order per customer: in time order (order id on ties), the first row
    walk = d[["customer_id", "created_at", "order_id"]].sort_values(["created_at", "order_id"])
    guest = d["customer_id"].isna().to_numpy()
    new = ~guest & d.index.isin(walk.index[~walk.duplicated("customer_id")])
    ret = ~guest & ~new
    v = d["value"]
    d["v_new"], d["v_ret"], d["v_guest"] = v.where(new), v.where(ret), v.where(guest)
    d["is_new"], d["is_ret"], d["is_guest"] = new, ret, guest
    d["v_guest_sq"] = d["v_guest"] ** 2
    d["margin"] = (v - d["returns"]) - d["cost"]
    grp = d.groupby(keys, sort=True, observed=True)
    g = grp.agg(orders=("value", "size"), revenue=("value", "sum"), aov_std=("value", "std"),
                min_value=("value", "min"), max_value=("value", "max"),
                units=("units", "sum"), orders_with_units=("units", "count"),
                new_orders=("is_new", "sum"), new_aov=("v_new", "mean"),
                returning_orders=("is_ret", "sum"), returning_aov=("v_ret", "mean"),
                guest_orders=("is_guest", "sum"), guest_aov=("v_guest", "mean"),
                guest_x=("v_guest", "sum"), guest_xx=("v_guest_sq", "sum"),
                discounts=("discounts", "sum"), gross_sales=("gross_sales", "sum"),
                shipping=("shipping", "sum"), total=("total", "sum"),
                margin_per_order=("margin", "mean"), with_cost=("cost", "count"),
                currencies=("currency", "nunique"), currency=("currency", "first"))
    q = grp["value"].quantile(list(QS)).unstack()
    q.columns = list(QNAMES)
    g = g.join(q)
    # trimmed / winsorized as SciPy: floor(n * TRIM) orders cut from each end of the group
    srt = d[keys + ["value"]].sort_values(keys + ["value"])
    sg = srt.groupby(keys, sort=True, observed=True)["value"]
    r = sg.cumcount().to_numpy()
    n = sg.transform("size").to_numpy()
    k = np.floor(n * TRIM).astype(np.int64)
    keep = (r >= k) & (r < n - k)
    srt["trim_v"] = srt["value"].where(keep)
    srt["lo"] = srt["value"].where(r == k)
    srt["hi"] = srt["value"].where(r == n - 1 - k)
    srt["k"] = k
    tg = srt.groupby(keys, sort=True, observed=True).agg(
        trimmed_aov=("trim_v", "mean"), trim_sum=("trim_v", "sum"), lo=("lo", "max"),
        hi=("hi", "max"), k=("k", "max"), n=("value", "size"))
    g["trimmed_aov"] = tg["trimmed_aov"]
    g["winsorized_aov"] = (tg["trim_sum"] + tg["k"] * (tg["lo"] + tg["hi"])) / tg["n"]
    # per customer and group
    known = d.loc[~guest, [*keys, "customer_id", "value"]]
    per = known.groupby([*keys, "customer_id"], sort=False, observed=True)["value"].agg(
        ["size", "sum"])
    per["xx"], per["yy"], per["xy"] = per["sum"] ** 2, per["size"] ** 2, per["sum"] * per["size"]
    per["rep"] = per["size"] >= 2
    c = per.groupby(level=keys, sort=True, observed=True).agg(
        customers=("size", "size"), repeat_customers=("rep", "sum"),
        customer_orders=("size", "sum"), customer_revenue=("sum", "sum"),
        sxx=("xx", "sum"), syy=("yy", "sum"), sxy=("xy", "sum"))
    g = g.join(c)
    g[["customers", "repeat_customers", "customer_orders"]] = g[
        ["customers", "repeat_customers", "customer_orders"]].fillna(0)
    out = g.reset_index()
    out["definition"] = "net"
    out["currency"] = out["currency"].where(out["currencies"] == 1, "(mixed)")
    out["aov"] = out["revenue"] / out["orders"]
    n = out["customers"] + out["guest_orders"]
    mx, my = out["revenue"] / n, out["orders"] / n
    vx = (out["sxx"].fillna(0) + out["guest_xx"] - n * mx * mx) / (n - 1)
    vy = (out["syy"].fillna(0) + out["guest_orders"] - n * my * my) / (n - 1)
    cxy = (out["sxy"].fillna(0) + out["guest_x"] - n * mx * my) / (n - 1)
    r = mx / my
    se = np.sqrt((vx - 2 * r * cxy + r * r * vy).clip(lower=0) / (n * my * my))
    out["aov_ci_low"], out["aov_ci_high"] = t_interval(out["aov"], se, n)
    complete = out["orders_with_units"] == out["orders"]
    out["units_per_order"] = (out["units"] / out["orders"]).where(complete)
    out["avg_unit_price"] = (out["revenue"] / out["units"]).where(complete)
    cust = out["customers"].where(out["customers"] > 0)
    out["purchase_frequency"] = out["customer_orders"] / cust
    out["repeat_customer_rate"] = out["repeat_customers"] / cust
    out["avg_customer_spend"] = out["customer_revenue"] / cust
    out["discount_share"] = out["discounts"] / out["gross_sales"]
    out["shipping_share"] = out["shipping"] / out["total"]
    out["cost_coverage"] = out["with_cost"] / out["orders"]
    base = out[["period", "channel", "orders", "revenue", "aov"]]
    for tag, months in (("pop", 1), ("yoy", 12)):
        prev = base.assign(period=base["period"] + pd.DateOffset(months=months))
        m = out[["period", "channel"]].merge(prev, on=["period", "channel"], how="left")
        out[f"aov_{tag}_change"] = out["aov"] - m["aov"].to_numpy()
        out[f"aov_{tag}_pct"] = _pct(out["aov"], m["aov"].set_axis(out.index))
        out[f"revenue_{tag}_pct"] = _pct(out["revenue"], m["revenue"].set_axis(out.index))
        out[f"orders_{tag}_pct"] = _pct(out["orders"], m["orders"].set_axis(out.index))
    return out


# -- (d) polars -----------------------------------------------------------------------------
def read_polars(store_dir: Path):
    import polars as pl

    return pl.read_parquet(sorted((store_dir / "orders").glob("*.parquet")),
                           columns=READ_COLUMNS)


def run_polars(df):
    import polars as pl

    keys = ["period", "channel"]
    col = pl.col
    v = col("value")
    # one first order per customer: in time order (order id on ties), the first row
    first = pl.int_range(pl.len()).over("customer_id", order_by=["created_at", "order_id"])
    ctype = (pl.when(col("customer_id").is_null()).then(pl.lit("guest"))
             .when(first == 0).then(pl.lit("new")).otherwise(pl.lit("returning")))
    f = (df.lazy()
         .filter(col("status").is_in(COUNTED))
         .with_columns(period=col("order_date").dt.truncate("1mo"),
                       channel=col("channel").fill_null("(not set)"),
                       value=col("gross_sales") - col("discounts"),
                       net_value=col("gross_sales") - col("discounts") - col("returns"),
                       customer_type=ctype))
    is_ = {s: col("customer_type") == s for s in ("new", "returning", "guest")}
    g = f.group_by(keys).agg(
        orders=pl.len().cast(pl.Int64), revenue=v.sum(), aov_std=v.std(),
        **{name: v.quantile(p, interpolation="linear") for name, p in zip(QNAMES, QS,
                                                                          strict=True)},
        min_value=v.min(), max_value=v.max(),
        units=col("units").sum(), orders_with_units=col("units").count(),
        new_orders=is_["new"].sum(), new_aov=v.filter(is_["new"]).mean(),
        returning_orders=is_["returning"].sum(),
        returning_aov=v.filter(is_["returning"]).mean(),
        guest_orders=is_["guest"].sum(), guest_aov=v.filter(is_["guest"]).mean(),
        guest_x=v.filter(is_["guest"]).sum(), guest_xx=(v * v).filter(is_["guest"]).sum(),
        discount_share=col("discounts").sum() / col("gross_sales").sum(),
        shipping_share=col("shipping").sum() / col("total").sum(),
        margin_per_order=(col("net_value") - col("cost")).mean(),
        cost_coverage=col("cost").count() / pl.len(),
        currencies=col("currency").n_unique(), currency=col("currency").max(),
    )
    # trimmed / winsorized as SciPy: floor(n * TRIM) orders cut from each end of the group
    r, n_g = pl.int_range(pl.len()).over(keys, order_by="value"), pl.len().over(keys)
    k_ = (n_g * TRIM).floor().cast(pl.Int64)
    t = (f.with_columns(_r=r, _n=n_g, _k=k_)
         .group_by(keys).agg(
             trimmed_aov=v.filter((col("_r") >= col("_k")) & (col("_r") < col("_n") - col("_k")))
             .mean(),
             _ts=v.filter((col("_r") >= col("_k")) & (col("_r") < col("_n") - col("_k"))).sum(),
             _lo=v.filter(col("_r") == col("_k")).max(),
             _hi=v.filter(col("_r") == col("_n") - 1 - col("_k")).max(),
             _kk=col("_k").max(), _nn=pl.len())
         .with_columns(winsorized_aov=(col("_ts") + col("_kk") * (col("_lo") + col("_hi")))
                       / col("_nn"))
         .drop("_ts", "_lo", "_hi", "_kk", "_nn"))
    per = (f.filter(col("customer_id").is_not_null())
           .group_by([*keys, "customer_id"]).agg(n=pl.len().cast(pl.Int64), x=v.sum()))
    n_, x_ = col("n").cast(pl.Float64), col("x")
    c = per.group_by(keys).agg(
        customers=pl.len().cast(pl.Int64), repeat_customers=(col("n") >= 2).sum(),
        customer_orders=col("n").sum(), customer_revenue=x_.sum(),
        sxx=(x_ * x_).sum(), syy=(n_ * n_).sum(), sxy=(x_ * n_).sum())
    k = (g.join(c, on=keys, how="left").join(t, on=keys, how="left")
         .with_columns(col("customers", "repeat_customers", "customer_orders").fill_null(0))
         .with_columns(aov=col("revenue") / col("orders"),
                       n_units=(col("customers") + col("guest_orders")).cast(pl.Float64)))
    n = col("n_units")
    mx, my = col("revenue") / n, col("orders") / n
    vx = (col("sxx").fill_null(0) + col("guest_xx") - n * mx * mx) / (n - 1)
    vy = (col("syy").fill_null(0) + col("guest_orders") - n * my * my) / (n - 1)
    cxy = (col("sxy").fill_null(0) + col("guest_x") - n * mx * my) / (n - 1)
    r = mx / my
    se = ((vx - 2 * r * cxy + r * r * vy).clip(lower_bound=0) / (n * my * my)).sqrt()
    cust = pl.when(col("customers") > 0).then(col("customers"))
    complete = col("orders_with_units") == col("orders")
    k = k.with_columns(
        definition=pl.lit("net"),
        currency=pl.when(col("currencies") == 1).then(col("currency"))
        .otherwise(pl.lit("(mixed)")),
        se=se,
        units_per_order=pl.when(complete).then(col("units") / col("orders")),
        avg_unit_price=pl.when(complete).then(col("revenue") / col("units")),
        purchase_frequency=col("customer_orders") / cust,
        repeat_customer_rate=col("repeat_customers") / cust,
        avg_customer_spend=col("customer_revenue") / cust,
    )
    base = k.select(keys + ["orders", "revenue", "aov"])
    for tag, months in (("pop", 1), ("yoy", 12)):
        prev = base.with_columns(col("period").dt.offset_by(f"{months}mo")).rename(
            {"orders": "_o", "revenue": "_r", "aov": "_a"})
        k = k.join(prev, on=keys, how="left").with_columns(**{
            f"aov_{tag}_change": col("aov") - col("_a"),
            f"aov_{tag}_pct": (col("aov") - col("_a")) / col("_a"),
            f"revenue_{tag}_pct": (col("revenue") - col("_r")) / col("_r"),
            f"orders_{tag}_pct": (col("orders") - col("_o")) / col("_o"),
        }).drop("_o", "_r", "_a")
    out = k.sort(keys).collect()
    low, high = t_interval(out["aov"].to_numpy(), out["se"].to_numpy(),
                           out["n_units"].to_numpy())
    return out.with_columns(aov_ci_low=pl.Series(low), aov_ci_high=pl.Series(high))


# -- checking -------------------------------------------------------------------------------
def as_frame(res, name: str) -> pd.DataFrame:
    df = res.to_pandas() if name == "polars" else res
    df = df.copy()
    df["period"] = pd.to_datetime(df["period"]).dt.date
    df["channel"] = df["channel"].astype(str)
    return df.sort_values(["period", "channel"]).reset_index(drop=True)


def compare(results: dict[str, object], rtol: float = 1e-6) -> list[str]:
    """Differences between each contender and aovlab in the CHECKED columns."""
    ref = as_frame(results["aovlab"], "aovlab")
    problems = []
    for name, res in results.items():
        if name == "aovlab":
            continue
        other = as_frame(res, name)
        if list(other["period"]) != list(ref["period"]) or \
                list(other["channel"]) != list(ref["channel"]):
            problems.append(f"{name}: different groups ({len(other)} vs {len(ref)} rows)")
            continue
        for col in (MIN_CHECKED if name == "duckdb-min" else CHECKED):
            if col not in other:
                problems.append(f"{name}: no column {col}")
                continue
            a = ref[col].to_numpy(dtype="float64")
            b = other[col].to_numpy(dtype="float64")
            ok = np.isclose(a, b, rtol=RTOL.get(col, rtol), atol=1e-9, equal_nan=True)
            if not ok.all():
                i = int(np.argmin(ok))
                problems.append(f"{name}.{col}: {int((~ok).sum())} rows differ, e.g. "
                                f"{ref['period'][i]}/{ref['channel'][i]}: aovlab {a[i]!r} "
                                f"vs {b[i]!r}")
    return problems


# -- memory per contender, each in a fresh process ---------------------------------------
def isolated(args) -> int:
    """Run one contender once in this (fresh) process; print its figures as JSON."""
    store_dir, db = prepare(args.orders, args.seed, args.workdir)
    import duckdb  # noqa: F401 - imported before the baseline, like the others' libraries
    import polars  # noqa: F401

    gc.collect()
    base = rss()
    name, read_seconds = args.isolated, None
    if name in ("aovlab", "duckdb-sql", "duckdb-min"):
        ws = aovlab.Workspace(db, read_only=True)
        ws.con.execute("SET enable_progress_bar = false")
        fn = {"aovlab": lambda: aovlab.kpis(ws, by=["channel"], period="month").table,
              "duckdb-sql": lambda: run_sql(ws), "duckdb-min": lambda: run_min(ws)}[name]
    else:
        reader, runner = {"pandas": (read_pandas, run_pandas),
                          "polars": (read_polars, run_polars)}[name]
        t = time.perf_counter()
        frame = reader(store_dir)
        read_seconds = time.perf_counter() - t
        fn = lambda: runner(frame)  # noqa: E731
    t = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t
    print(json.dumps({"isolated": name, "seconds": seconds, "read_seconds": read_seconds,
                      "baseline_rss": base,
                      # VmHWM, not ru_maxrss: Linux carries the parent's maxrss into a
                      # fork+exec'd child, VmHWM belongs to this process's own memory map
                      "peak_rss": peak_rss()}))
    return 0


def isolated_memory(args, names: list[str]) -> dict:
    import subprocess

    out = {}
    for name in names:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--orders", str(args.orders),
               "--seed", str(args.seed), "--workdir", str(args.workdir), "--isolated", name]
        res = subprocess.run(cmd, capture_output=True, text=True)
        lines = [ln for ln in res.stdout.splitlines() if ln.startswith('{"isolated"')]
        if res.returncode or not lines:
            print(f"isolated run of {name} failed:\n{res.stderr[-2000:]}", flush=True)
            continue
        out[name] = json.loads(lines[-1])
        print(f"isolated {name}: peak RSS {gib(out[name]['peak_rss'])}", flush=True)
    return out


# -- main -----------------------------------------------------------------------------------
def code_version() -> str:
    """git HEAD, and whether the files kpis() runs differ from it (others edit them)."""
    import hashlib
    import subprocess

    root = HERE.parent
    files = ["src/aovlab/analyses", "src/aovlab/metrics", "src/aovlab/stats",
             "src/aovlab/query", "src/aovlab/engines"]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", *files], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    sources = sorted(p for f in files for p in (root / f).rglob("*.py"))
    digest = hashlib.sha1(b"".join(p.read_bytes() for p in sources)).hexdigest()[:10]
    return f"{head}{' + uncommitted analysis code' if dirty else ''} (sha1 {digest})"


def machine() -> dict:
    import duckdb
    import polars as pl
    import psutil

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_version(),
        "cpus": os.cpu_count(), "ram": gib(psutil.virtual_memory().total),
        "load_avg": os.getloadavg(), "python": platform.python_version(),
        "duckdb": duckdb.__version__, "pandas": pd.__version__, "polars": pl.__version__,
        "aovlab": aovlab.__version__, "numpy": np.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=HERE / "_work")
    ap.add_argument("--only", nargs="*",
                    default=["aovlab", "duckdb-sql", "duckdb-min", "pandas", "polars"],
                    help="contenders to run (aovlab is always run: it is the reference)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--no-isolated-memory", action="store_true",
                    help="skip the per-contender peak RSS runs in fresh processes")
    ap.add_argument("--isolated", help=argparse.SUPPRESS)  # internal: one contender, once
    args = ap.parse_args(argv)
    if args.isolated:
        return isolated(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(json.dumps(info), flush=True)
    store_dir, db = prepare(args.orders, args.seed, args.workdir)

    ws = aovlab.Workspace(db, read_only=True)
    ws.con.execute("SET enable_progress_bar = false")
    threads, mem_limit = ws.con.execute(
        "SELECT current_setting('threads'), current_setting('memory_limit')").fetchone()
    print(f"duckdb threads={threads} memory_limit={mem_limit}", flush=True)
    contenders = {"aovlab": lambda: aovlab.kpis(ws, by=["channel"], period="month").table}
    if "duckdb-sql" in args.only:
        contenders["duckdb-sql"] = lambda: run_sql(ws)
    if "duckdb-min" in args.only:
        contenders["duckdb-min"] = lambda: run_min(ws)
    frames: dict[str, object] = {}
    read_s: dict[str, float] = {}
    read_peak: dict[str, int] = {}
    for name, reader, runner in (("pandas", read_pandas, run_pandas),
                                 ("polars", read_polars, run_polars)):
        if name in args.only:
            gc.collect()
            reset_peak()
            t = time.perf_counter()
            frames[name] = reader(store_dir)
            read_s[name] = time.perf_counter() - t
            read_peak[name] = peak_rss()
            print(f"{name}: read {len(frames[name]):,} rows in {read_s[name]:.2f}s "
                  f"(peak {gib(read_peak[name])})", flush=True)
            contenders[name] = (lambda r=runner, n=name: r(frames[n]))

    times: dict[str, list[float]] = {n: [] for n in contenders}
    peaks: dict[str, list[int]] = {n: [] for n in contenders}
    starts: dict[str, list[int]] = {n: [] for n in contenders}
    results: dict[str, object] = {}
    for rnd in range(args.repeats):
        for name, fn in contenders.items():
            gc.collect()
            starts[name].append(rss())
            reset_peak()
            t = time.perf_counter()
            res = fn()
            times[name].append(time.perf_counter() - t)
            peaks[name].append(peak_rss())
            if rnd == 0:
                results[name] = res
            del res
        print(f"round {rnd + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f}s" for n in contenders),
              flush=True)

    mem = {} if args.no_isolated_memory else isolated_memory(args, list(contenders))
    problems = compare(results)
    med = {n: statistics.median(ts) for n, ts in times.items()}
    groups = len(results["aovlab"])
    print(f"\n{args.orders:,} orders ({groups} month x channel groups), "
          f"{args.repeats} interleaved rounds, median seconds:")
    print(f"{'contender':<12}{'median s':>10}{'min s':>9}{'max s':>9}{'peak RSS':>13}"
          f"{'RSS at start':>15}{'peak - start':>15}")
    for n in contenders:
        grow = max(p - s for p, s in zip(peaks[n], starts[n], strict=True))
        print(f"{n:<12}{med[n]:>10.2f}{min(times[n]):>9.2f}{max(times[n]):>9.2f}"
              f"{gib(max(peaks[n])):>13}{gib(min(starts[n])):>15}{gib(grow):>15}")
    for n in read_s:
        print(f"  {n} read (not in the above): {read_s[n]:.2f}s, peak {gib(read_peak[n])}")
    ratios = {}
    if "duckdb-sql" in med:
        ratios["aovlab / duckdb-sql"] = med["aovlab"] / med["duckdb-sql"]
    if "duckdb-min" in med:
        ratios["aovlab / duckdb-min"] = med["aovlab"] / med["duckdb-min"]
    for n in ("pandas", "polars"):
        if n in med:
            ratios[f"{n} / aovlab"] = med[n] / med["aovlab"]
    for k, r in ratios.items():
        print(f"{k:<22}{r:6.2f}x")
    if "duckdb-sql" in med:
        print(f"target aovlab <= 1.3x duckdb-sql: "
              f"{'met' if ratios['aovlab / duckdb-sql'] <= 1.3 else 'MISSED'}")
    if "duckdb-min" in med:
        print(f"target aovlab (40 columns) <= 3x duckdb-min (5 columns): "
              f"{'met' if ratios['aovlab / duckdb-min'] <= 3 else 'MISSED'}")
    if "pandas" in med:
        print(f"target pandas >= 10x aovlab: "
              f"{'met' if ratios['pandas / aovlab'] >= 10 else 'MISSED'}")
    if mem:
        print("peak RSS of a fresh process running one contender once (VmHWM; includes "
              "the Parquet read for pandas/polars; Python + imports baseline in brackets):")
        for n, r in mem.items():
            print(f"  {n:<12}{gib(r['peak_rss']):>11}   ({gib(r['baseline_rss'])}), "
                  f"{r['seconds']:.2f}s" + (f" + read {r['read_seconds']:.2f}s"
                                            if r.get("read_seconds") else ""))
    # clear_refs resets ru_maxrss too, so the process peak is the largest measured peak
    process_peak = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                        *read_peak.values(), *(max(p) for p in peaks.values())])
    print(f"timing process peak RSS (max over its runs): {gib(process_peak)}")
    print(f"results agree ({len(CHECKED)} columns incl. orders, revenue, aov, median, "
          "customers, repeat_customer_rate, new_aov; rtol 1e-6): "
          + ("yes" if not problems else "NO"))
    for p in problems:
        print("  " + p)
    if args.json:
        args.json.write_text(json.dumps({
            "machine": info, "orders": args.orders, "groups": groups, "repeats": args.repeats,
            "duckdb_threads": threads, "duckdb_memory_limit": mem_limit,
            "times": times, "median": med, "ratios": ratios,
            "peak_rss": {n: max(p) for n, p in peaks.items()},
            "rss_at_start": {n: min(s) for n, s in starts.items()},
            "read_seconds": read_s, "read_peak_rss": read_peak, "problems": problems,
            "isolated_memory": mem,
        }, indent=2, default=str))
    ws.close()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
