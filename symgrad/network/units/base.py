"""The Layer contract: one object per layer holds all symgrad knows about it.

A layer's unit makes its output (the forward function ``symgrad.functional`` offers), states the
lemmas of the atoms it introduces, computes its closed-form backward pass, writes its forward
definition and closed form in LaTeX and its forward and backward lines in PyTorch (and in NumPy,
where a layer has them). The prover, the document and the code generator ask the unit of each
node (``units.table.unit``) and never branch on a layer's name; adding a layer is adding one
module and one line of the table.

This module also holds what every unit builds with: exact numbers, the checks of a layer's
tensor arguments, and the making of its output tensor.
"""

from __future__ import annotations

import math
import numbers as abstract
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import sympy

from ...core import numbers, poly
from ...core.errors import SymgradError
from ..graph import Graph, Tensor
from ..lemma import Lemma

if TYPE_CHECKING:
    from ..graph import Node


# --- the contract ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shapes:
    """What a closed form's text depends on besides the names: the layer's parameters, the
    number of entries a mean or a mean-reduced loss divides by, and whether the input is a vector."""

    params: dict
    count: int
    vector: bool


class Layer:
    """One layer: its forward function, lemmas, closed-form backward pass, LaTeX and PyTorch code."""

    name: str = ""  # as symgrad.functional spells it and the graph's nodes record it
    lemmas: tuple[Lemma, ...] = ()  # the lemmas of the atoms it introduces
    forward: Callable | None = None  # what symgrad.functional offers; None for a layer it does not

    def lemma(self, node: Node) -> str | None:
        """The lemma the document names for this layer's derivative."""
        return None

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        """The layer's closed-form share of dL/d(input) for each tensor it reads, G being
        dL/d(output) (row-major polynomials): the formula people implement, not the chain rule."""
        raise NotImplementedError(self.name)

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        """The layer's formula on whole tensors: i the inputs' LaTeX, o the output's."""
        raise NotImplementedError(self.name)

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        """The closed form of dL/d(input k), in the layer's tensor names, G being dL/d(output)."""
        raise NotImplementedError(self.name)

    def closed_latex(self, graph: Graph, node: Node, name: str) -> str:
        """The closed form for dL/d(name): one term for each place the layer reads the tensor."""
        names = [tex(graph, n) for n in node.inputs]
        first = graph.tensors[node.inputs[0]]
        shapes = Shapes(node.params, self.count(first, node.params), first.ndim == 1)
        G, out = grad_of(node.output, graph), tex(graph, node.output)
        return " + ".join(self.closed_term(names, out, G, k, shapes) for k, n in enumerate(node.inputs) if n == name)

    def count(self, first: Tensor, params: dict) -> int:
        """The number of entries a closed form divides by: those a reduction reduces over."""
        return math.prod(first.shape[d] for d in params.get("dims", ()))

    def written(self, graph: Graph, node: Node, vid: int) -> sympy.Expr | None:
        """An output entry's definition as the document shows it, when the layer writes it its
        own way (None: the entry's polynomial or atom as it stands)."""
        return None

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        """The PyTorch expression of the layer's output, i being the inputs' names."""
        raise NotImplementedError(self.name)

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        """(tensor read, its share of the gradient) in PyTorch, g being the name of the output's gradient."""
        raise NotImplementedError(self.name)

    # NumPy code is written for the layers whose PyTorch code has a plain NumPy counterpart
    def numpy_forward(self, graph: Graph, node: Node, i: list) -> str:
        raise SymgradError(f"NumPy code for the {self.name} layer is not written: use torch")

    def numpy_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        raise SymgradError(f"NumPy code for the {self.name} layer is not written: use torch")


def v(vid: int) -> poly.Poly:
    return poly.var(vid)


def times(*ps: poly.Poly) -> poly.Poly:
    out: poly.Poly = {(): 1}
    for p in ps:
        out = poly.mul(out, p)
    return out


def merge(acc: dict, pairs: list) -> dict:
    """Shares of one tensor read twice by a layer (x * x) add up."""
    for name, values in pairs:
        if name in acc:
            acc[name] = [poly.add(p, q) for p, q in zip(acc[name], values)]
        else:
            acc[name] = values
    return acc


# --- LaTeX and PyTorch notation -------------------------------------------------------------------


def bold(name: str) -> str:
    return rf"\boldsymbol{{{name}}}" if len(name) == 1 else rf"\boldsymbol{{\mathrm{{{name}}}}}".replace("_", r"\_")


def tex(graph: Graph, name: str) -> str:
    """A tensor as a formula names it: bold, a symbolic scalar (ε) as itself, and a tensor the
    network made as what it is (kᵀ) when it was given no name."""
    return graph.scalars.get(name) or graph.shown.get(name) or bold(name)


def grad_of(name: str, graph: Graph | None = None) -> str:
    shown = bold(name) if graph is None else tex(graph, name)
    return rf"\frac{{\partial L}}{{\partial {shown}}}"


def transposed(tex: str) -> str:
    """A tensor's transpose; a fraction or a power in parentheses, so that the T is not read as
    the denominator's or the exponent's."""
    if tex.startswith(r"\frac") or "^" in tex:
        return rf"\left({tex}\right)^{{T}}"
    return rf"{tex}^{{T}}"


def frac(q) -> str:
    return str(q.numerator) if q.denominator == 1 else rf"\tfrac{{{q.numerator}}}{{{q.denominator}}}"


