"""Index notation for general sizes: symbols, matrix entries, canonical forms, sifting, and
instantiation at concrete sizes.

The general derivation's steps are SymPy expressions over Indexed entries (a[i, t]), Kronecker
deltas and finite Sums with symbolic bounds. Two things check them:

- ``canon`` and ``sift``: SymPy, used only where it is sound (differentiating an Indexed summand,
  evaluating a Sum of a Kronecker delta, expanding an entry of a matrix product); SymPy is never
  asked to differentiate a Sum or a matrix element with respect to a matrix (SymPy issue 17229);
- ``Instantiate``: a step evaluated at concrete sizes and indices, as an exact polynomial in the
  concrete derivation's variables, so it can be compared with the element-wise engine.
"""

from __future__ import annotations

import sympy
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.matexpr import MatrixElement

from ..chain.notation import Entry, upstream_base
from ..core import poly
from ..core.errors import SymgradError
from .evaluate import Meaning


def entry_to_indexed(expr, bases: dict):
    """Replace SymPy's 0-based MatrixElement and our 1-based Entry by Indexed entries."""

    def element(e):
        if isinstance(e, MatrixElement):
            return _entry(e.parent, e.i + 1, e.j + 1, bases)
        return e

    def entry(e):
        return _entry(e.args[0], e.args[1], e.args[2], bases)

    expr = expr.replace(lambda e: isinstance(e, Entry), entry)
    return expr.replace(lambda e: isinstance(e, MatrixElement), element)


def _entry(matrix, row, col, bases):
    if isinstance(matrix, sympy.MatrixSymbol):
        return bases[matrix.name][row, col]
    if isinstance(matrix, sympy.Transpose):
        return _entry(matrix.arg, col, row, bases)
    if isinstance(matrix, MatrixExpr):
        return entry_to_indexed(matrix[row - 1, col - 1], bases)  # SymPy's own expansion of the entry
    raise SymgradError(f"no entries for {matrix}")


def canon(expr, bases: dict):
    """A canonical form for comparing index expressions: Indexed entries, Sums re-based to start
    at 1 with one dummy per nesting depth, factors free of the dummy pulled out of each Sum."""
    expr = entry_to_indexed(sympy.sympify(expr), bases)
    return _canon(expr, 0)


def _canon(expr, depth):
    if isinstance(expr, sympy.Sum):
        # one dummy per nesting depth, outermost first, every range re-based to start at 1
        subs, limits = {}, []
        for r, (v, lo, hi) in enumerate(reversed(expr.limits)):
            w = sympy.Symbol(f"_s{depth + r}", integer=True)
            subs[v] = w + lo - 1
            limits.append((w, sympy.expand(hi - lo + 1)))
        body = sympy.expand(_canon(expr.function.xreplace(subs), depth + len(limits)))
        out = sympy.Integer(0)
        for term in sympy.Add.make_args(body):  # a Sum of a sum is the sum of the Sums
            coeff, rest = term.as_independent(*[w for w, _ in limits], as_Add=False)
            kept = []
            for w, count in limits:
                if rest.has(w):
                    kept.append((w, 1, count))
                else:
                    coeff *= count  # a term free of the dummy, summed count times
            out += coeff * (sympy.Sum(rest, *reversed(kept)) if kept else rest)
        return sympy.expand(out)
    if expr.args and not isinstance(expr, (sympy.Indexed, sympy.IndexedBase)):
        rebuilt = expr.func(*[_canon(a, depth) for a in expr.args])
        return sympy.expand(rebuilt) if isinstance(rebuilt, sympy.Expr) else rebuilt
    return expr


def nonnegative(relation):
    """e with relation ⇔ e ≥ 0, for the non-strict inequalities of index ranges."""
    if isinstance(relation, sympy.GreaterThan):
        return sympy.expand(relation.lhs - relation.rhs)
    if isinstance(relation, sympy.LessThan):
        return sympy.expand(relation.rhs - relation.lhs)
    raise SymgradError(f"unexpected condition {relation}")


def sift(expr, var, facts: set):
    """Σ_var δ(var, x) f = f at var = x: the sum over ``var`` evaluated by SymPy, whose condition
    (x within the sum's range) must follow from the index ranges in ``facts``. Other sums in
    ``expr`` are finite and exchange freely with this one, so they are kept around the result."""
    if not isinstance(expr, sympy.Sum):
        raise SymgradError(f"nothing to sift over {var} in {expr}")
    target = [lim for lim in expr.limits if lim[0] == var]
    others = [lim for lim in expr.limits if lim[0] != var]
    if not target:
        return sympy.Sum(sift(expr.function, var, facts), *others)
    done = sympy.Sum(expr.function, target[0]).doit()
    if isinstance(done, sympy.Piecewise):
        (value, condition), (otherwise, _) = done.args
        conditions = condition.args if isinstance(condition, sympy.And) else (condition,)
        if otherwise != 0 or not all(nonnegative(c) in facts for c in conditions):
            raise SymgradError(f"the sifting condition {condition} does not follow from the index ranges")
        done = value
    elif done.has(sympy.Sum) and done.has(var):
        raise SymgradError(f"SymPy could not sift over {var}")
    return sympy.Sum(done, *others) if others else done


def facts_of(ranges: dict) -> set:
    """Index ranges lo ≤ x ≤ hi as the expressions x − lo ≥ 0 and hi − x ≥ 0."""
    out = set()
    for x, (lo, hi) in ranges.items():
        out |= {sympy.expand(x - lo), sympy.expand(hi - x)}
    return out


