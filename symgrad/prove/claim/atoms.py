"""A function of one entry of a claim: the network's own atom, an exact number, or the claim's own atom.

A function of an entry (exp, sqrt, 1/p, a step for relu, ...) is the network's own atom when the
network applies the same function to an argument equal to it, written out in the inputs and
atoms: a claim written in the user's own terms then has the network's canonical form. Otherwise
the claim adds an atom to the graph, evaluated at points like the network's but left out of a
point where it is undefined, so it can refute a false claim and never voids a point for another.
A reciprocal and a fractional power of an entry are made here too; a denominator that is zero is
refused, never cancelled.
"""

from __future__ import annotations

import weakref
from fractions import Fraction

from ...core import numbers, poly
from ...core.budget import check_max_terms
from ...core.errors import SymgradError
from ...core.tensor import to_sympy
from ...network.graph import Atom, Graph
from ...network.lemmas import LEMMAS
from ...network.values import add_claim_atom, mark_partial
from ..points import zero_everywhere
from ..rational import vanishes
from .decision import Work, expand_within


class _Atoms:
    """The atoms of one graph by function and argument written out in the inputs and atoms, so
    that a claim's exp(v) is the network's own e = exp(v) when their arguments are equal."""

    def __init__(self) -> None:
        self.known: dict = {}  # by the argument written out in the inputs and atoms
        self.direct: dict = {}  # by the argument variable as it stands: found without expanding
        self.seen: dict = {}  # lemma -> whether the graph's atoms were written out for it
        self.made = 0  # variables the claims have named


_INDEX: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # graph -> its _Atoms


def _key(lemma: str, parameter, p: poly.Poly) -> tuple:
    return lemma, parameter, tuple(sorted(p.items()))


def _index(graph: Graph) -> _Atoms:
    index = _INDEX.get(graph)
    if index is None:
        index = _INDEX[graph] = _Atoms()
        for vid, atom in graph.atoms.items():
            index.direct.setdefault(_key(atom.lemma, atom.parameter, poly.var(atom.argument)), vid)
    return index


def _written_out(graph: Graph, lemma: str) -> _Atoms:
    """The index with the network's atoms of one function written out, on first use; only the
    function a claim applies is looked at, so a claim with exp does not expand every step. Past
    the budget the rest stay unindexed: a claim's atom is then its own, which is sound."""
    index = _index(graph)
    if not index.seen.get(lemma):
        index.seen[lemma] = True
        work = Work(graph, f"matching a claim's {lemma} with the network's", [])
        try:
            for vid, atom in graph.atoms.items():
                if atom.lemma == lemma:
                    argument = expand_within(graph, poly.var(atom.argument), work)
                    index.known.setdefault(_key(lemma, atom.parameter, argument), vid)
        except SymgradError:
            pass  # too large to write out: left to the numeric comparison
    return index


# the value of a function at a number, where it is exact; None where it is not
_AT_NUMBER = {
    "exp": lambda c: Fraction(1) if c == 0 else None,
    "log": lambda c: Fraction(0) if c == 1 else None,
    "sigmoid": lambda c: Fraction(1, 2) if c == 0 else None,
    "tanh": lambda c: Fraction(0) if c == 0 else None,
    "softplus": lambda c: None,
    "step": lambda c: Fraction(1 if c > 0 else 0),
    "inverse": lambda c: 1 / c,
}
# a claim's atom's name, from its argument's name and its parameter
_NAMES = {
    "exp": r"\exp\left({0}\right)",
    "log": r"\log\left({0}\right)",
    "sqrt": r"\sqrt{{{0}}}",
    "sigmoid": r"\sigma\left({0}\right)",
    "tanh": r"\tanh\left({0}\right)",
    "softplus": r"\operatorname{{softplus}}\left({0}\right)",
    "power": r"\left({0}\right)^{{{1}}}",
    "inverse": r"\frac{{1}}{{{0}}}",
    "step": r"H\left({0}\right)",
}


def atom_of(graph: Graph, lemma: str, p: poly.Poly, parameter=None) -> poly.Poly:
    """f(p) for an entry p: the network's atom for f of an argument equal to p if it has one,
    a number where f(p) is an exact one, else an atom the claim adds to the graph (evaluated
    numerically like the network's, and left out of a point where it is undefined)."""
    if set(p) <= {()}:
        value = _at_number(lemma, Fraction(p.get((), 0)), parameter)
        if value is not None:
            return poly.const(value)
    found = _find(graph, lemma, p, parameter)
    if found is not None:
        return poly.var(found)
    index = _index(graph)
    before = len(graph.registry.names)
    argument = _variable(graph, p, index)
    if argument >= before:
        mark_partial(graph, argument)
    name = _NAMES[lemma].format(graph.registry.names[argument], parameter)
    vid = graph.registry.new(
        name if name not in graph.registry.ids else _fresh(graph, index, rf"\operatorname{{{lemma}}}")
    )
    add_claim_atom(graph, vid, Atom(lemma, argument, parameter=parameter, rule=LEMMAS[lemma]))
    index.direct[_key(lemma, parameter, p)] = vid
    try:
        written = expand_within(graph, p, Work(graph, f"matching a claim's {lemma} with the network's", [p]))
        _written_out(graph, lemma).known[_key(lemma, parameter, written)] = vid
    except SymgradError:
        pass  # found again only as written
    return poly.var(vid)


