"""Mutation tests: deliberate corruptions of the engine, the loss, the recorded steps and the
general proof. Each must make ``prove()`` fail. This is the standing guard that the prover checks
the derivation independently instead of trusting the code that produced it.

Every mutation is applied to a derivation that proves before it (checked first), so a failure
here means the corruption went unnoticed.
"""

from __future__ import annotations

import dataclasses

import pytest
import sympy

import symgrad
from symgrad.chain import engine, losses
from symgrad.chain import rules as R
from symgrad.chain.derivation import Equation, Step, TensorView
from symgrad.core import poly
from symgrad.core.tensor import PolyTensor


def replace_step(d, key, index, **change):
    steps = list(d.equations[key].steps)
    steps[index] = dataclasses.replace(steps[index], **change)
    return d.replace(equations={**d.equations, key: Equation(key, tuple(steps))})


def replace_entry(t: PolyTensor, pos: int, value) -> PolyTensor:
    entries = list(t.entries)
    entries[pos] = value(entries[pos])
    return PolyTensor(t.shape, tuple(entries))


def drop_a_term(p):
    return dict(list(p.items())[1:])


def scale(p):
    return poly.scale(p, 2)


# --- data mutations: a derivation whose recorded data was corrupted after the fact ------------------


def mutate_grad(op, wrt, pos, change):
    def apply(d):
        grads = {**d.grads_upstream, wrt: replace_entry(d.grads_upstream[wrt], pos, change)}
        return d.replace(grads_upstream=grads)

    return apply


def swap_upstream(d):
    """Two outputs' dL/dy exchanged: the gradients then route each path through the wrong output."""
    ids = list(d.upstream_symbols.ids)
    ids[0], ids[-1] = ids[-1], ids[0]
    return d.replace(upstream_symbols=dataclasses.replace(d.upstream_symbols, ids=tuple(ids)))


def corrupt_forward(d):
    """One output's definition gains a term: the forward pass no longer is the op."""
    x = next(iter(d.input_tensors.values())).ids[0]
    return d.replace(definitions=replace_entry(d.definitions, 0, lambda p: poly.add(p, poly.var(x))))


def wrong_loss_value(d):
    return d.replace(
        upstream_values=replace_entry(d.upstream_values, len(d.upstream_values.entries) - 1, lambda p: poly.const(7))
    )


def wrong_closed_form(d):
    wrt, closed = next(iter(d.closed_forms.items()))
    return d.replace(closed_forms={**d.closed_forms, wrt: 2 * closed})


def wrong_local_partial(d):
    key = next(k for k in d.equations if k.startswith("local_"))
    index = len(d.equations[key].steps) - 1
    return replace_step(d, key, index, rhs=sympy.Integer(3))


def chain_missing_a_path(d):
    """The chain-rule sum loses a path through an output that does contain the element."""
    key = next(k for k in d.equations if k.startswith("chain_"))
    first = d.equations[key].steps[0]
    x = d.registry.id_of(first.lhs.variables[0])

    def live(term):
        (derivative,) = [a for a in term.args if isinstance(a, sympy.Derivative)]
        o = d.output.ids.index(d.registry.id_of(derivative.expr))
        return any(x in mono for mono in d.definitions.entries[o])

    paths = list(first.rhs.args)
    del paths[next(i for i, t in enumerate(paths) if live(t))]
    return replace_step(d, key, 0, rhs=sympy.Add(*paths, evaluate=False))


def wrong_regrouping(d):
    return replace_step(d, "regroup_A", 0, rhs=2 * d.equations["regroup_A"].steps[0].rhs)


def wrong_pick_value(d):
    key = next(k for k in d.equations if k.startswith("pick_value_"))
    step = d.equations[key].steps[0]
    return replace_step(d, key, 0, rhs=step.rhs + 1)


def wrong_loss_step(d):
    wrong = PolyTensor(d.output.shape, tuple({(): sympy.Rational(1, 5)} for _ in d.output.ids))
    return replace_step(d, "loss", 0, rhs=TensorView("G", wrong, d.registry))


MATMUL = {
    "engine: a term dropped from one gradient entry": mutate_grad("matmul", "A", 0, drop_a_term),
    "engine: one gradient entry scaled": mutate_grad("matmul", "B", 3, scale),
    "engine: one upstream gradient swapped": swap_upstream,
    "forward: one entry corrupted": corrupt_forward,
    "loss: the last upstream entry wrong": wrong_loss_value,
    "closed form: scaled": wrong_closed_form,
    "steps: a local partial": wrong_local_partial,
    "steps: the chain rule misses a path": chain_missing_a_path,
    "steps: the regrouping": wrong_regrouping,
    "steps: the picked value": wrong_pick_value,
    "steps: the loss's value": wrong_loss_step,
}

CONV = {
    "engine: a term dropped from one gradient entry": mutate_grad("conv2d", "X", 5, drop_a_term),
    "engine: one weight gradient scaled": mutate_grad("conv2d", "W", 0, scale),
    "engine: one upstream gradient swapped": swap_upstream,
    "forward: one entry corrupted": corrupt_forward,
    "loss: the last upstream entry wrong": wrong_loss_value,
    "closed form: scaled": wrong_closed_form,
    "steps: a local partial": wrong_local_partial,
    "steps: the chain rule misses a path": chain_missing_a_path,
}


