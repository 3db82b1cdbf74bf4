"""add, sub, mul and div, element-wise with broadcasting; a number on either side is a constant.
A division by a tensor multiplies by the reciprocal atom of the divisor's entry (the inverse lemma)."""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ...core import poly
from ...core.errors import SymgradError
from ..lemma import INVERSE
from .base import Layer, exact, frac, grad_of, graph_of, is_tensor, num, output, tex, times, v

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


def broadcast_shape(a: tuple, b: tuple, op: str) -> tuple:
    out = []
    for x, y in itertools.zip_longest(reversed(a), reversed(b), fillvalue=1):
        if x != y and 1 not in (x, y):
            raise SymgradError(f"{op}: shapes {a} and {b} do not broadcast")
        out.append(y if x == 1 else x)  # PyTorch's rule: a size 1 stretches to the other, even to 0
    return tuple(reversed(out))


def source(shape: tuple, out_shape: tuple, index: tuple) -> int:
    """The row-major position in a tensor of ``shape`` that broadcasting reads for ``index``."""
    offset = len(out_shape) - len(shape)
    position = 0
    for size, i in zip(shape, index[offset:]):
        position = position * size + (0 if size == 1 else i)
    return position


def _operand(x, op: str):
    """A tensor, or a number as a constant polynomial."""
    if is_tensor(x):
        return x
    return poly.const(exact(x, f"{op}: a constant"))


def _binary(op: str, a, b, combine, name=None) -> Tensor:
    graph = graph_of(a, b)
    a, b = _operand(a, op), _operand(b, op)
    sa = a.shape if is_tensor(a) else ()
    sb = b.shape if is_tensor(b) else ()
    shape = broadcast_shape(sa, sb, op)
    inputs = tuple(t for t in (a, b) if is_tensor(t))
    constants = {role: t for role, t in (("left", a), ("right", b)) if not is_tensor(t)}
    out = output(graph, op, inputs, shape, name, op, **{k: _value(v) for k, v in constants.items()})
    for position, index in enumerate(itertools.product(*(range(s) for s in shape))):
        left = poly.var(a.ids[source(sa, shape, index)]) if is_tensor(a) else a
        right = poly.var(b.ids[source(sb, shape, index)]) if is_tensor(b) else b
        graph.define(out.ids[position], combine(graph, left, right))
    return out


def _value(p: poly.Poly) -> Fraction:
    return Fraction(p.get((), 0))


def add(a, b, name=None) -> Tensor:
    return _binary("add", a, b, lambda g, x, y: poly.add(x, y), name)


def sub(a, b, name=None) -> Tensor:
    return _binary("sub", a, b, lambda g, x, y: poly.add(x, poly.scale(y, -1)), name)


def mul(a, b, name=None) -> Tensor:
    return _binary("mul", a, b, lambda g, x, y: poly.mul(x, y), name)


def div(a, b, name=None) -> Tensor:
    def combine(graph, x, y):
        if len(y) == 1 and () in y:  # by a number
            return poly.scale(x, 1 / Fraction(y[()]))
        if not y:
            raise SymgradError("div: division by the constant zero")
        ((mono, _),) = y.items()
        return poly.mul(x, poly.var(graph.reciprocal(mono[0])))

    if not is_tensor(b) and exact(b, "div: the divisor") == 0:
        raise SymgradError("div: division by the constant zero")
    return _binary("div", a, b, combine, name)


def _operands(names: tuple, params: dict, sign: str) -> str:
    left = frac(params["left"]) if "left" in params else names[0]
    right = frac(params["right"]) if "right" in params else names[-1]
    return f"{left} {sign} {right}"


