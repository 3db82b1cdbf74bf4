"""Polynomials packed into integer arrays, for the element-wise engine's largest jobs.

A layer of m·k·n products hands the chain rule hundreds of thousands of terms. Walking them one by
one in Python, building a tuple key and a dict entry each, costs a microsecond a term; here the
terms are read once into NumPy arrays (variable ids and coefficients), grouped by sorting, and
turned back into ``core.poly`` dicts in a few calls that run in C. The dicts are exactly those the
term-by-term loop builds, insertion order included.

NumPy is optional: without it (or for a job outside what this handles: rational coefficients,
terms of degree 3, numbers too large for 64 bits) every function returns None and the caller takes
its pure-Python path.
"""

from __future__ import annotations

import bisect
from itertools import chain, pairwise

try:
    import numpy as np
except ImportError:  # pragma: no cover - the test environment has NumPy; the pure-Python path is tested apart
    np = None  # type: ignore[assignment]

MIN_TERMS = 20_000  # below this the Python loop is as fast, and NumPy's fixed costs dominate
_LIMIT = 2**62  # every coefficient and every sum of them stays inside int64


def available() -> bool:
    return np is not None


def layer_share(definitions: list, upstreams: list, wrt) -> dict | None:
    """``chain.engine.layer_share`` for definitions whose terms are of degree 1 or 2 in distinct
    variables with integer coefficients, and upstream entries that are each one variable times an
    integer: dL/dx = Σ_o g_o · ∂y_o/∂x, grouped per x by sorting. None when it does not apply."""
    if np is None:
        return None
    used = [(d, u) for d, u in zip(definitions, upstreams) if u]
    if sum(len(d) for d, _ in used) < MIN_TERMS:
        return None
    singles = single_variables([u for _, u in used])
    if singles is None:
        return None
    ups, weights = singles
    found = _contributions([d for d, _ in used], ups, weights, wrt)
    if found is None:
        return None
    one_role, arrays = found
    # with a different upstream variable for every output, none of them a variable of the layer, a
    # key (partner, g) names its term: no key repeats within one x
    distinct = len(set(ups)) == len(ups) and not set(ups) & set(wrt)
    return _grouped(arrays, wrt, distinct, one_role)


def single_variables(upstreams: list) -> tuple[list, list] | None:
    """Each upstream entry as its one variable and its integer weight, when every entry is one
    variable times an integer (the generic upstream, or a loss's); else None."""
    ups, weights = [], []
    for upstream in upstreams:
        if len(upstream) != 1:
            return None
        ((mono, weight),) = upstream.items()
        if len(mono) != 1 or type(weight) is not int:
            return None
        ups.append(mono[0])
        weights.append(weight)
    return ups, weights


def _contributions(defs: list, ups: list, weights: list, wrt) -> tuple | None:
    """What every term gives, as arrays (x, first, second, coefficient, position): to a in a·b,
    the key (b, g) sorted; to b, (a, g) sorted; to x in a lone x, (g,) (second = -1); each with
    the term's coefficient times the weight of g, and the term's place in the definitions."""
    terms = sum(map(len, defs))
    if not terms or set(map(type, chain.from_iterable(map(dict.values, defs)))) != {int}:
        return None
    degrees = np.fromiter(map(len, chain.from_iterable(defs)), np.int64, count=terms)
    if degrees.max() > 2:
        return None  # a cube is left to the general loop (a constant term gives no share)
    try:
        coefficients = np.fromiter(chain.from_iterable(map(dict.values, defs)), np.int64, count=terms)
    except OverflowError:
        return None
    biggest = max(int(coefficients.max()), -int(coefficients.min()))
    if biggest * max(map(abs, weights)) * 2 * terms >= _LIMIT:
        return None
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(defs)), np.int64, count=int(degrees.sum()))
    lengths = np.fromiter(map(len, defs), np.int64, count=len(defs))
    upstream = np.repeat(np.array(ups, np.int64), lengths)
    scaled = coefficients * np.repeat(np.array(weights, np.int64), lengths)
    del coefficients
    order = np.arange(terms, dtype=np.int64)
    if degrees.min() == 2:  # the usual case, a bilinear layer: every term a pair
        two = slice(None)
        a, b, single = flat[0::2], flat[1::2], flat[:0]
        g1 = p1 = c1 = flat[:0]
    else:
        start = np.cumsum(degrees) - degrees  # where each term's variables begin in ``flat``
        two, one = degrees == 2, degrees == 1
        a, b, single = flat[start[two]], flat[start[two] + 1], flat[start[one]]
        g1, p1, c1 = upstream[one], order[one], scaled[one]
    if (a == b).any():
        return None  # a square: its partial is 2x, left to the general loop
    wrt_ids = np.fromiter(wrt, np.int64)
    if not all(np.isin(v, wrt_ids).all() for v in (a, b, single)):
        return None  # a variable made inside the layer: its share goes on to its own argument
    g2 = upstream[two]
    # each variable in one role only (every a below every b, the lone ones apart): then the
    # contributions of one x already stand in the order of its terms
    spans = sorted((int(v.min()), int(v.max())) for v in (a, b, single) if v.size)
    one_role = all(high < low for (_, high), (low, _) in pairwise(spans))
    return one_role, [
        np.concatenate((a, b, single)),
        np.concatenate((np.minimum(b, g2), np.minimum(a, g2), g1)),
        np.concatenate((np.maximum(b, g2), np.maximum(a, g2), np.full(single.size, -1, np.int64))),
        np.concatenate((scaled[two], scaled[two], c1)),
        np.concatenate((order[two], order[two], p1)),
    ]


