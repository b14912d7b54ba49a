"""The synthetic store's parameters and the draws shared by every chunk (see generate.py)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    ("channel", pa.string()), ("country", pa.string()), ("region", pa.string()),
    ("city", pa.string()), ("device", pa.string()),
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


def id_array(prefix: str, numbers: np.ndarray, width: int, mask: np.ndarray | None = None):
    """``prefix`` + zero-padded numbers as an Arrow string array (NULL where ``mask``)."""
    arr = pa.array(numbers, mask=mask)
    padded = pc.utf8_lpad(pc.cast(arr, pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def draw_choice(rng: np.random.Generator, options: tuple, shares: tuple, n: int) -> np.ndarray:
    """Indices into ``options`` drawn with probabilities ``shares``."""
    cdf = np.cumsum(shares, dtype="float64")
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int8)


def dict_array(codes: np.ndarray, values: tuple, mask: np.ndarray | None = None) -> pa.Array:
    """Plain string array from small-integer codes (cast from a dictionary array)."""
    dictionary = pa.array([v if v is not None else "" for v in values], pa.string())
    null = mask if mask is not None else None
    idx = pa.array(codes.astype(np.int32), mask=null)
    return pc.cast(pa.DictionaryArray.from_arrays(idx, dictionary), pa.string())


def time_grid(start: np.datetime64, days: int) -> tuple[np.ndarray, np.ndarray]:
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


def draw_catalogue(rng: np.random.Generator) -> dict:
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


def draw_customers(rng: np.random.Generator, n_orders: int, guest_share: float):
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
    country = draw_choice(rng, COUNTRIES, COUNTRY_SHARES, n_customers)
    return guest, slots, first, country, n_customers
