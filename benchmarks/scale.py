"""100M order lines end to end: import, export to Parquet, then the same KPI call on DuckDB,
Spark local[2] and a Spark standalone cluster — times, peak RSS and the same numbers.

    python benchmarks/scale.py                                  # 100M lines / 25M orders
    python benchmarks/scale.py --lines 2000000                  # a quick check
    python benchmarks/scale.py --workspace W.duckdb             # reuse an imported workspace
                                                                # (import_scale.py --keep)

Phases (each timed; peak RSS of the process tree that does the work — Python, DuckDB and
the Spark driver's JVM — sampled every 0.2 s, plus the cluster daemons' own RSS):

1. ``import``: the synthetic store (written by :mod:`aovlab.synthetic`, reused from
   ``benchmarks/_work/`` when there) through ``Workspace.run_import`` — staging, checks,
   the atomic merge with the customer facts — into a new workspace file.
2. ``export``: :func:`aovlab.storage.export_parquet`, the month-partitioned dataset.
3. ``kpis(by=["channel"], period="month")`` on DuckDB over the workspace, and on DuckDB
   over the Parquet dataset (no workspace file).
4. The same call through the CLI on Spark local[2] reading the dataset in place
   (``aovlab --catalog parquet:DIR kpis --engine spark``), in a fresh process.
5. A Spark standalone cluster — a master and two workers started on 127.0.0.1 with
   Spark's own ``sbin/spark-daemon.sh`` — runs the same command with
   ``SPARK_MASTER=spark://127.0.0.1:7077``; stopped afterwards.

Every table is compared with the workspace's (rtol 1e-9: sums over other partitions differ
in the last digits); the script exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

import aovlab
from aovlab import synthetic
from aovlab.storage import ParquetCatalog, export_parquet

HERE = Path(__file__).resolve().parent
KPI = {"by": ["channel"], "period": "month"}


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


class TreeSampler(threading.Thread):
    """The largest RSS of a process and all its children (a JVM among them), and of any
    extra processes with theirs (the cluster's daemons and their executors), sampled every
    ``every`` seconds."""

    def __init__(self, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.root = psutil.Process()
        self.extra: list[int] = []
        self.peak = self.extra_peak = 0
        self._stop = threading.Event()

    @staticmethod
    def _rss(procs) -> int:
        total = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def reset(self) -> None:
        self.peak = self.extra_peak = 0

    def run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                continue
            self.peak = max(self.peak, self._rss(tree))
            extra = []
            for pid in self.extra:
                with contextlib.suppress(psutil.Error):
                    daemon = psutil.Process(pid)  # a worker's executors are its children
                    extra += [daemon, *daemon.children(recursive=True)]
            self.extra_peak = max(self.extra_peak, self._rss(extra))

    def stop(self) -> None:
        self._stop.set()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A Spark standalone master and ``workers`` workers on 127.0.0.1, started and stopped
    with Spark's own ``sbin/spark-daemon.sh`` (pyspark ships it; SPARK_HOME is pyspark)."""

    MASTER = "org.apache.spark.deploy.master.Master"
    WORKER = "org.apache.spark.deploy.worker.Worker"

    def __init__(self, workers: int, cores: int, memory: str, port: int = 7077) -> None:
        import pyspark

        self.home = Path(pyspark.__file__).parent
        self.dir = Path(tempfile.mkdtemp(prefix="aovlab-cluster-"))
        self.url = f"spark://127.0.0.1:{port}"
        self.workers, self.cores, self.memory, self.port = workers, cores, memory, port
        self.env = {**os.environ, "SPARK_HOME": str(self.home), "SPARK_LOCAL_IP": "127.0.0.1",
                    "SPARK_LOG_DIR": str(self.dir / "logs"),
                    "SPARK_PID_DIR": str(self.dir / "pids"),
                    "SPARK_WORKER_DIR": str(self.dir / "work")}

    def _daemon(self, action: str, cls: str, instance: int, *args: str) -> None:
        subprocess.run(["bash", str(self.home / "sbin" / "spark-daemon.sh"), action, cls,
                        str(instance), *args], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self._daemon("start", self.MASTER, 1, "--host", "127.0.0.1", "--port", str(self.port),
                     "--webui-port", str(free_port()))
        self._wait_for_port(self.port)
        for i in range(1, self.workers + 1):
            self._daemon("start", self.WORKER, i, "--host", "127.0.0.1", "--cores",
                         str(self.cores), "--memory", self.memory, "--webui-port",
                         str(free_port()), self.url)
        self._wait_for_workers()

    def _wait_for_port(self, port: int, timeout: float = 60) -> None:
        end = time.time() + timeout
        while time.time() < end:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"the Spark master did not open port {port}: see {self.dir}/logs")

    def _wait_for_workers(self, timeout: float = 90) -> None:
        end = time.time() + timeout
        while time.time() < end:
            logs = "".join(p.read_text(errors="replace")
                           for p in (self.dir / "logs").glob("*Master*.out"))
            if logs.count("Registering worker") >= self.workers:
                return
            time.sleep(0.5)
        raise RuntimeError(f"the workers did not register: see {self.dir}/logs")

    def pids(self) -> list[int]:
        out = []
        for f in (self.dir / "pids").glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                out.append(int(f.read_text().strip()))
        return out

    def stop(self) -> None:
        for i in range(1, self.workers + 1):
            self._daemon("stop", self.WORKER, i)
        self._daemon("stop", self.MASTER, 1)
        shutil.rmtree(self.dir, ignore_errors=True)


def cli_kpis(data: Path, out: Path, env: dict) -> subprocess.CompletedProcess:
    """The user's command: the KPI table of the dataset on Spark, as Parquet."""
    aovlab_bin = Path(sys.executable).with_name("aovlab")
    return subprocess.run([str(aovlab_bin), "--catalog", f"parquet:{data}", "kpis",
                           "--by", "channel", "--period", "month", "--engine", "spark",
                           "-f", "parquet", "-o", str(out), "--force"],
                          env=env, capture_output=True, text=True)


def differences(want: pd.DataFrame, got: pd.DataFrame, name: str) -> list[str]:
    want = want.sort_values(["period", "channel"]).reset_index(drop=True)
    got = got.sort_values(["period", "channel"]).reset_index(drop=True)
    if len(want) != len(got):
        return [f"{name}: {len(got)} rows, not {len(want)}"]
    out = []
    for col in want.columns:
        a, b = want[col], got[col]
        if col == "period":
            a, b = pd.to_datetime(a).dt.date, pd.to_datetime(b).dt.date
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            ok = np.isclose(a.to_numpy(float), pd.to_numeric(b).to_numpy(float),
                            rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            ok = a.astype(str).to_numpy() == b.astype(str).to_numpy()
        if not ok.all():
            out.append(f"{name}.{col}: {int((~ok).sum())} rows differ")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000_000)
    ap.add_argument("--lines-per-order", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk-orders", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=HERE / "_work")
    ap.add_argument("--workspace", type=Path, help="an imported workspace to start from "
                    "(the import phase is then skipped)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--worker-memory", default="6g")
    ap.add_argument("--spark-memory", default="6g",
                    help="the Spark driver's memory (local mode runs its tasks there)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    n_orders = max(1, round(args.lines / args.lines_per_order))
    info = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "ram": gib(psutil.virtual_memory().total), "load_avg": os.getloadavg(),
            "aovlab": aovlab.__version__}
    print(json.dumps(info), flush=True)
    report: dict = {"machine": info, "phases": {}}
    sampler = TreeSampler()
    sampler.start()

    def phase(name: str, fn):
        sampler.reset()
        print(f"[{name}] ...", flush=True)
        t = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t
        figures = {"seconds": round(dt, 1), "peak_rss": sampler.peak}
        if sampler.extra:
            figures["cluster_rss"] = sampler.extra_peak
        report["phases"][name] = figures
        extra = (f", cluster daemons and executors {gib(sampler.extra_peak)}"
                 if sampler.extra else "")
        print(f"[{name}] {dt:.1f}s, peak RSS {gib(sampler.peak)}{extra}", flush=True)
        return out

    # 1. import -----------------------------------------------------------------------------
    if args.workspace:
        db = args.workspace
        print(f"[import] reusing {db}", flush=True)
    else:
        store_dir = args.workdir / f"scale-{args.lines}-s{args.seed}"
        m = synthetic.read_manifest(store_dir)
        want = {"lines_per_order_mean": args.lines_per_order,
                "chunk_orders": args.chunk_orders}
        if (m is None or m.n_orders != n_orders or m.seed != args.seed
                or any(m.params.get(k) != v for k, v in want.items())):
            m = phase("generate", lambda: synthetic.write_orders(
                store_dir, n_orders, seed=args.seed,
                lines_per_order_mean=args.lines_per_order, chunk_orders=args.chunk_orders))
        db = args.workdir / f"scale-run-{args.lines}.duckdb"
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
        with aovlab.Workspace(db) as ws:
            ws.con.execute("SET enable_progress_bar = false")
            s = phase("import", lambda: synthetic.import_synthetic(ws, store_dir))
        print(f"    {s.orders_added:,} orders, {s.lines_added:,} lines", flush=True)
    ws = aovlab.Workspace(db, read_only=True)
    ws.con.execute("SET enable_progress_bar = false")
    report["orders"], report["lines"] = ws.count("orders"), ws.count("order_lines")
    report["duckdb_memory_limit"] = ws.con.execute(
        "SELECT current_setting('memory_limit')").fetchone()[0]

    # 2. export -----------------------------------------------------------------------------
    data = args.workdir / f"scale-parquet-{report['orders']}"
    shutil.rmtree(data, ignore_errors=True)
    phase("export --parquet", lambda: export_parquet(ws, data))

    # 3. DuckDB -----------------------------------------------------------------------------
    want = phase("kpis: DuckDB, workspace", lambda: aovlab.kpis(ws, **KPI).table)
    with ParquetCatalog(data) as cat:
        got = {"duckdb-parquet": phase("kpis: DuckDB, Parquet dataset",
                                       lambda: aovlab.kpis(cat, **KPI).table)}
    ws.close()

    # 4. Spark local[2] and 5. a standalone cluster, each in a fresh CLI process -------------
    tmp = Path(tempfile.mkdtemp(prefix="aovlab-scale-"))
    base_env = {**os.environ, "SPARK_DRIVER_MEMORY": args.spark_memory}
    base_env.pop("SPARK_MASTER", None)
    r = phase("kpis: Spark local[2], Parquet (CLI)",
              lambda: cli_kpis(data, tmp / "local.parquet", base_env))
    if r.returncode:
        print(r.stderr[-3000:], flush=True)
    else:
        got["spark-local"] = pd.read_parquet(tmp / "local.parquet")
    cluster = Cluster(args.workers, 1, args.worker_memory)
    try:
        phase("start the cluster (master + workers)", cluster.start)
        sampler.extra = cluster.pids()
        conf = tmp / "conf"
        conf.mkdir()
        (conf / "spark-defaults.conf").write_text(
            f"spark.executor.memory {args.worker_memory}\nspark.executor.cores 1\n")
        env = {**base_env, "SPARK_MASTER": cluster.url, "SPARK_DRIVER_MEMORY": "2g",
               "SPARK_CONF_DIR": str(conf)}
        r = phase(f"kpis: Spark cluster {cluster.url}, {args.workers} workers (CLI)",
                  lambda: cli_kpis(data, tmp / "cluster.parquet", env))
        if r.returncode:
            print(r.stderr[-3000:], flush=True)
        else:
            got["spark-cluster"] = pd.read_parquet(tmp / "cluster.parquet")
    finally:
        sampler.extra = []
        cluster.stop()
    sampler.stop()
    shutil.rmtree(tmp, ignore_errors=True)

    problems = [f"{name}: no result" for name in ("spark-local", "spark-cluster")
                if name not in got]
    for name, table in got.items():
        problems += differences(want, table, name)
    print(f"\n{report['orders']:,} orders, {report['lines']:,} lines; DuckDB memory_limit "
          f"{report['duckdb_memory_limit']}")
    print(f"{'phase':<56}{'seconds':>9}{'peak RSS':>12}")
    for name, f in report["phases"].items():
        extra = (f"   + cluster daemons and executors {gib(f['cluster_rss'])}"
                 if "cluster_rss" in f else "")
        print(f"{name:<56}{f['seconds']:>9.1f}{gib(f['peak_rss']):>12}{extra}")
    print(f"the same {len(want)} rows x {len(want.columns)} columns on every engine "
          f"(rtol 1e-9): " + ("yes" if not problems else "NO"))
    for p in problems:
        print("  " + p)
    report["problems"] = problems
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
