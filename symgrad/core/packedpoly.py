"""Tensors of polynomials kept packed in NumPy arrays, from a layer's definitions to the proof.

A convolution of 19 million terms held as ``core.poly`` dicts takes about 400 bytes a term, for
its definitions, its gradients, and again for each closed form and view the proof compares them
with. Here a tensor's terms are one sorted int64 array of keys, each key the term's entry and its
monomial (at most two variables, as a bilinear layer's terms are), with the coefficients beside
them only where one is not 1: about 8 bytes a term. The order is canonical (entry, then monomial),
repeated monomials summed and zero terms dropped, so two tensors are equal polynomials entry by
entry exactly when their arrays are equal. An entry becomes a ``core.poly`` dict only when
something reads it (a document's picked entries, a step, a counterexample).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, MutableMapping
from typing import Any

from .tensor import PolyTensor, row_major

try:
    import numpy as np
except ImportError:  # pragma: no cover - the test environment has NumPy; without it every job takes the dicts
    np = None  # type: ignore[assignment]

# A layer of at least this many terms keeps its definitions, its gradients and the closed forms
# compared with them packed; below it the dicts are as fast and NumPy's fixed costs dominate
PACKED_TERMS = 1_000_000


def wanted(terms: int) -> bool:
    """Whether a layer of this many terms is kept packed (NumPy installed and the layer large)."""
    return np is not None and terms >= PACKED_TERMS


def top_for(largest: int, entries: int = 0) -> int:
    """The base a key writes each variable in: a power of two above every id (and the -1 of none),
    the same for every tensor of a derivation below two million variables, so that comparing two
    is comparing their arrays as they stand."""
    least = 1 << max(4, (int(largest) + 2).bit_length())
    return max(least, 1 << 21) if fits(entries, max(least, 1 << 21)) else least


def fits(entries: int, top: int) -> bool:
    return (entries + 1) * top * top < 2**62


class PackedTensor(PolyTensor):
    """A PolyTensor whose terms are packed: ``keys`` sorted, each ((entry + first)·top + a + 1)·top
    + b + 1 for the monomial (a, b), a ≤ b, or (a,) with b = -1, or () with both -1; ``coef`` the
    coefficients, or None when every one is 1; ``offsets`` where each entry's keys begin."""

    keys: Any
    offsets: Any
    coef: Any
    top: int
    first: int

    def __init__(self, shape: tuple, keys, offsets, coef, top: int, first: int = 0) -> None:
        object.__setattr__(self, "shape", tuple(shape))
        object.__setattr__(self, "variables", None)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "top", top)
        object.__setattr__(self, "first", first)

    @property
    def terms(self) -> int:
        return int(self.keys.size)

    @property
    def size(self) -> int:
        return int(self.offsets.size - 1)

    @functools.cached_property
    def entries(self) -> tuple:
        return tuple(self.at(pos) for pos in range(self.size))

    def __getitem__(self, index: tuple):
        return self.at(row_major(index, self.shape))

    def at(self, pos: int) -> dict:
        s, e = int(self.offsets[pos]), int(self.offsets[pos + 1])
        return _entry(self.keys[s:e], None if self.coef is None else self.coef[s:e], self.top)

    def part(self, start: int, stop: int, shape: tuple) -> PackedTensor:
        """Entries start..stop-1 as a tensor of their own (views of these arrays, no copy of the terms)."""
        s, e = int(self.offsets[start]), int(self.offsets[stop])
        coef = None if self.coef is None else self.coef[s:e]
        return PackedTensor(
            shape, self.keys[s:e], self.offsets[start : stop + 1] - s, coef, self.top, self.first + start
        )

    def canonical(self, top: int) -> tuple:
        """(keys with entries counted from 0 and written in base ``top``, coefficients or None)."""
        keys = self.keys
        if top != self.top:
            entry, a, b = decode(keys, self.top)
            keys = encode(entry - self.first, a, b, top)
        elif self.first:
            keys = keys - (self.first << (2 * (top.bit_length() - 1)))
        return keys, self.coef

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PolyTensor):
            return NotImplemented
        if self.shape != other.shape:
            return False
        if isinstance(other, PackedTensor):
            top = max(self.top, other.top)
            (k1, c1), (k2, c2) = self.canonical(top), other.canonical(top)
            return bool(np.array_equal(k1, k2)) and _same_coefficients(c1, c2)
        return all(self.at(pos) == q for pos, q in enumerate(other.entries))

    __hash__ = None  # type: ignore[assignment]


