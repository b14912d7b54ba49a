"""100M order lines: generate, import through the real merge path, compute KPIs; time and RSS.

    python benchmarks/import_scale.py                        # 100M lines (~25M orders)
    python benchmarks/import_scale.py --lines 2000000        # quick check
    python benchmarks/import_scale.py --memory-limit 8GB     # cap DuckDB's buffer pool

1. :func:`aovlab.synthetic.write_orders` writes the orders, lines and products to Parquet
   under ``benchmarks/_work/`` in chunks (reused when already there with the same
   parameters; ``--regenerate`` forces it).
2. :func:`aovlab.synthetic.import_synthetic` stages them with ``read_parquet`` and goes
   through :meth:`aovlab.Workspace.run_import`: validation, then the atomic merge into a
   new workspace file. Every SQL statement that takes over a second is logged with its
   time and the RSS after it.
3. The floor: a plain DuckDB ``CREATE TABLE … AS SELECT`` of the same canonical columns
   from the same files into a new database file, under the same memory limit and threads —
   what the import costs at the least, with no checks, keys or customer facts.
4. ``aovlab.kpis(ws, period="month")`` on the imported workspace.

Each phase reports its wall time and peak RSS (Linux ``VmHWM``, reset per phase); a
sampler thread records the RSS and the size of DuckDB's spill directory every second.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import aovlab
from aovlab import synthetic

HERE = Path(__file__).resolve().parent


def _status(key: str) -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def peak_rss() -> int:
    return _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def dir_size(p: Path) -> int:
    if not p.exists():
        return 0
    if p.is_file():
        return p.stat().st_size
    total = 0
    for root, _, files in os.walk(p):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, f))
    return total


class Sampler(threading.Thread):
    """RSS and spill-directory size every ``every`` seconds, maxima per phase."""

    def __init__(self, spill: Path, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.spill, self.every = spill, every
        self.max_rss = self.max_spill = 0
        self._stop_event = threading.Event()

    def reset(self) -> None:
        self.max_rss = self.max_spill = 0

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            self.max_rss = max(self.max_rss, _status("VmRSS"))
            self.max_spill = max(self.max_spill, dir_size(self.spill))

    def stop(self) -> None:
        self._stop_event.set()


class TracedConnection:
    """Wraps the workspace's DuckDB connection to log slow statements (import phase only)."""

    def __init__(self, con, log: list, min_seconds: float = 1.0) -> None:
        self._con, self._log, self._min = con, log, min_seconds

    def execute(self, sql, *args):
        t = time.perf_counter()
        res = self._con.execute(sql, *args)
        dt = time.perf_counter() - t
        if dt >= self._min:
            text = re.sub(r"\s+", " ", str(sql)).strip()[:110]
            self._log.append({"seconds": round(dt, 1), "rss": _status("VmRSS"), "sql": text})
            print(f"    {dt:7.1f}s  rss {gib(_status('VmRSS')):>10}  {text}", flush=True)
        return res

    def __getattr__(self, name):
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000_000,
                    help="order lines to generate (orders = lines / --lines-per-order)")
    ap.add_argument("--lines-per-order", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk-orders", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=HERE / "_work")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 12GB or 30%% "
                    "(default: aovlab's, half of the machine's memory)")
    ap.add_argument("--regenerate", action="store_true", help="rewrite the Parquet files")
    ap.add_argument("--keep", action="store_true", help="keep the workspace file afterwards")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    n_orders = max(1, round(args.lines / args.lines_per_order))
    args.workdir.mkdir(parents=True, exist_ok=True)
    store_dir = args.workdir / f"scale-{args.lines}-s{args.seed}"
    db = args.workdir / f"scale-{args.lines}-s{args.seed}.duckdb"
    import psutil

    info = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "ram": gib(psutil.virtual_memory().total), "load_avg": os.getloadavg(),
            "lines_requested": args.lines, "orders": n_orders}
    print(json.dumps(info), flush=True)
    report: dict = {"machine": info, "phases": {}}
    sampler = Sampler(Path(str(db) + ".tmp"))
    sampler.start()

    def phase(name: str, fn):
        reset_peak()
        sampler.reset()
        print(f"[{name}] ...", flush=True)
        t = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t
        figures = {"seconds": round(dt, 1), "peak_rss": peak_rss(),
                   "max_spill": sampler.max_spill}
        report["phases"][name] = figures
        print(f"[{name}] {dt:.1f}s, peak RSS {gib(figures['peak_rss'])}, "
              f"DuckDB spill max {gib(figures['max_spill'])}", flush=True)
        return out

    # 1. generate ---------------------------------------------------------------------------
    m = synthetic.read_manifest(store_dir)
    want = {"lines_per_order_mean": args.lines_per_order, "chunk_orders": args.chunk_orders}
    if (args.regenerate or m is None or m.n_orders != n_orders or m.seed != args.seed
            or any(m.params.get(k) != v for k, v in want.items()) or not m.n_lines):
        m = phase("generate", lambda: synthetic.write_orders(
            store_dir, n_orders, seed=args.seed, lines_per_order_mean=args.lines_per_order,
            chunk_orders=args.chunk_orders,
            progress=lambda s: print("    " + s, flush=True)))
    else:
        print(f"[generate] reusing {store_dir} (written in {m.seconds:.0f}s)", flush=True)
        report["phases"]["generate"] = {"seconds": round(m.seconds, 1), "reused": True}
    print(f"    {m.n_orders:,} orders, {m.n_lines:,} lines, {m.n_customers:,} customers, "
          f"{gib(dir_size(store_dir))} of Parquet", flush=True)
    report.update(orders=m.n_orders, lines=m.n_lines, customers=m.n_customers,
                  parquet_bytes=dir_size(store_dir))

    # 2. the floor: CREATE TABLE AS of the same rows ---------------------------------------
    floor_db = args.workdir / f"floor-{args.lines}-s{args.seed}.duckdb"
    floor_db.unlink(missing_ok=True)

    def floor() -> None:
        import duckdb
        import pyarrow.parquet as pq

        from aovlab import schema
        from aovlab.storage import memory

        con = duckdb.connect(str(floor_db))
        con.execute("SET enable_progress_bar = false")
        memory.apply(con, args.memory_limit)  # aovlab's default limit, or the one given
        for table, folder in (("orders", "orders"), ("order_lines", "order_lines"),
                              ("products", None)):
            files = ([str(store_dir / "products.parquet")] if folder is None
                     else sorted(str(p) for p in (store_dir / folder).glob("*.parquet")))
            have = set(pq.read_schema(files[0]).names)
            cols = ", ".join(c for c in schema.TABLES[table].column_names if c in have)
            t = time.perf_counter()
            con.execute(f"CREATE TABLE {table} AS SELECT {cols} FROM read_parquet({files})")
            print(f"    {time.perf_counter() - t:7.1f}s  CREATE TABLE {table} AS ...",
                  flush=True)
        con.close()

    phase("floor: CREATE TABLE AS", floor)
    report["phases"]["floor: CREATE TABLE AS"]["db_bytes"] = dir_size(floor_db)
    for p in (floor_db, Path(str(floor_db) + ".wal")):
        p.unlink(missing_ok=True)

    # 3. import -----------------------------------------------------------------------------
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(Path(str(db) + ".tmp"), ignore_errors=True)
    ws = aovlab.Workspace(db, memory_limit=args.memory_limit)  # None: aovlab's default
    ws.con.execute("SET enable_progress_bar = false")
    settings = dict(zip(("memory_limit", "threads", "temp_directory", "preserve_order"),
                        ws.con.execute(
                            "SELECT current_setting('memory_limit'), current_setting('threads'),"
                            " current_setting('temp_directory'),"
                            " current_setting('preserve_insertion_order')").fetchone(),
                        strict=True))
    print(f"    duckdb {settings}", flush=True)
    report["duckdb"] = settings
    log: list = []
    real = ws.con
    ws.con = TracedConnection(real, log)
    t0 = time.perf_counter()

    def progress(step: str) -> None:
        print(f"  {time.perf_counter() - t0:8.1f}s  {step}", flush=True)

    try:
        summary = phase("import", lambda: synthetic.import_synthetic(ws, store_dir,
                                                                    progress=progress))
    finally:
        ws.con = real
    report["phases"]["import"]["statements"] = log
    report["phases"]["import"]["db_bytes"] = dir_size(db)
    print(f"    added {summary.orders_added:,} orders, {summary.lines_added:,} lines; "
          f"workspace file {gib(dir_size(db))}", flush=True)
    ok = summary.orders_added == m.n_orders and summary.lines_added == m.n_lines

    # 4. KPIs -------------------------------------------------------------------------------
    k = phase("kpis(period=month)", lambda: aovlab.kpis(ws, period="month").table)
    print(k[["period", "orders", "revenue", "aov", "median", "customers",
             "repeat_customer_rate"]].tail(3).to_string(index=False), flush=True)
    ok = ok and int(k["orders"].sum()) == ws.con.execute(
        "SELECT count(*) FROM orders WHERE status IN ('placed', 'refunded')").fetchone()[0]
    kc = phase("kpis(by=channel, period=month)",
               lambda: aovlab.kpis(ws, by=["channel"], period="month").table)
    report["kpi_rows"] = [len(k), len(kc)]
    ws.close()
    sampler.stop()

    # clear_refs resets ru_maxrss too, so the process peak is the largest phase peak
    total_rss = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]
                    + [f["peak_rss"] for f in report["phases"].values() if "peak_rss" in f])
    report["process_peak_rss"] = total_rss
    print("\nphase                              seconds     peak RSS   DuckDB spill")
    for name, f in report["phases"].items():
        peak = gib(f["peak_rss"]) if "peak_rss" in f else "-"
        spill = gib(f["max_spill"]) if "max_spill" in f else "-"
        print(f"{name:<33}{f['seconds']:>9.1f}{peak:>13}{spill:>15}")
    print(f"process peak RSS (max over phases): {gib(total_rss)}; DuckDB memory_limit "
          f"{settings['memory_limit']}, threads {settings['threads']}")
    imp, flo = report["phases"]["import"], report["phases"]["floor: CREATE TABLE AS"]
    from aovlab.storage.memory import memory_limit_bytes

    limit = memory_limit_bytes(args.memory_limit)
    ratio = imp["seconds"] / flo["seconds"]
    report["ratio_import_to_floor"] = ratio
    print(f"import / floor (CREATE TABLE AS): {ratio:.2f}x — target <= 3x: "
          f"{'met' if ratio <= 3 else 'MISSED'}")
    print(f"import peak RSS {gib(imp['peak_rss'])} vs DuckDB memory_limit "
          f"{settings['memory_limit']}: {'within' if imp['peak_rss'] <= limit else 'ABOVE'}")
    print("row counts check: " + ("ok" if ok else "MISMATCH"))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    if not args.keep:
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
