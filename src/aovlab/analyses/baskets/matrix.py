"""Baskets as a sparse matrix: baskets × items in CSR form, from any long table.

A long table of (basket, item) rows — a pandas or polars frame, an Arrow table, or the
workspace's basket lines — becomes integer codes (Arrow's dictionary encoding) and a CSR
index: ``indices[indptr[i]:indptr[i+1]]`` are the items of basket ``i``, each once. Never
a dense one-hot frame: memory is linear in the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import DefinitionError, NoDataError


@dataclass
class BasketMatrix:
    """``labels[code]`` names each item; ``indptr``/``indices`` the CSR rows (items sorted
    by code within a basket); ``values`` (optional) the money of each entry;
    ``dropped`` counts the input rows left out, by reason."""

    labels: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray | None = None
    dropped: dict[str, int] = field(default_factory=dict)
    _by_item: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _keys: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_baskets(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_items(self) -> int:
        return len(self.labels)

    @property
    def rows(self) -> np.ndarray:
        """The basket of each entry."""
        return np.repeat(np.arange(self.n_baskets), np.diff(self.indptr))

    def baskets_of(self) -> tuple[np.ndarray, np.ndarray]:
        """The transpose: per item, its baskets (``ptr``, ``baskets``; sorted)."""
        order = np.argsort(self.indices, kind="stable")
        ptr = np.concatenate(([0], np.cumsum(np.bincount(self.indices,
                                                          minlength=self.n_items))))
        return ptr, self.rows[order]

    def holding(self, codes: np.ndarray) -> np.ndarray:
        """The baskets holding every item of ``codes`` (sorted)."""
        if self._by_item is None:
            self._by_item = self.baskets_of()
        ptr, members = self._by_item
        bs = None
        for c in codes:
            b = members[ptr[c]:ptr[c + 1]]
            bs = b if bs is None else np.intersect1d(bs, b, assume_unique=True)
        return bs if bs is not None else np.arange(self.n_baskets)

    def value_by_item(self, codes: np.ndarray) -> np.ndarray:
        """Per item of ``codes``, the Σ of its value over the baskets holding all of
        ``codes``: one binary search over the (basket, item) keys, sorted as the CSR
        rows are."""
        if self._keys is None:
            self._keys = self.rows.astype(np.int64) * self.n_items + self.indices
        codes = np.asarray(codes, dtype=np.int64)
        bs = self.holding(codes)
        want = (bs[:, None] * self.n_items + codes[None, :]).ravel()
        pos = np.searchsorted(self._keys, want)
        return self.values[pos].reshape(len(bs), len(codes)).sum(axis=0)

    def value_in(self, whole: list[np.ndarray], part: list[np.ndarray]) -> np.ndarray:
        """For each pair, Σ of the value of ``part``'s items over the baskets holding every
        item of ``whole`` (``part`` ⊆ ``whole``); each distinct ``whole`` is read once."""
        out = np.zeros(len(whole))
        done: dict[tuple, dict[int, float]] = {}
        for r, (w, p) in enumerate(zip(whole, part, strict=True)):
            key = tuple(sorted(int(x) for x in w))
            sums = done.get(key)
            if sums is None:
                sums = dict(zip(key, self.value_by_item(np.array(key)).tolist(),
                                strict=True))
                done[key] = sums
            out[r] = sum(sums[int(c)] for c in p)
        return out

    def notes(self) -> list[str]:
        out = []
        for why, n in self.dropped.items():
            if n:
                out.append(f"{n:,} rows left out: {why}")
        return out


def _codes(col: pa.ChunkedArray, *, sort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and their labels, the labels sorted: an engine returns rows in no
    fixed order, and codes in order of appearance would make ties (broken by code) fall
    differently from run to run. Basket keys need no order (``sort=False``). A blank
    text value (empty or spaces only) gets code −1, decided once per distinct value."""
    enc = pc.dictionary_encode(col).combine_chunks()
    d = enc.dictionary
    idx = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    blank = None
    if pa.types.is_string(d.type) or pa.types.is_large_string(d.type):
        blank = np.asarray(pc.equal(pc.utf8_trim_whitespace(d), "")
                           .to_numpy(zero_copy_only=False), dtype=bool)
    if not sort:  # basket keys: their labels are never read
        if blank is not None and blank.any():
            idx = np.where(blank[idx], -1, idx)
        return idx, np.empty(len(d), dtype=object)
    order = pc.sort_indices(d).to_numpy()
    if blank is not None and blank.any():
        order = order[~blank[order]]
    new = np.full(len(d), -1, dtype=np.int64)
    new[order] = np.arange(len(order))
    labels = np.asarray(d.take(pa.array(order)).to_pylist(), dtype=object)
    return new[idx], labels


