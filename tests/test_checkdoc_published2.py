"""check-doc reads what people publish, continued: each construct here is taken from a post of the
corpus (tests/data/corpus, cited in each test), reduced to a few lines, with a correct line proven
and a slipped one refuted. Each expected verdict is worked out by hand in its comment."""

from __future__ import annotations

import importlib

import pytest

from symgrad.checkdoc import check_document
from symgrad.core.errors import SymgradError

from .test_checkdoc_published import d, display, links, post, verdicts

VECTOR = {"sizes": [{"m": 3}], "indices": {"i": "m"}, "tensors": {"Y": ["m"]}}


def test_an_equals_sign_ending_a_row_and_starting_the_next_is_one_equality(tmp_path):
    # scthe-backprop-cnn.md #5 writes "a =\\ = b =\\ = c": each row ends with "=" and the next
    # starts with one. The link at the row's end is decided as a = b, the next "=" is shown as that
    # same equality: 2 y_1 = y_1 + y_1 holds, y_1 + y_1 = y_1 does not (2 ≠ 1 at y_1 = 1)
    body = display("2 y_1 =", "= y_1 + y_1 =", "= y_1")
    found = links(tmp_path, body, VECTOR)
    assert [verdict for verdict, _ in found] == ["proven", "unchecked", "refuted", "unchecked"]
    assert "written again" in found[1][1] and "written again" in found[3][1]


def test_a_slip_across_a_doubled_equals_sign_is_refuted(tmp_path):
    # the same layout, the slip first (scthe-backprop-cnn.md #9 refutes its first link so):
    # 2 y_1 = y_1 is false, y_1 = y_1 true
    assert verdicts(tmp_path, display("2 y_1 =", "= y_1 =", "= y_1"), VECTOR) == [
        "refuted",
        "unchecked",
        "proven",
        "unchecked",
    ]


# the BatchNorm of zakka-batchnorm.md at m = 3: x̂_i written x̂ where the post differentiates it
BATCHNORM = {
    "sizes": [{"m": 3}],
    "indices": {"i": "m", "j": "m"},
    "tensors": {"X": ["m"]},
    "scalars": ["\\epsilon"],
    "define": {
        "\\mu": "\\frac{1}{m}\\sum_{j=1}^{m} x_{j}",
        "\\sigma^{2}": "\\frac{1}{m}\\sum_{j=1}^{m} (x_{j} - \\mu)^{2}",
        "\\hat{x}_{i}": "\\frac{x_{i} - \\mu}{\\sqrt{\\sigma^{2} + \\epsilon}}",
        "y_{i}": "\\hat{x}_{i}",
    },
    "given": {"f": "y"},
    "partials": "local",
}


def test_a_quantity_differentiated_without_its_index_summed_over_the_batch(tmp_path):
    # zakka-batchnorm.md #10: ∂f/∂σ² = ∂f/∂x̂ · ∂x̂/∂σ², declared dropped: {x̂: \sum_i}, is
    # Σ_i ∂f/∂x̂_i ∂x̂_i/∂σ², the chain rule through every x̂_i: proven. Twice that is refuted
    # wherever some ∂f/∂x̂_i ∂x̂_i/∂σ² is not zero
    decl = {**BATCHNORM, "dropped": {"\\hat{x}": "\\sum_i"}}
    chain = d("f", "\\hat{x}") + " \\cdot " + d("\\hat{x}", "\\sigma^2")
    body = display(d("f", "\\sigma^2") + " = " + chain) + "\n" + display(d("f", "\\sigma^2") + " = 2 " + chain)
    assert verdicts(tmp_path, body, decl) == ["proven", "refuted"]


def test_a_quantity_differentiated_without_its_index_meaning_its_entry(tmp_path):
    # zakka-batchnorm.md #13, "the local derivative" of x̂_i = (x_i - μ)(σ² + ε)^{-1/2}: declared
    # dropped: {x̂: i}, ∂x̂/∂σ² is the entry's, -(x_i - μ)(σ² + ε)^{-3/2}/2: proven. The post's
    # sum over the batch in its place is zero (the deviations sum to zero) and the entry is not
    # (at x = (10/3, 3/2, 13/5), x_1 ≠ μ): refuted
    decl = {**BATCHNORM, "dropped": {"\\hat{x}": "i"}}
    right = "-\\frac{1}{2} (x_i - \\mu) (\\sigma^2 + \\epsilon)^{-\\frac{3}{2}}"
    summed = "\\sum_{i=1}^m (x_i - \\mu) \\cdot (-0.5) \\cdot (\\sqrt{\\sigma^2 + \\epsilon})^{-0.5 - 1}"
    left = d("\\hat{x}", "\\sigma^2")
    body = display(f"{left} = {right}") + "\n" + display(f"{left} = {summed}")
    assert verdicts(tmp_path, body, decl) == ["proven", "refuted"]


def test_without_the_declaration_a_dropped_index_is_not_read(tmp_path):
    # the same line, nothing declared: which entry, or a sum over them, is not guessed
    found = links(tmp_path, display(d("\\hat{x}", "\\sigma^2") + " = 0"), BATCHNORM)
    assert found[0][0] == "unchecked" and "without its indices" in found[0][1]


def test_a_dropped_index_declared_wrongly_is_one_error(tmp_path):
    with pytest.raises(SymgradError, match="dropped maps a quantity"):
        check_document(post(tmp_path, display("x_1 = x_1"), {**BATCHNORM, "dropped": {"\\hat{x}": "k"}}))


def test_a_dropped_index_read_as_its_entry_where_a_sum_is_declared_is_caught(tmp_path, monkeypatch):
    # mutation: the sum over the batch left out, ∂f/∂x̂_i ∂x̂_i/∂σ² (one i) is not ∂f/∂σ²: the
    # line the test above proves is refuted
    check = importlib.import_module("symgrad.checkdoc.check")
    summation = importlib.import_module("symgrad.checkdoc.summation")

    def entry_only(node, dropped):
        return summation.with_dropped(node, {name: (letter, False) for name, (letter, _) in dropped.items()})

    monkeypatch.setattr(check, "with_dropped", entry_only)
    decl = {**BATCHNORM, "dropped": {"\\hat{x}": "\\sum_i"}}
    body = display(d("f", "\\sigma^2") + " = " + d("f", "\\hat{x}") + " \\cdot " + d("\\hat{x}", "\\sigma^2"))
    assert verdicts(tmp_path, body, decl) == ["refuted"]


def test_a_slash_divides_by_the_one_factor_after_it(tmp_path):
    # planckeon-attention-gradients.md #24 writes S^{ij}/\tau. y_1 y_2/2 is half the product
    # (proven); y_1/2 is not y_1 (refuted at y_1 = 10/3); y_1/2 y_2 reads as over 2 or over 2 y_2:
    # not read
    body = display("y_1 y_2/2 = \\frac{1}{2} y_1 y_2") + display("y_1/2 = y_1") + display("y_1/2 y_2 = 0")
    found = links(tmp_path, body, VECTOR)
    assert [verdict for verdict, _ in found] == ["proven", "refuted", "unchecked"]
    assert "a / b followed by more" in found[2][1]


def test_a_minimum_over_a_variable_is_named_and_not_read(tmp_path):
    # sonfl-linear-regression.md #2: J(\theta) = min_{\theta} ..., written in letters; never
    # m·i·n_θ, and no optimum is evaluated
    found = links(tmp_path, display("y_1 = min_{y_1} y_1 y_1"), VECTOR)
    assert found == [("unchecked", "not read: min_{...}, an optimum over a variable, which is not evaluated")]
