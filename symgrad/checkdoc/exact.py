"""The two sides of a hand-written line as polynomials over one graph, so that the prover's own
engine decides whether they are equal.

Each entry (x_{1}) is a free variable of a fresh ``Graph``; each exponential, logarithm, root,
fractional power and reciprocal is an atom made by the claim prover's ``atom_of``, so that an
atom of an equal argument is the same variable on both sides. A difference that is zero as a
polynomial, or that vanishes once its reciprocals are cleared and its roots' powers read
(``rational.vanishes``), is zero wherever both sides are defined.

Atoms are independent variables to a polynomial, so relations between them are invisible unless
the form is made canonical. Four are, each an identity wherever the written formula is defined
(every symbol is real), applied the same way to both sides:

- an exponential exp(c_1 m_1 + ... + c_k m_k), its argument expanded into monomials m_i with
  rational coefficients c_i, is the product of exp(m_i / D_i) to the powers c_i D_i, D_i being
  the least common denominator of the coefficients m_i has in any exponential of the line: so
  e^{a} e^{b} = e^{a + b} and (e^{x/3})^3 = e^{x} are seen;
- a root u^(n/q) is (u^(1/D))^(nD/q), D the least common denominator of u's exponents in the
  line (u is positive wherever the line is defined): so √u · u^(1/3) = u^(5/6) is seen;
- a power with a variable exponent is an exponential, u^y = e^(y log u), and
- a logarithm's factors known positive from their form (exponentials, positive numbers, sums and
  products of those, their powers) are taken out: log(e^{a} R) = a + log R, log(4) = 2 log 2,
  log(S^{-1} R) = -log S + log R; the factors left are one logarithm's argument.

Anything else (a function not listed, a number that is not rational) is not represented, and the line is
left to the points. The work is counted in term products before it is done, and refused past
the budget.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import sympy

from ..core import poly
from ..core.errors import SymgradError
from ..network.graph import Graph
from ..network.values import atom_at
from ..prove.claim.atoms import atom_of
from .clearing import vanishes

MAX_PRODUCTS = 10**6  # term products converting one line, and again deciding it (``vanishes``)
MAX_POWER = 10_000  # the largest power of one atom written out (e^{197x/231} is (e^{x/231})^197)
MAX_FACTORED = 10**12  # a logarithm's rational argument is split into primes below this


def free_symbols(expr) -> frozenset:
    """expr.free_symbols, kept: SymPy walks the whole expression each time it is asked, and a
    line's sides, its conditions and its named quantities are asked about again and again. A
    matrix, which cannot be kept (it is mutable), is walked each time."""
    if isinstance(expr, sympy.MatrixBase):
        return frozenset(expr.free_symbols)
    return _free_symbols(expr)


@functools.lru_cache(maxsize=8192)
def _free_symbols(expr) -> frozenset:
    return frozenset(expr.free_symbols)


class Unrepresentable(Exception):
    """A construct the polynomial form does not hold: the line is left to the points."""


class OverBudget(Exception):
    """Conversion past its budget of term products."""


class ZeroDenominator(Exception):
    """A denominator that is the zero polynomial: the line is defined nowhere."""


class Line:
    """Both sides of one line over one graph: ``difference`` is left minus right, a polynomial
    in the entries and the atoms."""

    def __init__(self, a: sympy.Expr, b: sympy.Expr, limit: int = MAX_PRODUCTS) -> None:
        self.graph = Graph()
        self.limit, self.spent = limit, 0
        self._polys: dict = {}  # SymPy expression -> its polynomial
        self._expanded: dict = {}  # an exponential's argument -> [(coefficient, monomial)]
        self._exp_scale: dict = {}  # monomial of an exponent -> the least common denominator D
        self._root_scale: dict = {}  # base of a fractional power -> the least common denominator D
        self._opaque: dict = {}  # (function, its argument's polynomial) -> a variable standing for it
        try:
            # the entries first, so that no atom's name can take one of theirs
            for s in sorted(free_symbols(a) | free_symbols(b), key=lambda s: s.name):
                self.graph.registry.new(s.name)
            self._entries = len(self.graph.registry.names)
            for side in (a, b):
                self._scan(side)
            self.difference = poly.add(self.of(a), poly.scale(self.of(b), -1))
        except RecursionError:
            raise Unrepresentable("nested too deeply") from None
        except SymgradError as exc:  # an atom the prover refuses (a root of a negative number)
            raise Unrepresentable(str(exc)) from None

    def has_atoms(self) -> bool:
        """Whether any atom was made: without one, both sides are polynomials in the entries and
        their difference is exact expansion, nothing more."""
        return len(self.graph.registry.names) > self._entries

    def polynomial(self) -> bool:
        """Whether the difference is a polynomial in the entries alone, no atom in it: then it is
        zero exactly when it is the zero polynomial."""
        opaque = set(self._opaque.values())
        return all(atom_at(self.graph, v) is None and v not in opaque for v in poly.variables(self.difference))

    def vanishes(self) -> bool:
        """Whether the difference is zero wherever it is defined (``rational.vanishes``, on FLINT's
        polynomials where it is installed: ``clearing``)."""
        return not self.difference or vanishes(self.graph, self.difference, self.limit)

    # --- the budget ------------------------------------------------------------------------------

    def _spend(self, products: int) -> None:
        self.spent += products
        if self.spent > self.limit:
            raise OverBudget(f"written out it takes more than check-doc's limit of {self.limit:,} term products")

    def _mul(self, p: poly.Poly, q: poly.Poly) -> poly.Poly:
        self._spend(len(p) * len(q))
        return poly.mul(p, q)

    def _power(self, p: poly.Poly, n: int) -> poly.Poly:
        """p**n for n >= 0, by squaring."""
        if len(p) == 1:  # a single term: its monomial repeated, no products to make
            ((mono, c),) = p.items()
            if n > MAX_POWER:
                raise OverBudget(f"a power of {n:,}, over check-doc's limit of {MAX_POWER:,}")
            return poly.scale({tuple(sorted(mono * n)): 1}, Fraction(c) ** n)
        out: poly.Poly = poly.const(1)
        square = p
        while n:
            if n & 1:
                out = self._mul(out, square)
            n >>= 1
            if n:
                square = self._mul(square, square)
        return out

    def _raised(self, p: poly.Poly, n: int) -> poly.Poly:
        """p**n for any whole n: a negative power is the reciprocal's."""
        return self._power(p, n) if n >= 0 else self._power(self._reciprocal(p), -n)

    # --- the scan: every exponent's monomials and every root's base, before any atom is made --

    def _scan(self, expr: sympy.Expr) -> None:
        seen: set = set()
        stack = [expr]
        while stack:
            e = stack.pop()
            if e in seen:
                continue
            seen.add(e)
            argument = _exponent(e)
            if argument is not None:
                for c, m in self._terms(argument):
                    self._exp_scale[m] = math.lcm(self._exp_scale.get(m, 1), c.denominator)
                    stack.append(m)
                continue
            if e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer:
                self._root_scale[e.base] = math.lcm(self._root_scale.get(e.base, 1), int(e.exp.q))
            stack.extend(e.args)

    def _terms(self, argument: sympy.Expr) -> list:
        """An exponent expanded: (rational coefficient, monomial) pairs, the constant's monomial 1."""
        if argument not in self._expanded:
            estimate = estimate_terms(argument)
            if estimate > MAX_TERMS:
                raise OverBudget(f"an exponent expands to about {estimate:,} terms, over the limit of {MAX_TERMS:,}")
            out = []
            for term in sympy.Add.make_args(sympy.expand(argument)):
                c, m = term.as_coeff_Mul()
                if not c.is_Rational:
                    raise Unrepresentable(f"the coefficient {c}")
                out.append((Fraction(int(c.p), int(c.q)), m))
            self._expanded[argument] = out
        return self._expanded[argument]

    # --- conversion ------------------------------------------------------------------------------

    def of(self, e: sympy.Expr) -> poly.Poly:
        if e not in self._polys:
            self._polys[e] = self._convert(e)
        return self._polys[e]

    def _convert(self, e: sympy.Expr) -> poly.Poly:
        if e.is_Rational:
            return poly.const(Fraction(int(e.p), int(e.q)))
        if e.is_Symbol:
            return poly.var(self.graph.registry.ids[e.name])
        argument = _exponent(e)
        if argument is not None:
            return self._exponential(argument)
        if e.is_Add:
            return poly.add(*(self.of(t) for t in e.args))
        if e.is_Mul:
            out = poly.const(1)
            for f in e.args:
                out = self._mul(out, self.of(f))
            return out
        if e.is_Pow and e.exp.is_Integer:
            return self._raised(self.of(e.base), int(e.exp))
        if e.is_Pow and e.exp.is_Rational:
            return self._root(e.base, Fraction(int(e.exp.p), int(e.exp.q)))
        if isinstance(e, sympy.log) and len(e.args) == 1:
            return self._log(e.args[0])
        if isinstance(e, (sympy.sin, sympy.cos)):
            return self._function(type(e).__name__, e.args[0])
        raise Unrepresentable(f"{type(e).__name__}")

    def _function(self, name: str, argument: sympy.Expr) -> poly.Poly:
        """sin(u), cos(u): a variable of its own for each argument (as a polynomial), with no
        relation to any other (sin² + cos² = 1 is not seen): an identity found holds whatever the
        values, so for theirs; a difference found proves nothing (``polynomial`` says so)."""
        key = (name, tuple(sorted(self.of(argument).items())))
        if key not in self._opaque:
            self._opaque[key] = self.graph.registry.new(f"\\{name}\\left({len(self._opaque)}\\right)")
        return poly.var(self._opaque[key])

    def _exponential(self, argument: sympy.Expr) -> poly.Poly:
        out = poly.const(1)
        for c, m in self._terms(argument):
            scale = math.lcm(self._exp_scale.get(m, 1), c.denominator)  # the scan has seen it
            unit = atom_of(self.graph, "exp", poly.scale(self.of(m), Fraction(1, scale)))
            out = self._mul(out, self._raised(unit, int(c * scale)))
        return out

    def _root(self, base: sympy.Expr, exponent: Fraction) -> poly.Poly:
        scale = math.lcm(self._root_scale.get(base, 1), exponent.denominator)
        inside = self.of(base)
        if scale == 2:  # a square root, as the claim prover makes it
            unit = atom_of(self.graph, "sqrt", inside)
        else:
            unit = atom_of(self.graph, "power", inside, Fraction(1, scale))
        return self._raised(unit, int(exponent * scale))

    def _reciprocal(self, p: poly.Poly) -> poly.Poly:
        """1/p: a number's inverse, a product of the inverses of a single term's variables, or
        the reciprocal atom of p over its first coefficient (1/(2x + 2y) is 1/2 · 1/(x + y))."""
        if not p:
            raise ZeroDenominator
        if len(p) == 1:
            ((mono, c),) = p.items()
            out = poly.const(1 / Fraction(c))
            for v in mono:
                out = self._mul(out, atom_of(self.graph, "inverse", poly.var(v)))
            return out
        first = p[min(p)]
        return poly.scale(atom_of(self.graph, "inverse", poly.scale(p, 1 / Fraction(first))), 1 / Fraction(first))

    def _log(self, argument: sympy.Expr) -> poly.Poly:
        """log of a positive argument: its factors known positive taken out, one by one (each is
        positive, so what is left is positive too), and one atom for what is left."""
        out: poly.Poly = {}
        rest = []
        for f in sympy.Mul.make_args(argument):
            power = _exponent(f)
            if power is not None:
                poly.add_into(out, self.of(power))
            elif f.is_Rational and f > 0:
                poly.add_into(out, self._log_number(Fraction(int(f.p), int(f.q))))
            elif f.is_Pow and f.exp.is_Rational and _positive(f.base):
                poly.add_into(out, poly.scale(self._log(f.base), Fraction(int(f.exp.p), int(f.exp.q))))
            elif _positive(f):  # a sum of positive terms: a logarithm of its own
                poly.add_into(out, atom_of(self.graph, "log", self.of(f)))
            else:
                rest.append(f)
        if rest:
            inside = self.of(sympy.Mul(*rest))
            if not inside:
                raise ZeroDenominator  # log 0: defined nowhere, as a zero denominator
            poly.add_into(out, atom_of(self.graph, "log", inside))
        return out

    def _log_number(self, c: Fraction) -> poly.Poly:
        """log c for a positive rational: a sum of logarithms of primes when c is small enough to
        factor, else the logarithm of c itself."""
        if c == 1:
            return {}
        if max(c.numerator, c.denominator) >= MAX_FACTORED:
            return atom_of(self.graph, "log", poly.const(c))
        out: poly.Poly = {}
        for n, sign in ((c.numerator, 1), (c.denominator, -1)):
            for prime, k in sympy.factorint(n).items():
                poly.add_into(out, poly.scale(atom_of(self.graph, "log", poly.const(prime)), sign * k))
        return out


