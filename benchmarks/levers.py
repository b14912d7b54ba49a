"""The free-shipping threshold analysis against one hand-written DuckDB histogram query.

    python benchmarks/levers.py                       # 10M orders, 5 rounds
    python benchmarks/levers.py --orders 1000000 --rounds 3      # a quick run

A seeded store from :class:`aovlab.stats.threshold_store.ThresholdStore` (a £50
free-shipping threshold, 25% of the orders within £15 below it padded over, 4.95 shipping
charged below it) is imported once into a workspace cached in ``benchmarks/_work/``. Then,
rounds interleaved on the same workspace file:

* aovlab: ``aovlab.threshold(ws)`` — everything a user gets: the totals and quantiles, the
  fine order-value bins, the detection over the round candidates, the bunching fit with
  its 200-resample bootstrap, the distribution without the threshold, the candidates'
  predictions, the recommendation;
* duckdb-sql: one direct query of the same fine bins (orders and value per bin of the net
  order value, the placed and refunded orders), which is the least a user must run to
  draw the histogram the analysis starts from.

The two must agree: the SQL's bins, summed into the bunching fit's bins, equal the bins
aovlab reports. The target is aovlab ≤ 3× the SQL.
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
SELECT floor((gross_sales - discounts) / $w + 1e-9)::BIGINT AS bin, count(*) AS orders,
       sum(gross_sales - discounts) AS revenue
FROM orders
WHERE status IN ('placed', 'refunded') AND gross_sales - discounts >= 0
  AND gross_sales - discounts < $hi
GROUP BY 1
"""


def prepare(n: int, seed: int) -> Path:
    """The store's workspace (imported once; cached by size and seed)."""
    import pandas as pd

    import aovlab
    from aovlab.stats.threshold_store import ThresholdStore

    WORK.mkdir(exist_ok=True)
    path = WORK / f"levers_{n}_{seed}.duckdb"
    if path.exists():
        return path
    tmp = path.with_suffix(".partial.duckdb")
    tmp.unlink(missing_ok=True)
    v, _ = ThresholdStore(50, 0.25, 15, 5).sample(n, seed)
    v = np.round(v, 2)
    ws = aovlab.Workspace(tmp)
    chunk = 2_000_000
    for start in range(0, n, chunk):
        part = v[start:start + chunk]
        ids = np.arange(start, start + len(part))
        df = pd.DataFrame({
            "order_id": ids.astype(str), "customer_id": (ids % (n // 3 or 1)).astype(str),
            "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(ids % 365, unit="D"),
            "gross_sales": part, "shipping": np.where(part < 50, 4.95, 0.0),
            "status": "placed"})
        df["total"] = df.gross_sales + df.shipping
        aovlab.import_frame(ws, df, kind="orders", currency="GBP", source="bench")
        print(f"  imported {start + len(part):,} orders", file=sys.stderr)
    ws.close()
    tmp.rename(path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    import duckdb

    import aovlab
    from aovlab.stats.bunching import rebin

    path = prepare(a.orders, a.seed)
    ws = aovlab.Workspace(path, read_only=True)
    print(f"# levers benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {a.orders:,} orders, "
          f"{a.rounds} rounds; aovlab {aovlab.__version__}, DuckDB {duckdb.__version__}, "
          f"Python {platform.python_version()}, {platform.machine()}")
    r = aovlab.threshold(ws)  # warm-up, and the bins the SQL must reproduce
    w0 = r.meta["bin_width"]
    fit = r.tables["bins"]
    edges = np.append(fit["bin_low"].to_numpy(), fit["bin_high"].iloc[-1])
    hi = float(r.meta["bunching"]["window"][1] * 10)
    times: dict[str, list[float]] = {"aovlab": [], "duckdb-sql": []}
    for i in range(a.rounds):
        for name in (("aovlab", "duckdb-sql") if i % 2 == 0 else ("duckdb-sql", "aovlab")):
            t0 = time.perf_counter()
            if name == "aovlab":
                got = aovlab.threshold(ws)
            else:
                df = ws.con.cursor().execute(SQL, {"w": w0, "hi": hi}).df()
            times[name].append(time.perf_counter() - t0)
    assert got.meta["recommended"] == r.meta["recommended"]
    n_fine = int(np.ceil(hi / w0))
    counts = np.zeros(n_fine)
    counts[df["bin"].to_numpy()] = df["orders"].to_numpy()
    fine = w0 * np.arange(n_fine + 1)
    np.testing.assert_array_equal(rebin(fine, counts, edges), fit["orders"].to_numpy())
    print("the SQL's bins, summed into the fit's bins, equal aovlab's: they agree")
    print(f"threshold {r.current:g} ({r.meta['current_source']}), padded share "
          f"{r.meta['bunching']['padded_share']:.3f} {r.meta['bunching']['padded_share_ci']},"
          f" recommended {r.recommended}")
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
