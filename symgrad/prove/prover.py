"""One prover for every derivation at concrete sizes: an op preset's or a network's.

A derivation carries obligations, and the prover discharges them in one order; the first that
fails gives the verdict, and a derivation with nothing for a stage passes it untouched:

1. lemmas: the scalar rule of every atom the graph uses (σ, exp, 1/v, ...), each proven for a
   variable with exactly its domain (``network.prove_lemma``);
2. layers: every layer's closed form against its element-wise share of the chain rule, and every
   named gradient against what the layers above hand down (a network's document);
3. lines: every step the document marks as checked, by its rule: a rule's own checker, a compound
   layer's form by the claim prover, and the kinds written as SymPy objects (an op's equations)
   through ``Meaning``;
4. upstream: dL/dY entry by entry against the loss's formula (an op under a mean or sum loss);
5. views: the extra views (im2col, collection) against the element-wise result;
6. closed forms: every element of every gradient against its closed form, with dL/dY symbolic.

All comparisons are between exact canonical forms (see ``evaluate`` and ``points``): rational
coefficients, no floating point, no sampling. Where the forms differ, a refutation is a point at
which both sides are evaluated and found apart; otherwise the verdict is "undecided".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import sympy

from ..chain import losses
from ..chain.derivation import Counterexample, Proof
from ..chain.engine import gc_paused
from ..core import packedpoly, poly
from ..core.errors import SymgradError
from ..core.tensor import PolyTensor, to_sympy
from ..core.tensorop import TensorOpBase
from .evaluate import Meaning
from .network import check_block, lemmas_used, pending_verdict, prove_lemma
from .points import Comparer

# A checker reads its step in the form the step's own derivation writes it (a derivative's
# variable, a sum's limits, a tensor's name); a step of another form, such as one whose rule was
# swapped for another's, fails that reading. That refutes the step: it never passes as checked.
MISREAD = (AttributeError, IndexError, KeyError, TypeError, ValueError)

# the kinds of check written as SymPy objects over an op's tensors, read through ``Meaning``
MEANING_KINDS = ("equal", "values", "chain", "loss", "loss entry", "shape", "size")


def by_rule(step, check: Callable[..., str | None], *args) -> str | None:
    """``check(*args)``: None when the step holds, else the reason, also when its rule cannot read it."""
    try:
        return check(*args)
    except MISREAD:
        return f"the step is not of the form its rule ({step.rule.name}) checks"


@dataclass
class Tally:
    """What has been checked so far, for the verdict."""

    elements: int = 0
    steps: int = 0
    upstream: int = 0
    shown: int = 0

    @property
    def checked(self) -> int:
        return self.elements + self.steps + self.upstream

    def refuted(self, **found) -> Proof:
        return Proof(
            "refuted", self.checked, self.elements, self.steps, upstream=self.upstream, shown=self.shown, **found
        )


def prove(d) -> Proof:
    if getattr(d, "graph", None) is None:
        raise SymgradError(
            "a derivation at concrete sizes is proven on the graph it was derived on, and this one has none"
        )
    with gc_paused():
        tally, context = Tally(), Context(d)
        for stage in STAGES:
            failed = stage(d, tally, context)
            if failed is not None:
                return failed
        return Proof(
            "proven",
            tally.checked,
            tally.elements,
            tally.steps,
            upstream=tally.upstream,
            shown=tally.shown,
            claims=tuple(getattr(d, "claims", {}).items()),
            scope=scope(d),
        )


def scope(d) -> str:
    """What a proof covers: every upstream gradient, when the derivation leaves dL/dY free."""
    if hasattr(d, "upstream_symbols"):  # an op: dL/dY is always free, and its values checked apart
        return "every upstream gradient G"
    return "every upstream gradient" if d.loss is not None and not d.loss.has_value else ""


class Context:
    """What the stages share, each built the first time one asks for it."""

    def __init__(self, d) -> None:
        self._d = d
        self._made: dict = {}

    def _get(self, key: str, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    @property
    def symbolic(self) -> Meaning:
        return self._get("symbolic", lambda: Meaning(self._d))

    @property
    def valued(self) -> Meaning:
        return self._get("valued", lambda: Meaning(self._d, values=True))

    @property
    def comparer(self) -> Comparer:
        return self._get("comparer", lambda: Comparer(self._d.graph))


# --- the stages, in order ------------------------------------------------------------------------


def lemmas(d, tally: Tally, context: Context) -> Proof | None:
    for name in lemmas_used(d.graph):
        verdict = prove_lemma(name)
        if verdict != "proven":
            status = "refuted" if verdict.startswith("refuted") else "undecided"
            return Proof(status, failed_step=f"lemma {name}: {verdict}")
    return None


def layers(d, tally: Tally, context: Context) -> Proof | None:
    """Each layer's closed form against the element-wise chain rule through it, which makes the
    composition of the closed forms equal to the element-wise gradient of every tensor: each layer's
    closed form is proven equal to its element-wise share given the element-wise upstream of its
    output; from the loss back, that upstream is by induction what the composed closed forms hand
    the layer, and the shares of the layers reading a tensor add up to its element-wise gradient.
    (``network.compose`` recomputes it all the same, for the tests.)"""
    if not hasattr(d, "closed_share"):  # an op preset proves its document's closed forms instead
        return None
    graph, comparer = d.graph, context.comparer
    pending = []  # (what, tensor, position, element-wise, closed) where the forms differ
    through: dict = {}  # variable -> the sum of the closed shares of the layers that read it
    for k, node in enumerate(graph.nodes):
        share = d.shares.get(k, {})
        for name, values in d.closed_share(k).items():
            tensor = graph.tensors[name]
            for position, (vid, value) in enumerate(zip(tensor.ids, values)):
                tally.elements += 1
                derived = share.get(vid, {})
                if not comparer.equal(derived, value):
                    pending.append((f"the {node.op} layer's closed form for {name}", tensor, position, derived, value))
                if vid in graph.adjoints:
                    poly.add_into(through.setdefault(vid, {}), value)
    # A long gradient of an intermediate is a variable of its own (Graph.name_gradient); the
    # layers below read that variable, so its definition must be what the layers above hand down.
    owners = {v: (t, i) for t in graph.tensors.values() for i, v in enumerate(t.ids) if v in graph.adjoints}
    for vid, named in graph.adjoints.items():
        tally.elements += 1
        tensor, position = owners[vid]
        if not comparer.equal(through.get(vid, {}), graph.defs[named]):
            what = f"the named gradient of {tensor.name}"
            pending.append((what, tensor, position, through.get(vid, {}), graph.defs[named]))
    tally.steps += len(graph.nodes)
    return pending_verdict(d, comparer, pending, tally.elements, tally.steps) if pending else None


def lines(d, tally: Tally, context: Context) -> Proof | None:
    for equation in d.equations.values():
        for i, step in enumerate(equation.steps):
            if not step.rule.checked:
                tally.shown += 1
                continue
            why = by_rule(step, check_line, d, step, context)
            if why:
                return tally.refuted(failed_step=f"{equation.key}, step {i + 1} ({step.rule.name}): {why}")
            tally.steps += 1
    return None


def upstream(d, tally: Tally, context: Context) -> Proof | None:
    """dL/dy entry by entry from the loss's own formula, against the values the document puts in."""
    if not hasattr(d, "upstream_values") or not d.loss.has_value:
        return None
    if d.upstream_values is None:
        return tally.refuted(failed_step=f"the derivation gives no values of dL/dY for the {d.loss} loss")
    expected = context.symbolic.cached("loss gradient", lambda: loss_gradient(d))
    for pos, (want, got) in enumerate(zip(expected.entries, d.upstream_values.entries)):
        if want != got:
            y = d.registry.symbol(d.output.ids[pos])
            return tally.refuted(
                failed_step=f"the upstream gradient dL/d{y} is {to_sympy(got, d.registry)}, but the "
                f"{d.loss} loss gives {to_sympy(want, d.registry)}"
            )
        tally.upstream += 1
    return None


