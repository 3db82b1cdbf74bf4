"""Softmax, cross-entropy, BatchNorm, LayerNorm and attention, built from the exact layers: checked
against PyTorch autograd in float64, their compact closed forms proven, and ``equivalent``
settling whether two forms of a gradient are equal."""

from __future__ import annotations

from fractions import Fraction

import pytest

import symgrad
import symgrad.functional as SF
from symgrad.prove.network import evaluate, values_at


def agree(d, build_torch, shapes, positive=(), seed=0):
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(seed)
    inputs = {n: torch.randn(*s, generator=gen, dtype=torch.float64) for n, s in shapes.items()}
    for n in positive:
        inputs[n] = inputs[n].abs() + 0.5
    for value in inputs.values():
        value.requires_grad_(True)
    build_torch(torch)(*inputs.values()).backward()
    given = {
        vid: Fraction(v) for n, t in inputs.items() for vid, v in zip(d.tensor(n).ids, t.detach().flatten().tolist())
    }
    values = values_at(d.graph, given)
    for name in shapes:
        ours = [float(evaluate(p, values)) for p in d.gradient(name)]
        assert ours == pytest.approx(inputs[name].grad.flatten().tolist(), rel=1e-9, abs=1e-12), name


CASES = {
    "softmax": (
        lambda F: lambda x, w: (F.softmax(x, 1) * w).sum(),
        lambda torch: lambda x, w: (torch.softmax(x, 1) * w).sum(),
        dict(x=(2, 3), w=(2, 3)),
    ),
    "log_softmax dim 0": (
        lambda F: lambda x, w: (F.log_softmax(x, 0) * w).sum(),
        lambda torch: lambda x, w: (torch.log_softmax(x, 0) * w).sum(),
        dict(x=(3, 2), w=(3, 2)),
    ),
    "cross_entropy, class indices, mean": (
        lambda F: lambda x: F.cross_entropy(x, [2, 0, 1]),
        lambda torch: lambda x: torch.nn.functional.cross_entropy(x, torch.tensor([2, 0, 1])),
        dict(x=(3, 4)),
    ),
    "cross_entropy, probabilities, sum": (
        lambda F: lambda x, t: F.cross_entropy(x, t, reduction="sum"),
        lambda torch: lambda x, t: torch.nn.functional.cross_entropy(x, t, reduction="sum"),
        dict(x=(2, 3), t=(2, 3)),
    ),
    "nll_loss of log_softmax": (
        lambda F: lambda x: F.nll_loss(F.log_softmax(x, 1), [1, 1]),
        lambda torch: lambda x: torch.nn.functional.nll_loss(torch.log_softmax(x, 1), torch.tensor([1, 1])),
        dict(x=(2, 3)),
    ),
    "batch_norm eps 1e-5": (
        lambda F: lambda x, w, b: (F.batch_norm(x, w, b, eps=1e-5) * F.sigmoid(x)).sum(),
        lambda torch: (
            lambda x, w, b: (
                torch.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=1e-5) * torch.sigmoid(x)
            ).sum()
        ),
        dict(x=(3, 2, 2), w=(2,), b=(2,)),
    ),
    # PyTorch refuses eps = 0 in training-mode batch_norm; layer_norm takes it, below
    "batch_norm eps 1e-3, 4-D": (
        lambda F: lambda x, w, b: (F.batch_norm(x, w, b, eps=1e-3) ** 3).sum(),
        lambda torch: (
            lambda x, w, b: (torch.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=1e-3) ** 3).sum()
        ),
        dict(x=(2, 3, 2, 2), w=(3,), b=(3,)),
    ),
    "layer_norm": (
        lambda F: lambda x, w, b: (F.layer_norm(x, 3, w, b, eps=0) ** 3).sum(),
        lambda torch: lambda x, w, b: (torch.nn.functional.layer_norm(x, (3,), w, b, eps=0) ** 3).sum(),
        dict(x=(2, 3), w=(3,), b=(3,)),
    ),
    "attention 2 queries, 4 keys": (
        lambda F: lambda q, k, v: (F.scaled_dot_product_attention(q, k, v) ** 2).sum(),
        lambda torch: lambda q, k, v: (torch.nn.functional.scaled_dot_product_attention(q, k, v) ** 2).sum(),
        dict(q=(2, 3), k=(4, 3), v=(4, 2)),
    ),
    "attention, d = 4": (
        lambda F: lambda q, k, v: (F.scaled_dot_product_attention(q, k, v) ** 2).sum(),
        lambda torch: lambda q, k, v: (torch.nn.functional.scaled_dot_product_attention(q, k, v) ** 2).sum(),
        dict(q=(3, 4), k=(2, 4), v=(2, 2)),
    ),
    # large enough that the long gradients of the statistics and the softmax's sums are named
    "batch_norm, sigmoid, mse, 4×3×8": (
        lambda F: lambda x, w, b, t: F.mse_loss(F.sigmoid(F.batch_norm(x, w, b, eps=1e-5)), t),
        lambda torch: (
            lambda x, w, b, t: torch.nn.functional.mse_loss(
                torch.sigmoid(torch.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=1e-5)), t
            )
        ),
        dict(x=(4, 3, 8), w=(3,), b=(3,), t=(4, 3, 8)),
    ),
    # one channel: PyTorch's weight and bias then have shape (1,)
    "batch_norm, one channel, mse": (
        lambda F: lambda x, w, b, t: F.mse_loss(F.batch_norm(x, w, b, eps=0.5), t),
        lambda torch: (
            lambda x, w, b, t: torch.nn.functional.mse_loss(
                torch.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=0.5), t
            )
        ),
        dict(x=(4, 1, 2), w=(1,), b=(1,), t=(4, 1, 2)),
    ),
    "attention 6 queries, 7 keys, mse": (
        lambda F: lambda q, k, v, t: F.mse_loss(F.scaled_dot_product_attention(q, k, v), t),
        lambda torch: (
            lambda q, k, v, t: torch.nn.functional.mse_loss(
                torch.nn.functional.scaled_dot_product_attention(q, k, v), t
            )
        ),
        dict(q=(6, 4), k=(7, 4), v=(7, 3), t=(6, 3)),
    ),
}


