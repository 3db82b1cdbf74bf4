"""The claim tensor and its arithmetic: a shape and an exact polynomial per entry.

A claim is a string or a Python function of the network's tensors. Both reach the same
arithmetic (``apply``), which handles each operator it accepts explicitly and refuses everything
else with a SymgradError: nothing is ever read as something else. Numbers are exact Fractions
made and combined by ``core.numbers``, so ``2**5`` is 32 and a power too large to hold is refused
before it is computed. The work a claim asks for (a product of long entries, a power of one) is
sized before it starts and refused over the network's ``max_terms`` (``_spend``).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from ...core import numbers, poly
from ...core.budget import check_max_terms
from ...core.errors import SymgradError
from ...network.graph import Graph
from ...network.layers import broadcast_shape, reduction_shape, reduction_targets, source
from .atoms import _fractional_power, _poly_power, _reciprocal

SYNTAX = (
    "tensor names, d<name> for dL/d(name), exact numbers, + - * / ** @, .T, .shape, x[i, a:b], .transpose(a, b), "
    ".sum(dim), .mean(dim), .reshape(shape), exp, log, sqrt, sigmoid, tanh, softplus, relu, leaky_relu(x, slope), "
    "softmax(x, dim), log_softmax(x, dim), conv2d, conv_transpose2d, conv2d_weight, conv_transpose2d_weight, "
    "conv2d_input, ones(shape), zeros(shape) (and in a function every symgrad.functional layer)"
)

# what each symgrad.functional layer is on a claim's tensors, by the layer's name: the claim's
# functions are made of this module's tensors, so they fill it in (functions.py) rather than
# being imported here
LAYERS: dict = {}


class ClaimTensor:
    """A tensor in a claim: a shape and a polynomial per entry, with PyTorch-like operations.

    Every operator goes through ``apply``; the ones a claim may not use are refused there or
    below, so a claim function gets the same answers as a claim string."""

    def __init__(self, graph: Graph, shape: tuple, entries: list, spent: int = 0) -> None:
        self.graph, self.shape, self.entries = graph, tuple(shape), list(entries)
        self.spent = spent  # the work that made it, counted against the budget (see _spend)

    def __repr__(self) -> str:
        return f"ClaimTensor(shape={self.shape})"

    @property
    def T(self) -> ClaimTensor:
        if len(self.shape) != 2:
            raise SymgradError(f"claim: .T needs a matrix, got shape {self.shape}")
        r, c = self.shape
        entries = [self.entries[i * c + j] for j in range(c) for i in range(r)]
        return ClaimTensor(self.graph, (c, r), entries, self.spent)

    def __add__(self, o):
        return apply("+", self, o)

    def __radd__(self, o):
        return apply("+", o, self)

    def __sub__(self, o):
        return apply("-", self, o)

    def __rsub__(self, o):
        return apply("-", o, self)

    def __mul__(self, o):
        return apply("*", self, o)

    def __rmul__(self, o):
        return apply("*", o, self)

    def __truediv__(self, o):
        return apply("/", self, o)

    def __rtruediv__(self, o):
        return apply("/", o, self)

    def __pow__(self, o):
        return apply("**", self, o)

    def __rpow__(self, o):
        return apply("**", o, self)

    def __matmul__(self, o):
        return apply("@", self, o)

    def __rmatmul__(self, o):
        return apply("@", o, self)

    def __neg__(self):
        return apply("*", Fraction(-1), self)

    def __pos__(self):
        return self

    def __abs__(self):
        raise SymgradError("claim: abs() is not allowed in a claim; " + SYNTAX)

    def __bool__(self):
        raise SymgradError("claim: a tensor has no truth value; a claim cannot branch on one")

    def sum(self, dim=None, keepdim=False) -> ClaimTensor:
        return _reduce(self, dim, keepdim, mean=False)

    def mean(self, dim=None, keepdim=False) -> ClaimTensor:
        return _reduce(self, dim, keepdim, mean=True)

    def transpose(self, dim0, dim1) -> ClaimTensor:
        return _transpose(self, dim0, dim1)

    def reshape(self, *shape) -> ClaimTensor:
        return _reshape(self, shape[0] if len(shape) == 1 else shape)

    def __getitem__(self, key) -> ClaimTensor:
        return _index(self, key)

    def __iter__(self):
        """Its slices along the first dim, as iterating a PyTorch tensor gives."""
        if not self.shape:
            raise SymgradError("claim: a tensor of no dims cannot be iterated")
        return (_index(self, i) for i in range(self.shape[0]))

    @staticmethod
    def __symgrad_function__(name: str, args: tuple, kwargs: dict):
        """A symgrad.functional layer called on a claim's tensors: the claim's own operation."""
        kwargs = {k: v for k, v in kwargs.items() if k != "name"}  # a claim's values have no names
        if name not in LAYERS:
            raise SymgradError(f"claim: F.{name} is not available in a claim; a claim may use " + SYNTAX)
        try:
            return LAYERS[name](*args, **kwargs)
        except TypeError as exc:
            raise SymgradError(f"claim: F.{name}: {exc}") from None


def _index(x: ClaimTensor, key) -> ClaimTensor:
    """x[key] as NumPy and PyTorch read it, for whole numbers and slices of whole numbers (one per
    leading dim at most): an index drops its dim, a slice keeps the entries it covers."""
    keys = key if isinstance(key, tuple) else (key,)
    if len(keys) > len(x.shape):
        raise SymgradError(f"claim: {len(keys)} indices for a tensor of shape {x.shape}")
    ranges, shape = [], []
    for k, size in zip(keys, x.shape):
        if isinstance(k, slice):
            bounds = (k.start, k.stop, k.step)
            if not all(b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in bounds):
                raise SymgradError(f"claim: a slice takes whole numbers, got {k}")
            if k.step is not None and k.step < 1:
                raise SymgradError(f"claim: a slice's step must be at least 1, got {k.step}")
            chosen = range(size)[k]
            ranges.append(chosen)
            shape.append(len(chosen))
        elif isinstance(k, int) and not isinstance(k, bool):
            if not -size <= k < size:
                raise SymgradError(f"claim: index {k} is out of range for a dim of size {size}")
            ranges.append(range(k % size, k % size + 1))
        else:
            raise SymgradError(f"claim: a tensor is indexed by whole numbers and slices, got {k!r:.40}")
    if any(len(r) == 0 for r in ranges):  # an empty tensor's sums and means are not claims' business
        raise SymgradError(
            f"claim: [{', '.join(map(_written, keys))}] selects no entries of a tensor of shape {x.shape}"
        )
    ranges += [range(size) for size in x.shape[len(keys) :]]
    shape += x.shape[len(keys) :]
    strides = [math.prod(x.shape[k + 1 :]) for k in range(len(x.shape))]
    entries = [x.entries[sum(i * stride for i, stride in zip(index, strides))] for index in itertools.product(*ranges)]
    return ClaimTensor(x.graph, tuple(shape), entries, x.spent)


def _written(k) -> str:
    """An index as a subscript writes it: 2, 1:3, ::2."""
    if not isinstance(k, slice):
        return str(k)
    text = ":".join("" if b is None else str(b) for b in (k.start, k.stop))
    return text + (f":{k.step}" if k.step is not None else "")


def _transpose(x, dim0, dim1) -> ClaimTensor:
    x = _tensor(x, "transpose")
    if not x.shape:
        raise SymgradError("claim: .transpose needs a tensor of at least one dim")
    a, b = (_dims(d, len(x.shape))[0] for d in (dim0, dim1))
    order = list(range(len(x.shape)))
    order[a], order[b] = order[b], order[a]
    shape = tuple(x.shape[k] for k in order)
    strides = [math.prod(x.shape[k + 1 :]) for k in range(len(x.shape))]
    entries = [
        x.entries[sum(i * strides[order[k]] for k, i in enumerate(index))]
        for index in itertools.product(*(range(n) for n in shape))
    ]
    return ClaimTensor(x.graph, shape, entries, x.spent)


def _reshape(x, shape) -> ClaimTensor:
    """PyTorch's reshape: the entries in row-major order, sizes of at least 1, at most one -1."""
    x = _tensor(x, "reshape")
    given = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    sizes = [numbers.integer(n, "claim: a size of reshape", minimum=-1) for n in given]
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or 0 in sizes:
        raise SymgradError(f"claim: reshape takes sizes of at least 1 and at most one -1, got {tuple(sizes)}")
    if -1 in sizes and known and len(x.entries) % known == 0:
        sizes = [len(x.entries) // known if n == -1 else n for n in sizes]
    if math.prod(sizes) != len(x.entries):
        raise SymgradError(f"claim: a tensor of shape {x.shape} cannot be reshaped to {tuple(given)}")
    return ClaimTensor(x.graph, tuple(sizes), x.entries, x.spent)


def _tensor(x, what: str) -> ClaimTensor:
    if not isinstance(x, ClaimTensor):
        raise SymgradError(f"claim: {what} applies to a tensor of the claim, got {type(x).__name__}")
    return x


def filled(graph: Graph, shape, value: int) -> ClaimTensor:
    """ones(shape) or zeros(shape): a tensor of one exact number."""
    given = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    sizes = tuple(numbers.integer(n, "claim: a size of ones or zeros", minimum=1) for n in given)
    count = math.prod(sizes)
    _spend(graph, count, "constant tensor")
    return ClaimTensor(graph, sizes, [poly.const(value) for _ in range(count)], count)


def operand(x) -> Fraction | ClaimTensor:
    """A claim's value: a tensor, or an exact number (floats and everything else refused)."""
    if isinstance(x, ClaimTensor):
        return x
    return numbers.exact(x, "a number in a claim")


def apply(op: str, a, b) -> Fraction | ClaimTensor:
    """a op b for op in + - * / ** @, on exact numbers and claim tensors."""
    a, b = operand(a), operand(b)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return _numbers(op, a, b)
    if op == "+":
        return _elementwise(a, b, poly.add, products=False, op="+")
    if op == "-":
        return _elementwise(a, b, lambda x, y: poly.add(x, poly.scale(y, -1)), products=False, op="-")
    if op == "*":
        return _elementwise(a, b, poly.mul, products=True, op="*")
    if op == "/":
        return _divide(a, b)
    if op == "**":
        return _power(a, b)
    if op == "@":
        return _matmul(a, b)
    raise SymgradError(f"claim: the operator {op} is not allowed; " + SYNTAX)


def _numbers(op: str, a: Fraction, b: Fraction) -> Fraction:
    if op == "+":
        return numbers.bounded(a + b)
    if op == "-":
        return numbers.bounded(a - b)
    if op == "*":
        return numbers.bounded(a * b)
    if op == "/":
        if b == 0:
            raise SymgradError("claim: division by zero")
        return numbers.bounded(a / b)
    if op == "**":
        value = numbers.power(a, b)
        if value is None:
            raise SymgradError(f"claim: {a}**({b}) is not a rational number; a claim's numbers must be exact")
        return value
    if op == "@":
        raise SymgradError("claim: @ multiplies two tensors; use * for a number")
    raise SymgradError(f"claim: the operator {op} is not allowed; " + SYNTAX)


def _as_tensor(x: Fraction | ClaimTensor, graph: Graph) -> ClaimTensor:
    return x if isinstance(x, ClaimTensor) else ClaimTensor(graph, (), [poly.const(x)])


def _graph(a, b) -> Graph:
    graph = a.graph if isinstance(a, ClaimTensor) else b.graph
    if isinstance(a, ClaimTensor) and isinstance(b, ClaimTensor) and a.graph is not b.graph:
        raise SymgradError("claim: the tensors come from two different derivations")
    return graph


def _elementwise(a, b, combine, products: bool, op: str) -> ClaimTensor:
    graph = _graph(a, b)
    a, b = _as_tensor(a, graph), _as_tensor(b, graph)
    try:
        shape = broadcast_shape(a.shape, b.shape, "claim")
    except SymgradError as exc:
        if op != "*":
            raise
        # a matrix product written with * (SymPy's spelling, "G*B.T") is the likeliest slip here
        raise SymgradError(f"{exc}: * multiplies element by element; use @ for the matrix product") from None
    pairs = [
        (a.entries[source(a.shape, shape, index)], b.entries[source(b.shape, shape, index)])
        for index in itertools.product(*(range(s) for s in shape))
    ]
    cost = sum(_product_cost(x, y) for x, y in pairs) if products else len(pairs)
    spent = _spend(graph, cost, "product" if products else "sum", a, b)
    return ClaimTensor(graph, shape, [combine(x, y) for x, y in pairs], spent)


def _matmul(a, b) -> ClaimTensor:
    if not (isinstance(a, ClaimTensor) and isinstance(b, ClaimTensor)):
        raise SymgradError("claim: @ multiplies two tensors; use * for a number")
    if len(a.shape) != 2 or len(b.shape) != 2 or a.shape[1] != b.shape[0]:
        raise SymgradError(f"claim: shapes {a.shape} and {b.shape} do not multiply with @")
    graph = _graph(a, b)
    (m, k), n = a.shape, b.shape[1]
    cost = sum(
        _product_cost(a.entries[i * k + t], b.entries[t * n + j]) for t in range(k) for i in range(m) for j in range(n)
    )
    spent = _spend(graph, cost, "matrix product", a, b)
    entries = [
        poly.add(*(poly.mul(a.entries[i * k + t], b.entries[t * n + j]) for t in range(k)))
        for i in range(m)
        for j in range(n)
    ]
    return ClaimTensor(graph, (m, n), entries, spent)


def _power(a, b) -> ClaimTensor:
    """a ** b for an exact exponent: a polynomial for a whole one, the reciprocal's power for a
    negative whole one, a square root's power for a half-integer one, else a power atom (whose
    base must be positive, as for PyTorch)."""
    if isinstance(b, ClaimTensor):
        raise SymgradError("claim: an exponent must be a number, not a tensor")
    numbers.check_exponent(b, "claim: the exponent")
    graph = a.graph
    if b.denominator == 1:
        n = int(b)
        base = a if n >= 0 else _divide(Fraction(1), a)  # refused where a is zero, as a division is
        spent = _spend(graph, sum(_power_cost(p, abs(n)) for p in base.entries), "power", base)
        return ClaimTensor(graph, a.shape, [_poly_power(p, abs(n)) for p in base.entries], spent)
    spent = _spend(graph, len(a.entries), "power", a)
    return ClaimTensor(graph, a.shape, [_fractional_power(graph, p, b) for p in a.entries], spent)


def _power_cost(p: poly.Poly, n: int) -> int:
    """The cost of p**n by squaring: p**j has at most C(j + k - 1, k - 1) terms for k terms in p,
    each of degree at most j times p's."""
    k, degree = max(len(p), 1), _degree(p)

    def terms(j: int) -> int:
        return math.comb(j + k - 1, k - 1)

    cost, have, square = 0, 0, 1
    while n:
        if n & 1:
            cost += terms(have) * terms(square) * (1 + (have + square) * degree)
            have += square
        n >>= 1
        if n:
            cost += terms(square) ** 2 * (1 + 2 * square * degree)
            square *= 2
    return cost


def _product_cost(p: poly.Poly, q: poly.Poly) -> int:
    """Term products, each as long as the monomial it makes."""
    return len(p) * len(q) * (1 + _degree(p) + _degree(q))


def _degree(p: poly.Poly) -> int:
    return max((len(mono) for mono in p), default=0)


def _divide(a, b) -> ClaimTensor:
    if isinstance(b, Fraction):
        if b == 0:
            raise SymgradError("claim: division by zero")
        return _elementwise(a, Fraction(1) / b, poly.mul, products=True, op="/")
    graph = _graph(a, b)
    spent = _spend(graph, len(b.entries), "division", b)
    inverse = ClaimTensor(graph, b.shape, [_reciprocal(graph, p) for p in b.entries], spent)
    return _elementwise(a, inverse, poly.mul, products=True, op="/")


def _reduce(x: ClaimTensor, dim, keepdim, mean: bool) -> ClaimTensor:
    if not isinstance(x, ClaimTensor):
        raise SymgradError("claim: .sum and .mean apply to a tensor, not a number")
    if not isinstance(keepdim, bool):
        raise SymgradError(f"claim: keepdim must be True or False, got {keepdim!r}")
    dims = _dims(dim, len(x.shape))
    shape = reduction_shape(x.shape, dims, keepdim)
    count = math.prod(x.shape[d] for d in dims)
    out: list = [dict() for _ in range(math.prod(shape))]
    for entry, target in zip(x.entries, reduction_targets(x.shape, dims, keepdim)):
        poly.add_into(out[target], poly.scale(entry, Fraction(1, count) if mean else 1))
    return ClaimTensor(x.graph, shape, out, _spend(x.graph, len(x.entries), "reduction", x))


def _dims(dim, ndim: int) -> tuple:
    """The reduced dims, as PyTorch reads them: each in -ndim..ndim-1 (-1..0 for a scalar), once."""
    if dim is None:
        return tuple(range(ndim))
    given = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not given:  # PyTorch has read dim=() both as every dim and as none
        raise SymgradError("claim: dim=() is ambiguous; leave dim out to reduce over every dim")
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    dims = []
    for d in given:
        d = numbers.integer(d, "claim: a dim of .sum or .mean")
        if not low <= d <= high:
            raise SymgradError(f"claim: dim {d} is out of range for a {ndim}-dimensional tensor ({low} to {high})")
        dims.append(d % ndim if ndim else None)
    if len(set(dims)) != len(dims):
        raise SymgradError(f"claim: dim {dim} names the same dimension twice")
    return tuple(sorted(d for d in dims if d is not None))


def _spend(graph: Graph, cost: int, what: str, *operands) -> int:
    """The work done so far for a value: its operands' and its own ``cost``, refused before it is
    done when the total passes the network's ``max_terms``."""
    total = cost + sum(x.spent for x in operands if isinstance(x, ClaimTensor))
    limit = check_max_terms(graph.max_terms)
    if total > limit:
        raise SymgradError(
            f"the claim is too large to evaluate: with its {what} it takes about {total:,} term operations, over "
            f"the budget of {limit:,}; write it with smaller powers or products, or derive with max_terms={total} "
            f"(--max-terms {total} on the command line)"
        )
    return total


def _on(op: str, a, b) -> ClaimTensor:
    """a op b where one side is a tensor, so the result is one."""
    return _tensor(apply(op, a, b), op)