def _exponent(e: sympy.Expr) -> sympy.Expr | None:
    """x when e is e^x, in any of SymPy's spellings (exp(x), E, E**x, exp(a)**y = e^(a y)), and
    for a power with a variable exponent, u^y = e^(y log u) (check-doc requires u positive)."""
    if isinstance(e, sympy.exp):
        return e.args[0]
    if e is sympy.E:
        return sympy.Integer(1)
    if e.is_Pow:
        if e.base is sympy.E:
            return e.exp
        if isinstance(e.base, sympy.exp):
            return e.exp * e.base.args[0]
        if not e.exp.is_Rational:
            return e.exp * sympy.log(e.base)
    return None


def _positive(e: sympy.Expr) -> bool:
    """Positive wherever it is defined, by its form alone: an exponential, a positive number, a
    sum or product of such, or a power of one."""
    if _exponent(e) is not None:
        return True
    if e.is_Rational:
        return bool(e > 0)
    if e.is_Add or e.is_Mul:
        return all(_positive(a) for a in e.args)
    if e.is_Pow:
        return bool(e.exp.is_Rational) and _positive(e.base)
    return False


MAX_TERMS = 100_000  # terms of one expansion, estimated before SymPy expands anything


def estimate_terms(expr) -> int:
    """An upper estimate of the number of terms of expr expanded: a sum of t terms to the power
    n has at most C(n + t - 1, t - 1) of them (the multinomial count)."""
    if isinstance(expr, sympy.MatrixBase):
        return sum(estimate_terms(e) for e in expr)
    return _estimate(expr)


@functools.lru_cache(maxsize=8192)
def _estimate(expr) -> int:
    """estimate_terms of a scalar, kept: the subexpressions of a line (a variance written out)
    recur in every line and at every index value."""
    if expr.is_Add:
        return sum(estimate_terms(a) for a in expr.args)
    if expr.is_Mul:
        out = 1
        for a in expr.args:
            out *= estimate_terms(a)
            if out > MAX_TERMS:
                return out
        return out
    if expr.is_Pow and expr.exp.is_Integer:
        t = estimate_terms(expr.base)
        return t if t <= 1 or t > MAX_TERMS else math.comb(abs(int(expr.exp)) + t - 1, t - 1)
    inner = max((estimate_terms(a) for a in expr.args), default=1)  # a function's argument is expanded too
    return inner if inner > MAX_TERMS else 1
