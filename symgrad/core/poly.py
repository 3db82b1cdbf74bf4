"""Exact sparse polynomials: the fast canonical form behind every proof.

A polynomial is a dict mapping a monomial to its coefficient. A monomial is a
sorted tuple of variable ids (a repeated id is a power); the constant monomial
is the empty tuple. Coefficients are ``int`` or ``fractions.Fraction``, so every
comparison is exact. Zero coefficients are never stored, which makes two
polynomials equal exactly when their dicts are equal.
"""

from __future__ import annotations

from fractions import Fraction

Poly = dict  # dict[tuple[int, ...], int | Fraction]


def const(value) -> Poly:
    value = Fraction(value)
    return {(): _tidy(value)} if value else {}


def var(vid: int) -> Poly:
    return {(vid,): 1}


def _tidy(c):
    """Store integral fractions as ints: cheaper, and printed without a denominator."""
    # type(), not isinstance(): the ABC check of isinstance costs more than the rest of the call
    if type(c) is Fraction and c.denominator == 1:
        return c.numerator
    return c


def add_into(acc: Poly, p: Poly, scale=1) -> Poly:
    """acc += scale * p, in place."""
    if scale != 1:
        for mono, c in p.items():
            s = acc.get(mono, 0) + scale * c
            if s:
                acc[mono] = s
            else:
                acc.pop(mono, None)
        return acc
    # the common case, without arithmetic where none is needed: Fraction arithmetic with an int
    # goes through Python-level fallbacks and dominates the cost of a network's chain rule
    for mono, c in p.items():
        old = acc.get(mono)
        if old is None:
            acc[mono] = c
            continue
        s = old + c
        if s:
            acc[mono] = s
        else:
            del acc[mono]
    return acc


def add(*ps: Poly) -> Poly:
    acc: Poly = {}
    for p in ps:
        add_into(acc, p)
    return acc


def scale(p: Poly, factor) -> Poly:
    # a difference is a sum scaled by -1: negation, without Fraction's product and its gcd
    if factor == -1:
        return {m: -c for m, c in p.items()}
    factor = Fraction(factor)
    if not factor:
        return {}
    return {m: _tidy(c * factor) for m, c in p.items()}


def mul(p: Poly, q: Poly) -> Poly:
    acc: Poly = {}
    mul_into(acc, p, q)
    return {m: c for m, c in acc.items() if c}


def mul_into(acc: Poly, p: Poly, q: Poly) -> None:
    """acc += p * q, in place; may leave zero coefficients for the caller to drop."""
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            if not m1 or not m2:
                mono = m1 or m2
            elif m1[-1] <= m2[0]:
                mono = m1 + m2
            else:
                mono = tuple(sorted(m1 + m2))
            c = c1 if c2 == 1 else c2 if c1 == 1 else c1 * c2  # no arithmetic for a unit factor
            old = acc.get(mono)
            acc[mono] = c if old is None else old + c


def diff(p: Poly, vid: int) -> Poly:
    """Exact partial derivative with respect to one variable."""
    acc: Poly = {}
    for mono, c in p.items():
        power = mono.count(vid)
        if power:
            i = mono.index(vid)
            rest = mono[:i] + mono[i + 1 :]
            acc[rest] = acc.get(rest, 0) + c * power
    return {m: c for m, c in acc.items() if c}


def gradient(p: Poly) -> dict[int, Poly]:
    """Every first partial derivative at once, in one pass over the terms: {variable: ∂p/∂variable}.

    Differentiating one variable at a time walks every term each time (quadratic in the number of
    variables for a loss over all outputs); this walks them once."""
    out: dict[int, Poly] = {}
    for mono, c in p.items():
        for vid in set(mono):
            i = mono.index(vid)
            rest = mono[:i] + mono[i + 1 :]
            acc = out.setdefault(vid, {})
            acc[rest] = acc.get(rest, 0) + c * mono.count(vid)
    return {v: {m: c for m, c in acc.items() if c} for v, acc in out.items()}


def substitute(p: Poly, values: dict[int, Poly]) -> Poly:
    """Replace each variable named in ``values`` by that polynomial."""
    if all(not v or list(v) == [()] for v in values.values()):
        return substitute_constants(p, {x: v.get((), 0) for x, v in values.items()})
    acc: Poly = {}
    for mono, c in p.items():
        term: Poly = {(): c}
        kept = []
        for vid in mono:
            if vid in values:
                term = mul(term, values[vid])
            else:
                kept.append(vid)
        if kept:
            term = mul(term, {tuple(kept): 1})
        add_into(acc, term)
    return acc


def substitute_constants(p: Poly, values: dict) -> Poly:
    """Replace each variable named in ``values`` by that number."""
    acc: Poly = {}
    for mono, c in p.items():
        kept = []
        for vid in mono:
            if vid in values:
                c = c * values[vid]
            else:
                kept.append(vid)
        key = tuple(kept)
        acc[key] = acc.get(key, 0) + c
    return {m: c for m, c in acc.items() if c}


def variables(p: Poly) -> set[int]:
    return {v for mono in p for v in mono}
