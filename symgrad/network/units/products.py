"""matmul (two matrices) and linear (x·Wᵀ + b, with PyTorch's weight layout)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from ...core import poly
from ...core.errors import SymgradError
from .base import Layer, Shapes, check_tensor, graph_of, merge, output, transposed, v

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


def matmul(a, b, name=None) -> Tensor:
    a, b = check_tensor(a, "matmul", "left factor"), check_tensor(b, "matmul", "right factor")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise SymgradError(f"matmul: shapes {a.shape} and {b.shape} do not multiply (two matrices, m×k and k×n)")
    (m, k), n = a.shape, b.shape[1]
    graph = graph_of(a, b)
    graph.reserve("matmul", m * k * n)
    out = output(graph, "matmul", (a, b), (m, n), name, "matmul")
    a_ids, b_ids = a.ids, b.ids
    if len(set(a_ids) | set(b_ids)) == len(a_ids) + len(b_ids) and (max(a_ids) < min(b_ids)):
        # distinct variables, every a before every b: each entry's k terms are distinct sorted
        # pairs with coefficient 1, so each dict is built in one call (what the loop below gives)
        rows = [a_ids[i * k : (i + 1) * k] for i in range(m)]
        cols = [b_ids[j::n] for j in range(n)]
        for pos, (row, col) in enumerate(itertools.product(rows, cols)):
            graph.define(out.ids[pos], dict.fromkeys(zip(row, col), 1))
        return out
    for i, j in itertools.product(range(m), range(n)):
        entry: dict = {}
        for t in range(k):
            x, y = a_ids[i * k + t], b_ids[t * n + j]
            key = (x, y) if x <= y else (y, x)
            entry[key] = entry.get(key, 0) + 1  # a key repeats only when a factor is used twice
        graph.define(out.ids[i * n + j], entry)
    return out


def linear(x, weight, bias=None, name=None) -> Tensor:
    """x·Wᵀ + b, with PyTorch's layout: W is out_features × in_features; x is (N, in) or (in,)."""
    x, weight = check_tensor(x, "linear"), check_tensor(weight, "linear", "weight")
    if weight.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != weight.shape[1]:
        raise SymgradError(f"linear: input {x.shape} and weight {weight.shape} do not fit (weight is out × in)")
    outs, ins = weight.shape
    if bias is not None:
        bias = check_tensor(bias, "linear", "bias")
        if bias.shape != (outs,):
            raise SymgradError(f"linear: the bias must have shape ({outs},), got {bias.shape}")
    rows = x.shape[0] if x.ndim == 2 else 1
    shape = (rows, outs) if x.ndim == 2 else (outs,)
    graph = graph_of(x, weight)
    graph.reserve("linear", rows * outs * ins)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = output(graph, "linear", inputs, shape, name, "z", vector=x.ndim == 1)
    for r, o in itertools.product(range(rows), range(outs)):
        entry: dict = {}
        for i in range(ins):
            poly.add_into(entry, {tuple(sorted((x.ids[r * ins + i], weight.ids[o * ins + i]))): 1})
        if bias is not None:
            poly.add_into(entry, poly.var(bias.ids[o]))
        graph.define(out.ids[r * outs + o], entry)
    return out


class Matmul(Layer):
    name = "matmul"
    forward = staticmethod(matmul)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        a, b = (graph.tensors[name] for name in node.inputs)
        (m, k), n = a.shape, b.shape[1]
        da = [
            poly.add(*(poly.mul(G[i * n + j], v(b.ids[q * n + j])) for j in range(n)))
            for i in range(m)
            for q in range(k)
        ]
        db = [
            poly.add(*(poly.mul(v(a.ids[i * k + p]), G[i * n + j]) for i in range(m)))
            for p in range(k)
            for j in range(n)
        ]
        return merge({}, [(a.name, da), (b.name, db)])

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = {i[0]} {i[1]}"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return [rf"{G} {transposed(i[1])}", rf"{transposed(i[0])} {G}"][k]

    # the reference post's own spelling: A.mm(B), grad_C.mm(B.t()) (both factors are matrices)
    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"{i[0]}.mm({i[1]})"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        i = node.inputs
        return [(i[0], f"{g}.mm({i[1]}.t())"), (i[1], f"{i[0]}.t().mm({g})")]

    def numpy_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"{i[0]} @ {i[1]}"

    def numpy_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        i = node.inputs
        return [(i[0], f"{g} @ {i[1]}.T"), (i[1], f"{i[0]}.T @ {g}")]


class Linear(Layer):
    name = "linear"
    forward = staticmethod(linear)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        ins = [graph.tensors[name] for name in node.inputs]
        x, w = ins[0], ins[1]
        outs, n_in = w.shape
        rows = x.shape[0] if x.ndim == 2 else 1
        dx = [
            poly.add(*(poly.mul(G[r * outs + o], v(w.ids[o * n_in + i])) for o in range(outs)))
            for r in range(rows)
            for i in range(n_in)
        ]
        dw = [
            poly.add(*(poly.mul(G[r * outs + o], v(x.ids[r * n_in + i])) for r in range(rows)))
            for o in range(outs)
            for i in range(n_in)
        ]
        pairs = [(x.name, dx), (w.name, dw)]
        if len(ins) == 3:
            pairs.append((ins[2].name, [poly.add(*(G[r * outs + o] for r in range(rows))) for o in range(outs)]))
        return merge({}, pairs)

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = {i[0]} {transposed(i[1])}" + (f" + {i[2]}" if len(i) == 3 else "")

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        """x Wᵀ + b: for a matrix input (N × in) dL/dx = G W, dL/dW = Gᵀ x, dL/db = Σ over rows G;
        for a vector input (in) dL/dx = Wᵀ G, dL/dW = G ⊗ x (the outer product) and dL/db = G."""
        if x.vector:
            return [rf"{transposed(i[1])} {G}", rf"{G} \otimes {i[0]}", G][k]
        return [rf"{G} {i[1]}", rf"{transposed(G)} {i[0]}", rf"\textstyle\sum_{{\text{{rows}}}} {G}"][k]

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"torch.nn.functional.linear({', '.join(i)})"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        i = node.inputs
        if node.params.get("vector"):  # a vector input: the weight's gradient is an outer product
            out = [(i[0], f"{g} @ {i[1]}"), (i[1], f"torch.outer({g}, {i[0]})")]
            return out + ([(i[2], g)] if len(i) == 3 else [])
        out = [(i[0], f"{g} @ {i[1]}"), (i[1], f"{g}.T @ {i[0]}")]
        return out + ([(i[2], f"{g}.sum(0)")] if len(i) == 3 else [])


MATMUL, LINEAR = Matmul(), Linear()