def views(d, tally: Tally, context: Context) -> Proof | None:
    for wrt, expr in d.presentation.views:
        derived = d.definitions if wrt == d.output.name else d.grads_upstream[wrt]
        try:
            why = None if derived == context.symbolic(expr) else "differs from the element-wise result"
        except SymgradError as exc:
            why = str(exc)
        if why:
            return tally.refuted(failed_step=f"the {view_name(expr)} view of {wrt}: {why}")
        tally.elements += math.prod(derived.shape)
    return None


def closed_forms(d, tally: Tally, context: Context) -> Proof | None:
    """Every element of every gradient against its closed form, with G = dL/dY as free symbols.

    Equal polynomials stay equal when the loss's value is put in for G (substitution is a ring
    homomorphism), and the value itself is checked entry by entry against the loss's formula
    (``upstream``), so a second pass with the value put in would repeat the same equalities."""
    for wrt, expr in getattr(d, "closed_forms", {}).items():
        derived, claimed = d.grads_upstream[wrt], context.symbolic(expr)
        if derived.shape != claimed.shape:
            raise SymgradError(f"the claim for d{wrt} is {_dims(claimed.shape)}, but {wrt} is {_dims(derived.shape)}")
        if not context.symbolic.same(derived, claimed):
            tensor = d.graph.tensors[wrt]
            # the entries that differ (the first hundred), read out of packed tensors one by one
            pending = [
                (f"the closed form of dL/d{wrt}", tensor, i, derived.at(i), claimed.at(i))
                for i in packedpoly.differing(derived, claimed)
            ]
            return pending_verdict(d, context.comparer, pending, tally.elements, tally.steps, upstream=tally.upstream)
        tally.elements += math.prod(derived.shape)
    return None


