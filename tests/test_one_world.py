"""Every derivation is one type over one graph engine: an op is a one-layer network with its
document; a Derivation answers the same questions whichever way it was made."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

import symgrad
import symgrad.functional as F
from tests.conftest import require_torch


def test_an_op_preset_and_the_same_network_are_one_type():
    op = symgrad.matmul(2, 4, 3)
    net = symgrad.derive(lambda A, B: (A @ B).mean(), A=(2, 4), B=(4, 3))
    general = symgrad.matmul("m", "k", "n")
    assert type(op) is type(net) is type(general) is symgrad.Derivation
    for d in (op, net):
        assert set(d.inputs) == {"A", "B"}
        assert isinstance(d.inputs["A"], (sympy.MatrixBase, sympy.NDimArray))
        assert d.inputs["A"].shape == (2, 4)
        assert d.prove().ok
        assert isinstance(d.prove(), symgrad.Proof)
    assert str(op.inputs["A"][1, 2]) == "a_{23}"  # the reference post's letters


def test_an_op_and_the_same_network_give_the_same_gradients():
    """Entry for entry: the preset's gradient under the mean loss and the network's are one
    function of the inputs (the letters differ, so they are compared as values)."""
    rng = np.random.default_rng(3)
    A, B = rng.integers(-5, 6, (2, 4)), rng.integers(-5, 6, (4, 3))
    op = symgrad.matmul(2, 4, 3).evaluate(A=A, B=B, exact=True)
    net = symgrad.derive(lambda A, B: (A @ B).mean(), A=(2, 4), B=(4, 3)).evaluate(A=A, B=B, exact=True)
    G = np.full((2, 3), Fraction(1, 6), dtype=object)  # dL/dC of the mean over 6 entries, by hand
    for name, want in (("A", G.dot(B.T)), ("B", A.T.dot(G))):
        assert (op[name] == want).all() and (net[name] == want).all()


def test_an_op_with_a_generic_loss_is_evaluated_at_a_given_upstream():
    A, B, G = np.array([[1, 2]]), np.array([[3], [4]]), np.array([[5]])
    got = symgrad.matmul(1, 2, 1, "generic").evaluate(A=A, B=B, G=G, exact=True)
    assert got["A"].tolist() == [[15, 20]] and got["B"].tolist() == [[5], [10]]  # G·Bᵀ and Aᵀ·G by hand
    with pytest.raises(symgrad.SymgradError, match="missing: G"):
        symgrad.matmul(1, 2, 1, "generic").evaluate(A=A, B=B)


def test_a_derivation_for_every_size_has_no_numbers_to_evaluate():
    with pytest.raises(symgrad.SymgradError, match="concrete sizes"):
        symgrad.matmul("m", "k", "n").evaluate()


@pytest.mark.tools
@pytest.mark.parametrize(
    "make, shapes, torch_forward",
    [
        (lambda: symgrad.matmul(3, 2, 4, "sum"), {"A": (3, 2), "B": (2, 4)}, lambda t, A, B: (A @ B).sum()),
        (
            lambda: symgrad.conv2d((1, 2, 4, 4), (3, 2, 2, 2), stride=2, padding=1, loss="mean"),
            {"X": (1, 2, 4, 4), "W": (3, 2, 2, 2), "b": (3,)},
            lambda t, X, W, b: t.nn.functional.conv2d(X, W, b, stride=2, padding=1).mean(),
        ),
        (
            lambda: symgrad.conv_transpose2d(),
            {"X": (1, 2, 3, 3), "W": (2, 1, 3, 3), "b": (1,)},
            lambda t, X, W, b: t.nn.functional.conv_transpose2d(X, W, b, stride=2, padding=1).mean(),
        ),
    ],
)
def test_every_op_preset_evaluates_as_autograd_does(make, shapes, torch_forward):
    torch = require_torch()
    rng = np.random.default_rng(7)
    arrays = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    got = make().evaluate(**arrays)
    leaves = {name: torch.tensor(a, dtype=torch.float64, requires_grad=True) for name, a in arrays.items()}
    out = torch_forward(torch, *leaves.values())
    grads = torch.autograd.grad(out, list(leaves.values()))
    for (name, leaf), want in zip(leaves.items(), grads):
        assert got[name].shape == tuple(leaf.shape)
        np.testing.assert_allclose(got[name], want.numpy(), rtol=1e-10, atol=1e-12)


def test_a_corrupted_op_gradient_is_caught_through_the_public_type():
    """The mutation path every test uses: replace a piece of the data, prove afresh."""
    d = symgrad.matmul(2, 3, 2, "generic")
    grads = dict(d.grads_upstream)
    entries = list(grads["A"].entries)
    entries[0] = {k: 2 * c for k, c in entries[0].items()}
    grads["A"] = type(grads["A"])(grads["A"].shape, tuple(entries))
    assert d.prove().ok
    bad = d.replace(grads_upstream=grads)
    assert bad.prove().status == "refuted"
    assert d.prove().ok  # the original is untouched


def test_a_derivation_is_read_only_and_says_what_it_is():
    d = symgrad.derive(lambda x: F.sigmoid(x).sum(), x=(2,))
    with pytest.raises(AttributeError, match="read-only"):
        d.graph = None
    assert "symgrad.Derivation" in repr(d)
    assert "\\sigma" in d._repr_markdown_() or "sigma" in d._repr_markdown_()
