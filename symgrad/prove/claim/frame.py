"""Whether a polynomial in a graph's variables is zero, written out only as far as it must be.

Writing a difference out in the inputs multiplies out every sum it meets: a BatchNorm channel's
centred entries c_i = x_i − μ are sums over the whole channel, and the named gradients ∂L/∂μ and
∂L/∂σ are sums of products of them. The frame writes out less, and still decides exactly.

- **Renamings first.** A variable defined by one term (x̂ = c·(1/σ), p = e·(1/S), kᵀ = k) is
  replaced at once: a term stays one term.
- **From the top down.** The other variables defined by products are replaced a level at a time,
  the latest-defined first (a named gradient before the tensors it is made of), and the
  difference is looked at after each level: terms that cancel do so before the levels below
  them are multiplied out.
- **Linear variables are coordinates.** A variable defined as a sum of several multiples of
  inputs, atoms and other such variables (a mean, a centred entry, a sum of exponentials) is not
  written out at all. Such variables are linear functions of the inputs and atoms, and among the
  ones a difference holds there may be linear relations (Σ_i c_i = 0 over a channel). They are
  found by eliminating every other variable from the definitions (sparse Gaussian elimination,
  exact), and each relation left is used to replace one of the coordinates (c_N = −Σ_{i<N} c_i).

The coordinates left are linearly independent functions of the inputs and atoms, so a polynomial
in them and in the inputs and atoms is zero exactly when it is zero written out in the inputs: the
frame decides the same question as writing everything out, in a ring that is isomorphic to it
(a linear change of variables), not a weaker one. Nothing is sampled.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from fractions import Fraction

from ...core import flint_poly, poly
from ...network.graph import Graph
from ...network.values import atom_at

Spend = Callable[[int], None]
RELATED = ("inverse", "sqrt", "power")  # the atoms rational.vanishes relates to their arguments


class Frame:
    """Writes polynomials in one graph's variables out down to its inputs, atoms and linear
    coordinates, with the linear relations among those coordinates applied. ``write`` takes the
    function that counts the term products it is about to spend (and refuses past a budget)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._linear: dict[int, bool] = {}
        self._height: dict[int, int] = {}
        self._kept: set[int] = set()  # the variables the relations below were found among
        self._pivots: dict[int, poly.Poly] = {}  # a coordinate -> its value in the others
        self._prepared: dict[int, poly.Poly] = {}  # a definition as ``_definition`` gives it
        self._converted: dict[int, poly.Poly] = {}  # a definition as ``_defined`` gives it

    # --- what a variable is -----------------------------------------------------------------

    def coordinate(self, vid: int) -> bool:
        """Whether vid is kept as a coordinate: defined by several terms, each a multiple of an
        input, an atom or another linear variable (or a number)."""
        definition = self.graph.defs.get(vid)
        return definition is not None and len(definition) > 1 and self.linear(vid)

    def linear(self, vid: int) -> bool:
        """Whether vid's definition, written out, is of degree at most 1 in the inputs and atoms."""
        defs, memo = self.graph.defs, self._linear
        stack = [vid]
        while stack:  # definitions before what reads them, without recursion: chains can be long
            v = stack[-1]
            if v in memo or v not in defs:
                stack.pop()
                continue
            if any(len(mono) > 1 for mono in defs[v]):
                memo[v] = False
                stack.pop()
                continue
            missing = [u for mono in defs[v] for u in mono if u in defs and u not in memo]
            if missing:
                stack += missing
                continue
            stack.pop()
            memo[v] = all(memo[u] if u in defs else not self._related(u) for mono in defs[v] for u in mono)
        return vid not in defs or memo[vid]

    def _related(self, vid: int) -> bool:
        """Whether vid is an atom that ``rational.vanishes`` relates to another variable (1/v·v = 1,
        √u² = u): a coordinate must not hide one, or the relation could not be seen."""
        atom = atom_at(self.graph, vid)
        return atom is not None and atom.lemma in RELATED

    def height(self, vid: int) -> int:
        """0 for an input, an atom or a coordinate; else one more than the highest variable its
        definition reads."""
        defs, memo = self.graph.defs, self._height
        stack = [vid]
        while stack:
            v = stack[-1]
            if v in memo:
                stack.pop()
                continue
            if v not in defs or self.coordinate(v):
                memo[v] = 0
                stack.pop()
                continue
            missing = [u for mono in defs[v] for u in mono if u not in memo]
            if missing:
                stack += missing
                continue
            stack.pop()
            memo[v] = 1 + max((memo[u] for mono in defs[v] for u in mono), default=0)
        return memo[vid]

    # --- writing out ----------------------------------------------------------------------------

    def write(self, p: poly.Poly, spend: Spend) -> poly.Poly:
        """p with every variable defined by products replaced, top level first, and the linear
        relations among the coordinates applied after each level (Σ c_i·∂L/∂σ cancels before
        ∂L/∂σ is written out); {} as soon as it cancels to zero."""
        defs = self.graph.defs
        p = self._renamed(flint_poly.coefficients(p), spend)
        while p:
            present = poly.variables(p)
            replaced = self._replaced(present, p)
            if replaced:
                p = _substitute(p, replaced, spend)
                continue
            expandable = {v for v in present if v in defs and not self.coordinate(v)}
            if not expandable:
                return p
            top = max(self.height(v) for v in expandable)
            level = {v: self._definition(v, spend) for v in expandable if self.height(v) == top}
            p = _substitute(p, level, spend)
        return p

    def _definition(self, vid: int, spend: Spend) -> poly.Poly:
        """vid's definition with its renamings made and the relations applied, made once per
        variable while the relations stay the same."""
        prepared = self._prepared.get(vid)
        if prepared is None:
            prepared = self._reduced(self._renamed(self._defined(vid), spend), spend)
            self._prepared[vid] = prepared
        return prepared

    def _defined(self, vid: int) -> poly.Poly:
        """vid's definition, with the coefficients the frame computes with (``flint_poly``)."""
        if vid not in self._converted:
            self._converted[vid] = flint_poly.coefficients(self.graph.defs[vid])
        return self._converted[vid]

    def _renamed(self, p: poly.Poly, spend: Spend) -> poly.Poly:
        """p with each variable defined by a single term (or by zero) replaced, until none is left."""
        defs = self.graph.defs
        while True:
            single = {v: self._defined(v) for v in poly.variables(p) if v in defs and len(defs[v]) <= 1}
            if not single:
                return p
            p = _substitute(p, single, spend)

    def _reduced(self, p: poly.Poly, spend: Spend) -> poly.Poly:
        """p with the relations among its coordinates applied: each relation replaces one of them."""
        replaced = self._replaced(poly.variables(p), p)
        return _substitute(p, replaced, spend) if replaced else p

    def _replaced(self, present: set[int], p: poly.Poly) -> dict[int, poly.Poly]:
        """The coordinates among ``present`` that a relation replaces, with their values; the
        relations are found again when p holds a variable they were not found among."""
        if not any(self.coordinate(v) for v in present):
            return {}
        if not present <= self._kept:
            self._relate(self._kept | present, p)
        return {v: self._pivots[v] for v in present if v in self._pivots}

    # --- the linear relations -------------------------------------------------------------------

    def _relate(self, kept: set[int], p: poly.Poly) -> None:
        """Every linear relation among the variables ``kept``, in reduced echelon form: the
        definitions of the coordinates and of the linear variables below them, with every other
        variable eliminated. Which variable a relation replaces is chosen to touch few terms of p."""
        defs = self.graph.defs
        relations: list[poly.Poly] = []
        seen: set[int] = set()
        stack = [v for v in kept if v in defs and self.linear(v)]
        while stack:  # v − (its definition) = 0 for each linear variable reached
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            relation = poly.add(poly.var(v), poly.scale(defs[v], -1))
            relations.append(relation)
            stack += [u for mono in defs[v] for u in mono if u in defs]
        left = _eliminate(relations, kept)
        uses: dict[int, int] = {}
        for mono in p:
            for v in mono:
                uses[v] = uses.get(v, 0) + 1
        pivots: dict[int, poly.Poly] = {}
        for relation in left:
            relation = poly.substitute(relation, {v: pivots[v] for v in poly.variables(relation) if v in pivots})
            if not relation:
                continue  # follows from the relations already kept
            if set(relation) == {()}:
                raise ArithmeticError("the definitions' linear relations contradict each other")
            # a coordinate, never an input or an atom: those are independent, so every relation
            # holds a coordinate, and an atom stays itself for the relations rational.vanishes
            # uses (1/v·v = 1). The one replaced before if it still can be (what was written out
            # stays valid); else the one p uses least (the latest made among equals)
            defined = [v for v in poly.variables(relation) if v in defs]
            if not defined:
                raise ArithmeticError("a linear relation among independent variables")
            pivot = min(defined, key=lambda v: (v not in self._pivots, uses.get(v, 0), -v))
            value = poly.scale({m: c for m, c in relation.items() if m != (pivot,)}, -1 / Fraction(relation[(pivot,)]))
            for v, other in pivots.items():
                if any(pivot in mono for mono in other):
                    pivots[v] = poly.substitute(other, {pivot: value})
            pivots[pivot] = value
        self._kept = set(kept)
        pivots = {v: flint_poly.coefficients(value) for v, value in pivots.items()}
        if pivots != self._pivots:
            self._pivots = pivots
            self._prepared = {}  # made with the relations before these


