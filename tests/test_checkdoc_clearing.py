"""check-doc's reciprocals cleared on FLINT's polynomials (``checkdoc.clearing``) give
``rational.vanishes``'s answer in every case, at every budget: true lines vanish, a line with a
changed coefficient does not, a denominator that is zero as a function is never cleared, and a
corrupted clearing step no longer agrees with the dict path. Without FLINT, the dict path answers."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy

from symgrad.checkdoc import clearing
from symgrad.checkdoc import exact as X
from symgrad.core import poly
from symgrad.prove import rational
from symgrad.prove.claim.atoms import atom_of

pytest.importorskip("flint")

a, b, c, x, y = sympy.symbols("a b c x y", positive=True)
MEAN = (a + b + c) / 3
VARIANCE = ((a - MEAN) ** 2 + (b - MEAN) ** 2 + (c - MEAN) ** 2) / 3
# each a pair of sides; the comment says whether they are equal wherever both are defined
LINES = [
    (a / (a + b) + b / (a + b), sympy.Integer(1)),  # equal: one reciprocal cleared
    (a / (a + b) + b / (a + b), sympy.Integer(2)),  # unequal
    (sympy.exp(a) / (sympy.exp(a) + sympy.exp(b)), 1 / (1 + sympy.exp(b - a))),  # equal: softmax of two
    (sympy.exp(a) / (sympy.exp(a) + sympy.exp(b)), 1 / (1 + sympy.exp(a - b))),  # unequal: the sign slipped
    (sympy.sqrt(x**2 + y**2) ** 3, (x**2 + y**2) * sympy.sqrt(x**2 + y**2)),  # equal: a root's square read
    ((x**2 + 1) ** sympy.Rational(1, 3) * (x**2 + 1) ** sympy.Rational(2, 3), x**2 + 1),  # equal: cube roots
    ((x**2 + 1) ** sympy.Rational(1, 3) * (x**2 + 1) ** sympy.Rational(1, 3), x**2 + 1),  # unequal
    (1 / (1 + 1 / x), x / (x + 1)),  # equal: a reciprocal inside a reciprocal
    # BatchNorm: the squares of a channel's normalised entries sum to its size, and a slip of it
    (sum(((v - MEAN) / sympy.sqrt(VARIANCE)) ** 2 for v in (a, b, c)), sympy.Integer(3)),
    (sum(((v - MEAN) / sympy.sqrt(VARIANCE)) ** 2 for v in (a, b, c)), sympy.Integer(2)),
    (sympy.Mul(x + y, 1 / (x + y), evaluate=False), sympy.Integer(1)),  # equal where x + y is nonzero
]
BUDGETS = (0, 5, 40, 200, 1_000, 10_000, X.MAX_PRODUCTS)


def answers(graph, p, vanish) -> list:
    return [vanish(graph, p, limit) for limit in BUDGETS]


@pytest.mark.parametrize("left, right", LINES)
def test_clearing_on_flint_answers_as_rational_vanishes_at_every_budget(left, right):
    line = X.Line(left, right)
    expected = answers(line.graph, line.difference, rational.vanishes)
    assert answers(line.graph, line.difference, clearing.vanishes) == expected


def vanish(left, right, vanishes=clearing.vanishes) -> bool:
    line = X.Line(left, right)
    return vanishes(line.graph, line.difference, X.MAX_PRODUCTS)


def test_the_true_lines_vanish_and_the_slips_do_not():
    found = [vanish(left, right) for left, right in LINES]
    # written out by hand from the comments above, not computed by either path
    assert found == [True, False, True, False, True, True, False, True, True, False, True]


def test_a_changed_coefficient_is_never_cleared_to_zero():
    for left, right in LINES:
        line = X.Line(left, right)
        if not line.difference:
            continue
        mono = min(line.difference)
        changed = dict(line.difference)
        changed[mono] = changed[mono] + Fraction(1, 7)
        changed = {m: k for m, k in changed.items() if k}
        assert clearing.vanishes(line.graph, changed, 10**6) is False


def test_a_denominator_zero_as_a_function_is_not_cleared():
    # 1 / (r·(x + 1) - 1) with r = 1/(x + 1): the denominator is the zero function, though not the
    # zero polynomial, so nothing is proven where the line is defined nowhere
    line = X.Line(x, sympy.Integer(0))
    g = line.graph
    (vx,) = poly.variables(line.difference)
    r = atom_of(g, "inverse", poly.add(poly.var(vx), poly.const(1)))
    denominator = poly.add(poly.mul(r, poly.add(poly.var(vx), poly.const(1))), poly.const(-1))
    inverse = atom_of(g, "inverse", denominator)
    zero_over_zero = poly.mul(inverse, denominator)  # "1" only where the denominator is nonzero: nowhere
    p = poly.add(zero_over_zero, poly.const(-1))
    assert rational.vanishes(g, p, 10**6) is False
    assert clearing.vanishes(g, p, 10**6) is False


def test_a_corrupted_clearing_step_is_caught(monkeypatch):
    """The mutant forgets the power of the argument a term's reciprocal is traded for: the true
    lines then no longer all vanish, and the comparison with the dict path shows it."""

    def forgetful(self, p, r, argument):
        return sum(self._by_power(p, r), self.ctx.constant(0))

    monkeypatch.setattr(clearing._Clearing, "_clear", forgetful)
    differ = [(left, right) for left, right in LINES if vanish(left, right) != vanish(left, right, rational.vanishes)]
    assert differ


def test_without_flint_the_dict_path_answers(monkeypatch):
    monkeypatch.setattr(clearing, "flint", None)
    called = []
    real = rational.vanishes
    monkeypatch.setattr(rational, "vanishes", lambda *args: called.append(args) or real(*args))
    line = X.Line(*LINES[0])
    assert clearing.vanishes(line.graph, line.difference, 10**6) is True
    assert called