def to_arrow(pairs: Any) -> pa.Table:
    """A pandas or polars frame, an Arrow table or a dict of columns as an Arrow table."""
    if isinstance(pairs, pa.Table):
        return pairs
    if hasattr(pairs, "to_arrow") and not hasattr(pairs, "to_pandas_dtype"):
        return pairs.to_arrow()  # polars
    try:
        import pandas as pd

        if isinstance(pairs, pd.DataFrame):
            return pa.Table.from_pandas(pairs, preserve_index=False)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(pairs, dict):
        return pa.table(pairs)
    raise DefinitionError(f"cannot read baskets from a {type(pairs).__name__}",
                          fix="pass a pandas or polars DataFrame or an Arrow table with "
                              "one row per (basket, item)")


def from_pairs(pairs: Any, basket: str | None = None, item: str | None = None,
               value: str | None = None) -> BasketMatrix:
    """The basket matrix of a long table of (basket, item) rows. Without names, a table of
    exactly two columns is read as (basket, item). Rows with an empty basket or item are
    left out and counted; an item twice in a basket counts once (its values summed)."""
    t = to_arrow(pairs)
    names = t.column_names
    if basket is None and item is None:
        if len(names) != 2:
            raise DefinitionError(
                f"the table has {len(names)} columns ({', '.join(map(str, names))}); which "
                "are the basket and the item?", fix="pass basket='order_id', item='product'")
        basket, item = names
    for role, name in (("basket", basket), ("item", item), ("value", value)):
        if role != "value" and name is None:
            raise DefinitionError(f"no {role} column given", fix=f"pass {role}='COLUMN'")
        if name is not None and name not in names:
            raise DefinitionError(f"the table has no column {name!r} (the {role})",
                                  fix=f"use one of {', '.join(map(str, names))}")
    cols = [basket, item] + ([value] if value else [])
    t = t.select(cols)
    n_in = t.num_rows
    t = t.drop_null()
    if t.num_rows == 0:
        raise NoDataError("there are no (basket, item) rows to mine",
                          fix="check the table: every row needs a basket and an item")
    b, _ = _codes(t.column(basket), sort=False)
    i, labels = _codes(t.column(item))
    ok = (b >= 0) & (i >= 0)
    dropped = {"an empty basket, item or value": n_in - int(ok.sum())}
    if not ok.any():
        raise NoDataError("there are no (basket, item) rows to mine",
                          fix="check the table: every row needs a basket and an item")
    v = None
    if value:
        v = t.column(value).to_numpy().astype(np.float64)[ok]
    return _csr(b[ok], i[ok], labels, v, dropped)


def _csr(b: np.ndarray, i: np.ndarray, labels: np.ndarray, v: np.ndarray | None,
         dropped: dict[str, int]) -> BasketMatrix:
    n_items = len(labels)
    key = b * n_items + i
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.concatenate(([True], key[1:] != key[:-1]))
    if v is not None:
        v = np.add.reduceat(v[order], np.flatnonzero(first))
    key = key[first]
    dup = int((~first).sum())
    if dup:
        dropped = {**dropped, "an item repeated within its basket (counted once)": dup}
    rows, cols = key // n_items, key % n_items
    # sorted, so a dense renumbering is a running count of the changes
    if len(rows):
        rows = np.cumsum(np.concatenate(([0], rows[1:] != rows[:-1])))
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows))))
    return BasketMatrix(labels=labels, indptr=indptr.astype(np.int64),
                        indices=cols.astype(np.int64), values=v, dropped=dropped)


def from_lines(t: pa.Table, value: bool = True) -> BasketMatrix:
    """The basket matrix of the workspace's basket lines (``metrics.baskets.basket_lines``,
    already one row per order and item): baskets keyed by (source, order_id)."""
    if t.num_rows == 0:
        raise NoDataError("the selection has no product lines",
                          fix="widen the dates or filters; baskets need order lines")
    o, _ = _codes(t.column("order_id"), sort=False)
    s, src = _codes(t.column("source"), sort=False)
    b = o if len(src) == 1 else s * (int(o.max()) + 1) + o
    i, labels = _codes(t.column("item"))
    v = t.column("value").to_numpy().astype(np.float64) if value else None
    ok = (o >= 0) & (i >= 0)  # a blank order id or item is no basket item
    if not ok.all():
        b, i = b[ok], i[ok]
        v = v[ok] if v is not None else None
    return _csr(b, i, labels, v, {"a blank item": int((~ok).sum())})
