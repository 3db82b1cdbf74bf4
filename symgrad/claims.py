"""Users' claims about a gradient: parsed, evaluated exactly, proven or refuted."""
from __future__ import annotations

import inspect
import re

import sympy
from sympy.matrices.expressions import MatAdd, MatMul, MatrixSymbol
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from .derivation import Proof
from .errors import SymgradError
from .evaluate import Meaning, TensorOpBase
from .prover import first_difference
from .tensor import PolyTensor, indices

def claim_symbols(d) -> dict:
    """The names a claim may use: the inputs, and G for the upstream gradient dL/dY."""
    names = {n: MatrixSymbol(n, *t.shape) for n, t in d.input_tensors.items()}
    names["G"] = MatrixSymbol("G", *d.output.shape)
    return names


def parse_claim(d, claim: str):
    functions = d.meta.get("claim_functions")
    if functions:
        return parse_tensor_claim(d, claim, functions(d))
    return parse_with(claim_symbols(d), claim)


def parse_tensor_claim(d, claim: str, functions: dict):
    """A claim over whole tensors (X, W, b, G) and the op's named operations, whose keyword
    arguments (stride=2, ...) are the only other words allowed."""
    names = {n: sympy.Symbol(n) for n in [*d.input_tensors, "G"]}
    keywords = {k for f in functions.values() for k in inspect.signature(f).parameters}
    words = sorted({*names, *functions, *keywords, "True", "False"}, key=len, reverse=True)
    pattern = rf"(?:\b(?:{'|'.join(words)})\b|[0-9\s.*+\-/()=,])+"
    hint = f"use {', '.join(names)}, numbers, + - * and the operations {', '.join(functions)}"
    expr = _parse(claim, {**names, **functions, "True": True, "False": False}, pattern, hint,
                  "conv_transpose2d(G, W, stride=2)")
    if not expr.has(TensorOpBase) and not (isinstance(expr, sympy.Symbol) and expr.name in names):
        raise SymgradError(f"claim {claim!r} is not a tensor expression")
    return expr


def parse_general_claim(gd, claim: str):
    names = {n: gd.matrices[n] for n in gd.input_names}
    names["G"] = gd.matrices["G"]
    return parse_with(names, claim)


def parse_with(names: dict, claim: str):
    """A claim over matrices: the names, numbers, + - * / @, parentheses and .T."""
    allowed = "|".join(sorted(names, key=len, reverse=True))
    pattern = rf"(?:{allowed}|\.T\b|[0-9\s.*+\-/()@])+"
    hint = f"use the names {', '.join(names)}, numbers, + - * / @, parentheses and .T"
    try:
        expr = _parse(claim, names, pattern, hint, "G*B.T")
    except sympy.ShapeError:
        raise SymgradError(f"the shapes in claim {claim!r} do not fit ({describe(names)})") from None
    if not isinstance(expr, sympy.MatrixExpr):
        raise SymgradError(f"claim {claim!r} is not a matrix expression")
    if not shapes_fit(expr):
        raise SymgradError(f"the shapes in claim {claim!r} do not fit ({describe(names)})")
    return expr


def _parse(claim, local: dict, pattern: str, hint: str, example: str):
    """Only whitelisted words and symbols reach SymPy's parser, so no other Python runs."""
    if not isinstance(claim, str) or not claim.strip():
        raise SymgradError(f"a claim must be a non-empty expression such as {example!r}")
    if not re.fullmatch(pattern, claim):
        raise SymgradError(f"malformed claim {claim!r}: {hint}")
    try:
        return parse_expr(claim, local_dict=local, transformations=standard_transformations, evaluate=True)
    except (SymgradError, sympy.ShapeError):
        raise
    except (SyntaxError, TypeError, ValueError, AttributeError) as exc:
        raise SymgradError(f"malformed claim {claim!r}: {exc}") from None


def shapes_fit(expr) -> bool:
    """Every product joins equal inner sizes and every sum equal shapes, also for symbolic sizes
    (where SymPy lets k×n times m×n through when it cannot tell n from k)."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, MatMul):
            factors = [a for a in node.args if isinstance(a, sympy.MatrixExpr)]
            if any(x.shape[1] != y.shape[0] for x, y in zip(factors, factors[1:])):
                return False
        if isinstance(node, MatAdd) and len({a.shape for a in node.args}) > 1:
            return False
    return True


def describe(names: dict) -> str:
    return ", ".join(f"{n} is {'×'.join(map(str, s.shape))}" for n, s in names.items())


def check(d, wrt: str, claim) -> Proof:
    """Prove or refute ``dL/d<wrt> = claim`` for every element, with the loss substituted.

    ``claim`` is a string over the input names and G (= dL/dY), or a SymPy matrix
    of the same shape as the input.
    """
    from .derivation import GeneralDerivation
    if isinstance(d, GeneralDerivation):
        from .general_prover import check_claim
        if not isinstance(claim, str):
            raise SymgradError("a claim about a general derivation must be a string such as 'G*B.T'")
        return check_claim(d, wrt, claim)
    if wrt not in d.input_tensors:
        raise SymgradError(f"unknown input {wrt!r}: the inputs are {', '.join(d.input_tensors)}")
    meaning = Meaning(d, values=True)
    if isinstance(claim, str) or d.meta.get("claim_functions"):
        if not isinstance(claim, str):
            raise SymgradError("a claim about this op must be a string such as 'conv_transpose2d(G, W)'")
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
