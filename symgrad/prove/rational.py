"""Equality over rational functions in a graph's inputs and atoms.

A reciprocal atom r = 1/v is not independent of v: where it is defined, r·v = 1. Nor is a root:
where s = √u is defined, s² = u. A difference of two gradients that holds only through those
(e_i/S written once with the network's 1/S and once with a claim's own 1/(e_1 + ... + e_n)) is
decided here at every point where both sides are defined:

- clearing denominators: the difference p is multiplied by A^K for each reciprocal of A it holds
  (K its highest power), r·A read as 1. Where p is defined, each such A is nonzero, so p is zero
  there exactly where the product is;
- then a root's square is read as its argument, and a power u^(n/q)'s q-th power as u^n, which
  hold wherever the root or power is defined.

What is left is a polynomial in the inputs and the remaining atoms; if it is the zero polynomial
it is zero at every point, whatever the atoms' values, so p is zero wherever it is defined. A
denominator that is itself the zero function would make that "wherever" empty: it is not cleared.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..core import poly
from ..network.graph import Atom, Graph
from ..network.values import atom_at

MAX_ROUNDS = 256  # reciprocals and roots rewritten before the question is left open
MAX_NESTING = 64  # reciprocals inside the arguments of reciprocals, checked to be nonzero


class TooLarge(Exception):
    """Raised by ``spend`` past its budget: the question is then left open."""


def vanishes(graph: Graph, p: poly.Poly, limit: int, writer=None) -> bool:
    """Whether ``p`` is certainly zero wherever it is defined. The term products it takes are
    counted before they are made; past ``limit`` the answer is False (not shown equal), and the
    numeric comparison decides between refuted and undecided as before. ``writer(q, spend)``
    writes a polynomial out in a ring isomorphic to the inputs' and atoms' (the claim's frame);
    without it, every defined variable is substituted."""
    spent = [0]

    def spend(terms: int) -> None:
        spent[0] += terms
        if spent[0] > limit:
            raise TooLarge

    def expand(q: poly.Poly) -> poly.Poly:
        if writer is not None:
            return writer(q, spend)
        while True:
            defined = {v for v in poly.variables(q) if v in graph.defs}
            if not defined:
                return q
            spend(sum(math.prod(len(graph.defs[u]) for u in mono if u in defined) for mono in q))
            q = poly.substitute(q, {v: graph.defs[v] for v in defined})

    try:
        return _vanishes(graph, p, expand, spend, {}, 0)
    except (TooLarge, RecursionError):
        return False


def _vanishes(graph: Graph, p: poly.Poly, expand, spend, nonzero: dict, depth: int) -> bool:
    p = expand(p)
    for _ in range(MAX_ROUNDS):
        if not p:
            return True
        if depth > MAX_NESTING:
            return False
        atoms = _atoms(graph, p)
        inverses = sorted(v for v, atom in atoms.items() if atom.lemma == "inverse")
        if inverses:
            r = inverses[-1]  # the latest made: its argument, written out, cannot hold it
            argument = expand(poly.var(atoms[r].argument))
            if r not in nonzero:
                nonzero[r] = bool(argument) and not _vanishes(graph, argument, expand, spend, nonzero, depth + 1)
            if not nonzero[r]:
                return False  # a denominator that may be the zero function: clearing it proves nothing
            p = expand(_clear(p, r, argument, spend))
            continue
        roots = [
            (v, qn)
            for v, atom in sorted(atoms.items())
            if (qn := _power_of(atom)) is not None and any(mono.count(v) >= qn[0] for mono in p)
        ]
        if not roots:
            return False
        a, (q, n) = roots[-1]
        base = expand(poly.var(atoms[a].argument))
        p = expand(_reduce_root(p, a, q, _power(base, n, spend), spend))
    return False


def _atoms(graph: Graph, p: poly.Poly) -> dict[int, Atom]:
    """The atoms among p's variables, the network's and the claims'."""
    found = {v: atom_at(graph, v) for v in poly.variables(p)}
    return {v: atom for v, atom in found.items() if atom is not None}


def _power_of(atom: Atom) -> tuple[int, int] | None:
    """(q, n) for an atom a = u^(n/q) with n > 0 (a square root is n/q = 1/2): a^q = u^n."""
    if atom.lemma == "sqrt":
        return 2, 1
    exponent = atom.parameter
    if atom.lemma == "power" and isinstance(exponent, Fraction) and exponent > 0 and exponent.denominator > 1:
        return exponent.denominator, exponent.numerator
    return None


def _power(base: poly.Poly, n: int, spend) -> poly.Poly:
    out = poly.const(1)
    for _ in range(n):
        spend(len(out) * len(base))
        out = poly.mul(out, base)
    return out


def _reduce_root(p: poly.Poly, a: int, q: int, value: poly.Poly, spend) -> poly.Poly:
    """p with each a^q read as ``value`` (a = u^(n/q), value = u^n)."""
    out: poly.Poly = {}
    for mono, c in p.items():
        k = mono.count(a)
        rest = {tuple(sorted([v for v in mono if v != a] + [a] * (k % q))): c}
        factor = _power(value, k // q, spend)
        spend(len(factor))
        poly.add_into(out, poly.mul(rest, factor))
    return out


def _clear(p: poly.Poly, r: int, argument: poly.Poly, spend) -> poly.Poly:
    """p·A^K with r·A read as 1, for r = 1/A and K the highest power of r in p."""
    top = max(mono.count(r) for mono in p)
    powers = [poly.const(1)]
    for _ in range(top):
        spend(len(powers[-1]) * len(argument))
        powers.append(poly.mul(powers[-1], argument))
    out: poly.Poly = {}
    for mono, c in p.items():
        k = mono.count(r)
        rest = {tuple(v for v in mono if v != r): c}
        factor = powers[top - k]
        spend(len(factor))
        poly.add_into(out, poly.mul(rest, factor))
    return out
