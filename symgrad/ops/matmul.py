"""C = AB: the reference's op.

Forward entries c_ij = Σ_t a_it b_tj; closed forms dL/dA = G·Bᵀ and
dL/dB = Aᵀ·G with G = dL/dC; the regrouping steps of the reference's
Eqs. (11)–(13) and (15)–(17).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import sympy
from sympy.matrices.expressions import MatMul, MatrixSymbol

from ..chain.build import Problem, derive, pick_index
from ..chain.derivation import Equation, GeneralMatrix, Presentation, Step, TensorView
from ..chain.engine import gc_paused
from ..chain.losses import Loss, check_loss
from ..chain.rules import CLOSED_FORM, DEFINITION, DIMENSIONS, EVERY_ELEMENT, LOSS, LOSS_SUBSTITUTED, NOTATION, REGROUP
from ..core.budget import check_budget
from ..core.errors import SymgradError
from ..core.numbers import integer
from ..core.symbols import SymbolTensor, check_letters
from ..core.tensor import PolyTensor
from ..network import layers
from ..network.graph import Graph
from .matmul_inline import inline_formulas
from .spec import OpSpec, pick, size

REFERENCE = {"m": 2, "k": 4, "n": 3, "pick_a": (2, 3), "pick_b": (1, 2)}


def matmul(m=2, k=4, n=3, loss="mean", *, pick_a=None, pick_b=None, letters=("a", "b", "c"), max_terms=None):
    """Derive dL/dA and dL/dB for C = AB with A m×k and B k×n.

    Picks are 1-based (row, column), as printed; by default the reference's
    a_23 and b_12, moved inside the matrix when it is smaller. ``max_terms`` raises the size
    budget (see ``symgrad.budget``).

    With sizes given as names (``matmul("m", "k", "n")``) the result is a GeneralDerivation:
    the same identities proven for every size at once, in index notation.
    """
    letters = check_letters(letters)
    symbolic = [isinstance(s, (str, sympy.Symbol)) for s in (m, k, n)]
    if any(symbolic):
        if not all(symbolic):
            raise SymgradError(
                "give all three sizes as integers, or all three as names such as 'm', 'k', 'n' "
                "(mixed concrete and symbolic sizes are not supported)"
            )
        if pick_a is not None or pick_b is not None:
            raise SymgradError("a general derivation has no picked elements: it derives an arbitrary a_pq and b_pq")
        from .matmul_general import matmul_general

        return matmul_general(m, k, n, loss, letters)
    loss = check_loss(loss)
    sizes = {"m": check_size("m", m), "k": check_size("k", k), "n": check_size("n", n)}
    m, k, n = sizes.values()
    # m·k·n products; the inputs, the outputs and their upstream gradients
    check_budget(f"C = AB with A {m}×{k} and B {k}×{n}", m * k * n, m * k + k * n + 2 * m * n, max_terms)
    picks = {
        letters[0].upper(): pick_index(pick_a, (min(2, m), min(3, k)), rank=2),
        letters[1].upper(): pick_index(pick_b, (min(1, k), min(2, n)), rank=2),
    }
    return derive(problem(m, k, n, loss, letters, max_terms), loss, picks)


@dataclass(frozen=True)
class MatmulParams:
    letters: tuple  # the entry letters of A, B and C


def problem(m: int, k: int, n: int, loss: object, letters=("a", "b", "c"), max_terms=None) -> Problem:
    """The forward pass of C = AB, for checked sizes and letters: one matrix-product layer of the
    graph engine, c_ij = Σ_t a_it b_tj."""
    la, lb, lc = letters
    graph = Graph(max_terms, operations=layers)
    a = graph.input(la.upper(), (m, k), la)
    b = graph.input(lb.upper(), (k, n), lb)
    with gc_paused():
        c = layers.matmul(a, b, name=lc.upper())
    graph.rename_entries(c, lc)
    A, B, C = (SymbolTensor(t.name, x, t.shape, t.ids) for t, x in ((a, la), (b, lb), (c, lc)))
    nA, nB = MatrixSymbol(A.name, m, k), MatrixSymbol(B.name, k, n)
    G = MatrixSymbol("G", m, n)
    return Problem(
        op="matmul",
        sizes={"m": m, "k": k, "n": n},
        graph=graph,
        inputs={A.name: A, B.name: B},
        output=C,
        closed_forms={A.name: MatMul(G, nB.T), B.name: MatMul(nA.T, G)},
        equations=equations,
        presentation=Presentation(
            title=f"Matrix multiplication and its gradients: C = AB, with A {m}×{k} and B {k}×{n}",
            body="matmul",
            stem=f"matmul-{m}x{k}x{n}",
            notation=notation(la, lb, lc, check_loss(loss)),
            inline=inline_formulas(la, lb, lc, m, k, n),
        ),
        params=MatmulParams((la, lb, lc)),
    )


def equations(d) -> dict:
    """The matrix-level steps: C expanded, each gradient regrouped as a product."""
    reg = d.registry
    (na, A), (nb, B) = d.input_tensors.items()
    C = d.output
    m, k, n = d.sizes.values()
    sA, sB, sC = MatrixSymbol(na, m, k), MatrixSymbol(nb, k, n), MatrixSymbol(C.name, m, n)
    G = MatrixSymbol("G", m, n)
    view = lambda name, t: TensorView(name, t, reg)  # noqa: E731
    eq = {
        "inputs": Equation(
            "inputs",
            (
                Step(sA, view(na, PolyTensor.of_symbols(A)), NOTATION),
                Step(sB, view(nb, PolyTensor.of_symbols(B)), NOTATION),
            ),
        ),
        "product": Equation(
            "product",
            (
                Step(sC, view(C.name, PolyTensor.of_symbols(C)), NOTATION),
                Step(view(C.name, PolyTensor.of_symbols(C)), MatMul(sA, sB), DEFINITION, explicit=True),
                Step(MatMul(sA, sB), view(C.name, d.definitions), DEFINITION),
            ),
        ),
        "loss": Equation("loss", (Step(G, view("G", d.upstream_values), LOSS),)),
    }
    for name, closed in d.closed_forms.items():
        dX = MatrixSymbol(f"d{name}", *d.input_tensors[name].shape)  # the input's shape, not the closed form's
        eq[f"grad_{name}"] = Equation(
            f"grad_{name}", (Step(dX, view(f"d{name}", d.grads_upstream[name]), EVERY_ELEMENT),)
        )
        eq[f"regroup_{name}"] = Equation(f"regroup_{name}", (Step(dX, closed, REGROUP, explicit=True),))
        eq[f"identity_{name}"] = Equation(f"identity_{name}", (Step(dX, closed, CLOSED_FORM),))
        eq[f"dims_{name}"] = Equation(f"dims_{name}", (Step(dX, closed, DIMENSIONS),))
        eq[f"values_{name}"] = Equation(
            f"values_{name}", (Step(dX, view(f"d{name}", d.grads_values[name]), LOSS_SUBSTITUTED, result=True),)
        )
    return eq


def notation(la: str, lb: str, lc: str, loss: Loss) -> dict:
    """The general definitions a document opens with: shown, not derived (they are the premises)."""
    i, j, t, m, k, n, M = sympy.symbols("i j t m k n M")
    a, b, c = (sympy.IndexedBase(x) for x in (la, lb, lc))
    L = sympy.Symbol("L")
    A, B, C = (MatrixSymbol(x.upper(), 1, 1) for x in (la, lb, lc))
    total = sympy.Sum(c[i, j], (j, 1, n), (i, 1, m))
    loss_rhs = loss.formula(total, m * n, sympy.Symbol(rf"\boldsymbol{{{lc.upper()}}}"))
    from ..chain.notation import upstream_base

    g = upstream_base(lc)
    p, q = sympy.symbols("p q")
    proven = "proven for every size"
    general = (
        (sympy.Derivative(L, a[p, q]), sympy.Sum(sympy.Mul(g[p, j], b[q, j], evaluate=False), (j, 1, n)), proven),
        (sympy.Derivative(L, b[p, q]), sympy.Sum(sympy.Mul(a[i, p], g[i, q], evaluate=False), (i, 1, m)), proven),
    )
    f, x, path = sympy.IndexedBase("f"), sympy.IndexedBase("x"), sympy.Symbol("m")
    chain = sympy.Sum(
        sympy.Mul(sympy.Derivative(L, f[path]), sympy.Derivative(f[path], x[i]), evaluate=False), (path, 1, M)
    )
    return {
        "general_inputs": ((A, GeneralMatrix(la, "m", "k")), (B, GeneralMatrix(lb, "k", "n"))),
        "general_product": ((C, GeneralMatrix(lc, "m", "n")),),
        "entry": ((c[i, j], sympy.Sum(a[i, t] * b[t, j], (t, 1, k))),),
        "loss_definition": ((L, loss_rhs),),
        "chain_general": ((sympy.Derivative(L, x[i]), chain),),
        "general_result": general,
    }


def check_size(name: str, value) -> int:
    return integer(value, f"size {name}", minimum=1)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", type=size, default=REFERENCE["m"], help="rows of A, or a name (default 2)")
    parser.add_argument("-k", type=size, default=REFERENCE["k"], help="columns of A, rows of B (default 4)")
    parser.add_argument("-n", type=size, default=REFERENCE["n"], help="columns of B (default 3)")
    parser.add_argument("--loss", default="mean", help="mean (default), sum or generic")
    parser.add_argument("--pick-a", type=pick, help="1-based element of A to derive step by step (default 2,3)")
    parser.add_argument("--pick-b", type=pick, help="1-based element of B to derive step by step (default 1,2)")
    parser.add_argument("--letters", default="abc", help="entry letters of A, B and C (default abc)")


def _general(args: argparse.Namespace) -> bool:
    return any(isinstance(s, str) for s in (args.m, args.k, args.n))


def _from_args(args: argparse.Namespace, max_terms: int | None):
    options = {} if _general(args) else {"max_terms": max_terms}
    return matmul(
        args.m,
        args.k,
        args.n,
        args.loss,
        pick_a=args.pick_a,
        pick_b=args.pick_b,
        letters=tuple(args.letters),
        **options,
    )


SPEC = OpSpec(
    name="matmul",
    summary="C = AB: dL/dA and dL/dB",
    arguments=_arguments,
    build=_from_args,
    terms=lambda args: 0 if _general(args) else args.m * args.k * args.n,
    examples=(
        ("the reference example: 2×4 times 4×3, mean loss", lambda: matmul(2, 4, 3, "mean")),
        ("3×2 times 2×5, sum loss", lambda: matmul(3, 2, 5, "sum")),
        ("12×12 times 12×12, generic loss: matrices elided", lambda: matmul(12, 12, 12, "generic")),
        ("every size, in index notation, mean loss", lambda: matmul("m", "k", "n", "mean")),
    ),
    backward=lambda sizes, loss: matmul(sizes[0], sizes[1], sizes[2], loss),
    backward_arguments="(A, B, grad_C)",
)
