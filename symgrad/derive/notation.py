"""Objects of index notation that steps hold: the entry of a matrix expression, and the upstream
gradient's entries. Plain data; the prover gives them meaning and the printer shows them."""

from __future__ import annotations

import sympy


class Entry(sympy.Function):
    """(X)_{pq}: the entry of a matrix expression, 1-based as printed."""

    nargs = 3
    is_commutative = True

    @classmethod
    def eval(cls, matrix, row, col):
        return None  # never evaluated: it is what a step shows


def upstream_base(letter: str) -> sympy.IndexedBase:
    """dL/dc_ij as an IndexedBase; the printer shows it as a fraction of partials."""
    return sympy.IndexedBase(f"dL/d{letter}")
