"""A transposed convolution's document: the output's size, the closed forms, and the collection
and duality views as equations; the rest it shares with conv2d's (``conv2d_document``).
"""

from __future__ import annotations

import sympy

from ..chain.derivation import Equation, Step
from ..chain.rules import CLOSED_FORM, Rule
from ..network.units.conv_transpose2d import Transposed
from .conv2d_document import LOSS_ENTRY, OUTPUT_HEIGHT, OUTPUT_WIDTH, slices

COLLECTION = Rule("collection", "equal", "collection view, proven")
DUALITY = Rule("duality", "equal", "conv2d's input gradient, proven")


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
