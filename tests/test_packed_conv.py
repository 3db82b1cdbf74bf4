"""The packed path of a convolution: definitions, gradients, closed forms and views kept in NumPy
arrays from the layer to the proof.

Large layers take it by default; here a fixture forces it on small ones, so that every entry can
be compared with the dict path, which stays the reference, and the mutation tests run through it."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys

import numpy as np
import pytest
import sympy

import symgrad
from symgrad.core import packedpoly
from symgrad.core.errors import SymgradError
from symgrad.core.packedpoly import PackedTensor
from symgrad.network.units import conv2d as conv_unit
from symgrad.network.units.conv2d import ConvTranspose2d
from symgrad.prove.evaluate import Meaning

from .conftest import require_torch
from .test_mutations import CONV


@pytest.fixture
def forced(monkeypatch):
    """Every convolution through the packed path, however small."""
    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 1)


def both(monkeypatch, **kwargs):
    """The same convolution derived on the dict path and on the packed path."""
    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 10**12)
    reference = symgrad.conv2d(**kwargs)
    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 1)
    return reference, symgrad.conv2d(**kwargs)


def entries(t) -> list:
    return [t.at(pos) for pos in range(int(np.prod(t.shape)))]


GEOMETRIES = [
    dict(input_shape=(1, 2, 5, 5), weight_shape=(2, 2, 3, 3)),
    dict(input_shape=(2, 3, 6, 7), weight_shape=(2, 3, 2, 3), padding=1),
    dict(input_shape=(2, 2, 7, 6), weight_shape=(3, 2, 3, 2), stride=(2, 1), padding=(1, 0)),
    dict(input_shape=(1, 2, 8, 8), weight_shape=(2, 2, 3, 2), dilation=(2, 1), padding=2),
    dict(input_shape=(2, 4, 6, 5), weight_shape=(4, 2, 3, 2), groups=2, stride=2, padding=1),
    dict(input_shape=(1, 2, 5, 6), weight_shape=(2, 2, 2, 3), bias=False, padding=1),
]


@pytest.mark.parametrize("loss", ["generic", "mean", "sum"])
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: ",".join(f"{k}={v}" for k, v in g.items()))
def test_the_packed_path_gives_the_dict_path_entry_by_entry(monkeypatch, geometry, loss):
    reference, packed = both(monkeypatch, **geometry, loss=loss)
    assert isinstance(packed.definitions, PackedTensor) and not isinstance(reference.definitions, PackedTensor)
    assert entries(packed.definitions) == list(reference.definitions.entries)
    for name in reference.grads_upstream:
        assert entries(packed.grads_upstream[name]) == list(reference.grads_upstream[name].entries), name
        assert entries(packed.grads_values[name]) == list(reference.grads_values[name].entries), name
    assert isinstance(packed.grads_upstream["W"], PackedTensor)
    # the closed forms and views, computed on each path
    for expr in [*reference.closed_forms.values(), *(v for _, v in reference.presentation.views)]:
        monkeypatch.setattr(packedpoly, "PACKED_TERMS", 10**12)
        want = Meaning(reference)(expr)
        monkeypatch.setattr(packedpoly, "PACKED_TERMS", 1)
        got = Meaning(packed)(expr)
        assert entries(got) == list(want.entries), expr
    assert str(packed.prove()) == str(reference.prove())
    assert symgrad.render(packed, "md") == symgrad.render(reference, "md")


def test_packed_and_dict_tensors_compare_as_polynomials(forced):
    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), padding=1)
    packed = d.grads_upstream["X"]
    plain = conv_unit.PolyTensor(packed.shape, tuple(entries(packed)))
    assert packed == plain and plain == packed
    changed = list(plain.entries)
    changed[3] = {**changed[3], (): 1}
    assert packed != conv_unit.PolyTensor(packed.shape, tuple(changed))
    assert packedpoly.differing(packed, packed) == []


def test_a_wrong_closed_form_is_refuted_on_the_packed_path_at_a_point(forced):
    d = symgrad.conv2d((1, 2, 6, 6), (2, 2, 3, 3), stride=2, padding=1)
    G, W = sympy.Symbol("G"), sympy.Symbol("W")
    # stride 1 where it is 2, a dilation of 2 and an output padding of 1 making up the 6×6 shape
    wrong = ConvTranspose2d(G, W, 1, 1, 1, 1, 2, 2, 1, 1, 1)
    bad = d.replace(closed_forms={**d.closed_forms, "X": wrong}, equations={})
    assert isinstance(Meaning(bad)(wrong), PackedTensor)
    proof = bad.prove()
    assert proof.status == "refuted"
    ce = proof.counterexample
    assert ce.wrt == "X" and ce.derived != ce.claimed and " = " in ce.note  # the point where they differ


def corrupt_one_key(t: PackedTensor, pos: int) -> PackedTensor:
    """One term of entry ``pos`` given another partner variable: the same number of terms, one wrong."""
    keys = t.keys.copy()
    k = int(t.offsets[pos])
    keys[k] += 1  # the term's second variable becomes the next variable
    return PackedTensor(t.shape, keys, t.offsets, t.coef, t.top, t.first)


def test_one_corrupted_packed_gradient_term_is_caught(forced):
    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), padding=1)
    assert d.prove().ok
    grads = {**d.grads_upstream, "W": corrupt_one_key(d.grads_upstream["W"], 4)}
    proof = d.replace(grads_upstream=grads).prove()
    assert proof.status == "refuted"
    if proof.counterexample is not None:  # the closed form finds it at the entry, with a point
        assert proof.counterexample.index == (1, 2, 2, 2)
    else:  # or a step reading the picked entry does first
        assert proof.failed_step


def test_one_corrupted_packed_closed_form_term_is_caught(forced, monkeypatch):
    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), padding=1)
    made = conv_unit._packed_weight
    monkeypatch.setattr(conv_unit, "_packed_weight", lambda *a: corrupt_one_key(made(*a), 7))
    proof = d.replace(equations={}).prove()
    assert proof.status == "refuted" and proof.counterexample.wrt == "W"
    assert proof.counterexample.index == (1, 1, 3, 2) and " = " in proof.counterexample.note


def test_a_corrupted_packed_definition_is_caught(forced):
    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), padding=1)
    proof = d.replace(definitions=corrupt_one_key(d.definitions, 10)).prove()
    assert proof.status == "refuted"


@pytest.mark.parametrize("name", list(CONV))
def test_the_mutations_are_caught_on_the_packed_path(forced, name):
    d = symgrad.conv2d((2, 2, 4, 5), (2, 1, 2, 3), stride=(2, 1), padding=1, groups=2, loss="sum")
    assert isinstance(d.definitions, PackedTensor) and d.prove().ok
    proof = CONV[name](d).prove()
    assert proof.status == "refuted", name


@pytest.mark.tools
@pytest.mark.parametrize("stride, padding, groups, bias", [(1, 1, 1, True), (2, 0, 2, False)])
def test_the_packed_gradients_match_torch_autograd(forced, stride, padding, groups, bias):
    torch = require_torch()
    F = torch.nn.functional
    input_shape, weight_shape = (2, 4, 7, 6), (4, 4 // groups, 3, 2)
    d = symgrad.conv2d(input_shape, weight_shape, stride=stride, padding=padding, groups=groups, bias=bias)
    assert isinstance(d.grads_upstream["X"], PackedTensor)
    gen = torch.Generator().manual_seed(7)
    X = torch.randn(*input_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    W = torch.randn(*weight_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(weight_shape[0], generator=gen, dtype=torch.float64, requires_grad=True) if bias else None
    Y = F.conv2d(X, W, b, stride=stride, padding=padding, groups=groups)
    G = torch.randn(*Y.shape, generator=gen, dtype=torch.float64)
    Y.backward(G)
    tensors = [("X", X), ("W", W)] + ([("b", b)] if bias else [])
    values = dict(zip(d.upstream_symbols.ids, G.flatten().tolist()))
    for name, t in tensors:
        values.update(zip(d.input_tensors[name].ids, t.detach().flatten().tolist()))
    for name, t in tensors:
        ours = [
            sum(c * np.prod([values[v] for v in mono]) for mono, c in p.items())
            for p in entries(d.grads_upstream[name])
        ]
        assert np.allclose(ours, t.grad.flatten().tolist(), rtol=0, atol=1e-10), name


def test_the_packed_path_is_counted_by_the_budget(monkeypatch):
    big = ((1, 16, 64, 64), (32, 16, 3, 3))
    # on the dict path the large convolution is refused with the estimate, as before
    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 10**12)
    with pytest.raises(SymgradError, match=r"too large: about 19,\d{3},\d{3} terms and variables"):
        symgrad.conv2d(*big, padding=1)
    # a packed job past the budget is refused before any work, with its estimate
    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 1)
    with pytest.raises(SymgradError, match=r"too large: about [\d,]+ terms and variables \(roughly [\d.]+ GiB\)"):
        symgrad.conv2d((1, 64, 128, 128), (64, 64, 3, 3), padding=1)
    with pytest.raises(SymgradError, match="over the budget of 300"):
        symgrad.conv2d((1, 2, 8, 8), (2, 2, 3, 3), max_terms=300)


@pytest.mark.slow
def test_the_command_line_refuses_a_packed_job_over_the_budget():
    args = ["conv2d", "--input", "1x64x128x128", "--weight", "64x64x3x3", "--padding", "1"]
    result = subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True)
    assert result.returncode == 2 and "too large" in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_packed_maps_read_an_entry_only_when_asked(forced):
    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), padding=1)
    defs = d.graph.defs
    y = d.output.ids[3]
    assert y in defs and defs[y] == d.definitions.at(3)
    assert len(list(itertools.islice(iter(defs), 5))) == 5
    gx = d.graph.tensors["X"].ids[0]
    assert d.network_grads[gx] == d.grads_upstream["X"].at(0)


def test_without_numpy_a_large_layer_takes_the_dicts(forced, monkeypatch):
    monkeypatch.setattr(packedpoly, "np", None)
    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), padding=1)
    assert not isinstance(d.definitions, PackedTensor) and not isinstance(d.grads_upstream["X"], PackedTensor)
    assert d.prove().ok


@pytest.mark.parametrize("body", ["sum", "relu"])
def test_a_network_with_a_packed_convolution_gives_the_dict_gradients(monkeypatch, body):
    import symgrad.functional as F

    def net(x, w, b):
        y = F.conv2d(x, w, b, stride=2, padding=1)
        return (y * y).sum() if body == "sum" else F.mse_loss(F.relu(y), 0 * y)

    shapes = dict(x=(2, 3, 6, 7), w=(2, 3, 3, 3), b=(2,))
    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 10**12)
    reference = symgrad.derive(net, **shapes)
    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 1)
    packed = symgrad.derive(net, **shapes)
    conv = next(k for k, node in enumerate(packed.graph.nodes) if node.op == "conv2d")
    assert packedpoly.PolyMap is type(packed.graph.defs) and packed.graph.defs.blocks
    y = packed.graph.tensors[packed.graph.nodes[conv].output]
    assert isinstance(packed.graph.defs.tensor(y.ids, y.shape), PackedTensor)
    for name in shapes:
        ids = packed.graph.tensors[name].ids
        assert [packed.grads.get(v, {}) for v in ids] == [reference.grads.get(v, {}) for v in ids], name
    assert packed.prove().ok and reference.prove().ok


def test_a_wrong_entry_formula_is_refuted_on_the_packed_path_as_on_the_dict_path(monkeypatch):
    from symgrad.chain.derivation import Equation, Step

    reference, packed = both(monkeypatch, input_shape=(2, 4, 5, 6), weight_shape=(4, 1, 3, 2), padding=1, groups=4)
    step, *names = reference.equations["definition"].steps
    (w,) = [e for e in step.rhs.atoms(sympy.Indexed) if e.base.label.name == "w"]
    o, c, u, v = w.indices
    shifted_tap = [Step(step.lhs, step.rhs.xreplace({w: w.base[o, c, u + 1, v]}), step.rule), *names]  # past W's end
    shifted_kernel = [Step(step.lhs, step.rhs.xreplace({w: w.base[o, c, v, u]}), step.rule), *names]  # u and v swapped
    shifted_row = [step, *(Step(s.lhs, s.rhs + 1, s.rule) if str(s.lhs) == "i'" else s for s in names)]
    for steps in (shifted_tap, shifted_kernel, shifted_row):
        verdicts = []
        for d in (reference, packed):
            bad = d.replace(equations={**d.equations, "definition": Equation("definition", tuple(steps))})
            proof = bad.prove()
            verdicts.append((proof.status, proof.failed_step))
        assert verdicts[0] == verdicts[1] and verdicts[0][0] == "refuted", verdicts


def test_keys_that_would_not_fit_in_62_bits_leave_the_layer_to_the_dicts(forced, monkeypatch):
    monkeypatch.setattr(packedpoly, "fits", lambda entries, top: False)
    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), padding=1)
    assert not isinstance(d.definitions, PackedTensor) and d.prove().ok
    assert not isinstance(Meaning(d)(d.closed_forms["W"]), PackedTensor)
    assert not isinstance(Meaning(d)(d.presentation.views[0][1]), PackedTensor)


@pytest.mark.parametrize("bias", [False, True])
def test_a_convolution_whose_every_tap_lands_in_the_padding_is_derived_and_proven(forced, bias):
    # a 1×1 input, padding 1 and stride 2: both output positions read only the padding, so Y is
    # b (or 0) and every gradient of X and W is 0
    d = symgrad.conv2d((1, 2, 1, 1), (2, 2, 1, 1), stride=2, padding=1, bias=bias)
    for name in ("X", "W"):
        assert entries(d.grads_upstream[name]) == [{}] * len(d.input_tensors[name].ids), name
    assert d.prove().ok


@pytest.mark.parametrize("scale", [2**62, -(2**62), 2**100])
def test_an_upstream_weight_past_64_bits_leaves_the_share_to_the_dicts(monkeypatch, scale):
    import symgrad.functional as F

    def net(x, w):
        y = F.conv2d(x, w, padding=1)
        return (y * y * scale).sum()  # dL/dy = 2·scale·y: one variable times an integer of 63 bits or more

    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 10**12)
    reference = symgrad.derive(net, x=(1, 1, 3, 3), w=(1, 1, 2, 2))
    monkeypatch.setattr(packedpoly, "PACKED_TERMS", 1)
    packed = symgrad.derive(net, x=(1, 1, 3, 3), w=(1, 1, 2, 2))
    for name in ("x", "w"):
        ids = packed.graph.tensors[name].ids
        assert [packed.grads.get(v, {}) for v in ids] == [reference.grads.get(v, {}) for v in ids], name
    assert packed.prove().ok


def test_an_entry_formula_that_counts_a_term_twice_or_reads_past_w_or_b_is_refuted(monkeypatch):
    from symgrad.chain.derivation import Equation, Step

    # one kernel slice and one bias: a W or b index one slice too low wraps around to the true entry
    reference, packed = both(monkeypatch, input_shape=(1, 1, 4, 4), weight_shape=(1, 1, 2, 2))
    step, *names = reference.equations["definition"].steps
    bias, total = sympy.Add.make_args(step.rhs)
    term, *limits = total.args
    (w,) = [e for e in term.atoms(sympy.Indexed) if e.base.label.name == "w"]
    o, c, u, v = w.indices

    def formula(rhs, index_names=names):
        return [Step(step.lhs, rhs, step.rule), *index_names]

    # u over 1..2k_H read as ceil(u/2): every term twice, so the formula is 2·(b + the sum) - b
    half = sympy.ceiling(u / 2)
    twice = sympy.Sum(term.xreplace({u: half}), *[(x, lo, 2 * hi) if x == u else (x, lo, hi) for x, lo, hi in limits])
    twice_names = [Step(s.lhs, s.rhs.xreplace({u: half}), s.rule) if str(s.lhs) == "i'" else s for s in names]
    mutants = {
        "every term twice": formula(sympy.Add(bias, twice, evaluate=False), twice_names),
        "w[o, c, u - k_H, v]": formula(step.rhs.xreplace({w: w.base[o, c, u - 2, v]})),
        "w[o, c, 1, k_W (u - 1) + v]": formula(step.rhs.xreplace({w: w.base[o, c, 1, 2 * (u - 1) + v]})),
        "b[o - 1]": formula(step.rhs.xreplace({bias: bias.base[o - 1]})),
        "a[o] for b[o]": formula(step.rhs.xreplace({bias: sympy.IndexedBase("a")[o]})),
        "2·w·x summed": formula(sympy.Add(bias, sympy.Sum(sympy.Mul(2, *term.args), *limits), evaluate=False)),
        "b + 1 + the sum": formula(sympy.Add(bias, 1, total, evaluate=False)),
        "b alone, no sum": formula(bias),
        "a number": formula(sympy.Integer(6)),
        "two sums": formula(sympy.Add(bias, total, total.xreplace({u: u}), evaluate=False)),
    }
    for what, steps in mutants.items():
        for d in (reference, packed):
            bad = d.replace(equations={**d.equations, "definition": Equation("definition", tuple(steps))})
            proof = bad.prove()
            assert proof.status == "refuted" and "entry formula" in proof.failed_step, (what, d.definitions)


@pytest.mark.parametrize("change", [2, -1])
def test_one_corrupted_packed_gradient_coefficient_is_refuted_at_its_entry(forced, change):
    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), padding=1)
    gw = d.grads_upstream["W"]
    assert gw.coef is None  # every coefficient 1: the corruption below makes the array
    coef = np.ones(gw.terms, np.int64)
    coef[int(gw.offsets[4]) + 1] = change  # the second term of W's entry (1, 1, 2, 2)
    bad = PackedTensor(gw.shape, gw.keys, gw.offsets, coef, gw.top, gw.first)
    bad_d = d.replace(grads_upstream={**d.grads_upstream, "W": bad}, equations={})
    assert bad_d.prove().failed_step == "the im2col view of W: differs from the element-wise result"
    # without the views, the closed form finds it at its entry, with a point
    proof = bad_d.replace(presentation=dataclasses.replace(d.presentation, views=())).prove()
    assert proof.status == "refuted" and proof.counterexample.wrt == "W"
    assert proof.counterexample.index == (1, 1, 2, 2) and " = " in proof.counterexample.note
