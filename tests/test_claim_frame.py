"""The claim's frame: differences decided with linear variables kept as coordinates.

The BatchNorm compact form is true only because the centred entries of a channel sum to zero,
Σ(x − μ) = 0. The frame finds that relation among the centred entries (rather than writing μ out
into every product), so the claim is decided at sizes where writing it out in the inputs was over
the budget. Here: the frame against the full write-out (the oracle the frame must agree with),
the claim proven at several sizes, wrong claims refuted at a shown point, PyTorch's autograd as
the numeric oracle, and mutations of the relations and of the steps caught.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

import symgrad
import symgrad.functional as F
from symgrad.api import data_of
from symgrad.core import poly
from symgrad.network.graph import Graph
from symgrad.prove.claim import frame

COMPACT = (
    "bn_weight / bn_std * (dbn - dbn.mean((0, 2), keepdim=True) - bn_xhat * (dbn * bn_xhat).mean((0, 2), keepdim=True))"
)
ZERO_SUM = " + dbn_var * bn_centred.sum((0, 2), keepdim=True)"  # Σ(x − μ) = 0 over each channel


def net(x, w, b, t):
    return F.mse_loss(F.sigmoid(F.batch_norm(x, w, b, eps=0, name="bn")), t)


def derive(shape):
    return symgrad.derive(net, x=shape, w=(shape[1],), b=(shape[1],), t=shape)


def never(_terms: int) -> None:
    """A budget that is never reached."""


# --- the frame against the full write-out ----------------------------------------------------------


def centred_graph(n: int) -> tuple[Graph, list, int, list]:
    """x_1..x_n, μ = Σx/n, c_i = x_i − μ, and s = c_1·c_1 (a product, written out by the frame)."""
    graph = Graph()
    x = list(graph.input("x", (n,)).ids)
    mu = graph.registry.new(r"\mu")
    graph.define(mu, {(v,): Fraction(1, n) for v in x})
    c = []
    for v in x:
        c.append(graph.registry.new(f"c_{v}"))
        graph.define(c[-1], {(v,): 1, (mu,): -1})
    square = graph.registry.new("s")
    graph.define(square, {(c[0], c[0]): 1})
    return graph, x, mu, c + [square]


def test_the_centred_entries_sum_to_zero_in_the_frame_and_nothing_else_does():
    graph, x, mu, (*c, square) = centred_graph(4)
    f = frame.Frame(graph)
    assert f.write({(v,): 1 for v in c}, never) == {}
    assert f.write({(c[0], v): 1 for v in c}, never) == {}  # c_1 · Σ c
    assert f.write({(v,): 1 for v in c[:3]}, never) != {}
    assert f.write({(square,): 1, (c[0], c[0]): -1}, never) == {}
    assert f.write({(square,): 1, (c[0], c[1]): -1}, never) != {}
    # μ and the inputs with the centred entries: x_i − μ − c_i = 0
    assert f.write({(x[0],): 1, (mu,): -1, (c[0],): -1}, never) == {}
    assert f.write({(x[0],): 1, (mu,): -1, (c[1],): -1}, never) != {}


def test_the_frame_says_zero_exactly_where_the_full_write_out_does():
    """Random polynomials over a BatchNorm graph's variables, half of them multiples of a true
    relation: the frame's answer is the full write-out's, every time."""
    d = data_of(derive((2, 2, 2)))
    graph = d.graph
    pool = [
        v
        for name in ("x", "bn_mean", "bn_centred", "bn_var", "bn_xhat", "bn_std", "s")
        for v in graph.tensors[name].ids
    ]
    centred = graph.tensors["bn_centred"].ids
    rng = random.Random(5)
    zeros = 0
    for case in range(60):
        p = {
            tuple(sorted(rng.sample(pool, rng.randint(1, 3)))): rng.randint(-3, 3) or 1
            for _ in range(rng.randint(1, 4))
        }
        if case % 2:  # times Σ c over channel 1, or a rewriting of the channel's c_1 as x − μ
            if case % 4 == 1:
                relation = {(centred[i],): 1 for i in (0, 1, 4, 5)}  # x is 2×2×2: channel 1
            else:
                x, mu = graph.tensors["x"].ids[0], graph.tensors["bn_mean"].ids[0]
                relation = {(centred[0],): 1, (x,): -1, (mu,): 1}
            p = poly.mul(p, relation)
        expected = graph.expand(p) == {}
        zeros += expected
        assert (frame.Frame(graph).write(p, never) == {}) == expected, p
    assert zeros >= 25  # the relations were really exercised


# --- the compact claim, proven at sizes the full write-out could not reach ------------------------


@pytest.mark.parametrize("shape", [(2, 2, 3), (4, 2, 4), (4, 2, 8)])
def test_the_compact_claim_is_proven_within_the_default_budget(shape):
    proof = symgrad.check(derive(shape), "x", COMPACT)
    assert proof.status == "proven"
    assert proof.elements == shape[0] * shape[1] * shape[2]


@pytest.mark.slow
def test_the_compact_claim_at_8x2x8_is_proven():
    assert symgrad.check(derive((8, 2, 8)), "x", COMPACT).status == "proven"


def test_a_claim_true_only_through_the_zero_sum_is_proven_and_one_that_is_not_refuted():
    d = derive((4, 2, 4))
    assert symgrad.check(d, "x", COMPACT + ZERO_SUM).status == "proven"
    wrong = symgrad.check(d, "x", COMPACT + " + dbn_var * bn_centred")
    assert wrong.status == "refuted"
    assert " = " in wrong.counterexample.note and "at " in wrong.counterexample.note


@pytest.mark.parametrize(
    "slip",
    [
        COMPACT.replace("bn_xhat * (dbn", "2 * bn_xhat * (dbn"),  # a factor 2
        COMPACT.replace(" - dbn.mean((0, 2), keepdim=True)", ""),  # the mean of the upstream dropped
        COMPACT.replace("bn_weight / bn_std", "bn_weight * bn_std"),
    ],
)
def test_wrong_compact_claims_are_refuted_at_a_shown_point(slip):
    proof = symgrad.check(derive((4, 2, 4)), "x", slip)
    assert proof.status == "refuted"
    note = proof.counterexample.note
    assert "x_{" in note and "the chain rule gives" in note


@pytest.mark.tools
def test_the_verdicts_agree_with_pytorch_autograd():
    """At 4×2×4, in float64: the compact form is dL/dx as autograd computes it, and the slips
    refuted above are not."""
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(3)
    x, t = (torch.randn(4, 2, 4, dtype=torch.float64, generator=generator) for _ in range(2))
    w, b = (torch.randn(2, dtype=torch.float64, generator=generator) for _ in range(2))
    x.requires_grad_(True)
    mean = x.mean((0, 2), keepdim=True)
    std = ((x - mean) ** 2).mean((0, 2), keepdim=True).sqrt()
    xhat = (x - mean) / std
    bn = xhat * w.reshape(1, 2, 1) + b.reshape(1, 2, 1)
    bn.retain_grad()
    torch.nn.functional.mse_loss(torch.sigmoid(bn), t).backward()
    g, weight = bn.grad, w.reshape(1, 2, 1)

    def compact(factor):
        return weight / std * (g - g.mean((0, 2), keepdim=True) - factor * xhat * (g * xhat).mean((0, 2), keepdim=True))

    assert torch.allclose(compact(1).detach(), x.grad, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(compact(2).detach(), x.grad, rtol=1e-3, atol=1e-6)
    assert symgrad.check(derive((4, 2, 4)), "x", COMPACT).status == "proven"


# --- mutations: a corrupted relation or step is caught --------------------------------------------


def test_without_the_relations_the_compact_claim_is_not_proven(monkeypatch):
    d = derive((2, 2, 3))
    assert symgrad.check(d, "x", COMPACT).status == "proven"
    monkeypatch.setattr(frame, "_eliminate", lambda relations, kept: [])
    assert symgrad.check(derive((2, 2, 3)), "x", COMPACT).status != "proven"


def test_a_corrupted_relation_is_caught(monkeypatch):
    """Σ c = 0 read as 2·c_1 + Σ_{i>1} c_i = 0: the true claim is no longer proven."""
    eliminate = frame._eliminate

    def corrupted(relations, kept):
        out = eliminate(relations, kept)
        return [{m: 2 * c if k == 0 else c for k, (m, c) in enumerate(r.items())} for r in out]

    monkeypatch.setattr(frame, "_eliminate", corrupted)
    assert symgrad.check(derive((2, 2, 3)), "x", COMPACT).status != "proven"


def test_a_corrupted_step_of_the_write_out_is_caught(monkeypatch):
    """A term lost while the named gradients are written out: the true claim is no longer proven."""
    substitute = frame._substitute

    def lossy(p, values, spend):
        out = substitute(p, values, spend)
        if any(len(q) > 1 for q in values.values()) and len(out) > 1:
            out.pop(next(iter(out)))
        return out

    monkeypatch.setattr(frame, "_substitute", lossy)
    assert symgrad.check(derive((2, 2, 3)), "x", COMPACT).status != "proven"


# --- attention: the same frame ----------------------------------------------------------------------


def attention(q, k, v, t):
    return F.mse_loss(F.scaled_dot_product_attention(q, k, v, name="o"), t)


ATTENTION = [
    ("v", "o_p.T @ do"),
    ("o_p", "do @ v.T"),
    ("o_s", "o_p * (do_p - (do_p * o_p).sum(1, keepdim=True))"),
    ("q", "do_s @ k / sqrt_d"),
    ("k", "do_s.T @ q / sqrt_d"),
]


@pytest.mark.parametrize("sizes", [(4, 5, 3), pytest.param((16, 16, 8), marks=pytest.mark.slow)])
def test_the_attention_compact_forms_are_proven_and_a_slip_refuted(sizes):
    lq, lk, dim = sizes
    d = symgrad.derive(attention, q=(lq, dim), k=(lk, dim), v=(lk, dim), t=(lq, dim))
    for name, claim in ATTENTION:
        assert symgrad.check(d, name, claim).status == "proven", claim
    rowsum = symgrad.equivalent(
        d, "o_p", "(do_p * o_p).sum(1, keepdim=True) + 0 * o_p", "(do * o).sum(1, keepdim=True) + 0 * o_p"
    )
    assert rowsum.status == "proven"
    assert symgrad.check(d, "q", "2 * do_s @ k / sqrt_d").status == "refuted"


def test_a_claim_wrong_everywhere_is_refuted_after_deciding_one_entry(monkeypatch):
    """The entries of a claim are decided one at a time, and a refutation at the first ends the
    check: a claim off by a factor of 2 at every entry of q does not decide the other 11. The
    message stays readable."""
    from symgrad.prove.claim import decision

    decided = []
    differs = decision._differs
    monkeypatch.setattr(decision, "_differs", lambda *a: decided.append(a[-1]) or differs(*a))
    d = symgrad.derive(attention, q=(4, 3), k=(5, 3), v=(5, 3), t=(4, 3))
    proof = symgrad.check(d, "q", "2 * do_s @ k / sqrt_d")
    assert proof.status == "refuted" and len(decided) == 1
    # the message names each side's size, not its hundreds of terms; the point and values stay
    text = str(proof)
    assert "the chain rule gives a sum of" in text and len(text) < 800
    assert "at q_{11} = " in text and len(proof.counterexample.derived.args) > 20


@pytest.mark.parametrize("k", [0, 5, 11])
def test_the_one_differing_entry_is_found_wherever_it_stands(k):
    """Deciding entries one at a time still reaches the one entry whose sides differ, first or
    last, and no other."""
    from symgrad.prove.claim import decision

    d = data_of(symgrad.derive(attention, q=(4, 3), k=(5, 3), v=(5, 3), t=(4, 3)))
    gradient = d.gradient("q")
    pairs = [(p, p) for p in gradient]
    shifted = dict(gradient[k])
    one = next(iter(shifted))
    shifted[one] = shifted[one] * 2  # one term of the entry doubled
    pairs[k] = (gradient[k], shifted)
    assert list(decision.differing(d.graph, pairs, "a test")) == [k]
    assert list(decision.differing(d.graph, [(p, p) for p in gradient], "a test")) == []
