"""``aovlab serve`` under load: cold and repeated views against the library called directly.

    python benchmarks/dashboard.py                       # 1M orders, 3,000 requests
    python benchmarks/dashboard.py --orders 200000 --requests 1000   # quick run

The store is the synthetic one of ``benchmarks/kpis.py`` (generated once, cached in
``benchmarks/_work/``). The server is the real CLI, ``aovlab serve``, in a subprocess; this
process is the client, on loopback, with ``--clients`` concurrent connections (httpx).

1. **Cold views**: for each of several selections not asked before (a channel × a period
   preset), in turn: ``GET /api/kpis`` for it (the server opens the workspace and runs
   ``aovlab.kpis``), then the same ``aovlab.kpis`` call made here directly, then the full
   dashboard page ``GET /`` for it (the report's dozen analyses), then the same report built
   here directly (``gather`` + ``render``, with the breakdowns the dashboard draws: those
   the workspace has two values of). Medians and the ratios server / direct are printed.
2. **Repeated views**: ``--requests`` requests spread over pages, API calls and downloads
   of the selections already viewed (a user clicking around): latency percentiles per kind
   and the number of errors (any status but 200, or a connection error).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

import aovlab
from aovlab.report.gather import gather
from aovlab.report.html import render
from aovlab.report.locale import Speaker
from aovlab.web.dashboard import breakdowns, workspace_values

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from kpis import prepare  # noqa: E402 - the benchmarks share the cached synthetic store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(db: Path, port: int) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("aovlab")
    proc = subprocess.Popen([str(exe), "serve", "-w", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"aovlab serve exited: {proc.stderr.read()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("aovlab serve did not start within 60 s")


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:,.1f}"


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workdir", type=Path, default=HERE / "_work")
    args = ap.parse_args(argv)
    args.workdir.mkdir(exist_ok=True)
    _store, db = prepare(args.orders, args.seed, args.workdir)
    with aovlab.Workspace(db, read_only=True) as ws:
        known = workspace_values(ws)
    channels = known["channel"]  # most orders first
    dims = breakdowns(lambda d: known[d])
    selections = [(c, p) for p in ("month", "quarter") for c in channels[:3]]
    print(f"aovlab {aovlab.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
          f"{args.orders:,} orders; {len(selections)} cold selections; "
          f"{args.requests:,} repeated requests from {args.clients} clients", flush=True)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(db, port)
    try:
        client = httpx.Client(base_url=base, timeout=120)
        # -- 1. cold views, each beside the same work done directly -------------------------
        cold: dict[str, list[float]] = defaultdict(list)
        for channel, preset in selections:
            t = time.perf_counter()
            r = client.get("/api/kpis", params={"where": f"channel={channel}",
                                                "last": preset})
            cold["api"].append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
            t = time.perf_counter()
            with aovlab.Workspace(db, read_only=True) as ws:
                direct = aovlab.kpis(ws, filters={"channel": channel}, last=preset)
            cold["kpis"].append(time.perf_counter() - t)
            got = r.json()["tables"]["kpis"][0]
            assert got["orders"] == int(direct.table["orders"].iloc[0])  # the same numbers
            t = time.perf_counter()
            r = client.get("/", params={"channel": channel, "preset": preset})
            cold["page"].append(time.perf_counter() - t)
            assert r.status_code == 200, r.text[:300]
            t = time.perf_counter()
            with aovlab.Workspace(db, read_only=True) as ws:
                sel = aovlab.Selection.of(filters={"channel": channel})
                render(gather(ws, sel, last=preset, dimensions=dims), Speaker(),
                       scripts="static/")
            cold["report"].append(time.perf_counter() - t)
            print(f"  cold {channel}/{preset}: api {cold['api'][-1]:.2f}s, kpis "
                  f"{cold['kpis'][-1]:.2f}s, page {cold['page'][-1]:.2f}s, report "
                  f"{cold['report'][-1]:.2f}s", flush=True)

        # -- 2. repeated views under load ----------------------------------------------------
        kinds = []
        for channel, preset in selections:
            kinds += [("page", "/", {"channel": channel, "preset": preset}),
                      ("api", "/api/kpis", {"where": f"channel={channel}", "last": preset}),
                      ("download", "/download/trend.csv",
                       {"channel": channel, "preset": preset})]
        rng = random.Random(args.seed)
        plan = [rng.choice(kinds) for _ in range(args.requests)]
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        lock = threading.Lock()
        local = threading.local()

        def one(item) -> None:
            kind, url, params = item
            c = getattr(local, "client", None)
            if c is None:
                c = local.client = httpx.Client(base_url=base, timeout=30)
            t = time.perf_counter()
            try:
                r = c.get(url, params=params)
                ok = r.status_code == 200
                why = f"{r.status_code} {url}"
            except httpx.HTTPError as exc:
                ok, why = False, f"{type(exc).__name__} {url}"
            dt = time.perf_counter() - t
            with lock:
                latencies[kind].append(dt)
                if not ok:
                    errors.append(why)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(one, plan))
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(10)

    print("\ncold views (median of the selections; server = HTTP request, direct = the same "
          "work in this process):")
    print("| view | server median ms | direct median ms | server / direct |")
    print("|------|-----------------:|-----------------:|----------------:|")
    for server, direct, label in (("api", "kpis", "`/api/kpis` vs `aovlab.kpis`"),
                                  ("page", "report", "`/` vs `gather` + `render`"),
                                  ("page", "kpis", "`/` vs `aovlab.kpis`")):
        ratio = statistics.median(cold[server]) / statistics.median(cold[direct])
        print(f"| {label} | {_ms(cold[server])} | {_ms(cold[direct])} | {ratio:.2f}× |")
    every = [v for vs in latencies.values() for v in vs]
    print(f"\nrepeated views: {len(every):,} requests in {wall:.1f}s "
          f"({len(every) / wall:,.0f}/s), {len(errors)} errors")
    print("| kind | requests | p50 ms | p95 ms | p99 ms | max ms |")
    print("|------|---------:|-------:|-------:|-------:|-------:|")
    for kind, vs in sorted(latencies.items()) + [("all", every)]:
        print(f"| {kind} | {len(vs):,} | {_pct(vs, .5) * 1e3:.1f} | {_pct(vs, .95) * 1e3:.1f} "
              f"| {_pct(vs, .99) * 1e3:.1f} | {max(vs) * 1e3:.1f} |")
    p95 = _pct(every, 0.95) * 1e3
    print(f"\np95 of repeated views {p95:.1f} ms (target < 150 ms): "
          f"{'met' if p95 < 150 else 'NOT met'}; errors: {len(errors)} (target 0)")
    for e in errors[:10]:
        print("  error:", e)
    return 0 if not errors and p95 < 150 else 1


if __name__ == "__main__":
    sys.exit(main())
