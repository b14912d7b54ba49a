"""The A/B analysis against one hand-written DuckDB aggregate of the same sums.

    python benchmarks/experiments.py                       # 10M units, 5 rounds
    python benchmarks/experiments.py --units 1000000 --rounds 3      # a quick run

A seeded two-arm experiment (``--units`` customers, half per arm; each customer a spending
propensity that drives a Poisson number of orders before exposure and after it, a 2% lift
in treatment) is imported once into a workspace cached in ``benchmarks/_work/``. Then,
rounds interleaved on the same workspace file:

* aovlab: ``aovlab.abtest(ws)`` — everything a user gets: the experiment found, the
  post-exposure orders summarised, the per-unit join of outcomes and pre-period, the sums
  per arm, seven metrics with intervals, CUPED, the sample-ratio check;
* duckdb-sql: one direct query of the same per-arm sums (units, orders, revenue, their
  squares and cross product, conversions, pre-period spend and its products), which is the
  least a user must run to compute AOV by the delta method and CUPED by hand.

The two must agree on every arm's units, orders and revenue. Target: aovlab ≤ 3× the SQL.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"

SQL = """
WITH o AS (
  SELECT source, customer_id, created_at, gross_sales - discounts AS value
  FROM orders WHERE status IN ('placed', 'refunded')
), a AS (
  SELECT source, unit_id, variant, first_exposure FROM assignments WHERE experiment = 'bench'
), post AS (
  SELECT a.unit_id, count(*) AS o, sum(value) AS r
  FROM a JOIN o ON a.source = o.source AND a.unit_id = o.customer_id
  WHERE o.created_at >= a.first_exposure GROUP BY 1
), pre AS (
  SELECT a.unit_id, sum(value) AS x
  FROM a JOIN o ON a.source = o.source AND a.unit_id = o.customer_id
  WHERE o.created_at < a.first_exposure
    AND o.created_at >= a.first_exposure - INTERVAL 365 DAY GROUP BY 1
), u AS (
  SELECT a.variant, coalesce(post.o, 0) AS o, coalesce(post.r, 0) AS r,
         coalesce(pre.x, 0) AS x
  FROM a LEFT JOIN post USING (unit_id) LEFT JOIN pre USING (unit_id)
)
SELECT variant, count(*) AS units, sum(o) AS orders, sum(o * o) AS orders_sq,
       sum(r) AS revenue, sum(r * r) AS revenue_sq, sum(r * o) AS revenue_orders,
       count(*) FILTER (WHERE o > 0) AS converted, sum(x) AS pre, sum(x * x) AS pre_sq,
       sum(x * r) AS pre_revenue
FROM u GROUP BY 1 ORDER BY 1
"""


def prepare(n: int, seed: int) -> Path:
    """The experiment's workspace (imported once; cached by size and seed)."""
    import pandas as pd

    import aovlab

    WORK.mkdir(exist_ok=True)
    path = WORK / f"experiments_{n}_{seed}.duckdb"
    if path.exists():
        return path
    tmp = path.with_suffix(".partial.duckdb")
    tmp.unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    ws = aovlab.Workspace(tmp)
    chunk = 1_000_000
    start_t = pd.Timestamp("2024-03-01", tz="UTC")
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        ids = np.arange(start, start + m)
        unit = np.char.add("u", ids.astype(str))
        variant = np.where(ids % 2 == 0, "control", "treatment")
        exposure = start_t + pd.to_timedelta(rng.integers(0, 14 * 24, m), unit="h")
        aovlab.import_frame(ws, pd.DataFrame({
            "experiment": "bench", "unit_id": unit, "variant": variant,
            "first_exposure": exposure}), kind="assignments", source="bench")
        rate = rng.gamma(0.5, 0.6, m)
        scale = rng.lognormal(np.log(45), 0.6, m) * np.where(variant == "treatment", 1.02, 1)
        pre_k, post_k = rng.poisson(rate), rng.poisson(rate)
        who = np.concatenate([np.repeat(np.arange(m), pre_k), np.repeat(np.arange(m), post_k)])
        before = np.concatenate([np.ones(pre_k.sum(), bool), np.zeros(post_k.sum(), bool)])
        hours = rng.integers(1, 24 * 300, len(who))
        at = exposure[who] + pd.to_timedelta(np.where(before, -hours, hours // 10), unit="h")
        value = np.round(scale[who] * rng.lognormal(0, 0.3, len(who)), 2)
        oid = np.char.add(np.char.add(unit[who], "-"), np.arange(len(who)).astype(str))
        df = pd.DataFrame({"order_id": oid, "customer_id": unit[who], "created_at": at,
                           "gross_sales": value, "total": value, "status": "placed"})
        aovlab.import_frame(ws, df, kind="orders", currency="EUR", source="bench")
        print(f"  imported {start + m:,} units", file=sys.stderr)
    ws.close()
    tmp.rename(path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    import duckdb

    import aovlab

    path = prepare(a.units, a.seed)
    ws = aovlab.Workspace(path, read_only=True)
    orders = ws.count("orders")
    print(f"# experiments benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {a.units:,} "
          f"units, {orders:,} orders, {a.rounds} rounds; aovlab {aovlab.__version__}, DuckDB "
          f"{duckdb.__version__}, Python {platform.python_version()}, {platform.machine()}")
    r = aovlab.abtest(ws)  # warm-up
    times: dict[str, list[float]] = {"aovlab": [], "duckdb-sql": []}
    for i in range(a.rounds):
        for name in (("aovlab", "duckdb-sql") if i % 2 == 0 else ("duckdb-sql", "aovlab")):
            t0 = time.perf_counter()
            if name == "aovlab":
                r = aovlab.abtest(ws)
            else:
                df = ws.con.cursor().execute(SQL).df()
            times[name].append(time.perf_counter() - t0)
    arms = r.tables["arms"].set_index("variant").sort_index()
    sql = df.set_index("variant").sort_index()
    np.testing.assert_array_equal(arms["units"].to_numpy(), sql["units"].to_numpy())
    np.testing.assert_allclose(arms["orders"].to_numpy(), sql["orders"].to_numpy())
    np.testing.assert_allclose(arms["revenue"].to_numpy(), sql["revenue"].to_numpy(),
                               rtol=1e-9)
    print("every arm's units, orders and revenue agree with the SQL's")
    aov = r.table[(r.table["metric"] == "aov") & (r.table["variant"] == "treatment")].iloc[0]
    print(f"AOV lift {aov['lift']:+.2%} [{aov['lift_low']:+.2%}, {aov['lift_high']:+.2%}]")
    print("\n| contender  | median s | min s | max s |\n|------------|---------:|------:|------:|")
    for name, ts in times.items():
        print(f"| {name:<10} | {statistics.median(ts):8.2f} | {min(ts):5.2f} | {max(ts):5.2f} |")
    ratio = statistics.median(times["aovlab"]) / statistics.median(times["duckdb-sql"])
    pairs = [x / y for x, y in zip(times["aovlab"], times["duckdb-sql"], strict=True)]
    print(f"\naovlab / duckdb-sql: median {ratio:.2f}× (round by round: "
          f"{', '.join(f'{p:.2f}' for p in pairs)}); target ≤ 3×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
