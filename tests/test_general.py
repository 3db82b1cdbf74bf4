"""dL/dA = G·Bᵀ and dL/dB = Aᵀ·G for every m, k, n, in index notation."""

from __future__ import annotations

import dataclasses

import pytest
import sympy

import symgrad
from symgrad.chain import rules as R
from symgrad.chain.derivation import Equation
from symgrad.prove.general import check_instances, concrete


@pytest.fixture(scope="module", params=["mean", "sum", "generic"])
def general(request):
    return symgrad.matmul("m", "k", "n", request.param)


@pytest.mark.slow
def test_the_general_proof_holds_for_every_loss(general):
    proof = general.prove()
    assert proof.ok, proof.failed_step
    assert proof.steps == sum(len(eq.steps) for eq in general.equations.values())
    assert proof.elements > 20_000  # instances at every size up to 4×4×4


def test_steps_follow_the_index_derivation(general):
    rules = {key: [s.rule for s in eq.steps] for key, eq in general.equations.items()}
    assert rules["chain_A"] == [R.CHAIN_RULE]
    assert rules["local_A"] == [R.DEFINITION, R.SUM_RULE, R.DIFFERENTIATE, R.SIFTING]
    assert rules["sift_A"] == [R.LOCAL_PARTIALS, R.SIFTING, R.TRANSPOSE, R.MATRIX_PRODUCT]
    i, j, p, q = sympy.symbols("i j p q", integer=True)
    b = sympy.IndexedBase("b")
    assert sympy.expand(general.equations["local_A"].steps[-1].rhs - sympy.KroneckerDelta(i, p) * b[q, j]) == 0
    assert general.claims == {"A": "G @ B.T", "B": "A.T @ G"}


def test_instances_agree_with_the_element_wise_engine(general):
    d = symgrad.matmul(2, 3, 4, general.loss)
    why, count = check_instances(general, d)
    assert why is None
    # chain, local, sift, identity for A and B at (p, q), local at (i, j, p, q) too
    assert count > 2 * 3 * 2 * 4 * 4


def test_true_general_claims_are_proven(general):
    assert symgrad.check(general, "A", "G @ B.T").ok
    assert symgrad.check(general, "A", "(B @ G.T).T").ok
    assert symgrad.check(general, "B", "A.T @ G").ok
    assert symgrad.check(general, "B", "2**2 * A.T @ G / 4 + A.T @ G - A.T @ G").ok


def test_a_shape_correct_wrong_claim_is_refuted_with_a_concrete_counterexample():
    gd = symgrad.matmul("m", "k", "n", "sum")
    proof = symgrad.check(gd, "A", "2 * G @ B.T")
    assert not proof.ok
    ce = proof.counterexample
    assert ce.sizes == {"m": 1, "k": 1, "n": 1} and ce.index == (1, 1)
    g11, b11 = sympy.Symbol(r"\frac{\partial L}{\partial c_{11}}"), sympy.Symbol("b_{11}")
    assert ce.derived == g11 * b11 and ce.claimed == 2 * g11 * b11  # G stays symbolic
    assert "at m=1, k=1, n=1" in str(ce)
    # (a term G.T @ A * 0 used to sit here: k×n plus n×k, which SymPy hid by evaluating the zero)
    wrong_b = symgrad.check(gd, "B", "A.T @ G + A.T @ G * 0 + A.T @ G / 3")
    with pytest.raises(symgrad.SymgradError, match="do not fit"):
        symgrad.check(gd, "B", "A.T @ G + G.T @ A * 0")
    assert not wrong_b.ok and wrong_b.counterexample.wrt == "B"