@pytest.fixture(scope="module")
def mm():
    d = symgrad.matmul(3, 4, 2, "mean")
    assert d.prove().ok
    return d


@pytest.fixture(scope="module")
def cv():
    d = symgrad.conv2d((2, 2, 4, 5), (2, 1, 2, 3), stride=(2, 1), padding=1, groups=2, loss="sum")
    assert d.prove().ok
    return d


@pytest.mark.parametrize("name", list(MATMUL))
def test_matmul_mutations_are_caught(mm, name):
    proof = MATMUL[name](mm).prove()
    assert proof.status == "refuted" and not proof.ok, name
    assert proof.counterexample is not None or proof.failed_step


@pytest.mark.parametrize("name", list(CONV))
def test_conv2d_mutations_are_caught(cv, name):
    proof = CONV[name](cv).prove()
    assert proof.status == "refuted" and not proof.ok, name


# --- code mutations: the engine or the loss computes something wrong while deriving ---------------


def test_an_engine_that_drops_a_term_is_caught(monkeypatch):
    right = engine.layer_share

    def dropping(definitions, upstreams, wrt):
        grads = right(definitions, upstreams, wrt)
        if grads is not None and len(grads) > 1:  # the op's layer, not the one-term loss above it
            x = sorted(grads)[len(grads) // 2]
            grads[x] = drop_a_term(grads[x])
        return grads

    monkeypatch.setattr(engine, "layer_share", dropping)
    for d in (symgrad.matmul(2, 3, 2, "generic"), symgrad.conv2d((1, 1, 3, 3), (1, 1, 2, 2))):
        assert not d.prove().ok


def test_an_engine_that_forgets_the_power_of_a_repeated_variable_is_caught(monkeypatch):
    # c_ij with a_it b_tj has no squares; a corrupted coefficient in the bilinear fast path is what
    # such a slip looks like there
    right = engine.layer_share

    def doubled(definitions, upstreams, wrt):
        grads = right(definitions, upstreams, wrt)
        if grads is not None and len(grads) > 1:
            x = min(grads)
            grads[x] = poly.scale(grads[x], 2)
        return grads

    monkeypatch.setattr(engine, "layer_share", doubled)
    assert not symgrad.matmul(2, 2, 2, "sum").prove().ok


def test_a_loss_with_a_wrong_value_at_one_entry_is_caught(monkeypatch):
    right = losses.upstream_value
    d0 = symgrad.matmul(2, 3, 2, "mean")
    target = d0.upstream_symbols.ids[-1]
    monkeypatch.setattr(
        losses, "upstream_value", lambda loss, numel, g: poly.const(1) if g == target else right(loss, numel, g)
    )
    proof = symgrad.matmul(2, 3, 2, "mean").prove()
    # the document's loss step shows the whole dL/dC, so it is the first to disagree
    assert not proof.ok and proof.failed_step.startswith("loss")


# --- the general proof ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def general():
    gd = symgrad.matmul("m", "k", "n", "sum")
    assert gd.prove().ok
    return gd


def general_step(gd, key, rule, make):
    steps = list(gd.equations[key].steps)
    index = next(i for i, s in enumerate(steps) if s.rule is rule)
    steps[index] = make(steps[index])
    return gd.replace(equations={**gd.equations, key: Equation(key, tuple(steps))})


T = sympy.Symbol("T")
GENERAL = {
    "a tautology in place of the transpose": ("sift_A", R.TRANSPOSE, lambda s: Step(T, T, s.rule)),
    "a tautology in place of the sifting": ("sift_B", R.SIFTING, lambda s: Step(s.lhs, s.lhs, s.rule)),
    "a sifted sum scaled": ("sift_A", R.SIFTING, lambda s: Step(s.lhs, 2 * s.rhs, s.rule)),
    "a local partial with the wrong index": (
        "local_A",
        R.SIFTING,
        lambda s: Step(s.lhs, s.rhs.subs(sympy.Symbol("q", integer=True), sympy.Symbol("p", integer=True)), s.rule),
    ),
    "the chain rule's upstream dropped": (
        "chain_B",
        R.CHAIN_RULE,
        lambda s: Step(s.lhs, sympy.Sum(s.rhs.function.args[-1], *s.rhs.limits), s.rule),
    ),
}


@pytest.mark.parametrize("name", list(GENERAL))
def test_general_mutations_are_caught(general, name):
    key, rule, make = GENERAL[name]
    proof = general_step(general, key, rule, make).prove()
    assert proof.status == "refuted", name


def test_a_wrong_general_closed_form_is_caught(general):
    wrt, closed = "A", general.closed_forms["A"]
    bad = general.replace(closed_forms={**general.closed_forms, wrt: 2 * closed})
    bad = general_step(bad, "identity_A", R.ALL_ELEMENTS, lambda s: Step(s.lhs, 2 * closed, s.rule))
    assert not bad.prove().ok


@pytest.fixture(scope="module")
def ct():
    d = symgrad.conv_transpose2d(
        (2, 2, 3, 2), (2, 3, 2, 3), stride=(2, 1), padding=1, output_padding=(1, 0), groups=2, loss="mean"
    )
    assert d.prove().ok
    return d


@pytest.mark.parametrize("name", list(CONV))
def test_conv_transpose2d_mutations_are_caught(ct, name):
    proof = CONV[name](ct).prove()
    assert proof.status == "refuted" and not proof.ok, name
