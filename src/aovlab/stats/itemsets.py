"""Frequent itemsets and association rules on a sparse basket matrix: pure NumPy.

Baskets arrive as a CSR matrix (``indptr``, ``indices``: the item codes of basket ``i`` are
``indices[indptr[i]:indptr[i+1]]``), never as a dense one-hot frame: memory is linear in
the number of (basket, item) entries, not baskets × items.

The miner is depth-first pattern growth on projected databases (Han, Pei & Yin 2000,
"Mining frequent patterns without candidate generation"; the projection as row suffixes
is Pei et al. 2001, "H-Mine"): items are ranked by ascending support and every basket's
items sorted by rank, so the baskets containing itemset P ∪ {j} (all of P's items ranked
below j) restricted to the items ranked above j are the *suffixes after j* of P's
projected rows. Each step is a handful of vectorised array operations over the projected
entries (a stable sort groups them by item, ``np.add.reduceat`` counts them), so the
work is proportional to the size of the projections, and the items that fall below the
minimum count inside a projection are dropped before it is projected again.

The result is a prefix tree: each itemset is its parent (the itemset without its
highest-ranked item) plus one item, stored as flat arrays. Looking an itemset up walks the
tree level by level with ``np.searchsorted`` on (parent, item) keys — exact, vectorised,
no hashing — which is how rule generation finds the supports of antecedents and
consequents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np

#: The metrics of a rule A → C, as Agrawal et al. (support, confidence), Brin et al.
#: (lift, conviction), Piatetsky-Shapiro (leverage), Zhang (2000) and Jaccard define them.
RULE_METRICS = ("antecedent_support", "consequent_support", "support", "confidence", "lift",
                "leverage", "conviction", "zhangs_metric", "jaccard")


def min_count(min_support: float | int, n_baskets: float) -> int:
    """The smallest basket count that meets ``min_support``: a fraction of the baskets
    (0 < s ≤ 1, compared as ``count / n >= s`` in floating point, as mlxtend and arules
    compare it) or, given an integer ≥ 1, a count of baskets itself."""
    if isinstance(min_support, bool) or not isinstance(min_support, int | float | np.number):
        raise ValueError(f"min_support {min_support!r} is not a number")
    if isinstance(min_support, int | np.integer) and min_support >= 1:
        return int(min_support)
    s = float(min_support)
    if not (0 < s <= 1) or math.isnan(s):
        raise ValueError(f"min_support {min_support!r} is neither a fraction in (0, 1] nor a "
                         "whole number of baskets")
    c = max(1, math.ceil(s * n_baskets))
    while c / n_baskets < s:  # ceil of a rounded product can land one short or one over
        c += 1
    while c > 1 and (c - 1) / n_baskets >= s:
        c -= 1
    return c


@dataclass(frozen=True)
class Itemsets:
    """Frequent itemsets as a prefix tree over item codes (see the module docstring).

    ``parent[i]`` is the index of itemset ``i`` without its last item (−1 for a single
    item), ``item[i]`` that item's code, ``count[i]`` the (weighted) number of baskets
    containing the itemset and ``size[i]`` its number of items; ``n_baskets`` is the
    total weight of the baskets mined, ``min_count`` the threshold used. Parents always
    precede their children. ``rank`` maps an item code to its position in the mining
    order (−1 for an infrequent item): the items along a path ascend in rank.
    """

    parent: np.ndarray
    item: np.ndarray
    count: np.ndarray
    size: np.ndarray
    rank: np.ndarray
    n_baskets: float
    min_count: int

    def __len__(self) -> int:
        return len(self.item)

    @property
    def support(self) -> np.ndarray:
        return self.count / self.n_baskets

    def members(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The indices of the itemsets of size ``k`` and their items (an n × k array of
        codes, in ascending rank order along each row)."""
        idx = np.flatnonzero(self.size == k)
        out = np.empty((len(idx), k), dtype=self.item.dtype)
        node = idx
        for col in range(k - 1, -1, -1):
            out[:, col] = self.item[node]
            node = self.parent[node]
        return idx, out

    def lookup(self, items: np.ndarray) -> np.ndarray:
        """The index of each row's itemset (rows of item codes, any order), −1 where the
        itemset is not frequent."""
        items = np.asarray(items)
        if items.ndim != 2:
            raise ValueError("lookup takes a 2-D array: one itemset per row")
        n = len(items)
        ranks = self.rank[items]
        found = np.full(n, -1, dtype=np.int64)
        ok = (ranks >= 0).all(axis=1)
        if items.shape[1] == 0 or not ok.any():
            return found
        order = np.argsort(ranks, axis=1)
        codes = np.take_along_axis(items, order, axis=1)
        width = np.int64(len(self.rank))
        keys = (self.parent.astype(np.int64) + 1) * width + self.item.astype(np.int64)
        sorter = np.argsort(keys, kind="stable")
        sorted_keys = keys[sorter]
        node = np.full(n, -1, dtype=np.int64)
        for col in range(items.shape[1]):
            want = (node + 1) * width + codes[:, col].astype(np.int64)
            pos = np.minimum(np.searchsorted(sorted_keys, want), len(sorted_keys) - 1)
            hit = ok & (sorted_keys[pos] == want)
            node = np.where(hit, sorter[pos], -1)
            ok = hit
        found[ok] = node[ok]
        return found


