"""Where the two sides of a claim differ, decided on their polynomials in the inputs and atoms.

``differing`` finds the positions where two sides differ: a difference written out by the frame
(``frame.Frame``: the named gradients and products written out from the top down, the linear
variables kept as coordinates with the relations among them applied, such as Σ(x − μ) = 0 over a
BatchNorm channel) that is not the zero polynomial differs, unless it holds a reciprocal, a root
or a power, the two sides agree at a point, and it vanishes once its denominators are cleared
(``rational.vanishes``, in the same frame). ``Work`` counts the term products writing out takes,
each step sized before it is made, so a claim too large to decide is refused with the budget
that would allow it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from ...core import flint_poly, poly
from ...core.budget import check_max_terms
from ...core.errors import SymgradError
from ...network.graph import Graph
from ...network.values import atom_at
from ..points import at_points
from ..rational import vanishes
from .frame import RELATED, Frame


class Work:
    """The term products a comparison may spend writing polynomials out in the inputs. Each
    level of definitions is sized before it is expanded, and the first that would pass the
    budget is refused, with an estimate and the setting that allows it.

    While ``copies`` is above 1 the polynomial being written out stands for that many alike (the
    entries of one tensor cost about the same), so the whole is refused as soon as the first
    entry's cost, times their number, passes the budget."""

    def __init__(self, graph: Graph, what: str, pending: list) -> None:
        self.graph, self.what, self.pending = graph, what, pending
        self.limit = check_max_terms(graph.max_terms)
        self.spent = 0
        self.copies = 1

    def spend(self, terms: int) -> None:
        if (self.spent + terms) * self.copies > self.limit:
            self.refuse((self.spent + terms) * self.copies)
        self.spent += terms

    def refuse(self, lower: int) -> None:
        memo: dict = {}
        upper = max(lower, sum(expansion_size(self.graph, p, memo) for p in self.pending))
        raise SymgradError(
            f"{self.what} is too large: written out in the inputs it takes more than about {lower:,} term products "
            f"(at most {upper:,}), over the budget of {self.limit:,}; check it at smaller sizes, or derive with "
            f"max_terms={upper} (--max-terms {upper} on the command line) if there is time for it"
        )


def differing(graph: Graph, pairs: list, what: str) -> Iterator[int]:
    """The positions where the two sides of a pair differ as rational functions of the inputs
    and atoms, in order: written out by the frame (``frame.Frame``: named gradients and products
    written out, linear variables kept as coordinates with the relations among them applied),
    which finds a difference zero exactly when it is zero written out in the inputs. A difference
    that remains is kept if the two sides are apart at a point, and otherwise its denominators are
    cleared in the same frame (``rational.vanishes``). A difference met before (a row's sum
    repeated along the row) is decided once.

    Each position is decided when it is asked for: a caller that refutes a claim at the first
    stops there, instead of deciding every entry of a claim wrong everywhere (``first_of``)."""
    candidates = [i for i, (a, b) in enumerate(pairs) if a != b]
    differences = [_difference(*pairs[i]) for i in candidates]
    work = Work(graph, what, differences)
    frame = Frame(graph)
    decided: dict = {}
    for k, (i, difference) in enumerate(zip(candidates, differences)):
        work.copies = len(candidates) if k == 0 else 1
        key = frozenset(difference.items())
        if key not in decided:
            decided[key] = _differs(graph, frame, work, difference, pairs[i])
        if decided[key]:
            yield i


def first_of(positions: Iterator[int]) -> tuple[int | None, Iterator[int]]:
    """The first of ``differing``'s positions (None when the sides agree everywhere) and all of
    them, that one included, to go on with."""
    first = next(positions, None)
    return first, itertools.chain(() if first is None else (first,), positions)


def _difference(a: poly.Poly, b: poly.Poly) -> poly.Poly:
    """a − b, with the coefficients the frame computes with (``flint_poly.coefficients``)."""
    out = flint_poly.coefficients(a)
    out = dict(out) if out is a else out
    for mono, c in flint_poly.coefficients(b).items():
        s = out.get(mono, 0) - c
        if s:
            out[mono] = s
        else:
            out.pop(mono, None)
    return out


def _differs(graph: Graph, frame: Frame, work: Work, difference: poly.Poly, pair: tuple) -> bool:
    written = frame.write(difference, work.spend)
    if written == {}:
        return False
    # not zero in the frame, so not zero written out in the inputs and atoms; through a
    # reciprocal or a root it may still be zero wherever it is defined. It is not when the two
    # sides are apart at a point, which is quicker to see, and an equality is only claimed where
    # some point has both sides defined
    if not _has_relation(graph, written) or at_points(graph, *pair) != "agree":
        return True
    return not vanishes(graph, written, work.limit, frame.write)


def _has_relation(graph: Graph, p: poly.Poly) -> bool:
    """Whether p holds an atom related to another variable: a reciprocal, a root or a power."""
    atoms = (atom_at(graph, v) for v in poly.variables(p))
    return any(atom is not None and atom.lemma in RELATED for atom in atoms)


def expand_within(graph: Graph, p: poly.Poly, work: Work) -> poly.Poly:
    """``graph.expand(p)``, one level of definitions at a time, each level's products counted
    against ``work`` before they are made."""
    while True:
        defined = {v for v in poly.variables(p) if v in graph.defs}
        if not defined:
            return p
        work.spend(sum(math.prod(len(graph.defs[u]) for u in mono if u in defined) for mono in p))
        p = poly.substitute(p, {v: graph.defs[v] for v in defined})


def expansion_size(graph: Graph, p: poly.Poly, memo: dict) -> int:
    """An upper bound on the term products writing ``p`` out in the inputs takes, from the
    definitions' sizes alone (each defined variable counts as the terms of its own expansion)."""

    def product(mono) -> int:
        return math.prod(memo[u] if u in graph.defs else 1 for u in mono)

    stack = [u for mono in p for u in mono]
    while stack:  # definitions before what reads them, without recursion: chains can be long
        vid = stack[-1]
        if vid in memo or vid not in graph.defs:
            stack.pop()
            continue
        missing = [u for mono in graph.defs[vid] for u in mono if u in graph.defs and u not in memo]
        if missing:
            stack += missing
            continue
        stack.pop()
        memo[vid] = sum(product(mono) for mono in graph.defs[vid])
    return sum(product(mono) for mono in p)