CHUNK = 1 << 18  # contributions turned into dicts at a time: bounds the lists alive at once


def _grouped(arrays: list, wrt, distinct: bool, one_role: bool) -> dict | None:
    """{x: {key: Σ coefficient}} from the arrays of ``_contributions`` (taken out of the list, so
    that each is freed once reordered), each dict's keys in the order of their first term, zero
    sums dropped, and an x whose every sum is zero kept with an empty dict (as the loop leaves
    it). ``distinct``: no key can repeat within one x, so there is nothing to sum; ``one_role``:
    the contributions of each x are already in the order of its terms."""
    x, first, second, coefficient, position = arrays
    arrays.clear()
    if not x.size:
        return {}
    top = int(max(x.max(), first.max(), second.max())) + 2
    if top**3 >= _LIMIT or x.size * top >= _LIMIT:
        return None  # ids too large to pack three into one int64: left to the loop
    if not distinct:
        # one int per (x, key); the entries of a repeated key are summed where its first term is
        packed = (x * top + first) * top + (second + 1)
        by_key = np.argsort(packed)
        packed = packed[by_key]
        starts = np.flatnonzero(np.concatenate(([True], packed[1:] != packed[:-1])))
        del packed
        coefficient = np.add.reduceat(coefficient[by_key], starts)
        position = np.minimum.reduceat(position[by_key], starts)
        x, first, second = (v[by_key][starts] for v in (x, first, second))
        del by_key, starts
    if distinct and one_role:  # a stable sort by x alone keeps that order (and runs far faster)
        by_place = np.argsort(x, kind="stable")
    else:  # per x, in the order of the terms
        by_place = np.argsort(x * (int(position.max()) + 1) + position)
    del position
    x, first, second, coefficient = x[by_place], first[by_place], second[by_place], coefficient[by_place]
    del by_place
    # one int object per variable, shared by every key that names it (tolist makes a new one each)
    ints = np.empty(top + 1, object)
    ints[:] = [None, *range(top)]
    edges = [0, *(np.flatnonzero(x[1:] != x[:-1]) + 1).tolist(), x.size]
    owner = x[np.array(edges[:-1])].tolist()
    found: dict = {}
    g = 0
    while g < len(owner):
        # the groups from g on that fit in one chunk (at least one)
        end = max(g + 1, bisect.bisect_right(edges, edges[g] + CHUNK) - 1)
        s, e = edges[g], edges[end]
        keys = list(zip(ints[first[s:e] + 1].tolist(), ints[second[s:e] + 1].tolist()))
        for i in np.flatnonzero(second[s:e] < 0).tolist():
            keys[i] = keys[i][:1]
        values = coefficient[s:e].tolist()
        zeros = 0 in values
        for k in range(g, end):
            i, j = edges[k] - s, edges[k + 1] - s
            pairs = zip(keys[i:j], values[i:j])
            found[owner[k]] = {key: c for key, c in pairs if c} if zeros else dict(pairs)
        g = end
    return {v: found[v] for v in wrt if v in found}


def same_product(entries: tuple, xi: tuple, yi: tuple, sizes: tuple, swapped: bool) -> bool:
    """True when ``entries`` (polynomial dicts, row-major m×n) are exactly the product of the
    m×k matrix of variables ``xi`` and the k×n matrix ``yi``: entry (i, j) has the k terms
    x_it·y_tj (written (y, x) when ``swapped``), each with coefficient 1, in the order of t.
    False means only "not shown equal here": the caller then compares the entries themselves."""
    if np is None:
        return False
    m, k, n = sizes
    if len(entries) != m * n or set(map(len, entries)) != {k}:
        return False
    terms = m * n * k
    if set(map(len, chain.from_iterable(entries))) != {2}:
        return False  # every monomial a pair, so that the ints below split into the same pairs
    if set(chain.from_iterable(map(dict.values, entries))) != {1}:
        return False
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(entries)), np.int64, count=2 * terms)
    x = np.broadcast_to(np.array(xi, np.int64).reshape(m, 1, k), (m, n, k))
    y = np.broadcast_to(np.array(yi, np.int64).reshape(k, n).T.reshape(1, n, k), (m, n, k))
    pairs = np.stack((y, x) if swapped else (x, y), axis=-1)
    return bool(np.array_equal(flat, pairs.reshape(-1)))
