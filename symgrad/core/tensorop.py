"""Operations on whole tensors, as SymPy objects that a step can hold.

An op's closed forms and views (a transposed convolution, an im2col product) are written as
subclasses: SymPy keeps them unevaluated, the printer shows them, and the prover computes them
exactly on the canonical form through ``compute``.
"""

from __future__ import annotations

import sympy


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
