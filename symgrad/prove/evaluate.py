"""The meaning of a step's SymPy objects as exact polynomials.

The prover compares both sides of every step through this one function. It
gives each object its independent meaning: an output entry c_ij stands for its
definition, d/dx of an expression is the exact derivative of that expression's
polynomial, dL/dy_o is the upstream variable, and matrix expressions (products,
transposes, sums) are evaluated on explicit tensors. SymPy is never asked to
differentiate a matrix element or an index Sum (SymPy issue 17229).
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy
from sympy.matrices.expressions import MatAdd, MatMul, MatrixSymbol, Transpose

from ..chain.derivation import TensorView
from ..core import poly, tensor
from ..core.errors import SymgradError
from ..core.tensor import PolyTensor
from ..core.tensorop import TensorOpBase


class Definitions(Mapping):
    """output variable -> its definition, each entry read from the tensor when first asked for."""

    def __init__(self, ids: tuple, definitions) -> None:
        self._where = {o: i for i, o in enumerate(ids)}
        self._definitions = definitions

    def __getitem__(self, o):
        return self._definitions.at(self._where[o])

    def __contains__(self, o) -> bool:
        return o in self._where

    def __iter__(self):
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


class Meaning:
    """Evaluates step objects of ``d``; with ``values`` the loss is substituted.

    Matrix symbols name whole tensors: each input by its name, ``G`` for dL/dY
    and ``d<name>`` for the gradient of an input.
    """

    def __init__(self, d, values: bool = False) -> None:
        reg = d.registry
        self.env = {n: PolyTensor.of_symbols(t) for n, t in d.input_tensors.items()}
        self.env["G"] = d.upstream_values if values else PolyTensor.of_symbols(d.upstream_symbols)
        grads = d.grads_values if values else d.grads_upstream
        self.env.update({f"d{n}": g for n, g in grads.items()})
        self.env[d.output.name] = d.definitions
        substitute = values and d.loss.has_value
        self.substitution = dict(zip(d.upstream_symbols.ids, d.upstream_values.entries)) if substitute else {}
        self.memo: dict = {}
        self.compared: dict = {}
        self.definition = Definitions(d.output.ids, d.definitions)  # each read when a step names it
        self.upstream_of = dict(zip(d.output.ids, d.upstream_symbols.ids))
        self.loss_symbol = sympy.Symbol("L")
        self.reg = reg

    def cached(self, key: str, compute):
        """A value the prover needs more than once, computed the first time."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def same(self, a, b) -> bool:
        """a == b, remembered: the prover compares the same pair of tensors in several steps."""
        key = (id(a), id(b))
        if key not in self.compared:
            self.compared[key] = (a, b, a == b)  # a and b kept alive, so their ids stay theirs
        return self.compared[key][2]

    def __call__(self, e):
        if isinstance(e, TensorView):
            return self._valued(self._defined(e.tensor))
        if isinstance(e, sympy.Symbol) and e.name in self.env and e.name not in self.reg.ids:
            return self.env[e.name]  # a whole tensor named in a closed form: X, W, G, dX, Y ...
        if isinstance(e, TensorOpBase):
            if e not in self.memo:
                names = [a.name for a in e.args[: e.tensors]]
                missing = [n for n in names if n not in self.env]
                if missing:
                    raise SymgradError(f"unknown tensor {missing[0]!r}: use {', '.join(self.env)}")
                self.memo[e] = e.compute(*(self.env[n] for n in names))
            return self.memo[e]
        if isinstance(e, (sympy.Add, sympy.Mul)) and e.has(TensorOpBase):
            return self.tensor_arithmetic(e)
        if isinstance(e, (sympy.MatrixBase, sympy.MatrixExpr)):
            if e not in self.memo:
                self.memo[e] = self.matrix(e)  # env tensors already carry the substitution
            return self.memo[e]
        return self._valued_poly(self.scalar(e))

    def tensor_arithmetic(self, e) -> PolyTensor:
        """Sums and scalar multiples of whole-tensor operations, as in the duality view conv2d-input-gradient + bias."""
        if isinstance(e, sympy.Add):
            return _total([self(a) for a in e.args])
        factor, found = poly.const(1), None
        for a in e.args:
            if a.has(TensorOpBase) or (a.is_Symbol and a.name in self.env):
                if found is not None:
                    raise SymgradError("a product of two tensors is not defined here")
                found = self(a)
            else:
                factor = poly.mul(factor, self.scalar(a))
        if found is None:
            raise SymgradError(f"{e} holds no tensor")
        return _scaled(factor, found)

    def _defined(self, t: PolyTensor) -> PolyTensor:
        """Output entries (c_ij) stand for their definitions. A view shows either output entries
        or none (C, or A, G, dA ...), so its first entry tells which."""
        if not any(poly.variables(p) & self.definition.keys() for p in t.entries[:1]):
            return t
        return PolyTensor(t.shape, tuple(self._define(p) for p in t.entries))

    def _define(self, p):
        if len(p) == 1:
            ((mono, c),) = p.items()
            if c == 1 and len(mono) == 1 and mono[0] in self.definition:
                return self.definition[mono[0]]  # a bare output entry c_ij
        return poly.substitute(p, self.definition)  # type: ignore[arg-type]  # read, never written

    def _valued_poly(self, p):
        return poly.substitute(p, self.substitution) if self.substitution else p

    def _valued(self, t: PolyTensor) -> PolyTensor:
        if not self.substitution:
            return t
        return PolyTensor(t.shape, tuple(self._valued_poly(p) for p in t.entries))

    def scalar(self, e):
        if e.is_Number:
            return poly.const(_rational(e))
        if e.is_Symbol:
            if e == self.loss_symbol:
                raise SymgradError("L has no explicit value under this loss")
            vid = self.reg.id_of(e)
            return self.definition.get(vid, poly.var(vid))
        if isinstance(e, sympy.Add):
            return poly.add(*(self.scalar(a) for a in e.args))
        if isinstance(e, sympy.Mul):
            coeff, plain, rest = poly.Fraction(1), [], []
            for a in e.args:
                if a.is_Number:
                    coeff *= _rational(a)
                elif a.is_Symbol and self.reg.ids.get(a.name) not in self.definition:
                    plain.append(self.reg.id_of(a))  # a bare variable: no polynomial product needed
                else:
                    rest.append(self.scalar(a))
            out = {tuple(sorted(plain)): coeff} if coeff else {}
            for p in rest:
                out = poly.mul(out, p)
            return out
        if isinstance(e, sympy.Pow) and e.exp.is_Integer and e.exp >= 0:
            out, base = poly.const(1), self.scalar(e.base)
            for _ in range(int(e.exp)):
                out = poly.mul(out, base)
            return out
        if isinstance(e, sympy.Derivative):
            return self.derivative(e)
        raise SymgradError(f"cannot evaluate {e!r} exactly")

    def derivative(self, e):
        if len(e.variable_count) != 1 or e.variable_count[0][1] != 1:
            raise SymgradError(f"only first partial derivatives are supported, got {e}")
        x = self.reg.id_of(e.variable_count[0][0])
        if e.expr == self.loss_symbol:
            if x in self.upstream_of:
                return poly.var(self.upstream_of[x])
            raise SymgradError("dL/dx of an input is what the chain rule derives; it has no other meaning")
        return poly.diff(self.scalar(e.expr), x)

    def matrix(self, e) -> PolyTensor:
        if isinstance(e, sympy.MatrixBase):
            return PolyTensor(e.shape, tuple(self._valued_poly(self.scalar(v)) for v in e))
        if isinstance(e, MatrixSymbol):
            try:
                return self.env[e.name]
            except KeyError:
                raise SymgradError(f"unknown matrix {e.name!r}") from None
        if isinstance(e, Transpose):
            return tensor.transpose(self.matrix(e.arg))
        if isinstance(e, MatAdd):
            return _total([self(a) for a in e.args])
        if isinstance(e, MatMul):
            factor, out = poly.const(1), None
            for a in e.args:
                if isinstance(a, (sympy.MatrixBase, sympy.MatrixExpr)):
                    m = self.matrix(a)
                    out = m if out is None else tensor.matmul(out, m)
                else:
                    factor = poly.mul(factor, self.scalar(a))
            if out is None:
                raise SymgradError(f"{e} holds no matrix")
            return _scaled(factor, out)
        raise SymgradError(f"cannot evaluate the matrix expression {e}")


def _rational(e) -> poly.Fraction:
    if not e.is_Rational:
        raise SymgradError(f"{e} is not an exact number")
    return poly.Fraction(int(e.p), int(e.q))


def _total(parts: list) -> PolyTensor:
    """The elementwise sum of tensors of one shape."""
    out = parts[0]
    for p in parts[1:]:
        out = tensor.elementwise(out, p, poly.add)
    return out


def _scaled(factor, t: PolyTensor) -> PolyTensor:
    if factor == {(): 1}:
        return t
    return PolyTensor(t.shape, tuple(poly.mul(factor, p) for p in t.entries))
