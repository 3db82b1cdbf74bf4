"""The prover must fail on wrong claims and on corrupted steps, with the right counterexample."""

import dataclasses
import re

import pytest
import sympy

import symgrad
from symgrad.chain.derivation import Equation


@pytest.fixture(scope="module")
def ref():
    return symgrad.matmul(2, 4, 3, "mean")


def test_true_claims(ref):
    for wrt, claim in [("A", "G @ B.T"), ("B", "A.T @ G"), ("A", "G @ B.T * 1"), ("B", "(G.T @ A).T"), ("A", "dA")]:
        proof = symgrad.check(ref, wrt, claim)
        # once with G symbolic, once with the mean loss's G put in
        assert proof.ok and proof.checked == 2 * ref.inputs[wrt].rows * ref.inputs[wrt].cols


def test_wrong_scale_is_refuted_at_the_first_element(ref):
    proof = symgrad.check(ref, "A", "2 * G @ B.T")
    assert not proof.ok
    ce = proof.counterexample
    assert ce.wrt == "A" and ce.index == (1, 1) and str(ce.element) == "a_{11}"
    # a backward formula is compared for every upstream gradient: G's entries stay symbols
    b = sympy.symbols("b_{11} b_{12} b_{13}")
    g = [sympy.Symbol(rf"\frac{{\partial L}}{{\partial c_{{1{j}}}}}") for j in (1, 2, 3)]
    truth = sum(gj * bj for gj, bj in zip(g, b))
    assert sympy.expand(ce.derived - truth) == 0
    assert sympy.expand(ce.claimed - 2 * truth) == 0


def test_swapped_transpose_is_refuted_on_square_sizes():
    d = symgrad.matmul(3, 3, 3, "sum")
    proof = symgrad.check(d, "A", "G @ B")
    assert not proof.ok
    # (G·B)_11 = g11 b11 + g12 b21 + g13 b31 but the true dL/da11 = g11 b11 + g12 b12 + g13 b13
    b = sympy.symbols("b_{11} b_{21} b_{31}")
    g = [sympy.Symbol(rf"\frac{{\partial L}}{{\partial c_{{1{j}}}}}") for j in (1, 2, 3)]
    assert proof.counterexample.index == (1, 1)
    assert sympy.expand(proof.counterexample.claimed - sum(gj * bj for gj, bj in zip(g, b))) == 0


def test_an_element_wise_product_on_square_sizes_is_refuted():
    # "G*B" is G ⊙ B: (G ⊙ B)_11 = g11 b11, not the true dL/da11 = g11 b11 + g12 b12 + g13 b13
    d = symgrad.matmul(3, 3, 3, "generic")
    proof = symgrad.check(d, "A", "G*B")
    assert proof.status == "refuted" and proof.counterexample.index == (1, 1)
    g11 = sympy.Symbol(r"\frac{\partial L}{\partial c_{11}}")
    assert proof.counterexample.claimed == g11 * sympy.Symbol("b_{11}")


def test_one_perturbed_entry_is_found(ref):
    claim = sympy.Matrix(ref.grad["A"])
    claim[1, 2] += sympy.Symbol("b_{11}") / 100
    proof = symgrad.check(ref, "A", claim)
    assert not proof.ok and proof.counterexample.index == (2, 3)
    assert str(proof.counterexample.element) == "a_{23}"
    assert symgrad.check(ref, "A", sympy.Matrix(ref.grad["A"])).ok


def test_wrong_gradient_of_B_is_refuted(ref):
    proof = symgrad.check(ref, "B", "A.T @ G / 2")
    assert not proof.ok and proof.counterexample.wrt == "B"


