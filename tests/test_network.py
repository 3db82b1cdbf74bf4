"""Networks written as forward functions: derived element by element, proven layer by layer,
checked against PyTorch autograd in float64, and refuted where a closed form, a lemma or a claim
is wrong."""

from __future__ import annotations

import json
import types
from fractions import Fraction

import pytest

import symgrad
import symgrad.functional as SF
from symgrad.network import derivation as trace
from symgrad.network.lemmas import LEMMAS, Lemma
from symgrad.network.units import table as closed_forms
from symgrad.prove.network import check_lemma, compose, evaluate, values_at


def torch_namespace():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    return torch, types.SimpleNamespace(
        linear=F.linear,
        conv2d=F.conv2d,
        conv_transpose2d=F.conv_transpose2d,
        mse_loss=F.mse_loss,
        relu=F.relu,
        leaky_relu=F.leaky_relu,
        sigmoid=torch.sigmoid,
        tanh=torch.tanh,
        exp=torch.exp,
        log=torch.log,
        sqrt=torch.sqrt,
        pow=torch.pow,
        matmul=torch.matmul,
        sum=torch.sum,
        mean=torch.mean,
    )


# Each network is written once, over a namespace F: symgrad.functional or its torch counterpart.
NETWORKS = {
    "linear-sigmoid-mse": (
        lambda F: lambda x, w, b, t: F.mse_loss(F.sigmoid(F.linear(x, w, b)), t),
        dict(x=(3, 4), w=(2, 4), b=(2,), t=(3, 2)),
        None,
    ),
    "linear-sigmoid-mse-sum": (
        lambda F: lambda x, w, b, t: F.mse_loss(F.sigmoid(F.linear(x, w, b)), t, reduction="sum"),
        dict(x=(2, 3), w=(3, 3), b=(3,), t=(2, 3)),
        None,
    ),
    "linear-tanh, sum loss": (
        lambda F: lambda x, w: F.tanh(F.linear(x, w)),
        dict(x=(3, 2), w=(4, 2)),
        "sum",
    ),
    "part2 small": (
        lambda F: lambda x, w, b: F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.02),
        dict(x=(2, 3, 6, 7), w=(2, 3, 3, 3), b=(2,)),
        "mean",
    ),
    "elementwise atoms": (
        lambda F: (
            lambda x, y: (
                F.log(F.exp(x) + y * y) / F.sqrt(x * x + 1) + F.pow(x, 3) - F.pow(y * y + 2, -2) + F.pow(x * x + 1, 0.5)
            ).sum()
        ),
        dict(x=(2, 3), y=(3,)),
        None,
    ),
    "relu, matmul, keepdim, broadcast": (
        lambda F: lambda x, w, b: F.relu(F.matmul(x, w.T) + b).mean(dim=1, keepdim=True).sum() * 3,
        dict(x=(3, 4), w=(5, 4), b=(5,)),
        None,
    ),
    "conv_transpose2d-sigmoid": (
        lambda F: lambda x, w: F.sigmoid(F.conv_transpose2d(x, w, stride=2, padding=1)),
        dict(x=(1, 2, 3, 3), w=(2, 2, 3, 3)),
        "mean",
    ),
    "generic upstream": (
        lambda F: lambda x, w: F.tanh(F.linear(x, w)) * 2 - x.sum(),
        dict(x=(2, 3), w=(2, 3)),
        "generic",
    ),
}


def _derive(name):
    build, shapes, loss = NETWORKS[name]
    kwargs = {"loss": loss} if loss else {}
    return symgrad.derive(build(SF), **shapes, **kwargs)


def agree_with_autograd(d, build, shapes, loss, seed=0):
    """Our gradients, evaluated at torch's random float64 inputs, against autograd's."""
    torch, TF = torch_namespace()
    gen = torch.Generator().manual_seed(seed)
    inputs = {n: torch.randn(*s, generator=gen, dtype=torch.float64, requires_grad=True) for n, s in shapes.items()}
    out = build(TF)(*inputs.values())
    given = {}
    for name, value in inputs.items():
        for vid, v in zip(d.tensor(name).ids, value.detach().flatten().tolist()):
            given[vid] = Fraction(v)
    if loss == "generic":
        upstream = torch.randn(*out.shape, generator=gen, dtype=torch.float64)
        out.backward(upstream)
        for vid, v in zip(d.tensor(f"d{d.output}").ids, upstream.flatten().tolist()):
            given[vid] = Fraction(v)
    else:
        (out.mean() if loss == "mean" else out.sum() if loss == "sum" else out).backward()
    values = values_at(d.graph, given)
    assert values is not None
    for name in shapes:
        ours = [float(evaluate(p, values)) for p in d.gradient(name)]
        theirs = inputs[name].grad.flatten().tolist()
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12), name