#: A projection is counted with a bincount when its ranks span fewer than this many
#: slots per entry, else by sorting (a bincount over a wide, sparse range costs more).
_DENSE = 4


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + l)`` for each start and length."""
    ends = np.cumsum(lens)
    return np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - ends + lens, lens)


class _Miner:
    def __init__(self, min_count: int, max_len: int | None, max_itemsets: int | None,
                 unit: bool) -> None:
        self.unit = unit  # every basket weighs 1: counts need no weights
        # A frequent k-itemset has 2^k − 1 frequent subsets: past depth log2(cap + 1) the
        # cap is certain to be exceeded, so stop before Python's recursion limit does.
        cap = max_itemsets if max_itemsets is not None else 2 ** 60
        self.max_depth = min(60, int(math.log2(cap + 1)))
        self.min_count = min_count
        self.max_len = max_len
        self.max_itemsets = max_itemsets
        self.parents: list[np.ndarray] = []
        self.items: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        self.sizes: list[int] = []
        self.total = 0

    def _emit(self, parent: int, items: np.ndarray, counts: np.ndarray, size: int) -> int:
        first = self.total
        self.parents.append(np.full(len(items), parent, dtype=np.int64))
        self.items.append(items)
        self.counts.append(counts)
        self.sizes.append(size)
        self.total += len(items)
        if self.max_itemsets is not None and self.total > self.max_itemsets:
            raise OverflowError(self.total)
        return first

    def grow(self, flat: np.ndarray, rowid: np.ndarray, w: np.ndarray, parent: int,
             depth: int) -> None:
        """Emit the frequent items of one projected database (rows of ascending ranks,
        ``rowid`` the row of each entry, ``w`` each row's weight) as children of
        ``parent``, then grow each of them on its own projection."""
        mc = self.min_count
        if depth >= self.max_depth:
            raise OverflowError(2 ** (depth + 1) - 1)
        lo, hi = int(flat.min()), int(flat.max())
        if hi - lo < _DENSE * len(flat):
            # count first (a bincount over the ranks present), keep the frequent
            # entries, and sort only those: most of a projection is infrequent in it
            ew = None if self.unit else w[rowid]
            per = np.bincount(flat - lo, weights=ew, minlength=hi - lo + 1)
            ok = per >= mc
            if not ok.any():
                return
            mask = ok[flat - lo]
            if not mask.all():
                flat, rowid = flat[mask], rowid[mask]
            positions = np.argsort(flat, kind="stable")
            present = np.flatnonzero(ok)
            items = (present + lo).astype(flat.dtype)
            counts = per[present].astype(np.float64)
            lens = np.bincount(flat[positions] - lo, minlength=hi - lo + 1)[present]
        else:  # few entries over a wide range of ranks: sort them all
            order = np.argsort(flat, kind="stable")
            sf = flat[order]
            starts = np.flatnonzero(sf[1:] != sf[:-1]) + 1
            starts = np.concatenate((np.zeros(1, starts.dtype), starts))
            counts = np.add.reduceat(w[rowid[order]], starts)
            keep = counts >= mc
            if not keep.any():
                return
            lens = np.diff(starts, append=len(sf))[keep]
            items = sf[starts[keep]]
            counts = counts[keep]
            if keep.all():
                positions = order
            else:  # drop the items infrequent here before projecting further
                kept_sorted = np.repeat(keep, np.diff(starts, append=len(sf)))
                mask = np.empty(len(flat), dtype=bool)
                mask[order] = kept_sorted
                positions = (np.cumsum(mask) - 1)[order[kept_sorted]]
                flat, rowid = flat[mask], rowid[mask]
        bounds = np.concatenate((np.zeros(1, np.int64), np.cumsum(lens)))
        first = self._emit(parent, items, counts, depth + 1)
        if self.max_len is not None and depth + 1 >= self.max_len:
            return
        row_end = np.cumsum(np.bincount(rowid, minlength=len(w)))
        # Only an item with at least min_count baskets (by weight) that hold something
        # after it can grow: decided for all items at once, so that the many that cannot
        # cost no Python step each.
        rows_all = rowid[positions]
        s_all = positions + 1
        ln_all = row_end[rows_all] - s_all
        room = np.add.reduceat(np.where(ln_all > 0, w[rows_all], 0.0), bounds[:-1])
        for g in np.flatnonzero(room >= mc):
            sl = slice(bounds[g], bounds[g + 1])
            nz = ln_all[sl] > 0
            rows, s, ln = rows_all[sl][nz], s_all[sl][nz], ln_all[sl][nz]
            child = flat[_ranges(s, ln)]
            child_row = np.repeat(np.arange(len(rows)), ln)
            self.grow(child, child_row, w[rows], first + g, depth + 1)


def frequent_itemsets(indptr: np.ndarray, indices: np.ndarray, n_codes: int,
                      min_count: int, *, max_len: int | None = None,
                      weights: np.ndarray | None = None,
                      max_itemsets: int | None = None) -> Itemsets:
    """Every itemset contained in at least ``min_count`` baskets (weighted by
    ``weights``, one per basket, if given), of at most ``max_len`` items.

    ``indices`` must hold each basket's items once (codes in ``[0, n_codes)``).
    ``max_itemsets`` stops the search with ``OverflowError`` (carrying the count reached)
    once more itemsets than that are found, so a too-low support fails fast instead of
    exhausting memory."""
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    n_baskets = len(indptr) - 1
    w = (np.ones(n_baskets) if weights is None
         else np.asarray(weights, dtype=np.float64))
    total = float(w.sum())
    lens = np.diff(indptr)
    rowid = np.repeat(np.arange(n_baskets), lens)
    item_counts = np.bincount(indices, weights=w[rowid], minlength=n_codes)
    frequent = np.flatnonzero(item_counts >= min_count)
    # ascending support, ties by code: the deterministic mining order
    by_support = frequent[np.lexsort((frequent, item_counts[frequent]))]
    rank = np.full(n_codes, -1, dtype=np.int64)
    rank[by_support] = np.arange(len(by_support))
    miner = _Miner(min_count, max_len, max_itemsets, weights is None)
    r = rank[indices]
    keep = r >= 0
    r, rowid = r[keep], rowid[keep]
    if len(r):
        # rows in order, ranks ascending within each: one sort of a packed key (the
        # rows arrive in order already, so this only reorders within rows)
        order = np.argsort(rowid * np.int64(len(by_support)) + r, kind="stable")
        r, rowid = r[order], rowid[order]
        # baskets left empty drop out; renumber the rest densely (rowid is sorted)
        change = np.concatenate(([True], rowid[1:] != rowid[:-1]))
        used = rowid[change]
        rowid = np.cumsum(change) - 1
        if max_len == 2:
            return _pairs(r, rowid, w[used], item_counts, by_support, rank, total,
                          min_count, max_itemsets)
        if max_len is None or max_len >= 1:
            # int16 ranks sort by radix (numpy's stable sort of small integers): linear
            miner.grow(r.astype(np.int16 if len(by_support) < 2**15 else np.int32), rowid,
                       w[used], -1, 0)
    cat = np.concatenate
    code_of_rank = by_support.astype(np.int32)
    items = (code_of_rank[cat(miner.items)] if miner.items else np.empty(0, np.int32))
    sizes = (np.repeat(np.array(miner.sizes, dtype=np.int16),
                       [len(x) for x in miner.items]) if miner.items
             else np.empty(0, np.int16))
    return Itemsets(
        parent=cat(miner.parents) if miner.parents else np.empty(0, np.int64),
        item=items,
        count=cat(miner.counts) if miner.counts else np.empty(0, np.float64),
        size=sizes, rank=rank, n_baskets=total, min_count=min_count)


#: Pairs generated per block when counting all pairs at once (bounds the memory).
_PAIR_BLOCK = 20_000_000
#: Pairs are counted in one bincount of nf² slots up to this many slots, else by sorting.
_DENSE_PAIRS = 64_000_000


def _pairs(r: np.ndarray, rowid: np.ndarray, w: np.ndarray, item_counts: np.ndarray,
           by_support: np.ndarray, rank: np.ndarray, total: float, min_count: int,
           max_itemsets: int | None) -> Itemsets:
    """Items and pairs only (``max_len=2``): every pair of every basket's frequent items
    generated at once, in blocks of baskets, and counted by one bincount (or a sort where
    the pair space is too large for one), instead of one projection per item."""
    nf = len(by_support)
    row_end = np.cumsum(np.bincount(rowid, minlength=len(w)))
    after = row_end[rowid] - np.arange(len(r)) - 1  # items after each entry in its row
    unit = bool(np.all(w == 1))
    dense = nf * nf <= _DENSE_PAIRS
    acc = np.zeros(nf * nf) if dense else None
    keys_parts: list[np.ndarray] = []
    counts_parts: list[np.ndarray] = []
    start = 0
    cum = np.cumsum(after)
    while start < len(r):
        # the entries whose pairs fit in one block (at least one entry)
        base = cum[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(cum, base + _PAIR_BLOCK, side="right")))
        sl = slice(start, stop)
        ln = after[sl]
        pos = np.arange(start, stop)
        second = _ranges(pos + 1, ln)
        first = np.repeat(pos, ln)
        key = r[first].astype(np.int64) * nf + r[second]
        wt = None if unit else w[rowid[first]]
        if dense:
            acc += np.bincount(key, weights=wt, minlength=nf * nf)
        else:
            if unit:
                k, c = np.unique(key, return_counts=True)
                c = c.astype(np.float64)
            elif len(key):
                order = np.argsort(key, kind="stable")
                key = key[order]
                cut = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
                k, c = key[cut], np.add.reduceat(wt[order], cut)
            else:
                k, c = key, np.empty(0)
            keys_parts.append(k)
            counts_parts.append(c)
        start = stop
    if dense:
        k = np.flatnonzero(acc >= min_count)
        c = acc[k]
    elif keys_parts and sum(len(x) for x in keys_parts):
        k = np.concatenate(keys_parts)
        c = np.concatenate(counts_parts)
        order = np.argsort(k, kind="stable")
        k, c = k[order], c[order]
        cut = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
        k, c = k[cut], np.add.reduceat(c, cut)
        keep = c >= min_count
        k, c = k[keep], c[keep]
    else:
        k, c = np.empty(0, np.int64), np.empty(0)
    n_sets = nf + len(k)
    if max_itemsets is not None and n_sets > max_itemsets:
        raise OverflowError(n_sets)
    code_of_rank = by_support.astype(np.int32)
    a, b = k // nf, k % nf  # ranks, a < b: the single item a is the pair's parent
    return Itemsets(
        parent=np.concatenate((np.full(nf, -1, np.int64), a.astype(np.int64))),
        item=np.concatenate((code_of_rank, code_of_rank[b])),
        count=np.concatenate((item_counts[by_support].astype(np.float64), c)),
        size=np.concatenate((np.ones(nf, np.int16), np.full(len(k), 2, np.int16))),
        rank=rank, n_baskets=total, min_count=min_count)


@dataclass(frozen=True)
class Rules:
    """Association rules A → C as arrays: ``antecedent`` and ``consequent`` are lists of
    code arrays (one per rule), ``counts`` the (weighted) basket counts of A, C and A ∪ C,
    and the metrics of :data:`RULE_METRICS` as arrays."""

    antecedent: list[np.ndarray]
    consequent: list[np.ndarray]
    antecedent_count: np.ndarray
    consequent_count: np.ndarray
    count: np.ndarray
    metrics: dict[str, np.ndarray]


def rule_metrics(n_a: np.ndarray, n_c: np.ndarray, n_ac: np.ndarray,
                 n: float) -> dict[str, np.ndarray]:
    """Every metric of :data:`RULE_METRICS` from the counts of A, C and A ∪ C among ``n``
    baskets. Conviction is +inf for a rule that always holds (confidence 1), as in
    mlxtend; Zhang's metric is 0 where its denominator vanishes."""
    sa, sc, s = n_a / n, n_c / n, n_ac / n
    conf = n_ac / n_a
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = conf / sc
        leverage = s - sa * sc
        conviction = np.where(conf >= 1, np.inf, (1 - sc) / (1 - conf))
        denom = np.maximum(s * (1 - sa), sa * (sc - s))
        zhang = np.where(denom > 0, leverage / np.where(denom > 0, denom, 1), 0.0)
        jaccard = s / (sa + sc - s)
    return {"antecedent_support": sa, "consequent_support": sc, "support": s,
            "confidence": conf, "lift": lift, "leverage": leverage,
            "conviction": conviction, "zhangs_metric": zhang, "jaccard": jaccard}


def association_rules(sets: Itemsets, *, min_confidence: float = 0.0,
                      min_lift: float | None = None, max_consequent: int | None = None,
                      max_rules: int | None = None) -> Rules:
    """Every rule A → C with A ∪ C a frequent itemset, A and C non-empty and disjoint,
    confidence ≥ ``min_confidence`` (and lift ≥ ``min_lift``), C of at most
    ``max_consequent`` items (None: any, as mlxtend; 1: arules' ``apriori``). Every
    subset of a frequent itemset is frequent, so A's and C's counts are looked up in the
    tree, never recounted. ``max_rules`` stops with ``OverflowError`` beyond that many."""
    ante: list[np.ndarray] = []
    cons: list[np.ndarray] = []
    n_a: list[np.ndarray] = []
    n_c: list[np.ndarray] = []
    n_ac: list[np.ndarray] = []
    found = 0
    for k in range(2, int(sets.size.max(initial=0)) + 1):
        idx, members = sets.members(k)
        if not len(idx):
            continue
        whole = sets.count[idx]
        top = k - 1 if max_consequent is None else min(k - 1, max_consequent)
        for m in range(1, top + 1):  # m items in the consequent
            for cpos in combinations(range(k), m):
                apos = [p for p in range(k) if p not in cpos]
                a_items, c_items = members[:, apos], members[:, list(cpos)]
                ia = sets.lookup(a_items)
                ca = sets.count[ia]
                conf = whole / ca
                ok = conf >= min_confidence
                if not ok.any():
                    continue
                ic = sets.lookup(c_items[ok])
                cc = sets.count[ic]
                if min_lift is not None:
                    lift_ok = (whole[ok] / ca[ok]) / (cc / sets.n_baskets) >= min_lift
                    sel = np.flatnonzero(ok)[lift_ok]
                    cc = cc[lift_ok]
                else:
                    sel = np.flatnonzero(ok)
                if not len(sel):
                    continue
                ante.append(a_items[sel])
                cons.append(c_items[sel])
                n_a.append(ca[sel])
                n_c.append(cc)
                n_ac.append(whole[sel])
                found += len(sel)
                if max_rules is not None and found > max_rules:
                    raise OverflowError(found)
    if n_ac:
        a_cnt, c_cnt, ac_cnt = (np.concatenate(x) for x in (n_a, n_c, n_ac))
    else:
        a_cnt = c_cnt = ac_cnt = np.empty(0)
    return Rules(antecedent=[row for block in ante for row in block],
                 consequent=[row for block in cons for row in block],
                 antecedent_count=a_cnt, consequent_count=c_cnt, count=ac_cnt,
                 metrics=rule_metrics(a_cnt, c_cnt, ac_cnt, sets.n_baskets))
