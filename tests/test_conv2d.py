"""Conv2d: element-wise gradients, closed forms, the im2col view, PyTorch as the oracle."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest
import sympy

import symgrad
import symgrad.functional as F
from symgrad.ops.im2col import Im2colWeightGrad

from .conftest import require_torch


def numeric(p, values):
    """A polynomial evaluated in floating point, for comparison with PyTorch only."""
    total = 0.0
    for mono, c in p.items():
        term = float(c)
        for v in mono:
            term *= values[v]
        total += term
    return total


GRID = list(itertools.product([1, 2, 3], [0, 1, 2], [1, 2], [1, 2], [True, False]))


@pytest.mark.tools
@pytest.mark.parametrize("stride, padding, dilation, groups, bias", GRID)
def test_gradients_match_torch_autograd(stride, padding, dilation, groups, bias):
    torch = require_torch()
    F = torch.nn.functional
    input_shape, weight_shape = (2, 4, 7, 8), (4, 4 // groups, 3, 2)  # non-square input and kernel
    d = symgrad.conv2d(
        input_shape,
        weight_shape,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        loss="generic",
    )
    gen = torch.Generator().manual_seed(hash((stride, padding, dilation, groups, bias)) % 2**31)
    X = torch.randn(*input_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    W = torch.randn(*weight_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(weight_shape[0], generator=gen, dtype=torch.float64, requires_grad=True) if bias else None
    Y = F.conv2d(X, W, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    assert tuple(Y.shape) == d.output.shape
    G = torch.randn(*Y.shape, generator=gen, dtype=torch.float64)
    Y.backward(G)
    values = {}
    for name, t in (("X", X), ("W", W)) + ((("b", b),) if bias else ()):
        values.update(zip(d.input_tensors[name].ids, t.detach().flatten().tolist()))
    values.update(zip(d.upstream_symbols.ids, G.flatten().tolist()))
    for name, t in (("X", X), ("W", W)) + ((("b", b),) if bias else ()):
        ours = [numeric(p, values) for p in d.grads_values[name].entries]
        theirs = t.grad.flatten().tolist()
        assert max(abs(x - y) for x, y in zip(ours, theirs)) < 1e-10, name


@pytest.mark.tools
@pytest.mark.parametrize("loss", ["mean", "sum"])
def test_mean_and_sum_match_torch(loss):
    torch = require_torch()
    d = symgrad.conv2d((1, 2, 5, 6), (3, 2, 2, 3), stride=2, padding=1, loss=loss)
    X = torch.randn(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    W = torch.randn(3, 2, 2, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    Y = torch.nn.functional.conv2d(X, W, b, stride=2, padding=1)
    (Y.mean() if loss == "mean" else Y.sum()).backward()
    values = {}
    for name, t in (("X", X), ("W", W), ("b", b)):
        values.update(zip(d.input_tensors[name].ids, t.detach().flatten().tolist()))
    for name, t in (("X", X), ("W", W), ("b", b)):
        ours = [numeric(p, values) for p in d.grads_values[name].entries]
        assert max(abs(x - y) for x, y in zip(ours, t.grad.flatten().tolist())) < 1e-12


@pytest.fixture(scope="module")
def strided():
    return symgrad.conv2d((2, 1, 5, 5), (1, 1, 3, 3), stride=2, padding=1, loss="sum")


def test_the_proof_holds_and_counts_every_element(strided):
    proof = strided.prove()
    assert proof.ok
    # three closed forms with G symbolic, and the im2col views of Y, W and X
    n_x, n_w, n_b, n_y = 2 * 25, 9, 1, 2 * 9
    assert proof.elements == (n_x + n_w + n_b) + (n_y + n_w + n_x)
    assert proof.upstream == n_y  # every dL/dy against the sum loss, not only the first


def test_true_claims(strided):
    # PyTorch's own words for the three gradients: conv_transpose2d, torch.nn.grad's, and a sum
    assert symgrad.check(strided, "X", "conv_transpose2d(G, W, stride=2, padding=1)").ok
    assert symgrad.check(strided, "X", "conv2d_input(X.shape, W, G, stride=2, padding=1)").ok
    assert symgrad.check(strided, "W", "conv2d_weight(X, W.shape, G, stride=2, padding=1)").ok
    assert symgrad.check(strided, "b", "G.sum((0, 2, 3))").ok
    assert symgrad.check(strided, "b", lambda T: T["G"].sum((0, 2, 3))).ok
    weight = lambda T: F.conv2d_weight(T["X"], T["W"].shape, T["G"], stride=2, padding=1)  # noqa: E731
    assert symgrad.check(strided, "W", weight).ok


def test_conv_transpose_without_the_stride_is_refuted(strided):
    # a dilation of 2 makes the shape fit without the stride, so the refutation is an element, not a shape
    proof = symgrad.check(strided, "X", "conv_transpose2d(G, W, padding=1, dilation=2)")
    assert not proof.ok and proof.counterexample.index == (1, 1, 1, 1)
    assert str(proof.counterexample.element) == "x_{1,1,1,1}"
    # dL/dx_1111 = g_1111·w_1122 by hand (x_1111 meets the kernel's centre at the first output only)
    g, w = sympy.Symbol(r"\frac{\partial L}{\partial y_{1,1,1,1}}"), sympy.Symbol("w_{1,1,2,2}")
    assert proof.counterexample.derived == g * w and proof.counterexample.claimed != g * w


def test_weight_gradient_averaged_over_the_batch_is_refuted(strided):
    proof = symgrad.check(strided, "W", "conv2d_weight(X, W.shape, G, stride=2, padding=1) / 2")
    assert not proof.ok
    ce = proof.counterexample
    assert "x_{2,1," in str(ce.derived) and sympy.expand(ce.derived - 2 * ce.claimed) == 0


def test_wrong_bias_gradient_and_shape_errors(strided):
    assert not symgrad.check(strided, "b", "2*G.sum((0, 2, 3))").ok
    assert not symgrad.check(strided, "b", "G.sum((0, 2, 3)) / 18").ok  # a mean, not the sum
    with pytest.raises(symgrad.SymgradError, match="claim for dX is 2×1×3×3, but X is 2×1×5×5"):
        symgrad.check(strided, "X", "conv_transpose2d(G, W, padding=1)")
    with pytest.raises(symgrad.SymgradError, match=r"claim: open\(\.\.\.\) cannot be called"):
        symgrad.check(strided, "X", "open('x')")


def test_a_wrong_im2col_view_is_rejected(strided):
    import dataclasses

    import sympy

    views = [(w, v) for w, v in strided.presentation.views if w != "W"]
    wrong = Im2colWeightGrad(sympy.Symbol("X"), sympy.Symbol("G"), 1, 1, 1, 1, 1, 1, 1, 3, 3)  # stride 1, not 2
    bad = strided.replace(
        presentation=dataclasses.replace(strided.presentation, views=(*views, ("W", wrong))),
        equations={k: v for k, v in strided.equations.items() if k != "im2col_W"},
    )
    assert "im2col view of W" in bad.prove().failed_step


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(input_shape=(1, 1, 3, 3), weight_shape=(1, 1, 5, 5)), "kernel spans 5 along H"),
        (dict(input_shape=(1, 1, 4, 4), weight_shape=(1, 1, 3, 3), dilation=2), "kernel spans 5 along H"),
        (dict(input_shape=(1, 3, 5, 5), weight_shape=(2, 1, 3, 3), groups=2), "groups=2 must divide"),
        (dict(input_shape=(1, 4, 5, 5), weight_shape=(2, 4, 3, 3), groups=2), "the weight has 4 input channels"),
        (dict(stride=0), "stride must be a positive integer"),
        (dict(dilation=(1, 0)), "dilation must be a positive integer"),
        (dict(padding=-1), "padding must be a non-negative integer"),
        (dict(groups=0), "groups must be a positive integer"),
        (dict(input_shape=(1, 2, 5)), "input_shape must be four positive integers"),
        (dict(loss="max"), "unknown loss"),
        (dict(pick_x=(1, 1, 9, 9)), "pick 1,1,9,9 is outside X"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.conv2d(**kwargs)


def run(*args):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--weight", "2x2x9x9"], "kernel spans 9 along H"),
        (["--groups", "3"], "groups=3 must divide"),
        (["--stride", "0"], "stride must be a positive integer"),
        (["--padding", "-1"], "expected an integer or a pair"),
        (["--input", "1x2x5"], "a shape is four positive integers"),
    ],
)
@pytest.mark.slow
def test_cli_errors(args, message):
    result = run("conv2d", *args)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.slow
def test_cli_summary_and_json():
    result = run("conv2d", "--input", "1x2x5x5", "--weight", "2x2x3x3", "--stride", "2", "--padding", "1")
    assert result.returncode == 0 and "proof holds" in result.stdout
    data = json.loads(run("conv2d", "--input", "1x1x3x3", "--weight", "1x1x2x2", "--json").stdout)
    assert data["op"] == "conv2d" and data["proof"]["ok"]
    assert len(data["grad"]["X"][0][0]) == 3 and len(data["grad"]["W"][0][0][0]) == 2


@pytest.mark.tools
@pytest.mark.slow
def test_cli_validate_and_emitted_code(tmp_path):
    require_torch()
    result = run("conv2d", "--stride", "2", "--padding", "1", "--loss", "mean", "--validate")
    assert result.returncode == 0 and "validated against PyTorch" in result.stdout and ": match" in result.stdout
    emitted = run(
        "conv2d",
        "--weight",
        "2x1x3x3",
        "--groups",
        "2",
        "--dilation",
        "2",
        "--padding",
        "2",
        "--emit-code",
        "torch",
        "--out",
        str(tmp_path),
    )
    assert emitted.returncode == 0
    script = next(tmp_path.glob("*_validate_torch.py"))
    check = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert check.returncode == 0 and "match" in check.stdout


@pytest.mark.slow
def test_numpy_code_is_refused_clearly():
    result = run("conv2d", "--emit-code", "numpy")
    assert result.returncode == 2 and "NumPy code for the conv2d layer is not written: use torch" in result.stderr


def test_documents():
    d = symgrad.conv2d((1, 3, 16, 32), (2, 3, 4, 5), stride=2, padding=1, loss="mean")
    page = symgrad.render(d, "md")
    for text in (
        "The im2col view",
        r"\operatorname{\mathrm{conv\_transpose2d}}",
        r"\operatorname{\mathrm{conv2d\_weight}}",
        r"\left\lfloor{\frac{16 + 2 - 3 - 1}{2}}\right\rfloor + 1 &= 8",
        r"\left\lfloor{\frac{32 + 2 - 4 - 1}{2}}\right\rfloor + 1 &= 15",
        r"\cdots",
        r"\vdots",
        "Proof certificate",
        "conv_transpose2d(grad_Y, W",
    ):
        assert text in page, text
    assert r"{\color{red}{x_{1,1,2,2}}}" in page
    for fmt in ("tex", "html", "jekyll"):
        assert "Convolution and its gradients" in symgrad.render(d, fmt)
    assert "alert alert-secondary equation" in symgrad.render(d, "fragment")


def test_public_views_are_arrays_indexed_like_torch():
    import sympy

    d = symgrad.conv2d((2, 3, 4, 5), (4, 3, 2, 2), stride=1, padding=0)
    assert isinstance(d.inputs["X"], sympy.NDimArray) and d.inputs["X"].shape == (2, 3, 4, 5)
    assert str(d.inputs["X"][1, 2, 3, 4]) == "x_{2,3,4,5}"
    assert d.inputs["W"].shape == (4, 3, 2, 2) and d.inputs["b"].shape == (4,)
    assert d.outputs["Y"].shape == d.upstream.shape == (2, 4, 3, 4)
    assert d.grad["X"].shape == (2, 3, 4, 5) and d.grad["b"].shape == (4,)
    # y_{1,1,1,1} = b_1 + Σ w x over the 3 channels and the 2×2 taps of the first window
    y = d.outputs["Y"][0, 0, 0, 0]
    assert len(y.args) == 3 * 2 * 2 + 1 and sympy.Symbol("b_{1}") in y.args


def test_the_displayed_entry_formula_is_checked_against_every_entry():
    """The definition a reader sees is 1-based, carries the group offset, and is checked."""

    import sympy

    from symgrad.chain.derivation import Equation, Step

    d = symgrad.conv2d((2, 4, 5, 6), (4, 1, 3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=4)
    assert d.prove().ok
    text = symgrad.render(d, "md")
    assert r"\left(i - 1\right) s_H + \left(u - 1\right) d_H - p + 1" in text
    assert r"\left\lfloor{\frac{o - 1}{O_g}}\right\rfloor C_g + c" in text
    step, *names = d.equations["definition"].steps
    assert [str(s.lhs) for s in names] == ["c'", "i'", "j'"]
    n, o, i, j = step.lhs.indices
    c, u, v = sympy.symbols("c u v", integer=True)
    x, w = sympy.IndexedBase("x"), sympy.IndexedBase("w")
    s_H, s_W, p, d_H, d_W = sympy.symbols("s_H s_W p d_H d_W")
    kH, kW, Cg = sympy.symbols("k_H k_W C_g")
    # the formula the document used to show: taps from 0, no group offset
    old = sympy.Sum(
        w[o, c, u, v] * x[n, c, i * s_H - p + u * d_H, j * s_W - p + v * d_W],
        (v, 0, kW - 1),
        (u, 0, kH - 1),
        (c, 1, Cg),
    )
    old = sympy.Add(sympy.IndexedBase("b")[o], old, evaluate=False)
    bad = d.replace(equations={**d.equations, "definition": Equation("definition", (Step(step.lhs, old, step.rule),))})
    proof = bad.prove()
    assert not proof.ok and "the formula reads w outside W" in proof.failed_step  # w[o, c, 0, 0] does not exist


def test_a_wrong_index_name_under_the_entry_formula_is_caught():
    """c', i' and j' are part of the checked formula: one of them off by one fails the proof."""

    import sympy

    from symgrad.chain.derivation import Equation, Step

    d = symgrad.conv2d((1, 2, 5, 5), (2, 2, 3, 3), stride=2, padding=1)
    first, *names = d.equations["definition"].steps
    shifted = [Step(s.lhs, sympy.Add(s.rhs, 1, evaluate=False), s.rule) if str(s.lhs) == "i'" else s for s in names]
    bad = d.replace(equations={**d.equations, "definition": Equation("definition", (first, *shifted))})
    proof = bad.prove()
    assert proof.status == "refuted" and "does not give the entry" in proof.failed_step