@pytest.mark.tools
@pytest.mark.parametrize("name", list(NETWORKS))
def test_every_network_agrees_with_torch_autograd_in_float64(name):
    build, shapes, loss = NETWORKS[name]
    d = _derive(name)
    assert d.prove().ok
    for seed in (0, 1):
        agree_with_autograd(d, build, shapes, loss, seed)


@pytest.mark.tools
@pytest.mark.slow
def test_the_series_part2_network_at_its_companion_shapes():
    """Conv2d(3→2, 4×5 kernel, stride 2, padding 1) → LeakyReLU(0.02) → mean on a 9×3×16×32 input."""
    build = NETWORKS["part2 small"][0]
    shapes = dict(x=(9, 3, 16, 32), w=(2, 3, 4, 5), b=(2,))
    d = symgrad.derive(build(SF), **shapes, loss="mean")
    assert d.prove().ok
    agree_with_autograd(d, build, shapes, "mean")


def test_the_issue_example_runs_as_written():
    def net(x, w, b, t):
        z = SF.leaky_relu(SF.conv2d(x, w, b, stride=2, padding=1), 0.02, name="z")
        return SF.mse_loss(z, t)

    d = symgrad.derive(net, x=(2, 3, 6, 7), w=(2, 3, 3, 3), b=(2,), t=(2, 2, 3, 4), wrt=("x", "w", "b"))
    assert set(d.grad) == {"x", "w", "b"} and d.grad["w"].shape == (2, 3, 3, 3)
    proof = d.prove()
    assert proof.ok and proof.elements > 0
    assert symgrad.check(d, "z", "2*(z - t)/48").ok


def test_claims_about_inputs_and_intermediates_as_strings_and_functions():
    def net(x, w, b, t):
        return SF.mse_loss(SF.sigmoid(SF.linear(x, w, b, name="z"), name="s"), t)

    d = symgrad.derive(net, x=(3, 4), w=(2, 4), b=(2,), t=(3, 2))
    assert symgrad.check(d, "z", "ds * s * (1 - s)").ok
    assert symgrad.check(d, "x", "dz @ w").ok
    assert symgrad.check(d, "w", "dz.T @ x").ok
    assert symgrad.check(d, "b", "dz.sum(0)").ok
    assert symgrad.check(d, "s", lambda t: 2 * (t["s"] - t["t"]) / 6).ok
    assert symgrad.check(d, "b", lambda t: t["dz"].sum(dim=0)).ok
    for wrong in ("ds * s * (1 + s)", "2 * dz @ w", "dz.T @ x + 1"):
        target = "z" if "ds" in wrong else "x" if "@ w" in wrong else "w"
        proof = symgrad.check(d, target, wrong)
        assert proof.status == "refuted", wrong
        assert "the chain rule gives" in str(proof.counterexample) and " = " in proof.counterexample.note


def test_the_composition_of_the_closed_forms_is_the_element_wise_gradient():
    for name in NETWORKS:
        d = _derive(name)
        composed = compose(d)
        for tensor in d.graph.tensors.values():
            for vid in tensor.ids:
                assert composed.get(vid, {}) == d.grads.get(vid, {}), (name, tensor.name)


PERTURBED = {  # a layer of NETWORKS' networks, and a wrong closed form for it
    "sigmoid": "linear-sigmoid-mse",
    "linear": "linear-sigmoid-mse",
    "mse_loss": "linear-sigmoid-mse",
    "tanh": "linear-tanh, sum loss",
    "sum": "linear-tanh, sum loss",
    "upstream": "generic upstream",
    "leaky_relu": "part2 small",
    "conv2d": "part2 small",
    "relu": "relu, matmul, keepdim, broadcast",
    "matmul": "relu, matmul, keepdim, broadcast",
    "add": "relu, matmul, keepdim, broadcast",
    "mean": "relu, matmul, keepdim, broadcast",
    "transpose": "relu, matmul, keepdim, broadcast",
    "conv_transpose2d": "conv_transpose2d-sigmoid",
    "exp": "elementwise atoms",
    "log": "elementwise atoms",
    "sqrt": "elementwise atoms",
    "pow": "elementwise atoms",
    "div": "elementwise atoms",
    "mul": "elementwise atoms",
}