@pytest.mark.parametrize(
    "claim, message",
    [
        ("B.T @ G", r"shapes \(3, 4\) and \(2, 3\) do not multiply with @"),
        # * is element-wise, as in PyTorch: the matrix product written with * is pointed to @
        ("G*B.T", r"shapes \(2, 3\) and \(3, 4\) do not broadcast: \* multiplies element by element; use @"),
        ("G*B", "use @ for the matrix product"),
        ("A.T @ G", "the claim for dA is 4×3, but A is 2×4"),
        ("import os", "not an expression"),
        ("__import__('os')", "cannot be called"),
        ("G*", "not an expression"),
        ("", "not an expression"),
        ("3", "the claim for dA is a scalar, but A is 2×4"),
        ("foo", "unknown name 'foo'; the claim may use A, dA, B, dB, C, G, dC"),
    ],
)
def test_bad_claims_raise(ref, claim, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.check(ref, "A", claim)


def test_unknown_input(ref):
    with pytest.raises(symgrad.SymgradError, match="unknown input 'C'"):
        symgrad.check(ref, "C", "G")


def corrupt(d, key, index, **change):
    eq = d.equations[key]
    steps = list(eq.steps)
    steps[index] = dataclasses.replace(steps[index], **change)
    equations = dict(d.equations)
    equations[key] = Equation(key, tuple(steps))
    return d.replace(equations=equations)


def test_a_wrong_local_partial_is_caught(ref):
    # dc_21/da_23 = b_31; claim b_32 in the last step of that chain
    steps = ref.equations["local_A"].steps
    index = next(i for i, s in enumerate(steps) if str(s.rhs) == "b_{31}")
    bad = corrupt(ref, "local_A", index, rhs=sympy.Symbol("b_{32}"))
    proof = bad.prove()
    assert not proof.ok and "local_A" in proof.failed_step and "product rule" in proof.failed_step


def test_a_chain_rule_missing_a_path_is_caught(ref):
    s1 = ref.equations["chain_A"].steps[0]
    shorter = sympy.Add(*s1.rhs.args[:-1], evaluate=False)
    proof = corrupt(ref, "chain_A", 0, rhs=shorter).prove()
    assert not proof.ok and "chain rule" in proof.failed_step


def test_a_wrong_loss_value_is_caught(ref):
    from symgrad.chain.derivation import TensorView
    from symgrad.core.tensor import PolyTensor

    wrong = PolyTensor((2, 3), tuple({(): sympy.Rational(1, 5)} for _ in range(6)))
    proof = corrupt(ref, "loss", 0, rhs=TensorView("G", wrong, ref.registry)).prove()
    assert not proof.ok and "loss" in proof.failed_step


def test_a_wrong_regrouping_is_caught(ref):
    from sympy.matrices.expressions import MatrixSymbol

    G, B = MatrixSymbol("G", 2, 3), MatrixSymbol("B", 4, 3)
    proof = corrupt(ref, "regroup_A", 0, rhs=2 * G * B.T).prove()
    assert not proof.ok and "regroup" in proof.failed_step


def test_a_wrong_closed_form_is_refuted(ref):
    from sympy.matrices.expressions import MatrixSymbol

    G, A = MatrixSymbol("G", 2, 3), MatrixSymbol("A", 2, 4)
    d = ref.replace(
        closed_forms={**ref.closed_forms, "B": A.T * G * 3},
        equations={
            k: v for k, v in ref.equations.items() if not k.endswith("_B") or k.startswith(("local", "chain", "pick"))
        },
    )
    proof = d.prove()
    assert not proof.ok and proof.counterexample.wrt == "B"
    # refuted at a point: both sides evaluated there and found apart, one three times the other
    note = proof.counterexample.note
    assert note.startswith("the closed form of dL/dB; at a_{11} = ") and "the chain rule gives" in note
    derived, claimed = (float(x) for x in re.findall(r"gives (-?[\d.]+)", note.replace(" the claim ", " gives ")))
    assert claimed == pytest.approx(3 * derived)


def test_step_with_a_rule_the_prover_cannot_check_fails(ref):
    from symgrad.chain.rules import TRANSPOSE

    proof = corrupt(ref, "identity_A", 0, rule=TRANSPOSE).prove()  # a rule of the general-size prover
    assert not proof.ok and "no checker" in proof.failed_step
    with pytest.raises(symgrad.SymgradError, match="a step's rule is a Rule"):
        corrupt(ref, "identity_A", 0, rule="by inspection")


def test_a_derivation_stripped_of_its_graph_or_its_loss_values_is_not_proven(ref):
    with pytest.raises(symgrad.SymgradError, match="proven on the graph it was derived on"):
        ref.replace(graph=None).prove()
    # with the document's lines gone too, the loss's values are still checked
    proof = ref.replace(upstream_values=None, equations={}).prove()
    assert proof.status == "refuted" and "no values of dL/dY for the mean loss" in proof.failed_step


def test_a_long_counterexample_without_a_point_still_shows_the_sides_apart():
    """A side over 500 characters is named by its number of terms; a refutation with no point in
    its message must then still show how the sides differ, not just two sums of the same size."""
    d = symgrad.matmul(40, 2, 2)
    # dL/dB_11 is a sum of 40 products a_m1*g_m1; the claim doubles it: 40 terms on each side
    proof = symgrad.check(d, "B", "2 * (A.T @ G)")
    ce = proof.counterexample
    assert proof.status == "refuted" and not ce.note
    text = str(ce)
    assert text.count("a sum of 40 terms") >= 2, text  # each side alone is named by its size
    # derived - claimed is -(a_{1,1}g_{1,1} + ... + a_{40,1}g_{40,1}): 40 terms, named as such
    assert "they differ by a sum of 40 terms" in text, text
    # a short difference is shown in full
    text = str(symgrad.check(d, "B", "A.T @ G + A[0, 0]").counterexample)
    assert "a sum of 41 terms" in text and "they differ by -a_{1,1}" in text, text
