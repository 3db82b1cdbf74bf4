"""Users' claims about a gradient: read, evaluated exactly, proven or refuted.

A backward formula is a statement for every upstream gradient. A claim that uses G (dL/dY) is
therefore proven with G's entries as free symbols, and, under a mean or sum loss, also with
the loss's value put in. A claim that holds only for the loss's particular G is refuted, with
the element where it fails for a general G, and the counterexample says that it holds for the
loss's G. A claim without G (an explicit matrix, say) is a statement about the gradient's value
under the derivation's loss, and is compared with that.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sympy
from sympy.matrices.expressions import MatrixSymbol

from ..chain.derivation import Counterexample, Derivation, GeneralDerivation, Proof
from ..core.errors import SymgradError
from .evaluate import Meaning
from .general import concrete
from .index import Entry, canon
from .prover import first_difference
from .reader import Reader

EVERY_UPSTREAM = "every upstream gradient G"


def claim_reader(d: Derivation) -> Reader:
    """The names a claim may use: the inputs, and G for the upstream gradient dL/dY."""
    functions = d.presentation.claim_functions
    shapes = {n: t.shape for n, t in d.input_tensors.items()}
    shapes["G"] = d.output.shape
    if functions:
        tensors = {n: (sympy.Symbol(n), s) for n, s in shapes.items()}
        return Reader(tensors, functions(d), matrices=False, example="conv_transpose2d(G, W, stride=2)")
    tensors = {n: (MatrixSymbol(n, *s), s) for n, s in shapes.items()}
    return Reader(tensors, matrices=True, example="G*B.T")


def general_reader(gd: GeneralDerivation) -> Reader:
    names = [*gd.input_names, "G"]
    return Reader({n: (gd.matrices[n], gd.matrices[n].shape) for n in names}, matrices=True, example="G*B.T")


def parse_claim(d: Derivation, claim: str) -> Any:
    return claim_reader(d).read(claim).expr


def parse_general_claim(gd: GeneralDerivation, claim: str) -> Any:
    return general_reader(gd).read(claim).expr


def check(d: Derivation | GeneralDerivation, wrt: str, claim: str | sympy.MatrixBase | sympy.NDimArray) -> Proof:
    """Prove or refute ``dL/d<wrt> = claim`` for every element.

    ``claim`` is a string over the input names and G (= dL/dY), or a SymPy matrix of the
    input's shape.
    """
    from ..network.trace import NetworkDerivation

    if isinstance(d, NetworkDerivation):
        from .network import check as check_network

        return check_network(d, wrt, claim)
    if isinstance(d, GeneralDerivation):
        if not isinstance(claim, str):
            raise SymgradError("a claim about a general derivation must be a string such as 'G*B.T'")
        return check_general(d, wrt, claim)
    if wrt not in d.input_tensors:
        raise SymgradError(f"unknown input {wrt!r}: the inputs are {', '.join(d.input_tensors)}")
    expr, shape, uses_upstream = _claim_expression(d, claim)
    if tuple(shape) != tuple(d.input_tensors[wrt].shape):  # before any work: a wrong shape is cheap to see
        raise SymgradError(f"the claim for d{wrt} is {_dims(shape)}, but {wrt} is {_dims(d.input_tensors[wrt].shape)}")
    symbolic = Meaning(d)
    valued = Meaning(d, values=True) if d.loss.has_value else None  # G = the loss's value
    n = len(d.input_tensors[wrt].ids)
    if not uses_upstream and valued is not None:
        # a statement about the value of the gradient under this loss
        bad = first_difference(d, wrt, d.grads_values[wrt], valued(expr))
        if bad:
            return Proof("refuted", n, n, counterexample=bad)
        return Proof("proven", n, n, claims=((wrt, str(claim)),), scope=f"the {d.loss} loss")
    bad = first_difference(d, wrt, d.grads_upstream[wrt], symbolic(expr))
    if bad:
        if valued is not None and first_difference(d, wrt, d.grads_values[wrt], valued(expr)) is None:
            bad = replace(bad, note=f"it holds for the {d.loss} loss's G but not for {EVERY_UPSTREAM}")
        return Proof("refuted", n, n, counterexample=bad)
    if valued is None:
        return Proof("proven", n, n, claims=((wrt, str(claim)),), scope=EVERY_UPSTREAM)
    bad = first_difference(d, wrt, d.grads_values[wrt], valued(expr))
    if bad:  # cannot happen when the symbolic pass holds; kept as a check that could fail
        return Proof("refuted", 2 * n, 2 * n, counterexample=replace(bad, note=f"with the {d.loss} loss's G"))
    return Proof("proven", 2 * n, 2 * n, claims=((wrt, str(claim)),), scope=EVERY_UPSTREAM)


def _claim_expression(d: Derivation, claim: object) -> tuple[Any, tuple, bool]:
    """The claim as an object Meaning evaluates, and whether it involves the upstream gradient."""
    if isinstance(claim, str):
        value = claim_reader(d).read(claim)
        expr = value.expr
        return expr, value.shape or (), any(getattr(s, "name", None) == "G" for s in expr.free_symbols)
    if d.presentation.claim_functions:
        raise SymgradError("a claim about this op must be a string such as 'conv_transpose2d(G, W)'")
    if not isinstance(claim, (sympy.MatrixBase, sympy.NDimArray)):
        raise SymgradError("a claim must be a string such as 'G*B.T' or a SymPy matrix")
    if isinstance(claim, sympy.NDimArray):
        if claim.rank() != 2:
            raise SymgradError(f"a claim must be a matrix, got an array of rank {claim.rank()}")
        claim = claim.tolist()
    matrix = sympy.ImmutableMatrix(claim)
    upstream = {d.registry.symbol(g) for g in d.upstream_symbols.ids}
    return matrix, matrix.shape, bool(matrix.free_symbols & upstream)


def _dims(shape: tuple) -> str:
    return "×".join(map(str, shape))


def check_general(gd: GeneralDerivation, wrt: str, claim: str) -> Proof:
    """A general claim: proven when its entry matches the derived one symbolically, refuted with
    the first concrete size where it fails."""
    if wrt not in gd.input_names:
        raise SymgradError(f"unknown input {wrt!r}: the inputs are {', '.join(gd.input_names)}")
    expr = parse_general_claim(gd, claim)
    target = gd.matrices[wrt]
    if expr.shape != target.shape:
        raise SymgradError(
            f"the index structure cannot match: the claim is {_dims(expr.shape)}, but d{wrt} is {_dims(target.shape)}"
        )
    p, q = sympy.symbols("p q", integer=True)
    if canon(Entry(expr, p, q), gd.bases) == canon(Entry(gd.closed_forms[wrt], p, q), gd.bases):
        return Proof("proven", 1, 1, claims=((wrt, str(claim)),), scope="every size and every upstream gradient G")
    checked = 0
    for d in concrete(gd):
        sizes = {gd.sizes[r]: v for r, v in d.sizes.items()}
        concrete_claim = expr.xreplace(sizes)
        value = Meaning(d)(concrete_claim)  # G symbolic: a backward formula holds for every upstream gradient
        bad = first_difference(d, wrt, d.grads_upstream[wrt], value)
        checked += len(value.entries)
        if bad:
            note = ""
            if (
                d.loss.has_value
                and first_difference(d, wrt, d.grads_values[wrt], Meaning(d, values=True)(concrete_claim)) is None
            ):
                note = f"it holds for the {d.loss} loss's G but not for every upstream gradient G"
            ce = Counterexample(
                bad.wrt,
                bad.index,
                bad.element,
                bad.derived,
                bad.claimed,
                sizes={str(gd.sizes[r]): v for r, v in d.sizes.items()},
                note=note,
            )
            return Proof("refuted", checked, checked, counterexample=ce)
    return Proof(
        "undecided",
        checked,
        checked,
        failed_step=(
            f"not proven: the claim's entry differs in form from the derived one, and no counterexample "
            f"was found up to size {gd.instantiate_up_to}"
        ),
    )
