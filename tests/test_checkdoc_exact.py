"""check-doc decides a line with the prover's exact engine: both sides as polynomials over one
graph (entries free, exp/log/roots/reciprocals its atoms), reciprocals cleared and roots' powers
read by ``rational.vanishes``. Proven lines are proven by it, slips are refuted at a shown point
whose values PyTorch's autograd confirms, what it cannot see is left undecided, and a corrupted
converter no longer proves a true line."""

from __future__ import annotations

import re

import pytest
import sympy
import yaml

from symgrad.checkdoc import check_document
from symgrad.checkdoc import exact as X
from symgrad.core import poly

from .conftest import require_torch

VECTOR = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"X": ["n"]}}
SOFTMAX = {
    "sizes": [{"n": 3}],
    "indices": {"i": "n", "k": "n"},
    "tensors": {"X": ["n"]},
    "define": {"s_{i}": r"\frac{e^{x_{i}}}{\sum_{k=1}^{n} e^{x_{k}}}", "L": r"-\log s_{1}"},
}
SIGMOID = {**VECTOR, "define": {"z_{i}": r"\frac{1}{1 + e^{-x_{i}}}"}}
# a product of roots of one base, true once both are powers of its sixth root
ROOTS = r"(\sqrt{x_{1}} + 1)(x_{1}^{\frac{1}{3}} + 1) = x_{1}^{\frac{5}{6}} + \sqrt{x_{1}} + x_{1}^{\frac{1}{3}} + 1"


def links(tmp_path, declarations: dict, *formulas: str) -> list:
    front = yaml.safe_dump({"symgrad": declarations}, allow_unicode=True)
    blocks = "\n".join(f"\n$$\n{formula}\n$$\n" for formula in formulas)
    path = tmp_path / "post.md"
    path.write_text(f"---\n{front}---\n{blocks}", encoding="utf-8")
    return check_document(path).links


PROVEN = [
    # softmax and cross-entropy: the derivatives, and the loss written out with its exponentials
    (SOFTMAX, r"\frac{\partial s_{i}}{\partial x_{i}} = s_{i}(1 - s_{i})"),
    (
        SOFTMAX,
        r"\frac{\partial s_{1}}{\partial x_{2}} = -s_{1} s_{2}"
        r" = -\frac{e^{x_{1}} e^{x_{2}}}{(\sum_{k=1}^{n} e^{x_{k}})^{2}}",
    ),
    (SOFTMAX, r"\frac{\partial L}{\partial x_{1}} = s_{1} - 1 = \frac{e^{x_{1}}}{\sum_{k=1}^{n} e^{x_{k}}} - 1"),
    (SOFTMAX, r"\frac{\partial L}{\partial x_{2}} = s_{2}"),
    (SOFTMAX, r"L = -x_{1} + \log \sum_{k=1}^{n} e^{x_{k}}"),
    # the sigmoid's derivative, written with e^{-x} and as σ(1 − σ)
    (SIGMOID, r"\frac{\partial z_{i}}{\partial x_{i}} = \frac{e^{-x_{i}}}{(1 + e^{-x_{i}})^{2}} = z_{i}(1 - z_{i})"),
    (
        SIGMOID,
        r"\frac{e^{-x_{1}}}{(1 + e^{-x_{1}})^{2}}"
        r" = \frac{1}{1 + e^{-x_{1}}} \cdot \frac{1 - (1 - e^{-x_{1}})}{1 + e^{-x_{1}}}",
    ),
    # a fraction that cancels (its reciprocal cleared), and roots squared (read as their argument)
    (VECTOR, r"\frac{x_{1}^{2} - x_{2}^{2}}{x_{1} - x_{2}} = x_{1} + x_{2}"),
    (VECTOR, r"(\sqrt{x_{1}} + 1)(\sqrt{x_{1}} - 1) = x_{1} - 1"),
    (VECTOR, r"\left(\sqrt{x_{1}} + \sqrt{x_{2}}\right)^{2} = x_{1} + x_{2} + 2 \sqrt{x_{1}} \sqrt{x_{2}}"),
    (VECTOR, r"\frac{1}{\sqrt{x_{1}} + 1} = \frac{\sqrt{x_{1}} - 1}{x_{1} - 1}"),
    # relations between atoms the canonical form is built to see
    (VECTOR, r"e^{x_{1}} e^{x_{2}} = e^{x_{1} + x_{2}}"),
    (VECTOR, r"e^{x_{1} - 2 x_{2}} e^{2 x_{2}} = e^{x_{1}}"),
    (VECTOR, ROOTS),
    (VECTOR, r"x_{1}^{x_{2}} = e^{x_{2} \log x_{1}}"),
    (VECTOR, r"\log 12 = 2 \log 2 + \log 3"),
    (VECTOR, r"10^{40}\log\left(e^{x_{1}}\right) - 10^{40} x_{1} + x_{1} = x_{1}"),
]


