"""Points at which a network is evaluated: every variable's value at 60 digits from exact inputs,
and the comparison of two polynomials there.

Atoms are treated as independent by the canonical form, which they need not be (exp(a + b) =
exp(a)·exp(b)): a difference is therefore only reported as a refutation after both sides are
evaluated at a point and found apart by far more than the evaluation's error. The points draw
inputs at random (seeded) and compute the rest forward; a point where an atom is undefined is
skipped, so a refutation is only ever shown where every lemma's argument lies in its domain.
"""

from __future__ import annotations

import random
import weakref
from fractions import Fraction

import mpmath

from ..core import poly
from ..network.graph import Graph
from ..network.values import DIGITS, atom_at, evaluate, values_at

SEPARATION = mpmath.mpf(10) ** -40  # relative gap that counts as a real difference at 60 digits
POINTS = 6  # points tried before a difference is called undecided
# A difference found at 60 digits counts only if it is the same at twice the digits: terms of
# 10^30 that cancel leave a rounding residue at 60 digits that shrinks by 10^60 at 120, while a
# real difference stays put.
FINE = 2 * DIGITS
STABLE = mpmath.mpf(10) ** -20  # how close the two precisions' differences must be, relatively


class Comparer:
    """Compares polynomials in a graph's variables: canonically, then, where they differ, at points."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._expanded: dict[int, poly.Poly] = {}
        self._points: list = []
        self._fine: dict[int, dict | None] = {}

    def expand(self, p: poly.Poly) -> poly.Poly:
        """Substitute every polynomially defined variable, down to inputs and atoms."""
        return self.graph.expand(p)

    def equal(self, a: poly.Poly, b: poly.Poly) -> bool:
        return a == b or self.expand(poly.add(a, poly.scale(b, -1))) == {}

    def points(self) -> list:
        """Values of every variable at a few points; inputs drawn at random (seeded, so the same
        counterexample comes back each time), the rest computed forward at 60 digits."""
        if not self._points:
            rng = random.Random(0)
            tries = 0
            while len(self._points) < POINTS and tries < 20 * POINTS:
                tries += 1
                positive = tries % 2 == 0  # logs and square roots need positive arguments
                values = self._evaluate(rng, positive)
                if values is not None:
                    self._points.append(values)
        return self._points

    def _evaluate(self, rng: random.Random, positive: bool):
        given: dict = {}
        for vid in range(len(self.graph.registry.names)):
            if vid not in self.graph.defs and atom_at(self.graph, vid) is None:
                q = Fraction(rng.randint(1, 40), rng.randint(1, 9))
                given[vid] = q if positive or rng.random() < 0.5 else -q
        values = values_at(self.graph, given)
        return None if values is None else (values, given)

    def fine(self, k: int) -> dict | None:
        """The k-th point's values at twice the digits (None where an atom is undefined there)."""
        if k not in self._fine:
            self._fine[k] = values_at(self.graph, self.points()[k][1], FINE)
        return self._fine[k]

    def differ_at(self, a: poly.Poly, b: poly.Poly):
        """The first point where a and b are certainly apart: (values, given inputs, a's value,
        b's value), or None. Apart means apart at 60 digits and by the same amount at 120."""
        for k, (values, given) in enumerate(self.points()):
            if not defined_at(a, values) or not defined_at(b, values):
                continue  # a claim's atom undefined here, or made after the points were drawn
            x, y = evaluate(a, values), evaluate(b, values)
            if not _apart(x, y):
                continue
            fine = self.fine(k)
            if fine is None or not defined_at(a, fine) or not defined_at(b, fine):
                continue
            with mpmath.workdps(FINE):
                x2, y2 = evaluate(a, fine), evaluate(b, fine)
                if _apart(x2, y2) and abs((x - y) - (x2 - y2)) <= STABLE * abs(x2 - y2):
                    return values, given, x2, y2
        return None

    def nonzero_somewhere(self, vid: int) -> bool:
        """Whether the variable is certainly nonzero at one of the points (at both precisions)."""
        tiny = mpmath.mpf(10) ** -(DIGITS // 2)
        for k, (values, _) in enumerate(self.points()):
            if vid not in values or abs(values[vid]) <= tiny:
                continue
            fine = self.fine(k)
            if fine is not None and vid in fine and abs(values[vid] - fine[vid]) <= STABLE * abs(fine[vid]):
                return True
        return False


def agreement(comparer: Comparer, a: poly.Poly, b: poly.Poly) -> str:
    """What an undecided verdict says of two sides no point separates: at how many points both
    are defined (a claim's own atom may be defined at none), and that they agree there."""
    defined = sum(defined_at(a, values) and defined_at(b, values) for values, _ in comparer.points())
    if not defined:
        return f"is defined at none of the {len(comparer.points())} points tried"
    return f"agrees at {defined} point{'s' if defined > 1 else ''} to {DIGITS} digits"


def defined_at(p: poly.Poly, values: dict) -> bool:
    return all(v in values for mono in p for v in mono)


def _apart(x, y) -> bool:
    return bool(abs(x - y) > SEPARATION * max(1, abs(x), abs(y)))


_SAMPLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # graph -> (its Comparer, variables then)


def _samples(graph: Graph, vid: int) -> Comparer:
    """The graph's shared Comparer, drawn again when ``vid`` was made after its points."""
    comparer, size = _SAMPLES.get(graph, (None, 0))
    if comparer is None or vid >= size:
        comparer, size = Comparer(graph), len(graph.registry.names)
        _SAMPLES[graph] = (comparer, size)
    return comparer


def zero_everywhere(graph: Graph, vid: int) -> bool:
    """Whether a variable is zero at every point where the network is defined among those the
    comparisons use (also when there is no such point): nowhere certainly nonzero, at 60 digits
    and the same at 120."""
    return not _samples(graph, vid).nonzero_somewhere(vid)


def shared(graph: Graph) -> Comparer:
    """The graph's shared Comparer, its points drawn over every variable the graph has now: the
    decision on a claim and the verdict that follows it evaluate the network at the same points
    once, not each at points of its own."""
    return _samples(graph, len(graph.registry.names) - 1)


def at_points(graph: Graph, a: poly.Poly, b: poly.Poly) -> str:
    """How a and b compare at the graph's shared points: "apart" at one of them, "agree" at
    every one where both are defined, or "undefined" where there is no such point."""
    comparer = shared(graph)
    if comparer.differ_at(a, b) is not None:
        return "apart"
    defined = any(defined_at(a, values) and defined_at(b, values) for values, _ in comparer.points())
    return "agree" if defined else "undefined"
