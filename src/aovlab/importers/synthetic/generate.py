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
import pyarrow.compute as pc
import pyarrow.parquet as pq

CHANNELS = ("web", "app", "marketplace", "pos")
CHANNEL_SHARES = (0.55, 0.25, 0.12, 0.08)
#: Relative number of extra lines per order by channel (normalised to mean 1).
CHANNEL_BASKET = (1.1, 0.9, 0.7, 1.0)
DEVICES = ("desktop", "mobile", "tablet")
#: P(device | channel); pos has no device (NULL).
DEVICE_SHARES = {
    "web": (0.45, 0.47, 0.08),
    "app": (0.0, 0.88, 0.12),
    "marketplace": (0.35, 0.65, 0.0),
}
COUNTRIES = ("DE", "FR", "NL", "AT", "IT", "ES", "BE", "PL", "SE", "IE")
COUNTRY_SHARES = (0.38, 0.14, 0.10, 0.08, 0.08, 0.07, 0.06, 0.04, 0.03, 0.02)
VAT = (0.19, 0.20, 0.21, 0.20, 0.22, 0.21, 0.21, 0.23, 0.25, 0.23)
CATEGORIES = {  # category: median list price, EUR
    "apparel": 35, "shoes": 70, "accessories": 20, "beauty": 18, "home": 30, "kitchen": 25,
    "electronics": 90, "toys": 22, "sports": 40, "books": 15, "garden": 30, "food": 9,
}
MONTH_SEASON = (0.85, 0.80, 0.90, 0.90, 0.95, 0.90, 0.90, 0.90, 1.00, 1.05, 1.35, 1.45)
WEEKDAY = (1.05, 1.00, 1.00, 1.00, 0.95, 0.90, 1.10)  # Monday .. Sunday
HOUR = (0.30, 0.20, 0.15, 0.10, 0.10, 0.15, 0.30, 0.60, 0.90, 1.00, 1.10, 1.10,
        1.20, 1.20, 1.10, 1.10, 1.10, 1.20, 1.40, 1.60, 1.70, 1.50, 1.00, 0.60)
N_PRODUCTS = 20_000
STATUS_CODES = ("placed", "refunded", "cancelled", "test")
COUPONS = (None, "WELCOME10", "BF25", "SAVE15", "FREESHIP")
COUPON_RATE = (0.0, 0.10, 0.25, 0.15, 0.0)

ORDERS_SCHEMA = pa.schema([
    ("order_id", pa.string()), ("customer_id", pa.string()),
    ("created_at", pa.timestamp("us", tz="UTC")), ("order_date", pa.date32()),
    ("channel", pa.string()), ("country", pa.string()), ("device", pa.string()),
    ("currency", pa.string()), ("gross_sales", pa.float64()), ("discounts", pa.float64()),
    ("shipping", pa.float64()), ("tax", pa.float64()), ("returns", pa.float64()),
    ("total", pa.float64()), ("cost", pa.float64()), ("units", pa.float64()),
    ("status", pa.string()), ("coupon", pa.string()),
])
LINES_SCHEMA = pa.schema([
    ("order_id", pa.string()), ("line_no", pa.int32()), ("line_type", pa.string()),
    ("product_id", pa.string()), ("name", pa.string()), ("category", pa.string()),
    ("quantity", pa.float64()), ("unit_price", pa.float64()), ("unit_cost", pa.float64()),
    ("line_discount", pa.float64()),
])
PRODUCTS_SCHEMA = pa.schema([
    ("product_id", pa.string()), ("name", pa.string()), ("category", pa.string()),
    ("price", pa.float64()), ("unit_cost", pa.float64()),
])


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


