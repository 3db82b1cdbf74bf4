"""Operations on whole tensors, as SymPy objects that a step can hold.

An op's closed forms and views (a transposed convolution, an im2col product) are written as
subclasses: SymPy keeps them unevaluated, the printer shows them, and the prover computes them
exactly on the canonical form through ``compute``.
"""

from __future__ import annotations

import sympy
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter


class TensorOpBase(sympy.Function):
    """A closed form that is an operation on whole tensors (a transposed convolution, say).

    Its first ``tensors`` arguments are Symbols naming tensors (X, W, G, ...); the rest are
    integer parameters. Subclasses compute the result exactly in ``compute``.
    """

    tensors = 1
    is_commutative = False
    view_name = "whole-tensor"  # how the prover names a view built on this operation

    @classmethod
    def eval(cls, *args):
        return None  # never evaluated by SymPy: Meaning computes it

    @property
    def params(self) -> tuple:
        return tuple(int(a) for a in self.args[self.tensors :])

    def compute(self, *tensors):
        raise NotImplementedError

    def describe(self) -> list:
        """(name, value) pairs of the parameters, for display; value None shows the name alone."""
        return []

    def _sympystr(self, printer) -> str:
        params = "".join(f", {n}={v}" if v is not None else f", {n}" for n, v in self.describe())
        return f"{self.label}({', '.join(str(a) for a in self.args[: self.tensors])}{params})"

    def claim(self, shapes: dict) -> str:
        """This operation in the claim language (PyTorch's spelling), which ``check`` reads back;
        ``shapes`` gives each tensor's shape by its name."""
        raise NotImplementedError(f"{type(self).__name__} is a view, with no spelling as a claim")


def keywords(pairs) -> str:
    """', name=value' for each parameter that is not PyTorch's default; a pair of equal sizes as one."""
    out = []
    for name, value, default in pairs:
        if isinstance(value, tuple) and len(set(value)) == 1:
            value = value[0]
        if value != default:
            out.append(f", {name}={value}")
    return "".join(out)


class ClaimPrinter(StrPrinter):
    """SymPy's string printer, with the matrix product written ``@`` as in a claim."""

    def __init__(self, shapes: dict) -> None:
        super().__init__()
        self.shapes = shapes

    def _print_MatMul(self, expr) -> str:
        factor, matrices = expr.as_coeff_matrices()
        text = " @ ".join(self.parenthesize(m, precedence(expr)) for m in matrices)
        return text if factor == 1 else f"{self._print(factor)} * {text}"

    def _print(self, expr, **kwargs) -> str:
        if isinstance(expr, TensorOpBase):  # before its own _sympystr, which SymPy would call first
            try:
                return expr.claim(self.shapes)
            except NotImplementedError:  # a view has no claim spelling: its own name is shown
                return expr._sympystr(self)
        return super()._print(expr, **kwargs)


def claim_text(expr, shapes: dict | None = None) -> str:
    """A closed form as a claim: the text ``symgrad.check`` reads back as the same tensor."""
    return ClaimPrinter(shapes or {}).doprint(expr)