@pytest.mark.parametrize("declarations, formula", PROVEN)
def test_a_true_line_is_proven_by_the_exact_engine(tmp_path, declarations, formula):
    found = links(tmp_path, declarations, formula)
    assert found and all(link.verdict == "proven" for link in found), [(k.verdict, k.reason) for k in found]


def _softmax(torch, point: dict, of: str, wrt: int) -> float:
    """d s_1 / d x (or d L / d x, L = -log s_1) at the point, by autograd."""
    x = torch.tensor([float(sympy.Rational(point[f"x_{{{k}}}"])) for k in (1, 2, 3)], dtype=torch.float64)
    x.requires_grad_(True)
    s = torch.softmax(x, 0)
    (s[0] if of == "s_1" else -s[0].log()).backward()
    return float(x.grad[wrt])


def _sigmoid_gradient(torch, point: dict) -> float:
    x = torch.tensor(float(sympy.Rational(point["x_{1}"])), dtype=torch.float64, requires_grad=True)
    torch.sigmoid(x).backward()
    return float(x.grad)


REFUTED = [
    # a factor 2 slipped into a derivative; the oracle gives the true value at the point shown
    (SOFTMAX, r"\frac{\partial s_{1}}{\partial x_{1}} = 2 s_{1}(1 - s_{1})", lambda t, p: _softmax(t, p, "s_1", 0)),
    (SOFTMAX, r"\frac{\partial L}{\partial x_{2}} = 2 s_{2}", lambda t, p: _softmax(t, p, "L", 1)),
    (SIGMOID, r"\frac{\partial z_{1}}{\partial x_{1}} = 2 z_{1}(1 - z_{1})", _sigmoid_gradient),
    (SIGMOID, r"\frac{\partial z_{1}}{\partial x_{1}} = \frac{2 e^{-x_{1}}}{(1 + e^{-x_{1}})^{2}}", _sigmoid_gradient),
]


@pytest.mark.parametrize("declarations, formula, oracle", REFUTED)
def test_a_factor_2_slip_is_refuted_at_a_point_where_autograd_agrees_with_the_values_shown(
    tmp_path, declarations, formula, oracle
):
    torch = require_torch()
    ((link,),) = [links(tmp_path, declarations, formula)]
    assert link.verdict == "refuted", link.reason
    shown = re.search(r"the sides are (\S+) and (\S+) at (.*)$", link.reason)
    assert shown, link.reason
    point = dict(part.split(" = ") for part in shown.group(3).split(", "))
    true = oracle(torch, point)
    left, right = float(shown.group(1)), float(shown.group(2))
    assert left == pytest.approx(true, rel=1e-9)
    assert right == pytest.approx(2 * true, rel=1e-9)


def test_a_polynomial_slip_is_refuted_with_both_sides_shown(tmp_path):
    ((link,),) = [links(tmp_path, VECTOR, r"\frac{\partial}{\partial x_{1}} x_{1}^{2} = x_{1}")]
    assert link.verdict == "refuted" and link.reason.endswith("the sides are 2*x_{1} and x_{1}")


UNDECIDED = [
    # true wherever both sides are defined, through relations the canonical form does not hold
    r"\sqrt{x_{1}}\sqrt{x_{2}} = \sqrt{x_{1} x_{2}}",
    r"\log(x_{1} x_{2}) = \log x_{1} + \log x_{2}",
    r"\log\left(x_{1}^{2}\right) = 2 \log x_{1}",
]


@pytest.mark.parametrize("formula", UNDECIDED)
def test_a_relation_the_exact_form_cannot_see_is_undecided_never_proven_or_refuted(tmp_path, formula):
    ((link,),) = [links(tmp_path, VECTOR, formula)]
    assert link.verdict == "unchecked" and link.reason.startswith("undecided: the exact form"), link.reason


