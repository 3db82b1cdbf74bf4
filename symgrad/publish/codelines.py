"""The lines of a backward pass, written from the proven closed forms: what the documents show and
what ``codegen`` writes to files.

The closed form G·Bᵀ becomes ``grad_C.mm(B.t())`` (torch) or ``grad_C @ B.T`` (NumPy); the
upstream line comes from the loss; an op with its own code (a convolution) supplies its lines.
"""

from __future__ import annotations

from sympy.matrices.expressions import MatMul, MatrixSymbol, Transpose

from ..core.errors import SymgradError

LIBRARIES = ("torch", "numpy")


def upstream_line(d, lib: str) -> str:
    return d.loss.upstream_code(lib, d.output.name)


def expression(expr, d, lib: str) -> str:
    if isinstance(expr, MatrixSymbol):
        return f"grad_{d.output.name}" if expr.name == "G" else expr.name
    if isinstance(expr, Transpose):
        inner = expression(expr.arg, d, lib)
        return f"{inner}.t()" if lib == "torch" else f"{inner}.T"
    if isinstance(expr, MatMul):
        parts = [expression(a, d, lib) for a in expr.args]
        if lib == "numpy":
            return " @ ".join(parts)
        out = parts[0]
        for p in parts[1:]:
            out = f"{out}.mm({p})"
        return out
    raise SymgradError(f"no code for {expr}")


def check_library(lib: str) -> str:
    if lib not in LIBRARIES:
        raise SymgradError(f"unknown library {lib!r}: use one of {', '.join(LIBRARIES)}")
    return lib


def backward_lines(d, lib: str = "torch") -> list[str]:
    """The body of the backward pass: the lines the documents show."""
    check_library(lib)
    if d.presentation.code is not None:  # an op that writes its own backward code
        return d.presentation.code(d, lib)
    lines = [upstream_line(d, lib)]
    for name, closed in d.closed_forms.items():
        lines.append(f"grad_{name} = {expression(closed, d, lib)}")
    return lines