def _same_coefficients(c1, c2) -> bool:
    if c1 is None or c2 is None:
        return (c1 is None or bool((c1 == 1).all())) and (c2 is None or bool((c2 == 1).all()))
    return bool(np.array_equal(c1, c2))


def _entry(keys, coef, top: int) -> dict:
    low = (keys % (top * top)).tolist()
    values = [1] * len(low) if coef is None else coef.tolist()
    out = {}
    for k, c in zip(low, values):
        a, b = divmod(k, top)
        out[(a - 1, b - 1) if b else (a - 1,) if a else ()] = c
    return out


def encode(entry, a, b, top: int):
    """Keys of terms (entry, a, b), each pair ordered a ≤ b; b = -1 for one variable. ``top`` is a
    power of two, so a key is three bit fields."""
    shift = top.bit_length() - 1
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    alone = lo < 0  # one variable: (a, -1) stays in that order
    if alone.any():
        lo[alone], hi[alone] = hi[alone], -1
    keys = np.asarray(entry, np.int64) << (2 * shift)
    lo += 1
    keys |= np.asarray(lo, np.int64) << shift
    hi += 1
    keys |= hi
    return keys


def decode(keys, top: int) -> tuple:
    shift = top.bit_length() - 1
    mask = top - 1
    return keys >> (2 * shift), ((keys >> shift) & mask) - 1, (keys & mask) - 1


def unique(keys):
    """The distinct keys, sorted (a set of terms, each with coefficient 1)."""
    if keys.size > 1 and not (keys[1:] > keys[:-1]).all():
        keys = np.sort(keys)
    if keys.size < 2:
        return keys
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


def canonical(keys, coef=None) -> tuple:
    """Sorted keys, repeated ones summed (a repeat of a coefficient-1 term counts), zeros dropped."""
    if coef is None:
        if keys.size > 1 and not (keys[1:] > keys[:-1]).all():  # terms often come in order already
            keys.sort()  # in place: the caller's keys are its own, just made
        if keys.size < 2 or not (repeat := keys[1:] == keys[:-1]).any():
            return keys, None
        starts = np.flatnonzero(np.concatenate(([True], ~repeat)))
        counts = np.diff(np.append(starts, keys.size))
        return keys[starts], counts.astype(np.int64)
    order = np.argsort(keys, kind="stable")
    keys, coef = keys[order], coef[order]
    if keys.size:
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        keys, coef = keys[starts], np.add.reduceat(coef, starts)
        kept = coef != 0
        if not kept.all():
            keys, coef = keys[kept], coef[kept]
    return keys, None if (coef == 1).all() else coef


def build(shape: tuple, parts, top: int) -> PackedTensor | None:
    """A tensor from parts (entry, a, b[, coefficient]) of its terms, each part's entries a range
    of their own after the previous part's (then each is sorted alone) or not (``parts`` then
    yields ``None`` first: everything is sorted at once). None, before any part is made, when its
    keys would not fit in 62 bits: the caller then takes the dicts."""
    size = math.prod(shape)
    if not fits(size, top):
        return None
    keys_parts, coef_parts, whole = [], [], False
    for part in parts:
        if part is None:
            whole = True
            continue
        entry, a, b, *c = part
        keys = encode(entry, a, b, top)
        coef = c[0] if c else None
        if not whole:
            keys, coef = canonical(keys, coef)
        keys_parts.append(keys)
        coef_parts.append(coef)
    keys = np.concatenate(keys_parts) if keys_parts else np.zeros(0, np.int64)
    if any(c is not None for c in coef_parts):
        coef = np.concatenate([np.ones(k.size, np.int64) if c is None else c for k, c in zip(keys_parts, coef_parts)])
    else:
        coef = None
    del keys_parts, coef_parts
    if whole:
        keys, coef = canonical(keys, coef)
    return finish(shape, keys, coef, top, size)


