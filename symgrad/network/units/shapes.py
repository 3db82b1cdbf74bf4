"""transpose and reshape: layers that move entries without changing them."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

from ...core import poly
from ...core.errors import SymgradError
from .base import Layer, Shapes, check_tensor, int_tuple, output, transposed

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


def transpose(x, name=None) -> Tensor:
    x = check_tensor(x, "transpose")
    if x.ndim != 2:
        raise SymgradError(f"transpose (.T) needs a matrix, got a tensor of shape {x.shape}")
    rows, cols = x.shape
    out = output(x.graph, "transpose", (x,), (cols, rows), name, "transpose")
    for j, i in itertools.product(range(cols), range(rows)):
        x.graph.define(out.ids[j * rows + i], poly.var(x.ids[i * cols + j]))
    return out


def reshape(x, shape, name=None) -> Tensor:
    x = check_tensor(x, "reshape")
    shape = reshape_target(x, shape)
    out = output(x.graph, "reshape", (x,), shape, name, "reshape")
    for vid, source_id in zip(out.ids, x.ids):
        x.graph.define(vid, poly.var(source_id))
    return out


def reshape_target(x: Tensor, shape) -> tuple:
    """The shape a reshape asks for, as PyTorch reads it: sizes of at least 1, and at most one -1
    standing for the size the others leave."""
    sizes = int_tuple(shape)
    if sizes is None:
        raise SymgradError(f"reshape: the shape must be integers, got {shape!r:.60}")
    if sizes.count(-1) > 1 or any(s < 1 and s != -1 for s in sizes):
        raise SymgradError(f"reshape: sizes must be at least 1, with at most one -1, got {sizes}")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes and x.numel % known == 0:
        sizes = tuple(x.numel // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != x.numel:
        raise SymgradError(f"reshape: {x.shape} has {x.numel} entries, which the shape {tuple(shape)} cannot hold")
    return sizes


class Transpose(Layer):
    name = "transpose"
    forward = staticmethod(transpose)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        x = graph.tensors[node.inputs[0]]
        rows, cols = x.shape
        return {x.name: [G[j * rows + i] for i in range(rows) for j in range(cols)]}

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = {transposed(i[0])}"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return transposed(G)

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"{i[0]}.T"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        return [(node.inputs[0], f"{g}.T")]


class Reshape(Layer):
    name = "reshape"
    forward = staticmethod(reshape)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        return {node.inputs[0]: list(G)}

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = \operatorname{{reshape}}({i[0]})"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return rf"\operatorname{{reshape}}({G})"

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"{i[0]}.reshape({graph.tensors[node.output].shape})"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        x = node.inputs[0]
        return [(x, f"{g}.reshape({x}.shape)")]


TRANSPOSE, RESHAPE = Transpose(), Reshape()
