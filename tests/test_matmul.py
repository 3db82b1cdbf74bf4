"""C = AB: the reference's numbers, the naive SymPy oracle, and the proof over many sizes."""

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.chain import rules as R

S = sympy.Symbol


def test_reference_element_of_A():
    # The reference's Eq. (10) under the mean over 2×3 entries: (b31 + b32 + b33) / 6.
    d = symgrad.matmul(2, 4, 3, "mean")
    expected = (S("b_{31}") + S("b_{32}") + S("b_{33}")) / 6
    assert sympy.expand(d.grad["A"][1, 2] - expected) == 0


def test_reference_element_of_B():
    # The reference's Eq. (14) under the mean: (a11 + a21) / 6.
    d = symgrad.matmul(2, 4, 3, "mean")
    assert sympy.expand(d.grad["B"][0, 1] - (S("a_{11}") + S("a_{21}")) / 6) == 0


def test_reference_local_partials_of_a23():
    # The reference's Eq. (9): dc_ij/da_23 for all six entries, zeros included.
    d = symgrad.matmul(2, 4, 3)
    steps = d.equations["local_A"].steps
    firsts = [s for s in steps if isinstance(s.lhs, sympy.Derivative) and s.lhs.expr.is_Symbol]
    assert [str(s.lhs.expr) for s in firsts] == ["c_{11}", "c_{12}", "c_{13}", "c_{21}", "c_{22}", "c_{23}"]
    finals = {}
    for s in steps:
        if isinstance(s.lhs, sympy.Derivative) and s.lhs.expr.is_Symbol:
            current = str(s.lhs.expr)
        finals[current] = s.rhs
    assert {k: str(v) for k, v in finals.items()} == {
        "c_{11}": "0",
        "c_{12}": "0",
        "c_{13}": "0",
        "c_{21}": "b_{31}",
        "c_{22}": "b_{32}",
        "c_{23}": "b_{33}",
    }


def test_entries_of_C_are_row_times_column():
    d = symgrad.matmul(2, 4, 3)
    A, B, C = d.inputs["A"], d.inputs["B"], d.outputs["C"]
    for i in range(2):
        for j in range(3):
            assert sympy.expand(C[i, j] - sum(A[i, t] * B[t, j] for t in range(4))) == 0


def naive_gradient(m, k, n, loss):
    """The slow way, independent of symgrad's engine: build L, then sympy.diff for every entry."""
    A = sympy.Matrix(m, k, lambda i, j: S(f"a[{i},{j}]"))
    B = sympy.Matrix(k, n, lambda i, j: S(f"b[{i},{j}]"))
    C = A * B
    L = sum(C) / (m * n) if loss == "mean" else sum(C)
    return A, B, A.applyfunc(lambda x: sympy.diff(L, x)), B.applyfunc(lambda x: sympy.diff(L, x))


def rename(d, A, B):
    """Map the naive symbols onto symgrad's."""
    return {A[i, j]: d.inputs["A"][i, j] for i in range(A.rows) for j in range(A.cols)} | {
        B[i, j]: d.inputs["B"][i, j] for i in range(B.rows) for j in range(B.cols)
    }


def test_agrees_with_naive_sympy_diff():
    for m, k, n in [(1, 1, 1), (2, 4, 3), (3, 2, 5), (4, 4, 4)]:
        for loss in ("mean", "sum"):
            d = symgrad.matmul(m, k, n, loss)
            A, B, gA, gB = naive_gradient(m, k, n, loss)
            sub = rename(d, A, B)
            assert (gA.xreplace(sub) - d.grad["A"]).expand() == sympy.zeros(m, k)
            assert (gB.xreplace(sub) - d.grad["B"]).expand() == sympy.zeros(k, n)


def test_generic_keeps_the_upstream_symbolic():
    d = symgrad.matmul(2, 2, 2, "generic")
    g = d.upstream
    assert str(g[0, 1]) == r"\frac{\partial L}{\partial c_{12}}"
    expected = g * d.inputs["B"].T  # built here from the public matrices, not by symgrad's prover
    assert (d.grad["A"] - expected).expand() == sympy.zeros(2, 2)


def test_upstream_values():
    assert set(symgrad.matmul(2, 4, 3, "mean").upstream) == {sympy.Rational(1, 6)}
    assert set(symgrad.matmul(2, 4, 3, "sum").upstream) == {1}


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 6),
    k=st.integers(1, 6),
    n=st.integers(1, 6),
    loss=st.sampled_from(["mean", "sum", "generic"]),
    data=st.data(),
)
def test_proof_holds_for_any_size_loss_and_pick(m, k, n, loss, data):
    pick_a = (data.draw(st.integers(1, m)), data.draw(st.integers(1, k)))
    pick_b = (data.draw(st.integers(1, k)), data.draw(st.integers(1, n)))
    d = symgrad.matmul(m, k, n, loss, pick_a=pick_a, pick_b=pick_b)
    proof = d.prove()
    assert proof.ok, proof
    assert proof.elements == m * k + k * n  # every element, with G symbolic
    assert proof.upstream == (0 if loss == "generic" else m * n)
    every = [s for eq in d.equations.values() for s in eq.steps]
    assert proof.steps + proof.shown == len(every)
    assert proof.shown == sum(s.rule in (R.NOTATION, R.EVERY_ELEMENT, R.LOSS_SUBSTITUTED) for s in every)
    assert symgrad.check(d, "A", "G @ B.T").ok
    assert symgrad.check(d, "B", "A.T @ G").ok


def test_closed_forms_agree_with_sympy_matrix_products():
    # The prover's exact tensor algebra against SymPy's own matrix product.
    from symgrad.core.tensor import from_sympy
    from symgrad.prove.evaluate import Meaning

    d = symgrad.matmul(3, 4, 2, "generic")
    meaning = Meaning(d)
    ours = meaning(d.closed_forms["A"])
    theirs = d.upstream * d.inputs["B"].T
    assert ours.entries == tuple(from_sympy(v, d.registry) for v in theirs)