@pytest.mark.tools
@pytest.mark.parametrize("name", list(CASES))
def test_every_hard_layer_agrees_with_torch_autograd(name):
    build, build_torch, shapes = CASES[name]
    d = symgrad.derive(build(SF), **shapes)
    assert d.prove().ok
    for seed in (0, 1):
        agree(d, build_torch, shapes, seed=seed)


def test_long_gradients_are_named_and_their_definitions_checked():
    build, _, shapes = CASES["batch_norm, sigmoid, mse, 4×3×8"]
    d = symgrad.derive(build(SF), **shapes)
    graph = d.graph
    assert graph.adjoints, "no gradient was long enough to be named"
    assert d.prove().ok
    # every named gradient is read below it in place of its terms ...
    named = set(graph.adjoints.values())
    assert any(named & {v for p in d.gradient("x") for mono in p for v in mono})
    # ... and d.grad writes it out in the network's own variables
    (entry,) = d.grad["w"][:1]
    assert not {s.name for s in entry.free_symbols} & {graph.registry.names[a] for a in named}
    # written out, dL/dx would have about 400,000 terms: over a budget the graph itself is within
    small = symgrad.derive(build(SF), max_terms=50_000, **shapes)
    with pytest.raises(symgrad.SymgradError, match=r"dL/dx written out .* too large"):
        small.grad["x"]
    # a named gradient whose definition is corrupted is caught, with a counterexample
    _, a = next(iter(graph.adjoints.items()))
    graph.defs[a] = {**graph.defs[a], (): Fraction(1, 7)}
    d.cache.clear()
    proof = d.prove()
    assert proof.status == "refuted"
    assert "named gradient" in proof.counterexample.note


