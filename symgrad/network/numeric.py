"""Numbers out of a network derivation: dL/d(input) at given arrays, in float64 or exactly.

    grads = d.evaluate(x=x, w=w)              # {"x": ndarray, "w": ndarray}, float64
    grads = d.evaluate(x=x, w=w, exact=True)  # object ndarrays of fractions.Fraction

The gradients evaluated are the derivation's own polynomials (``d.gradient(name)``), with the
named gradients (``graph.defs``) and the atoms (``graph.atoms``) they read valued first. In
float64 every variable is valued at 60 digits by the points the prover uses
(``values.values_at``) and rounded once at the end, so the result is the correctly rounded
gradient, not an accumulation of float64 roundings. Exactly, only rational operations are
allowed: a network that applies exp, log, sigmoid or tanh is refused, and a square root or a
fractional power is refused where its value is irrational.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ..core import numbers, poly
from ..core.errors import SymgradError
from .graph import Graph
from .values import evaluate as evaluate_at
from .values import values_at

# lemmas whose values are irrational at every rational argument but a few (exp(0) = 1): an exact
# evaluation of a network that applies one is refused before anything is computed
TRANSCENDENTAL = ("exp", "log", "sigmoid", "tanh")
MAX_BITS = 40_000  # about 12,000 digits: an exact value larger than this is refused, not computed


def gradients(d: Any, arrays: dict, exact: bool = False) -> dict:
    """{name: dL/d(name)} for every name in d.wrt, at the given value of every input."""
    np = _numpy()
    if not isinstance(exact, bool):
        raise SymgradError(f"evaluate: exact must be True or False, got {exact!r:.60}")
    graph = d.graph
    given = _read_inputs(np, d, arrays, exact)
    polys = {name: d.gradient(name) for name in d.wrt}
    if exact:
        values = _exact_values(graph, given, [p for ps in polys.values() for p in ps])
        return {name: _array(np, d, name, [_exact_poly(p, values) for p in ps], object) for name, ps in polys.items()}
    found = values_at(graph, given)
    if found is None:
        raise SymgradError(f"evaluate: the network is not defined at the given inputs: {_domains(graph)}")
    return {
        name: _array(np, d, name, [float(evaluate_at(p, found)) for p in ps], np.float64) for name, ps in polys.items()
    }


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # not a dependency of symgrad itself: only evaluate needs it
        raise SymgradError("evaluate returns NumPy arrays: install NumPy (pip install numpy)") from None
    return numpy


def _array(np: Any, d: Any, name: str, entries: list, dtype: Any) -> Any:
    out = np.empty(len(entries), dtype=dtype)
    out[:] = entries
    return out.reshape(d.tensor(name).shape)


# --- the inputs -----------------------------------------------------------------------------------


def _read_inputs(np: Any, d: Any, arrays: dict, exact: bool) -> dict:
    """Every entry of every input of the graph, as an exact number keyed by its variable."""
    graph = d.graph
    expected = {name: graph.tensors[name].shape for name in d.arguments}
    missing = [f"{n} (shape {_shape(s)})" for n, s in expected.items() if n not in arrays]
    extra = [n for n in arrays if n not in expected]
    if missing or extra:
        raise SymgradError(
            "evaluate needs one array for every input of the network and nothing else"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not inputs: {', '.join(extra)} (the inputs are {', '.join(expected)})" if extra else "")
        )
    given: dict = dict(d.fixed)  # an op's dL/dY under a mean or sum loss: numbers, not arguments
    for name, shape in expected.items():
        entries = _entries(np, name, shape, arrays[name], exact)
        given.update(zip(graph.tensors[name].ids, entries))
    return given


def _entries(np: Any, name: str, shape: tuple, value: object, exact: bool) -> list:
    """The entries of one input, row-major, as exact numbers; a float is its binary value in
    float64 and, with exact=True, the decimal it prints as (0.1 is 1/10), as symgrad reads a
    layer's parameters."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, perhaps requiring grad
        value = value.detach().cpu()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, RuntimeError):  # a ragged nested list, say
        raise SymgradError(
            f"evaluate: {name} cannot be read as an array: give an array of numbers of shape {_shape(shape)}"
        ) from None
    if array.shape != shape:
        raise SymgradError(
            f"evaluate: the array for {name} has shape {_shape(array.shape)}; {name} has shape {_shape(shape)}"
        )
    if array.dtype.kind not in "iufO":
        kind = {"b": "booleans", "U": "text", "S": "bytes", "c": "complex numbers"}.get(array.dtype.kind, array.dtype)
        raise SymgradError(f"evaluate: {name} must hold real numbers, not {kind}")
    return [_number(name, v, exact) for v in array.reshape(-1).tolist()]