def _eliminate(relations: list[poly.Poly], kept: set[int]) -> list[poly.Poly]:
    """The relations left once every variable outside ``kept`` is eliminated: each such variable
    is solved for in the shortest relation that holds it and replaced in the others (the variable
    in fewest relations first, which keeps the relations sparse). Linear relations, as polynomials
    of degree at most 1."""
    alive = dict(enumerate(relations))
    holding: dict[int, set[int]] = {}  # variable -> the relations that may hold it
    for k, relation in alive.items():
        for mono in relation:
            for v in mono:
                holding.setdefault(v, set()).add(k)
    heap = [(len(ks), v) for v, ks in holding.items() if v not in kept]
    heapq.heapify(heap)
    while heap:
        count, u = heapq.heappop(heap)
        ks = {k for k in holding.get(u, ()) if k in alive and (u,) in alive[k]}
        holding[u] = ks
        if not ks:
            continue
        if len(ks) != count:  # the count went stale as relations were combined: look again later
            heapq.heappush(heap, (len(ks), u))
            continue
        k = min(ks, key=lambda j: len(alive[j]))
        solved = alive.pop(k)
        a = solved[(u,)]
        for j in ks - {k}:
            poly.add_into(alive[j], solved, -Fraction(alive[j][(u,)]) / a)
            for mono in solved:
                for v in mono:
                    holding.setdefault(v, set()).add(j)
    return [relation for relation in alive.values() if relation]


