"""The network's side of the proof: the lemmas, the composition of the closed forms, and claims.

Equality is decided on the canonical form: polynomials in the inputs and the atoms (σ(z), e^z,
1/v, ...), with the polynomially defined intermediates substituted when the forms differ as they
stand. Equal forms are equal functions, so "proven" is sound. Atoms are treated as independent,
which they need not be (exp(a + b) = exp(a)·exp(b)): a difference is therefore only reported as a
refutation after both sides are evaluated at a point, with 60 significant digits, and found apart
by far more than the evaluation's error. If no point separates them, the verdict is "undecided".
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import mpmath
import sympy

from ..chain.derivation import Counterexample, Proof
from ..core import poly
from ..core.tensor import to_sympy
from ..network.compound import compound, shown
from ..network.graph import Graph, Tensor
from ..network.lemmas import LEMMAS, Lemma
from ..network.units.table import backward
from .claim.decision import differing, first_of
from .claim.reader import claim_tensors, claim_value
from .points import DIGITS, Comparer, agreement, evaluate, shared, values_at

__all__ = ["check", "check_lemma", "compose", "equivalent", "evaluate", "values_at"]

# --- lemmas --------------------------------------------------------------------------------------


@functools.cache
def prove_lemma(name: str) -> str:
    """Check a lemma with SymPy on a scalar: "proven", or "refuted" at a point shown numerically."""
    return check_lemma(LEMMAS[name])


# where a refutation is looked for: inside every lemma's domain (u > 0 lies in u ≠ 0 and in ℝ)
LEMMA_POINTS = (sympy.Rational(1, 3), sympy.Rational(7, 5), sympy.Integer(3))


def check_lemma(lemma: Lemma) -> str:
    """d f(u)/du against the lemma's derivative, for u with exactly the lemma's domain and any real
    parameter p. Proven when their difference cancels to 0 as a rational function of u, p and the
    functions of u it contains (e^u, tanh u, ...), each a variable of its own: cancelling uses no
    relation between them beyond identities of exponents (e^{-u} = 1/e^u), so a 0 there is a 0
    wherever both sides are defined. Otherwise refuted at a point where the difference, evaluated
    to 60 digits, is far from 0; undecided when no point shows that."""
    u, p = lemma.variable(), sympy.Symbol("p", real=True)
    value = lemma.function(u, p)
    helper = lemma.helper(u, value) if lemma.helper else sympy.Integer(0)
    difference = sympy.diff(value, u) - lemma.derivative(value, u, helper, p)
    if sympy.cancel(difference) == 0:
        return "proven"
    at = {} if lemma.parameter_point is None else {p: sympy.Rational(lemma.parameter_point)}
    for point in LEMMA_POINTS:
        gap = difference.subs({u: point, **at}).evalf(DIGITS)
        if gap.is_number and abs(gap) > sympy.Float(10) ** -30:
            return f"refuted at u = {point}: the derivative and the rule differ by {sympy.N(gap, 6)}"
    return "undecided"


def lemmas_used(graph: Graph) -> list[str]:
    return sorted({atom.lemma for atom in graph.atoms.values()})


# --- the composition and the verdict -------------------------------------------------------------


def compose(d) -> dict:
    """dL/dv for every variable, by the layers' closed forms alone, from the loss back."""
    graph = d.graph
    upstream: dict = {d.loss_id: {(): 1}}
    for node in reversed(graph.nodes):
        G = [upstream.get(v, {}) for v in graph.tensors[node.output].ids]
        for name, values in backward(graph, node, G).items():
            for vid, value in zip(graph.tensors[name].ids, values):
                poly.add_into(upstream.setdefault(vid, {}), value)
    return upstream


def _scope(d) -> str:
    return "every upstream gradient" if d.loss is not None and not d.loss.has_value else ""


def pending_verdict(
    d,
    comparer: Comparer,
    pending: Iterable,
    elements: int,
    steps: int,
    sides=("the chain rule", "the claim"),
    upstream=0,
) -> Proof:
    """The verdict where some entries' two sides differ in canonical form (``pending``, a list or
    an iterator of at least one): refuted at the first point found where an entry's sides are
    apart, else undecided."""
    first = None
    for entry in pending:
        first = first or entry
        what, tensor, position, derived, claimed = entry
        found = comparer.differ_at(derived, claimed)
        if found is not None:
            return Proof(
                "refuted",
                checked=elements + steps + upstream,
                elements=elements,
                steps=steps,
                upstream=upstream,
                counterexample=counterexample_at(d, tensor, position, derived, claimed, found, what, sides),
            )
    assert first is not None, "a verdict on no differing entry"
    what, tensor, position, derived, claimed = first
    return Proof(
        "undecided",
        elements=elements,
        steps=steps,
        failed_step=f"{what}: entry {_index(tensor, position)} differs in canonical form but "
        + agreement(comparer, derived, claimed),
    )


