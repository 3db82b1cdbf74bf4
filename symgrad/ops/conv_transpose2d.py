"""Y = conv_transpose2d(X, W, b), as in PyTorch: X is N×C×H×W, W is C×(O/groups)×kH×kW, b has O
entries, and every input element scatters a weighted copy of the kernel into the output:

    y[n, o, i·s − p + u·d, j·s − p + v·d] += x[n, c, i, j] · w[c, o − g·O/groups, u, v]

for c in group g of o, over the positions that land inside Y, whose size along each axis is
(H − 1)·s − 2p + d·(k − 1) + output_padding + 1. The stride and padding describe the convolution
this is the transpose of (the series' Part 3).

Proven views and closed forms, each computed on its own and compared with the element-wise
engine at every element:
- the collection view: insert s − 1 zeros between the input elements, pad by d·(k − 1) − p (and
  the output padding after), flip the kernel, and run a stride-1 convolution;
- the duality: the forward pass is conv2d's input gradient (conv2d's own closed form, fed X as
  the upstream gradient), and the input gradient is conv2d's forward pass;
- dL/dX = conv2d(G, W) with the same stride, padding, dilation and groups;
- dL/dW = the correlation of G with X, summed over the batch; dL/db = the sum of G.

This module is the preset: the derivation and its command line. The document's equations are
``conv_transpose2d_document``'s; the collection view's operations, ``collection``'s.
"""

from __future__ import annotations

import argparse

import sympy

from ..chain.build import Problem, derive
from ..chain.derivation import Presentation
from ..chain.losses import check_loss
from ..core.budget import check_budget
from ..core.errors import SymgradError
from ..network import layers
from ..network.units.conv2d import BiasGrad, ConvTranspose2d, _dims, flag
from ..network.units.conv_transpose2d import Conv2dForward, TransposeWeightGrad, transposed_geometry
from .collection import BiasBroadcast, Collection, CollectionNoBias
from .conv2d import ConvParams, _one_layer
from .conv2d_document import conv_inline, default_picks, stem
from .conv_transpose2d_document import equations, notation
from .spec import OpSpec, convolution_arguments


def conv_transpose2d(
    input_shape=(1, 2, 3, 3),
    weight_shape=(2, 1, 3, 3),
    stride=2,
    padding=1,
    output_padding=0,
    dilation=1,
    groups=1,
    bias=True,
    loss="mean",
    *,
    pick_x=None,
    pick_w=None,
    max_terms=None,
):
    """Derive dL/dX, dL/dW and dL/db for Y = conv_transpose2d(X, W, b); picks are 1-based, as printed.
    The defaults are the series' Part 3 example: a 2-channel 3×3 input, 3×3 kernels, stride 2,
    padding 1, a 5×5 output."""
    loss, bias = check_loss(loss), flag("bias", bias)
    geo = transposed_geometry(input_shape, weight_shape, stride, padding, output_padding, dilation, groups)
    Ho, Wo = geo.out
    taps = geo.N * geo.C * geo.H * geo.W * geo.Og * geo.kH * geo.kW
    outputs = geo.N * geo.O * Ho * Wo
    check_budget(
        f"this transposed convolution ({_dims((geo.N, geo.C, geo.H, geo.W))} input, "
        f"{_dims((geo.C, geo.Og, geo.kH, geo.kW))} kernel)",
        taps + outputs,
        geo.N * geo.C * geo.H * geo.W + geo.C * geo.Og * geo.kH * geo.kW + geo.O + 2 * outputs,
        max_terms,
    )
    graph, inputs, Y = _one_layer(
        layers.conv_transpose2d,
        {"X": (geo.N, geo.C, geo.H, geo.W), "W": (geo.C, geo.Og, geo.kH, geo.kW), "b": (geo.O,) if bias else None},
        dict(
            stride=geo.stride,
            padding=geo.padding,
            output_padding=geo.output_padding,
            dilation=geo.dilation,
            groups=geo.groups,
        ),
        max_terms,
    )
    reg = graph.registry
    names = [sympy.Symbol(n) for n in ("X", "W", "b", "G")]
    sX, sW, sb, sG = names
    params = geo.params()
    closed = {
        "X": Conv2dForward(sG, sW, *params[:7], geo.H, geo.W),
        "W": TransposeWeightGrad(sX, sG, *params[:7], geo.kH, geo.kW),
    }
    if bias:
        closed["b"] = BiasGrad(sG)
    collection = Collection(sX, sW, sb, *params) if bias else CollectionNoBias(sX, sW, *params)
    duality = ConvTranspose2d(sX, sW, *params)  # conv2d's input gradient, fed X as the upstream gradient
    if bias:
        duality = sympy.Add(duality, BiasBroadcast(sb, *Y.shape), evaluate=False)
    views = [("Y", collection), ("Y", duality)]
    problem = Problem(
        op="conv_transpose2d",
        sizes={"input": (geo.N, geo.C, geo.H, geo.W), "weight": (geo.C, geo.Og, geo.kH, geo.kW)},
        graph=graph,
        inputs=inputs,
        output=Y,
        closed_forms=closed,
        equations=equations,
        presentation=Presentation(
            title=f"Transposed convolution and its gradients: a {_dims((geo.N, geo.C, geo.H, geo.W))} input, "
            f"a {_dims((geo.C, geo.Og, geo.kH, geo.kW))} kernel",
            body="conv_transpose2d",
            stem=stem("conv-transpose2d", (geo.N, geo.C, geo.H, geo.W), (geo.C, geo.Og, geo.kH, geo.kW)),
            notation=notation(geo, reg, inputs),
            views=tuple(views),
            inline=conv_inline("conv_transpose2d", bias),
        ),
        params=ConvParams(geo, bias),
    )
    return derive(problem, loss, default_picks(pick_x, pick_w, (geo.H, geo.W), (geo.kH, geo.kW)))


def _arguments(parser: argparse.ArgumentParser) -> None:
    convolution_arguments(
        parser,
        (1, 2, 3, 3),
        (2, 1, 3, 3),
        "C×(O/groups)×kH×kW, as 2x1x3x3 (the default)",
        loss_default="mean",
        transposed=True,
    )


def _from_args(args: argparse.Namespace, max_terms: int | None):
    return conv_transpose2d(
        args.input,
        args.weight,
        args.stride,
        args.padding,
        args.output_padding,
        args.dilation,
        args.groups,
        bias=not args.no_bias,
        loss=args.loss,
        pick_x=args.pick_x,
        pick_w=args.pick_w,
        max_terms=max_terms,
    )


def _terms(args: argparse.Namespace) -> int:
    """Terms for the progress estimate; 0 when the shapes are not valid (the op then says why)."""
    try:
        geo = transposed_geometry(
            args.input, args.weight, args.stride, args.padding, args.output_padding, args.dilation, args.groups
        )
    except SymgradError:
        return 0
    return geo.N * geo.C * geo.H * geo.W * geo.Og * geo.kH * geo.kW


SPEC = OpSpec(
    name="conv_transpose2d",
    summary="Y = conv_transpose2d(X, W, b): dL/dX, dL/dW and dL/db",
    arguments=_arguments,
    build=_from_args,
    terms=_terms,
    examples=(
        (
            "a transposed convolution, the series' Part 3 example: a 2-channel 3×3 input, 3×3 kernels, stride 2, "
            "padding 1, a 5×5 output",
            lambda: conv_transpose2d((1, 2, 3, 3), (2, 1, 3, 3), stride=2, padding=1),
        ),
    ),
)
