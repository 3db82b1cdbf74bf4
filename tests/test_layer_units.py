"""Every layer unit, one row each: in a network it is proven, agrees with PyTorch autograd (its
gradients, its forward values and its generated code), renders its forward formula and PyTorch
line, and a corrupted closed form or lemma of the unit is refuted. Adding a layer is adding its
module, its line in the units' table and its row here."""

from __future__ import annotations

import dataclasses
import pathlib
import types
from fractions import Fraction

import pytest

import symgrad
import symgrad.functional as SF
from symgrad.network.lemmas import LEMMAS
from symgrad.network.units.table import UNITS
from symgrad.prove import network as network_proof
from symgrad.prove.network import evaluate, values_at


def torch_namespace():
    torch = pytest.importorskip("torch")
    names = ("sigmoid", "tanh", "exp", "log", "sqrt", "pow", "matmul", "sum", "mean", "reshape", "relu")
    return torch, types.SimpleNamespace(**{n: getattr(torch, n) for n in names}, TF=torch.nn.functional)


def F_of(F, name):
    """The layer ``name`` of symgrad.functional, or of torch's namespace."""
    return getattr(F.TF, name) if isinstance(F, types.SimpleNamespace) else getattr(F, name)


@dataclasses.dataclass(frozen=True)
class Row:
    build: object  # F -> the forward function, over symgrad.functional or torch's namespace
    shapes: dict
    forward_tex: str  # the layer's formula as the document writes it, by hand
    code: str  # the layer's PyTorch line, by hand
    loss: str = "mean"
    positive: bool = False  # inputs drawn positive (a logarithm or a root)


