"""CLV end to end: ``aovlab.clv`` against lifetimes 0.11.3, the tool a store owner uses today.

    pip install "setuptools<81" lifetimes==0.11.3    # lifetimes needs pkg_resources
    python benchmarks/clv.py                           # CDNOW master and 1M customers
    python benchmarks/clv.py --customers 200000 --rounds 1          # a quick run
    python benchmarks/clv.py --customers 10000000 --only aovlab --rounds 1 --skip-cdnow

End to end means, for every customer: the RFM summary from the transactions, a BG/NBD fit,
a Gamma-Gamma fit, P(alive), expected purchases over 12 months and the discounted 12-month
CLV. lifetimes starts from the transactions already in a pandas DataFrame
(``summary_data_from_transaction_data``, ``BetaGeoFitter``, ``GammaGammaFitter``,
``customer_lifetime_value``); aovlab starts from the same transactions in its workspace
(``aovlab.clv(ws, unit="day")``), so its time includes the DuckDB query.

Stores: the CDNOW master (23,570 customers, ../shared/data; cut-off 1997-09-30) and a
seeded store simulated from BG/NBD (``aovlab.models.simulate``) with Gamma-Gamma spend:
``--customers`` customers whose first purchases spread over a year, observed for two,
about 4.8 transactions each. Stores and workspaces are cached in ``benchmarks/_work/``.

Each contender runs in a fresh child process, the two taking turns round by round, so that
each one's peak RSS is its own (``ru_maxrss``; "work" is the peak above the process's
footprint once its libraries are imported). Printed: medians, the lifetimes / aovlab ratio
of each round, and the log-likelihoods of both fits (they must agree to 1e-6 relative).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow.parquet import write_table as pq_write

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
SHARED = Path(os.environ.get("AOVLAB_SHARED_DATA", HERE.parents[1] / "shared" / "data"))
START = date(2022, 1, 1)
CUTOFF = START + timedelta(days=730)
MONTHLY = 0.01  # lifetimes' discount rate is per period of its CLV: a month
PARAMS = {"r": 0.9, "alpha": 40.0, "a": 0.8, "b": 2.5}  # in days
SPEND = {"p": 6.0, "q": 4.0, "v": 15.0}


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from
    the parent that started it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the stores ------------------------------------------------------------------------------
def simulated(n: int, seed: int) -> tuple[Path, Path]:
    """(transactions parquet, workspace) of the simulated store, made once."""
    WORK.mkdir(exist_ok=True)
    pq = WORK / f"clv-{n}-s{seed}.parquet"
    db = WORK / f"clv-{n}-s{seed}.duckdb"
    if not pq.exists():
        from aovlab.models.simulate import beta_geo_purchases

        print(f"simulating {n:,} customers ...", flush=True)
        rng = np.random.default_rng(seed)
        birth = rng.integers(0, 365, n)
        who, when, _ = beta_geo_purchases(n, *PARAMS.values(), (730 - birth).astype(float),
                                          seed=seed)
        nu = rng.gamma(SPEND["q"], 1 / SPEND["v"], n)  # each customer's spend scale
        value = np.round(rng.gamma(SPEND["p"], 1 / nu[who]), 2) + 0.01
        day = birth[who] + np.floor(when).astype(np.int64)
        del when, nu, birth
        # Arrow, not pandas: 56 million ids as Python strings would not fit the machine
        start = np.datetime64(START.isoformat(), "s")
        df = pa.table({
            "order_id": pc.cast(pa.array(np.arange(len(who))), pa.string()),
            "customer_id": pc.cast(pa.array(who), pa.string()),
            "created_at": pa.array(start + day * np.timedelta64(86400, "s")),
            "total": pa.array(value)})
        del who, value, day
        pq_write(df, pq)
        print(f"  {df.num_rows:,} transactions", flush=True)
        db.unlink(missing_ok=True)
    if not db.exists():
        _import(pq, db)
    return pq, db


def cdnow() -> tuple[Path, Path]:
    src = SHARED / "cdnow" / "CDNOW_master.txt"
    if not src.exists():
        sys.exit(f"{src} is absent: set AOVLAB_SHARED_DATA, or pass --skip-cdnow")
    WORK.mkdir(exist_ok=True)
    pq, db = WORK / "clv-cdnow.parquet", WORK / "clv-cdnow.duckdb"
    if not pq.exists():
        raw = pd.read_csv(src, sep=r"\s+", dtype={"customer_id": str, "date": str})
        pd.DataFrame({"order_id": np.arange(len(raw)).astype(str),
                      "customer_id": raw["customer_id"],
                      "created_at": pd.to_datetime(raw["date"]),
                      "total": raw["dollar_value"]}).to_parquet(pq, index=False)
    if not db.exists():
        import aovlab

        with aovlab.Workspace(db) as ws:  # the way a user imports it
            aovlab.import_files(ws, src, "cdnow")
    return pq, db


def _import(pq: Path, db: Path, chunk: int = 6_000_000) -> None:
    """Import in chunks of ``chunk`` transactions, DuckDB held to half the machine's
    memory: one import of 56M rows would stage them all at once."""
    import pyarrow.parquet as papq

    import aovlab

    print(f"importing into {db} ...", flush=True)
    t = time.perf_counter()
    with aovlab.Workspace(db) as ws:
        ws.con.execute("SET enable_progress_bar = false")
        ws.con.execute("SET memory_limit = '10GB'")
        for batch in papq.ParquetFile(pq).iter_batches(batch_size=chunk):
            aovlab.import_frame(ws, pa.Table.from_batches([batch]), currency="USD")
            print(f"  {ws.count('orders'):,} orders, {time.perf_counter() - t:.0f}s",
                  flush=True)
    print(f"  imported in {time.perf_counter() - t:.0f}s", flush=True)


# -- one contender, in a child process ---------------------------------------------------------
def run_aovlab(db: Path, cutoff: str) -> dict:
    import aovlab
    from aovlab.engines import connect

    with aovlab.Workspace(db, read_only=True) as ws:
        connect(ws, "duckdb").table("orders")  # the library loaded, as lifetimes' is
        base = _peak_mb()
        t = time.perf_counter()
        r = aovlab.clv(ws, cutoff=cutoff, unit="day", definition="total", horizon=12,
                       discount_rate=(1 + MONTHLY) ** 12 - 1)
        seconds = time.perf_counter() - t
    c = r.table
    return {"seconds": seconds, "peak_mb": _peak_mb(), "base_mb": base,
            "customers": len(c), "log_likelihood": r.meta["log_likelihood"],
            "params": r.meta["params"], "total_clv": float(c["clv"].sum()),
            "total_alive": float(c["probability_alive"].sum())}


def run_lifetimes(pq: Path, cutoff: str) -> dict:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    tx = pd.read_parquet(pq, columns=["customer_id", "created_at", "total"])
    tx = tx[tx["created_at"] <= pd.Timestamp(cutoff)]
    base = _peak_mb()
    t = time.perf_counter()
    s = summary_data_from_transaction_data(tx, "customer_id", "created_at",
                                           monetary_value_col="total",
                                           observation_period_end=cutoff, freq="D")
    bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    ggf = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    alive = bgf.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
    bgf.conditional_expected_number_of_purchases_up_to_time(
        365.25, s["frequency"], s["recency"], s["T"])
    value = ggf.customer_lifetime_value(bgf, s["frequency"], s["recency"], s["T"],
                                        s["monetary_value"], time=12,
                                        discount_rate=MONTHLY, freq="D")
    seconds = time.perf_counter() - t
    n = len(s)
    # lifetimes fits on rescaled time; its own likelihood at its parameters, on the data
    log_params = np.log([bgf.params_[k] for k in ("r", "alpha", "a", "b")])
    mean_nll = bgf._negative_log_likelihood(log_params, s["frequency"].to_numpy(float),
                                            s["recency"].to_numpy(float),
                                            s["T"].to_numpy(float), np.ones(n), 0.0)
    return {"seconds": seconds, "peak_mb": _peak_mb(), "base_mb": base, "customers": n,
            "log_likelihood": -mean_nll * n,
            "params": bgf.params_.to_dict(), "total_clv": float(value.sum()),
            "total_alive": float(np.sum(alive))}


def child(who: str, store: str, data: str, cutoff: str) -> dict:
    cmd = [sys.executable, __file__, "--child", who, "--store", store, "--data", data,
           "--cutoff", cutoff]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{who} on {store} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the comparison ---------------------------------------------------------------------------
def compare(store: str, pq: Path, db: Path, cutoff: str, rounds: int, only: str | None) -> None:
    print(f"\n## {store}", flush=True)
    runs: dict[str, list[dict]] = {"aovlab": [], "lifetimes": []}
    for i in range(rounds):
        for who in ("aovlab", "lifetimes"):
            if only and who != only:
                continue
            r = child(who, store, str(db if who == "aovlab" else pq), cutoff)
            runs[who].append(r)
            print(f"  round {i + 1} {who:9s} {r['seconds']:7.2f}s  peak {r['peak_mb']:7.0f} MB"
                  f" (work {r['peak_mb'] - r['base_mb']:6.0f} MB)  LL {r['log_likelihood']:.6f}",
                  flush=True)
    a = runs["aovlab"]
    med = {k: statistics.median(x["seconds"] for x in v) for k, v in runs.items() if v}
    print(f"  customers {a[0]['customers']:,}" if a else "", flush=True)
    for k, v in runs.items():
        if v:
            print(f"  {k:9s} median {med[k]:.2f}s, peak RSS {max(x['peak_mb'] for x in v):.0f} "
                  f"MB (work {max(x['peak_mb'] - x['base_mb'] for x in v):.0f} MB)")
    if a and runs["lifetimes"]:
        lt = runs["lifetimes"]
        ratios = [y["seconds"] / x["seconds"] for x, y in zip(a, lt, strict=False)]
        rel = abs(a[0]["log_likelihood"] - lt[0]["log_likelihood"]) / abs(
            lt[0]["log_likelihood"])
        print(f"  lifetimes / aovlab: median {statistics.median(ratios):.1f}x "
              f"(rounds: {', '.join(f'{r:.1f}x' for r in ratios)})")
        print(f"  log-likelihood: aovlab {a[0]['log_likelihood']:.6f}, lifetimes "
              f"{lt[0]['log_likelihood']:.6f}, relative difference {rel:.1e} "
              f"({'higher' if a[0]['log_likelihood'] >= lt[0]['log_likelihood'] else 'lower'}"
              " for aovlab)")
        print(f"  total 12-month CLV: aovlab {a[0]['total_clv']:,.2f}, lifetimes "
              f"{lt[0]['total_clv']:,.2f} (lifetimes' month is 30 days, aovlab's 30.44)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=["aovlab", "lifetimes"])
    ap.add_argument("--skip-cdnow", action="store_true")
    ap.add_argument("--child", choices=["aovlab", "lifetimes"], help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--cutoff", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run = run_aovlab if args.child == "aovlab" else run_lifetimes
        print(json.dumps(run(Path(args.data), args.cutoff)))
        return
    if args.only != "aovlab":
        try:
            import lifetimes  # noqa: F401
        except ImportError:
            sys.exit('lifetimes is not installed: pip install "setuptools<81" '
                     "lifetimes==0.11.3 (or pass --only aovlab)")
    print(f"# benchmarks/clv.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(" ".join(["python", "benchmarks/clv.py", *sys.argv[1:]]))
    if not args.skip_cdnow:
        pq, db = cdnow()
        compare("CDNOW master (cut-off 1997-09-30)", pq, db, "1997-09-30", args.rounds,
                args.only)
    pq, db = simulated(args.customers, args.seed)
    compare(f"simulated store, {args.customers:,} customers", pq, db, CUTOFF.isoformat(),
            args.rounds, args.only)


if __name__ == "__main__":
    main()