class Instantiate:
    """Evaluate index expressions at concrete sizes and indices, as exact polynomials of the
    concrete derivation ``d`` (whose inputs are named as the general one's)."""

    def __init__(self, d, general) -> None:
        self.d = d
        self.reg = d.registry
        self.sizes = {general.sizes[name]: sympy.Integer(value) for name, value in d.sizes.items()}
        self.meaning = Meaning(d)
        letters = general.letters
        self.tensors = {
            letters[0]: d.input_tensors[general.input_names[0]],
            letters[1]: d.input_tensors[general.input_names[1]],
        }
        self.outputs = letters[2]
        self.upstream = str(upstream_base(letters[2]))
        self.general = general

        self.compiled: dict = {}

    def __call__(self, e, env: dict):
        """The exact polynomial of ``e`` at the index values ``env`` (index name -> int)."""
        return self.compile(e)(env)

    def compile(self, e):
        """``e`` as a function of the index values. Each step is evaluated at thousands of index
        values, so its SymPy tree is walked once, here, instead of at every one of them."""
        if e not in self.compiled:
            self.compiled[e] = self._compile(e)
        return self.compiled[e]

    def _compile(self, e):
        if e.is_Number:
            value = poly.const(poly.Fraction(int(e.p), int(e.q)))
            return lambda env: value
        if e in self.sizes:
            value = poly.const(self.sizes[e])
            return lambda env: value
        if isinstance(e, sympy.Indexed):
            entry = self.entry(e.base.label.name, e.indices)
            definition = self.meaning.definition

            def indexed(env):
                vid = entry(env)
                found = definition.get(vid)  # an output entry c_ij stands for its definition
                return poly.var(vid) if found is None else found

            return indexed
        if isinstance(e, sympy.KroneckerDelta):
            i, j = (self.index(a) for a in e.args)
            one, zero = poly.const(1), poly.const(0)
            return lambda env: one if i(env) == j(env) else zero
        if isinstance(e, sympy.Sum):
            return self.sum(self.compile(e.function), list(reversed(e.limits)))
        if isinstance(e, sympy.Add):
            parts = [self.compile(a) for a in e.args]
            return lambda env: poly.add(*(f(env) for f in parts))
        if isinstance(e, sympy.Mul):
            parts = [self.compile(a) for a in e.args]

            def product(env):
                out = parts[0](env)
                for f in parts[1:]:
                    out = poly.mul(out, f(env))
                return out

            return product
        if isinstance(e, sympy.Pow) and e.exp.is_Integer:
            return self.power(self.compile(e.base), int(e.exp), e)
        if isinstance(e, sympy.Derivative):
            ((x, _),) = e.variable_count
            entry = self.entry(x.base.label.name, x.indices)
            if e.expr == sympy.Symbol("L"):
                return lambda env: self.loss_derivative(entry(env))
            inner = self.compile(e.expr)
            return lambda env: poly.diff(inner(env), entry(env))
        if isinstance(e, Entry):
            tensor = self.meaning(e.args[0].xreplace(self.sizes))
            row, col = self.index(e.args[1]), self.index(e.args[2])
            return lambda env: tensor[(row(env) - 1, col(env) - 1)]
        if isinstance(e, sympy.MatrixExpr):
            raise SymgradError("a whole matrix has no scalar value")
        raise SymgradError(f"cannot instantiate {e}")

    def index(self, e):
        """An index expression as a function of the index values: an integer, a size, a free
        index, or an expression in them (such as k − t + 1)."""
        if e.is_Integer:
            value = int(e)
            return lambda env: value
        if e in self.sizes:
            value = int(self.sizes[e])
            return lambda env: value
        if e.is_Symbol:
            name = e.name  # index values are keyed by name: a str hashes in C, a Symbol in Python

            def free(env):
                if name not in env:
                    raise SymgradError(f"index {e} has no concrete value")
                return env[name]

            return free
        sizes = self.sizes
        symbols = {x.name: x for x in e.free_symbols}

        def general(env):
            values = {symbols[k]: sympy.Integer(v) for k, v in env.items() if k in symbols}
            value = e.xreplace(values).xreplace(sizes)
            if not value.is_Integer:
                raise SymgradError(f"index {e} has no concrete value")
            return int(value)

        return general

    def entry(self, name: str, rows_cols):
        """The variable id of an Indexed entry, as a function of the index values."""
        row, col = (self.index(x) for x in rows_cols)
        if name == self.upstream:
            tensor = self.d.upstream_symbols
        elif name == self.outputs:
            tensor = self.d.output
        else:
            tensor = self.tensors[name]
        ids, cols = tensor.ids, tensor.shape[1]
        return lambda env: ids[(row(env) - 1) * cols + col(env) - 1]

    def power(self, base, exp: int, e):
        def value(env):
            b = base(env)
            if set(b) <= {()}:  # a number, such as 1/(m n) at concrete sizes
                return poly.const(poly.Fraction(b.get((), 0)) ** exp)
            if exp < 0:
                raise SymgradError(f"cannot instantiate {e}: a negative power of a variable")
            out = poly.const(1)
            for _ in range(exp):
                out = poly.mul(out, b)
            return out

        return value

    def sum(self, body, limits):
        """Σ over the outermost of ``limits``, then the rest, then ``body``."""
        if not limits:
            return body
        (v, lo, hi), inner = limits[0], self.sum(body, limits[1:])
        lo, hi, name = self.index(lo), self.index(hi), v.name

        def total(env):
            acc: dict = {}
            for value in range(lo(env), hi(env) + 1):
                poly.add_into(acc, inner({**env, name: value}))
            return acc

        return total

    def loss_derivative(self, vid: int):
        """dL/dx from the concrete derivation: the engine's gradient, or dL/dc_ij."""
        if vid in self.meaning.upstream_of:
            return poly.var(self.meaning.upstream_of[vid])
        return self.d.gradient_of(vid)
