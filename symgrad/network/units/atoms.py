"""exp, log, sqrt, sigmoid and tanh: layers applying one scalar function to every entry, each an
atom whose lemma gives its derivative as a polynomial in variables the graph has."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import mpmath
import sympy

from ...core import poly
from .base import Elementwise, Lemma, atomic, v

if TYPE_CHECKING:
    from ..graph import Tensor


def _positive(f):
    """f where its argument is positive, None (undefined) elsewhere."""
    return lambda x, p, tiny: None if x < tiny else f(x)


def exp(x, name=None) -> Tensor:
    return atomic("exp", x, EXP.lemmas[0], name)


def log(x, name=None) -> Tensor:
    return atomic("log", x, LOG.lemmas[0], name)


def sqrt(x, name=None) -> Tensor:
    return atomic("sqrt", x, SQRT.lemmas[0], name)


def sigmoid(x, name=None) -> Tensor:
    return atomic("sigmoid", x, SIGMOID.lemmas[0], name, stem="s")


def tanh(x, name=None) -> Tensor:
    return atomic("tanh", x, TANH.lemmas[0], name)


EXP = Elementwise(
    lemma=Lemma(
        "exp",
        lambda u, p: sympy.exp(u),
        lambda a, u, h, p: a,
        r"\frac{d}{du} e^{u} = e^{u}",
        numeric=lambda x, p, tiny: mpmath.exp(x),
        grows=True,
    ),
    forward=exp,
    forward_tex=lambda x, o: rf"{o} = e^{{{x}}}",
    closed_tex=lambda x, o, G: rf"{G} \odot {o}",
    derivative=lambda graph, y, z: v(y),
    torch_call="torch.exp",
    torch_grad=lambda x, o, g: f"{g} * {o}",
)

LOG = Elementwise(
    lemma=Lemma(
        "log",
        lambda u, p: sympy.log(u),
        lambda a, u, h, p: h,
        r"\frac{d}{du} \log u = \frac{1}{u}",
        needs="inverse of argument",
        helper=lambda u, value: 1 / u,
        assumptions=(("positive", True),),
        numeric=_positive(mpmath.log),
    ),
    forward=log,
    forward_tex=lambda x, o: rf"{o} = \log {x}",
    closed_tex=lambda x, o, G: rf"{G} \oslash {x}",
    derivative=lambda graph, y, z: v(graph.reciprocal(z)),
    torch_call="torch.log",
    torch_grad=lambda x, o, g: f"{g} / {x}",
)

SQRT = Elementwise(
    lemma=Lemma(
        "sqrt",
        lambda u, p: sympy.sqrt(u),
        lambda a, u, h, p: h / 2,
        r"\frac{d}{du} \sqrt{u} = \frac{1}{2 \sqrt{u}}",
        needs="inverse of value",
        helper=lambda u, value: 1 / value,
        assumptions=(("positive", True),),
        numeric=_positive(mpmath.sqrt),
    ),
    forward=sqrt,
    forward_tex=lambda x, o: rf"{o} = \sqrt{{{x}}}",
    closed_tex=lambda x, o, G: rf"{G} \oslash (2 {o})",
    derivative=lambda graph, y, z: poly.scale(v(graph.reciprocal(y)), Fraction(1, 2)),
    torch_call="torch.sqrt",
    torch_grad=lambda x, o, g: f"{g} / (2 * {o})",
)

SIGMOID = Elementwise(
    lemma=Lemma(
        "sigmoid",
        lambda u, p: 1 / (1 + sympy.exp(-u)),
        lambda a, u, h, p: a * (1 - a),
        r"\frac{d}{du} \sigma(u) = \sigma(u)\,\bigl(1 - \sigma(u)\bigr)",
        numeric=lambda x, p, tiny: 1 / (1 + mpmath.exp(-x)),
        written=lambda argument, p: sympy.Function("sigma")(argument),
        grows=True,
    ),
    forward=sigmoid,
    forward_tex=lambda x, o: rf"{o} = \sigma({x}) = \frac{{1}}{{1 + e^{{-{x}}}}}",
    closed_tex=lambda x, o, G: rf"{G} \odot {o} \odot (1 - {o})",
    derivative=lambda graph, y, z: poly.mul(v(y), {(): 1, (y,): -1}),
    torch_call="torch.sigmoid",
    torch_grad=lambda x, o, g: f"{g} * {o} * (1 - {o})",
)

TANH = Elementwise(
    lemma=Lemma(
        "tanh",
        lambda u, p: sympy.tanh(u),
        lambda a, u, h, p: 1 - a**2,
        r"\frac{d}{du} \tanh u = 1 - \tanh^{2} u",
        numeric=lambda x, p, tiny: mpmath.tanh(x),
        grows=True,
    ),
    forward=tanh,
    forward_tex=lambda x, o: rf"{o} = \tanh {x}",
    closed_tex=lambda x, o, G: rf"{G} \odot (1 - {o} \odot {o})",
    derivative=lambda graph, y, z: {(): 1, (y, y): -1},
    torch_call="torch.tanh",
    torch_grad=lambda x, o, g: f"{g} * (1 - {o} ** 2)",
)