def _substitute(p: poly.Poly, values: dict[int, poly.Poly], spend: Spend) -> poly.Poly:
    """p with each variable named in ``values`` replaced by that polynomial, the term products
    counted before they are made. A term that reads none of them is carried over as it is, and a
    value of one term (a renaming) is merged into the term without a product of polynomials."""
    spend(len(p))  # one product for each term at most, for the values of one term
    single = {v: next(iter(q.items())) for v, q in values.items() if len(q) == 1}
    out: poly.Poly = {}
    get = out.get
    for mono, c in p.items():
        hits = [v for v in mono if v in values]
        if not hits:
            out[mono] = get(mono, 0) + c
            continue
        kept = [v for v in mono if v not in values]
        longer = []
        for v in hits:
            if v in single:
                m, d = single[v]
                kept += m
                c = c * d
            else:
                longer.append(values[v])
        if any(not q for q in longer):
            continue  # a variable defined as zero: the term is zero
        term: poly.Poly = {tuple(sorted(kept)): c}
        if longer:
            spend(math.prod(len(q) for q in longer))
            for q in longer:
                product: poly.Poly = {}
                poly.mul_into(product, term, q)
                term = product
        for m, d in term.items():
            out[m] = get(m, 0) + d
    return {m: c for m, c in out.items() if c}
