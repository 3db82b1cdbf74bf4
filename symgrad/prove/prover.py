"""Checks every recorded step, then proves each gradient equal to its closed form.

All comparisons are between exact canonical polynomials (see ``evaluate``):
rational coefficients, no floating point, no sampling.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from ..chain import losses
from ..chain.derivation import Counterexample, Proof
from ..chain.engine import gc_paused
from ..core import poly
from ..core.errors import SymgradError
from ..core.tensor import PolyTensor, to_sympy
from ..core.tensorop import TensorOpBase
from .evaluate import Meaning

# A checker reads its step in the form the step's own derivation writes it (a derivative's
# variable, a sum's limits, a tensor's name); a step of another form, such as one whose rule was
# swapped for another's, fails that reading. That refutes the step: it never passes as checked.
MISREAD = (AttributeError, IndexError, KeyError, TypeError, ValueError)


def by_rule(step, check: Callable[..., str | None], *args) -> str | None:
    """``check(*args)``: None when the step holds, else the reason, also when its rule cannot read it."""
    try:
        return check(*args)
    except MISREAD:
        return f"the step is not of the form its rule ({step.rule.name}) checks"


def prove(d) -> Proof:
    with gc_paused():
        return _prove(d)


def _prove(d) -> Proof:
    """Every recorded step by its rule; every upstream entry against the loss; the proven views;
    then every element of every gradient against its closed form, with dL/dY symbolic.

    The closed forms are compared with G = dL/dY as free symbols only. Equal polynomials stay
    equal when the loss's value is put in for G (substitution is a ring homomorphism), and the
    value itself is checked entry by entry against the loss's formula, so a second pass with the
    value put in would repeat the same equalities.
    """
    symbolic, valued = Meaning(d), LazyMeaning(d)
    n_steps = shown = 0
    for eq in d.equations.values():
        for i, step in enumerate(eq.steps):
            if not step.rule.checked:
                shown += 1
                continue
            why = by_rule(step, check_step, d, step, symbolic, valued)
            if why:
                return Proof(
                    "refuted", n_steps, steps=n_steps, failed_step=f"{eq.key}, step {i + 1} ({step.rule.name}): {why}"
                )
            n_steps += 1
    upstream = 0
    if d.loss.has_value:
        expected = symbolic.cached("loss gradient", lambda: loss_gradient(d))
        for pos, (want, got) in enumerate(zip(expected.entries, d.upstream_values.entries)):
            if want != got:
                y = d.registry.symbol(d.output.ids[pos])
                return Proof(
                    "refuted",
                    n_steps + upstream,
                    steps=n_steps,
                    upstream=upstream,
                    failed_step=f"the upstream gradient dL/d{y} is {to_sympy(got, d.registry)}, but the "
                    f"{d.loss} loss gives {to_sympy(want, d.registry)}",
                )
            upstream += 1
    done = n_steps + upstream
    elements = 0
    for wrt, expr in d.presentation.views:
        derived = d.definitions if wrt == d.output.name else d.grads_upstream[wrt]
        try:
            why = None if derived == symbolic(expr) else "differs from the element-wise result"
        except SymgradError as exc:
            why = str(exc)
        if why:
            return Proof(
                "refuted",
                done + elements,
                elements,
                n_steps,
                upstream=upstream,
                failed_step=f"the {view_name(expr)} view of {wrt}: {why}",
            )
        elements += len(derived.entries)
    for wrt, expr in d.closed_forms.items():
        derived, claimed = d.grads_upstream[wrt], symbolic(expr)
        bad = None if symbolic.same(derived, claimed) else first_difference(d, wrt, derived, claimed)
        if bad:
            return Proof("refuted", done + elements, elements, n_steps, upstream=upstream, counterexample=bad)
        elements += len(d.grads_upstream[wrt].entries)
    return Proof(
        "proven",
        done + elements,
        elements,
        n_steps,
        upstream=upstream,
        shown=shown,
        claims=tuple(d.claims.items()),
        scope="every upstream gradient G",
    )


def view_name(expr) -> str:
    """The name of a proven view, from the whole-tensor operation it is built on."""
    found = next((e for e in sympy.preorder_traversal(expr) if isinstance(e, TensorOpBase)), None)
    return found.view_name if found is not None else "proven"


class LazyMeaning:
    """The Meaning with the loss's value put in, built only if a step asks for it."""

    def __init__(self, d) -> None:
        self._d = d
        self._meaning: Meaning | None = None

    def _get(self) -> Meaning:
        if self._meaning is None:
            self._meaning = Meaning(self._d, values=True)
        return self._meaning

    def __call__(self, e):
        return self._get()(e)

    def same(self, a, b) -> bool:
        return self._get().same(a, b)


def check_step(d, step, symbolic, valued) -> str | None:
    """None when the step holds, else a short reason."""
    rule = step.rule
    kind = rule.check
    if kind in ("general", "claim"):  # the general-size and the network provers' rules
        return f"no checker for the rule {rule.name!r}"
    if kind == "shape":  # the gradient has its input's shape; SymPy gives the closed form's
        want = tuple(d.input_tensors[step.lhs.name[1:]].shape)
        got = tuple(step.rhs.shape)
        return None if got == want else f"the closed form is {_dims(got)}, but the gradient is {_dims(want)}"
    if kind == "op" and rule.checker is not None:  # an op's own check
        return rule.checker(d, step)
    if kind == "size":  # the displayed formula, evaluated by SymPy, is the output's size along the axis
        (axis,) = rule.data
        value = sympy.sympify(step.lhs).doit()
        return None if value == step.rhs == d.output.shape[axis] else f"{value} is not {d.output.shape[axis]}"
    if kind == "loss entry":
        L = losses.loss_polynomial(d.loss, d.output.ids)
        y = d.registry.id_of(step.lhs.variables[0])
        return None if L is not None and poly.diff(L, y) == symbolic(step.rhs) else "not the loss's derivative"
    meaning = valued if kind == "values" else symbolic
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
    for definition, g in zip(d.definitions.entries, d.upstream_symbols.ids):
        if x in set().union(*definition):  # the variables of the entry, gathered in C
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
