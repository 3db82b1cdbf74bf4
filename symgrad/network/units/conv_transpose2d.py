"""conv_transpose2d as a network layer, with its geometry and its closed-form backward pass:
dL/dX = conv2d(G, W) with the same stride, padding, dilation and groups; dL/dW = the correlation
of G with X, summed over the batch; dL/db = the sum of G.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ...core import poly
from ...core.errors import SymgradError
from ...core.tensor import PolyTensor
from ...core.tensorop import TensorOpBase
from .conv2d import Geometry, _rank4, pair, positive, shape4


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

    def result_shape(self, g_shape, w_shape) -> tuple:
        geo = self._geometry(g_shape, w_shape)
        H, W = self.params[7:]
        if geo.out[0] < H or geo.out[1] < W:
            raise SymgradError(
                f"conv2d: these parameters give a {geo.out[0]}×{geo.out[1]} result, smaller than the {H}×{W} input"
            )
        return (geo.N, geo.O, H, W)

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
    label = "ConvTransposeWeight"

    def describe(self):
        sH, sW, pH, pW, dH, dW, groups, _kH, _kW = self.params
        return [("stride", (sH, sW)), ("padding", (pH, pW)), ("dilation", (dH, dW)), ("groups", groups)]

    def result_shape(self, x_shape, g_shape) -> tuple:
        _sH, _sW, _pH, _pW, _dH, _dW, groups, kH, kW = self.params
        N, C, _H, _W = _rank4("conv_transpose2d_weight", "first tensor (the input)", x_shape)
        N_g, O, _Ho, _Wo = _rank4("conv_transpose2d_weight", "second tensor (the upstream gradient)", g_shape)
        if N_g != N:
            raise SymgradError(f"conv_transpose2d_weight: the input has {N} samples, the upstream gradient {N_g}")
        if C % groups or O % groups:
            raise SymgradError(f"conv_transpose2d_weight: groups={groups} must divide {C} and {O} channels")
        return (C, O // groups, kH, kW)

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
