"""x to a constant power: a polynomial for a whole exponent, a reciprocal's power for a negative
whole one, an atom (with the power lemma) for a fractional one."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import mpmath
import sympy

from ...core import numbers, poly
from .base import Layer, Lemma, Shapes, atomic, check_tensor, exact, frac, num, output, times, v

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


def pow(x, exponent, name=None) -> Tensor:
    """x to a constant power: a polynomial for a whole exponent, a reciprocal's power for a
    negative whole one, an atom otherwise."""
    x = check_tensor(x, "pow")
    p = exact(exponent, "pow: the exponent")
    numbers.check_exponent(p, "pow: the exponent")  # x**n is written out as n factors
    graph = x.graph
    if p.denominator != 1:
        return atomic("pow", x, POWER, name, parameter=p)
    n = int(p)
    out = output(graph, "pow", (x,), x.shape, name, "pow", exponent=p)
    for vid, argument in zip(out.ids, x.ids):
        base = argument if n >= 0 else graph.reciprocal(argument)
        graph.define(vid, {tuple([base] * abs(n)): 1})
    return out


def _value(x, p: Fraction, tiny):
    return None if x < tiny else mpmath.power(x, mpmath.mpf(p.numerator) / p.denominator)


POWER = Lemma(
    "power",
    lambda u, p: u**p,
    lambda a, u, h, p: p * a * h,
    r"\frac{d}{du} u^{p} = p\, u^{p} \cdot \frac{1}{u}",
    needs="inverse of argument",
    helper=lambda u, value: 1 / u,
    # u^p for a fractional p is real only for u > 0, and the rule divides by u
    assumptions=(("positive", True),),
    numeric=_value,
    written=lambda argument, p: sympy.Pow(argument, sympy.Rational(p), evaluate=False),
    parameter_point=Fraction(3, 2),
)


def _exponent(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


class Pow(Layer):
    name = "pow"
    lemmas = (POWER,)
    forward = staticmethod(pow)

    def lemma(self, node: Node) -> str | None:
        p = node.params["exponent"]
        if p < 0:
            return "inverse"
        return "power" if p.denominator != 1 else None

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        out, x = graph.tensors[node.output], graph.tensors[node.inputs[0]]
        p = node.params["exponent"]
        return {x.name: [poly.mul(g, _derivative(graph, p, y, z)) for g, y, z in zip(G, out.ids, x.ids)]}

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = {i[0]}^{{{p['exponent']}}}"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        """p G ⊙ x^(p − 1) with the exponent's value; zero for x⁰."""
        p = x.params["exponent"]
        if p == 0:
            return "0"
        sign, size = ("-" if p < 0 else ""), abs(p)
        factor = "" if size == 1 else rf"{frac(size)}\, "
        power = "" if p == 1 else rf" \odot {i[0]}^{{{_exponent(p - 1)}}}"
        return rf"{sign}{factor}{G}{power}"

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"{i[0]} ** {num(node.params['exponent'])}"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        x, q = node.inputs[0], node.params["exponent"]
        return [(x, f"{g} * {num(q)} * {x} ** {num(q - 1)}")]


def _derivative(graph: Graph, p: Fraction, y: int, z: int) -> poly.Poly:
    """d x^p / dx written as the layer's formula: p x^(p − 1), through 1/x for a fractional or
    negative p."""
    if p.denominator != 1:
        return poly.scale(times(v(y), v(graph.reciprocal(z))), p)
    n = int(p)
    if n == 0:
        return {}
    base = z if n > 0 else graph.reciprocal(z)
    power = n - 1 if n > 0 else 1 - n
    return poly.scale({tuple([base] * power): 1}, n)


POW = Pow()
