"""The one code generator, checked on what it writes: every emitted module (each op preset over its
grid of parameters, each network of the test grid) is imported from its file, run, and compared
with PyTorch's autograd on the test's own forward pass; a corrupted closed form in the generated
code is caught by validation; without torch, --validate says in one line what to install and
writes nothing."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

import symgrad
import symgrad.functional as SF
from symgrad.cli import main
from symgrad.gallery import NETWORKS as GALLERY_NETWORKS
from symgrad.network.units.table import UNITS
from symgrad.publish import codegen

from .conftest import require_torch
from .test_conv2d import GRID as CONV2D_GRID
from .test_conv_transpose2d import GRID as CONV_TRANSPOSE2D_GRID
from .test_hard_layers import CASES
from .test_layer_units import ROWS
from .test_layer_units import torch_namespace as unit_namespace
from .test_network import NETWORKS
from .test_network import torch_namespace as network_namespace

LOSSES = ("mean", "sum", "generic")


def load(path):
    """An emitted file, imported as the user would."""
    spec = importlib.util.spec_from_file_location(f"emitted_{path.stem.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def randn(torch, shape, gen):
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float64)


# --- op presets: the emitted backward module against autograd ---------------------------------------


def check_op(d, forward, shapes: dict, loss: str, tmp_path, seed=0):
    """Emit the op's torch code, import its backward module, feed it torch's values and compare
    each gradient with autograd's through ``forward``, written here with torch's own functions."""
    torch = require_torch()
    paths = codegen.emit(d, "torch", tmp_path)
    module = load(next(p for p in paths if "_backward_" in p.name))
    gen = torch.Generator().manual_seed(seed)
    leaves = {n: randn(torch, s, gen).requires_grad_(True) for n, s in shapes.items()}
    Y = forward(**leaves)
    if loss == "generic":
        last = randn(torch, Y.shape, gen)
        Y.backward(last)
    else:
        getattr(Y, loss)().backward()
        last = Y.detach()
    ours = module.backward(*(v.detach() for v in leaves.values()), last)
    assert len(ours) == len(leaves)
    for (name, leaf), mine in zip(leaves.items(), ours):
        assert mine.shape == leaf.grad.shape, name
        torch.testing.assert_close(mine, leaf.grad, rtol=1e-12, atol=1e-12, msg=name)


MATMUL = [(*sizes, loss) for sizes in [(2, 4, 3), (1, 1, 1), (3, 1, 5), (4, 4, 4)] for loss in LOSSES]


@pytest.mark.tools
@pytest.mark.parametrize("m, k, n, loss", MATMUL)
def test_every_emitted_matmul_module_agrees_with_autograd(m, k, n, loss, tmp_path):
    d = symgrad.matmul(m, k, n, loss, letters=("p", "q", "r"))  # the letters name the code's tensors
    check_op(d, lambda P, Q: P @ Q, {"P": (m, k), "Q": (k, n)}, loss, tmp_path)


@pytest.mark.tools
@pytest.mark.parametrize("case", range(len(CONV2D_GRID)))
def test_every_emitted_conv2d_module_agrees_with_autograd(case, tmp_path):
    torch = require_torch()
    stride, padding, dilation, groups, bias = CONV2D_GRID[case]
    loss = LOSSES[case % 3]
    x, w = (1, 4, 5, 6), (4, 4 // groups, 3, 2)
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    d = symgrad.conv2d(x, w, bias=bias, loss=loss, **params)
    shapes = {"X": x, "W": w, **({"b": (4,)} if bias else {})}

    def forward(X, W, b=None):
        return torch.nn.functional.conv2d(X, W, b, **params)

    check_op(d, forward, shapes, loss, tmp_path, seed=case)


@pytest.mark.tools
@pytest.mark.parametrize("case", range(len(CONV_TRANSPOSE2D_GRID)))
def test_every_emitted_conv_transpose2d_module_agrees_with_autograd(case, tmp_path):
    torch = require_torch()
    stride, padding, output_padding, dilation, groups, bias = CONV_TRANSPOSE2D_GRID[case]
    loss = LOSSES[case % 3]
    x, w = (1, 4, 3, 4), (4, 6 // groups, 3, 2)
    params = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups)
    d = symgrad.conv_transpose2d(x, w, bias=bias, loss=loss, **params)
    shapes = {"X": x, "W": w, **({"b": (6,)} if bias else {})}

    def forward(X, W, b=None):
        return torch.nn.functional.conv_transpose2d(X, W, b, **params)

    check_op(d, forward, shapes, loss, tmp_path, seed=case)


def test_the_grids_hold_the_output_padding_that_needs_the_crop():
    """conv_transpose2d with output_padding ≥ stride (allowed below the dilation): conv2d of dL/dY
    is one row and column too large, and the input gradient must be cut to H×W."""
    assert (1, 0, 1, 2, 1, True) in CONV_TRANSPOSE2D_GRID


# --- networks: the emitted forward_backward against autograd ------------------------------------------


def gallery_twins(torch):
    """The gallery's networks, written again with torch's functions, by name."""
    F = torch.nn.functional
    return {
        "conv_leaky_relu_mean": lambda x, w, b: F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.02),
        "linear_sigmoid_mse": lambda x, w, b, t: F.mse_loss(torch.sigmoid(F.linear(x, w, b)), t),
        "batch_norm_sigmoid_mse": lambda x, w, b, t, eps: F.mse_loss(
            torch.sigmoid(F.batch_norm(x, None, None, w, b, training=True, eps=eps.item())), t
        ),
        "linear_softmax_cross_entropy": lambda x, w, b: F.cross_entropy(F.linear(x, w, b), torch.tensor([2, 0])),
        "layer_norm_tanh_sum": lambda x, w, b: torch.tanh(F.layer_norm(x, (3,), w, b, eps=1e-5)),
        "attention_head": lambda q, k, v, t: F.mse_loss(F.scaled_dot_product_attention(q, k, v), t),
    }


def network_grid() -> dict:
    """name -> (derivation maker, torch twin maker, positive inputs)."""
    grid = {}
    for name, make in GALLERY_NETWORKS:
        grid[f"gallery {name}"] = (make, lambda torch, n=name: gallery_twins(torch)[n], False)
    for name, (build, shapes, loss) in NETWORKS.items():
        kwargs = {"loss": loss} if loss else {}
        grid[f"network {name}"] = (
            lambda b=build, s=shapes, k=kwargs: symgrad.derive(b(SF), **s, **k),
            lambda torch, b=build: b(network_namespace()[1]),
            False,
        )
    for name, (build, build_torch, shapes) in CASES.items():
        grid[f"layer {name}"] = (
            lambda b=build, s=shapes: symgrad.derive(b(SF), **s),
            lambda torch, b=build_torch: b(torch),
            False,
        )
    for name, row in ROWS.items():
        grid[f"unit {name}"] = (
            lambda r=row: symgrad.derive(r.build(SF), loss=r.loss, **r.shapes),
            lambda torch, r=row: r.build(unit_namespace()[1]),
            row.positive,
        )
    return grid


GRID = network_grid()


def parameters(fn) -> list:
    code = fn.__code__
    return list(code.co_varnames[: code.co_argcount])


@pytest.mark.tools
@pytest.mark.parametrize("name", list(GRID))
def test_every_emitted_network_module_agrees_with_autograd(name, tmp_path):
    torch = require_torch()
    make, twin, positive = GRID[name]
    d = make()
    loss = None if d.loss is None else str(d.loss)
    (path,) = codegen.emit(d, "torch", tmp_path)
    module = load(path)
    gen = torch.Generator().manual_seed(len(name))
    values = {}
    for n in d.graph.inputs:
        value = randn(torch, d.graph.tensors[n].shape, gen)
        values[n] = value.abs() + 0.5 if positive or n in d.graph.scalars else value
    loss_value, ours = module.forward_backward(**values)
    # the oracle: the same network written with torch's functions, differentiated by autograd
    fn = twin(torch)
    leaves = {n: v.clone().requires_grad_(True) for n, v in values.items()}
    out = fn(**{n: leaves[n] for n in parameters(fn)})
    if loss == "generic":
        out = (out * leaves[f"d{d.output}"]).sum()
    else:
        out = out.sum() if loss == "sum" else out.mean()
    out.backward()
    torch.testing.assert_close(loss_value, out.detach(), rtol=1e-12, atol=1e-12)
    assert set(ours) == set(d.wrt)
    for n in d.wrt:
        theirs = leaves[n].grad if leaves[n].grad is not None else torch.zeros_like(leaves[n])
        assert ours[n].shape == theirs.shape, n
        torch.testing.assert_close(ours[n], theirs, rtol=1e-9, atol=1e-11, msg=n)


def test_the_grid_covers_every_layer_and_every_gallery_network():
    layers = {node.op for make, *_ in GRID.values() for node in make().graph.nodes}
    assert layers == set(UNITS)
    assert {f"gallery {name}" for name, _ in GALLERY_NETWORKS} <= set(GRID)


# --- a corrupted closed form is caught --------------------------------------------------------------


def corrupt_every_share(monkeypatch, layer, how=lambda expr: f"({expr}) * 1.01"):
    right = layer.torch_backward
    monkeypatch.setattr(layer, "torch_backward", lambda graph, node, g: [(n, how(e)) for n, e in right(graph, node, g)])


@pytest.mark.tools
@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_corrupted_closed_form_of_each_layer_fails_validation(monkeypatch, name):
    require_torch()
    row = ROWS[name]
    d = symgrad.derive(row.build(SF), loss=row.loss, **row.shapes)
    assert codegen.validate(d).ok
    corrupt_every_share(monkeypatch, UNITS[name])
    result = codegen.validate(d)
    assert not result.ok and "MISMATCH" in str(result)


@pytest.mark.tools
@pytest.mark.parametrize(
    "make, layer, how",
    [
        # G·B where G·Bᵀ is meant: square sizes, so only the values are wrong
        (lambda: symgrad.matmul(3, 3, 3, "sum"), "matmul", lambda e: e.replace(".t())", ")", 1)),
        # the output padding that gives back H×W left out
        (
            lambda: symgrad.conv2d((1, 2, 6, 6), (2, 2, 3, 3), stride=2, padding=1),
            "conv2d",
            lambda e: e.replace("output_padding=(1, 1)", ""),
        ),
        # the input gradient not cut to H×W
        (
            lambda: symgrad.conv_transpose2d(stride=1, output_padding=1, dilation=2, padding=1),
            "conv_transpose2d",
            lambda e: e.split("[:, :,")[0],
        ),
    ],
)
def test_a_corrupted_closed_form_of_each_op_preset_fails_validation(monkeypatch, make, layer, how):
    require_torch()
    d = make()
    assert codegen.validate(d).ok
    before = codegen.backward_lines(d)
    corrupt_every_share(monkeypatch, UNITS[layer], how)
    assert codegen.backward_lines(d) != before  # the corruption reached the code
    result = codegen.validate(d)
    assert not result.ok and "MISMATCH" in str(result)


@pytest.mark.tools
@pytest.mark.slow
@pytest.mark.parametrize(
    "make",
    [lambda: symgrad.matmul(3, 3, 3), lambda: symgrad.conv2d(stride=2), lambda: symgrad.conv_transpose2d()],
)
def test_a_corrupted_emitted_module_fails_its_validation_script(make, tmp_path):
    require_torch()
    d = make()
    paths = codegen.emit(d, "torch", tmp_path)
    backward = next(p for p in paths if "_backward_" in p.name)
    script = next(p for p in paths if "_validate_" in p.name)
    assert subprocess.run([sys.executable, str(script)], capture_output=True, text=True).returncode == 0
    text = backward.read_text()
    line = next(line for line in text.splitlines() if line.strip().startswith("grad_W =") or "grad_A =" in line)
    backward.write_text(text.replace(line, line + " * 1.001"))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 1 and "MISMATCH" in run.stdout, run.stdout + run.stderr


def test_code_that_raises_is_a_failed_validation_not_a_crash(monkeypatch):
    require_torch()
    d = symgrad.matmul(2, 3, 4)
    corrupt_every_share(monkeypatch, UNITS["matmul"], lambda e: e.replace(".t()", ""))  # shapes that do not multiply
    result = codegen.validate(d)
    assert not result.ok and result.failure.startswith("RuntimeError")
    assert str(result).startswith("validation against PyTorch autograd: the generated code raised RuntimeError")


def test_the_command_line_reports_code_that_raises_as_a_mismatch(monkeypatch, capsys):
    require_torch()
    corrupt_every_share(monkeypatch, UNITS["matmul"], lambda e: e.replace(".t()", ""))
    assert main(["matmul", "-m", "2", "-k", "3", "-n", "4", "--validate", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)["validation"]
    assert data["ok"] is False and data["failure"].startswith("RuntimeError") and data["errors"] == {}


# --- the lines the documents show ------------------------------------------------------------------


def test_the_op_presets_show_their_units_lines():
    assert codegen.backward_lines(symgrad.matmul(2, 4, 3, "sum"))[1:] == [
        "grad_A = grad_C.mm(B.t())",
        "grad_B = A.t().mm(grad_C)",
    ]
    lines = codegen.backward_lines(symgrad.conv2d((1, 2, 6, 6), (2, 2, 3, 3), stride=2, padding=1))
    assert lines[1:] == [
        "grad_X = torch.nn.functional.conv_transpose2d(grad_Y, W, stride=(2, 2), padding=(1, 1), "
        "dilation=(1, 1), groups=1, output_padding=(1, 1))",
        "grad_W = torch.nn.grad.conv2d_weight(X, W.shape, grad_Y, stride=(2, 2), padding=(1, 1), "
        "dilation=(1, 1), groups=1)",
        "grad_b = grad_Y.sum((0, 2, 3))",
    ]
    assert codegen.forward_lines(symgrad.matmul(2, 4, 3), "numpy") == ["C = A @ B"]


def test_numpy_code_is_the_matrix_products_alone():
    with pytest.raises(symgrad.SymgradError, match="NumPy code for the conv_transpose2d layer is not written"):
        codegen.sources(symgrad.conv_transpose2d(), "numpy")
    with pytest.raises(symgrad.SymgradError, match="a network's code is written for torch"):
        codegen.sources(symgrad.derive(lambda x: SF.tanh(x).sum(), x=(2,)), "numpy")


# --- without torch ----------------------------------------------------------------------------------


def without_torch(*args, cwd=None):
    """The command line in a Python where torch cannot be imported."""
    script = "import sys; sys.modules['torch'] = None; from symgrad.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=cwd)


README_EXAMPLE = "conv-transpose2d --input 1x2x3x3 --weight 2x1x3x3 --stride 2 --padding 1 --output-padding 0"

MODEL = textwrap.dedent(
    """
    import symgrad.functional as F

    def net(x, w):
        return F.tanh(F.linear(x, w)).sum()
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        README_EXAMPLE.split() + ["--format", "all", "--emit-code", "torch", "--validate"],
        ["matmul", "--validate", "--format", "md"],
        ["conv2d", "--validate", "--emit-code", "torch"],
        ["derive", "model.py:net", "--shape", "x=2x3", "--shape", "w=4x3", "--validate", "--emit-code", "torch"],
    ],
)
def test_validate_without_torch_says_what_to_install_in_one_line_and_writes_nothing(args, tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    run = without_torch(*args, "--out", "out", cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("symgrad: error: validating runs the generated code against PyTorch's autograd")
    assert "pip install torch==2.13.0" in run.stderr and "pip install 'symgrad[torch]'" in run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_code_is_written_without_torch(tmp_path):
    run = without_torch(*README_EXAMPLE.split(), "--emit-code", "torch", "--out", "out", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "conv-transpose2d-1x2x3x3-2x1x3x3_backward_torch.py",
        "conv-transpose2d-1x2x3x3-2x1x3x3_validate_torch.py",
    ]


def test_the_api_refuses_to_validate_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(symgrad.SymgradError, match=r"PyTorch is not installed: pip install torch==2\.13\.0"):
        codegen.validate(symgrad.matmul(2, 2, 2))
    assert codegen.validate(symgrad.matmul(2, 2, 2), "numpy").ok  # the NumPy code needs no torch


@pytest.mark.slow
def test_numpy_code_for_a_convolution_is_refused_before_anything_is_written(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "symgrad", "conv2d", "--emit-code", "numpy", "--format", "all", "--out", "out"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 2 and "NumPy code for the conv2d layer is not written: use torch" in run.stderr
    assert not (tmp_path / "out").exists()