def bn_network():
    def net(x, w, b, t):
        return SF.mse_loss(SF.sigmoid(SF.batch_norm(x, w, b, eps=0, name="bn")), t)

    return symgrad.derive(net, x=(3, 2, 4), w=(2,), b=(2,), t=(3, 2, 4))


COMPACT = (
    "bn_weight / bn_std * (dbn - dbn.mean((0, 2), keepdim=True) - bn_xhat * (dbn * bn_xhat).mean((0, 2), keepdim=True))"
)


def test_the_batch_norm_compact_closed_form_is_proven_and_its_slips_refuted():
    d = bn_network()
    assert symgrad.check(d, "x", COMPACT).ok
    assert symgrad.check(d, "w", "(dbn * bn_xhat).sum((0, 2))").ok
    assert symgrad.check(d, "b", "dbn.sum((0, 2))").ok
    for slip in (
        COMPACT.replace(" - dbn.mean((0, 2), keepdim=True)", ""),  # a term dropped
        COMPACT.replace("bn_xhat * (dbn", "2 * bn_xhat * (dbn"),  # a factor altered
        COMPACT.replace("bn_weight / bn_std", "bn_weight * bn_std"),
    ):
        assert symgrad.check(d, "x", slip).status == "refuted", slip


@pytest.mark.tools
def test_eps_given_as_a_symbol_is_a_free_scalar_of_every_proof():
    torch = pytest.importorskip("torch")
    import sympy

    eps = sympy.Symbol("eps")

    def net(x, w, b, t):
        return SF.mse_loss(SF.sigmoid(SF.batch_norm(x, w, b, eps=eps, name="bn")), t)

    d = symgrad.derive(net, x=(3, 2, 4), w=(2,), b=(2,), t=(3, 2, 4))
    assert d.prove().ok
    assert any(r"\varepsilon" in layer.forward for layer in d.layers)
    # the compact form holds for every ε, and its slips are refuted
    assert symgrad.check(d, "x", COMPACT).ok
    assert symgrad.check(d, "x", COMPACT.replace("bn_weight / bn_std", "bn_weight * bn_std")).status == "refuted"
    # at ε = 1e-3 the gradient is PyTorch's with eps=1e-3
    gen = torch.Generator().manual_seed(3)
    inputs = {n: torch.randn(*d.tensor(n).shape, generator=gen, dtype=torch.float64) for n in "xwbt"}
    for value in inputs.values():
        value.requires_grad_(True)
    y = torch.nn.functional.batch_norm(inputs["x"], None, None, inputs["w"], inputs["b"], training=True, eps=1e-3)
    torch.nn.functional.mse_loss(torch.sigmoid(y), inputs["t"]).backward()
    given = {
        vid: Fraction(v) for n, t in inputs.items() for vid, v in zip(d.tensor(n).ids, t.detach().flatten().tolist())
    }
    given[d.tensor("eps").ids[0]] = Fraction(1, 1000)
    values = values_at(d.graph, given)
    for name in "xwb":
        ours = [float(evaluate(p, values)) for p in d.gradient(name)]
        assert ours == pytest.approx(inputs[name].grad.flatten().tolist(), rel=1e-9, abs=1e-12), name


def test_equivalent_forms_of_the_batch_norm_gradient():
    d = bn_network()
    # by the intermediates: dL/dx = dx̂/σ + dvar·2(x − μ)/N + dμ/N, N = 12 entries per channel
    via_mu_var = (
        "dbn_xhat / bn_std + 2 * dbn_var * bn_centred / 12 + (-(dbn_xhat / bn_std).sum((0, 2), keepdim=True)) / 12"
    )
    # the term dvar·dvar/dμ that some derivations add and others leave out: it is zero
    with_zero_term = via_mu_var + " + dbn_var * (-2 * bn_centred).mean((0, 2), keepdim=True) / 12"
    assert symgrad.equivalent(d, "x", via_mu_var, with_zero_term).ok
    assert symgrad.equivalent(d, "x", COMPACT, via_mu_var).ok
    assert symgrad.check(d, "x", via_mu_var).ok
    # mean(dy·x̂)·mean(x̂) is zero too: mean(x̂) vanishes exactly
    zero = " + (dbn * bn_xhat).mean((0, 2), keepdim=True) * bn_xhat.mean((0, 2), keepdim=True)"
    assert symgrad.equivalent(d, "x", COMPACT, COMPACT + zero).ok
    refuted = symgrad.equivalent(d, "x", COMPACT, COMPACT + " + dbn.mean((0, 2), keepdim=True)")
    assert refuted.status == "refuted" and refuted.counterexample is not None


