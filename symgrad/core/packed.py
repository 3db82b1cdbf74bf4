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

from itertools import chain

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
    terms = sum(len(d) for d, _ in used)
    if terms < MIN_TERMS:
        return None
    ups, weights = [], []
    for _, upstream in used:
        if len(upstream) != 1:
            return None
        ((mono, weight),) = upstream.items()
        if len(mono) != 1 or type(weight) is not int:
            return None
        ups.append(mono[0])
        weights.append(weight)
    defs = [d for d, _ in used]
    if set(map(type, chain.from_iterable(map(dict.values, defs)))) != {int}:
        return None
    degrees = np.fromiter(map(len, chain.from_iterable(defs)), np.int64, count=terms)
    if degrees.size and (degrees.min() < 0 or degrees.max() > 2):
        return None
    try:
        coefficients = np.fromiter(chain.from_iterable(map(dict.values, defs)), np.int64, count=terms)
    except OverflowError:
        return None
    biggest = max(int(coefficients.max()), -int(coefficients.min())) if terms else 0
    if biggest * max(map(abs, weights), default=0) * 2 * terms >= _LIMIT:
        return None
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(defs)), np.int64, count=int(degrees.sum()))
    lengths = np.fromiter(map(len, defs), np.int64, count=len(defs))
    upstream = np.repeat(np.array(ups, np.int64), lengths)
    scaled = coefficients * np.repeat(np.array(weights, np.int64), lengths)
    order = np.arange(terms, dtype=np.int64)
    start = np.cumsum(degrees) - degrees  # where each term's variables begin in ``flat``
    two, one = degrees == 2, degrees == 1
    a, b = flat[start[two]], flat[start[two] + 1]
    if (a == b).any():
        return None  # a square: its partial is 2x, left to the general loop
    single = flat[start[one]]
    wrt_ids = np.fromiter(wrt, np.int64)
    if not (np.isin(a, wrt_ids).all() and np.isin(b, wrt_ids).all() and np.isin(single, wrt_ids).all()):
        return None  # a variable made inside the layer: its share goes on to its own argument
    g2, g1 = upstream[two], upstream[one]
    # what each term gives: to a, (b, g) sorted; to b, (a, g) sorted; to a lone x, (g,)
    x = np.concatenate((a, b, single))
    first = np.concatenate((np.minimum(b, g2), np.minimum(a, g2), g1))
    second = np.concatenate((np.maximum(b, g2), np.maximum(a, g2), np.full(single.size, -1, np.int64)))
    coefficient = np.concatenate((scaled[two], scaled[two], scaled[one]))
    position = np.concatenate((order[two], order[two], order[one]))
    # with a different upstream variable for every output, none of them a variable of the layer, a
    # key (partner, g) names its term: no key repeats within one x
    distinct = len(set(ups)) == len(ups) and not set(ups) & set(wrt)
    return _grouped(x, first, second, coefficient, position, wrt, distinct)


def _grouped(x, first, second, coefficient, position, wrt, distinct: bool) -> dict | None:
    """{x: {key: Σ coefficient}} with each dict's keys in the order of their first term, zero sums
    dropped, and an x whose every sum is zero kept with an empty dict (as the loop leaves it).
    ``distinct``: no key can repeat within one x, so there is nothing to sum."""
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
        coefficient = np.add.reduceat(coefficient[by_key], starts)
        position = np.minimum.reduceat(position[by_key], starts)
        x, first, second = (v[by_key][starts] for v in (x, first, second))
    by_place = np.argsort(x * (int(position.max()) + 1) + position)  # per x, in the order of the terms
    x, first, second, coefficient = x[by_place], first[by_place], second[by_place], coefficient[by_place]
    keys = list(zip(first.tolist(), second.tolist()))
    for i in np.flatnonzero(second < 0).tolist():
        keys[i] = (keys[i][0],)
    values = coefficient.tolist()
    edges = [0, *(np.flatnonzero(x[1:] != x[:-1]) + 1).tolist(), x.size]
    found = dict(zip(x[np.array(edges[:-1])].tolist(), zip(edges, edges[1:])))
    zeros = bool((coefficient == 0).any())
    out: dict = {}
    for v in wrt:
        where = found.get(v)
        if where is None:
            continue
        s, e = where
        if zeros:
            out[v] = {k: c for k, c in zip(keys[s:e], values[s:e]) if c}
        else:
            out[v] = dict(zip(keys[s:e], values[s:e]))
    return out


def same_product(entries: tuple, xi: list, yi: list, sizes: tuple, swapped: bool) -> bool:
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