def _ids(prefix: str, numbers: np.ndarray, width: int, mask: np.ndarray | None = None):
    """``prefix`` + zero-padded numbers as an Arrow string array (NULL where ``mask``)."""
    arr = pa.array(numbers, mask=mask)
    padded = pc.utf8_lpad(pc.cast(arr, pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _choice(rng: np.random.Generator, options: tuple, shares: tuple, n: int) -> np.ndarray:
    """Indices into ``options`` drawn with probabilities ``shares``."""
    cdf = np.cumsum(shares, dtype="float64")
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int8)


def _dict_array(codes: np.ndarray, values: tuple, mask: np.ndarray | None = None) -> pa.Array:
    """Plain string array from small-integer codes (cast from a dictionary array)."""
    dictionary = pa.array([v if v is not None else "" for v in values], pa.string())
    null = mask if mask is not None else None
    idx = pa.array(codes.astype(np.int32), mask=null)
    return pc.cast(pa.DictionaryArray.from_arrays(idx, dictionary), pa.string())


def _time_grid(start: np.datetime64, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative hourly order intensity over the period (for inverse-CDF sampling)."""
    hours = np.arange(days * 24)
    ts = start + hours.astype("timedelta64[h]")
    day = ts.astype("datetime64[D]")
    month = (day.astype("datetime64[M]").astype(int) % 12)
    weekday = (day.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    w = ((1 + 0.30 * hours / (365 * 24)) * np.asarray(MONTH_SEASON)[month]
         * np.asarray(WEEKDAY)[weekday] * np.asarray(HOUR)[hours % 24])
    cdf = np.concatenate([[0.0], np.cumsum(w)])
    cdf /= cdf[-1]
    return cdf, np.arange(days * 24 + 1, dtype="float64")


def _catalogue(rng: np.random.Generator) -> dict:
    cats = list(CATEGORIES)
    cat = rng.integers(0, len(cats), N_PRODUCTS)
    median = np.asarray([CATEGORIES[c] for c in cats], dtype="float64")[cat]
    price = np.maximum(np.round(median * rng.lognormal(0.0, 0.6, N_PRODUCTS)) - 0.01, 0.99)
    price_cents = np.round(price * 100).astype(np.int64)
    cost_cents = np.round(price_cents * rng.uniform(0.35, 0.65, N_PRODUCTS)).astype(np.int64)
    rank = rng.permutation(N_PRODUCTS)
    w = 1.0 / (rank + 10.0) * price ** -0.3
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    return {"category": cat, "price_cents": price_cents, "cost_cents": cost_cents,
            "cdf": cdf, "categories": cats}


def _customers(rng: np.random.Generator, n_orders: int, guest_share: float):
    """Guest flags per order, and the customer of each known order (chronological)."""
    guest = rng.random(n_orders) < guest_share
    n_known = int(n_orders - guest.sum())
    counts: list[np.ndarray] = []
    total = 0
    while total < n_known:  # K = 1 + gamma-Poisson(shape 0.35, mean 1.5) orders each
        k = 1 + rng.poisson(rng.gamma(0.35, 1.5 / 0.35, max(1024, (n_known - total) // 2)))
        counts.append(k)
        total += int(k.sum())
    k = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    cum = np.cumsum(k)
    n_customers = int(np.searchsorted(cum, n_known, side="left") + 1) if n_known else 0
    k = k[:n_customers]
    if n_customers:
        k[-1] -= int(cum[n_customers - 1] - n_known)
    slots = np.repeat(np.arange(n_customers, dtype=np.int32), k)
    rng.shuffle(slots)
    first = np.zeros(n_known, dtype=bool)
    first[np.unique(slots, return_index=True)[1]] = True
    country = _choice(rng, COUNTRIES, COUNTRY_SHARES, n_customers)
    return guest, slots, first, country, n_customers


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
    import pandas as pd  # only for the time-zone conversion of order dates

    if n_orders < 1:
        raise ValueError("n_orders must be at least 1")
    if lines_per_order_mean < 1:
        raise ValueError("lines_per_order_mean must be at least 1 (every order has a line)")
    t0 = time.perf_counter()
    out = Path(path_dir)
    (out / "orders").mkdir(parents=True, exist_ok=True)
    for old in [*(out / "orders").glob("*.parquet"), *(out / "order_lines").glob("*.parquet")]:
        old.unlink()
    (out / "manifest.json").unlink(missing_ok=True)
    if lines:
        (out / "order_lines").mkdir(parents=True, exist_ok=True)
    n_chunks = -(-n_orders // chunk_orders)
    ss = np.random.SeedSequence(seed)
    cat_ss, cust_ss, *chunk_ss = ss.spawn(2 + n_chunks)
    cat = _catalogue(np.random.Generator(np.random.PCG64(cat_ss)))
    guest, slots, first, cust_country, n_customers = _customers(
        np.random.Generator(np.random.PCG64(cust_ss)), n_orders, guest_share)
    known_before = np.concatenate([[0], np.cumsum(~guest)])  # known orders before order i
    start64 = np.datetime64(start, "h")
    cdf, grid = _time_grid(start64, days)
    start_us = start64.astype("datetime64[us]").astype(np.int64)
    basket = np.asarray(CHANNEL_BASKET) / np.dot(CHANNEL_BASKET, CHANNEL_SHARES)
    vat = np.asarray(VAT)
    device_cdf = {c: np.cumsum(s) / np.sum(s) for c, s in DEVICE_SHARES.items()}

    if lines:
        pq.write_table(pa.table({
            "product_id": _ids("P", np.arange(1, N_PRODUCTS + 1), 5),
            "name": pa.nulls(N_PRODUCTS, pa.string()),
            "category": _dict_array(cat["category"], tuple(cat["categories"])),
            "price": pa.array(cat["price_cents"] / 100.0),
            "unit_cost": pa.array(cat["cost_cents"] / 100.0),
        }, schema=PRODUCTS_SCHEMA), out / "products.parquet", compression="zstd")

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
        n = hi - lo
        idx = np.arange(lo, hi)
        # -- time: stratified inverse-CDF sampling keeps ids chronological
        u = (idx + rng.random(n)) / n_orders
        hours = np.interp(u, cdf, grid)
        created_us = start_us + np.floor(hours * 3_600e6).astype(np.int64)
        created = pd.DatetimeIndex(created_us.astype("datetime64[us]"), tz="UTC")
        local = created.tz_convert(store_timezone).tz_localize(None)
        order_date = local.values.astype("datetime64[D]")
        month = local.month.values
        day = local.day.values
        # -- customers
        g = guest[lo:hi]
        kpos = known_before[lo:hi][~g]
        cust = np.zeros(n, dtype=np.int64)
        cust[~g] = slots[kpos]
        is_first = np.zeros(n, dtype=bool)
        is_first[~g] = first[kpos]
        country = np.empty(n, dtype=np.int8)
        country[~g] = cust_country[cust[~g]]
        country[g] = _choice(rng, COUNTRIES, COUNTRY_SHARES, int(g.sum()))
        # -- dimensions
        channel = _choice(rng, CHANNELS, CHANNEL_SHARES, n)
        device = np.full(n, -1, dtype=np.int8)
        ud = rng.random(n)
        for ci, name in enumerate(CHANNELS):
            if name in device_cdf:
                sel = channel == ci
                device[sel] = np.searchsorted(device_cdf[name], ud[sel], side="right")
        # -- lines
        n_lines = 1 + rng.poisson((lines_per_order_mean - 1) * basket[channel])
        total_lines = int(n_lines.sum())
        order_of_line = np.repeat(np.arange(n), n_lines)
        line_start = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
        line_no = (np.arange(total_lines) - line_start[order_of_line] + 1).astype(np.int32)
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
        gross_c = np.round(gross_c).astype(np.int64)  # exact: integer sums below 2**53
        cost_sum = np.round(np.bincount(order_of_line, weights=qty * cost_c, minlength=n))
        units = np.bincount(order_of_line, weights=qty, minlength=n)
        no_cost = rng.random(n) < 0.02
        # -- coupons and discounts
        uc = rng.random(n)
        coupon = np.zeros(n, dtype=np.int8)
        black_friday = (month == 11) & (day >= 20)
        coupon[(uc < 0.08)] = 3
        coupon[(uc >= 0.08) & (uc < 0.11)] = 4
        coupon[black_friday & (uc < 0.35)] = 2
        coupon[is_first & (rng.random(n) < 0.25)] = 1
        disc_c = np.round(gross_c * np.asarray(COUPON_RATE)[coupon]).astype(np.int64)
        net_c = gross_c - disc_c
        ship_c = np.zeros(n, dtype=np.int64)
        webapp = (channel == 0) | (channel == 1)
        ship_c[webapp & (net_c < 4900)] = 495
        ship_c[(channel == 2) & (net_c < 2900)] = 399
        ship_c[coupon == 4] = 0
        tax_c = np.round((net_c + ship_c) * vat[country]).astype(np.int64)
        total_c = gross_c - disc_c + ship_c + tax_c
        # -- status and returns
        us = rng.random(n)
        status = np.zeros(n, dtype=np.int8)
        status[us < 0.04] = 1
        status[(us >= 0.04) & (us < 0.065)] = 2
        status[(us >= 0.065) & (us < 0.068)] = 3
        ret_c = np.zeros(n, dtype=np.int64)
        ret_c[status == 1] = net_c[status == 1]
        partial = (status == 0) & (rng.random(n) < 0.06)
        ret_c[partial] = np.round(net_c[partial] * rng.uniform(0.2, 0.8, int(partial.sum())))

        order_ids = _ids("O", idx + 1, 9)
        orders = pa.table({
            "order_id": order_ids,
            "customer_id": _ids("C", cust + 1, 8, mask=g),
            "created_at": pa.array(created_us, pa.timestamp("us", tz="UTC")),
            "order_date": pa.array(order_date, pa.date32()),
            "channel": _dict_array(channel, CHANNELS),
            "country": _dict_array(country, COUNTRIES),
            "device": _dict_array(np.maximum(device, 0), DEVICES, mask=device < 0),
            "currency": _dict_array(np.zeros(n, dtype=np.int8), ("EUR",)),
            "gross_sales": pa.array(gross_c / 100.0),
            "discounts": pa.array(disc_c / 100.0),
            "shipping": pa.array(ship_c / 100.0),
            "tax": pa.array(tax_c / 100.0),
            "returns": pa.array(ret_c / 100.0),
            "total": pa.array(total_c / 100.0),
            "cost": pa.array(cost_sum / 100.0, mask=no_cost),
            "units": pa.array(units),
            "status": _dict_array(status, STATUS_CODES),
            "coupon": _dict_array(np.maximum(coupon, 0), COUPONS, mask=coupon == 0),
        }, schema=ORDERS_SCHEMA)
        for f in pending:
            f.result()
        pending = [writer.submit(write, orders, out / "orders" / f"{c:05d}.parquet")]
        if lines:
            line_table = pa.table({
                "order_id": order_ids.take(pa.array(order_of_line)),
                "line_no": pa.array(line_no),
                "line_type": _dict_array(np.zeros(total_lines, dtype=np.int8), ("product",)),
                "product_id": _ids("P", product + 1, 5),
                "name": pa.nulls(total_lines, pa.string()),
                "category": _dict_array(cat["category"][product], tuple(cat["categories"])),
                "quantity": pa.array(qty.astype("float64")),
                "unit_price": pa.array(price_c / 100.0),
                "unit_cost": pa.array(cost_c / 100.0, mask=no_cost[order_of_line]),
                "line_discount": pa.array(np.zeros(total_lines)),
            }, schema=LINES_SCHEMA)
            pending.append(writer.submit(write, line_table,
                                         out / "order_lines" / f"{c:05d}.parquet"))
            del line_table
        n_lines_total += total_lines
        del orders
        if progress:
            progress(f"chunk {c + 1}/{n_chunks}: {hi:,} orders, {n_lines_total:,} lines")

    for f in pending:
        f.result()
    writer.shutdown()
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
