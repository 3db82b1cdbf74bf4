"""conv_transpose2d as a network layer, with its geometry and its closed-form backward pass:
dL/dX = conv2d(G, W) with the same stride, padding, dilation and groups; dL/dW = the correlation
of G with X, summed over the batch; dL/db = the sum of G.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...core import poly
from ...core.errors import SymgradError
from ...core.symbols import operator_name
from ...core.tensor import PolyTensor
from ...core.tensorop import TensorOpBase
from .base import Layer, Shapes, check_tensor, graph_of, merge, output, plain_ints
from .conv2d import (
    BiasGrad,
    Geometry,
    _rank4,
    pair,
    poly_tensor,
    positive,
    shape4,
    symbols,
    torch_args,
    torch_call,
    torch_keywords,
    torch_shares,
)

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


@dataclass(frozen=True)
class Transposed:
    """The geometry of a transposed convolution: the input X, the kernel, and the output Y."""

    N: int
    C: int
    H: int
    W: int
    O: int
    kH: int
    kW: int
    stride: tuple
    padding: tuple
    dilation: tuple
    output_padding: tuple
    groups: int

    @property
    def Cg(self) -> int:  # input channels per group
        return self.C // self.groups

    @property
    def Og(self) -> int:  # output channels per group
        return self.O // self.groups

    @property
    def out(self) -> tuple:
        return tuple(
            (size - 1) * s - 2 * p + d * (k - 1) + op + 1
            for size, s, p, d, k, op in zip(
                (self.H, self.W), self.stride, self.padding, self.dilation, (self.kH, self.kW), self.output_padding
            )
        )

    def conv(self) -> Geometry:
        """The convolution this one is the transpose of: from Y's size back to X's."""
        Ho, Wo = self.out
        return Geometry(
            self.N, self.O, Ho, Wo, self.C, self.kH, self.kW, self.stride, self.padding, self.dilation, self.groups
        )

    def params(self) -> tuple:
        return (*self.stride, *self.padding, *self.dilation, self.groups, *self.output_padding)


def transposed_geometry(input_shape, weight_shape, stride, padding, output_padding, dilation, groups) -> Transposed:
    N, C, H, W = shape4("input_shape", input_shape)
    C_w, Og, kH, kW = shape4("weight_shape", weight_shape)
    groups = positive("groups", groups)
    if C % groups:
        raise SymgradError(f"groups={groups} must divide the input channels ({C})")
    if C_w != C:
        raise SymgradError(f"the weight has {C_w} input channels (its first dimension), but the input has {C}")
    geo = Transposed(
        N,
        C,
        H,
        W,
        Og * groups,
        kH,
        kW,
        pair("stride", stride, 1),
        pair("padding", padding, 0),
        pair("dilation", dilation, 1),
        pair("output_padding", output_padding, 0),
        groups,
    )
    for axis, op, s, d in zip("HW", geo.output_padding, geo.stride, geo.dilation):
        if op >= s and op >= d:  # PyTorch's own rule
            raise SymgradError(
                f"output_padding must be smaller than either stride or dilation, but along {axis} it "
                f"is {op} with stride {s} and dilation {d}"
            )
    for axis, size in zip("HW", geo.out):
        if size < 1:
            raise SymgradError(f"the output would be empty along {axis} ({size}): the padding is too large")
    return geo


# --- views and closed forms, each computed on its own ------------------------------------------------


class Conv2dForward(TensorOpBase):
    """conv2d(G, W) cropped to H×W: y[n,c,i,j] = Σ_{o,u,v} G[n, o, i·s − p + u·d, j·s − p + v·d] · W[c, o, u, v],
    the ordinary convolution (W read as conv2d's weight: C out, O/groups in)."""

    tensors = 2
    label = "conv2d"

    def describe(self):
        sH, sW, pH, pW, dH, dW, groups, _H, _W = self.params
        return [("stride", (sH, sW)), ("padding", (pH, pW)), ("dilation", (dH, dW)), ("groups", groups)]

    def claim(self, shapes: dict) -> str:
        G, W = self.args[:2]
        text = f"conv2d({G}, {W}" + torch_keywords(self.params) + ")"
        geo = self._geometry(shapes[str(G)], shapes[str(W)])
        if geo.out != tuple(self.params[7:]):  # an output padding of at least the stride: cropped
            text += "[:, :, :{}, :{}]".format(*self.params[7:])
        return text

    def _geometry(self, g_shape, w_shape) -> Geometry:
        sH, sW, pH, pW, dH, dW, groups, _H, _W = self.params
        N, O, Ho, Wo = _rank4("conv2d", "first tensor (the upstream gradient)", g_shape)
        C, Og, kH, kW = _rank4("conv2d", "second tensor (the weight)", w_shape)
        if Og * groups != O:
            raise SymgradError(
                f"conv2d: the weight takes {Og} channels per group, {Og * groups} in {groups} groups, "
                f"but the first tensor has {O}"
            )
        if C % groups:
            raise SymgradError(f"conv2d: groups={groups} does not divide the weight's {C} output channels")
        return Geometry(N, O, Ho, Wo, C, kH, kW, (sH, sW), (pH, pW), (dH, dW), groups)

    def compute(self, G, W):
        geo = self._geometry(G.shape, W.shape)
        H, Wd = self.params[7:]
        out = []
        for n, c, i, j in itertools.product(range(geo.N), range(geo.O), range(H), range(Wd)):
            acc: dict = {}
            group = c // geo.Og
            for oo in range(geo.Cg):
                for u, v, h, w in geo.taps(i, j):
                    poly.mul_into(acc, G[(n, group * geo.Cg + oo, h, w)], W[(c, oo, u, v)])
            out.append({m: k for m, k in acc.items() if k})
        return PolyTensor((geo.N, geo.O, H, Wd), tuple(out))


class TransposeWeightGrad(TensorOpBase):
    """dL/dW[c, o, u, v] = Σ_n Σ_{i,j} X[n, c, i, j] · G[n, g·O/groups + o, i·s − p + u·d, j·s − p + v·d]:
    the upstream gradient correlated with the input, summed over the batch."""

    tensors = 2
    label = "conv_transpose2d_weight"

    def describe(self):
        sH, sW, pH, pW, dH, dW, groups, _kH, _kW = self.params
        return [("stride", (sH, sW)), ("padding", (pH, pW)), ("dilation", (dH, dW)), ("groups", groups)]

    def claim(self, shapes: dict) -> str:
        X, G = self.args[:2]
        groups, kH, kW = self.params[6:]
        (_, C, H, Wd), (_, O, Ho, Wo) = shapes[str(X)], shapes[str(G)]
        sH, sW, pH, pW, dH, dW = self.params[:6]
        # the output padding is what G's size has beyond the transposed convolution's own
        extra = (Ho - (H - 1) * sH + 2 * pH - dH * (kH - 1) - 1, Wo - (Wd - 1) * sW + 2 * pW - dW * (kW - 1) - 1)
        size = (C, O // groups, kH, kW)
        return f"conv_transpose2d_weight({X}, {size}, {G}" + torch_keywords(self.params, extra) + ")"

    def compute(self, X, G):
        sH, sW, pH, pW, dH, dW, groups, kH, kW = self.params
        N, C, H, Wd = X.shape
        _, O, Ho, Wo = G.shape
        conv = Geometry(N, O, Ho, Wo, C, kH, kW, (sH, sW), (pH, pW), (dH, dW), groups)
        Cg, Og = C // groups, O // groups
        out = []
        for c, oo, u, v in itertools.product(range(C), range(Og), range(kH), range(kW)):
            acc: dict = {}
            o = (c // Cg) * Og + oo
            for n, i, j in itertools.product(range(N), range(H), range(Wd)):
                spot = conv.at(i, j, u, v)
                if spot:
                    poly.mul_into(acc, X[(n, c, i, j)], G[(n, o) + spot])
            out.append({m: k for m, k in acc.items() if k})
        return PolyTensor((C, Og, kH, kW), tuple(out))


# --- the layer -------------------------------------------------------------------------------------


def conv_transpose2d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, name=None
) -> Tensor:
    """torch.nn.functional.conv_transpose2d, with its weight layout (in, out/groups, kH, kW)."""
    x, weight = check_tensor(x, "conv_transpose2d"), check_tensor(weight, "conv_transpose2d", "weight")
    stride, padding, output_padding, groups, dilation = (
        plain_ints(v) for v in (stride, padding, output_padding, groups, dilation)
    )
    geo = transposed_geometry(x.shape, weight.shape, stride, padding, output_padding, dilation, groups)
    x.graph.reserve("conv_transpose2d", geo.N * geo.C * geo.H * geo.W * geo.Og * geo.kH * geo.kW + math.prod(geo.out))
    if bias is not None and check_tensor(bias, "conv_transpose2d", "bias").shape != (geo.O,):
        raise SymgradError(f"conv_transpose2d: the bias must have shape ({geo.O},), got {bias.shape}")
    Ho, Wo = geo.out
    graph = graph_of(x, weight)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    params = dict(
        stride=geo.stride,
        padding=geo.padding,
        output_padding=geo.output_padding,
        groups=geo.groups,
        dilation=geo.dilation,
    )
    out = output(graph, "conv_transpose2d", inputs, (geo.N, geo.O, Ho, Wo), name, "convt", **params)
    conv = geo.conv()
    entries: dict = {}
    for n, c, i, j in itertools.product(range(geo.N), range(geo.C), range(geo.H), range(geo.W)):
        xid = x.ids[((n * geo.C + c) * geo.H + i) * geo.W + j]
        group = c // geo.Cg
        for oo in range(geo.Og):
            o = group * geo.Og + oo
            for u, v, h, w in conv.taps(i, j):
                wid = weight.ids[((c * geo.Og + oo) * geo.kH + u) * geo.kW + v]
                entries.setdefault((n, o, h, w), {})[tuple(sorted((xid, wid)))] = 1
    for position, key in enumerate(itertools.product(range(geo.N), range(geo.O), range(Ho), range(Wo))):
        entry = entries.get(key, {})
        if bias is not None:
            entry[(bias.ids[key[1]],)] = 1
        graph.define(out.ids[position], entry)
    return out


class ConvTranspose2dLayer(Layer):
    name = "conv_transpose2d"
    forward = staticmethod(conv_transpose2d)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        """dL/dX = conv2d(G, W), dL/dW = corr(G, X), dL/db = Σ_{n,i,j} G: the TensorOps."""
        ins = [graph.tensors[name] for name in node.inputs]
        x, w = ins[0], ins[1]
        p = node.params
        geo = transposed_geometry(
            x.shape, w.shape, p["stride"], p["padding"], p["output_padding"], p["dilation"], p["groups"]
        )
        params = geo.params()
        g = PolyTensor((geo.N, geo.O, *geo.out), tuple(G))
        dx = Conv2dForward(*symbols("G", "W"), *params[:7], geo.H, geo.W).compute(g, poly_tensor(w))
        dw = TransposeWeightGrad(*symbols("X", "G"), *params[:7], geo.kH, geo.kW).compute(poly_tensor(x), g)
        pairs = [(x.name, list(dx.entries)), (w.name, list(dw.entries))]
        if len(ins) == 3:
            pairs.append((ins[2].name, list(BiasGrad(*symbols("G")).compute(g).entries)))
        return merge({}, pairs)

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = {operator_name('conv_transpose2d')}({', '.join(i)})"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return [
            rf"{operator_name('conv2d')}({G}, {i[1]})",
            rf"\operatorname{{corr}}({G}, {i[0]})",
            rf"\textstyle\sum_{{n,i,j}} {G}",
        ][k]

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return torch_call(node, ("stride", "padding", "output_padding", "groups", "dilation"))

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        """conv2d(G, W), cut to H×W, and corr(G, X), conv2d's weight gradient with the roles of
        input and upstream gradient exchanged. With an output padding of at least the stride
        (allowed when it is below the dilation) conv2d of G has ⌊output_padding/stride⌋ rows or
        columns more than X: they are cut from the input gradient, and X is padded with as many
        zeros for the weight gradient."""
        x, w = node.inputs[0], node.inputs[1]
        H, W = graph.tensors[x].shape[2:]
        p = node.params
        extra_h, extra_w = (o // s for o, s in zip(p["output_padding"], p["stride"]))
        gx = f"torch.nn.functional.conv2d({g}, {w}, None, {torch_args(node)})[:, :, :{H}, :{W}]"
        padded = f"torch.nn.functional.pad({x}, (0, {extra_w}, 0, {extra_h}))" if extra_h or extra_w else x
        return torch_shares(node, g, gx, f"{g}, {w}.shape, {padded}")


CONV_TRANSPOSE2D = ConvTranspose2dLayer()
