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


# Small formulas a document's prose shows inline. They are data like the steps: an op declares
# them (``Presentation.inline``) and the printer writes them, so no template builds LaTeX.


class Dims:
    """The dimensions of a matrix, printed m × n."""

    def __init__(self, *sizes) -> None:
        self.sizes = sizes


class Call:
    """An operation applied to tensors, printed as \\operatorname{name}(args)."""

    def __init__(self, name: str, *args) -> None:
        self.name, self.args = name, args


class IndexRange:
    """An index's range, printed lo ≤ index ≤ hi."""

    def __init__(self, index, lo, hi) -> None:
        self.index, self.lo, self.hi = index, lo, hi


class Joined:
    """Formulas side by side, separated by a comma: i = 1, …, m."""

    def __init__(self, *parts, separator: str = ", ") -> None:
        self.parts, self.separator = parts, separator


class Enumeration:
    """An index running over its range, printed i = 1, …, m."""

    def __init__(self, index, lo, hi) -> None:
        self.index, self.lo, self.hi = index, lo, hi


class Equals:
    """lhs = rhs, for notation objects that SymPy's Eq does not take."""

    def __init__(self, lhs, rhs) -> None:
        self.lhs, self.rhs = lhs, rhs


class Product:
    """Factors side by side (a matrix product), with an optional superscript on the last: W U^T."""

    def __init__(self, *factors, transpose_last: bool = False, sum_over: str | None = None) -> None:
        self.factors, self.transpose_last, self.sum_over = factors, transpose_last, sum_over
