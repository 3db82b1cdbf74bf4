"""Reading a claim: a whitelist over Python's syntax tree, built into SymPy objects by hand.

SymPy's own parser evaluates as it reads, so ``X**-1*X`` cancels before anything is checked, and
``eval`` would run any code. Here the claim is parsed by ``ast`` and every node is either one of
a few known forms, translated without simplification, or refused with a message saying what is
allowed:

- names of tensors (the inputs, and G for the upstream gradient), exact integers and fractions;
- ``+``, ``-``, ``*``, ``/`` by a number, ``@`` and ``.T`` for matrices;
- calls of the op's own operations, whose tensors are names and whose parameters are integer
  literals (or pairs of them) and, for flags, ``True`` or ``False``.

Numbers are exact and bounded (``core.numbers``): ``2**5`` is 32. Powers of tensors, inverses
and division by a tensor are refused: their meaning depends on invertibility, which an
element-wise proof cannot see. Length, nesting and literals are bounded, so reading a
claim always ends quickly.
"""

from __future__ import annotations

import ast
import inspect
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy
from sympy.matrices.expressions import MatAdd, MatMul, Transpose

from ..core import numbers
from ..core.errors import SymgradError
from .network_claims import check_depth

MAX_LENGTH = 2000
MAX_DEPTH = 60
MAX_LITERAL = 10**12


@dataclass(frozen=True)
class Value:
    expr: Any
    shape: tuple | None  # None: a number


