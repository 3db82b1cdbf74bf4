"""Numbers out of a network derivation (d.evaluate), the notebook views of a derivation and of a
proof, and exact SymPy numbers as a layer's parameters."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

import symgrad
import symgrad.functional as SF
from symgrad import Proof, SymgradError
from symgrad.core.numbers import exact

from .checkers import check_formulas, html_formulas
from .conftest import require_torch
from .test_hard_layers import CASES
from .test_network import NETWORKS, torch_namespace

# --- d.evaluate against autograd ----------------------------------------------------------------


def _as_given(k: int, tensor):
    """The inputs in the forms a user has them: a torch tensor requiring grad, a NumPy array, a
    nested list."""
    return [tensor, tensor.detach().numpy(), tensor.detach().tolist()][k % 3]


@pytest.mark.tools
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", list(NETWORKS))
def test_evaluate_agrees_with_autograd_on_every_network(name, seed):
    require_torch()
    torch, TF = torch_namespace()
    build, shapes, loss = NETWORKS[name]
    d = symgrad.derive(build(SF), **shapes, **({"loss": loss} if loss else {}))
    gen = torch.Generator().manual_seed(seed)
    inputs = {n: torch.randn(*s, generator=gen, dtype=torch.float64, requires_grad=True) for n, s in shapes.items()}
    out = build(TF)(*inputs.values())
    arrays = {n: _as_given(k, t) for k, (n, t) in enumerate(inputs.items())}
    if loss == "generic":
        upstream = torch.randn(*out.shape, generator=gen, dtype=torch.float64)
        arrays[f"d{d.output}"] = upstream.numpy()
        theirs = torch.autograd.grad(out, list(inputs.values()), upstream)
    else:
        scalar = out.mean() if loss == "mean" else out.sum() if loss == "sum" else out
        theirs = torch.autograd.grad(scalar, list(inputs.values()))
    ours = d.evaluate(**arrays)
    assert set(ours) == set(shapes)
    for n, expected in zip(inputs, theirs):
        assert ours[n].dtype == np.float64 and ours[n].shape == shapes[n]
        np.testing.assert_allclose(ours[n], expected.numpy(), rtol=1e-9, atol=1e-12, err_msg=n)


@pytest.mark.tools
@pytest.mark.parametrize("name", list(CASES))
def test_evaluate_agrees_with_autograd_on_every_hard_layer(name):
    torch = require_torch()
    build, build_torch, shapes = CASES[name]
    d = symgrad.derive(build(SF), **shapes)
    gen = torch.Generator().manual_seed(3)
    inputs = {n: torch.randn(*s, generator=gen, dtype=torch.float64, requires_grad=True) for n, s in shapes.items()}
    theirs = torch.autograd.grad(build_torch(torch)(*inputs.values()), list(inputs.values()))
    ours = d.evaluate(**{n: t.detach().numpy() for n, t in inputs.items()})
    for n, expected in zip(inputs, theirs):
        np.testing.assert_allclose(ours[n], expected.numpy(), rtol=1e-9, atol=1e-12, err_msg=n)


def test_evaluate_names_only_the_inputs_in_wrt():
    d = symgrad.derive(lambda x, w: (x @ w).sum(), x=(1, 2), w=(2, 1), wrt="w")
    ours = d.evaluate(x=[[3, 4]], w=[[1], [1]])
    assert list(ours) == ["w"]
    assert ours["w"].tolist() == [[3.0], [4.0]]


# --- exact values ---------------------------------------------------------------------------------


def test_exact_gradients_of_a_matrix_product_are_the_hand_computed_fractions():
    # L = Σ_ij (x w)_ij: dL/dx_ik = Σ_j w_kj (row sums of w), dL/dw_kj = Σ_i x_ik (column sums of x)
    d = symgrad.derive(lambda x, w: (x @ w).sum(), x=(2, 3), w=(3, 2))
    x = [[1, 2, 3], [4, 5, 6]]
    w = np.array([[Fraction(1, 2), 2], [Fraction(-1, 3), 1], [0, Fraction(5, 7)]], dtype=object)
    ours = d.evaluate(x=x, w=w, exact=True)
    assert ours["x"].dtype == object and ours["x"].shape == (2, 3)
    assert ours["x"].tolist() == [[Fraction(5, 2), Fraction(2, 3), Fraction(5, 7)]] * 2
    assert ours["w"].tolist() == [[5, 5], [7, 7], [9, 9]]
    assert all(type(v) is Fraction for v in ours["w"].flat)


def test_exact_gradients_with_the_mean_loss_a_relu_a_division_and_a_square_root():
    # mean over 3 entries of relu(x)·x/2 + √y: d/dx = (x if x > 0 else 0)/3, d/dy = 1/(2√y)/3
    d = symgrad.derive(lambda x, y: SF.relu(x) * x / 2 + SF.sqrt(y), x=(3,), y=(3,), loss="mean")
    ours = d.evaluate(x=[3, -1, 0.5], y=[4, Fraction(9, 4), 1], exact=True)
    assert ours["x"].tolist() == [1, 0, Fraction(1, 6)]
    assert ours["y"].tolist() == [Fraction(1, 12), Fraction(1, 9), Fraction(1, 6)]


def test_exact_is_refused_for_a_sigmoid_network_and_an_irrational_square_root():
    d = symgrad.derive(lambda x, w: SF.sigmoid(x @ w), x=(2, 3), w=(3, 2))
    with pytest.raises(SymgradError, match="applies sigmoid, whose values are not rational"):
        d.evaluate(x=np.ones((2, 3)), w=np.ones((3, 2)), exact=True)
    assert d.evaluate(x=np.ones((2, 3)), w=np.ones((3, 2)))["w"].shape == (3, 2)  # in float64 it is fine
    root = symgrad.derive(lambda y: SF.sqrt(y).sum(), y=(2,))
    with pytest.raises(SymgradError, match="irrational"):
        root.evaluate(y=[4, 2], exact=True)


def test_exact_reads_a_float_as_the_decimal_it_prints_as():
    # L = Σ x²: dL/dx = 2x, so 0.1 gives exactly 1/5 (its float64 value would not)
    d = symgrad.derive(lambda x: (x * x).sum(), x=(2,))
    assert d.evaluate(x=np.array([0.1, -2.5]), exact=True)["x"].tolist() == [Fraction(1, 5), -5]
    assert d.evaluate(x=np.array([0.1, -2.5]))["x"].tolist() == [0.2, -5.0]


def test_exact_refuses_a_relu_at_zero_and_values_that_grow_too_long():
    relu = symgrad.derive(lambda x: SF.relu(x).sum(), x=(2,))
    with pytest.raises(SymgradError, match=r"the input of a relu, element \(2\) of x, is exactly 0"):
        relu.evaluate(x=[1, 0], exact=True)

    def squared_20_times(x):
        for _ in range(20):
            x = x * x
        return x.sum()

    deep = symgrad.derive(squared_20_times, x=(1,))
    with pytest.raises(SymgradError, match="grew past 12,000 digits"):
        deep.evaluate(x=[Fraction(3, 2)], exact=True)


def test_eps_given_as_a_symbol_is_an_input_of_evaluate():
    x = [[1, 2], [3, 5], [4, 4]]
    by_symbol = _bn(sympy.Symbol("eps"))
    with pytest.raises(SymgradError, match=r"missing: eps \(shape \(\)\)"):
        by_symbol.evaluate(x=x)
    given = by_symbol.evaluate(x=x, eps=Fraction(1, 1000))["x"]
    assert given.tolist() == _bn(Fraction(1, 1000)).evaluate(x=x)["x"].tolist()


def test_a_generic_loss_needs_the_upstream_array_by_its_name():
    d = symgrad.derive(lambda x, w: x @ w, x=(2, 3), w=(3, 2), loss="generic")
    upstream = f"d{d.output}"
    with pytest.raises(SymgradError, match=rf"missing: {upstream} \(shape \(2, 2\)\)"):
        d.evaluate(x=np.ones((2, 3)), w=np.ones((3, 2)))
    # dL/dx = G wᵀ with G all ones and w all twos: every entry 2 + 2
    ours = d.evaluate(x=np.ones((2, 3)), w=np.full((3, 2), 2.0), **{upstream: np.ones((2, 2))})
    assert ours["x"].tolist() == [[4.0] * 3] * 2


def _evaluate_args(**change):
    args = {"x": np.ones((2, 3)), "w": np.ones((3, 2))}
    args.update(change)
    return {k: v for k, v in args.items() if v is not None}


@pytest.mark.parametrize(
    "arrays, message",
    [
        (_evaluate_args(w=None), r"missing: w \(shape \(3, 2\)\)"),
        (_evaluate_args(z=np.ones(2)), "not inputs: z"),
        (_evaluate_args(x=np.ones((3, 2))), r"the array for x has shape \(3, 2\); x has shape \(2, 3\)"),
        (_evaluate_args(x=[[1, 2, 3], [4, 5]]), r"x cannot be read as an array: .* shape \(2, 3\)"),
        (_evaluate_args(w=np.full((3, 2), "a")), "w must hold real numbers, not text"),
        (_evaluate_args(w=np.ones((3, 2), dtype=bool)), "w must hold real numbers, not booleans"),
        (_evaluate_args(x=np.full((2, 3), np.nan)), "x holds nan; every entry must be a finite number"),
        (_evaluate_args(x=np.full((2, 3), np.inf)), "x holds inf"),
        (_evaluate_args(x=np.full((2, 3), None)), "an entry of x must be an exact number"),
        (_evaluate_args(exact="yes"), "exact must be True or False"),
    ],
)
def test_bad_arrays_get_one_clear_error(arrays, message):
    d = symgrad.derive(lambda x, w: SF.relu(x @ w), x=(2, 3), w=(3, 2))
    with pytest.raises(SymgradError, match=message):
        d.evaluate(**arrays)


def test_a_network_undefined_at_the_inputs_is_refused_with_the_reason():
    d = symgrad.derive(lambda x: SF.log(x).sum(), x=(2,))
    with pytest.raises(SymgradError, match=r"not defined at the given inputs: .*log of a number that is not positive"):
        d.evaluate(x=[1.0, -2.0])
    with pytest.raises(SymgradError, match=r"divides by element \(2\) of x, which is 0"):
        symgrad.derive(lambda x: (1 / x).sum(), x=(2,)).evaluate(x=[1, 0], exact=True)


# --- notebook views -------------------------------------------------------------------------------


def _sigmoid_network():
    return symgrad.derive(lambda x, w: SF.sigmoid(x @ w), x=(2, 3), w=(3, 2))


def _typeset_only(html: str) -> list:
    """The formulas of an HTML view; its text outside them holds no TeX."""
    formulas, rest = html_formulas(html)
    assert "\\" not in rest and "_{" not in rest and "$" not in rest, rest
    return formulas


def test_a_network_derivation_shows_its_document_in_a_notebook():
    d = _sigmoid_network()
    assert d._repr_html_() == symgrad.render(d, "fragment")
    assert d._repr_markdown_() == symgrad.render(d, "md")
    assert "Backpropagation through" in d._repr_markdown_()
    # no LaTeX view (a network's closed forms are in its document): None tells Jupyter so, where
    # an error would print a traceback above the page
    assert d._repr_latex_() is None


def test_a_proven_claim_shows_the_verdict_the_counts_and_the_claim():
    p = symgrad.check(_sigmoid_network(), "w", "x.T @ dmatmul")
    html = p._repr_html_()
    assert "<strong>Proven</strong>: 6 element equalities, 0 steps re-checked." in html
    assert r"<li>for \(\frac{\partial L}{\partial w}\): <code>x.T @ dmatmul</code></li>" in html
    assert "Proof(" not in html and "Counterexample" not in html
    assert _typeset_only(html) == [(r"\frac{\partial L}{\partial w}", False)]
    md = p._repr_markdown_()
    assert (
        md.startswith("**Proven**: 6 element equalities")
        and r"- for $\frac{\partial L}{\partial w}$: `x.T @ dmatmul`" in md
    )


def test_a_proven_derivation_shows_its_upstream_count_and_scope():
    html = symgrad.matmul(2, 3, 2).prove()._repr_html_()
    assert "<strong>Proven</strong>, for every upstream gradient G: 12 element equalities, " in html
    assert "4 upstream entries checked against the loss." in html


def test_a_refuted_claim_shows_its_counterexample_typeset():
    # the claim drops the factor 1 - s of the sigmoid's derivative
    p = symgrad.check(_sigmoid_network(), "w", "x.T @ (ds * s)")
    html = p._repr_html_()
    assert "<strong>Refuted</strong>: 6 element equalities" in html
    assert r"the entry \(\frac{\partial L}{\partial w_{11}}\), element (1, 1) of w." in html
    formulas = [tex for tex, _ in _typeset_only(html)]
    # the two sides, displayed; the one the chain rule gives has the s² terms the claim lacks
    assert r"\frac{s_{11} x_{11}}{4} + \frac{s_{21} x_{21}}{4}" in formulas
    assert any(r"s_{11}^{2}" in tex for tex in formulas)
    # the point: the inputs as fractions, and what each side gives there
    point = next(tex for tex in formulas if tex.startswith("x_{11} = "))
    assert r"x_{22} = - \frac{9}{2}" in point
    assert r"the claim gives \(1.28174603166\)" in html
    md = p._repr_markdown_()
    assert r"the entry $\frac{\partial L}{\partial w_{11}}$" in md and r"$$\frac{s_{11} x_{11}}{4}" in md


def test_a_refuted_equivalence_names_the_two_forms_and_a_proven_one_shows_both():
    d = _sigmoid_network()
    html = symgrad.equivalent(d, "w", "x.T @ dmatmul", "2 * x.T @ dmatmul")._repr_html_()
    assert "Counterexample, in the two forms of dL/dw" in html
    assert "<p>The first form gives</p>" in html and "<p>The second gives</p>" in html
    assert r"the first form gives \(8.1035947288 \times 10^{-11}\) and the second gives" in html
    _typeset_only(html)
    md = symgrad.equivalent(d, "w", "x.T @ dmatmul", "x.T @ (ds*s*(1-s))")._repr_markdown_()
    assert "- for $\\frac{\\partial L}{\\partial w}$: `x.T @ dmatmul == x.T @ (ds*s*(1-s))`" in md


def test_the_point_of_a_three_dimensional_input_is_typeset_with_its_commas():
    p = symgrad.check(symgrad.derive(lambda x: SF.sigmoid(x).sum(), x=(1, 2, 2)), "x", "ds * s")
    html = p._repr_html_()
    assert r"\(x_{1,1,1} = \frac{25}{7},\; x_{1,1,2} = \frac{33}{8},\; x_{1,2,1} = \frac{5}{2}" in html
    assert "<code>" not in html  # the note was read as a point, not shown verbatim
    _typeset_only(html)


def test_a_refuted_op_claim_and_an_undecided_proof_are_shown_without_raw_tex():
    html = symgrad.check(symgrad.matmul(2, 3, 2), "A", "2 * G @ B.T")._repr_html_()
    assert r"\[2 \frac{\partial L}{\partial c_{11}} b_{11} + 2 \frac{\partial L}{\partial c_{12}} b_{12}\]" in html
    _typeset_only(html)
    undecided = Proof("undecided", failed_step=r"dL/dx_{11} <differs> & agrees at every point")._repr_html_()
    assert "<strong>Undecided</strong>" in undecided
    assert "Not settled: <code>dL/dx_{11} &lt;differs&gt; &amp; agrees at every point</code>" in undecided
    _typeset_only(undecided)


@pytest.mark.tools
def test_the_formulas_of_the_proof_views_pass_mathjax_and_katex():
    views = [
        symgrad.check(_sigmoid_network(), "w", "x.T @ (ds * s)")._repr_html_(),
        symgrad.check(_sigmoid_network(), "w", "x.T @ dmatmul")._repr_html_(),
        symgrad.check(symgrad.matmul(2, 3, 2), "A", "2 * G @ B.T")._repr_html_(),
    ]
    formulas = [
        (f"{k}-{j}", tex, display) for k, v in enumerate(views) for j, (tex, display) in enumerate(html_formulas(v)[0])
    ]
    assert len(formulas) > 8
    assert check_formulas(formulas) == []


# --- exact SymPy numbers as parameters ------------------------------------------------------------


def _bn(eps):
    return symgrad.derive(lambda x: (SF.batch_norm(x, eps=eps) ** 2 * x).sum(), x=(3, 2))


def test_eps_as_a_sympy_rational_is_the_same_as_the_fraction():
    by_sympy, by_fraction = _bn(sympy.Rational(1, 100000)), _bn(Fraction(1, 100000))
    assert by_sympy.grad["x"] == by_fraction.grad["x"]
    assert by_sympy.prove().ok
    # and the value of eps is the one given: another eps gives other numbers
    x = [[1, 2], [3, 5], [4, 4]]
    assert not np.allclose(_bn(sympy.Rational(1, 1000)).evaluate(x=x)["x"], by_sympy.evaluate(x=x)["x"], rtol=1e-9)


def test_eps_as_a_sympy_integer_is_accepted():
    d = symgrad.derive(lambda x: SF.layer_norm(x, 2, eps=sympy.Integer(1)).sum(), x=(2, 2))
    assert d.prove().ok
    assert _bn(sympy.Integer(2)).grad["x"] == _bn(2).grad["x"]


@pytest.mark.parametrize(
    "net",
    [
        lambda c: lambda x: SF.leaky_relu(x, c).sum(),
        lambda c: lambda x: (x * c).sum(),
        lambda c: lambda x: (c * x + c).sum(),
        lambda c: lambda x: (x / c - c).sum(),
        lambda c: lambda x: SF.pow(x * x + 1, c + 1).sum(),
    ],
)
def test_slopes_and_constants_take_sympy_rationals_and_integers(net):
    for sympy_value, plain in ((sympy.Rational(1, 50), Fraction(1, 50)), (sympy.Integer(3), 3)):
        ours = symgrad.derive(net(sympy_value), x=(2,))
        assert ours.grad["x"] == symgrad.derive(net(plain), x=(2,)).grad["x"]


def test_exact_gradient_with_a_sympy_slope_by_hand():
    # leaky relu with slope 1/50, summed: 1 where x > 0, 1/50 where x < 0
    d = symgrad.derive(lambda x: SF.leaky_relu(x, sympy.Rational(1, 50)).sum(), x=(2,))
    assert d.evaluate(x=[3, -2], exact=True)["x"].tolist() == [1, Fraction(1, 50)]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: SF.batch_norm(x, eps=sympy.Float(1e-5)), r"batch_norm: eps is the SymPy Float 1\.0+e-5, which is"),
        (lambda x: SF.leaky_relu(x, sympy.Float(0.5)), "the negative slope is the SymPy Float 0.5"),
        (lambda x: x * sympy.Float(2), "mul: a constant is the SymPy Float 2.0"),
        (lambda x: SF.layer_norm(x, 2, eps=sympy.sqrt(2)), r"eps is the SymPy number sqrt\(2\), which is not a"),
        (lambda x: x * sympy.pi, "a constant is the SymPy number pi, which is not a fraction"),
    ],
)
def test_sympy_floats_and_irrational_numbers_are_refused_like_floats(call, message):
    with pytest.raises(SymgradError, match=message):
        symgrad.derive(lambda x: call(x).sum(), x=(2, 2))
    # the message of a Python float where floats are refused: the same sentence
    with pytest.raises(SymgradError, match=r"eps is 0\.5, which is not exact: write it as an integer or a fraction"):
        exact(0.5, "eps")
