"""Users' claims about a gradient: parsed, evaluated exactly, proven or refuted."""
from __future__ import annotations

import re

import sympy
from sympy.matrices.expressions import MatrixSymbol
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from .derivation import Proof
from .errors import SymgradError
from .evaluate import Meaning
from .prover import first_difference
from .tensor import PolyTensor, indices

_NUMBER_OR_OP = r"[0-9\s.*+\-/()@]"


def claim_symbols(d) -> dict:
    """The names a claim may use: the inputs, and G for the upstream gradient dL/dY."""
    names = {n: MatrixSymbol(n, *t.shape) for n, t in d.input_tensors.items()}
    names["G"] = MatrixSymbol("G", *d.output.shape)
    return names


def parse_claim(d, claim: str):
    names = claim_symbols(d)
    allowed = "|".join(sorted(names, key=len, reverse=True))
    if not isinstance(claim, str) or not claim.strip():
        raise SymgradError("a claim must be a non-empty expression such as 'G*B.T'")
    if not re.fullmatch(rf"(?:{allowed}|\.T\b|{_NUMBER_OR_OP})+", claim):
        raise SymgradError(
            f"malformed claim {claim!r}: use the names {', '.join(names)}, numbers, + - * / @, "
            "parentheses and .T")
    try:
        expr = parse_expr(claim, local_dict=names, transformations=standard_transformations, evaluate=True)
    except sympy.ShapeError:
        shapes = ", ".join(f"{n} is {'×'.join(map(str, s.shape))}" for n, s in names.items())
        raise SymgradError(f"the shapes in claim {claim!r} do not fit ({shapes})") from None
    except (SyntaxError, TypeError, ValueError, AttributeError) as exc:
        raise SymgradError(f"malformed claim {claim!r}: {exc}") from None
    if not isinstance(expr, sympy.MatrixExpr):
        raise SymgradError(f"claim {claim!r} is not a matrix expression")
    return expr


def check(d, wrt: str, claim) -> Proof:
    """Prove or refute ``dL/d<wrt> = claim`` for every element, with the loss substituted.

    ``claim`` is a string over the input names and G (= dL/dY), or a SymPy matrix
    of the same shape as the input.
    """
    if wrt not in d.input_tensors:
        raise SymgradError(f"unknown input {wrt!r}: the inputs are {', '.join(d.input_tensors)}")
    meaning = Meaning(d, values=True)
    if isinstance(claim, str):
        value = meaning(parse_claim(d, claim))
    elif isinstance(claim, (sympy.MatrixBase, sympy.NDimArray)):
        entries = sympy.Array(claim)
        value = PolyTensor(tuple(entries.shape),
                           tuple(meaning(sympy.sympify(entries[ix])) for ix in indices(entries.shape)))
    else:
        raise SymgradError("a claim must be a string such as 'G*B.T' or a SymPy matrix")
    derived = d.grads_values[wrt]
    bad = first_difference(d, wrt, derived, value)
    n = len(derived.entries)
    if bad:
        return Proof(False, n, n, counterexample=bad)
    return Proof(True, n, n, claims=((wrt, str(claim)),))
