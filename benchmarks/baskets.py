"""Frequent itemsets: ``aovlab.baskets`` against mlxtend 0.25 and hand-written DuckDB SQL.

    pip install mlxtend==0.25.0                           # the comparison of part 1
    python benchmarks/baskets.py --rounds 3               # UCI Online Retail, then 2M orders
    python benchmarks/baskets.py --orders 200000 --skus 30000 --rounds 1     # a quick run
    python benchmarks/baskets.py --skip-uci --rounds 1    # the synthetic store only

Part 1, UCI Online Retail (the file bundled with aovlab): the baskets are the product lines
bought (quantity > 0, line type 'product') of the placed orders of a workspace built from
it, 19,865 baskets over 3,914 products, read once with SQL and saved as (order, product)
pairs in Parquet. At each ``--supports`` value, in fresh processes taking turns:

* aovlab: the pairs read with pyarrow, ``aovlab.baskets.frequent_itemsets(table, s)``;
* mlxtend: the pairs read with pandas, one basket list per order, ``TransactionEncoder``
  (the one-hot frame of the mlxtend docs; timed as "encode"), then ``fpgrowth(df, s,
  use_colnames=True)`` (timed as "mine").

Both must find the same itemsets with the same supports (to 1e-12). Also timed once a
round: the whole workspace analysis, ``aovlab.baskets(ws, min_support=0.005,
min_confidence=0.5)`` (query, mining, rules, money).

Part 2, a seeded synthetic store (``--orders`` orders over ``--skus`` SKUs: Zipf-like
popularity, 1 + Poisson(2.5) items an order, ``--anchors`` SKUs that bring a partner SKU
along with probability 0.3), (order, sku) pairs in Parquet. Every item and pair of items in
``--min-count`` or more orders, found by:

* aovlab: the pairs read with pyarrow, ``frequent_itemsets(table, min_count, max_len=2)``;
* duckdb-sql: item counts, then the self-join of the pairs on the order, ``HAVING
  count(*) >= min_count``, on the Parquet file;
* duckdb-sql-prefiltered: the same, the self-join restricted first to the frequent items
  (what a user who knows that a pair is never more frequent than its items writes);
* engine: the store imported into a workspace (once, cached, with ``import_frame`` in
  chunks of ``--import-chunk`` lines; ``--import-orders`` to import a smaller store),
  ``aovlab.baskets(ws, min_support=min_count, method="engine")``.

All must give the same items and pairs with the same counts. ``--profile`` adds one more
aovlab run under cProfile (not counted) and prints its top functions.

Each run is a fresh child process (``--child``), so that its peak RSS is its own: the
child's ``VmHWM``, with ``ru_maxrss`` beside it (Linux carries the parent's peak into a
child's ``ru_maxrss`` when it is spawned; the parent here stays small, so the two agree).
"work" is the peak above the footprint once the libraries are imported. The times are of
the work itself; interpreter start, imports and the read are reported separately. Stores,
pairs and workspaces are cached in ``benchmarks/_work/``.
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
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
UCI_SQL = """
SELECT DISTINCT l.order_id, l.product_id
FROM order_lines l JOIN orders o USING (source, order_id)
WHERE o.status = 'placed' AND l.line_type = 'product' AND l.quantity > 0
  AND l.product_id IS NOT NULL
