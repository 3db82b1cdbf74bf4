"""relu and leaky_relu: y = z·H(z) + a·z·(1 − H(z)), with H the step atom (1 for z > 0, 0 for
z ≤ 0), which gives PyTorch's values and its derivative at 0 (the slope a)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...core import poly
from ..lemma import STEP
from .base import Layer, Shapes, check_tensor, exact, frac, num, output

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


def relu(x, name=None) -> Tensor:
    return leaky_relu(x, 0, name=name, op="relu")


def leaky_relu(x, negative_slope=0.01, name=None, op="leaky_relu") -> Tensor:
    """y = z·H(z) + a·z·(1 − H(z)), with H the step (1 for z > 0, 0 for z ≤ 0): PyTorch's values,
    and its derivative at 0 (the slope a), which the step lemma's convention gives."""
    x = check_tensor(x, op)
    a = exact(negative_slope, f"{op}: the negative slope")
    graph = x.graph
    out = output(graph, op, (x,), x.shape, name, op, negative_slope=a)
    for vid, z in zip(out.ids, x.ids):
        m = graph.step(z)
        # z·m·(1 − a) + a·z
        definition = poly.add({tuple(sorted((z, m))): poly._tidy(1 - a)}, {(z,): poly._tidy(a)} if a else {})
        graph.define(vid, definition)
    return out


class LeakyRelu(Layer):
    name = "leaky_relu"
    lemmas = (STEP,)
    forward: Callable | None = staticmethod(leaky_relu)

    def lemma(self, node: Node) -> str | None:
        return "step"

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        """G ⊙ (H(z) + a (1 − H(z))): the mask, and the slope a where z ≤ 0."""
        x = graph.tensors[node.inputs[0]]
        a = node.params["negative_slope"]
        slope = {(): poly._tidy(a)} if a else {}
        return {x.name: [poly.mul(g, poly.add({(graph.step(z),): poly._tidy(1 - a)}, slope)) for g, z in zip(G, x.ids)]}

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = \max(0, {i[0]}) + {frac(p['negative_slope'])} \min(0, {i[0]})"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return rf"{G} \odot \bigl([{i[0]} > 0] + {frac(x.params['negative_slope'])}\,[{i[0]} \le 0]\bigr)"

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"torch.nn.functional.leaky_relu({i[0]}, {num(node.params['negative_slope'])})"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        x, a = node.inputs[0], num(node.params["negative_slope"])
        return [(x, f"{g} * (({x} > 0).to({x}.dtype) + {a} * ({x} <= 0).to({x}.dtype))")]


class Relu(LeakyRelu):
    name = "relu"
    forward = staticmethod(relu)

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = \max(0, {i[0]})"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return rf"{G} \odot [{i[0]} > 0]"

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"torch.relu({i[0]})"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        x = node.inputs[0]
        return [(x, f"{g} * ({x} > 0)")]


RELU, LEAKY_RELU = Relu(), LeakyRelu()
