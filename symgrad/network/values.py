"""A network's variables valued at a point: every variable from exact values of the inputs, at a
given number of digits (mpmath), atoms through their lemmas. The prover compares two sides at
such points, and ``d.evaluate`` gives a derivation's gradients there; one evaluator serves both.
"""

from __future__ import annotations

import weakref
from fractions import Fraction

import mpmath

from ..core import poly
from ..core.errors import SymgradError
from .graph import Atom, Graph

DIGITS = 60
HUGE = mpmath.mpf(10) ** 6  # the largest |argument| of a fast-growing function (e^x) evaluated at a point


def values_at(graph: Graph, given: dict, digits: int = DIGITS):
    """Every variable's value, at ``digits`` digits, from exact values of the free ones (the
    inputs); None when an atom is undefined there or too close to a point where it jumps (a step
    at 0).

    Variables are visited after what they read, which is not always id order: a division's
    reciprocal is made after the entries it defines."""
    mpmath.mp.dps = digits
    try:
        return _values_at(graph, given, digits)
    finally:
        mpmath.mp.dps = DIGITS  # the working precision every evaluation of these values assumes


def _values_at(graph: Graph, given: dict, digits: int):
    values: dict = {}
    # a claim's own atoms may be undefined at a point where the network is defined: they are
    # left out of the values there (an evaluation reading one skips the point), never voiding it
    partial = PARTIAL.get(graph, set())
    extra = CLAIM_ATOMS.get(graph, {})
    undefined: set = set()

    def reads(vid: int) -> set:
        if vid in graph.defs:
            return poly.variables(graph.defs[vid])
        atom = graph.atoms.get(vid) or extra.get(vid)
        if atom is not None:
            return {atom.argument}
        return set()

    for root in range(len(graph.registry.names)):
        stack = [root]
        while stack:
            vid = stack[-1]
            if vid in values:
                stack.pop()
                continue
            missing = [u for u in reads(vid) if u not in values and u not in undefined]
            if missing:
                stack += missing
                continue
            stack.pop()
            if vid in undefined:
                continue
            if reads(vid) & undefined:
                undefined.add(vid)
            elif vid in graph.defs:
                values[vid] = evaluate(graph.defs[vid], values)
            elif vid in graph.atoms or vid in extra:
                atom = graph.atoms.get(vid) or extra[vid]
                got = _atom_value(atom, values[atom.argument], digits)
                if got is None and vid in partial:
                    undefined.add(vid)
                elif got is None:
                    return None
                else:
                    values[vid] = got
            else:
                q = Fraction(given[vid])
                values[vid] = mpmath.mpf(q.numerator) / q.denominator
    return values


def evaluate(p: poly.Poly, values: dict):
    total = mpmath.mpf(0)
    for mono, c in p.items():
        term = mpmath.mpf(c.numerator) / c.denominator if isinstance(c, Fraction) else mpmath.mpf(c)
        for v in mono:
            term *= values[v]
        total += term
    return total


def _atom_value(atom, x, digits: int):
    if atom.rule is None:
        raise SymgradError(f"an atom of {atom.lemma} was made without its lemma")
    if atom.rule.grows and abs(x) > HUGE:
        return None  # e^x past 10^400000 is not a point to compare at: exp(exp(exp(x))) would overflow GMP
    return atom.rule.value(x, atom.parameter, digits)


# graph -> the variables a claim added (its own atoms, and what they are applied to)
PARTIAL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# graph -> the atoms claims made, kept out of ``graph.atoms`` so that the network's own lemmas,
# document and code are those of its layers whatever claims were checked against it
CLAIM_ATOMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def mark_partial(graph: Graph, vid: int) -> None:
    """A variable a claim added: where it is undefined, the point stays for everything else."""
    PARTIAL.setdefault(graph, set()).add(vid)


def add_claim_atom(graph: Graph, vid: int, atom: Atom) -> None:
    CLAIM_ATOMS.setdefault(graph, {})[vid] = atom
    mark_partial(graph, vid)


def atom_at(graph: Graph, vid: int) -> Atom | None:
    """The atom a variable is, the network's or a claim's, or None."""
    return graph.atoms.get(vid) or CLAIM_ATOMS.get(graph, {}).get(vid)