class Arithmetic(Layer):
    """One of the four operations; each subclass gives its sign and its two shares."""

    sign = ""  # in LaTeX
    torch_sign = ""

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return f"{o} = " + _operands(tuple(i), p, self.sign)

    def shares(self, g: poly.Poly, a: poly.Poly, b: poly.Poly, inv) -> tuple:
        """(dL/da, dL/db) at one output entry from its upstream g and the operands' values; inv()
        is 1/b there."""
        raise NotImplementedError(self.name)

    def shares_latex(self, G: str, a: str, b: str) -> tuple:
        raise NotImplementedError(self.name)

    def shares_torch(self, g: str, a: str, b: str) -> tuple:
        raise NotImplementedError(self.name)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        t = graph.tensors
        out = t[node.output]
        roles: list[tuple[str, Any]] = []  # (role, tensor or constant)
        names = list(node.inputs)
        for role in ("left", "right"):
            if role in node.params:
                roles.append((role, poly.const(node.params[role])))
            else:
                roles.append((role, t[names.pop(0)]))
        (_, a), (_, b) = roles

        def value(x, index):
            if isinstance(x, dict):
                return x
            return v(x.ids[source(x.shape, out.shape, index)])

        shares: dict = {}
        for position, index in enumerate(itertools.product(*(range(s) for s in out.shape))):
            g, av, bv = G[position], value(a, index), value(b, index)

            def inv(index=index, bv=bv):  # 1/b: the reciprocal atom of b's entry, or the number's inverse
                if isinstance(b, dict):
                    return {(): poly._tidy(1 / Fraction(bv[()]))}
                return v(graph.reciprocal(b.ids[source(b.shape, out.shape, index)]))

            for x, d in zip((a, b), self.shares(g, av, bv, inv)):
                if isinstance(x, dict):
                    continue
                if x.name not in shares:
                    shares[x.name] = [dict() for _ in range(x.numel)]
                poly.add_into(shares[x.name][source(x.shape, out.shape, index)], d)
        return shares

    def closed_latex(self, graph: Graph, node: Node, name: str) -> str:
        """One term for each place the layer reads the tensor, constants written as numbers, and
        a sum over the broadcast dimensions where the tensor was broadcast (its gradient is summed
        back to its shape)."""
        G = grad_of(node.output, graph)
        tensors = list(node.inputs)
        operands = [
            (frac(node.params[role]), None) if role in node.params else (tex(graph, tensors[0]), tensors.pop(0))
            for role in ("left", "right")
        ]
        (a, _), (b, _) = operands
        rules = self.shares_latex(G, a, b)
        terms = [rule for rule, (_, tensor) in zip(rules, operands) if tensor == name]
        text = " + ".join(terms)
        if graph.tensors[name].shape != graph.tensors[node.output].shape:
            text = rf"\textstyle\sum_{{\text{{broadcast}}}} \Bigl({text}\Bigr)"
        return text

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        names = list(i)
        left, right = (num(node.params[r]) if r in node.params else names.pop(0) for r in ("left", "right"))
        return f"{left} {self.torch_sign} {right}"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        i, p = list(node.inputs), node.params
        a = i.pop(0) if "left" not in p else None
        b = i.pop(0) if "right" not in p else None
        rules = self.shares_torch(g, a or num(p["left"]), b or num(p["right"]))
        return [(n, e) for n, e in zip((a, b), rules) if n is not None]


class Add(Arithmetic):
    name, sign, torch_sign = "add", "+", "+"
    forward = staticmethod(add)

    def shares(self, g, a, b, inv):
        return g, g

    def shares_latex(self, G, a, b):
        return G, G

    def shares_torch(self, g, a, b):
        return g, g


class Sub(Arithmetic):
    name, sign, torch_sign = "sub", "-", "-"
    forward = staticmethod(sub)

    def shares(self, g, a, b, inv):
        return g, poly.scale(g, -1)

    def shares_latex(self, G, a, b):
        return G, f"-{G}"

    def shares_torch(self, g, a, b):
        return g, f"-{g}"


class Mul(Arithmetic):
    name, sign, torch_sign = "mul", r"\odot", "*"
    forward = staticmethod(mul)

    def shares(self, g, a, b, inv):
        return poly.mul(g, b), poly.mul(g, a)

    def shares_latex(self, G, a, b):
        return rf"{G} \odot {b}", rf"{G} \odot {a}"

    def shares_torch(self, g, a, b):
        return f"{g} * {b}", f"{g} * {a}"


class Div(Arithmetic):
    name, sign, torch_sign = "div", r"\oslash", "/"
    lemmas = (INVERSE,)
    forward = staticmethod(div)

    def lemma(self, node: Node) -> str | None:
        return "inverse"

    def shares(self, g, a, b, inv):
        r = inv()
        return poly.mul(g, r), poly.scale(times(g, a, r, r), -1)

    def shares_latex(self, G, a, b):
        return rf"{G} \oslash {b}", rf"-{G} \odot {a} \oslash {b}^{{2}}"

    def shares_torch(self, g, a, b):
        return f"{g} / {b}", f"-{g} * {a} / {b} ** 2"


ADD, SUB, MUL, DIV = Add(), Sub(), Mul(), Div()