def _number(name: str, v: object, exact: bool) -> Fraction:
    if isinstance(v, float):
        if not math.isfinite(v):
            raise SymgradError(f"evaluate: {name} holds {v!r}; every entry must be a finite number")
        return Fraction(repr(v)) if exact else Fraction(v)
    return numbers.exact(v, f"evaluate: an entry of {name}")


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _domains(graph: Graph) -> str:
    """What can make a network undefined at a point, among the functions it applies."""
    reasons = {
        "log": "log of a number that is not positive",
        "sqrt": "square root of a number that is not positive",
        "power": "fractional power of a number that is not positive",
        "inverse": "division by zero",
        "step": "relu (or leaky relu) at exactly 0, where its derivative is undefined",
    }
    used = sorted({atom.lemma for atom in graph.atoms.values()} & set(reasons))
    return "; ".join(reasons[lemma] for lemma in used) + " — change the inputs" if used else "change the inputs"


# --- exact values ---------------------------------------------------------------------------------


def _reads(graph: Graph, vid: int) -> set:
    if vid in graph.defs:
        return poly.variables(graph.defs[vid])
    if vid in graph.atoms:
        return {graph.atoms[vid].argument}
    return set()


def _exact_values(graph: Graph, given: dict, polys: list) -> dict:
    """The exact value of every variable the polynomials read, what they read visited first."""
    needed: set = set()
    stack = [v for p in polys for v in poly.variables(p)]
    while stack:
        vid = stack.pop()
        if vid not in needed:
            needed.add(vid)
            stack.extend(_reads(graph, vid))
    for vid in sorted(needed):
        atom = graph.atoms.get(vid)
        if atom is not None and atom.lemma in TRANSCENDENTAL:
            raise SymgradError(
                f"evaluate: exact=True is refused, because the network applies {atom.lemma}, whose values are "
                "not rational numbers: use exact=False for float64 values"
            )
    values: dict = {v: given[v] for v in needed if v not in graph.defs and v not in graph.atoms}
    for root in sorted(needed):
        stack = [root]
        while stack:  # a loop, not a recursion: a network may be thousands of layers deep
            vid = stack[-1]
            if vid in values:
                stack.pop()
                continue
            missing = [u for u in _reads(graph, vid) if u not in values]
            if missing:
                stack += missing
                continue
            stack.pop()
            if vid in graph.defs:
                values[vid] = _exact_poly(graph.defs[vid], values)
            else:
                values[vid] = _exact_atom(graph, vid, values)
    return values


def _exact_poly(p: poly.Poly, values: dict) -> Fraction:
    total = Fraction(0)
    for mono, c in p.items():
        term = Fraction(c)
        for v in mono:
            term = _sized(term * values[v])
        total = _sized(total + term)
    return total


def _exact_atom(graph: Graph, vid: int, values: dict) -> Fraction:
    atom = graph.atoms[vid]
    x = values[atom.argument]
    what = _entry(graph, atom.argument)
    if atom.lemma == "inverse":
        if x == 0:
            raise SymgradError(f"evaluate: the network divides by {what}, which is 0 at the given inputs")
        return 1 / x
    if atom.lemma == "step":
        if x == 0:
            raise SymgradError(
                f"evaluate: the input of a relu, {what}, is exactly 0 at the given inputs, "
                "where its derivative is undefined"
            )
        return Fraction(1 if x > 0 else 0)
    if atom.lemma not in ("sqrt", "power"):
        raise SymgradError(f"evaluate: exact=True cannot value {atom.lemma}: use exact=False for float64 values")
    exponent = Fraction(1, 2) if atom.lemma == "sqrt" else numbers.exact(atom.parameter, "an exponent")
    if x <= 0 and exponent.denominator != 1:
        raise SymgradError(
            f"evaluate: the network takes a fractional power (or square root) of {what} = {x}, which is not positive"
        )
    result = numbers.power(x, exponent)
    if result is None:
        raise SymgradError(
            f"evaluate: exact=True is refused, because ({x})^({exponent}) is irrational at the given inputs: "
            "use exact=False for float64 values"
        )
    return result


def _entry(graph: Graph, vid: int) -> str:
    """A variable as a reader finds it: an element of a tensor (1-based), or its own name."""
    for tensor in graph.tensors.values():
        if vid in tensor.ids:
            index = tensor.index(tensor.ids.index(vid))
            return f"element ({', '.join(str(i + 1) for i in index)}) of {tensor.name}" if index else tensor.name
    return graph.registry.names[vid]


def _sized(value: Fraction) -> Fraction:
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_BITS:
        raise SymgradError(
            "evaluate: an exact value grew past 12,000 digits at the given inputs: use exact=False, "
            "or inputs with shorter fractions"
        )
    return value
