"""sum and mean over dimensions (all of them by default), with keepdim, as PyTorch reduces."""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import TYPE_CHECKING

from ...core import poly
from ...core.errors import SymgradError
from .base import Layer, Shapes, check_tensor, flag, frac, int_tuple, output

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


def _dims(x: Tensor, dim, op: str) -> tuple:
    dims = int_tuple(dim)
    if dim is None or dims == ():
        return tuple(range(x.ndim))  # PyTorch reduces every dimension for dim=None and for dim=()
    if dims is None:
        raise SymgradError(f"{op}: dim must be an integer or a tuple of them, got {dim!r}")
    out = []
    for d in dims:
        if not -x.ndim <= d < x.ndim:
            raise SymgradError(f"{op}: dim {d} is out of range for a tensor of {x.ndim} dimensions")
        if d % x.ndim in out:  # PyTorch: "dim 0 appears multiple times in the list of dims"
            raise SymgradError(f"{op}: dim {d % x.ndim} appears more than once in dim={dim!r}")
        out.append(d % x.ndim)
    return tuple(sorted(out))


def reduction_shape(shape: tuple, dims: tuple, keepdim: bool) -> tuple:
    """The shape a sum or mean over ``dims`` leaves."""
    if keepdim:
        return tuple(1 if d in dims else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in dims)


def reduction_targets(shape: tuple, dims: tuple, keepdim: bool) -> list:
    """For each entry of a tensor of ``shape`` (row-major), the position of the reduced entry it
    adds into."""
    out_shape = reduction_shape(shape, dims, keepdim)
    targets = []
    for index in itertools.product(*(range(s) for s in shape)):
        kept = (
            [0 if d in dims else i for d, i in enumerate(index)]
            if keepdim
            else [i for d, i in enumerate(index) if d not in dims]
        )
        target = 0
        for size, i in zip(out_shape, kept):
            target = target * size + i
        targets.append(target)
    return targets


def _reduce(op: str, x, dim, keepdim, weight_of, name=None) -> Tensor:
    x = check_tensor(x, op)
    dims = _dims(x, dim, op)
    keepdim = flag(keepdim, f"{op}: keepdim")
    graph = x.graph
    count = 1
    for d in dims:
        count *= x.shape[d]
    weight = poly._tidy(weight_of(count))
    out = output(
        graph, op, (x,), reduction_shape(x.shape, dims, bool(keepdim)), name, op, dims=dims, keepdim=bool(keepdim)
    )
    sums: list = [dict() for _ in range(out.numel)]
    for vid, target in zip(x.ids, reduction_targets(x.shape, dims, bool(keepdim))):
        poly.add_into(sums[target], {(vid,): weight})
    for vid, definition in zip(out.ids, sums):
        graph.define(vid, definition)
    return out


def sum(x, dim=None, keepdim=False, name=None) -> Tensor:
    return _reduce("sum", x, dim, keepdim, lambda n: Fraction(1), name)


def mean(x, dim=None, keepdim=False, name=None) -> Tensor:
    return _reduce("mean", x, dim, keepdim, lambda n: Fraction(1, n), name)


class Sum(Layer):
    name = "sum"
    forward = staticmethod(sum)

    def weight(self, count: int) -> Fraction:
        """What each entry adds into the result: 1 for a sum, 1/n for a mean."""
        return Fraction(1)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        """The upstream repeated over the reduced dimensions, times the weight."""
        x = graph.tensors[node.inputs[0]]
        dims = node.params["dims"]
        weight = self.weight(self.count(x, node.params))
        targets = reduction_targets(x.shape, dims, node.params["keepdim"])
        return {x.name: [poly.scale(G[target], weight) for target in targets]}

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = \textstyle\sum {i[0]}"

    # 1 is a tensor of ones shaped like the input: the upstream repeated over the reduced dimensions
    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return rf"{G}\, \mathbf{{1}}"

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        p = node.params
        return f"{i[0]}.{self.name}(dim={p['dims']}, keepdim={p['keepdim']})" if p["dims"] else f"{i[0]}.{self.name}()"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        x, p = node.inputs[0], node.params
        grow = g if p["keepdim"] or not p["dims"] else g + "".join(f".unsqueeze({dd})" for dd in p["dims"])
        return [(x, f"{grow}.expand_as({x}){self.torch_scale(node)}")]

    def torch_scale(self, node: Node) -> str:
        return ""


class Mean(Sum):
    name = "mean"
    forward = staticmethod(mean)

    def weight(self, count: int) -> Fraction:
        return Fraction(1, count)

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = \operatorname{{mean}} {i[0]}"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return rf"{frac(Fraction(1, x.count))}\, {G}\, \mathbf{{1}}"

    def torch_scale(self, node: Node) -> str:
        count = " * ".join(f"{node.inputs[0]}.shape[{dd}]" for dd in node.params["dims"]) or "1"
        return f" / ({count})"


SUM, MEAN = Sum(), Mean()