@pytest.mark.parametrize("op", list(PERTURBED))
def test_every_closed_form_is_refuted_when_perturbed(monkeypatch, op):
    """One entry of one layer's closed form doubled, or a term added: the proof must refute it."""
    original = closed_forms.backward

    def wrong(graph, node, G):
        out = original(graph, node, G)
        if node.op == op:
            name = next(iter(out))
            entries = list(out[name])
            first = next(i for i, p in enumerate(entries) if p)
            entries[first] = {**{m: 2 * c for m, c in entries[first].items()}}
            out = {**out, name: entries}
        return out

    monkeypatch.setattr(trace, "backward", wrong)
    d = _derive(PERTURBED[op])
    assert any(node.op == op for node in d.graph.nodes)
    proof = d.prove()
    assert proof.status == "refuted", op
    assert f"the {op} layer's closed form" in proof.counterexample.note


def test_a_wrong_derivative_rule_is_refuted_by_the_lemma_check():
    right = LEMMAS["sigmoid"]
    assert check_lemma(right) == "proven"
    wrong = Lemma("sigmoid", right.function, lambda a, u, h, p: a * (1 + a), right.statement)
    assert check_lemma(wrong).startswith("refuted")
    for name, lemma in LEMMAS.items():
        assert check_lemma(lemma) == "proven", name
    off = Lemma("tanh", LEMMAS["tanh"].function, lambda a, u, h, p: 1 + a**2, "")
    assert check_lemma(off).startswith("refuted")


def test_a_network_that_uses_a_wrong_lemma_is_not_proven(monkeypatch):
    wrong = Lemma("sigmoid", LEMMAS["sigmoid"].function, lambda a, u, h, p: a * (1 + a), "")
    monkeypatch.setitem(LEMMAS, "sigmoid", wrong)
    from symgrad.prove import network

    network.prove_lemma.cache_clear()
    try:
        proof = _derive("linear-sigmoid-mse").prove()
        assert proof.status == "refuted" and "lemma sigmoid" in proof.failed_step
    finally:
        network.prove_lemma.cache_clear()


def test_a_relation_between_atoms_never_leads_to_a_wrong_refutation():
    """exp(a + b) and exp(a)·exp(b) differ as canonical forms and agree as functions: the claim
    is undecided (or proven), never refuted."""

    def net(a, b):
        e = SF.exp(a + b, name="e")
        ea, eb = SF.exp(a, name="ea"), SF.exp(b, name="eb")
        return (e + (ea - ea) * eb).sum()

    d = symgrad.derive(net, a=(2,), b=(2,))
    assert symgrad.check(d, "a", "e").ok
    verdict = symgrad.check(d, "a", "ea * eb")
    assert verdict.status in ("undecided", "proven")
    assert verdict.status != "refuted" and not verdict.ok
    assert symgrad.check(d, "a", "ea * eb * 2").status == "refuted"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: symgrad.derive(lambda x: SF.gelu(x), x=(2,)), "no layer 'gelu'"),
        (lambda: symgrad.derive(lambda x: SF.softmax(x), x=(2,)), "missing 1 required positional argument: 'dim'"),
        (lambda: symgrad.derive(lambda x: x.softmax(0), x=(2,)), ".softmax"),
        (lambda: symgrad.derive(lambda x, w: SF.linear(x, w), x=(2, 3), w=(4, 2)), "do not fit"),
        (lambda: symgrad.derive(lambda x, t: SF.mse_loss(x, t), x=(2, 3), t=(3, 2)), "differ in shape"),
        (lambda: symgrad.derive(lambda x: x.sum(), x=(2,), wrt=("y",)), "not an input"),
        (lambda: symgrad.derive(lambda x: x.sum(), x=(0, 2)), "size below 1"),
        (lambda: symgrad.derive(lambda x: x.sum(), x=(2.0,)), "tuple of integers"),
        (lambda: symgrad.derive(lambda x, y: x.sum(), x=(2,)), "missing: y"),
        (lambda: symgrad.derive(lambda x: x * 2, x=(2,), loss="median"), "loss"),
        (lambda: symgrad.derive(lambda x: 3, x=(2,)), "must return a tensor"),
        (lambda: symgrad.derive(lambda x: x + x[0], x=(2,)), "does not support"),
        (lambda: symgrad.derive(lambda x: SF.mse_loss(x, x, reduction="max"), x=(2,)), "reduction"),
        (lambda: symgrad.derive(lambda x: (x / 0).sum(), x=(2,)), "zero"),
        (lambda: symgrad.derive(lambda x: x.sum(dim=3), x=(2,)), "out of range"),
        (lambda: symgrad.derive(lambda x: SF.linear(x, x, name="x"), x=(2, 2)), "named 'x'"),
    ],
)
def test_bad_networks_get_one_clear_error(call, message):
    with pytest.raises(symgrad.SymgradError, match=message.replace(".", r"\.").replace("(", r"\(")):
        call()


