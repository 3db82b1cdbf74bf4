"""PyTorch autograd as the independent numeric oracle, in float64, as in the reference post."""

import random

import pytest
import sympy

import symgrad

from .conftest import require_torch

SIZES = [(1, 1, 1), (2, 4, 3), (3, 7, 2), (5, 3, 4), (6, 6, 6)]


@pytest.mark.tools
@pytest.mark.parametrize("m, k, n", SIZES)
@pytest.mark.parametrize("loss", ["mean", "sum"])
def test_gradients_match_autograd(m, k, n, loss):
    torch = require_torch()
    d = symgrad.matmul(m, k, n, loss)
    rng = random.Random(f"{m}{k}{n}{loss}")
    A = torch.tensor(
        [[rng.uniform(-2, 2) for _ in range(k)] for _ in range(m)], dtype=torch.float64, requires_grad=True
    )
    B = torch.tensor(
        [[rng.uniform(-2, 2) for _ in range(n)] for _ in range(k)], dtype=torch.float64, requires_grad=True
    )
    C = A.mm(B)
    L = C.mean() if loss == "mean" else C.sum()
    L.backward()
    values = {d.inputs["A"][i, j]: A[i, j].item() for i in range(m) for j in range(k)}
    values |= {d.inputs["B"][i, j]: B[i, j].item() for i in range(k) for j in range(n)}
    for name, tensor in (("A", A), ("B", B)):
        ours = d.grad[name].xreplace(values)
        theirs = tensor.grad
        for i in range(ours.rows):
            for j in range(ours.cols):
                assert float(ours[i, j]) == pytest.approx(theirs[i, j].item(), abs=1e-12, rel=0)


@pytest.mark.tools
def test_generic_gradients_match_autograd_with_any_upstream():
    torch = require_torch()
    d = symgrad.matmul(3, 4, 2, "generic")
    rng = random.Random(7)
    A = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    B = torch.rand(4, 2, dtype=torch.float64, requires_grad=True)
    G = torch.tensor([[rng.uniform(-1, 1) for _ in range(2)] for _ in range(3)], dtype=torch.float64)
    A.mm(B).backward(G)
    values = {d.inputs["A"][i, j]: A[i, j].item() for i in range(3) for j in range(4)}
    values |= {d.inputs["B"][i, j]: B[i, j].item() for i in range(4) for j in range(2)}
    values |= {d.upstream[i, j]: G[i, j].item() for i in range(3) for j in range(2)}
    for name, tensor in (("A", A), ("B", B)):
        diff = d.grad[name].xreplace(values) - sympy.Matrix(tensor.grad.tolist())
        assert max(abs(float(v)) for v in diff) < 1e-12