ORDER BY l.order_id, l.product_id
"""


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return _maxrss_mb()


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mem(base: float) -> dict:
    return {"base_mb": base, "peak_mb": _peak_mb(), "maxrss_mb": _maxrss_mb()}


# -- the data ---------------------------------------------------------------------------------
def uci() -> tuple[Path, Path]:
    """(pairs parquet, workspace) of UCI Online Retail, made once."""
    WORK.mkdir(exist_ok=True)
    db, pq = WORK / "baskets-uci.duckdb", WORK / "baskets-uci-pairs.parquet"
    if not db.exists() or not pq.exists():
        r = child("uci-prepare", db=str(db), pq=str(pq))
        print(f"  UCI Online Retail imported in {r['import_s']:.1f}s: {r['rows']:,} pairs, "
              f"{r['baskets']:,} baskets x {r['items']:,} products", flush=True)
    return pq, db


def prepare_uci(db: str, pq: str) -> dict:
    import pyarrow.compute as pc
    import pyarrow.parquet as papq

    import aovlab
    from aovlab.importers import bundled_online_retail

    Path(db).unlink(missing_ok=True)
    t = time.perf_counter()
    with aovlab.Workspace(db) as ws:
        aovlab.import_files(ws, bundled_online_retail(), "online_retail")
        took = time.perf_counter() - t
        pairs = ws.con.execute(UCI_SQL).to_arrow_table()
    papq.write_table(pairs, pq)
    return {"import_s": took, "rows": pairs.num_rows,
            "baskets": len(pc.unique(pairs["order_id"])),
            "items": len(pc.unique(pairs["product_id"]))}


def synthetic_paths(a) -> tuple[Path, Path]:
    stem = f"baskets-{a.orders}x{a.skus}-a{a.anchors}-s{a.seed}"
    return WORK / f"{stem}-pairs.parquet", WORK / f"{stem}-lines.parquet"


def synthetic(a) -> tuple[Path, Path]:
    """(pairs parquet, lines parquet) of the synthetic store, made once."""
    WORK.mkdir(exist_ok=True)
    pq, lines = synthetic_paths(a)
    if not pq.exists() or not lines.exists():
        print(f"  generating {a.orders:,} orders over {a.skus:,} SKUs ...", flush=True)
        r = child("generate", orders=a.orders, skus=a.skus, anchors=a.anchors, seed=a.seed,
                  pq=str(pq), lines=str(lines))
        print(f"  {r['pairs']:,} (order, sku) pairs in {r['seconds']:.0f}s, "
              f"peak {r['peak_mb']:.0f} MB", flush=True)
    return pq, lines


def generate(orders: int, skus: int, anchors: int, seed: int, pq: str, lines: str) -> dict:
    """Basket contents with NumPy, seeded: SKU popularity p_k ∝ 1/(k+10)^1.1 over a random
    SKU numbering, 1 + Poisson(2.5) items an order (at most 12), for ``anchors`` of the
    20,000 most popular SKUs a partner SKU added with probability 0.3; each SKU once an
    order. The lines add a customer, a time, a quantity and a price per SKU."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as papq

    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    w = 1.0 / (np.arange(skus) + 10.0) ** 1.1
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    size = np.minimum(1 + rng.poisson(2.5, orders), 12)
    order = np.repeat(np.arange(orders, dtype=np.int64), size)
    rank = np.minimum(np.searchsorted(cdf, rng.random(len(order))), skus - 1)
    anchor = rng.choice(min(20_000, skus), min(anchors, skus), replace=False)
    partner = rng.integers(0, skus, len(anchor))
    slot = np.full(skus, -1)
    slot[anchor] = np.arange(len(anchor))
    s = slot[rank]
    add = (s >= 0) & (rng.random(len(rank)) < 0.3)
    order = np.concatenate((order, order[add]))
    rank = np.concatenate((rank, partner[s[add]]))
    del s, add
    key = np.unique(order * skus + rank)  # distinct, sorted by order
    order, rank = key // skus, key % skus
    del key
    code = rng.permutation(skus)[rank]  # the SKU numbers say nothing of popularity

    def ids(prefix: str, v: np.ndarray, n: int) -> pa.Array:
        digits = pc.utf8_lpad(pc.cast(pa.array(v), pa.string()), len(str(n - 1)), "0")
        return pc.binary_join_element_wise(prefix, digits, "")

    order_id, sku = ids("O", order, orders), ids("SKU", code, skus)
    papq.write_table(pa.table({"order_id": order_id, "sku": sku}), pq)
    # the order lines of the same baskets, for the workspace
    start = np.datetime64("2024-01-01T00:00:00", "s")
    when = start + np.sort(rng.integers(0, 365 * 86400, orders)) * np.timedelta64(1, "s")
    customer = rng.integers(0, max(1, orders // 3), orders)
    price = np.round(np.exp(rng.normal(2.5, 0.8, skus)), 2) + 0.5
    papq.write_table(pa.table({
        "order_id": order_id, "customer_id": ids("C", customer[order], max(2, orders // 3)),
        "created_at": pa.array(when[order]), "product_id": sku,
        "quantity": pa.array(1 + rng.poisson(0.3, len(order))),
        "unit_price": pa.array(price[code])}), lines)
    return {"pairs": len(order), "seconds": time.perf_counter() - t, **_mem(0)}


def workspace(a) -> tuple[Path, dict]:
    """The synthetic store of ``--import-orders`` orders imported into a workspace, once;
    the import's time is kept beside it."""
    small = argparse.Namespace(**{**vars(a), "orders": a.import_orders or a.orders})
    _, lines = synthetic(small)
    db = lines.with_name(lines.name.replace("-lines.parquet", ".duckdb"))
    info = db.with_suffix(".import.json")
    if not db.exists() or not info.exists():
        print(f"  importing {small.orders:,} orders into {db.name} ...", flush=True)
        r = child("import", lines=str(lines), db=str(db), chunk=a.import_chunk)
        r["date"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        info.write_text(json.dumps(r))
    r = json.loads(info.read_text())
    print(f"  workspace {db.name}: {r['orders']:,} orders, {r['lines']:,} lines, imported in "
          f"{r['seconds']:.0f}s ({r['chunks']} chunk(s)), peak {r['peak_mb']:.0f} MB, "
          f"on {r['date']}", flush=True)
    return db, r


def import_store(lines: str, db: str, chunk: int) -> dict:
    """``aovlab.import_frame(kind="lines")`` in chunks of about ``chunk`` lines, cut
    between orders (the lines are sorted by order)."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as papq

    import aovlab

    Path(db).unlink(missing_ok=True)
    t = time.perf_counter()
    tab = papq.read_table(lines)
    oid = tab["order_id"].combine_chunks()
    new = np.flatnonzero(pc.not_equal(oid[1:], oid[:-1]).to_numpy(zero_copy_only=False)) + 1
    cuts = [0]
    for i in range(chunk, tab.num_rows, chunk) if chunk else ():
        j = int(np.searchsorted(new, i))
        if j < len(new) and new[j] > cuts[-1]:
            cuts.append(int(new[j]))
    cuts.append(tab.num_rows)
    with aovlab.Workspace(db) as ws:
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            aovlab.import_frame(ws, tab.slice(lo, hi - lo), kind="lines", currency="EUR")
            print(f"  {ws.count('orders'):,} orders, {time.perf_counter() - t:.0f}s",
                  file=sys.stderr, flush=True)
        out = {"orders": ws.count("orders"), "lines": ws.count("order_lines")}
    return {**out, "chunks": len(cuts) - 1, "seconds": time.perf_counter() - t, **_mem(0)}


# -- the contenders, each in a child process ---------------------------------------------------
def _dump_sets(path: str | None, rows) -> float:
    """The itemsets found, for the parent's check; returns the seconds it took."""
    t = time.perf_counter()
    if path:
        Path(path).write_text(json.dumps(rows))
    return time.perf_counter() - t


def run_uci_aovlab(pq: str, support: float, dump: str | None = None) -> dict:
    t = time.perf_counter()
    import pyarrow.parquet as papq

    import aovlab
    imports = time.perf_counter() - t
    base = _peak_mb()
    t = time.perf_counter()
    table = papq.read_table(pq)
    read = time.perf_counter() - t
    t = time.perf_counter()
    f = aovlab.baskets.frequent_itemsets(table, min_support=support)
    mine = time.perf_counter() - t
    out = {"import_s": imports, "read_s": read, "encode_s": 0.0, "mine_s": mine,
           "itemsets": len(f), "sizes": f["size"].value_counts().sort_index().tolist(),
           **_mem(base)}
    out["dump_s"] = _dump_sets(dump, [[list(s), p] for s, p in zip(f["itemset"], f["support"],
                                                                   strict=True)])
    return out


def run_uci_mlxtend(pq: str, support: float, dump: str | None = None) -> dict:
    t = time.perf_counter()
    import pandas as pd
    from mlxtend.frequent_patterns import fpgrowth
    from mlxtend.preprocessing import TransactionEncoder
    imports = time.perf_counter() - t
    base = _peak_mb()
    t = time.perf_counter()
    df = pd.read_parquet(pq)
    read = time.perf_counter() - t
    t = time.perf_counter()
    dataset = df.groupby("order_id")["product_id"].apply(list).tolist()
    te = TransactionEncoder()
    onehot = pd.DataFrame(te.fit(dataset).transform(dataset), columns=te.columns_)
    encode = time.perf_counter() - t
    t = time.perf_counter()
    f = fpgrowth(onehot, min_support=support, use_colnames=True)
    mine = time.perf_counter() - t
    sizes = f["itemsets"].map(len).value_counts().sort_index().tolist()
    out = {"import_s": imports, "read_s": read, "encode_s": encode, "mine_s": mine,
           "itemsets": len(f), "sizes": sizes, "shape": list(onehot.shape), **_mem(base)}
    out["dump_s"] = _dump_sets(dump, [[sorted(s), p] for s, p in zip(
        f["itemsets"], f["support"], strict=True)])
    return out


def run_uci_workspace(db: str, support: float, dump: str | None = None) -> dict:
    t = time.perf_counter()
    import aovlab
    from aovlab.engines import connect
    imports = time.perf_counter() - t
    with aovlab.Workspace(db, read_only=True) as ws:
        connect(ws, "duckdb").table("orders")  # the engine loaded, as in run_synthetic_engine
        base = _peak_mb()
        t = time.perf_counter()
        r = aovlab.baskets(ws, min_support=support, min_confidence=0.5)
        seconds = time.perf_counter() - t
    f = r.tables["itemsets"]
    dumped = _dump_sets(dump, [[list(s), p] for s, p in zip(f["itemset"], f["support"],
                                                            strict=True)])
    return {"dump_s": dumped, "import_s": imports, "read_s": 0.0, "encode_s": 0.0,
            "mine_s": seconds,
            "itemsets": len(f), "rules": len(r.tables["rules"]),
            "baskets": r.meta["baskets"], "items": r.meta["items"], **_mem(base)}


def _dump_pairs(path: str | None, items, pairs) -> float:
    """Items (``item``, ``n``) and pairs (``a`` < ``b``, ``n``) as two Parquet files, for
    the parent's check; returns the seconds it took."""
    t = time.perf_counter()
    if path:
        import pyarrow as pa
        import pyarrow.parquet as papq

        papq.write_table(pa.table(items), path + ".items.parquet")
        papq.write_table(pa.table(pairs), path + ".pairs.parquet")
    return time.perf_counter() - t


def _sets_to_pairs(f) -> tuple[dict, dict]:
    one, two = f[f["size"] == 1], f[f["size"] == 2]
    return ({"item": [s[0] for s in one["itemset"]], "n": one["baskets"].to_numpy()},
            {"a": [s[0] for s in two["itemset"]], "b": [s[1] for s in two["itemset"]],
             "n": two["baskets"].to_numpy()})


def run_synthetic_aovlab(pq: str, min_count: int, dump: str | None = None,
                         profile: str | None = None) -> dict:
    t = time.perf_counter()
    import pyarrow.parquet as papq

    import aovlab
    imports = time.perf_counter() - t
    base = _peak_mb()
    t = time.perf_counter()
    table = papq.read_table(pq)
    read = time.perf_counter() - t
    t = time.perf_counter()
    if profile:
        import cProfile

        prof = cProfile.Profile()
        f = prof.runcall(aovlab.baskets.frequent_itemsets, table, min_support=min_count,
                         max_len=2)
        prof.dump_stats(profile)
    else:
        f = aovlab.baskets.frequent_itemsets(table, min_support=min_count, max_len=2)
    mine = time.perf_counter() - t
    out = {"import_s": imports, "read_s": read, "mine_s": mine,
           "items": int((f["size"] == 1).sum()), "pairs": int((f["size"] == 2).sum()),
           "rows": table.num_rows, **_mem(base)}
    out["dump_s"] = _dump_pairs(dump, *_sets_to_pairs(f))
    return out


DUCKDB_ITEMS = "SELECT sku, count(*) AS n FROM p GROUP BY sku HAVING count(*) >= $m"
DUCKDB_PAIRS = """
SELECT a.sku AS a, b.sku AS b, count(*) AS n
FROM p a JOIN p b ON a.order_id = b.order_id AND a.sku < b.sku
GROUP BY ALL HAVING count(*) >= $m
"""
DUCKDB_PAIRS_PREFILTERED = """
WITH f AS (SELECT sku FROM p GROUP BY sku HAVING count(*) >= $m),
     q AS (SELECT order_id, sku FROM p SEMI JOIN f USING (sku))
SELECT a.sku AS a, b.sku AS b, count(*) AS n
FROM q a JOIN q b ON a.order_id = b.order_id AND a.sku < b.sku
GROUP BY ALL HAVING count(*) >= $m
"""


def run_synthetic_duckdb(pq: str, min_count: int, prefilter: bool,
                         dump: str | None = None) -> dict:
    t = time.perf_counter()
    import duckdb
    imports = time.perf_counter() - t
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    path = pq.replace("'", "''")
    con.execute(f"CREATE VIEW p AS SELECT order_id, sku FROM read_parquet('{path}')")
    base = _peak_mb()
    t = time.perf_counter()
    items = con.execute(DUCKDB_ITEMS, {"m": min_count}).df()
    pairs = con.execute(DUCKDB_PAIRS_PREFILTERED if prefilter else DUCKDB_PAIRS,
                        {"m": min_count}).df()
    mine = time.perf_counter() - t
    out = {"import_s": imports, "read_s": 0.0, "mine_s": mine, "items": len(items),
           "pairs": len(pairs), "threads": con.execute(
               "SELECT current_setting('threads')").fetchone()[0], **_mem(base)}
    out["dump_s"] = _dump_pairs(dump, {"item": items["sku"].tolist(),
                                       "n": items["n"].to_numpy()},
                                {"a": pairs["a"].tolist(), "b": pairs["b"].tolist(),
                                 "n": pairs["n"].to_numpy()})
    return out


def run_synthetic_engine(db: str, min_count: int, dump: str | None = None) -> dict:
    t = time.perf_counter()
    import aovlab
    from aovlab.engines import connect
    imports = time.perf_counter() - t
    with aovlab.Workspace(db, read_only=True) as ws:
        connect(ws, "duckdb").table("orders")
        base = _peak_mb()
        t = time.perf_counter()
        r = aovlab.baskets(ws, min_support=min_count, method="engine")
        mine = time.perf_counter() - t
    f = r.tables["itemsets"]
    dumped = _dump_pairs(dump, *_sets_to_pairs(f))
    return {"dump_s": dumped, "import_s": imports, "read_s": 0.0, "mine_s": mine,
            "items": int((f["size"] == 1).sum()), "pairs": int((f["size"] == 2).sum()),
            "rules": len(r.tables["rules"]), "baskets": r.meta["baskets"], **_mem(base)}


CHILDREN = {"uci-prepare": prepare_uci, "generate": generate, "import": import_store,
            "uci-aovlab": run_uci_aovlab, "uci-mlxtend": run_uci_mlxtend,
            "uci-workspace": run_uci_workspace, "syn-aovlab": run_synthetic_aovlab,
            "syn-duckdb": run_synthetic_duckdb, "syn-engine": run_synthetic_engine}


def child(who: str, **kw) -> dict:
    cmd = [sys.executable, __file__, "--child", who, "--kwargs", json.dumps(kw)]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"{who} failed ({' '.join(cmd)}):\n{out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["process_s"] = wall
    return r


# -- reporting --------------------------------------------------------------------------------
def med(runs: list[dict], key) -> float:
    return statistics.median(key(r) if callable(key) else r[key] for r in runs)


def end_to_end(r: dict) -> float:
    return r["read_s"] + r.get("encode_s", 0.0) + r["mine_s"]


def startup(r: dict) -> float:
    """Interpreter start (and exit): the child's wall time less its imports, read, work
    and the dump of its results for the check."""
    return r["process_s"] - r["import_s"] - end_to_end(r) - r.get("dump_s", 0.0)


def peak(runs: list[dict]) -> str:
    p = max(r["peak_mb"] for r in runs)
    w = max(r["peak_mb"] - r["base_mb"] for r in runs)
    m = max(r["maxrss_mb"] for r in runs)
    return f"{p:,.0f} MB (work {w:,.0f} MB; ru_maxrss {m:,.0f} MB)"


def rounds_of(xs: list[float]) -> str:
    return ", ".join(f"{x:.1f}" for x in xs)


def same_sets(a_path: Path, b_path: Path) -> tuple[bool, str]:
    a = {frozenset(s): p for s, p in json.loads(a_path.read_text())}
    b = {frozenset(s): p for s, p in json.loads(b_path.read_text())}
    if a.keys() != b.keys():
        return False, (f"itemsets differ: {len(a.keys() - b.keys())} only in the first, "
                       f"{len(b.keys() - a.keys())} only in the second")
    diff = max((abs(a[k] - b[k]) for k in a), default=0.0)
    return diff <= 1e-12, f"{len(a):,} identical itemsets, supports within {diff:.1e}"


def same_pairs(a: str, b: str) -> tuple[bool, str]:
    import pandas as pd

    out, ok = [], True
    for part, keys in (("items", ["item"]), ("pairs", ["a", "b"])):
        x = pd.read_parquet(f"{a}.{part}.parquet")
        y = pd.read_parquet(f"{b}.{part}.parquet")
        m = x.merge(y, on=keys, how="outer", indicator=True)
        good = len(x) == len(y) and (m["_merge"] == "both").all() and (
            m["n_x"] == m["n_y"]).all()
        ok &= bool(good)
        out.append(f"{len(x):,} {part} {'identical' if good else 'DIFFER'}"
                   + ("" if good else f" ({len(x):,} vs {len(y):,}; "
                      f"{int((m['_merge'] != 'both').sum())} unmatched)"))
    return ok, ", ".join(out)


# -- part 1 -----------------------------------------------------------------------------------
def part1(a, table: list[str]) -> None:
    print("\n## Part 1: UCI Online Retail", flush=True)
    pq, db = uci()
    dumps = WORK / "baskets-check"
    dumps.mkdir(exist_ok=True)
    have_mlxtend = True
    try:
        import mlxtend  # noqa: F401
    except ImportError:
        have_mlxtend = False
        print("  mlxtend is not installed: pip install mlxtend==0.25.0 for the comparison; "
              "timing aovlab alone", flush=True)
    who = ["aovlab", "mlxtend"] if have_mlxtend else ["aovlab"]
    runs: dict[tuple, list[dict]] = {}
    ws_runs: list[dict] = []
    for i in range(a.rounds):
        for s in a.supports:
            for w in who:
                dump = str(dumps / f"uci-{w}-{s}.json") if i == 0 else None
                fn = "uci-aovlab" if w == "aovlab" else "uci-mlxtend"
                r = child(fn, pq=str(pq), support=s, dump=dump)
                runs.setdefault((s, w), []).append(r)
                print(f"  round {i + 1} s={s} {w:8s} read {r['read_s']:5.2f}s encode "
                      f"{r['encode_s']:5.2f}s mine {r['mine_s']:6.2f}s  imports "
                      f"{r['import_s']:4.1f}s process {r['process_s']:6.2f}s  peak "
                      f"{r['peak_mb']:6.0f} MB  {r['itemsets']:,} itemsets", flush=True)
        dump = str(dumps / "uci-workspace-0.005.json") if i == 0 else None
        r = child("uci-workspace", db=str(db), support=0.005, dump=dump)
        ws_runs.append(r)
        print(f"  round {i + 1} aovlab.baskets(ws, 0.005, min_confidence=0.5) "
              f"{r['mine_s']:.2f}s, peak {r['peak_mb']:.0f} MB, {r['itemsets']:,} itemsets, "
              f"{r['rules']:,} rules", flush=True)
    table.append("\n### Part 1: UCI Online Retail (19,865 baskets x 3,914 products)\n")
    table.append("| support | contender | itemsets | read s | encode s | mine s "
                 "| read+encode+mine s | imports s | start s | peak RSS |")
    table.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    notes = []
    for s in a.supports:
        for w in who:
            v = runs[(s, w)]
            table.append(f"| {s} | {w} | {v[0]['itemsets']:,} | {med(v, 'read_s'):.2f} | "
                         f"{med(v, 'encode_s'):.2f} | {med(v, 'mine_s'):.2f} | "
                         f"{med(v, end_to_end):.2f} | {med(v, 'import_s'):.2f} | "
                         f"{med(v, startup):.2f} | {peak(v)} |")
        sizes = runs[(s, "aovlab")][0]["sizes"]
        line = f"s={s}: aovlab itemsets by size {sizes}"
        if have_mlxtend:
            av, mv = runs[(s, "aovlab")], runs[(s, "mlxtend")]
            ok, msg = same_sets(dumps / f"uci-aovlab-{s}.json", dumps / f"uci-mlxtend-{s}.json")
            mine = [y["mine_s"] / x["mine_s"] for x, y in zip(av, mv, strict=True)]
            e2e = [end_to_end(y) / end_to_end(x) for x, y in zip(av, mv, strict=True)]
            proc = [y["process_s"] / x["process_s"] for x, y in zip(av, mv, strict=True)]
            line += (f"; {'OK' if ok else 'MISMATCH'}: {msg}; mlxtend / aovlab: mining "
                     f"median {statistics.median(mine):.1f}x (rounds {rounds_of(mine)}), "
                     f"read+encode+mine {statistics.median(e2e):.1f}x (rounds "
                     f"{rounds_of(e2e)}), whole process {statistics.median(proc):.1f}x; "
                     f"peak RSS aovlab {max(r['peak_mb'] for r in av):,.0f} MB vs mlxtend "
                     f"{max(r['peak_mb'] for r in mv):,.0f} MB")
        notes.append(line)
    ok, msg = (same_sets(dumps / "uci-aovlab-0.005.json", dumps / "uci-workspace-0.005.json")
               if 0.005 in a.supports else (True, ""))
    w0 = ws_runs[0]
    table.append(f"| 0.005 | aovlab.baskets(ws, min_confidence=0.5) | {w0['itemsets']:,} "
                 f"| | | {med(ws_runs, 'mine_s'):.2f} | {med(ws_runs, 'mine_s'):.2f} | "
                 f"{med(ws_runs, 'import_s'):.2f} | {med(ws_runs, startup):.2f} "
                 f"| {peak(ws_runs)} |")
    notes.append(f"aovlab.baskets(ws, min_support=0.005, min_confidence=0.5): "
                 f"{w0['baskets']:,} baskets x {w0['items']:,} items, {w0['itemsets']:,} "
                 f"itemsets, {w0['rules']:,} rules; median {med(ws_runs, 'mine_s'):.2f}s "
                 f"(rounds {rounds_of([r['mine_s'] for r in ws_runs])})"
                 + (f"; itemsets vs frequent_itemsets: {'OK' if ok else 'MISMATCH'} {msg}"
                    if msg else ""))
    table += [""] + [f"- {n}" for n in notes]


# -- part 2 -----------------------------------------------------------------------------------
def part2(a, table: list[str]) -> None:
    print(f"\n## Part 2: synthetic store, {a.orders:,} orders x {a.skus:,} SKUs", flush=True)
    pq, _ = synthetic(a)
    dumps = WORK / "baskets-check"
    dumps.mkdir(exist_ok=True)
    tag = pq.name.replace("-pairs.parquet", "")
    contenders = ["aovlab", "duckdb-sql", "duckdb-sql-prefiltered"]
    db = info = None
    if not a.skip_engine:
        db, info = workspace(a)
        contenders.append("engine")
    runs: dict[str, list[dict]] = {c: [] for c in contenders}
    for i in range(a.rounds):
        for c in contenders:
            dump = str(dumps / f"{tag}-{c}") if i == 0 else None
            if c == "aovlab":
                r = child("syn-aovlab", pq=str(pq), min_count=a.min_count, dump=dump)
            elif c == "engine":
                r = child("syn-engine", db=str(db), min_count=a.min_count, dump=dump)
            else:
                r = child("syn-duckdb", pq=str(pq), min_count=a.min_count,
                          prefilter=c.endswith("prefiltered"), dump=dump)
            runs[c].append(r)
            print(f"  round {i + 1} {c:22s} read {r['read_s']:5.2f}s work {r['mine_s']:6.2f}s"
                  f"  imports {r['import_s']:4.1f}s process {r['process_s']:6.2f}s  peak "
                  f"{r['peak_mb']:6.0f} MB  {r['items']:,} items {r['pairs']:,} pairs",
                  flush=True)
    if a.profile:
        import pstats

        path = WORK / f"{tag}-aovlab.prof"
        child("syn-aovlab", pq=str(pq), min_count=a.min_count, profile=str(path))
        print(f"\n  cProfile of aovlab's frequent_itemsets ({path.name}), by own time:")
        pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(12)
    rows = runs["aovlab"][0]["rows"]
    table.append(f"\n### Part 2: synthetic store, {a.orders:,} orders x {a.skus:,} SKUs "
                 f"({rows:,} (order, sku) pairs), support >= {a.min_count} orders\n")
    table.append("| contender | items | pairs | read s | work s | read+work s | imports s "
                 "| start s | peak RSS |")
    table.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for c in contenders:
        v = runs[c]
        name = c if c != "engine" else (
            f"engine: aovlab.baskets(ws, method='engine') on {info['orders']:,} orders")
        table.append(f"| {name} | {v[0]['items']:,} | {v[0]['pairs']:,} | "
                     f"{med(v, 'read_s'):.2f} | {med(v, 'mine_s'):.2f} | "
                     f"{med(v, end_to_end):.2f} | {med(v, 'import_s'):.2f} | "
                     f"{med(v, startup):.2f} | {peak(v)} |")
    notes = []
    av = runs["aovlab"]
    for c in contenders[1:]:
        if c == "engine" and info["orders"] != a.orders:
            notes.append(f"engine: on a store of {info['orders']:,} orders, not compared")
            continue
        ok, msg = same_pairs(str(dumps / f"{tag}-aovlab"), str(dumps / f"{tag}-{c}"))
        ratio = [end_to_end(y) / end_to_end(x) for x, y in zip(av, runs[c], strict=True)]
        notes.append(f"{c} vs aovlab: {'OK' if ok else 'MISMATCH'} ({msg}); {c} / aovlab "
                     f"(read+work) median {statistics.median(ratio):.2f}x "
                     f"(rounds {', '.join(f'{x:.2f}' for x in ratio)})")
    if info:
        notes.append(f"workspace import ({info['orders']:,} orders, {info['lines']:,} lines, "
                     f"{info['chunks']} import_frame call(s)): {info['seconds']:.0f}s, peak "
                     f"{info['peak_mb']:,.0f} MB, on {info['date']}")
    gib = max(r["peak_mb"] for r in av) / 1024
    notes.append(f"aovlab frequent_itemsets(max_len=2, min_support={a.min_count}): median "
                 f"{med(av, 'mine_s'):.2f}s (matrix, mining and frame) + "
                 f"{med(av, 'read_s'):.2f}s read, peak {gib:.2f} GiB "
                 f"({'within' if gib <= 8 else 'OVER'} 8 GiB)")
    table += [""] + [f"- {n}" for n in notes]


def code_version() -> str:
    """The commit the run measures, and whether src/ differs from it."""
    def git(*cmd: str) -> str:
        out = subprocess.run(["git", *cmd], cwd=HERE.parent, capture_output=True, text=True,
                             check=False)
        return out.stdout.strip() if out.returncode == 0 else "?"

    dirty = git("status", "--porcelain", "--", "src")
    return git("rev-parse", "--short", "HEAD") + (
        f" + {len(dirty.splitlines())} changed file(s) in src/" if dirty else " (src/ clean)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--supports", type=lambda s: [float(x) for x in s.split(",")],
                    default=[0.005, 0.01], help="part 1 minimum supports (comma-separated)")
    ap.add_argument("--orders", type=int, default=2_000_000)
    ap.add_argument("--skus", type=int, default=300_000)
    ap.add_argument("--anchors", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-count", type=int, default=20, help="part 2 support, in orders")
    ap.add_argument("--import-orders", type=int, default=0,
                    help="orders of the store imported for the engine run (default --orders)")
    ap.add_argument("--import-chunk", type=int, default=2_500_000,
                    help="lines per import_frame call, cut between orders (0: one call; "
                         "at 2M orders one call peaks at 7.2 GB, 2.5M-line chunks at 3.3 GB)")
    ap.add_argument("--profile", action="store_true",
                    help="part 2: one more aovlab run under cProfile, its top functions")
    ap.add_argument("--skip-uci", action="store_true")
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-engine", action="store_true",
                    help="no workspace import and no method='engine' run")
    ap.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    ap.add_argument("--kwargs", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](**json.loads(args.kwargs))))
        return
    import duckdb
    import numpy
    import pandas
    import pyarrow

    import aovlab

    try:
        from mlxtend import __version__ as mlx
    except ImportError:
        mlx = "absent"
    print(f"# benchmarks/baskets.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"aovlab {aovlab.__version__}, mlxtend {mlx}, DuckDB {duckdb.__version__}, "
          f"pandas {pandas.__version__}, pyarrow {pyarrow.__version__}, "
          f"NumPy {numpy.__version__}; load average {os.getloadavg()[0]:.2f}")
    print(" ".join(["python", "benchmarks/baskets.py", *sys.argv[1:]]), flush=True)
    version = code_version()
    print(f"code: {version}", flush=True)
    table: list[str] = []
    if not args.skip_uci:
        part1(args, table)
    if not args.skip_synthetic:
        part2(args, table)
    if code_version() != version:
        print(f"\nWARNING: the code changed during the run ({version} -> {code_version()})")
    print(f"\n## Summary (medians over rounds; each run a fresh process; code {version}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print("\n".join(table))


if __name__ == "__main__":
    main()