ROWS = {
    "add": Row(
        lambda F: lambda x, y: (x + y).sum(), dict(x=(2, 3), y=(3,)), r"\boldsymbol{x} + \boldsymbol{y}", "x + y"
    ),
    "sub": Row(
        lambda F: lambda x, y: (x - y).sum(), dict(x=(2, 3), y=(2, 3)), r"\boldsymbol{x} - \boldsymbol{y}", "x - y"
    ),
    "mul": Row(
        lambda F: lambda x, y: (x * y).sum(), dict(x=(2, 3), y=(2, 1)), r"\boldsymbol{x} \odot \boldsymbol{y}", "x * y"
    ),
    "div": Row(
        lambda F: lambda x, y: (x / y).sum(), dict(x=(2, 3), y=(3,)), r"\boldsymbol{x} \oslash \boldsymbol{y}", "x / y"
    ),
    "exp": Row(lambda F: lambda x: F.exp(x).sum(), dict(x=(2, 3)), r"e^{\boldsymbol{x}}", "torch.exp(x)"),
    "log": Row(
        lambda F: lambda x: F.log(x).sum(), dict(x=(2, 3)), r"\log \boldsymbol{x}", "torch.log(x)", positive=True
    ),
    "sqrt": Row(
        lambda F: lambda x: F.sqrt(x).sum(), dict(x=(2, 3)), r"\sqrt{\boldsymbol{x}}", "torch.sqrt(x)", positive=True
    ),
    "pow": Row(
        lambda F: lambda x: F.pow(x, 1.5).sum(), dict(x=(2, 3)), r"\boldsymbol{x}^{3/2}", "x ** (3 / 2)", positive=True
    ),
    "sigmoid": Row(
        lambda F: lambda x: F.sigmoid(x).sum(), dict(x=(2, 3)), r"\sigma(\boldsymbol{x})", "torch.sigmoid(x)"
    ),
    "tanh": Row(lambda F: lambda x: F.tanh(x).sum(), dict(x=(2, 3)), r"\tanh \boldsymbol{x}", "torch.tanh(x)"),
    "softplus": Row(
        lambda F: lambda x: F_of(F, "softplus")(x).sum(),
        dict(x=(2, 3)),
        r"\log(1 + e^{\boldsymbol{x}})",
        "torch.nn.functional.softplus(x)",
    ),
    "relu": Row(lambda F: lambda x: F.relu(x).sum(), dict(x=(2, 3)), r"\max(0, \boldsymbol{x})", "torch.relu(x)"),
    "leaky_relu": Row(
        lambda F: lambda x: F_of(F, "leaky_relu")(x, 0.25).sum(),
        dict(x=(2, 3)),
        r"\max(0, \boldsymbol{x}) + \tfrac{1}{4} \min(0, \boldsymbol{x})",
        "torch.nn.functional.leaky_relu(x, (1 / 4))",
    ),
    "sum": Row(
        lambda F: lambda x: (x.sum(1) * x.sum(1)).sum(),
        dict(x=(2, 3)),
        r"\textstyle\sum \boldsymbol{x}",
        "x.sum(dim=(1,), keepdim=False)",
    ),
    "mean": Row(
        lambda F: lambda x: (x.mean(0) * x.mean(0)).sum(),
        dict(x=(2, 3)),
        r"\operatorname{mean} \boldsymbol{x}",
        "x.mean(dim=(0,), keepdim=False)",
    ),
    "transpose": Row(lambda F: lambda x, y: (x.T * y).sum(), dict(x=(2, 3), y=(3, 2)), r"\boldsymbol{x}^{T}", "x.T"),
    "reshape": Row(
        lambda F: lambda x, y: (F.reshape(x, (3, 2)) * y).sum(),
        dict(x=(2, 3), y=(3, 2)),
        r"\operatorname{reshape}(\boldsymbol{x})",
        "x.reshape((3, 2))",
    ),
    "matmul": Row(
        lambda F: lambda x, w: F.matmul(x, w).sum(),
        dict(x=(2, 3), w=(3, 2)),
        r"\boldsymbol{x} \boldsymbol{w}",
        "x.mm(w)",
    ),
    "linear": Row(
        lambda F: lambda x, w, b: F_of(F, "linear")(x, w, b).sum(),
        dict(x=(2, 3), w=(4, 3), b=(4,)),
        r"\boldsymbol{x} \boldsymbol{w}^{T} + \boldsymbol{b}",
        "torch.nn.functional.linear(x, w, b)",
    ),
    "conv2d": Row(
        lambda F: lambda x, w, b: F_of(F, "conv2d")(x, w, b, stride=2, padding=1).sum(),
        dict(x=(1, 2, 4, 4), w=(2, 2, 3, 3), b=(2,)),
        r"\operatorname{\mathrm{conv2d}}(\boldsymbol{x}, \boldsymbol{w}, \boldsymbol{b})",
        "torch.nn.functional.conv2d(x, w, b, stride=(2, 2), padding=(1, 1), dilation=(1, 1), groups=1)",
    ),
    "conv_transpose2d": Row(
        lambda F: lambda x, w: F_of(F, "conv_transpose2d")(x, w, stride=2).sum(),
        dict(x=(1, 2, 2, 2), w=(2, 1, 3, 3)),
        r"\operatorname{\mathrm{conv\_transpose2d}}(\boldsymbol{x}, \boldsymbol{w})",
        "torch.nn.functional.conv_transpose2d(x, w, None, stride=(2, 2), padding=(0, 0), output_padding=(0, 0), "
        "groups=1, dilation=(1, 1))",
    ),
    "mse_loss": Row(
        lambda F: lambda x, t: F_of(F, "mse_loss")(x, t),
        dict(x=(2, 3), t=(2, 3)),
        r"\frac{1}{N} \textstyle\sum (\boldsymbol{x} - \boldsymbol{t})^{2}",
        "torch.nn.functional.mse_loss(x, t, reduction='mean')",
    ),
    # a tensor output with a generic loss: L = Σ g ⊙ y, g the upstream gradient dy
    "upstream": Row(
        lambda F: lambda x, w: x * w,
        dict(x=(2, 3), w=(2, 3)),
        r"\textstyle\sum \boldsymbol{\mathrm{dmul}} \odot \boldsymbol{\mathrm{mul}}",
        "(dmul * mul).sum()",
        loss="generic",
    ),
}


def derive(name: str):
    row = ROWS[name]
    return symgrad.derive(row.build(SF), loss=row.loss, **row.shapes)


def test_every_unit_has_a_row_and_every_row_a_unit():
    assert set(ROWS) == set(UNITS)


def test_every_layer_symgrad_functional_offers_is_a_unit_or_a_compound_layer():
    compound = {"batch_norm", "cross_entropy", "layer_norm", "log_softmax", "nll_loss", "softmax"}
    assert set(SF.__all__) == (set(UNITS) - {"upstream"}) | compound | {"scaled_dot_product_attention"}
    assert SF.sigmoid.__wrapped__ is UNITS["sigmoid"].forward  # wrapped to act on a claim's tensors too


def test_a_layer_symgrad_functional_lacks_is_refused_by_name():
    with pytest.raises(symgrad.SymgradError, match="no layer 'selu'"):
        SF.selu  # noqa: B018


