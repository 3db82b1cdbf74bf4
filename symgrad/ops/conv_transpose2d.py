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
"""

from __future__ import annotations

import argparse
import itertools

import sympy

from ..chain.build import Problem, derive
from ..chain.derivation import Equation, Presentation, Step
from ..chain.losses import check_loss
from ..chain.rules import CLOSED_FORM, Rule
from ..core import poly
from ..core.budget import check_budget
from ..core.errors import SymgradError
from ..core.tensor import PolyTensor
from ..core.tensorop import TensorOpBase
from ..network import layers
from ..network.units.conv2d import BiasGrad, ConvTranspose2d, _dims, flag
from ..network.units.conv_transpose2d import Conv2dForward, Transposed, TransposeWeightGrad, transposed_geometry
from .conv2d import (
    LOSS_ENTRY,
    OUTPUT_HEIGHT,
    OUTPUT_WIDTH,
    ConvParams,
    _one_layer,
    conv_inline,
    default_picks,
    slices,
    stem,
)
from .spec import OpSpec, convolution_arguments

COLLECTION = Rule("collection", "equal", "collection view, proven")
DUALITY = Rule("duality", "equal", "conv2d's input gradient, proven")


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


def notation(geo: Transposed, reg, inputs) -> dict:
    return {"slices": slices(reg, inputs, (geo.H, geo.W), (geo.kH, geo.kW))}


def equations(d) -> dict:
    geo: Transposed = d.params.geometry
    size_steps = []
    for rule, size, k, s, p, dil, op, out in zip(
        (OUTPUT_HEIGHT, OUTPUT_WIDTH),
        (geo.H, geo.W),
        (geo.kH, geo.kW),
        geo.stride,
        geo.padding,
        geo.dilation,
        geo.output_padding,
        geo.out,
    ):
        formula = sympy.Add(
            sympy.Mul(sympy.Add(size, -1, evaluate=False), s, evaluate=False),
            -2 * p,
            sympy.Mul(dil, sympy.Add(k, -1, evaluate=False), evaluate=False),
            op,
            1,
            evaluate=False,
        )
        size_steps.append(Step(formula, sympy.Integer(out), rule))
    eq = {"output_size": Equation("output_size", tuple(size_steps))}
    for name, closed in d.closed_forms.items():
        eq[f"closed_{name}"] = Equation(f"closed_{name}", (Step(sympy.Symbol(f"d{name}"), closed, CLOSED_FORM),))
    (_, collection), (_, duality) = d.presentation.views
    eq["collection"] = Equation("collection", (Step(sympy.Symbol("Y"), collection, COLLECTION),))
    eq["duality_forward"] = Equation("duality_forward", (Step(sympy.Symbol("Y"), duality, DUALITY),))
    if d.loss.has_value:
        first = d.output.ids[0]
        value = d.upstream_values.entries[0].get((), 0)
        eq["loss"] = Equation(
            "loss",
            (
                Step(
                    sympy.Derivative(sympy.Symbol("L"), d.registry.symbol(first)),
                    sympy.Rational(value.numerator, value.denominator),
                    LOSS_ENTRY,
                ),
            ),
        )
    return eq


class Collection(TensorOpBase):
    """The collection view of the forward pass: X with s − 1 zeros between its elements, padded by
    d·(k − 1) − p (and the output padding after), then a stride-1 convolution with the flipped kernel.
    The padded tensor is built explicitly; a negative padding crops."""

    tensors = 3
    label = "collection"
    view_name = "collection"

    def describe(self):
        sH, sW, _pH, _pW, dH, dW, groups, _opH, _opW = self.params
        return [
            ("zeros between", (sH - 1, sW - 1)),
            ("flipped kernel", None),
            ("stride", (1, 1)),
            ("dilation", (dH, dW)),
            ("groups", groups),
        ]

    def compute(self, X, W, b=None):
        sH, sW, pH, pW, dH, dW, groups, opH, opW = self.params
        N, C, H, Wd = X.shape
        _, Og, kH, kW = W.shape
        O, Cg = Og * groups, C // groups
        lead = (dH * (kH - 1) - pH, dW * (kW - 1) - pW)  # zeros before the first element (negative: cropped)
        size = ((H - 1) * sH + 1 + 2 * lead[0] + opH, (Wd - 1) * sW + 1 + 2 * lead[1] + opW)

        def stretched(n, c, a, e):
            """The zero-inserted, padded input at (a, e)."""
            a, e = a - lead[0], e - lead[1]
            if a < 0 or e < 0 or a % sH or e % sW or a // sH >= H or e // sW >= Wd:
                return {}
            return X[(n, c, a // sH, e // sW)]

        Ho, Wo = size[0] - dH * (kH - 1), size[1] - dW * (kW - 1)
        out = []
        for n, o, h, w in itertools.product(range(N), range(O), range(Ho), range(Wo)):
            acc: dict = {}
            group, oo = divmod(o, Og)
            for c in range(group * Cg, (group + 1) * Cg):
                for u, v in itertools.product(range(kH), range(kW)):
                    z = stretched(n, c, h + u * dH, w + v * dW)
                    if z:
                        poly.mul_into(acc, z, W[(c, oo, kH - 1 - u, kW - 1 - v)])  # the flipped kernel
            entry = {m: k for m, k in acc.items() if k}
            out.append(poly.add(entry, b[(o,)]) if b is not None else entry)
        return PolyTensor((N, O, Ho, Wo), tuple(out))


class CollectionNoBias(Collection):
    tensors = 2


class BiasBroadcast(TensorOpBase):
    """The bias b added at every position of an N×O×H×W output."""

    tensors = 1
    label = "broadcast"

    def compute(self, b):
        N, O, H, W = self.params
        return PolyTensor.build((N, O, H, W), lambda ix: b[(ix[1],)])


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
