"""check-doc reads what people publish: each construct here is taken from a post of the corpus
(tests/data/corpus, cited in each test), reduced to a few lines, with a correct line proven and a
slipped one refuted. Each expected verdict is worked out by hand in its comment."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy
import yaml

from symgrad.checkdoc import check_document
from symgrad.core.errors import SymgradError

# the softmax p of three scores o and a label y (sunhaozhe-softmax-ce.md, iceory-softmax-ce.md)
SOFTMAX = {
    "sizes": [{"C": 3}],
    "indices": {"i": "C", "j": "C", "k": "C"},
    "tensors": {"O": ["C"], "Y": ["C"]},
    "define": {
        "p_{i}": "\\frac{e^{o_{i}}}{\\sum_{j=1}^{C} e^{o_{j}}}",
        "L": "-\\sum_{i=1}^{C} y_{i} \\log p_{i}",
    },
}


def post(tmp_path, body: str, declarations: dict, name: str = "post.md") -> Path:
    front = yaml.safe_dump({"symgrad": declarations}, allow_unicode=True)
    path = tmp_path / name
    path.write_text(f"---\n{front}---\n\n{body}", encoding="utf-8")
    return path


def links(tmp_path, body: str, declarations: dict) -> list:
    return [(link.verdict, link.reason) for link in check_document(post(tmp_path, body, declarations)).links]


def verdicts(tmp_path, body: str, declarations: dict) -> list:
    return [verdict for verdict, _ in links(tmp_path, body, declarations)]


def d(f: str, x: str) -> str:
    """∂f/∂x as posts write it."""
    return f"\\frac{{\\partial {f}}}{{\\partial {x}}}"


def display(*lines: str) -> str:
    return "$$\n" + " \\\\\n".join(lines) + "\n$$\n"


# --- an environment inside $$ ----------------------------------------------------------------------


def test_an_aligned_environment_inside_double_dollars_is_read_row_by_row(tmp_path):
    # sunhaozhe-softmax-ce.md writes $$ \begin{equation}\begin{split} ... \end{split}\end{equation} $$:
    # MathJax typesets the environment, its rows included. p_k(1 - p_k) = p_k - p_k^2 holds; the
    # last row's p_k + p_k^2 does not (at o = (3/2, 10/3, 3/2) p_1 is about 0.13)
    body = (
        "$$\n\\begin{equation}\\begin{split}\n"
        "p_k (1 - p_k) &= p_k - p_k^2 \\\\\n"
        "&= p_k + p_k^2\n"
        "\\end{split}\\end{equation}\n$$\n"
    )
    assert verdicts(tmp_path, body, SOFTMAX) == ["proven", "refuted"]


def test_an_eqnarray_inside_double_dollars_is_read_row_by_row(tmp_path):
    # zakka-batchnorm.md: $$ \begin{eqnarray} a &=& b \qquad \\ &=& c \end{eqnarray} $$, three
    # columns a row; 2 y_1 = y_1 + y_1 holds, 2 y_1 = y_1 does not
    decl = {"sizes": [{"m": 3}], "indices": {"i": "m"}, "tensors": {"Y": ["m"]}}
    body = "$$\n\\begin{eqnarray}\n2 y_1 &=& y_1 + y_1 \\qquad \\\\\n&=& y_1\n\\end{eqnarray}\n$$\n"
    assert verdicts(tmp_path, body, decl) == ["proven", "refuted"]


def test_an_environment_with_a_label_and_a_full_stop_after_it_is_read(tmp_path):
    # sootla-conv-backprop.md: $$ \begin{equation} ... \end{equation} \label{eq:forwardconv}.$$
    decl = {"sizes": [{"m": 3}], "indices": {"i": "m"}, "tensors": {"Y": ["m"]}}
    body = "$$ \\begin{equation} 2 y_1 = y_1 + y_1 \\end{equation} \\label{eq:sum}.$$\n"
    assert verdicts(tmp_path, body, decl) == ["proven"]


# --- the case a line is stated for --------------------------------------------------------------


def test_the_case_named_in_the_sentence_before_a_display_applies_to_it(tmp_path):
    # sunhaozhe-softmax-ce.md, "The diagonal case, i = k:": the quotient with exp(o_k) on top is
    # dp_i/do_k only where i = k, and the line is stated for that case
    line = (
        "\\frac{\\partial p_i}{\\partial o_k} = "
        "\\frac{ \\exp (o_k) \\sum_j \\exp(o_j) - \\exp (o_k) \\exp (o_k) }{(\\sum_j \\exp(o_j))^2}"
    )
    assert verdicts(tmp_path, f"The diagonal case, i = k:\n\n$$\n{line}\n$$\n", SOFTMAX) == ["pattern"]
    assert verdicts(tmp_path, f"The diagonal case:\n\n$$\n{line}\n$$\n", SOFTMAX) == ["refuted"]


def test_a_case_written_before_the_formula_is_shown_and_applies_to_the_line(tmp_path):
    # iceory-softmax-ce.md: "{\rm if}~i=j,~\frac{\partial y_i}{\partial x_j} = ...": the "=" of
    # the case is a link of its own, not checked; what follows holds where i = j
    decl = {**SOFTMAX, "indices": {"i": "C", "j": "C", "k": "C"}}
    body = "$$\n{\\rm if}~i=k,~\\frac{\\partial p_i}{\\partial o_k} = p_k (1 - p_k)\n$$\n"
    found = links(tmp_path, body, decl)
    assert found[0] == ("unchecked", "the case the line is stated for (if i = k), not a claim")
    assert found[1] == ("pattern", "holds only where i = k")
    # where i ≠ k the derivative is -p_i p_k: p_k(1 - p_k) is refuted there
    body = "$$\n{\\rm if}~i\\ne k,~\\frac{\\partial p_i}{\\partial o_k} = p_k (1 - p_k)\n$$\n"
    assert verdicts(tmp_path, body, decl) == ["refuted"]
    body = "$$\n{\\rm if}~i\\ne k,~\\frac{\\partial p_i}{\\partial o_k} = -p_i p_k\n$$\n"
    assert verdicts(tmp_path, body, decl) == ["pattern"]


def test_a_range_written_after_a_formula_is_not_a_claim(tmp_path):
    # iceory-softmax-ce.md: "y_i = \frac{e^{x_i}}{\sum e^{x_k}}, for~i=1,..., C"
    body = "$$\np_i = \\frac{e^{o_i}}{\\sum e^{o_k}}, for~i=1,..., C\n$$\n"
    found = links(tmp_path, body, SOFTMAX)
    assert found == [("proven", ""), ("unchecked", "the range of i, not a claim")]


def test_cases_give_a_value_by_the_indices(tmp_path):
    # sunhaozhe-softmax-ce.md: dp_i/do_k = p_k(1 - p_k) if i = k, -p_k p_i if i ≠ k
    cases = (
        "\\frac{\\partial p_i}{\\partial o_k} = \\begin{cases}\n"
        "p_k (1 - p_k) & \\text{if }\\; i=k \\\\\n- p_k p_i & \\text{if }\\; i\\neq k\n\\end{cases}"
    )
    assert verdicts(tmp_path, f"$$\n{cases}\n$$\n", SOFTMAX) == ["proven"]
    assert verdicts(tmp_path, f"$$\n{cases.replace('- p_k p_i', 'p_k p_i')}\n$$\n", SOFTMAX) == ["refuted"]
    # liorsinai-layernorm.md: 1 & i=1 \\ 0 & i\neq 1 (a number in the condition), and otherwise
    delta = "\\begin{cases} 1 & i=1 \\\\ 0 & \\text{otherwise} \\end{cases}"
    assert verdicts(tmp_path, f"$$\n\\frac{{\\partial o_i}}{{\\partial o_1}} = {delta}\n$$\n", SOFTMAX) == ["proven"]


# --- constraints on the inputs --------------------------------------------------------------------


def test_a_one_hot_label_is_checked_at_each_of_its_classes(tmp_path):
    # sunhaozhe-softmax-ce.md's last step, -y_k + \sum_i y_i p_k = p_k - y_k, needs \sum_i y_i = 1
    line = "$$\n- y_k + \\sum_i y_i p_k = p_k - y_k\n$$\n"
    assert verdicts(tmp_path, line, SOFTMAX) == ["refuted"]  # y = (13/5, 3/2, ...) sums to more than 1
    one_hot = {**SOFTMAX, "constraints": [{"one-hot": "Y"}]}
    assert verdicts(tmp_path, line, one_hot) == ["proven"]
    # a slip under the constraint is still refuted, in a case shown
    ((verdict, reason),) = links(tmp_path, line.replace("p_k - y_k", "p_k + y_k"), one_hot)
    assert verdict == "refuted" and "y_{1} = 1" in reason


def test_a_linear_constraint_is_solved_for_an_entry(tmp_path):
    # rows summing to one: \sum_{i=1}^{C} y_i = 1, so y_3 = 1 - y_1 - y_2
    decl = {**SOFTMAX, "constraints": ["\\sum_{i=1}^{C} y_{i} = 1"]}
    assert verdicts(tmp_path, "$$\n\\sum_i y_i p_k = p_k\n$$\n", decl) == ["proven"]
    assert verdicts(tmp_path, "$$\ny_3 = 1 - y_1\n$$\n", decl) == ["refuted"]


def test_one_hot_of_what_is_not_a_declared_vector_is_refused(tmp_path):
    decl = {**SOFTMAX, "constraints": [{"one-hot": "Z"}]}
    with pytest.raises(SymgradError, match="one-hot names a declared vector"):
        check_document(post(tmp_path, "$$\ny_1 = y_1\n$$\n", decl))


# --- sums as published ----------------------------------------------------------------------------


def test_a_sum_without_its_index_sums_over_the_one_letter_the_line_leaves_to_it(tmp_path):
    # iceory-softmax-ce.md: y_i = \frac{e^{x_i}}{\sum e^{x_k}}: k appears nowhere else
    assert verdicts(tmp_path, "$$\np_i = \\frac{e^{o_i}}{\\sum e^{o_k}}\n$$\n", SOFTMAX) == ["proven"]
    assert verdicts(tmp_path, "$$\np_i = \\frac{e^{o_i}}{\\sum e^{o_i}}\n$$\n", SOFTMAX)[0] == "unchecked"
    assert verdicts(tmp_path, "$$\np_i = \\frac{e^{o_k}}{\\sum e^{o_k}}\n$$\n", SOFTMAX)[0] == "unchecked"


def test_a_sum_over_j_apart_from_i_written_i_ne_j(tmp_path):
    # iceory-softmax-ce.md: \sum_{i\ne j}^C t_j y_i, i free in the line: the sum runs over j ≠ i
    body = "$$\n\\sum_{i\\ne j}^C y_j p_i = (\\sum_j y_j - y_i) p_i\n$$\n"
    assert verdicts(tmp_path, body, SOFTMAX) == ["proven"]
    body = "$$\n\\sum_{i\\ne j}^C y_j p_i = (\\sum_j y_j) p_i\n$$\n"
    assert verdicts(tmp_path, body, SOFTMAX) == ["refuted"]


def test_an_upper_bound_alone_must_end_the_declared_range(tmp_path):
    # liorsinai-layernorm.md writes \sum_r^n and \sum^n_r for r = 1..n
    decl = {"sizes": [{"n": 3}], "indices": {"r": "n"}, "tensors": {"X": ["n"]}}
    assert verdicts(tmp_path, "$$\n\\sum^n_r x_r = x_1 + x_2 + x_3\n$$\n", decl) == ["proven"]
    assert verdicts(tmp_path, "$$\n\\sum_r^n x_r = x_1 + x_2\n$$\n", decl) == ["refuted"]
    # an upper bound short of the range's end is not the range: not read
    ((verdict, reason),) = links(tmp_path, "$$\n\\sum_r^2 x_r = x_1 + x_2\n$$\n", decl)
    assert verdict == "unchecked" and "write the lower bound" in reason


def test_a_sum_over_several_indices_is_a_sum_over_each(tmp_path):
    decl = {"sizes": [{"n": 2}], "indices": {"i": "n", "j": "n"}, "tensors": {"A": ["n", "n"]}}
    assert verdicts(tmp_path, "$$\n\\sum_{i,j} a_{ij} = a_{11} + a_{12} + a_{21} + a_{22}\n$$\n", decl) == ["proven"]
    assert verdicts(tmp_path, "$$\n\\sum_{i,j} a_{ij} = a_{11} + a_{22}\n$$\n", decl) == ["refuted"]


# --- how a formula looks, not what it says --------------------------------------------------------


def test_dfrac_bigg_color_and_a_nonbreaking_space_change_nothing(tmp_path):
    # zakka-batchnorm.md: \dfrac, \bigg( ... \bigg), \color{red}{...}; iceory's ~
    decl = {"sizes": [{"m": 3}], "indices": {"i": "m"}, "tensors": {"Y": ["m"]}}
    body = "$$\n\\dfrac{y_1}{2} + \\bigg(\\color{red}{\\frac{y_1}{2}}\\bigg)~ = y_1\n$$\n"
    assert verdicts(tmp_path, body, decl) == ["proven"]
    assert verdicts(tmp_path, body.replace("= y_1", "= 2 y_1"), decl) == ["refuted"]


# --- names as published: σ², x̂, β, N_i, a given loss f ---------------------------------------------

# zakka-batchnorm.md: a batch x_1..x_3 normalised, scaled by γ, shifted by β; f is the loss of the
# layers above, a function of y given from outside
BATCHNORM = {
    "sizes": [{"m": 3}],
    "indices": {"i": "m", "j": "m"},
    "tensors": {"X": ["m"]},
    "scalars": ["\\gamma", "\\beta", "\\epsilon"],
    "define": {
        "\\mu": "\\frac{1}{m}\\sum_{j=1}^{m} x_{j}",
        "\\sigma^{2}": "\\frac{1}{m}\\sum_{j=1}^{m} (x_{j} - \\mu)^{2}",
        "\\hat{x}_{i}": "\\frac{x_{i} - \\mu}{\\sqrt{\\sigma^{2} + \\epsilon}}",
        "y_{i}": "\\gamma \\hat{x}_{i} + \\beta",
    },
    "given": {"f": "y"},
}


def test_a_variance_named_by_its_square_and_a_decorated_name(tmp_path):
    # zakka-batchnorm.md: \sigma^2 is the variance, not σ squared; \hat{x}_i a quantity of its own
    body = "$$\n\\hat{x}_i = \\frac{(x_i - \\mu)}{\\sqrt{\\sigma^2 + \\epsilon}}\n$$\n"
    assert verdicts(tmp_path, body, BATCHNORM) == ["proven"]
    # zakka's slip #11: (\sqrt{\sigma^2 + \epsilon})^{-0.5} is the power -1/4, not -1/2
    body = "$$\n\\hat{x}_i = (x_i - \\mu)(\\sqrt{\\sigma^2 + \\epsilon})^{-0.5}\n$$\n"
    assert verdicts(tmp_path, body, BATCHNORM) == ["refuted"]
    # without σ² declared as a name, \sigma alone is an undeclared symbol
    decl = {**BATCHNORM, "define": {k: v for k, v in BATCHNORM["define"].items() if k != "\\hat{x}_{i}"}}
    del decl["define"]["\\sigma^{2}"]
    del decl["define"]["y_{i}"]
    del decl["given"]
    ((verdict, reason),) = links(tmp_path, "$$\n\\sigma^2 = 1\n$$\n", decl)
    assert verdict == "unchecked" and "\\sigma is not declared" in reason


def test_a_given_loss_is_read_through_its_first_derivatives(tmp_path):
    # zakka-batchnorm.md #23, #24: df/dβ = Σ df/dy_i, df/dγ = Σ df/dy_i x̂_i, for every upstream df/dy
    upstream, beta, gamma = d("f", "y_i"), d("f", "\\beta"), d("f", "\\gamma")
    assert verdicts(tmp_path, display(f"{beta} = \\sum_{{i=1}}^m {upstream}"), BATCHNORM) == ["proven"]
    body = display(f"{gamma} = \\sum_{{i=1}}^m {upstream} \\cdot \\hat{{x}}_i")
    assert verdicts(tmp_path, body, BATCHNORM) == ["proven"]
    # zakka's slip #3: one term for the sum over the batch
    local = d("y_i", "\\beta")
    body = display(f"{beta} = {upstream} \\cdot {local}")
    assert verdicts(tmp_path, body, BATCHNORM) == ["refuted"]
    # f itself has no value here: only its derivatives are given
    ((verdict, reason),) = links(tmp_path, "$$\nf = 2 f\n$$\n", BATCHNORM)
    assert verdict == "unchecked" and "given only through its derivatives" in reason


def test_local_partials_hold_the_other_quantities_fixed(tmp_path):
    # zakka-batchnorm.md #17: dx̂_i/dx_i = 1/sqrt(σ² + ε) with μ and σ² held fixed; the total
    # derivative is not that, so without partials: local the line is refuted
    body = "$$\n\\dfrac{\\partial \\hat{x}_i}{\\partial x_i} = \\dfrac{1}{\\sqrt{\\sigma^2 + \\epsilon}}\n$$\n"
    assert verdicts(tmp_path, body, BATCHNORM) == ["refuted"]
    assert verdicts(tmp_path, body, {**BATCHNORM, "partials": "local"}) == ["proven"]
    # in the equations named only (coolgpu-backprop-batchnorm.md's Eqs. 23-29)
    assert verdicts(tmp_path, body, {**BATCHNORM, "partials": {"local": ["#2"]}}) == ["refuted"]
    assert verdicts(tmp_path, body, {**BATCHNORM, "partials": {"local": ["#1"]}}) == ["proven"]
    # the loss keeps its total derivative (zakka #16: df/dx_i through x̂, μ and σ²)
    local = {**BATCHNORM, "partials": "local"}
    paths = [
        d("f", "\\hat{x}_i") + d("\\hat{x}_i", "x_i"),
        d("f", "\\mu") + d("\\mu", "x_i"),
        d("f", "\\sigma^2") + d("\\sigma^2", "x_i"),
    ]
    total = d("f", "x_i")
    assert verdicts(tmp_path, display(total + " = " + " + ".join(paths)), local) == ["proven"]
    assert verdicts(tmp_path, display(total + " = " + " - ".join(paths)), local) == ["refuted"]


def test_sizes_named_with_subscripts_and_a_greek_tensor(tmp_path):
    # coolgpu-backprop-batchnorm.md: N_i elements per channel, N = N_c N_i, the shift \beta_c
    decl = {
        "sizes": [{"N_c": 2, "N_i": 3}],
        "indices": {"c": "N_c", "i": "N_i", "k": "N_i"},
        "tensors": {"X": ["N_c", "N_i"], "\\beta": ["N_c"]},
        "define": {"N": "N_c N_i", "\\mu_{c}": "\\frac{1}{N_i}\\sum_{k=1}^{N_i} x_{c,k}"},
    }
    body = "$$\n\\frac{ {\\partial {\\mu _c} } }{ {\\partial {x_{c,i} } } } = \\frac{1}{ { {N_i} } }\n$$\n"
    assert verdicts(tmp_path, body, decl) == ["proven"]
    assert verdicts(tmp_path, body.replace("{N_i}", "{N}"), decl) == ["refuted"]  # Eq. 28's slip: 1/N for 1/N_i
    assert verdicts(tmp_path, "$$\n\\beta_c + \\mu_c = \\mu_c + \\beta_c\n$$\n", decl) == ["proven"]


def test_a_power_written_before_its_subscript_or_around_a_group(tmp_path):
    # coolgpu-backprop-batchnorm.md writes \sigma _c^2, and once {\sigma ^2}_c; a declaration may
    # write \sigma^{2}_{c}: all three print σ_c² and name the variance
    decl = {
        "sizes": [{"C": 2, "I": 2}],
        "indices": {"c": "C", "j": "I"},
        "tensors": {"X": ["C", "I"]},
        "define": {"\\sigma^{2}_{c}": "\\frac{1}{I}\\sum_{j=1}^{I} x_{c,j}^{2}"},
    }
    body = "$$\n\\sqrt{\\sigma _c^2} = \\sqrt{ {\\sigma ^2}_c} = \\sqrt{\\sigma^{2}_{c}}\n$$\n"
    assert verdicts(tmp_path, body, decl) == ["proven", "proven"]
    assert verdicts(tmp_path, "$$\n\\sigma _c^2 = x_{c,1}^2\n$$\n", decl) == ["refuted"]


def test_transposes_as_published(tmp_path):
    # ^T, ^{\top}, ^\mathsf{T} (ashwinreddy-ols.md), ^\text{T} (yuqiiwang-matrix-derivative.md)
    decl = {"sizes": [{"n": 2}], "indices": {}, "tensors": {"A": ["n", "n"]}}
    for mark in ("T", "{T}", "\\top", "{\\top}", "\\mathsf{T}", "{\\mathsf{T}}", "\\text{T}", "\\intercal"):
        body = f"$$\n(\\boldsymbol{{A}}^{mark})^{mark} = \\boldsymbol{{A}}\n$$\n"
        assert verdicts(tmp_path, body, decl) == ["proven"], mark
    assert verdicts(tmp_path, "$$\n\\boldsymbol{A}^\\top = \\boldsymbol{A}\n$$\n", decl) == ["refuted"]


def test_a_boxed_result_is_read(tmp_path):
    # zakka-batchnorm.md: $$\boxed{\frac{\partial f}{\partial \beta} = ...}$$, \color{red}{a = b}
    beta, upstream = d("f", "\\beta"), d("f", "y_i")
    body = display(f"\\boxed{{\\color{{red}}{{{beta} = \\sum\\limits_{{i=1}}^m {upstream}}}}}")
    assert verdicts(tmp_path, body, BATCHNORM) == ["proven"]
    assert verdicts(tmp_path, body.replace("\\sum\\limits_{i=1}^m", "2"), BATCHNORM) == ["refuted"]


# --- HTML posts as Jekyll publishes them ------------------------------------------------------------


def test_an_equation_paragraph_and_indented_lines_inside_a_div(tmp_path):
    # coolgpu-backprop-batchnorm.md: <p class="equation"> in a div of another class (Eqs. 3-7), and a
    # div's lines indented after a blank line, which kramdown keeps as HTML (not code)
    decl = {"sizes": [{"m": 2}], "indices": {}, "tensors": {"X": ["m"]}}
    body = (
        '<div class="alert">\n\t<p class="equation"><span> \\(2 x_1 = x_1 + x_1\\) </span>'
        '<span class="ref-num">(3)</span></p>\n</div>\n\n'
        '<div class="alert alert-secondary equation">\n\t<span>\n\t\t<p><span> \\(x_1 = x_1\\)</span></p>\n\n'
        '\t\t<p><span> \\( = 2 x_1\\)</span></p>\n\t</span>\n\t<span class="ref-num">(4)</span>\n</div>\n'
    )
    report = check_document(post(tmp_path, body, decl))
    assert [(link.equation, link.verdict) for link in report.links] == [
        ("3", "proven"),
        ("4", "proven"),
        ("4", "refuted"),
    ]


def test_a_symbol_with_fewer_indices_than_declared_is_not_read(tmp_path):
    # coolgpu-backprop-batchnorm.md Eq. 25 writes x_k for x_{c,k}: that line is ?, not an error
    decl = {"sizes": [{"m": 2}], "indices": {"k": "m"}, "tensors": {"X": ["m", "m"]}}
    ((verdict, reason),) = links(tmp_path, "$$\n\\sum_{k=1}^{m} x_k = 0\n$$\n", decl)
    assert verdict == "unchecked" and "x_{k} has 1 indices, but x has 2" in reason


# --- the chain rule through named quantities ----------------------------------------------------


def test_the_chain_rule_through_named_quantities_is_what_decides(tmp_path, monkeypatch):
    """A line is decided first with every defined quantity a named symbol, the derivatives going
    through the names by the chain rule; a corrupted chain rule (the path through the names
    dropped) would prove a wrong line, which the tests above refute."""
    import symgrad.checkdoc.meaning as meaning

    wrong = "$$\n\\frac{\\partial f}{\\partial x_1} = 0\n$$\n"  # f reaches x_1 through y, x̂, μ and σ²
    assert verdicts(tmp_path, wrong, BATCHNORM) == ["refuted"]
    monkeypatch.setattr(meaning.Meaning, "_through", lambda self, let, variable: sympy.Integer(0))
    assert verdicts(tmp_path, wrong, BATCHNORM) == ["proven"]


def test_a_reading_that_writes_out_the_mean_sees_deviations_sum_to_zero(tmp_path):
    # coolgpu-backprop-batchnorm.md Eq. 29, line 2: ∂L/∂μ = -(w/σ) Σ ∂L/∂y_k holds because Σ (x_k - μ) = 0
    decl = {
        "sizes": [{"n": 3}],
        "indices": {"i": "n", "k": "n", "j": "n"},
        "tensors": {"X": ["n"]},
        "scalars": ["w"],
        "define": {
            "\\mu": "\\frac{1}{n}\\sum_{j=1}^{n} x_{j}",
            "v": "\\frac{1}{n}\\sum_{j=1}^{n} (x_{j} - \\mu)^{2}",
            "y_{i}": "w \\frac{x_{i} - \\mu}{\\sqrt{v}}",
        },
        "given": {"f": "y"},
    }
    mean, upstream = d("f", "\\mu"), d("f", "y_k")
    body = display(f"{mean} = -\\frac{{w}}{{\\sqrt{{v}}}} \\sum_{{k=1}}^{{n}} {upstream}")
    assert verdicts(tmp_path, body, decl) == ["proven"]
    assert verdicts(tmp_path, body.replace("-\\frac{w}", "\\frac{w}"), decl) == ["refuted"]


# --- the layer norm: labels, a Kronecker delta, scopes -----------------------------------------------

# liorsinai-layernorm.md: z_k = (x_k - μ)/(σ + ε) for one layer l
LAYERNORM = {
    "sizes": [{"n": 3}],
    "indices": {"i": "n", "k": "n", "r": "n"},
    "tensors": {"X": ["n"]},
    "scalars": ["\\epsilon"],
    "labels": ["l"],
    "functions": {"\\delta": "kronecker"},
    "define": {
        "\\mu": "\\frac{1}{n}\\sum_{r=1}^{n} x_{r}",
        "\\sigma": "\\sqrt{\\frac{1}{n}\\sum_{r=1}^{n} (x_{r} - \\mu)^{2}}",
        "z_{k}": "\\frac{x_{k} - \\mu}{\\sigma + \\epsilon}",
    },
}


def test_a_declared_label_is_not_a_power(tmp_path):
    # liorsinai-layernorm.md: \mu^l = \frac{1}{n}\sum_r^n x_r^l, l the layer
    assert verdicts(tmp_path, display("\\mu^l = \\frac{1}{n}\\sum_r^n x_r^l"), LAYERNORM) == ["proven"]
    assert verdicts(tmp_path, display("\\mu^{(l)} = \\frac{1}{n}\\sum_r^n x_r^{(l)}"), LAYERNORM) == ["proven"]
    assert verdicts(tmp_path, display("\\mu^l = \\frac{1}{n}\\sum_r^n x_r^2"), LAYERNORM) == ["refuted"]
    # undeclared, l is a symbol that no declaration names
    unlabelled = {k: v for k, v in LAYERNORM.items() if k != "labels"}
    ((verdict, reason),) = links(tmp_path, display("\\mu^l = \\mu"), unlabelled)
    assert verdict == "unchecked" and "the symbol l is not declared" in reason


def test_a_kronecker_delta_declared_as_such(tmp_path):
    # liorsinai-layernorm.md #6: dz_k/dx_i = (δ_{ik} - dμ/dx_i)/(σ + ε) - (x_k - μ)/(σ + ε)^2 dσ/dx_i
    line = (
        d("z_k", "x_i") + " = \\frac{1}{\\sigma + \\epsilon}\\left(\\delta_{ik} - " + d("\\mu", "x_i") + "\\right) - "
        "\\frac{x_k -\\mu}{(\\sigma + \\epsilon)^{2}}" + d("\\sigma", "x_i")
    )
    assert verdicts(tmp_path, display(line), LAYERNORM) == ["proven"]
    assert verdicts(tmp_path, display(line.replace("\\delta_{ik}", "\\delta_{i1}")), LAYERNORM) == ["refuted"]
    # its definition by cases (#7)
    cases = "\\delta_{i1} = \\begin{cases} 1 & i=1 \\\\ 0 & i\\neq 1 \\end{cases}"
    assert verdicts(tmp_path, display(cases), LAYERNORM) == ["proven"]
    # not declared, δ is an undeclared symbol
    plain = {k: v for k, v in LAYERNORM.items() if k != "functions"}
    assert links(tmp_path, display(cases), plain)[0][0] == "unchecked"


def test_a_scope_declares_a_quantity_again_for_some_equations(tmp_path):
    # liorsinai-layernorm.md: z_k has no parameters until the summary (#11), where z_k = a(...) + b
    decl = {
        **LAYERNORM,
        "scopes": {
            "#2": {
                "scalars": ["\\epsilon", "a", "b"],
                "define": {"z_{k}": "a \\frac{x_{k} - \\mu}{\\sigma + \\epsilon} + b"},
            }
        },
    }
    body = display(d("z_k", "x_k") + " = " + d("z_k", "x_k")) + display(d("z_k", "b") + " = 1")
    assert verdicts(tmp_path, body, decl) == ["proven", "proven"]
    # a(...) is a product once a is declared: dz_k/da = (x_k - μ)/(σ + ε) in the scope, and b is
    # no symbol outside it
    body = display("z_k = a\\left(\\frac{x_k - \\mu}{\\sigma + \\epsilon}\\right) + b")
    assert verdicts(tmp_path, display("z_1 = z_1") + body, decl) == ["proven", "proven"]
    assert links(tmp_path, body + display("z_1 = z_1"), decl)[0][0] == "unchecked"


def test_three_full_stops_are_dots(tmp_path):
    # liorsinai-layernorm.md #8: \frac{1}{n}(0 + ... + 0 + 1 + 0 + ... + 0), a pattern
    ((verdict, reason),) = links(tmp_path, display("\\frac{1}{n}(0 + ... + 1 + ... + 0) = \\frac{1}{n}"), LAYERNORM)
    assert verdict == "unchecked" and reason == "illustrative: written with dots"


# --- attention in index notation ---------------------------------------------------------------

# planckeon-attention-gradients.md: indices written above, repeated indices summed
ATTENTION = {
    "sizes": [{"N": 2, "d": 2}],
    "indices": {"i": "N", "j": "N", "j'": "N", "m": "N", "n": "N", "a": "d", "b": "d", "c": "d"},
    "tensors": {"Q": ["N", "d"], "K": ["N", "d"], "V": ["N", "d"]},
    "superscripts": "indices",
    "einstein": True,
    "functions": {"\\delta": "kronecker"},
    "define": {
        "S^{ij}": "\\sum_{c=1}^{d} Q^{ic} K^{jc}",
        "A^{ij}": "\\frac{e^{S^{ij}}}{\\sum_{j'=1}^{N} e^{S^{ij'}}}",
        "O^{ib}": "\\sum_{j=1}^{N} A^{ij} V^{jb}",
    },
    "given": {"L": "O"},
}


def test_indices_written_above_and_summed_by_the_convention(tmp_path):
    # planckeon-attention-gradients.md #4, #5: O^{ib} = A^{ij} V^{jb}, sums over j
    assert verdicts(tmp_path, display("O^{ib} = A^{ij} V^{jb}"), ATTENTION) == ["proven"]
    assert verdicts(tmp_path, display("O^{ib} = A^{ij} V^{ib}"), ATTENTION) == ["refuted"]
    body = display(d("O^{ib}", "V^{mn}") + " = A^{ij} \\delta^j_m \\delta^b_n = A^{im} \\delta^b_n")
    assert verdicts(tmp_path, body, ATTENTION) == ["proven", "proven"]
    # the left side's indices are free however often the right side writes them (#9)
    body = display(d("A^{ij}", "S^{mn}") + " = \\delta^i_m A^{ij} (\\delta^j_n - A^{in})")
    assert verdicts(tmp_path, body, ATTENTION) == ["proven"]
    assert verdicts(tmp_path, body.replace("- A^{in}", "+ A^{in}"), ATTENTION) == ["refuted"]
    # without the convention A^{ij} V^{jb} is one term, j free: refuted
    assert verdicts(tmp_path, display("O^{ib} = A^{ij} V^{jb}"), {**ATTENTION, "einstein": False}) == ["refuted"]


def test_a_written_sum_over_a_primed_index_is_not_summed_again(tmp_path):
    # planckeon-attention-gradients.md #10: the sum over j' is written, the convention adds none
    line = (
        d("L", "S^{ij}")
        + " = A^{ij} \\left("
        + d("L", "A^{ij}")
        + " - \\sum_{j'} A^{ij'}"
        + d("L", "A^{ij'}")
        + "\\right)"
    )
    assert verdicts(tmp_path, display(line), ATTENTION) == ["proven"]
    assert verdicts(tmp_path, display(line.replace("\\sum_{j'} A^{ij'}", "\\sum_{j'} A^{ij}")), ATTENTION) == [
        "refuted"
    ]


def test_a_softmax_over_an_index(tmp_path):
    # planckeon-attention-gradients.md #3: A^{ij} = \text{softmax}_j(S^{ij})
    assert verdicts(tmp_path, display("A^{ij} = \\text{softmax}_j(S^{ij})"), ATTENTION) == ["proven"]
    assert verdicts(tmp_path, display("A^{ij} = \\text{softmax}_i(S^{ij})"), ATTENTION) == ["refuted"]


def test_a_display_starting_with_equals_goes_on_from_the_one_before(tmp_path):
    # planckeon-attention-gradients.md #15, #16: $$ ... = \frac{e^{s_i}}{Z} - \frac{e^{2s_i}}{Z^2} $$ then
    # $$ = a_i - a_i^2 = a_i(1 - a_i) $$
    decl = {
        "sizes": [{"N": 3}],
        "indices": {"i": "N", "k": "N"},
        "tensors": {"S": ["N"]},
        "define": {"a_{i}": "\\frac{e^{s_{i}}}{\\sum_{k=1}^{N} e^{s_{k}}}", "Z": "\\sum_{k=1}^{N} e^{s_{k}}"},
    }
    first = display(d("a_i", "s_i") + " = \\frac{e^{s_i}}{Z} - \\frac{e^{2s_i}}{Z^2}")
    report = check_document(post(tmp_path, first + "\n" + display("= a_i - a_i^2 = a_i(1 - a_i)"), decl))
    assert [(link.equation, link.verdict) for link in report.links] == [
        ("#1", "proven"),
        ("#2", "proven"),
        ("#2", "proven"),
    ]
    report = check_document(post(tmp_path, first + "\n" + display("= a_i + a_i^2"), decl))
    assert [link.verdict for link in report.links] == ["proven", "refuted"]
    # with a sentence between, the "=" has no side before it
    report = check_document(post(tmp_path, first + "\nThen\n\n" + display("= a_i - a_i^2"), decl))
    assert [link.verdict for link in report.links] == ["proven", "unchecked"]


def test_a_case_declared_for_equations_whose_prose_says_it_in_words(tmp_path):
    # planckeon-attention-gradients.md #17, "off the diagonal": da_i/ds_j = -a_i a_j holds where i ≠ j
    decl = {
        "sizes": [{"N": 3}],
        "indices": {"i": "N", "j": "N", "k": "N"},
        "tensors": {"S": ["N"]},
        "define": {"a_{i}": "\\frac{e^{s_{i}}}{\\sum_{k=1}^{N} e^{s_{k}}}"},
    }
    body = "Off the diagonal,\n\n" + display(d("a_i", "s_j") + " = -a_i a_j")
    assert verdicts(tmp_path, body, decl) == ["refuted"]
    assert verdicts(tmp_path, body, {**decl, "scopes": {"#1": {"case": "i \\ne j"}}}) == ["pattern"]


# --- matrix calculus: differentials, traces, entrywise functions ------------------------------------


def test_differentials_and_traces(tmp_path):
    # yuqiiwang-matrix-derivative.md #3: f of Y = AXB, A and B constant, G = df/dY:
    # df = tr(G^T dY) = tr(G^T A dX B) = tr(B G^T A dX) = tr((A^T G B^T)^T dX)
    decl = {
        "sizes": [{"m": 2, "n": 3, "p": 2, "q": 3}],
        "indices": {"i": "p", "j": "q", "k": "m", "l": "n"},
        "tensors": {"A": ["p", "m"], "X": ["m", "n"], "B": ["n", "q"]},
        "constants": ["A", "B"],
        "functions": {"d": "differential"},
        "define": {"y_{ij}": "\\sum_{k=1}^{m} \\sum_{l=1}^{n} a_{ik} x_{kl} b_{lj}"},
        "given": {"f": "y"},
    }
    g = "(" + d("f", "Y") + ")"
    chain = [
        "df",
        f"tr({g}^\\text{{T}} dY)",
        f"tr({g}^\\text{{T}} \\space \\big( \\underbrace{{(d A) X B}}_{{=\\mathbf{{0}}}} + A (d X) B \\big))",
        f"tr(B {g}^\\text{{T}} A \\space dX)",
        f"tr((A^\\text{{T}} {g} B^\\text{{T}})^\\text{{T}} \\space dX)",
        f"tr(({d('f', 'X')})^\\text{{T}} dX)",
    ]
    assert verdicts(tmp_path, display(" = ".join(chain)), decl) == ["proven"] * 5
    # the post's slip: A^T G^T B is not the gradient (here its shapes do not even fit)
    slipped = chain[:4] + [f"tr((A^\\text{{T}} {g}^\\text{{T}} B)^\\text{{T}} \\space dX)"]
    assert verdicts(tmp_path, display(" = ".join(slipped)), decl)[-1] == "refuted"
    # without constants, dA and dB are not zero: dY is more than A dX B
    varying = {k: v for k, v in decl.items() if k != "constants"}
    assert verdicts(tmp_path, display(f"{chain[1]} = {chain[3]}"), varying) == ["refuted"]
    assert verdicts(tmp_path, display(f"{chain[1]} = {chain[3]}"), decl) == ["proven"]


def test_entrywise_functions_a_matrix_written_out_and_a_number_as_one_by_one(tmp_path):
    # yuqiiwang-matrix-derivative.md #4, rows ending with \\\\ as the Markdown escapes them
    decl = {"sizes": [{"p": 2}], "indices": {}, "tensors": {"X": ["p", "p"]}, "functions": {"d": "differential"}}
    rows = ["cos(x_{11}) d x_{11} & cos(x_{12}) d x_{12}", "cos(x_{21}) d x_{21} & cos(x_{22}) d x_{22}"]
    matrix = "\\begin{bmatrix} " + " \\\\\\\\ ".join(rows) + " \\end{bmatrix}"
    body = display(f"d \\space sin(X) = {matrix} = cos(X) \\odot dX")
    assert verdicts(tmp_path, body, {**decl, "elementwise": True}) == ["proven", "proven"]
    assert verdicts(tmp_path, body.replace("cos(X)", "sin(X)"), {**decl, "elementwise": True}) == ["proven", "refuted"]
    ((verdict, reason), _) = links(tmp_path, body, decl)
    assert verdict == "unchecked" and "declare elementwise: true" in reason
    # sin² + cos² = 1 is a relation the exact form does not see: undecided, never refuted
    assert verdicts(tmp_path, display("sin(x_{11})^2 + cos(x_{11})^2 = 1"), decl) == ["unchecked"]


def test_attention_as_matrices(tmp_path):
    # goubasarian-attention.md #2, #4: named matrices, a softmax by rows, entrywise exp and reciprocal,
    # columns of ones, and where each lives (\in \mathbb{R}^{n \times n}) said and passed over
    decl = {
        "sizes": [{"n": 3, "d_k": 2}],
        "indices": {"i": "n"},
        "tensors": {"Q": ["n", "d_k"], "K": ["n", "d_k"]},
        "elementwise": True,
        "functions": {"softmax": "rows"},
        "define": {
            "W": "\\frac{Q K^{T}}{\\sqrt{d_k}}",
            "B_{1}": "exp(W)",
            "B_{2}": "B_{1} \\bold{1_n}",
            "Attention(K, Q)": "softmax(W)",
        },
    }
    body = display(
        "B &= softmax(W) \\in \\mathbb{R}^{n \\times n}",
        "&= exp(W) \\odot ((exp(W)\\bold{1_n})^{-1}\\bold{1_n^T})",
        "& = B_1 \\odot ((B_2)^{-1}\\bold{1_n^T})",
    ).replace("B &=", "Attention(K, Q) &=")
    assert verdicts(tmp_path, body, decl) == ["proven", "proven", "proven"]
    assert verdicts(tmp_path, body.replace("^{-1}\\bold{1_n^T})", "\\bold{1_n^T})", 1), decl)[1] == "refuted"
    # a softmax of a matrix is by rows only when declared so
    plain = {**decl, "functions": {}}
    ((verdict, reason), *_) = links(tmp_path, display("W = W", "softmax(W) = softmax(W)"), plain)[1:]
    assert verdict == "unchecked" and "softmax: rows" in reason
    # a defined function applied to other arguments than its parameters is not read
    ((verdict, reason),) = links(tmp_path, display("Attention(Q, K) = softmax(W)"), decl)
    assert verdict == "unchecked" and "other arguments" in reason


def test_a_notation_reads_a_loose_spelling_as_what_it_stands_for(tmp_path):
    # coolgpu-backprop-batchnorm.md Eq. 25 writes x_k for x_{c,k}, inside the channel c
    decl = {
        "sizes": [{"C": 2, "I": 3}],
        "indices": {"c": "C", "k": "I"},
        "tensors": {"X": ["C", "I"]},
        "define": {"\\mu_{c}": "\\frac{1}{I}\\sum_{k=1}^{I} x_{c,k}"},
    }
    line = display("\\frac{1}{I}\\sum_{k=1}^{I} (x_k - \\mu_c) = 0")
    assert links(tmp_path, line, decl)[0][0] == "unchecked"  # x has two indices
    scoped = {**decl, "scopes": {"#1": {"notation": {"x_{k}": "x_{c,k}"}}}}
    assert verdicts(tmp_path, line, scoped) == ["proven"]
    assert verdicts(tmp_path, line.replace("= 0", "= x_k"), scoped) == ["refuted"]


def test_a_scope_defines_a_name_again_with_other_indices(tmp_path):
    # coolgpu-backprop-batchnorm.md Eqs. 2-4 index samples and elements apart, x_{s,c,k}; later one i
    decl = {
        "sizes": [{"C": 1, "S": 2, "K": 2, "I": 4}],
        "indices": {"c": "C", "i": "I", "j": "I"},
        "tensors": {"X": ["C", "I"]},
        "define": {"\\mu_{c}": "\\frac{1}{I}\\sum_{j=1}^{I} x_{c,j}"},
        "scopes": {
            "#1": {
                "indices": {"c": "C", "s": "S", "k": "K"},
                "tensors": {"X": ["S", "C", "K"]},
                "define": {"\\mu_{c}": "\\frac{1}{S K}\\sum_{s=1}^{S}\\sum_{k=1}^{K} x_{s,c,k}"},
            }
        },
    }
    first = display("\\mu_c = \\frac{1}{S \\times K} \\sum_{s=1}^{S} \\sum_{k=1}^{K} x_{s,c,k}")
    second = display("\\mu_c = \\frac{1}{I} \\sum_{j=1}^{I} x_{c,j}")
    assert verdicts(tmp_path, first + second, decl) == ["proven", "proven"]
    assert verdicts(tmp_path, second + first, decl) == ["unchecked", "unchecked"]  # each read in the other's terms


# --- what the report says of a line it does not read ----------------------------------------------


def test_the_report_names_the_declaration_that_would_read_a_line_and_the_share_decided(tmp_path):
    from symgrad.checkdoc import html_report, text_report

    # zakka-batchnorm.md before its declarations: \gamma is no declared symbol
    decl = {"sizes": [{"m": 2}], "indices": {"i": "m"}, "tensors": {"X": ["m"]}}
    path = post(tmp_path, display("2 x_1 = x_1 + x_1") + display("\\gamma x_1 = x_1 \\gamma"), decl)
    report = check_document(path)
    text = text_report(report)
    assert "the symbol \\gamma is not declared: declare it, as scalars: [\\gamma]" in text
    assert text.splitlines()[-1] == "2 links: 1 ✓ proven, 0 ◐ pattern, 0 ✗ refuted, 1 ? unchecked; 50 % decided"
    page = html_report(report, path)
    assert "declare it, as scalars: [\\gamma]" in page and "50 % decided" in page
    # an entry of an undeclared tensor: the tensor to declare, or the entry to define
    ((verdict, reason),) = links(tmp_path, display("w_{1} = w_{1}"), decl)
    assert verdict == "unchecked" and "tensors: {W: [n]}" in reason and 'define: {"w_{1}": ...}' in reason


# --- least squares: hypotheses, costs, vectors -------------------------------------------------------


def test_least_squares_as_published(tmp_path):
    # ashwinreddy-ols.md: a display in kramdown's escaped brackets, \partial_{\theta_j} and \nabla_\theta,
    # θ and x vectors named alone, h_\theta(x) = θ^T x a number, a cost J(θ) for one example (x, y)
    decl = {
        "sizes": [{"d": 3}],
        "indices": {"j": "d"},
        "tensors": {"X": ["d"], "\\theta": ["d"]},
        "scalars": ["y"],
        "define": {"h_\\theta(x)": "\\theta^{T} x", "J(\\theta)": "\\frac{1}{2}(h_\\theta(x) - y)^{2}"},
    }
    body = (
        "\\\\[ \\partial_{\\theta_j}{J(\\theta)} = \\left( h_\\theta(x) - y \\right)x_j \\\\]\n\n"
        "$$\n\\nabla_\\theta J(\\theta) = (\\theta^\\mathsf{T} x - y) x\n$$\n"
    )
    report = check_document(post(tmp_path, body, decl))
    assert [(link.equation, link.verdict) for link in report.links] == [("#1", "proven"), ("#2", "proven")]
    # the post's slip: the chain rule keeping the square
    line = display("\\partial_{\\theta_j}{J(\\theta)} = 2 \\cdot \\frac{1}{2}\\left(h_\\theta(x) - y \\right)^2 x_j")
    assert verdicts(tmp_path, line, decl) == ["refuted"]
    # equations declared conditions (the normal equations) are shown, never checked
    scoped = {**decl, "scopes": {"#1": {"condition": True}}}
    ((verdict, reason),) = links(tmp_path, display("\\theta^\\mathsf{T} x = y"), scoped)
    assert verdict == "unchecked" and reason.startswith("a condition the author imposes")


def test_indices_from_zero(tmp_path):
    # sonfl-linear-regression.md: h(x) = \sum_{i=0}^{n} \theta_i x_i = \theta^T x, n + 1 parameters
    decl = {
        "sizes": [{"n": 2}],
        "indices": {"i": [0, "n"]},
        "tensors": {"X": [[0, "n"]], "\\theta": [[0, "n"]]},
        "define": {"h(x)": "\\theta^{T} x"},
    }
    assert verdicts(tmp_path, display("h(x) = \\sum_{i=0}^{n}\\theta_{i}x_{i} = \\theta^{T}x"), decl) == [
        "proven",
        "proven",
    ]
    assert verdicts(tmp_path, display("h(x) = \\sum_{i=1}^{n}\\theta_{i}x_{i}"), decl) == ["refuted"]
    assert verdicts(tmp_path, display("\\sum_i \\theta_{i} = \\theta_0 + \\theta_1 + \\theta_2"), decl) == ["proven"]
    ((verdict, reason),) = links(tmp_path, display("\\theta_{3} = 0"), decl)
    assert verdict == "unchecked" and reason == "no declared size has the entries it names"


# --- layers, activations, a cost of many arguments ---------------------------------------------------

# scthe-backprop-cnn.md: a fully connected layer l to l+1, an activation f_a, a cost J given from
# outside, the layer written as a superscript (x^{(l+1)}_j, y^l_i)
LAYERED = {
    "sizes": [{"s_{l}": 2, "s_{l+1}": 3}],
    "indices": {"i": "s_{l}", "j": "s_{l+1}"},
    "layers": {"(l)": "l", "l": "l", "(l+1)": "l+1", "l+1": "l+1"},
    "tensors": {"x^{(l)}": ["s_{l}"], "W^{(l)}": ["s_{l+1}", "s_{l}"], "b^{(l)}": ["s_{l+1}"]},
    "functions": {"f_a": "activation"},
    "define": {
        "y^{(l)}_{i}": "f_a(x^{(l)}_{i})",
        "x^{(l+1)}_{j}": "\\sum_{i=1}^{s_{l}} W^{(l)}_{ji} y^{(l)}_{i} + b^{(l)}_{j}",
        "\\delta^{(l)}_{i}": "\\frac{\\partial J}{\\partial x^{(l)}_{i}}",
        "\\delta^{(l+1)}_{j}": "\\frac{\\partial J}{\\partial x^{(l+1)}_{j}}",
    },
    "given": {"J": ["x^{(l+1)}"]},
}


def test_layers_an_activation_and_a_cost_of_many_arguments(tmp_path):
    # scthe-backprop-cnn.md #2, #13, #14: the forward pass, the error term of an inner node, a weight's
    # derivative written {\partial \over \partial W} J(W,b;Y,X)
    forward = "x^{(l+1)}_j = \\sum_{i=1}^{s_{l}}(W^{(l)}_{ji} y^l_i) + b^l_j"
    assert verdicts(tmp_path, display(forward), LAYERED) == ["proven"]
    inner = "\\delta^{(l)}_i = {f_a}'(x^{(l)}_i) \\cdot \\sum_{j=1}^{s_{l+1}} (W^{(l)}_{ji} \\cdot \\delta^{(l+1)}_j)"
    assert verdicts(tmp_path, display(inner), LAYERED) == ["proven"]
    assert verdicts(tmp_path, display(inner.replace("{f_a}'", "f_a")), LAYERED) == ["refuted"]
    weight = "{\\partial \\over \\partial W^{(l)}_{ji}} J(W,b;Y,X) = y^{(l)}_i \\cdot \\delta^{(l+1)}_j"
    assert verdicts(tmp_path, display(weight), LAYERED) == ["proven"]
    # the post's slip #9: ∂x_j/∂b_i is 0 for i ≠ j
    bias = d("x^{(l+1)}_j", "b^{(l)}_{i}") + " \\frac{\\partial}{\\partial x^{(l+1)}_j} J(W,b;Y,X) = \\delta^{(l+1)}_j"
    assert verdicts(tmp_path, display(bias), LAYERED) == ["refuted"]
    # an undeclared superscript is no layer: x^{(l+2)} is x to a power, not read
    assert links(tmp_path, display("x^{(l+2)}_j = x^{(l+2)}_j"), LAYERED)[0][0] == "unchecked"


def test_an_activation_is_any_function(tmp_path):
    # sootla-bptt.md: a(z) any activation, a'(z) its derivative; a relation true of one function only
    # (a'(z) = a(z)(1 - a(z)), the sigmoid's) is refuted, at values a function can take
    decl = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"Z": ["n"]}, "functions": {"a": "activation"}}
    assert verdicts(tmp_path, display("\\frac{\\partial a(2 z_1)}{\\partial z_1} = 2 a'(2 z_1)"), decl) == ["proven"]
    assert verdicts(tmp_path, display("a'(z_1) = a(z_1)(1 - a(z_1))"), decl) == ["refuted"]
    assert verdicts(tmp_path, display("a(z_1) + a(z_2) = a(z_2) + a(z_1)"), decl) == ["proven"]
    assert verdicts(tmp_path, display("a(z_1) = a(z_2)"), decl) == ["refuted"]


def test_an_equality_with_its_reason_above_and_a_proof_ended(tmp_path):
    # sootla-bptt.md: \stackrel{\delta \text{ def}}{=}, and a line ending with \quad \blacksquare
    decl = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"Z": ["n"]}}
    body = display("2 z_1 \\stackrel{\\text{twice}}{=} z_1 + z_1 = 2 \\cdot z_1. \\quad \\blacksquare")
    assert verdicts(tmp_path, body, decl) == ["proven", "proven"]
    assert verdicts(tmp_path, display("2 z_1 \\stackrel{\\text{twice}}{=} z_1"), decl) == ["refuted"]


def test_a_function_written_in_letters_that_the_declarations_could_also_multiply(tmp_path):
    # log(p), tr(AB) are the functions; but where every letter is declared, t r (x) is also a product
    decl = {"sizes": [{"n": 2}], "indices": {}, "tensors": {"X": ["n"]}, "scalars": ["t", "r"]}
    ((verdict, reason),) = links(tmp_path, display("tr(x_1) = x_1"), decl)
    assert verdict == "unchecked" and "may be the function tr or a product" in reason
    assert verdicts(tmp_path, display("\\operatorname{tr}(x_1) = x_1"), decl) == ["proven"]
    assert verdicts(tmp_path, display("tr(x_1) = x_1"), {**decl, "scalars": ["t"]}) == ["proven"]


def test_a_matrix_plus_a_number_is_not_read(tmp_path):
    # liorsinai-layernorm.md #1 writes X^l - \mu^l for a vector and a number (broadcasting)
    decl = {"sizes": [{"n": 2}], "indices": {}, "tensors": {"X": ["n"]}, "scalars": ["m"]}
    ((verdict, reason),) = links(tmp_path, display("\\boldsymbol{X} - m = \\boldsymbol{X}"), decl)
    assert verdict == "unchecked" and "broadcasting" in reason


def test_a_constraint_left_out_is_caught(tmp_path, monkeypatch):
    """The one-hot cases decide the last step of the cross-entropy gradient: without them (the
    constraint corrupted to no case at all) the correct line is refuted, which the test above
    rejects."""
    import symgrad.checkdoc.meaning as meaning

    one_hot = {**SOFTMAX, "constraints": [{"one-hot": "Y"}]}
    line = display("- y_k + \\sum_i y_i p_k = p_k - y_k")
    assert verdicts(tmp_path, line, one_hot) == ["proven"]
    monkeypatch.setattr(meaning.Meaning, "cases", lambda self: [{}])
    assert verdicts(tmp_path, line, one_hot) == ["refuted"]


def test_local_partials_corrupted_to_total_ones_are_caught(tmp_path, monkeypatch):
    """With partials local, dx̂_i/dx_i holds μ and σ² fixed; a reading that ignores the declaration
    refutes the post's correct line #17."""
    import symgrad.checkdoc.meaning as meaning

    body = "$$\n\\dfrac{\\partial \\hat{x}_i}{\\partial x_i} = \\dfrac{1}{\\sqrt{\\sigma^2 + \\epsilon}}\n$$\n"
    local = {**BATCHNORM, "partials": "local"}
    assert verdicts(tmp_path, body, local) == ["proven"]
    monkeypatch.setattr(meaning.Meaning, "_local", lambda self, f: False)
    assert verdicts(tmp_path, body, local) == ["refuted"]
