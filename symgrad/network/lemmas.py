"""The scalar lemmas behind non-polynomial layers.

A non-polynomial layer introduces a variable per entry, an *atom*, whose value is a scalar function
of one other variable: s = σ(z), e = exp(z), r = 1/v. What makes the chain rule exact is that each
such function's derivative is a polynomial in variables the graph already has: ds/dz = s(1 − s),
de/dz = e, dr/dv = −r². A lemma states that identity once, for a scalar, and the prover checks it
with SymPy (``symgrad.prove.lemmas``); every use of the atom then only applies it.

Some derivatives need the reciprocal of another variable (d log v / dv = 1/v): the atom then has a
helper, another atom, named in ``needs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..core import poly
from ..core.errors import SymgradError


@dataclass(frozen=True)
class Lemma:
    name: str  # as the atom is called: "sigmoid", "exp", ...
    function: Callable  # the SymPy function of the argument: u -> f(u), for the proof
    # the derivative as a SymPy formula in the atom's value a, the argument u, the helper h and the
    # parameter p; the lemma is d f(u)/du == derivative(f(u), u, helper(u), p)
    derivative: Callable
    statement: str  # the lemma as a document states it, in LaTeX (a = the atom, u = its argument)
    needs: str | None = None  # "inverse of argument" or "inverse of value": the helper atom
    helper: Callable | None = None  # u, f(u) -> the helper's value, for the proof
    convention: str = ""  # what the lemma assumes, said in the document
    # the assumptions on u under which the lemma holds: its domain, stated in the certificate
    assumptions: tuple = (("real", True),)

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


LEMMAS: dict[str, Lemma] = {}


def register(lemma: Lemma) -> None:
    LEMMAS[lemma.name] = lemma


for _lemma in (
    Lemma("exp", sympy.exp, lambda a, u, h, p: a, r"\frac{d}{du} e^{u} = e^{u}"),
    Lemma(
        "inverse",
        lambda u: 1 / u,
        lambda a, u, h, p: -(a**2),
        r"\frac{d}{du} \frac{1}{u} = -\left(\frac{1}{u}\right)^{2}",
        assumptions=(("real", True), ("nonzero", True)),
    ),
    Lemma(
        "log",
        sympy.log,
        lambda a, u, h, p: h,
        r"\frac{d}{du} \log u = \frac{1}{u}",
        needs="inverse of argument",
        helper=lambda u, value: 1 / u,
        assumptions=(("positive", True),),
    ),
    Lemma(
        "sqrt",
        sympy.sqrt,
        lambda a, u, h, p: h / 2,
        r"\frac{d}{du} \sqrt{u} = \frac{1}{2 \sqrt{u}}",
        needs="inverse of value",
        helper=lambda u, value: 1 / value,
        assumptions=(("positive", True),),
    ),
    Lemma(
        "power",
        lambda u, p=None: u ** sympy.Symbol("p"),
        lambda a, u, h, p: p * a * h,
        r"\frac{d}{du} u^{p} = p\, u^{p} \cdot \frac{1}{u}",
        needs="inverse of argument",
        helper=lambda u, value: 1 / u,
        # u^p for a fractional p is real only for u > 0, and the rule divides by u
        assumptions=(("positive", True),),
    ),
    Lemma(
        "sigmoid",
        lambda u: 1 / (1 + sympy.exp(-u)),
        lambda a, u, h, p: a * (1 - a),
        r"\frac{d}{du} \sigma(u) = \sigma(u)\,\bigl(1 - \sigma(u)\bigr)",
    ),
    Lemma("tanh", sympy.tanh, lambda a, u, h, p: 1 - a**2, r"\frac{d}{du} \tanh u = 1 - \tanh^{2} u"),
    Lemma(
        "step",
        lambda u: sympy.Heaviside(u, 0),
        lambda a, u, h, p: 0,
        r"\frac{d}{du} H(u) = 0 \quad (u \ne 0)",
        convention="the step H(u) is 1 for u > 0 and 0 otherwise, and its derivative is taken as 0 "
        "everywhere, at u = 0 too, as PyTorch does for relu and leaky_relu",
    ),
):
    register(_lemma)