def test_bad_claims_get_one_clear_error():
    d = _derive("linear-sigmoid-mse")
    for claim, message in (
        ("dx @ q", "unknown name"),
        ("x.softmax()", "allowed"),
        ("dz @ w * 0.5", "whole numbers"),
        ("__import__('os')", "unknown name|allowed"),
        ("dz", "the claim for dx is 3×2, but x is 3×4"),
    ):
        with pytest.raises(symgrad.SymgradError, match=message):
            symgrad.check(d, "x", claim)
    with pytest.raises(symgrad.SymgradError, match="no tensor named"):
        symgrad.check(d, "nope", "dz")


def test_the_size_budget_refuses_a_network_too_large():
    with pytest.raises(symgrad.SymgradError, match="too large"):
        symgrad.derive(lambda x, w: SF.linear(x, w), x=(50, 200), w=(200, 200), max_terms=100_000)


def test_a_corrupted_line_of_the_document_is_caught():
    """The lines a network's document marks as checked are checked: a local partial altered, a
    path left out of a chain-rule sum, or a wrong total each refute the proof."""
    import dataclasses

    import sympy

    from symgrad.chain.derivation import Equation

    def corrupt(d, key, k, change):
        steps = list(d.equations[key].steps)
        steps[k] = change(steps[k])
        return d.replace(_equations={**d.equations, key: Equation(key, tuple(steps))}).prove()

    d = _derive("linear-sigmoid-mse")
    assert d.prove().ok
    local = next(k for k in d.equations if k.startswith("local_"))
    proof = corrupt(d, local, 0, lambda s: dataclasses.replace(s, rhs=s.rhs + 1))
    assert proof.status == "refuted" and local in proof.failed_step
    d = _derive("linear-sigmoid-mse")
    chain = next(
        k for k in d.equations if k.startswith("chain_") and len(sympy.Add.make_args(d.equations[k].steps[0].rhs)) > 1
    )
    proof = corrupt(d, chain, 0, lambda s: dataclasses.replace(s, rhs=sympy.Add.make_args(s.rhs)[0]))
    assert proof.status == "refuted" and "lists" in proof.failed_step
    d = _derive("linear-sigmoid-mse")
    proof = corrupt(d, chain, 2, lambda s: dataclasses.replace(s, rhs=2 * s.rhs))
    assert proof.status == "refuted" and "sum to the displayed result" in proof.failed_step


def test_a_network_document_in_every_format_with_its_graph_and_lemmas():
    import xml.etree.ElementTree as ET

    from symgrad.gallery import GALLERY

    d = dict(GALLERY)["linear_sigmoid_mse"]()
    texts = {fmt: symgrad.render(d, fmt) for fmt in ("tex", "html", "fragment", "jekyll", "md")}
    svg = texts["html"][texts["html"].index("<svg") : texts["html"].index("</svg>") + 6]
    root = ET.fromstring(svg)  # the figure is well-formed SVG
    assert root.tag.endswith("svg") and len(root.findall("{http://www.w3.org/2000/svg}rect")) == len(d.tensors)
    assert "#c62828" in svg  # the way from x to the loss, in red
    assert r"\begin{tikzpicture}" in texts["tex"] and "<svg" in texts["md"]
    for text in texts.values():
        assert "sigma" in text and "closed form" in text
    assert r"\frac{d}{du} \sigma(u) = \sigma(u)" in texts["md"]
    assert "g_x = g_x + (g_z @ w).sum_to_size(x.shape)" in texts["md"]


@pytest.mark.tools
@pytest.mark.parametrize("name", list(NETWORKS))
def test_the_generated_backward_code_matches_autograd(name):
    from symgrad.publish.codegen import validate

    torch_namespace()
    d = _derive(name)
    result = validate(d)
    assert result.ok, result.errors
    assert set(result.errors) == set(d.wrt)


