"""check-doc reads what people publish, continued further: each construct here is taken from a post
of the corpus (tests/data/corpus, cited in each test), reduced to a few lines, with a correct line
proven and a slipped one refuted. Each expected verdict is worked out by hand in its comment."""

from __future__ import annotations

import pytest

from symgrad.checkdoc import check_document
from symgrad.core.errors import SymgradError

from .test_checkdoc_published import display, links, post, verdicts

# --- training examples x^{(i)} as a function's argument ---------------------------------------------

# ashwinreddy-ols.md #1 and #6: n = 2 examples of d = 3 features, the rows of X, their targets \vec{y}
EXAMPLES = {
    "sizes": [{"d": 3, "n": 2}],
    "indices": {"j": "d", "i": "n"},
    "tensors": {"X": ["n", "d"], "\\theta": ["d"], "\\vec{y}": ["n"]},
    "examples": {"x": "X", "y": "\\vec{y}"},
    "define": {
        "h_\\theta(x)": "\\theta^{T} x",
        "J(\\theta)": "\\frac{1}{2}\\sum_{i=1}^{n} (\\sum_{j=1}^{d} x_{ij} \\theta_{j} - \\vec{y}_{i})^{2}",
    },
}


def test_a_function_applied_to_a_training_example_is_its_definition_at_that_row(tmp_path):
    # ashwinreddy-ols.md #1: J(θ) = 1/2 Σ_i (h_θ(x^{(i)}) - y^{(i)})², h_θ(x) = θ^T x, x^{(i)} the
    # row i of X: h_θ(x^{(i)}) = Σ_j x_{ij} θ_j, so both sides are the declared J: proven. With
    # + y^{(i)} the two differ by 2 Σ_i (Σ_j x_{ij} θ_j) y_i, a nonzero polynomial: refuted.
    # #6: h_θ(x^{(i)}) = (x^{(i)})^T θ, both θ·x^{(i)}: proven; less the target y^{(i)} on the
    # right, the two differ by y_i: refuted
    cost = "\\frac{1}{2}\\sum_{i=1}^n \\left( h_\\theta\\left( x^{(i)} \\right) {} y^{(i)} \\right)^2"
    body = "\n".join(
        [
            display("J(\\theta) = " + cost.replace("{}", "-")),
            display("J(\\theta) = " + cost.replace("{}", "+")),
            display("h_\\theta(x^{(i)}) = {({x}^{(i)})}^\\mathsf{T}\\theta"),
            display("h_\\theta(x^{(i)}) = {({x}^{(i)})}^\\mathsf{T}\\theta - y^{(i)}"),
        ]
    )
    assert verdicts(tmp_path, body, EXAMPLES) == ["proven", "refuted", "proven", "refuted"]


def test_an_example_written_with_its_entry_index_is_that_entry(tmp_path):
    # x^{(i)}_j is x_{ij}: Σ_j x^{(i)}_j θ_j = h_θ(x^{(i)}) holds; x^{(i)}_j θ_j alone (no sum) is
    # one term of it: refuted where the other terms do not vanish
    body = display("\\sum_{j=1}^{d} x^{(i)}_j \\theta_j = h_\\theta(x^{(i)})") + display(
        "x^{(i)}_j \\theta_j = h_\\theta(x^{(i)})"
    )
    assert verdicts(tmp_path, body, EXAMPLES) == ["proven", "refuted"]


def test_without_the_declaration_an_example_is_not_read(tmp_path):
    # the same line with no examples declared: x^{(i)} is no name the declarations give, and
    # h_θ applied to it is not guessed
    decl = {k: v for k, v in EXAMPLES.items() if k != "examples"}
    ((verdict, reason),) = links(tmp_path, display("h_\\theta(x^{(i)}) = {({x}^{(i)})}^\\mathsf{T}\\theta"), decl)
    assert verdict == "unchecked" and "the symbol x is not declared" in reason


def test_an_argument_whose_index_the_definition_sums_over_is_not_substituted(tmp_path):
    # g(x) = Σ_i θ_i x_i applied to x^{(i)}: the body's sum over i would capture the argument's i
    decl = {**EXAMPLES, "define": {**EXAMPLES["define"], "g(x)": "\\sum_{i=1}^{d} \\theta_{i} x_{i}"}}
    decl["indices"] = {"j": "d", "i": "n"}
    ((verdict, reason),) = links(tmp_path, display("g(x^{(i)}) = h_\\theta(x^{(i)})"), decl)
    assert verdict == "unchecked" and "which a sum of its definition binds" in reason


@pytest.mark.parametrize(
    "examples, message",
    [({"x": "Z"}, "examples maps a letter"), ({"x": ["X"]}, "examples maps a letter"), ("x", "must be a mapping")],
)
def test_examples_declared_wrongly_are_one_error(tmp_path, examples, message):
    with pytest.raises(SymgradError, match=message):
        check_document(post(tmp_path, display("x = x"), {**EXAMPLES, "examples": examples}))


def test_an_example_read_as_the_first_row_whatever_its_index_is_caught(tmp_path, monkeypatch):
    # mutation: x^{(i)} taken as the row 1 at every i; the cost of #1 is then n (h_θ(x^{(1)}) - y_i)²
    # summed, not J: the line the test above proves is refuted
    from symgrad.checkdoc.values import Values

    original = Values._example

    def first_row(self, letter, index, env, opaque):
        return original(self, letter, index, {**env, index: 1}, opaque)

    monkeypatch.setattr(Values, "_example", first_row)
    line = "J(\\theta) = \\frac{1}{2}\\sum_{i=1}^n \\left( h_\\theta\\left( x^{(i)} \\right) - y^{(i)} \\right)^2"
    assert verdicts(tmp_path, display(line), EXAMPLES) == ["refuted"]
