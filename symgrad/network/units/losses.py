"""mse_loss, and the generic loss L = Σ g ⊙ y a network gets when it returns a tensor that is not
a scalar (its upstream gradient g an input of its own)."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import sympy

from ...core import poly
from ...core.errors import SymgradError
from .base import Layer, Shapes, check_tensor, frac, graph_of, merge, output, v

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


def mse_loss(input, target, reduction="mean", name=None) -> Tensor:
    """mean or sum of (input − target)², over every entry; the targets are inputs of the network."""
    input, target = check_tensor(input, "mse_loss"), check_tensor(target, "mse_loss", "target")
    if input.shape != target.shape:
        raise SymgradError(f"mse_loss: input {input.shape} and target {target.shape} differ in shape")
    if reduction not in ("mean", "sum"):
        raise SymgradError(f"mse_loss: reduction must be 'mean' or 'sum', got {reduction!r}")
    weight = Fraction(1, input.numel) if reduction == "mean" else Fraction(1)
    graph = graph_of(input, target)
    out = output(graph, "mse_loss", (input, target), (), name, "L", reduction=reduction)
    total: dict = {}
    for z, t in zip(input.ids, target.ids):
        difference = {(z,): 1, (t,): -1}
        poly.add_into(total, poly.scale(poly.mul(difference, difference), weight))
    graph.define(out.ids[0], total)
    return out


class MseLoss(Layer):
    name = "mse_loss"
    forward = staticmethod(mse_loss)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        """2 (z − t) G, divided by the number of entries for the mean; the target's is its negative."""
        z, target = (graph.tensors[name] for name in node.inputs)
        weight = Fraction(2, z.numel) if node.params["reduction"] == "mean" else Fraction(2)
        (g,) = G
        dz = [poly.scale(poly.mul(g, {(a,): 1, (b,): -1}), weight) for a, b in zip(z.ids, target.ids)]
        dt = [poly.scale(p, -1) for p in dz]
        return merge({}, [(z.name, dz), (target.name, dt)])

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        if p["reduction"] == "mean":
            return rf"{o} = \frac{{1}}{{N}} \textstyle\sum ({i[0]} - {i[1]})^{{2}}"
        return rf"{o} = \textstyle\sum ({i[0]} - {i[1]})^{{2}}"

    def count(self, first: Tensor, params: dict) -> int:
        return first.numel

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        """2 (z − t) G, divided by the number of entries for the mean, not for the sum."""
        two = Fraction(2, x.count) if x.params["reduction"] == "mean" else Fraction(2)
        sign = "-" if k == 1 else ""
        return rf"{sign}{frac(two)} ({i[0]} - {i[1]}) {G}"

    def written(self, graph: Graph, node: Node, vid: int) -> sympy.Expr | None:
        """The loss as people write it, a weighted sum of squared differences, not expanded."""
        z, t = (graph.tensors[n] for n in node.inputs)
        symbol = graph.registry.symbol
        squares = [
            sympy.Pow(
                sympy.Add(symbol(a), sympy.Mul(-1, symbol(b), evaluate=False), evaluate=False),
                2,
                evaluate=False,
            )
            for a, b in zip(z.ids, t.ids)
        ]
        if node.params["reduction"] == "sum":
            return sympy.Add(*squares, evaluate=False)
        # each square weighted, so that a narrow page can wrap the sum between its terms
        weight = sympy.Rational(1, z.numel)
        return sympy.Add(*(sympy.Mul(weight, q, evaluate=False) for q in squares), evaluate=False)

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"torch.nn.functional.mse_loss({i[0]}, {i[1]}, reduction={node.params['reduction']!r})"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        i = node.inputs
        n = "" if node.params["reduction"] == "sum" else f" / {i[0]}.numel()"
        return [(i[0], f"2 * ({i[0]} - {i[1]}){n} * {g}"), (i[1], f"-2 * ({i[0]} - {i[1]}){n} * {g}")]


class Upstream(Layer):
    """L = Σ g ⊙ y: dL/dy = g, dL/dg = y. Made by the tracer, not offered by symgrad.functional."""

    name = "upstream"

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        y, g_in = (graph.tensors[name] for name in node.inputs)
        (gl,) = G
        return {
            y.name: [poly.mul(gl, v(u)) for u in g_in.ids],
            g_in.name: [poly.mul(gl, v(u)) for u in y.ids],
        }

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = \textstyle\sum {i[1]} \odot {i[0]}"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return [rf"{i[1]} {G}", rf"{i[0]} {G}"][k]

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"({i[1]} * {i[0]}).sum()"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        i = node.inputs
        return [(i[0], f"{i[1]} * {g}"), (i[1], f"{i[0]} * {g}")]


MSE_LOSS, UPSTREAM = MseLoss(), Upstream()
