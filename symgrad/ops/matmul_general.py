"""C = AB for every size at once: the chain rule in index notation.

For dL/da_pq: the chain rule over every c_ij; the local partial dc_ij/da_pq = δ_ip b_qj from the
definition c_ij = Σ_t a_it b_tj; sifting over i; and the entry (G Bᵀ)_pq recognised. The same
for B. Each step is a SymPy equation over Indexed entries, checked by ``general_prover``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy
from sympy import KroneckerDelta as delta
from sympy import Sum
from sympy.matrices.expressions import MatMul, MatrixSymbol

from ..chain.derivation import Equation, GeneralDerivation, Presentation, Step
from ..chain.losses import check_loss
from ..chain.notation import Entry, Enumeration, IndexRange, Joined, upstream_base
from ..chain.rules import (
    ALL_ELEMENTS,
    CHAIN_RULE,
    DEFINITION,
    DIFFERENTIATE,
    LOCAL_PARTIALS,
    LOSS,
    MATRIX_PRODUCT,
    SIFTING,
    SUBSTITUTE_THE_LOSS,
    SUM_RULE,
    TRANSPOSE,
)
from ..core.errors import SymgradError
from ..core.symbols import check_letters
from .matmul_inline import inline_formulas

INDEX_NAMES = ("i", "j", "t", "p", "q", "u", "v", "L")


def size_symbols(m, k, n) -> dict:
    names = {}
    for role, value in zip("mkn", (m, k, n)):
        name = value.name if isinstance(value, sympy.Symbol) else value
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise SymgradError(f"symbolic size {role} must be a name such as {role!r}, got {value!r}")
        if name in INDEX_NAMES:
            raise SymgradError(f"size name {name!r} is taken by an index; use another name")
        names[role] = name
    if len(set(names.values())) != 3:
        raise SymgradError("the three symbolic sizes need three different names")
    return {role: sympy.Symbol(name, integer=True, positive=True) for role, name in names.items()}


@dataclass(frozen=True)
class GeneralParams:
    loss_sum: tuple  # (u, v, weight): the loss as a sum over c_uv, with its weight (None if generic)


def matmul_general(m="m", k="k", n="n", loss="mean", letters=("a", "b", "c"), instantiate_up_to=4):
    loss = check_loss(loss)
    sizes = size_symbols(m, k, n)
    M, K, N = sizes.values()
    la, lb, lc = check_letters(letters)
    i, j, t, p, q, u, v = sympy.symbols("i j t p q u v", integer=True)
    a, b, c = (sympy.IndexedBase(x) for x in (la, lb, lc))
    g = upstream_base(lc)
    nA, nB, nC = la.upper(), lb.upper(), lc.upper()
    A, B, G = MatrixSymbol(nA, M, K), MatrixSymbol(nB, K, N), MatrixSymbol("G", M, N)
    L = sympy.Symbol("L")
    definition = {c: lambda r, s: Sum(a[r, t] * b[t, s], (t, 1, K))}
    closed = {nA: MatMul(G, B.T), nB: MatMul(A.T, G)}
    equations, ranges = {}, {}

    # (input name, its entry at (p, q), the entry's row/column ranges, the local partial, the sifted index)
    # Products are built unevaluated so that they print in reading order (upstream × local,
    # row times column); the checks canonicalise them.
    def mul(*factors):
        return sympy.Mul(*factors, evaluate=False)

    plans = [
        (
            nA,
            a[p, q],
            {p: (1, M), q: (1, K)},
            mul(delta(i, p), delta(t, q), b[t, j]),
            mul(delta(i, p), b[q, j]),
            Sum(mul(g[p, j], b[q, j]), (j, 1, N)),
            Sum(mul(Entry(G, p, j), Entry(B.T, j, q)), (j, 1, N)),
        ),
        (
            nB,
            b[p, q],
            {p: (1, K), q: (1, N)},
            mul(a[i, t], delta(t, p), delta(j, q)),
            mul(a[i, p], delta(j, q)),
            Sum(mul(a[i, p], g[i, q]), (i, 1, M)),
            Sum(mul(Entry(A.T, p, i), Entry(G, i, q)), (i, 1, M)),
        ),
    ]
    for name, x, own, by_term, local, after_sift, transposed in plans:
        cij = c[i, j]
        with_c = {**own, i: (1, M), j: (1, N)}
        chain = Sum(mul(g[i, j], sympy.Derivative(cij, x)), (j, 1, N), (i, 1, M))
        equations[f"chain_{name}"] = Equation(f"chain_{name}", (Step(sympy.Derivative(L, x), chain, CHAIN_RULE),))
        s1 = Step(sympy.Derivative(cij, x), sympy.Derivative(definition[c](i, j), x), DEFINITION)
        s2 = Step(s1.rhs, Sum(sympy.Derivative(a[i, t] * b[t, j], x), (t, 1, K)), SUM_RULE)
        s3 = Step(s2.rhs, Sum(by_term, (t, 1, K)), DIFFERENTIATE)
        s4 = Step(s3.rhs, local, SIFTING)
        equations[f"local_{name}"] = Equation(f"local_{name}", (s1, s2, s3, s4))
        put = Step(sympy.Derivative(L, x), Sum(mul(g[i, j], *local.args), (j, 1, N), (i, 1, M)), LOCAL_PARTIALS)
        sift = Step(put.rhs, after_sift, SIFTING)
        transpose = Step(sift.rhs, transposed, TRANSPOSE)
        product = Step(transpose.rhs, Entry(closed[name], p, q), MATRIX_PRODUCT)
        equations[f"sift_{name}"] = Equation(f"sift_{name}", (put, sift, transpose, product))
        dX = MatrixSymbol(f"d{name}", *closed[name].shape)
        equations[f"identity_{name}"] = Equation(f"identity_{name}", (Step(dX, closed[name], ALL_ELEMENTS),))
        ranges.update({f"chain_{name}": own, f"local_{name}": with_c, f"sift_{name}": own, f"identity_{name}": own})
        weight = loss.symbolic_weight(M * N)
        if weight is not None:
            ones = sympy.expand(after_sift.function.xreplace({g[p, j]: 1, g[i, q]: 1}))
            equations[f"pick_value_{name}"] = Equation(
                f"pick_value_{name}", (Step(after_sift, weight * Sum(ones, *after_sift.limits), SUBSTITUTE_THE_LOSS),)
            )
            ranges[f"pick_value_{name}"] = own
    weight = loss.symbolic_weight(M * N)
    if weight is not None:
        equations["loss"] = Equation("loss", (Step(sympy.Derivative(L, c[i, j]), weight, LOSS),))
        ranges["loss"] = {i: (1, M), j: (1, N)}
    total = Sum(c[u, v], (v, 1, N), (u, 1, M))
    loss_rhs = loss.formula(total, M * N, sympy.Symbol(rf"\boldsymbol{{{nC}}}"))
    notation = {
        "entry": ((c[i, j], definition[c](i, j)),),
        "loss_definition": ((L, loss_rhs),),
    }
    return GeneralDerivation(
        op="matmul",
        sizes=sizes,
        loss=loss,
        letters=(la, lb, lc),
        input_names=(nA, nB),
        output_name=nC,
        bases={nA: a, nB: b, nC: c, "G": g},
        matrices={nA: A, nB: B, nC: MatrixSymbol(nC, M, N), "G": G},
        closed_forms=closed,
        equations=equations,
        ranges=ranges,
        instantiate_up_to=instantiate_up_to,
        presentation=Presentation(
            title="Matrix multiplication and its gradients, for every size",
            body="matmul_general",
            stem="matmul-general",
            notation=notation,
            inline=general_inline(la, lb, lc, M, K, N),
        ),
        params=GeneralParams((u, v, loss.symbolic_weight(M * N))),
    )


def general_inline(la: str, lb: str, lc: str, M, K, N) -> dict:
    """The concrete document's inline formulas at symbolic sizes, and those of index notation."""
    i, j, t, p, q = sympy.symbols("i j t p q")
    a, b = sympy.IndexedBase(la), sympy.IndexedBase(lb)
    ranges = {
        "A": Joined(IndexRange(p, 1, M), IndexRange(q, 1, K), separator=r",\ "),
        "B": Joined(IndexRange(p, 1, K), IndexRange(q, 1, N), separator=r",\ "),
    }
    return {
        **inline_formulas(la, lb, lc, M, K, N),
        "element_A": a[p, q],
        "element_B": b[p, q],
        "term": a[i, t],
        "range_i": Enumeration(i, 1, M),
        "range_j": Enumeration(j, 1, N),
        "partial": sympy.Eq(
            sympy.Derivative(a[i, t], a[p, q]), sympy.Mul(delta(i, p), delta(t, q), evaluate=False), evaluate=False
        ),
        "ranges_A": ranges["A"],
        "ranges_B": ranges["B"],
    }
