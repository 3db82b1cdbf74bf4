"""ConvTranspose2d, the first op built on the op protocol: element-wise gradients, the two forward
views of the series' Part 3, the duality with conv2d, closed forms, and PyTorch as the oracle."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys

import pytest
import sympy

import symgrad
from symgrad.chain.derivation import Equation, Step

from .conftest import require_torch
from .test_conv2d import numeric

GRID = [
    case
    for case in itertools.product([1, 2, 3], [0, 1, 2], [0, 1], [1, 2], [1, 2], [True, False])
    if not (case[2] >= case[0] and case[2] >= case[3])  # PyTorch refuses output_padding ≥ stride and dilation
]


@pytest.mark.tools
@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups, bias", GRID)
def test_forward_and_gradients_match_torch_autograd(stride, padding, output_padding, dilation, groups, bias):
    torch = require_torch()
    input_shape, weight_shape = (2, 4, 3, 4), (4, 6 // groups, 3, 2)  # non-square input and kernel
    d = symgrad.conv_transpose2d(
        input_shape,
        weight_shape,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        loss="generic",
    )
    gen = torch.Generator().manual_seed(hash((stride, padding, output_padding, dilation, groups, bias)) % 2**31)
    X = torch.randn(*input_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    W = torch.randn(*weight_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, generator=gen, dtype=torch.float64, requires_grad=True) if bias else None
    Y = torch.nn.functional.conv_transpose2d(
        X, W, b, stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation
    )
    assert tuple(Y.shape) == d.output.shape
    G = torch.randn(*Y.shape, generator=gen, dtype=torch.float64)
    Y.backward(G)
    inputs = (("X", X), ("W", W)) + ((("b", b),) if bias else ())
    values = {}
    for name, t in inputs:
        values.update(zip(d.input_tensors[name].ids, t.detach().flatten().tolist()))
    values.update(zip(d.upstream_symbols.ids, G.flatten().tolist()))
    forward = [numeric(p, values) for p in d.definitions.entries]
    assert max(abs(x - y) for x, y in zip(forward, Y.detach().flatten().tolist())) < 1e-12
    for name, t in inputs:
        ours = [numeric(p, values) for p in d.grads_upstream[name].entries]
        assert max(abs(x - y) for x, y in zip(ours, t.grad.flatten().tolist())) < 1e-12
    assert d.prove().ok


@pytest.fixture(scope="module")
def part3():
    """The series' Part 3 example: a 2-channel 3×3 input, 3×3 kernels, stride 2, padding 1."""
    return symgrad.conv_transpose2d((1, 2, 3, 3), (2, 1, 3, 3), stride=2, padding=1, loss="mean")


def test_the_part3_example_gives_a_5x5_output_and_proves(part3):
    assert part3.output.shape == (1, 1, 5, 5)
    proof = part3.prove()
    assert proof.ok
    n_y, n_x, n_w, n_b = 25, 18, 18, 1
    # the collection view and the duality, every output each; every element of every gradient
    assert proof.elements == 2 * n_y + n_x + n_w + n_b
    assert proof.upstream == n_y


def test_the_output_size_is_a_checked_step(part3):
    steps = part3.equations["output_size"].steps
    assert [s.rhs for s in steps] == [5, 5]
    wrong = dataclasses.replace(steps[0], rhs=sympy.Integer(6))
    bad = part3.replace(equations={**part3.equations, "output_size": Equation("output_size", (wrong, steps[1]))})
    assert not bad.prove().ok


@pytest.mark.parametrize("view", ["collection", "duality_forward"])
def test_a_wrong_forward_view_is_caught(part3, view):
    from symgrad.ops.conv2d import ConvTranspose2d

    X, W = sympy.Symbol("X"), sympy.Symbol("W")
    wrong = ConvTranspose2d(X, W, 1, 1, 1, 1, 1, 1, 1, 0, 0)  # stride 1: another 5×5 output, other entries
    step = Step(sympy.Symbol("Y"), wrong, part3.equations[view].steps[0].rule)
    bad = part3.replace(equations={**part3.equations, view: Equation(view, (step,))})
    assert not bad.prove().ok


@pytest.mark.parametrize(
    "wrt, claim",
    [
        ("X", "conv2d(G, W, stride=2, padding=1)"),
        ("W", "conv_transpose2d_weight(X, W.shape, G, stride=2, padding=1)"),
        ("W", "conv2d_weight(G, W.shape, X, stride=2, padding=1)"),  # PyTorch's spelling of the same sum
        ("b", "G.sum((0, 2, 3))"),
    ],
)
def test_true_claims_are_proven(part3, wrt, claim):
    assert symgrad.check(part3, wrt, claim).ok


