"""The formulas a matrix-product document shows inline, for numeric or symbolic sizes: shared by
the concrete and the general derivation."""

from __future__ import annotations

import sympy
from sympy.matrices.expressions import MatMul, MatrixSymbol, Transpose

from ..chain.notation import Dims


def inline_formulas(la: str, lb: str, lc: str, m, k, n) -> dict:
    """The formulas the prose shows inline, for numeric or symbolic sizes."""
    A, B, C = (MatrixSymbol(x.upper(), r, c) for x, r, c in ((la, m, k), (lb, k, n), (lc, m, n)))
    G = MatrixSymbol("G", m, n)
    dA, dB = MatrixSymbol(f"d{A.name}", m, k), MatrixSymbol(f"d{B.name}", k, n)
    i, j = sympy.symbols("i j")
    c = sympy.IndexedBase(lc)
    return {
        "product": sympy.Eq(C, MatMul(A, B), evaluate=False),
        "dims_A": Dims(m, k),
        "dims_B": Dims(k, n),
        "entry": c[i, j],
        "upstream_entry": sympy.Derivative(sympy.Symbol("L"), c[i, j]),
        "A_T": Transpose(A),
        "B_T": Transpose(B),
        "G_BT": MatMul(G, Transpose(B)),
        "AT_G": MatMul(Transpose(A), G),
        "closed_A": sympy.Eq(dA, MatMul(G, Transpose(B)), evaluate=False),
        "closed_B": sympy.Eq(dB, MatMul(Transpose(A), G), evaluate=False),
    }
