"""A seeded synthetic online store, written to Parquet in chunks and imported fast.

``write_orders(dir, n_orders, seed=...)`` writes orders (and, by default, their order lines
and the product catalogue) in canonical shape (:mod:`aovlab.schema`), one chunk of
``chunk_orders`` orders at a time, so that 100M order lines are generated in a few hundred
MB of memory. ``import_synthetic(ws, dir)`` loads them into a workspace through the same
validation and atomic, idempotent merge as every importer (:meth:`Workspace.run_import`),
reading the Parquet files with DuckDB's ``read_parquet`` straight into the staging tables.

Layout of ``dir``: ``orders/NNNNN.parquet``, ``order_lines/NNNNN.parquet`` (one file per
chunk), ``products.parquet`` and ``manifest.json`` (the parameters and row counts; written
last, so its presence means the set is complete).

Determinism: the same ``seed``, ``n_orders``, ``chunk_orders`` and other parameters give
byte-for-byte the same data. Random streams come from ``numpy.random.Generator(PCG64)``
seeded through ``SeedSequence(seed).spawn``: one stream for the catalogue, one for the
customer base, one per chunk.

The distributions (all money is computed in integer cents, so the identities below hold
exactly up to the final division by 100):

* **Time**: ``created_at`` is a UTC instant over ``days`` days (default 730, from
  ``start``). Orders arrive with an hourly intensity = growth (+30 % per year) × month
  seasonality (Jan 0.85 … Nov 1.35, Dec 1.45) × weekday (Sunday busiest) × hour of day
  (evening peak). Order ids are chronological: order *i* is placed at the inverse of the
  cumulative intensity at (*i* + U)/n (stratified sampling), so ids and times increase
  together. ``order_date`` is the calendar date in ``store_timezone`` (Europe/Berlin).
* **Customers**: ``guest_share`` (10 %) of orders are guest checkouts (``customer_id``
  NULL). Known customers place K orders with K − 1 ~ negative binomial (gamma–Poisson,
  shape 0.35, mean 1.5): ~56 % buy once, mean 2.5 orders, a long tail of loyal customers.
  Their orders are spread uniformly over the period. Each customer has one country.
* **Dimensions**: channel web 55 %, app 25 %, marketplace 12 %, pos 8 %. Device depends on
  the channel (web: desktop 45 / mobile 47 / tablet 8 %; app: mobile 88 / tablet 12 %;
  marketplace: desktop 35 / mobile 65 %; pos: NULL). Country DE 38, FR 14, NL 10, AT 8,
  IT 8, ES 7, BE 6, PL 4, SE 3, IE 2 %. Currency is always EUR.
* **Catalogue**: 20,000 products in 12 categories, each with a median price (books 15 …
  electronics 90 EUR) × lognormal(0, 0.6), priced at .99; unit cost 35–65 % of price.
  Popularity is Zipf-like (weight ∝ 1/(rank + 10)) with cheaper products a little more
  popular (× price^−0.3).
* **Lines**: 1 + Poisson((``lines_per_order_mean`` − 1) × channel factor) product lines
  per order (web 1.1, app 0.9, marketplace 0.7, pos 1.0, normalised so the mean is
  ``lines_per_order_mean``); quantity 1 + geometric (mean ≈ 1.3); 0.3 % of orders are
  bulk (B2B) orders with every quantity × 10–29 — with the lognormal prices this gives
  order values a heavy right tail. ``gross_sales`` = Σ quantity × unit_price over the
  order's lines, exactly; ``units`` = Σ quantity; ``cost`` = Σ quantity × unit_cost, NULL
  (and ``unit_cost`` NULL on every line) for 2 % of orders. ``line_discount`` is always 0:
  discounts are order-level.
* **Discounts** (``coupon``): 25 % of customers' first orders use WELCOME10 (10 %); during
  20–30 November 35 % of orders use BF25 (25 %); otherwise 8 % use SAVE15 (15 %) and 3 %
  FREESHIP (free shipping, no discount). ``discounts`` = round(gross × rate).
* **Shipping**: web and app 4.95 EUR below 49 EUR net (gross − discounts), else free;
  marketplace 3.99 below 29 EUR; pos 0.
* **Tax**: prices are net of VAT (a tax-exclusive storefront); ``tax`` = country VAT rate
  (DE 19 %, FR 20 %, … SE 25 %) × (net + shipping).
* ``total`` = gross_sales − discounts + shipping + tax, exactly (in cents).
* **Status and returns**: 0.3 % test, 2.5 % cancelled, 4 % refunded (``returns`` = the
  whole net), the rest placed; 6 % of placed orders have a partial return (20–80 % of
  net). Cancelled and test orders have no returns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .model import (
    CHANNEL_BASKET,
    CHANNEL_SHARES,
    CHANNELS,
    COUNTRIES,
    COUNTRY_SHARES,
    COUPON_RATE,
    COUPONS,
    DEVICE_SHARES,
    DEVICES,
    LINES_SCHEMA,
    N_PRODUCTS,
    ORDERS_SCHEMA,
    PRODUCTS_SCHEMA,
    STATUS_CODES,
    VAT,
    dict_array,
    draw_catalogue,
    draw_choice,
    draw_customers,
    id_array,
    time_grid,
)


@dataclass
class SyntheticStore:
    """What :func:`write_orders` wrote (also saved as ``manifest.json``)."""

    path: str
    n_orders: int
    n_lines: int
    n_customers: int
    seed: int
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def order_files(self) -> list[str]:
        return sorted(str(p) for p in (Path(self.path) / "orders").glob("*.parquet"))

    @property
    def line_files(self) -> list[str]:
        return sorted(str(p) for p in (Path(self.path) / "order_lines").glob("*.parquet"))


@dataclass
class _Plan:
    """What every chunk draws from: the catalogue, the customer base, the time grid."""

    n_orders: int
    lines_per_order_mean: float
    store_timezone: str
    cat: dict
    guest: np.ndarray
    slots: np.ndarray
    first: np.ndarray
    cust_country: np.ndarray
    known_before: np.ndarray  # known orders before order i
    cdf: np.ndarray
    grid: np.ndarray
    start_us: int
    basket: np.ndarray
    vat: np.ndarray
    device_cdf: dict


def _plan(ss: np.random.SeedSequence, n_orders: int, n_chunks: int, *, start: str, days: int,
          guest_share: float, lines_per_order_mean: float, store_timezone: str
          ) -> tuple[_Plan, list, int]:
    cat_ss, cust_ss, *chunk_ss = ss.spawn(2 + n_chunks)
    cat = draw_catalogue(np.random.Generator(np.random.PCG64(cat_ss)))
    guest, slots, first, cust_country, n_customers = draw_customers(
        np.random.Generator(np.random.PCG64(cust_ss)), n_orders, guest_share)
    start64 = np.datetime64(start, "h")
    cdf, grid = time_grid(start64, days)
    plan = _Plan(
        n_orders, lines_per_order_mean, store_timezone, cat, guest, slots, first,
        cust_country, np.concatenate([[0], np.cumsum(~guest)]), cdf, grid,
        int(start64.astype("datetime64[us]").astype(np.int64)),
        np.asarray(CHANNEL_BASKET) / np.dot(CHANNEL_BASKET, CHANNEL_SHARES), np.asarray(VAT),
        {c: np.cumsum(s) / np.sum(s) for c, s in DEVICE_SHARES.items()})
    return plan, chunk_ss, n_customers


def _draw_orders(p: _Plan, rng: np.random.Generator, lo: int, hi: int) -> dict:
    """Time, customer, country, channel and device of orders lo..hi-1."""
    import pandas as pd  # only for the time-zone conversion of order dates

    n = hi - lo
    idx = np.arange(lo, hi)
    # -- time: stratified inverse-CDF sampling keeps ids chronological
    u = (idx + rng.random(n)) / p.n_orders
    hours = np.interp(u, p.cdf, p.grid)
    created_us = p.start_us + np.floor(hours * 3_600e6).astype(np.int64)
    created = pd.DatetimeIndex(created_us.astype("datetime64[us]"), tz="UTC")
    local = created.tz_convert(p.store_timezone).tz_localize(None)
    # -- customers
    g = p.guest[lo:hi]
    kpos = p.known_before[lo:hi][~g]
    cust = np.zeros(n, dtype=np.int64)
    cust[~g] = p.slots[kpos]
    is_first = np.zeros(n, dtype=bool)
    is_first[~g] = p.first[kpos]
    country = np.empty(n, dtype=np.int8)
    country[~g] = p.cust_country[cust[~g]]
    country[g] = draw_choice(rng, COUNTRIES, COUNTRY_SHARES, int(g.sum()))
    # -- dimensions
    channel = draw_choice(rng, CHANNELS, CHANNEL_SHARES, n)
    device = np.full(n, -1, dtype=np.int8)
    ud = rng.random(n)
    for ci, name in enumerate(CHANNELS):
        if name in p.device_cdf:
            sel = channel == ci
            device[sel] = np.searchsorted(p.device_cdf[name], ud[sel], side="right")
    return {"n": n, "idx": idx, "created_us": created_us,
            "order_date": local.values.astype("datetime64[D]"), "month": local.month.values,
            "day": local.day.values, "guest": g, "cust": cust, "is_first": is_first,
            "country": country, "channel": channel, "device": device}


def _draw_lines(p: _Plan, rng: np.random.Generator, d: dict) -> None:
    """Lines, products, quantities and the order sums they make (added to ``d``)."""
    n, cat = d["n"], p.cat
    n_lines = 1 + rng.poisson((p.lines_per_order_mean - 1) * p.basket[d["channel"]])
    total_lines = int(n_lines.sum())
    order_of_line = np.repeat(np.arange(n), n_lines)
    line_start = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
    product = np.minimum(np.searchsorted(cat["cdf"], rng.random(total_lines), side="right"),
                         N_PRODUCTS - 1)
    qty = rng.geometric(0.78, total_lines).astype(np.int64)
    bulk = rng.random(n) < 0.003
    if bulk.any():
        mult = np.where(bulk, rng.integers(10, 30, n), 1)
        qty *= mult[order_of_line]
    price_c = cat["price_cents"][product]
    cost_c = cat["cost_cents"][product]
    gross_c = np.bincount(order_of_line, weights=qty * price_c, minlength=n)
    d.update(
        total_lines=total_lines, order_of_line=order_of_line, product=product, qty=qty,
        line_no=(np.arange(total_lines) - line_start[order_of_line] + 1).astype(np.int32),
        price_c=price_c, cost_c=cost_c,
        gross_c=np.round(gross_c).astype(np.int64),  # exact: integer sums below 2**53
        cost_sum=np.round(np.bincount(order_of_line, weights=qty * cost_c, minlength=n)),
        units=np.bincount(order_of_line, weights=qty, minlength=n),
        no_cost=rng.random(n) < 0.02)


def _draw_money(p: _Plan, rng: np.random.Generator, d: dict) -> None:
    """Coupons, discounts, shipping, tax, status and returns, in cents (added to ``d``)."""
    n, gross_c, channel = d["n"], d["gross_c"], d["channel"]
    uc = rng.random(n)
    coupon = np.zeros(n, dtype=np.int8)
    black_friday = (d["month"] == 11) & (d["day"] >= 20)
    coupon[(uc < 0.08)] = 3
    coupon[(uc >= 0.08) & (uc < 0.11)] = 4
    coupon[black_friday & (uc < 0.35)] = 2
    coupon[d["is_first"] & (rng.random(n) < 0.25)] = 1
    disc_c = np.round(gross_c * np.asarray(COUPON_RATE)[coupon]).astype(np.int64)
    net_c = gross_c - disc_c
    ship_c = np.zeros(n, dtype=np.int64)
    webapp = (channel == 0) | (channel == 1)
    ship_c[webapp & (net_c < 4900)] = 495
    ship_c[(channel == 2) & (net_c < 2900)] = 399
    ship_c[coupon == 4] = 0
    tax_c = np.round((net_c + ship_c) * p.vat[d["country"]]).astype(np.int64)
    us = rng.random(n)
    status = np.zeros(n, dtype=np.int8)
    status[us < 0.04] = 1
    status[(us >= 0.04) & (us < 0.065)] = 2
    status[(us >= 0.065) & (us < 0.068)] = 3
    ret_c = np.zeros(n, dtype=np.int64)
    ret_c[status == 1] = net_c[status == 1]
    partial = (status == 0) & (rng.random(n) < 0.06)
    ret_c[partial] = np.round(net_c[partial] * rng.uniform(0.2, 0.8, int(partial.sum())))
    d.update(coupon=coupon, disc_c=disc_c, ship_c=ship_c, tax_c=tax_c,
             total_c=gross_c - disc_c + ship_c + tax_c, status=status, ret_c=ret_c)


def _orders_table(d: dict) -> pa.Table:
    n, device, coupon = d["n"], d["device"], d["coupon"]
    return pa.table({
        "order_id": d["order_ids"],
        "customer_id": id_array("C", d["cust"] + 1, 8, mask=d["guest"]),
        "created_at": pa.array(d["created_us"], pa.timestamp("us", tz="UTC")),
        "order_date": pa.array(d["order_date"], pa.date32()),
        "channel": dict_array(d["channel"], CHANNELS),
        "country": dict_array(d["country"], COUNTRIES),
        "region": pa.nulls(n, pa.string()), "city": pa.nulls(n, pa.string()),
        "device": dict_array(np.maximum(device, 0), DEVICES, mask=device < 0),
        "currency": dict_array(np.zeros(n, dtype=np.int8), ("EUR",)),
        "gross_sales": pa.array(d["gross_c"] / 100.0),
        "discounts": pa.array(d["disc_c"] / 100.0),
        "shipping": pa.array(d["ship_c"] / 100.0),
        "tax": pa.array(d["tax_c"] / 100.0),
        "returns": pa.array(d["ret_c"] / 100.0),
        "total": pa.array(d["total_c"] / 100.0),
        "cost": pa.array(d["cost_sum"] / 100.0, mask=d["no_cost"]),
        "units": pa.array(d["units"]),
        "status": dict_array(d["status"], STATUS_CODES),
        "coupon": dict_array(np.maximum(coupon, 0), COUPONS, mask=coupon == 0),
    }, schema=ORDERS_SCHEMA)


def _lines_table(p: _Plan, d: dict) -> pa.Table:
    total_lines, product, cat = d["total_lines"], d["product"], p.cat
    return pa.table({
        "order_id": d["order_ids"].take(pa.array(d["order_of_line"])),
        "line_no": pa.array(d["line_no"]),
        "line_type": dict_array(np.zeros(total_lines, dtype=np.int8), ("product",)),
        "product_id": id_array("P", product + 1, 5),
        "name": pa.nulls(total_lines, pa.string()),
        "category": dict_array(cat["category"][product], tuple(cat["categories"])),
        "quantity": pa.array(d["qty"].astype("float64")),
        "unit_price": pa.array(d["price_c"] / 100.0),
        "unit_cost": pa.array(d["cost_c"] / 100.0, mask=d["no_cost"][d["order_of_line"]]),
        "line_discount": pa.array(np.zeros(total_lines)),
    }, schema=LINES_SCHEMA)


def _products_table(cat: dict) -> pa.Table:
    return pa.table({
        "product_id": id_array("P", np.arange(1, N_PRODUCTS + 1), 5),
        "name": pa.nulls(N_PRODUCTS, pa.string()),
        "category": dict_array(cat["category"], tuple(cat["categories"])),
        "price": pa.array(cat["price_cents"] / 100.0),
        "unit_cost": pa.array(cat["cost_cents"] / 100.0),
    }, schema=PRODUCTS_SCHEMA)


def _prepare_dir(out: Path, lines: bool) -> None:
    (out / "orders").mkdir(parents=True, exist_ok=True)
    for old in [*(out / "orders").glob("*.parquet"), *(out / "order_lines").glob("*.parquet")]:
        old.unlink()
    (out / "manifest.json").unlink(missing_ok=True)
    if lines:
        (out / "order_lines").mkdir(parents=True, exist_ok=True)


def _write_chunks(out: Path, plan: _Plan, chunk_ss: list, chunk_orders: int, *, lines: bool,
                  progress: Callable[[str], None] | None) -> int:
    """Draw and write every chunk; return the number of lines written."""
    n_orders = plan.n_orders
    n_chunks = len(chunk_ss)
    n_lines_total = 0
    # Parquet encoding (pyarrow, GIL released) of chunk c overlaps generating chunk c + 1;
    # at most one chunk waits to be written, so memory stays at about two chunks.
    writer = ThreadPoolExecutor(max_workers=1)
    pending: list[Future] = []

    def write(table: pa.Table, dest: Path) -> None:
        pq.write_table(table, dest, compression="zstd")

    for c in range(n_chunks):
        rng = np.random.Generator(np.random.PCG64(chunk_ss[c]))
        lo, hi = c * chunk_orders, min((c + 1) * chunk_orders, n_orders)
        d = _draw_orders(plan, rng, lo, hi)
        _draw_lines(plan, rng, d)
        _draw_money(plan, rng, d)
        d["order_ids"] = id_array("O", d["idx"] + 1, 9)
        orders = _orders_table(d)
        for f in pending:
            f.result()
        pending = [writer.submit(write, orders, out / "orders" / f"{c:05d}.parquet")]
        if lines:
            pending.append(writer.submit(write, _lines_table(plan, d),
                                         out / "order_lines" / f"{c:05d}.parquet"))
        n_lines_total += d["total_lines"]
        del orders, d
        if progress:
            progress(f"chunk {c + 1}/{n_chunks}: {hi:,} orders, {n_lines_total:,} lines")

    for f in pending:
        f.result()
    writer.shutdown()
    return n_lines_total


def write_orders(
    path_dir: str | Path,
    n_orders: int,
    *,
    seed: int = 0,
    lines_per_order_mean: float = 4.0,
    lines: bool = True,
    chunk_orders: int = 1_000_000,
    start: str = "2023-01-01",
    days: int = 730,
    guest_share: float = 0.10,
    store_timezone: str = "Europe/Berlin",
    progress: Callable[[str], None] | None = None,
) -> SyntheticStore:
    """Write ``n_orders`` synthetic orders (and their lines) to Parquet under ``path_dir``.

    See the module docstring for the distributions. Returns what was written; the same
    is saved in ``path_dir/manifest.json``. Existing chunk files are overwritten.
    """
    if n_orders < 1:
        raise ValueError("n_orders must be at least 1")
    if lines_per_order_mean < 1:
        raise ValueError("lines_per_order_mean must be at least 1 (every order has a line)")
    t0 = time.perf_counter()
    out = Path(path_dir)
    _prepare_dir(out, lines)
    n_chunks = -(-n_orders // chunk_orders)
    plan, chunk_ss, n_customers = _plan(
        np.random.SeedSequence(seed), n_orders, n_chunks, start=start, days=days,
        guest_share=guest_share, lines_per_order_mean=lines_per_order_mean,
        store_timezone=store_timezone)
    if lines:
        pq.write_table(_products_table(plan.cat), out / "products.parquet", compression="zstd")

    n_lines_total = _write_chunks(out, plan, chunk_ss, chunk_orders, lines=lines,
                                  progress=progress)
    store = SyntheticStore(
        path=str(out), n_orders=n_orders, n_lines=n_lines_total if lines else 0,
        n_customers=n_customers, seed=seed,
        params={"lines_per_order_mean": lines_per_order_mean, "lines": lines,
                "chunk_orders": chunk_orders, "start": start, "days": days,
                "guest_share": guest_share, "store_timezone": store_timezone},
        seconds=time.perf_counter() - t0,
    )
    (out / "manifest.json").write_text(json.dumps(asdict(store), indent=2))
    return store


def read_manifest(path_dir: str | Path) -> SyntheticStore | None:
    """The store written under ``path_dir``, or ``None`` if it is absent or incomplete."""
    p = Path(path_dir) / "manifest.json"
    if not p.exists():
        return None
    return SyntheticStore(**json.loads(p.read_text()))
