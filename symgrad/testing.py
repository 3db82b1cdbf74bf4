"""Symbolic verification of backward code, for anyone's pytest suite.

    def backward(A, B, grad_C):                 # torch-like or NumPy-like code
        return grad_C.mm(B.t()), A.t().mm(grad_C)

    def test_backward():
        symgrad.testing.assert_backward(backward, op="matmul", sizes=(2, 4, 3), loss="mean")

``assert_backward`` calls ``fn(A, B, G)`` with symbolic tensors (every entry an exact polynomial
in the entries of A and B; G is dL/dC with its own symbols, then, for a mean or sum loss, again
with the loss's value) and proves each returned gradient equal, for all values, to the
chain-rule gradient, decided as ``symgrad.check`` decides a claim. A wrong gradient raises
AssertionError naming the first wrong element with the expected and actual expressions.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from fractions import Fraction
from typing import Any, NoReturn, cast

from .core import poly, tensor
from .core.errors import SymgradError
from .core.tensor import PolyTensor
from .ops.registry import REGISTRY
from .prove.claims import difference

# the ops whose backward passes can be checked: those that say what the function receives
OPS: dict[str, Callable[..., Any]] = {name: spec.backward for name, spec in REGISTRY.items() if spec.backward}
SUPPORTED = (
    "@, .T, .t(), .mm(), .matmul(), .transpose(0, 1), .sum(), .mean(), .numel(), .shape, "
    ".new_ones(shape), .new_zeros(shape), + - * / with numbers or tensors of the same shape"
)


class UnsupportedOperation(SymgradError):
    """The backward function used something symbolic tensors cannot do."""


def _scalar(value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise UnsupportedOperation(
            f"arithmetic with {type(value).__name__} is not supported; symbolic tensors support {SUPPORTED}"
        )
    try:
        return Fraction(cast(float, value))  # exact: a float is taken at its binary value
    except (ValueError, OverflowError):
        raise UnsupportedOperation(f"arithmetic with {value!r} is not supported: it is not a finite number") from None


class SymbolicTensor:
    """A tensor of exact polynomials that answers the torch and NumPy calls of a backward pass."""

    _data: PolyTensor
    _registry: Any

    __array_priority__ = 1000  # make numpy defer to our operators

    def __init__(self, data: PolyTensor, registry: Any) -> None:
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_registry", registry)

    # --- shape ------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return len(self._data.entries)

    def _new(self, data: PolyTensor) -> SymbolicTensor:
        return SymbolicTensor(data, self._registry)

    def new_ones(self, shape: tuple) -> SymbolicTensor:
        return self._filled(shape, 1)

    def new_zeros(self, shape: tuple) -> SymbolicTensor:
        return self._filled(shape, 0)

    def _filled(self, shape: tuple, value: int) -> SymbolicTensor:
        shape = tuple(shape)
        return self._new(PolyTensor.build(shape, lambda ix: poly.const(value)))

    # --- linear algebra ---------------------------------------------------------------------
    def mm(self, other: object) -> SymbolicTensor:
        if not isinstance(other, SymbolicTensor):
            raise UnsupportedOperation("mm() needs another tensor of the backward pass")
        return self._new(tensor.matmul(self._data, other._data))

    matmul = mm
    __matmul__ = mm

    def t(self) -> SymbolicTensor:
        return self._new(tensor.transpose(self._data))

    @property
    def T(self) -> SymbolicTensor:
        return self.t()

    def transpose(self, dim0: int = 0, dim1: int = 1) -> SymbolicTensor:
        if {dim0 % 2, dim1 % 2} != {0, 1} or self.ndim != 2:
            raise UnsupportedOperation("transpose() is supported for the two axes of a matrix")
        return self.t()

    def sum(self) -> SymbolicTensor:
        return self._new(PolyTensor((), (poly.add(*self._data.entries),)))

    def mean(self) -> SymbolicTensor:
        return self.sum() / self.numel()

    # --- arithmetic -------------------------------------------------------------------------
    def _combine(self, other: object, op: Callable) -> SymbolicTensor:
        if isinstance(other, SymbolicTensor):
            if other.shape == () or self.shape == ():
                small, big = (other, self) if other.shape == () else (self, other)
                value = small._data.entries[0]
                pairs = [(p, value) if big is self else (value, p) for p in big._data.entries]
                return self._new(PolyTensor(big.shape, tuple(op(a, b) for a, b in pairs)))
            return self._new(tensor.elementwise(self._data, other._data, op))
        value = poly.const(_scalar(other))
        return self._new(PolyTensor(self.shape, tuple(op(p, value) for p in self._data.entries)))

    def __add__(self, other: object) -> SymbolicTensor:
        return self._combine(other, poly.add)

    __radd__ = __add__

    def __sub__(self, other: object) -> SymbolicTensor:
        return self._combine(other, lambda p, q: poly.add(p, poly.scale(q, -1)))

    def __rsub__(self, other: object) -> SymbolicTensor:
        return (-self) + other

    def __mul__(self, other: object) -> SymbolicTensor:
        return self._combine(other, poly.mul)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> SymbolicTensor:
        if isinstance(other, SymbolicTensor):
            raise UnsupportedOperation("division by a tensor is not supported; divide by a number")
        divisor = _scalar(other)
        if divisor == 0:
            raise UnsupportedOperation("the backward function divides a tensor by zero")
        return self._combine(1 / divisor, poly.mul)

    def __rtruediv__(self, other: object) -> SymbolicTensor:
        raise UnsupportedOperation("division by a tensor is not supported; divide by a number")

    def __neg__(self) -> SymbolicTensor:
        return self * -1

    def __pos__(self) -> SymbolicTensor:
        return self

    # --- everything else is named in a clear error ------------------------------------------
    def __getattr__(self, name: str) -> NoReturn:
        raise UnsupportedOperation(
            f"the backward function uses .{name}, which symbolic tensors do not support; they support {SUPPORTED}"
        )

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> NoReturn:
        raise UnsupportedOperation(
            f"the backward function calls numpy.{func.__name__}; use the tensor methods instead ({SUPPORTED})"
        )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> NoReturn:
        raise UnsupportedOperation(
            f"the backward function calls numpy.{ufunc.__name__}; use the tensor methods instead ({SUPPORTED})"
        )

    def __getitem__(self, key: object) -> NoReturn:
        raise UnsupportedOperation(f"indexing ([...]) is not supported; symbolic tensors support {SUPPORTED}")

    def __bool__(self) -> NoReturn:
        raise UnsupportedOperation("a symbolic tensor has no truth value: the backward pass must not branch on values")

    def __repr__(self) -> str:
        return f"SymbolicTensor(shape={self.shape})"

    def to_sympy(self) -> Any:
        """The entries as SymPy expressions."""
        return self._data.to_sympy(self._registry)


UPSTREAM = ("symbolic", "loss")


def assert_backward(
    fn: Callable[..., Any],
    op: str = "matmul",
    sizes: tuple | list = (2, 4, 3),
    loss: str = "mean",
    *,
    upstream: str = "symbolic",
) -> int:
    """Prove ``fn``'s gradients equal to the chain rule's for all values, or raise AssertionError.

    A backward pass is a statement for every upstream gradient, so by default ``fn`` receives
    dL/dC as a tensor of free symbols, and is then also run with the loss's value of dL/dC.
    A backward pass that builds the loss's upstream gradient itself (``G.new_ones(G.shape) /
    G.numel()``) holds only for that loss: check it with ``upstream="loss"``, which hands in the
    loss's value alone.
    """
    if op not in OPS:
        raise SymgradError(f"unknown op {op!r}: use one of {', '.join(OPS)}")
    if upstream not in UPSTREAM:
        raise SymgradError(f"upstream must be one of {', '.join(UPSTREAM)}, got {upstream!r}")
    if not isinstance(sizes, (tuple, list)) or len(sizes) != 3:
        raise SymgradError(f"sizes must be three positive integers (m, k, n), got {sizes!r}")
    if any(isinstance(s, str) for s in sizes):
        raise SymgradError("assert_backward needs concrete sizes such as (2, 4, 3), not names")
    d = OPS[op](tuple(sizes), loss)
    if upstream == "loss" and not d.loss.has_value:
        raise SymgradError("upstream='loss' needs a mean or sum loss: a generic loss has no value for dL/dC")
    symbolic = upstream == "symbolic"
    passes = [("symbolic", PolyTensor.of_symbols(d.upstream_symbols), d.grads_upstream)] if symbolic else []
    if d.loss.has_value:
        passes.append(("loss", d.upstream_values, d.grads_values))
    checked = 0
    for kind, G, expected_grads in passes:
        checked = _check_pass(fn, d, G, expected_grads, kind, symbolic)
    return checked


def _check_pass(fn: Callable[..., Any], d: Any, G: Any, expected_grads: dict, kind: str, symbolic: bool) -> int:
    reg = d.registry
    args = [SymbolicTensor(PolyTensor.of_symbols(t), reg) for t in d.input_tensors.values()]
    args.append(SymbolicTensor(G, reg))
    result = fn(*args)
    names = list(d.input_tensors)
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise AssertionError(
            f"the backward function must return ({', '.join('grad_' + n for n in names)}), got {result!r}"
        )
    checked = 0
    for name, got in zip(names, result):
        if not isinstance(got, SymbolicTensor):
            raise AssertionError(f"grad_{name} is a {type(got).__name__}, not a tensor computed from the inputs")
        expected = expected_grads[name]
        if got.shape != expected.shape:
            raise AssertionError(f"grad_{name} has shape {got.shape}, but {name} has shape {expected.shape}")
        # decided as symgrad.check decides a claim: exact canonical forms, a point where they differ
        bad = difference(d, name, expected.entries, list(got._data.entries), f"grad_{name}")
        if isinstance(bad, str):
            raise AssertionError(f"grad_{name} is undecided: {bad}")
        if bad:
            index = ", ".join(map(str, bad.index))
            where = (
                (
                    "with dL/dC symbolic (it must hold for every upstream gradient; a backward pass that "
                    "builds the loss's dL/dC itself is checked with upstream='loss')"
                )
                if kind == "symbolic"
                else f"with the {d.loss} loss's dL/dC" + ("" if not symbolic else " put in")
            )
            raise AssertionError(
                f"grad_{name} is wrong at element ({index}), dL/d{bad.element}, {where}:\n"
                f"  expected (chain rule): {bad.derived}\n"
                f"  actual (backward fn):  {bad.claimed}"
            )
        checked += len(expected.entries)
    return checked


__all__ = ["SymbolicTensor", "UnsupportedOperation", "assert_backward"]
