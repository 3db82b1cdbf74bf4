"""Y = conv2d(X, W, b): cross-correlation with stride, zero padding, dilation and groups, as in
PyTorch. X is N×C×H×W, W is O×(C/groups)×kH×kW, b has O entries, and

    y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n, g·C/groups + c, i·s − p + u·d, j·s − p + v·d]

over the taps that land inside X (zero padding adds nothing), g being o's group. The module
knows convolution and nothing else: the element-wise chain rule is the engine's, as for matmul.

Closed forms, each computed independently of the chain rule and proven equal to it element by
element: dL/dX = conv_transpose2d(G, W) with the output padding that recovers H×W; dL/dW = the
correlation of X with G summed over the batch; dL/db = Σ_{n,i,j} G. And the im2col view:
Y = W_mat · unfold(X) + b, dW_mat = Σ_n G_mat · unfold(X)ᵀ, dX = fold(W_matᵀ · G_mat).

This module is the preset: the derivation and its command line. The document's equations and
its checked entry formula are ``conv2d_document``'s; the im2col view's operations, ``im2col``'s.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import sympy

from ..chain.build import Problem, derive
from ..chain.derivation import Presentation
from ..chain.engine import gc_paused
from ..chain.losses import check_loss
from ..core import packedpoly
from ..core.budget import check_budget, packed_cost
from ..core.errors import SymgradError
from ..core.symbols import SymbolTensor
from ..network import layers
from ..network.graph import Graph
from ..network.units.conv2d import BiasGrad, Conv2dWeight, ConvTranspose2d, flag, geometry
from .conv2d_document import conv_inline, default_picks, entry_formula, equations, notation, stem
from .im2col import Im2colForward, Im2colForwardNoBias, Im2colInputGrad, Im2colWeightGrad
from .spec import OpSpec, convolution_arguments


@dataclass(frozen=True)
class ConvParams:
    geometry: Any  # Geometry, or the transposed convolution's geometry
    bias: bool
    formula_values: dict = field(default_factory=dict)  # the sizes behind the displayed entry formula


def conv2d(
    input_shape=(1, 2, 5, 5),
    weight_shape=(2, 2, 3, 3),
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    bias=True,
    loss="generic",
    *,
    pick_x=None,
    pick_w=None,
    max_terms=None,
):
    """Derive dL/dX, dL/dW and dL/db for Y = conv2d(X, W, b); picks are 1-based, as printed.
    ``max_terms`` raises the size budget (see ``symgrad.budget``)."""
    loss, bias = check_loss(loss), flag("bias", bias)
    geo = geometry(input_shape, weight_shape, stride, padding, dilation, groups)
    outputs = geo.N * geo.O * geo.out[0] * geo.out[1]
    # at most one term per kernel tap and output, plus the bias; inputs, weights, outputs, upstream;
    # a layer large enough to be kept packed costs a fraction of that
    terms = outputs * (geo.Cg * geo.kH * geo.kW + 1)
    check_budget(
        f"this convolution ({geo.N}×{geo.C}×{geo.H}×{geo.W} input, {geo.O}×{geo.Cg}×{geo.kH}×{geo.kW} kernel)",
        packed_cost(terms) if packedpoly.wanted(outputs * geo.Cg * geo.kH * geo.kW) else terms,
        geo.N * geo.C * geo.H * geo.W + geo.O * geo.Cg * geo.kH * geo.kW + geo.O + 2 * outputs,
        max_terms,
    )
    graph, inputs, Y = _one_layer(
        layers.conv2d,
        {"X": (geo.N, geo.C, geo.H, geo.W), "W": (geo.O, geo.Cg, geo.kH, geo.kW), "b": (geo.O,) if bias else None},
        dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation, groups=geo.groups),
        max_terms,
    )
    reg = graph.registry
    params = geo.params()
    closed = {
        "X": ConvTranspose2d(*SYM("G", "W"), *params, *geo.output_padding()),
        "W": Conv2dWeight(*SYM("X", "G"), *params, geo.kH, geo.kW),
    }
    if bias:
        closed["b"] = BiasGrad(*SYM("G"))
    forward = (
        Im2colForward(*SYM("X", "W", "b"), *params, geo.kH, geo.kW)
        if bias
        else Im2colForwardNoBias(*SYM("X", "W"), *params, geo.kH, geo.kW)
    )
    views = [
        ("Y", forward),
        ("W", Im2colWeightGrad(*SYM("X", "G"), *params, geo.kH, geo.kW)),
        ("X", Im2colInputGrad(*SYM("G", "W"), *params, geo.H, geo.W)),
    ]
    problem = Problem(
        op="conv2d",
        sizes={"input": (geo.N, geo.C, geo.H, geo.W), "weight": (geo.O, geo.Cg, geo.kH, geo.kW)},
        graph=graph,
        inputs=inputs,
        output=Y,
        closed_forms=closed,
        equations=equations,
        presentation=Presentation(
            title=f"Convolution and its gradients: a {geo.N}×{geo.C}×{geo.H}×{geo.W} input, "
            f"a {geo.O}×{geo.Cg}×{geo.kH}×{geo.kW} kernel",
            body="conv2d",
            stem=stem("conv2d", (geo.N, geo.C, geo.H, geo.W), (geo.O, geo.Cg, geo.kH, geo.kW)),
            notation=notation(geo, reg, inputs),
            views=tuple(views),
            inline=conv_inline("conv2d", bias),
        ),
        params=ConvParams(geo, bias, entry_formula(geo, bias)[2]),
    )
    return derive(problem, loss, default_picks(pick_x, pick_w, (geo.H, geo.W), (geo.kH, geo.kW)))


def _one_layer(layer, shapes: dict, options: dict, max_terms) -> tuple:
    """The op as a one-layer network of the graph engine: inputs X, W (and b) with their
    entry letters, and the layer's output Y, written y."""
    graph = Graph(max_terms, operations=layers)
    made = {name: graph.input(name, shape, name.lower()) for name, shape in shapes.items() if shape is not None}
    with gc_paused():
        y = layer(made["X"], made["W"], made.get("b"), name="Y", **options)
    graph.rename_entries(y, "y")
    inputs = {name: SymbolTensor(t.name, name.lower(), t.shape, t.ids) for name, t in made.items()}
    return graph, inputs, SymbolTensor("Y", "y", y.shape, y.ids)


def SYM(*names):
    return tuple(sympy.Symbol(n) for n in names)


def _arguments(parser: argparse.ArgumentParser) -> None:
    convolution_arguments(
        parser, (1, 2, 5, 5), (2, 2, 3, 3), "O×(C/groups)×kH×kW, as 2x2x3x3 (the default)", loss_default="generic"
    )


def _from_args(args: argparse.Namespace, max_terms: int | None):
    return conv2d(
        args.input,
        args.weight,
        args.stride,
        args.padding,
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
        geo = geometry(args.input, args.weight, args.stride, args.padding, args.dilation, args.groups)
    except SymgradError:
        return 0
    return geo.N * geo.O * geo.out[0] * geo.out[1] * geo.Cg * geo.kH * geo.kW


SPEC = OpSpec(
    name="conv2d",
    summary="Y = conv2d(X, W, b): dL/dX, dL/dW and dL/db",
    arguments=_arguments,
    build=_from_args,
    terms=_terms,
    examples=(
        (
            "a convolution: one 3-channel 16×32 sample, a 2×3×4×5 kernel, padding 1, stride 2",
            lambda: conv2d((1, 3, 16, 32), (2, 3, 4, 5), stride=2, padding=1, loss="mean"),
        ),
    ),
)