def num(q: Fraction) -> str:
    """A number in PyTorch code."""
    return str(q.numerator) if q.denominator == 1 else f"({q.numerator} / {q.denominator})"


# --- building a layer's output --------------------------------------------------------------------


def exact(value, what: str) -> Fraction:
    """A number as an exact fraction: a Python float as the decimal it prints as (0.02 is 1/50),
    integers and rationals (Python, NumPy, SymPy) as they are. A NumPy or SymPy float is refused:
    its printed digits are not a decimal the user wrote."""
    if type(value) is float:
        if not math.isfinite(value):
            raise SymgradError(f"{what} must be finite, got {value!r}")
        return numbers.bounded(Fraction(repr(value)), what)
    if isinstance(value, float):  # NumPy's float64 is a subclass of float
        raise SymgradError(
            f"{what} is the NumPy float {value!r}, which is not exact: write a Python number such as 0.5, "
            "an integer, or a fraction (fractions.Fraction(1, 2))"
        )
    return numbers.exact(value, what)


def whole(value, what: str, minimum: int | None = None) -> int:
    """An exact integer (Python, NumPy or SymPy), at least ``minimum``."""
    return numbers.integer(value, what, minimum)


def plain_ints(value):
    """NumPy or SymPy integers, alone or in a tuple, as Python ints; anything else unchanged, for
    the caller's own checks to refuse."""
    if isinstance(value, abstract.Integral) and not isinstance(value, bool):
        return whole(value, "an integer")
    if isinstance(value, (tuple, list)):
        return tuple(plain_ints(v) for v in value)
    return value


def int_tuple(value) -> tuple | None:
    """An integer or a sequence of them (Python, NumPy or SymPy; never True or False) as a tuple
    of Python ints, or None."""
    values = plain_ints(value)
    values = (values,) if isinstance(values, int) else values
    if not isinstance(values, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    return values


def flag(value, what: str) -> bool:
    """A True/False option, as PyTorch takes it (a string or a number is refused)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise SymgradError(f"{what} must be True or False, got {value!r:.60}")


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def graph_of(*items) -> Graph:
    graphs = {id(t.graph): t.graph for t in items if is_tensor(t)}
    if len(graphs) != 1:
        raise SymgradError("a layer needs at least one tensor of the network, and all from the same network")
    return next(iter(graphs.values()))


def check_tensor(x, op: str, role: str = "input") -> Tensor:
    if not is_tensor(x):
        raise SymgradError(f"{op}: the {role} must be a tensor of the network, got {type(x).__name__}")
    return x


def _name(graph: Graph, name, stem: str) -> str:
    if name is None:
        return graph.fresh_name(stem)
    if not isinstance(name, str):
        raise SymgradError(f"name= must be a string, got {name!r}")
    return name


def output(graph: Graph, op: str, inputs: tuple, shape: tuple, name, stem: str, **params) -> Tensor:
    """The layer's output tensor, recorded as a node of the graph."""
    out = graph.new_tensor(_name(graph, name, stem), shape)
    graph.add_node(op, inputs, out, **params)
    return out


# --- atoms: one scalar function per entry ---------------------------------------------------------


def atomic(op: str, x, lemma: Lemma, name=None, parameter=None, stem: str | None = None) -> Tensor:
    """A layer whose every entry is an atom: the lemma's function of the input's entry."""
    x = check_tensor(x, op)
    graph = x.graph
    params = {} if parameter is None else {"exponent": parameter}
    out = output(graph, op, (x,), x.shape, name, stem or op, **params)
    for vid, argument in zip(out.ids, x.ids):
        graph.atom(vid, lemma, argument, parameter)
    return out


def helper_atom(graph: Graph, lemma: Lemma, vid: int, letter: str) -> int:
    """The atom lemma(v), without a tensor of its own, made once per variable (as the graph makes
    a relu's step): a variable another atom's derivative is written in."""
    return graph.helper_atom(lemma, vid, letter)


class Elementwise(Layer):
    """A layer applying one scalar function, an atom with its lemma, to every entry.

    ``derivative(graph, y, z)`` is dy/dz as the closed form writes it in the tensors' variables
    (y the output entry, z the input's); the LaTeX and PyTorch texts take the input's name x, the
    output's o and the upstream gradient's G (or g)."""

    def __init__(
        self,
        *,
        lemma: Lemma,
        forward: Callable,
        forward_tex: Callable[[str, str], str],
        closed_tex: Callable[[str, str, str], str],
        derivative: Callable[[Graph, int, int], poly.Poly],
        torch_call: str,
        torch_grad: Callable[[str, str, str], str],
    ) -> None:
        self.name = lemma.name
        self.lemmas = (lemma,)
        self.forward = forward
        self._forward_tex, self._closed_tex = forward_tex, closed_tex
        self.derivative = derivative
        self._torch_call, self._torch_grad = torch_call, torch_grad

    def lemma(self, node: Node) -> str | None:
        return self.name

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        out, x = graph.tensors[node.output], graph.tensors[node.inputs[0]]
        return {x.name: [poly.mul(g, self.derivative(graph, y, z)) for g, y, z in zip(G, out.ids, x.ids)]}

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return self._forward_tex(i[0], o)

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return self._closed_tex(i[0], o, G)

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return f"{self._torch_call}({i[0]})"

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        x = node.inputs[0]
        return [(x, self._torch_grad(x, node.output, g))]