MODEL = """
import symgrad.functional as F


def net(x, w, b, t):
    z = F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.02, name="z")
    return F.mse_loss(z, t)


def broken(x):
    return x.softmax(0)
"""


def _cli(*args, cwd):
    from .test_cli import run

    return run(*args, cwd=cwd)


def test_the_command_line_derives_a_network_from_a_file(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    shapes = ["--shape", "x=2x3x6x7", "--shape", "w=2x3x3x3", "--shape", "b=2", "--shape", "t=2x2x3x4"]
    done = _cli(
        "derive",
        "model.py:net",
        *shapes,
        "--wrt",
        "x,w,b",
        "--format",
        "md,html",
        "--out",
        "out",
        "--pick",
        "x=1,2,3,4",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["network-net.html", "network-net.md"]
    assert "x_{1,2,3,4}" in (tmp_path / "out" / "network-net.md").read_text()
    done = _cli("derive", "model.py:net", *shapes, "--json", cwd=tmp_path)
    data = json.loads(done.stdout)
    assert data["proof"]["status"] == "proven" and data["layers"] == ["conv2d", "leaky_relu", "mse_loss"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["model.py:nope", "--shape", "x=2"], "has no function 'nope'"),
        (["missing.py:net", "--shape", "x=2"], "no Python file"),
        (["model.py:broken", "--shape", "x=2"], ".softmax"),
        (["model.py:broken", "--shape", "x=2x0"], "size below 1"),
        (["model.py:net", "--shape", "x=2.5"], "NAME=AxBx"),
        (["model.py:net", "--shape", "x=2"], "missing: w, b, t"),
        (["model.py", "--shape", "x=2"], "path/to/model.py:function"),
        (
            [
                "model.py:net",
                "--shape",
                "x=1x1x3x3",
                "--shape",
                "w=1x1x1x1",
                "--shape",
                "b=1",
                "--shape",
                "t=1x1x3x3",
                "--pick",
                "x=1,1,4,1",
            ],
            "outside x",
        ),
    ],
)
def test_the_command_line_refuses_bad_networks_in_one_line(tmp_path, args, message):
    (tmp_path / "model.py").write_text(MODEL)
    done = _cli("derive", *args, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


@pytest.mark.tools
@pytest.mark.parametrize("name", ["conv_leaky_relu_mean", "linear_sigmoid_mse"])
def test_the_gallery_networks_are_proven_and_their_code_validated(name):
    from symgrad.gallery import GALLERY
    from symgrad.publish.codegen import validate

    torch_namespace()
    d = dict(GALLERY)[name]()
    assert d.prove().ok
    assert validate(d).ok


def test_a_layers_displayed_closed_form_names_every_place_it_reads_a_tensor():
    """x * x reads x twice, 2 * b reads a constant, b + X is broadcast: the formula the document
    shows says so (the shares themselves are checked by the proof)."""
    from symgrad.network.presentation import closed_latex

    d = symgrad.derive(lambda x, b: (x * x + b * 2 - 3 / x).sum(), x=(2, 3), b=(3,))
    shown = {(n.op, name): closed_latex(d.graph, n, name) for n in d.graph.nodes for name in dict.fromkeys(n.inputs)}
    square = shown[("mul", "x")]
    assert square.count(r"\odot \boldsymbol{x}") == 2 and " + " in square
    assert shown[("mul", "b")].endswith(r"\odot 2")
    assert r"\sum_{\text{broadcast}}" in shown[("add", "mul2")]
    assert shown[("div", "x")].startswith("-") and r"\odot 3 \oslash \boldsymbol{x}^{2}" in shown[("div", "x")]
    assert d.prove().ok


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((1, 3), (0, 3), (0, 3)),  # a size 1 stretches even to 0, as in torch.broadcast_shapes
        ((0, 1), (1, 4), (0, 4)),
        ((2, 1), (1, 4), (2, 4)),
        ((), (3,), (3,)),
        ((5, 1, 2), (3, 1), (5, 3, 2)),
    ],
)
def test_broadcast_shapes_follow_pytorch(a, b, expected):
    from symgrad.network.units.arithmetic import broadcast_shape

    assert broadcast_shape(a, b, "add") == expected
    with pytest.raises(symgrad.SymgradError, match="do not broadcast"):
        broadcast_shape(a + (2,), b + (3,), "add")