@pytest.mark.parametrize(
    "wrt, claim",
    [
        ("X", "conv2d(G, W, stride=2, padding=2, dilation=2)"),  # the dilation mistaken: same size, other taps
        ("W", "conv_transpose2d_weight(X, W.shape, G, stride=2, padding=2, dilation=2)"),
        ("W", "2*conv_transpose2d_weight(X, W.shape, G, stride=2, padding=1)"),
    ],
)
def test_wrong_claims_are_refuted_with_an_element(part3, wrt, claim):
    proof = symgrad.check(part3, wrt, claim)
    assert proof.status == "refuted" and proof.counterexample.wrt == wrt


@pytest.mark.parametrize(
    "wrt, claim, message",
    [
        ("X", "conv2d(G, W, stride=2, padding=0)", "the claim for dX is 1×2×2×2, but X is 1×2×3×3"),
        ("X", "conv2d(G, W, padding=1)", "the claim for dX is 1×2×5×5, but X is 1×2×3×3"),  # the stride forgotten
        ("W", "conv_transpose2d_weight(X, W.shape, G, stride=2)", r"grad_output has shape \(1, 1, 5, 5\)"),
    ],
)
def test_a_claim_of_another_size_is_refused(part3, wrt, claim, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.check(part3, wrt, claim)


@pytest.mark.slow
def test_pytorch_s_output_padding_rule_is_ours(tmp_path):
    with pytest.raises(symgrad.SymgradError, match="output_padding must be smaller than either stride or dilation"):
        symgrad.conv_transpose2d(stride=2, output_padding=2)
    done = subprocess.run(
        [sys.executable, "-m", "symgrad", "conv-transpose2d", "--output-padding", "2"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "output_padding must be smaller" in lines[0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(input_shape=(1, 3, 3, 3), weight_shape=(2, 1, 3, 3)), "the weight has 2 input channels"),
        (dict(groups=3), "groups=3 must divide"),
        (dict(padding=5), "empty"),
        (dict(stride=0), "stride must be a positive integer"),
        (dict(stride=2.5), "stride must be a positive integer"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.conv_transpose2d(**kwargs)


@pytest.mark.slow
def test_the_command_line_writes_every_format(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "symgrad",
            "conv-transpose2d",
            "--input",
            "1x2x3x3",
            "--weight",
            "2x1x3x3",
            "--stride",
            "2",
            "--padding",
            "1",
            "--output-padding",
            "1",
            "--pick-x",
            "1,2,3,3",
            "--format",
            "all",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [*(f"conv-transpose2d-1x2x3x3-2x1x3x3{s}" for s in (".tex", ".html", ".fragment.html", ".md")), "_posts"]
    )
    page = (tmp_path / "conv-transpose2d-1x2x3x3-2x1x3x3.md").read_text()
    assert r"x_{1,2,3,3}" in page and "collection view, proven" in page


@pytest.mark.tools
def test_generated_backward_code_matches_autograd():
    require_torch()
    from symgrad.publish.codegen import validate

    for kwargs in (
        dict(),
        dict(
            stride=2,
            padding=1,
            output_padding=1,
            groups=2,
            input_shape=(2, 4, 3, 2),
            weight_shape=(4, 3, 2, 3),
            loss="sum",
        ),
    ):
        result = validate(symgrad.conv_transpose2d(**kwargs))
        assert result.ok and set(result.errors) == {"X", "W", "b"}


@pytest.mark.tools
@pytest.mark.slow
def test_the_command_line_emits_and_validates_torch_code(tmp_path):
    require_torch()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "symgrad",
            "conv-transpose2d",
            "--stride",
            "2",
            "--padding",
            "1",
            "--output-padding",
            "1",
            "--emit-code",
            "torch",
            "--validate",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "validated against PyTorch" in done.stdout and "match" in done.stdout
    (script,) = tmp_path.glob("*_validate_torch.py")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and "match" in run.stdout


def test_a_wrong_collection_view_is_named_in_the_failure(part3):
    import dataclasses

    from symgrad.ops.conv2d import ConvTranspose2d

    wrong = ConvTranspose2d(sympy.Symbol("X"), sympy.Symbol("W"), 1, 1, 1, 1, 1, 1, 1, 0, 0)
    views = ((part3.presentation.views[0][0], wrong), part3.presentation.views[1])
    bad = part3.replace(
        presentation=dataclasses.replace(part3.presentation, views=views),
        equations={k: v for k, v in part3.equations.items() if k != "collection"},
    )
    assert "conv2d input-gradient view of Y" in bad.prove().failed_step