def test_softmax_and_cross_entropy_closed_forms():
    def classifier(x, w, b):
        return SF.cross_entropy(SF.linear(x, w, b, name="z"), [2, 0], name="L")

    d = symgrad.derive(classifier, x=(2, 3), w=(4, 3), b=(4,))
    assert d.prove().ok
    p = "L_logp_exp / L_logp_sum"  # softmax(z): the exponentials over their row sums
    onehot = "L_onehot"
    assert symgrad.check(d, "z", f"({p} - {onehot}) / 2").ok
    assert symgrad.check(d, "z", f"({onehot} - {p}) / 2").status == "refuted"
    assert symgrad.equivalent(d, "z", f"({p} - {onehot}) / 2", "dz").ok

    def soft(x, g):
        return (SF.softmax(x, 1, name="p") * g).sum()

    s = symgrad.derive(soft, x=(2, 3), g=(2, 3))
    assert symgrad.check(s, "x", "p * (g - (g * p).sum(1, keepdim=True))").ok
    assert symgrad.check(s, "x", "p * g").status == "refuted"


def test_attention_backward_and_the_rowsum_identity():
    def head(q, k, v, g):
        return (SF.scaled_dot_product_attention(q, k, v, name="o") * g).sum()

    d = symgrad.derive(head, q=(2, 4), k=(3, 4), v=(3, 2), g=(2, 2))
    assert d.prove().ok
    assert symgrad.check(d, "v", "o_p.T @ do").ok  # dV = Pᵀ·dO
    assert symgrad.check(d, "o_p", "do @ v.T").ok  # dP = dO·Vᵀ
    assert symgrad.check(d, "q", "do_s @ k / 2").ok  # dQ = dS·K/√d, d = 4
    assert symgrad.check(d, "k", "do_s.T @ q / 2").ok  # dK = dSᵀ·Q/√d
    assert symgrad.check(d, "k", "do_s.T @ q").status == "refuted"  # the 1/√d left out
    # rowsum(dP ⊙ P) = rowsum(dO ⊙ O), which fast attention kernels rely on
    rows = "0 * o_p"  # broadcasts a row sum to P's shape
    assert symgrad.equivalent(
        d, "o_p", f"(do_p * o_p).sum(1, keepdim=True) + {rows}", f"(do * o).sum(1, keepdim=True) + {rows}"
    ).ok
    assert (
        symgrad.equivalent(
            d, "o_p", f"(do_p * o_p).sum(1, keepdim=True) + {rows}", f"(do * o).sum(0).sum() + {rows}"
        ).status
        == "refuted"
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: symgrad.derive(lambda x: SF.cross_entropy(x, [3, 0]), x=(2, 3)), "class index"),
        (lambda: symgrad.derive(lambda x: SF.cross_entropy(x, [0]), x=(2, 3)), "list of 2"),
        (lambda: symgrad.derive(lambda x: SF.softmax(x, 2), x=(2, 3)), "out of range"),
        (lambda: symgrad.derive(lambda x: SF.layer_norm(x, 2), x=(2, 3)), "last dims"),
        (lambda: symgrad.derive(lambda x: SF.batch_norm(x, eps=-1).sum(), x=(2, 3)), "not be negative"),
        (lambda: symgrad.derive(lambda x: SF.batch_norm(x, eps="1e-5").sum(), x=(2, 3)), "number or a SymPy symbol"),
        (
            lambda: symgrad.derive(lambda x: SF.batch_norm(x, eps=__import__("sympy").Symbol("x")).sum(), x=(2, 3)),
            "name of a tensor",
        ),
        (
            lambda: symgrad.derive(lambda q, k: SF.scaled_dot_product_attention(q, k, k), q=(2, 3), k=(2, 4)),
            "do not fit",
        ),
    ],
)
def test_bad_hard_layers_get_one_clear_error(call, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        call()


BN_MODEL = """
import symgrad.functional as F


def net(x, w, b, t):
    return F.mse_loss(F.sigmoid(F.batch_norm(x, w, b, eps=0, name="bn")), t)
"""


def test_the_command_line_settles_whether_two_forms_are_equal(tmp_path):
    from .commandline import run

    (tmp_path / "bn.py").write_text(BN_MODEL)
    base = ["derive", "bn.py:net", "--shape", "x=3x2x4", "--shape", "w=2"]
    base += ["--shape", "b=2", "--shape", "t=3x2x4", "--equivalent", "x"]
    same = run(*base, COMPACT, "dx", cwd=tmp_path)
    assert same.returncode == 0 and same.stdout.startswith("proven"), same.stderr
    flipped = run(*base, "dx", "(-dx)", cwd=tmp_path)
    assert flipped.returncode == 1 and flipped.stdout.startswith("refuted")


def gallery_network(name):
    from symgrad.gallery import NETWORKS

    return dict(NETWORKS)[name]()


def test_batch_norm_documents_both_routes_and_the_compact_forms():
    d = gallery_network("batch_norm_sigmoid_mse")
    proof = d.prove()
    assert proof.ok
    keys = {"route_a_0", "route_b_0", "route_b_var_0", "route_b_mu_0", "route_b_deviations_0", "route_b_xhat_0"}
    assert keys <= set(d.equations)
    route_a = d.equations["route_a_0"].steps
    route_b = d.equations["route_b_0"].steps
    assert len(route_a) == 4 and len(route_b) == 2
    assert route_a[-1].rhs == route_b[-1].rhs  # both routes end in the same compact form
    # dL/dx, dL/dw and dL/dβ
    assert [k for k in d.equations if k.startswith("block_0_")] == ["block_0_0", "block_0_1", "block_0_2"]
    # every compound layer of the gallery shows its compact forms, all proven
    for name, count in (("linear_softmax_cross_entropy", 1), ("layer_norm_tanh_sum", 3), ("attention_head", 6)):
        other = gallery_network(name)
        assert len([k for k in other.equations if k.startswith("block_")]) == count, name
        assert other.prove().ok, name


def _route_check(d, step):
    return step.rule.checker(d, step)


def test_a_corrupted_route_line_is_caught_and_a_dropped_zero_term_is_not():
    import dataclasses

    import sympy

    d = gallery_network("batch_norm_sigmoid_mse")
    var = d.equations["route_b_var_0"].steps[0]
    assert _route_check(d, var) is None
    flipped = var.rhs.xreplace({sympy.Rational(-1, 2): sympy.Rational(1, 2)})  # the sign of −½ σ⁻³
    assert _route_check(d, dataclasses.replace(var, rhs=flipped)) is not None
    jacobian = d.equations["route_a_0"].steps[2]
    assert _route_check(d, jacobian) is None
    # four entries per channel: the k = i factor 1 − 1/4 − x̂ᵢ²/4 loses its two quarters
    slipped = jacobian.rhs.xreplace({sympy.Rational(-1, 4): sympy.Integer(0)})
    assert slipped != jacobian.rhs
    assert _route_check(d, dataclasses.replace(jacobian, rhs=slipped)) is not None
    # ∂L/∂μ without the term through σ², which is zero: still right
    mu = d.equations["route_b_mu_0"].steps[0]
    without = sympy.Add(*mu.rhs.args[:-1], evaluate=False)
    assert mu.rhs.args[-1].has(d.graph.registry.symbol(d.graph.tensors["bn_var"].ids[1]))
    assert _route_check(d, dataclasses.replace(mu, rhs=without)) is None


def test_the_softmax_jacobian_lines_of_attention_are_checked():
    import dataclasses

    import sympy

    d = gallery_network("attention_head")
    steps = d.equations["route_jacobian_0"].steps
    assert len(steps) == 3  # three keys in the picked row
    own = next(s for s in steps if isinstance(s.rhs, sympy.Mul) and any(isinstance(a, sympy.Add) for a in s.rhs.args))
    assert _route_check(d, own) is None
    wrong = own.rhs.xreplace({sympy.Integer(-1): sympy.Integer(1)})  # p_j(1 + p_j)
    assert _route_check(d, dataclasses.replace(own, rhs=wrong)) is not None
    other = next(s for s in steps if s is not own)
    assert _route_check(d, dataclasses.replace(other, rhs=-other.rhs)) is not None


def test_a_wrong_compact_form_fails_the_document(monkeypatch):
    import dataclasses

    from symgrad.network import compound as blocks

    original = blocks.forms

    def slipped(graph, block):  # the mean of dy left out of BatchNorm's form
        return [
            dataclasses.replace(f, claim=f.claim.replace(" - dbn.mean((0, 2), keepdim=True)", ""))
            for f in original(graph, block)
        ]

    monkeypatch.setattr(blocks, "forms", slipped)
    proof = gallery_network("batch_norm_sigmoid_mse").prove()
    assert proof.status == "refuted"
    assert "compact form of the batch norm layer is refuted" in proof.failed_step


def _compound_networks():
    def log_soft(x, g):
        return (SF.log_softmax(x, 1, name="lp") * g).sum()

    def ce_probabilities(x, t):
        return SF.cross_entropy(x, t, name="ce")

    def soft(x, g):
        return (SF.softmax(x, 0, name="p") * g).sum()

    yield "batch_norm_sigmoid_mse", gallery_network("batch_norm_sigmoid_mse")
    yield "layer_norm_tanh_sum", gallery_network("layer_norm_tanh_sum")
    yield "linear_softmax_cross_entropy", gallery_network("linear_softmax_cross_entropy")
    yield "attention_head", gallery_network("attention_head")
    yield "log_softmax", symgrad.derive(log_soft, x=(2, 3), g=(2, 3))
    yield "cross_entropy, probabilities", symgrad.derive(ce_probabilities, x=(2, 3), t=(2, 3))
    yield "softmax over dim 0", symgrad.derive(soft, x=(3, 2), g=(3, 2))


def test_every_compact_form_is_proven_and_refuted_once_altered():
    from symgrad.network import compound as blocks

    seen = 0
    for name, d in _compound_networks():
        for block in d.graph.blocks:
            for form in blocks.forms(d.graph, block):
                seen += 1
                if form.other is not None:  # an identity: its two sides, then one side altered
                    assert symgrad.equivalent(d, form.target, form.claim, form.other).ok, (name, form.claim)
                    assert symgrad.equivalent(d, form.target, form.claim, f"2 * ({form.other})").status == "refuted"
                    continue
                assert symgrad.check(d, form.target, form.claim).ok, (name, form.claim)
                assert symgrad.check(d, form.target, f"2 * ({form.claim})").status == "refuted", (name, form.claim)
                if " - " in form.claim:  # a term's sign flipped
                    flipped = form.claim.replace(" - ", " + ", 1)
                    assert symgrad.check(d, form.target, flipped).status == "refuted", (name, flipped)
    assert seen >= 15


def test_batch_norm_routes_are_left_out_when_the_input_is_read_elsewhere():
    def residual(x, w, b):  # x also feeds the sum directly: dL/dx is not the layer's share alone
        return (SF.batch_norm(x, w, b, eps=0, name="bn") * x).sum()

    d = symgrad.derive(residual, x=(2, 2, 2), w=(2,), b=(2,))
    assert d.prove().ok
    assert not any(k.startswith("route_") for k in d.equations)
    # the forms of w and b, which only the layer reads, are still shown
    assert len([k for k in d.equations if k.startswith("block_0_")]) == 2