def _index(tensor: Tensor, position: int) -> tuple:
    return tuple(i + 1 for i in tensor.index(position)) if tensor.shape else ()


def counterexample_at(d, tensor, position, derived, claimed, found, what, sides) -> Counterexample:
    """The counterexample at an entry whose two sides ``Comparer.differ_at`` found apart: the note
    names the point and what each side gives there."""
    _values, given, x, y = found
    registry = d.graph.registry
    shown = sorted(given.items())[:6]
    at = ", ".join(f"{registry.names[v]} = {q}" for v, q in shown) + (", ..." if len(given) > len(shown) else "")
    return Counterexample(
        tensor.name,
        _index(tensor, position),
        registry.symbol(tensor.ids[position]),
        to_sympy(derived, registry),
        to_sympy(claimed, registry),
        note=f"{what}; at {at} {sides[0]} gives {mpmath.nstr(x, 12)} and {sides[1]} {mpmath.nstr(y, 12)}",
    )


# --- claims --------------------------------------------------------------------------------------


def equivalent(d, name: str, form_a, form_b) -> Proof:
    """Prove that two claimed forms of dL/d(name) are equal, or refute it at a point; each form is
    a string or a function, as for ``check``. Nothing is said about whether either is dL/d(name)."""
    tensor = d.tensor(name)
    names = claim_tensors(d)
    a, text_a = claim_value(d, form_a, names, name, tensor.shape)
    b, text_b = claim_value(d, form_b, names, name, tensor.shape)
    pairs = list(zip(a.entries, b.entries))
    what = f"the two forms of dL/d{name}"
    first, positions = first_of(differing(d.graph, pairs, f"comparing {what}"))
    pending = ((what, tensor, i, *pairs[i]) for i in positions)
    comparer = shared(d.graph)
    if first is None:
        n = len(a.entries)
        return Proof("proven", checked=n, elements=n, claims=((name, f"{text_a} == {text_b}"),))
    return pending_verdict(d, comparer, pending, len(a.entries), 0, ("the first form", "the second"))


def check(d, name: str, claim) -> Proof:
    """Prove or refute that ``claim`` is dL/d(name); the claim is a string or a function of the
    network's tensors (a dict: each tensor by its name, dL/d(it) under d<name>)."""
    tensor = d.tensor(name)
    got, text = claim_value(d, claim, claim_tensors(d), name, tensor.shape)
    derived = d.gradient(name)
    pairs = list(zip(derived, got.entries))
    what = f"the claim for dL/d{name}"
    first, positions = first_of(differing(d.graph, pairs, f"comparing {what}"))
    pending = ((what, tensor, i, *pairs[i]) for i in positions)
    comparer = shared(d.graph)
    if first is None:
        n = len(derived)
        return Proof("proven", checked=n, elements=n, claims=((name, text),), scope=_scope(d))
    return pending_verdict(d, comparer, pending, len(derived), 0)


def check_block(d, step) -> str | None:
    """A compound layer's compact form (or identity), proven at every element by the network's
    claim prover: the same proof ``symgrad.check`` (``symgrad.equivalent``) gives."""
    j, i = step.rule.data
    forms = shown(d.graph, d.graph.blocks[j]) if 0 <= j < len(d.graph.blocks) else []
    if not 0 <= i < len(forms):
        return f"compound layer {j + 1} has no form {i + 1} to prove"
    block, form = d.graph.blocks[j], forms[i]
    if step.rhs != sympy.Symbol(form.rhs):  # the line shown is the one whose claim is proven next
        return f"the form shown for the {compound(block).title} layer is not the one proven: {step.rhs}"
    if form.other is None:
        proof = check(d, form.target, form.claim)
    else:
        proof = equivalent(d, form.target, form.claim, form.other)
    if proof.status != "proven":
        return f"the compact form of the {compound(block).title} layer is {proof.status}: {form.claim}"
    return None
