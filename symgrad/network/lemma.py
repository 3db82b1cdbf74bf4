"""A lemma: the scalar identity behind an atom (s = σ(z), e = exp(z), r = 1/v), whose derivative
is a polynomial in variables the graph already has (ds/dz = s(1 − s)). A unit states the lemmas of
the atoms it introduces; the two the graph makes itself, a reciprocal and a relu's step, are here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy

from ..core import poly
from ..core.errors import SymgradError


@dataclass(frozen=True)
class Lemma:
    """The scalar lemma behind an atom: its function and derivative, proven once by SymPy
    (``symgrad.prove.network``), then applied at every entry by the chain rule."""

    name: str  # as the atom is called: "sigmoid", "exp", ...
    # the function the proof differentiates, in SymPy: (u, p) -> f(u), p being the atom's parameter
    # as a symbol (a lemma without a parameter ignores it)
    function: Callable
    # the derivative as a SymPy formula in the atom's value a, the argument u, the helper h and the
    # parameter p; the lemma is d f(u)/du == derivative(f(u), u, helper(u), p)
    derivative: Callable
    statement: str  # the lemma as a document states it, in LaTeX (a = the atom, u = its argument)
    needs: str | None = None  # "inverse of argument" or "inverse of value": the helper atom
    helper: Callable | None = None  # u, f(u) -> the helper's value, for the proof
    convention: str = ""  # what the lemma assumes, said in the document
    # the assumptions on u under which the lemma holds: its domain, stated in the certificate
    assumptions: tuple = (("real", True),)
    # the value at an mpmath number x, given the atom's parameter and how close to a point where
    # the function is undefined or jumps counts as there (tiny): None there
    numeric: Callable | None = None
    # the entry's definition as a document writes it, from the argument's symbol and the parameter
    written: Callable | None = None
    # a function that grows past any number mpmath holds (e^x): not evaluated at a huge argument
    grows: bool = False
    # for a lemma with a parameter, the value of p at which the proof looks for a refutation
    parameter_point: Fraction | None = None

    def variable(self) -> sympy.Symbol:
        """The scalar u with exactly the lemma's assumptions: its proof holds on the whole domain."""
        return sympy.Symbol("u", **dict(self.assumptions))

    def domain(self) -> sympy.Basic:
        """Where the lemma holds, as a condition on u to print: u > 0, u ≠ 0 or u ∈ ℝ."""
        assumed, u = self.variable(), sympy.Symbol("u")  # a plain u, so the condition stays unevaluated
        if assumed.is_positive:
            return sympy.Gt(u, 0)
        if assumed.is_nonzero:
            return sympy.Ne(u, 0)
        return sympy.Contains(u, sympy.Reals, evaluate=False)

    def value(self, x, parameter, digits: int):
        """The atom's value at x (an mpmath number at ``digits`` digits), or None where it is
        undefined or too close to a jump to tell."""
        if self.numeric is None:
            raise SymgradError(f"the {self.name} lemma has no numeric evaluation")
        return self.numeric(x, parameter, mpmath.mpf(10) ** -(digits // 2))

    def shown(self, argument: sympy.Expr, parameter) -> sympy.Expr:
        """f(argument) as a document writes the entry's definition."""
        if self.written is not None:
            return self.written(argument, parameter)
        return sympy.Function(self.name)(argument)

    def local_partial(self, atom: int, argument: int, helper: int | None, parameter) -> poly.Poly:
        """d atom / d argument as a polynomial in the graph's variables."""
        roles = {0: atom, 1: argument, 2: helper}
        out: poly.Poly = {}
        for mono, c in self._template(parameter).items():
            if any(roles[r] is None for r in mono):
                raise SymgradError(f"the {self.name} lemma needs a helper variable the atom does not have")
            poly.add_into(out, {tuple(sorted(roles[r] for r in mono)): c})
        return out

    def _template(self, parameter) -> poly.Poly:
        """The derivative as a polynomial in the roles 0 (the atom), 1 (its argument) and 2 (the
        helper), worked out by SymPy once per lemma and parameter: the chain rule applies it to
        every entry."""
        key = (self, parameter)  # the lemma itself, so that a replaced lemma is worked out anew
        if key not in _TEMPLATES:
            a, u = sympy.Symbol("a"), sympy.Symbol("u")
            h, p = sympy.Symbol("h"), sympy.Symbol("p")
            formula = sympy.expand(self.derivative(a, u, h, p if parameter is None else sympy.Rational(parameter)))
            _TEMPLATES[key] = _to_poly(formula, {a: 0, u: 1, h: 2})
        return _TEMPLATES[key]


_TEMPLATES: dict[tuple, poly.Poly] = {}  # (lemma, parameter) -> its derivative over the roles


def _to_poly(expr: sympy.Expr, ids: dict) -> poly.Poly:
    out: poly.Poly = {}
    for term in sympy.Add.make_args(expr):
        coeff, factors = term.as_coeff_mul()
        mono: list = []
        for f in factors:
            base, exp = f.as_base_exp()
            if base not in ids or ids[base] is None or not exp.is_Integer or exp < 0:
                raise SymgradError(f"a lemma's derivative must be a polynomial in its variables, got {expr}")
            mono += [ids[base]] * int(exp)
        poly.add_into(out, {tuple(sorted(mono)): poly._tidy(Fraction(int(coeff.p), int(coeff.q)))})
    return out


INVERSE = Lemma(
    "inverse",
    lambda u, p: 1 / u,
    lambda a, u, h, p: -(a**2),
    r"\frac{d}{du} \frac{1}{u} = -\left(\frac{1}{u}\right)^{2}",
    assumptions=(("real", True), ("nonzero", True)),
    numeric=lambda x, p, tiny: None if abs(x) < tiny else 1 / x,
    written=lambda argument, p: sympy.Pow(argument, -1, evaluate=False),
)

STEP = Lemma(
    "step",
    # the step away from 0, where it is constant (the convention covers 0): SymPy differentiates a
    # Heaviside into a DiracDelta, and a Piecewise into its pieces' derivatives
    lambda u, p: sympy.Piecewise((1, u > 0), (0, True)),
    lambda a, u, h, p: 0,
    r"\frac{d}{du} H(u) = 0 \quad (u \ne 0)",
    convention="the step H(u) is 1 for u > 0 and 0 otherwise, and its derivative is taken as 0 "
    "everywhere, at u = 0 too, as PyTorch does for relu and leaky_relu",
    numeric=lambda x, p, tiny: None if abs(x) < tiny else mpmath.mpf(1 if x > 0 else 0),
    written=lambda argument, p: sympy.Function("H")(argument),
)