@pytest.mark.parametrize(
    "claim, message",
    [
        ("G @ B", "shapes in claim 'G @ B' do not fit .*: a m×n matrix @ a k×n matrix"),
        ("A.T @ G", "index structure cannot match: the claim is k×n, but dA is m×k"),
    ],
)
def test_claims_whose_index_structure_cannot_match(claim, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.check(symgrad.matmul("m", "k", "n", "sum"), "A", claim)


def corrupt(gd, key, index, rhs):
    steps = list(gd.equations[key].steps)
    steps[index] = dataclasses.replace(steps[index], rhs=rhs)
    return gd.replace(equations={**gd.equations, key: Equation(key, tuple(steps))})


def test_wrong_steps_are_rejected_symbolically():
    gd = symgrad.matmul("m", "k", "n", "generic")
    i, j, p = sympy.symbols("i j p", integer=True)
    b = sympy.IndexedBase("b")
    _m, k, n = gd.sizes.values()
    wrong_index = corrupt(gd, "local_A", 3, sympy.KroneckerDelta(i, p) * b[p, j])
    assert "local_A, step 4 (sifting)" in wrong_index.prove().failed_step
    short_chain = corrupt(
        gd, "chain_A", 0, sympy.Sum(gd.equations["chain_A"].steps[0].rhs.function, (j, 1, n), (i, 1, k))
    )
    assert "sums do not run over every entry" in short_chain.prove().failed_step
    wrong_product = corrupt(gd, "sift_A", 3, sympy.Integer(2) * gd.equations["sift_A"].steps[3].rhs)
    assert "sift_A, step 4 (matrix product)" in wrong_product.prove().failed_step


def test_sifting_outside_the_index_range_is_rejected():
    """Σ_{t=1}^{n} δ_tq b_tj = b_qj needs q ≤ n, which does not follow from q ≤ k."""
    from symgrad.prove.index import facts_of, sift

    t, j, q = sympy.symbols("t j q", integer=True)
    k, n = sympy.symbols("k n", integer=True, positive=True)
    b = sympy.IndexedBase("b")
    facts = facts_of({q: (1, k), j: (1, n)})
    assert sift(sympy.Sum(sympy.KroneckerDelta(t, q) * b[t, j], (t, 1, k)), t, facts) == b[q, j]
    with pytest.raises(symgrad.SymgradError, match="does not follow from the index ranges"):
        sift(sympy.Sum(sympy.KroneckerDelta(t, q) * b[t, j], (t, 1, n)), t, facts)


def test_instantiation_catches_what_it_is_given():
    gd = symgrad.matmul("m", "k", "n", "generic")
    steps = list(gd.equations["sift_A"].steps)
    bad = corrupt(gd, "sift_A", 1, 2 * steps[1].rhs)
    d = next(concrete(gd))
    why, _ = check_instances(bad, d)
    assert why and "sift_A (sifting) fails at {'m': 1, 'k': 1, 'n': 1}" in why


@pytest.mark.parametrize(
    "sizes, message",
    [
        (("m", 3, "n"), "give all three sizes as integers, or all three as names"),
        (("m", "m", "n"), "three different names"),
        (("m", "i", "n"), "taken by an index"),
        (("m", "k n", "n"), "must be a name"),
    ],
)
def test_bad_symbolic_sizes(sizes, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.matmul(*sizes)


def test_picks_are_refused_for_the_general_derivation():
    with pytest.raises(symgrad.SymgradError, match="no picked elements"):
        symgrad.matmul("m", "k", "n", pick_a=(1, 1))


def test_sympy_symbols_work_as_sizes():
    M, K, N = sympy.symbols("M K N")
    gd = symgrad.matmul(M, K, N, "sum")
    assert [str(s) for s in gd.sizes.values()] == ["M", "K", "N"]


@pytest.mark.slow
def test_the_general_document_renders_in_every_format():
    gd = symgrad.matmul("m", "k", "n", "mean")
    for fmt in ("tex", "html", "fragment", "jekyll", "md"):
        page = symgrad.render(gd, fmt)
        assert "for every size" in page.lower()
        assert r"\delta_{ip}" in page
    md = symgrad.render(gd, "md")
    assert r"\left(\frac{\partial L}{\partial \boldsymbol{C}} {\boldsymbol{B}^{T}}\right)_{pq}" in md
    assert "every size from 1 to 4" in md


def test_concrete_documents_state_the_general_result():
    page = symgrad.render(symgrad.matmul(2, 4, 3), "md")
    assert "For every size" in page
    assert r"\sum_{j=1}^{n} \frac{\partial L}{\partial c_{pj}} b_{qj}" in page


# --- the claim's syntax: PyTorch's, read into matrix algebra the index-notation proof decides ------------


@pytest.mark.parametrize(
    "claim, message",
    [
        ("G*B.T", r"\* between two matrices multiplies element by element.*use @ for the matrix product"),
        ("G*B", "use @ for the matrix product"),
        ("G @ B.T**2", "powers and inverses of matrices are not supported"),
        ("G @ B.T / B", "division by a matrix"),
        ("G @ B.T * 0.5", "only whole numbers"),
        ("G @ B.T * True", "only whole numbers"),
        ("G @ B.T + 1", "a number cannot be added to a matrix"),
        ("2 @ G", "@ multiplies two matrices"),
        ("3", "a number, not a matrix expression"),
        ("C", "unknown name 'C'"),
        ("dA", "unknown name 'dA'"),
        ("exp(G) @ B.T", "not allowed"),
        ("G.sum(0)", "not allowed"),
        ("__import__('os')", "not allowed"),
        ("lambda: G", "not allowed"),
        ("G @ B.T if G else G", "not allowed"),
        ("2 .T", "a number has no transpose"),
        ("G @", "not an expression"),
        ("", "non-empty"),
        ("(" * 300 + "G @ B.T" + ")" * 300, "not an expression|nested"),
        ("G @ B.T" + " + G @ B.T" * 400, "at most 2000 characters"),
        ("G @ B.T * 2**10**8", "too large"),
        ("G @ B.T / (2 - 2)", "division by zero"),
    ],
)
def test_general_claims_outside_what_the_proof_decides_are_refused(claim, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.check(symgrad.matmul("m", "k", "n", "sum"), "A", claim)


def test_a_general_claim_is_a_string():
    with pytest.raises(symgrad.SymgradError, match=r"a string such as 'G @ B\.T'"):
        symgrad.check(symgrad.matmul("m", "k", "n"), "A", lambda T: T["G"] @ T["B"].T)


def test_the_instances_catch_a_claim_the_symbolic_match_misses(monkeypatch):
    """With the symbolic comparison corrupted to see a difference everywhere, a true claim is
    still checked at every size (undecided, never refuted) and a wrong one is still refuted."""
    from symgrad.prove import claims

    monkeypatch.setattr(claims, "canon", lambda expr, bases: object())
    gd = symgrad.matmul("m", "k", "n", "sum")
    assert symgrad.check(gd, "A", "G @ B.T").status == "undecided"
    assert symgrad.check(gd, "A", "2 * G @ B.T").status == "refuted"