def _find(graph: Graph, lemma: str, p: poly.Poly, parameter) -> int | None:
    """The atom f(p) the graph already has, by its argument as it stands or written out, or None."""
    direct = _index(graph).direct.get(_key(lemma, parameter, p))
    if direct is not None:
        return direct
    try:
        written = expand_within(graph, p, Work(graph, f"matching a claim's {lemma} with the network's", [p]))
    except SymgradError:
        return None  # too large to write out: the claim's own atom, compared numerically
    return _written_out(graph, lemma).known.get(_key(lemma, parameter, written))


def _at_number(lemma: str, c: Fraction, parameter) -> Fraction | None:
    """f(c) exactly where it is a rational number (None where it is not); a number outside f's
    domain is refused."""
    if (lemma == "log" and c <= 0) or (lemma in ("sqrt", "power") and c < 0):
        raise SymgradError(f"claim: {lemma} of {c}, a number outside its domain")
    if lemma == "inverse" and c == 0:
        raise SymgradError("claim: division by zero")
    if lemma == "sqrt":
        return numbers.power(c, Fraction(1, 2))
    if lemma == "power":
        return numbers.power(c, Fraction(parameter))
    return _AT_NUMBER[lemma](c)


def _variable(graph: Graph, p: poly.Poly, index: _Atoms) -> int:
    """A variable equal to p: p's own if it is one, else a new one defined as p."""
    if len(p) == 1:
        ((mono, c),) = p.items()
        if len(mono) == 1 and c == 1:
            return mono[0]
    vid = graph.registry.new(_fresh(graph, index, r"\kappa"))
    graph.defs[vid] = dict(p)
    return vid


def _fresh(graph: Graph, index: _Atoms, stem: str) -> str:
    """An unused variable name: the stem with a subscript, counted per graph."""
    while True:
        index.made += 1
        name = f"{stem}_{{{index.made}}}"
        if name not in graph.registry.ids:
            return name


def _fractional_power(graph: Graph, p: poly.Poly, b: Fraction) -> poly.Poly:
    """p ** b for a fractional b: the network's own atom for it if there is one, else
    sqrt(p) ** (2b) for a half-integer b, else a power atom of the claim's."""
    if not set(p) <= {()} and _find(graph, "power", p, b) is None and b.denominator == 2:
        root = atom_of(graph, "sqrt", p)
        base = root if b > 0 else _reciprocal(graph, root)
        return _poly_power(base, abs(b.numerator))
    return atom_of(graph, "power", p, b)


def _poly_power(p: poly.Poly, n: int) -> poly.Poly:
    result: poly.Poly = {(): 1}
    square = p
    while n:  # by squaring: log2(n) products
        if n & 1:
            result = poly.mul(result, square)
        n >>= 1
        if n:
            square = poly.mul(square, square)
    return result


def _reciprocal(graph: Graph, p: poly.Poly) -> poly.Poly:
    """1/p for any entry: a number's inverse, or the reciprocal atom of p (the network's own when
    it has one of an equal argument). A denominator that is zero as a rational function of the
    inputs, or at every point tried, is refused, never cancelled against a numerator."""
    if set(p) <= {()}:
        if not p:
            raise SymgradError("claim: division by zero")
        return poly.const(1 / Fraction(p[()]))
    if _is_zero(graph, p):
        raise SymgradError(f"claim: division by {_shown(graph, p)}, which is identically zero")
    (mono, c), *rest = p.items()
    if not rest and len(mono) == 1:  # c·v: 1/v made once per variable, as the network's own layers do
        vid, factor = mono[0], 1 / Fraction(c)
        own = _index(graph).direct.get(_key("inverse", None, poly.var(vid)))
        if own is not None:  # the network divides by v itself: its points already have 1/v defined
            return poly.scale(poly.var(own), factor)
    else:
        found = _find(graph, "inverse", p, None)
        if found is not None:
            return poly.var(found)
        before = len(graph.registry.names)
        vid, factor = _variable(graph, p, _index(graph)), Fraction(1)
        if vid >= before:
            mark_partial(graph, vid)
    # checked before the reciprocal is made: one undefined at every point would void them all
    if zero_everywhere(graph, vid):
        raise SymgradError(
            f"claim: division by {_shown(graph, p)}, which is zero at every point tried "
            "(zero through a relation between exp, log, ... that the canonical form cannot see)"
        )
    return poly.scale(atom_of(graph, "inverse", poly.var(vid)), factor)


def _shown(graph: Graph, p: poly.Poly) -> str:
    """An entry as a short text, for a message."""
    text = str(to_sympy(p, graph.registry))
    return text if len(text) <= 60 else text[:57] + "..."


def _is_zero(graph: Graph, p: poly.Poly) -> bool:
    written = expand_within(graph, p, Work(graph, "checking that a claim's denominator is not zero", [p]))
    return written == {} or vanishes(graph, written, check_max_terms(graph.max_terms))