def finish(shape, keys, coef, top: int, size: int | None = None) -> PackedTensor:
    size = math.prod(shape) if size is None else size
    offsets = np.searchsorted(keys, np.arange(size + 1, dtype=np.int64) * (top * top))
    return PackedTensor(shape, keys, offsets, coef, top)


def differing(p: PolyTensor, q: PolyTensor, limit: int = 100) -> list:
    """The first positions (at most ``limit``) where two tensors' entries differ."""
    if not (isinstance(p, PackedTensor) and isinstance(q, PackedTensor)):
        return [pos for pos, (a, b) in enumerate(zip(p.entries, q.entries)) if a != b][:limit]
    top = max(p.top, q.top)
    (k1, c1), (k2, c2) = p.canonical(top), q.canonical(top)
    bad = [_missing(k1, k2), _missing(k2, k1)]
    found = np.searchsorted(k2, k1)
    inside = found < k2.size
    both = np.flatnonzero(inside)
    both = both[k2[found[both]] == k1[both]]
    ones1 = np.ones(k1.size, np.int64) if c1 is None else c1
    ones2 = np.ones(k2.size, np.int64) if c2 is None else c2
    bad.append(k1[both[ones1[both] != ones2[found[both]]]])
    entries = np.unique(np.concatenate(bad) // (top * top))
    return entries[:limit].tolist()


def _missing(k1, k2):
    """The keys of k1 that k2 lacks."""
    return k1[~np.isin(k1, k2, assume_unique=True)]


def containing(t: PackedTensor, x: int) -> list:
    """The positions of the entries one of whose monomials holds the variable x (remembered: the
    steps of one picked element ask more than once)."""
    found = t.__dict__.setdefault("_containing", {})
    if x not in found:
        shift, mask = t.top.bit_length() - 1, t.top - 1
        hit = np.flatnonzero((((t.keys >> shift) & mask) == x + 1) | ((t.keys & mask) == x + 1))
        found[x] = sorted(set((np.searchsorted(t.offsets, hit, side="right") - 1).tolist()))
    return found[x]


def layer_share(defs: PackedTensor, ups: list, weights: list, wrt: list) -> PackedTensor | None:
    """``chain.engine.layer_share`` on packed definitions: dL/dx = Σ_o w_o g_o ∂y_o/∂x for every x
    of ``wrt`` (a tensor over the positions of ``wrt``), when each output's upstream is one
    variable g_o times an integer w_o and every term is x·x' or x over variables of ``wrt``
    (x ≠ x'). None otherwise: the caller takes the dict path."""
    entry, a, b = decode(defs.keys, defs.top)
    if (a < 0).any() or ((a == b) & (b >= 0)).any():
        return None  # a constant gives no share; a square is left to the general loop
    wrt_ids = np.asarray(wrt, np.int64)
    # initial: a layer whose every tap reads the padding has no terms at all
    largest = int(max(wrt_ids.max(), max(ups), a.max(initial=-1), b.max(initial=-1)))
    where = np.full(largest + 2, -1, np.int64)  # variable -> its position in wrt; where[-1] for "none"
    where[wrt_ids] = np.arange(wrt_ids.size)
    pair = b >= 0
    every_pair = bool(pair.all())
    at_a, at_b = where[a], where[b if every_pair else np.where(pair, b, a)]
    if (at_a < 0).any() or (at_b < 0).any():
        return None  # a variable made inside the layer: its share goes on to its own argument
    rows = entry - defs.first if defs.first else entry
    del entry
    g = np.asarray(ups, np.int64)[rows]
    coef = None  # every coefficient 1, the usual case: no array at all
    if defs.coef is not None or any(w != 1 for w in weights):
        # bounded in Python ints, before NumPy sees them: a weight may not fit in 64 bits, and a
        # product of int64 scalars wraps around instead of growing
        biggest = 1 if defs.coef is None else int(np.abs(defs.coef).max(initial=0))
        if biggest * max(map(abs, weights)) * 2 * max(1, rows.size) >= 2**62:
            return None
        coef = (np.ones(rows.size, np.int64) if defs.coef is None else defs.coef) * np.asarray(weights, np.int64)[rows]
    del rows
    top = top_for(largest, wrt_ids.size)
    if not fits(wrt_ids.size, top):
        return None
    if every_pair:
        roles = [(at_a, b, g, coef), (at_b, a, g, coef)]
    else:
        single = ~pair

        def kept(v, mask):
            return None if v is None else v[mask]

        gp, cp = g[pair], kept(coef, pair)
        roles = [(at_a[pair], b[pair], gp, cp), (at_b[pair], a[pair], gp, cp)]
        if single.any():
            roles.append((at_a[single], g[single], np.full(int(single.sum()), -1, np.int64), kept(coef, single)))
    del a, b, g, coef, at_a, at_b
    spans = [(int(r[0].min()), int(r[0].max())) for r in roles if r[0].size]
    # each variable in one role (X's entries before W's, say): each role's contributions sorted alone
    apart = all(high < low for (_, high), (low, _) in itertools.pairwise(spans))

    def parts():
        if not apart:
            yield None  # a variable in two roles: its contributions sorted together
        while roles:
            x, partner, up, c = roles.pop(0)
            yield (x, partner, up) + (() if c is None else (c,))

    return build((wrt_ids.size,), parts(), top)


class PolyMap(MutableMapping):
    """variable -> polynomial, as a dict, where runs of variables may be entries of packed tensors:
    an entry becomes a dict when it is read (and is kept as one)."""

    def __init__(self) -> None:
        self._plain: dict = {}
        self._packed: dict = {}  # variable -> (tensor, position)
        self._blocks: list = []  # (ids, tensor)

    def add_packed(self, ids, tensor: PackedTensor) -> None:
        for pos, vid in enumerate(ids):
            self._plain.pop(vid, None)
            self._packed[vid] = (tensor, pos)
        self._blocks.append((tuple(ids), tensor))

    def tensor(self, ids: tuple, shape: tuple) -> PackedTensor | None:
        """The entries of ``ids``, packed, when they are a run of one packed tensor none of whose
        entries has been replaced since."""
        if not ids or ids[0] not in self._packed:
            return None
        t, start = self._packed[ids[0]]
        for block_ids, block in self._blocks:
            if block is t and block_ids[start : start + len(ids)] == tuple(ids):
                if any(self._packed.get(v, (None,))[0] is not t for v in ids):  # one replaced since
                    return None
                return t if start == 0 and len(ids) == t.size else t.part(start, start + len(ids), shape)
        return None

    @property
    def blocks(self) -> list:
        return self._blocks

    @property
    def packed_terms(self) -> int:
        return sum(t.terms for _, t in self._blocks)

    def __getitem__(self, vid):
        found = self._plain.get(vid)
        if found is not None:
            return found
        t, pos = self._packed[vid]  # KeyError when absent, as a dict
        value = self._plain[vid] = t.at(pos)
        return value

    def __contains__(self, vid) -> bool:
        return vid in self._plain or vid in self._packed

    def __setitem__(self, vid, value) -> None:
        self._plain[vid] = value
        self._packed.pop(vid, None)

    def __delitem__(self, vid) -> None:
        if vid not in self:
            raise KeyError(vid)
        self._plain.pop(vid, None)
        self._packed.pop(vid, None)

    def __iter__(self) -> Iterator:
        yield from self._plain
        yield from (v for v in self._packed if v not in self._plain)

    def __len__(self) -> int:
        return len(self._plain) + sum(1 for v in self._packed if v not in self._plain)