@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_unit_is_proven_in_a_network(name):
    d = derive(name)
    assert any(node.op == name for node in d.graph.nodes)
    assert d.prove().status == "proven"


@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_unit_renders_its_formula_and_its_pytorch_line(name):
    row = ROWS[name]
    d = derive(name)
    text = symgrad.render(d, "md")
    assert row.forward_tex in text
    assert row.code in text


@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_corrupted_closed_form_of_each_unit_is_refuted(monkeypatch, name):
    unit = UNITS[name]
    right = unit.backward

    def doubled(graph, node, G):
        out = right(graph, node, G)
        tensor = next(iter(out))
        entries = list(out[tensor])
        first = next(i for i, p in enumerate(entries) if p)
        entries[first] = {m: 2 * c for m, c in entries[first].items()}
        return {**out, tensor: entries}

    monkeypatch.setattr(unit, "backward", doubled)
    proof = derive(name).prove()
    assert proof.status == "refuted"
    assert f"the {name} layer's closed form" in proof.counterexample.note


LEMMA_ROWS = sorted((name, lemma.name) for name, unit in UNITS.items() for lemma in unit.lemmas)


@pytest.mark.parametrize(("name", "lemma"), LEMMA_ROWS)
def test_a_corrupted_lemma_of_each_unit_is_refuted(monkeypatch, name, lemma):
    right = LEMMAS[lemma]
    # the derivative plus the atom itself: wrong for every lemma (the step's derivative is 0)
    wrong = dataclasses.replace(right, derivative=lambda a, u, h, p: right.derivative(a, u, h, p) + a)
    monkeypatch.setitem(LEMMAS, lemma, wrong)
    network_proof.prove_lemma.cache_clear()
    try:
        d = derive(name)
        assert any(atom.lemma == lemma for atom in d.graph.atoms.values())
        proof = d.prove()
    finally:
        network_proof.prove_lemma.cache_clear()
    assert proof.status == "refuted"
    assert f"lemma {lemma}" in proof.failed_step


def _inputs(torch, name: str, seed: int):
    row = ROWS[name]
    gen = torch.Generator().manual_seed(seed)
    inputs = {}
    for n, shape in row.shapes.items():
        value = torch.randn(*shape, generator=gen, dtype=torch.float64)
        inputs[n] = (value.abs() + 0.5 if row.positive else value).requires_grad_(True)
    return inputs


@pytest.mark.tools
@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_unit_agrees_with_torch_autograd_and_is_evaluated_as_torch_does(name):
    torch, TF = torch_namespace()
    row = ROWS[name]
    d = derive(name)
    for seed in (0, 1):
        inputs = _inputs(torch, name, seed)
        out = row.build(TF)(*inputs.values())
        given = {}
        for n, value in inputs.items():
            for vid, x in zip(d.tensor(n).ids, value.detach().flatten().tolist()):
                given[vid] = Fraction(x)
        if row.loss == "generic":
            upstream = torch.randn(*out.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
            out.backward(upstream)
            for vid, x in zip(d.tensor(f"d{d.output}").ids, upstream.flatten().tolist()):
                given[vid] = Fraction(x)
        else:
            out.backward()
        values = values_at(d.graph, given)
        assert values is not None
        # the network's output, evaluated numerically, is torch's forward value
        ours = [float(evaluate({(v,): 1}, values)) for v in d.tensor(d.output).ids]
        assert ours == pytest.approx(out.detach().flatten().tolist(), rel=1e-12, abs=1e-12)
        for n in row.shapes:
            grads = [float(evaluate(p, values)) for p in d.gradient(n)]
            assert grads == pytest.approx(inputs[n].grad.flatten().tolist(), rel=1e-9, abs=1e-12), n


@pytest.mark.tools
@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_unit_s_generated_pytorch_code_matches_autograd(name):
    from symgrad.publish.codegen import validate

    torch_namespace()
    result = validate(derive(name))
    assert result.ok, result.errors


def test_the_network_imports_nothing_from_the_ops():
    network = pathlib.Path(symgrad.__file__).parent / "network"
    for path in network.rglob("*.py"):
        text = path.read_text()
        assert "..ops" not in text and "symgrad.ops" not in text, path


def test_softplus_with_a_beta_other_than_1_is_refused_saying_how_to_write_it():
    with pytest.raises(symgrad.SymgradError, match=r"only beta=1 .* softplus\(beta \* x\) / beta"):
        symgrad.derive(lambda x: SF.softplus(x, beta=2).sum(), x=(2, 3))