@pytest.mark.parametrize(
    "denominator",
    [
        r"\log\left(e^{x_{1}}\right) - x_{1}",
        r"\frac{1}{\sqrt{x_{1}} + 1} - \frac{\sqrt{x_{1}} - 1}{x_{1} - 1}",
    ],
)
def test_a_denominator_zero_by_the_exact_engine_leaves_the_line_undefined_never_proven(tmp_path, denominator):
    # SymPy's expansion sees neither as zero; the engine that decides the lines does
    ((link,),) = [links(tmp_path, VECTOR, rf"\frac{{x_{{1}}}}{{{denominator}}} = \frac{{x_{{1}}}}{{{denominator}}}")]
    assert link.verdict == "unchecked" and "identically zero" in link.reason, link.reason


def test_a_line_over_the_budget_of_term_products_is_too_large(tmp_path):
    # (x1 + x2 + 1)^300 has 45,451 terms, under the estimate's limit; writing it out takes more
    # than 10^6 term products
    line = r"(x_{1} + x_{2} + 1)^{300} = (x_{2} + x_{1} + 1)^{300} + 1"
    ((link,),) = [links(tmp_path, VECTOR, line)]
    assert link.verdict == "unchecked" and "too large" in link.reason and "term products" in link.reason, link.reason


def test_exponentials_are_the_same_atoms_on_both_sides():
    x1, x2 = sympy.symbols("x_{1} x_{2}")
    line = X.Line(sympy.exp(x1) * sympy.exp(x2 / 2) ** 3, sympy.exp(x1 + sympy.Rational(3, 2) * x2))
    assert line.difference == {}
    exps = [v for v in range(len(line.graph.registry.names)) if "exp" in line.graph.registry.names[v]]
    assert len(exps) == 2  # e^{x_1} and e^{x_2/2}, each made once


# --- a corrupted converter no longer proves a true line ---------------------------------------


def _dropping_a_term(original):
    def convert(self, e):
        if e.is_Add:
            return poly.add(*(self.of(t) for t in e.args[:-1]))
        return original(self, e)

    return convert


def _fresh_atoms(original):
    """Every exponential a new atom: the two sides no longer share e^{x}."""

    def exponential(self, argument):
        name = f"e{len(self.graph.registry.names)}"
        return poly.var(self.graph.registry.new(name))

    return exponential


def _whole_exponents(original):
    """An exponent kept whole: e^{a} e^{b} and e^{a + b} are different atoms."""

    def terms(self, argument):
        return [(1, argument)]

    return terms


def _own_roots(original):
    """Each power its own root: u^(1/2) and u^(1/3) are no longer powers of one u^(1/6)."""

    def root(self, base, exponent):
        self._root_scale[base] = exponent.denominator
        return original(self, base, exponent)

    return root


MUTATIONS = [
    ("_convert", _dropping_a_term, SIGMOID, r"\frac{\partial z_{1}}{\partial x_{1}} = z_{1}(1 - z_{1})"),
    ("_convert", _dropping_a_term, SOFTMAX, r"L = -x_{1} + \log \sum_{k=1}^{n} e^{x_{k}}"),
    ("_exponential", _fresh_atoms, SOFTMAX, r"\frac{\partial s_{i}}{\partial x_{i}} = s_{i}(1 - s_{i})"),
    ("_terms", _whole_exponents, VECTOR, r"e^{x_{1}} e^{x_{2}} = e^{x_{1} + x_{2}}"),
    ("_root", _own_roots, VECTOR, ROOTS),
]


MUTATION_IDS = ["drop-term", "drop-term-log", "fresh-exp", "whole-exponent", "own-roots"]


@pytest.mark.parametrize("target, corrupt, declarations, formula", MUTATIONS, ids=MUTATION_IDS)
def test_a_corrupted_converter_fails_to_prove_a_true_line(
    tmp_path, monkeypatch, target, corrupt, declarations, formula
):
    assert all(link.verdict == "proven" for link in links(tmp_path, declarations, formula))
    monkeypatch.setattr(X.Line, target, corrupt(getattr(X.Line, target)))
    verdicts = [link.verdict for link in links(tmp_path, declarations, formula)]
    assert not all(verdict == "proven" for verdict in verdicts), verdicts