STAGES = (lemmas, layers, lines, upstream, views, closed_forms)


def view_name(expr) -> str:
    """The name of a proven view, from the whole-tensor operation it is built on."""
    found = next((e for e in sympy.preorder_traversal(expr) if isinstance(e, TensorOpBase)), None)
    return found.view_name if found is not None else "proven"


def check_line(d, step, context: Context) -> str | None:
    """None when the step holds, else a short reason."""
    rule = step.rule
    if rule.check == "claim":  # a compound layer's form: the claim prover's, as symgrad.check gives it
        return check_block(d, step)
    if rule.checker is not None:  # an op's or a layer's own check
        return rule.checker(d, step)
    if rule.check not in MEANING_KINDS or not hasattr(d, "upstream_symbols"):
        return f"no checker for the rule {rule.name!r}"
    kind = rule.check
    if kind == "shape":  # the gradient has its input's shape; SymPy gives the closed form's
        want = tuple(d.input_tensors[step.lhs.name[1:]].shape)
        got = tuple(step.rhs.shape)
        return None if got == want else f"the closed form is {_dims(got)}, but the gradient is {_dims(want)}"
    if kind == "size":  # the displayed formula, evaluated by SymPy, is the output's size along the axis
        (axis,) = rule.data
        value = sympy.sympify(step.lhs).doit()
        return None if value == step.rhs == d.output.shape[axis] else f"{value} is not {d.output.shape[axis]}"
    symbolic = context.symbolic
    if kind == "loss entry":
        L = losses.loss_polynomial(d.loss, d.output.ids)
        y = d.registry.id_of(step.lhs.variables[0])
        return None if L is not None and poly.diff(L, y) == symbolic(step.rhs) else "not the loss's derivative"
    meaning = context.valued if kind == "values" else symbolic
    try:
        rhs = meaning(step.rhs)
        if kind == "chain":
            lhs = independent_chain_rule(d, step.lhs)
        elif kind == "loss":
            lhs = symbolic.cached("loss gradient", lambda: loss_gradient(d))
        else:
            lhs = meaning(step.lhs)
    except SymgradError as exc:
        return str(exc)
    return None if meaning.same(lhs, rhs) else "the two sides differ"


def independent_chain_rule(d, lhs):
    """Σ over every output y containing x of (dL/dy)(dy/dx), found by scanning the definitions."""
    x = d.registry.id_of(lhs.variables[0])
    acc: dict = {}
    if isinstance(d.definitions, packedpoly.PackedTensor):  # the outputs holding x, found in arrays
        for o in packedpoly.containing(d.definitions, x):
            g = d.upstream_symbols.ids[o]
            poly.add_into(acc, poly.mul(poly.var(g), poly.diff(d.definitions.at(o), x)))
        return acc
    for definition, g in zip(d.definitions.entries, d.upstream_symbols.ids):
        if x in chain.from_iterable(definition):  # the variables of the entry, scanned in C
            poly.add_into(acc, poly.mul(poly.var(g), poly.diff(definition, x)))
    return acc


def loss_gradient(d) -> PolyTensor:
    """dL/dy from L's explicit formula, every entry in one pass; for a generic L, dL/dy is itself."""
    L = losses.loss_polynomial(d.loss, d.output.ids)
    if L is None:
        return PolyTensor.of_symbols(d.upstream_symbols)
    partials = poly.gradient(L)
    return PolyTensor(d.output.shape, tuple(partials.get(y, {}) for y in d.output.ids))


def first_difference(d, wrt, derived: PolyTensor, claimed: PolyTensor) -> Counterexample | None:
    if derived.shape != claimed.shape:
        raise SymgradError(f"the claim for d{wrt} is {_dims(claimed.shape)}, but {wrt} is {_dims(derived.shape)}")
    ids = d.input_tensors[wrt].ids
    shape = derived.shape
    for pos, (p, q) in enumerate(zip(derived.entries, claimed.entries)):
        if p != q:
            index, rest = [], pos
            for s in reversed(shape):
                index.append(rest % s + 1)
                rest //= s
            return Counterexample(
                wrt,
                tuple(reversed(index)),
                d.registry.symbol(ids[pos]),
                to_sympy(p, d.registry),
                to_sympy(q, d.registry),
            )
    return None


def _dims(shape) -> str:
    return "×".join(map(str, shape))