class Reader:
    """Reads claims over ``tensors`` (name -> (SymPy object, shape)) and ``functions``.

    ``matrices`` selects matrix algebra (MatMul, MatAdd, Transpose, for matmul claims) or whole-
    tensor sums and multiples (for claims built from an op's operations, such as convolution).
    """

    def __init__(self, tensors: dict, functions: dict | None = None, *, matrices: bool, example: str) -> None:
        self.tensors = tensors
        self.functions = functions or {}
        self.matrices = matrices
        self.example = example
        self.claim = ""

    def hint(self) -> str:
        names = ", ".join(self.tensors)
        if self.matrices:
            return f"use the names {names}, exact numbers, + - *, / by a number, @, parentheses and .T"
        ops = ", ".join(self.functions)
        return f"use {names}, exact numbers, + - *, / by a number and the operations {ops}"

    def misfit(self) -> str:
        shapes = ", ".join(f"{n} is {_dims(s)}" for n, (_, s) in self.tensors.items())
        return f"the shapes in claim {self.claim!r} do not fit ({shapes})"

    def read(self, claim) -> Value:
        if not isinstance(claim, str) or not claim.strip():
            raise SymgradError(f"a claim must be a non-empty expression such as {self.example!r}")
        if len(claim) > MAX_LENGTH:
            raise SymgradError(f"the claim is {len(claim)} characters long; at most {MAX_LENGTH} are read")
        try:
            with warnings.catch_warnings():  # Python warns of odd literals ("1.5G") while parsing
                warnings.simplefilter("ignore")
                tree = ast.parse(claim.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            raise SymgradError(f"malformed claim {claim!r}: {self.hint()}") from None
        check_depth(tree, MAX_DEPTH)
        self.claim = claim
        value = self.node(tree.body, claim)
        if value.shape is None:
            kind = "matrix" if self.matrices else "tensor"
            raise SymgradError(f"claim {claim!r} is not a {kind} expression")
        return value

    # --- one method per kind of node ------------------------------------------------------------
    def node(self, n, claim) -> Value:
        if isinstance(n, ast.Constant):
            return Value(_number(n.value, claim), None)
        if isinstance(n, ast.Name):
            if n.id in self.tensors:
                expr, shape = self.tensors[n.id]
                return Value(expr, shape)
            if n.id in self.functions:
                raise SymgradError(f"{n.id} is an operation: call it, as in {self.example!r}")
            raise SymgradError(f"unknown name {n.id!r} in claim {claim!r}: {self.hint()}")
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            v = self.node(n.operand, claim)
            return v if isinstance(n.op, ast.UAdd) else self.scale(v, sympy.Integer(-1))
        if isinstance(n, ast.BinOp):
            return self.binary(n, claim)
        if isinstance(n, ast.Attribute):
            if n.attr == "T" and self.matrices:
                v = self.node(n.value, claim)
                if v.shape is None:
                    raise SymgradError("a number has no transpose")
                return Value(Transpose(v.expr), v.shape[::-1])
            raise SymgradError(f"malformed claim {claim!r}: .{n.attr} is not allowed; {self.hint()}")
        if isinstance(n, ast.Call):
            return self.call(n, claim)
        raise SymgradError(f"malformed claim {claim!r}: {self.hint()}")

    def binary(self, n: ast.BinOp, claim) -> Value:
        x, y = self.node(n.left, claim), self.node(n.right, claim)
        if isinstance(n.op, ast.Pow):
            if x.shape is None and y.shape is None:
                return Value(_power(x.expr, y.expr), None)
            raise SymgradError(
                "powers and inverses are not supported in claims: their meaning depends on "
                "invertibility; write products out (a power of numbers, such as 2**3, is allowed)"
            )
        if isinstance(n.op, (ast.Add, ast.Sub)):
            if isinstance(n.op, ast.Sub):
                y = self.scale(y, sympy.Integer(-1))
            return self.add(x, y)
        if isinstance(n.op, ast.Div):
            if y.shape is not None:
                raise SymgradError("division by a tensor (an inverse) is not supported; divide by a number")
            if y.expr == 0:
                raise SymgradError(f"claim {claim!r} divides by zero")
            return self.scale(x, _rational(1 / _exact(y.expr)))
        if isinstance(n.op, ast.Mult):
            if x.shape is None:
                return self.scale(y, x.expr)
            if y.shape is None:
                return self.scale(x, y.expr)
            return self.product(x, y)
        if isinstance(n.op, ast.MatMult):
            if x.shape is None or y.shape is None:
                raise SymgradError("@ multiplies two matrices; use * for a number")
            return self.product(x, y)
        raise SymgradError(f"malformed claim {claim!r}: {self.hint()}")

    def scale(self, v: Value, factor) -> Value:
        if v.shape is None:
            return Value(_rational(_exact(v.expr) * _exact(factor)), None)
        if self.matrices:
            return Value(MatMul(factor, v.expr), v.shape)
        return Value(sympy.Mul(factor, v.expr, evaluate=False), v.shape)

    def add(self, x: Value, y: Value) -> Value:
        if x.shape is None and y.shape is None:
            return Value(_rational(_exact(x.expr) + _exact(y.expr)), None)
        if x.shape is None or y.shape is None:
            raise SymgradError("a number cannot be added to a tensor")
        if tuple(x.shape) != tuple(y.shape):
            raise SymgradError(f"{self.misfit()}: cannot add a {_dims(x.shape)} and a {_dims(y.shape)} tensor")
        if self.matrices:
            return Value(MatAdd(x.expr, y.expr), x.shape)
        return Value(sympy.Add(x.expr, y.expr, evaluate=False), x.shape)

    def product(self, x: Value, y: Value) -> Value:
        if not self.matrices:
            raise SymgradError("a product of two tensors is not defined here; multiply by numbers only")
        xs, ys = x.shape or (), y.shape or ()  # both are tensors here
        if xs[1] != ys[0]:
            raise SymgradError(f"{self.misfit()}: a {_dims(xs)} matrix times a {_dims(ys)} matrix")
        return Value(MatMul(x.expr, y.expr), (xs[0], ys[1]))

    def call(self, n: ast.Call, claim) -> Value:
        name = n.func.id if isinstance(n.func, ast.Name) else None
        function = self.functions.get(name)
        if function is None:
            raise SymgradError(f"malformed claim {claim!r}: {self.hint()}")
        args = []
        for a in n.args:
            if not (isinstance(a, ast.Name) and a.id in self.tensors):
                raise SymgradError(f"the tensors of {name} must be names: {', '.join(self.tensors)}")
            args.append(a.id)
        signature = inspect.signature(function)
        params = list(signature.parameters.values())
        if len(args) > len(params):
            raise SymgradError(f"{name} takes {len(params)} arguments, got {len(args)}")
        kwargs: dict[str, Any] = {}
        for kw in n.keywords:
            spec = signature.parameters.get(kw.arg) if kw.arg else None
            if spec is None or params.index(spec) < len(args) or spec.default is inspect.Parameter.empty:
                allowed = ", ".join(p.name for p in params if p.default is not inspect.Parameter.empty)
                raise SymgradError(f"{name} has no parameter {kw.arg!r} here; its parameters are {allowed}")
            kwargs[str(kw.arg)] = _flag(name, kw) if isinstance(spec.default, bool) else _integers(name, kw)
        tensors = [sympy.Symbol(a) for a in args]
        try:
            expr = function(*tensors, **kwargs)
        except TypeError as exc:
            raise SymgradError(f"{name}: {exc}") from None
        shape = expr.result_shape(*(self.tensors[a][1] for a in args))
        return Value(expr, shape)


def _number(value, claim):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SymgradError(f"malformed claim {claim!r}: {value!r} is not a number")
    if isinstance(value, float):
        raise SymgradError(f"{value!r} is not exact: write numbers as integers or fractions such as 5/2")
    if abs(value) > MAX_LITERAL:
        raise SymgradError(f"the number {value} is too large (at most {MAX_LITERAL:.0e} is read)")
    return _rational(numbers.exact(value, "a number in the claim"))


def _exact(expr) -> Fraction:
    """A claim's number (a SymPy rational made by this reader) as a Fraction."""
    return numbers.exact(expr, "a number in the claim")


def _rational(value: Fraction):
    """A Fraction, bounded in size, back as the SymPy rational the claim's expressions hold."""
    value = numbers.bounded(value, "a number in the claim")
    return sympy.Rational(value.numerator, value.denominator)


def _power(base, exponent):
    value = numbers.power(_exact(base), _exact(exponent))
    if value is None:
        raise SymgradError(f"{base}**({exponent}) is not a rational number; a claim's numbers must be exact")
    return _rational(value)


def _integer(name, kw, node):
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    inner = node.operand if negative else node
    if not (isinstance(inner, ast.Constant) and type(inner.value) is int):
        raise SymgradError(
            f"{name}: {kw.arg} must be an integer or a pair of integers written out, got {ast.unparse(node)}"
        )
    value = -inner.value if negative else inner.value
    if abs(value) > MAX_LITERAL:
        raise SymgradError(f"{name}: {kw.arg}={value} is too large")
    return value


def _integers(name, kw):
    node = kw.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_integer(name, kw, e) for e in node.elts)
    return _integer(name, kw, node)


def _flag(name, kw):
    node = kw.value
    if not (isinstance(node, ast.Constant) and isinstance(node.value, bool)):
        raise SymgradError(f"{name}: {kw.arg} must be True or False, got {ast.unparse(node)}")
    return node.value


def _dims(shape) -> str:
    return "×".join(map(str, shape))
