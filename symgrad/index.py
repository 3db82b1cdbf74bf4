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

from . import poly
from .errors import SymgradError
from .evaluate import Meaning


class Entry(sympy.Function):
    """(X)_{pq}: the entry of a matrix expression, 1-based as printed."""

    nargs = 3
    is_commutative = True

    @classmethod
    def eval(cls, matrix, row, col):
        return None  # never evaluated: it is what a step shows


def upstream_base(letter: str) -> sympy.IndexedBase:
    """dL/dc_ij as an IndexedBase; the printer shows it as a fraction of partials."""
    return sympy.IndexedBase(f"dL/d{letter}")


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
        self.tensors = {letters[0]: d.input_tensors[general.input_names[0]],
                        letters[1]: d.input_tensors[general.input_names[1]]}
        self.outputs = letters[2]
        self.upstream = str(upstream_base(letters[2]))
        self.general = general

    def index(self, e, env) -> int:
        if isinstance(e, int):
            return e
        if e.is_Integer:
            return int(e)
        known = env.get(e) if e.is_Symbol else None
        if known is not None:
            return int(known)
        value = e.xreplace(env).xreplace(self.sizes)
        if not value.is_Integer:
            raise SymgradError(f"index {e} has no concrete value")
        return int(value)

    def entry_id(self, name: str, rows_cols, env):
        r, c = (self.index(x, env) - 1 for x in rows_cols)
        if name == self.upstream:
            return self.d.upstream_symbols.id_at((r, c))
        if name == self.outputs:
            return self.d.output.id_at((r, c))
        return self.tensors[name].id_at((r, c))

    def __call__(self, e, env: dict):
        if e.is_Number:
            return poly.const(poly.Fraction(int(e.p), int(e.q)))
        if e in self.sizes:
            return poly.const(self.sizes[e])
        if isinstance(e, sympy.Indexed):
            vid = self.entry_id(e.base.label.name, e.indices, env)
            return self.meaning.definition.get(vid, poly.var(vid))
        if isinstance(e, sympy.KroneckerDelta):
            return poly.const(int(self.index(e.args[0], env) == self.index(e.args[1], env)))
        if isinstance(e, sympy.Sum):
            return self.sum(e.function, list(reversed(e.limits)), env)
        if isinstance(e, sympy.Add):
            return poly.add(*(self(a, env) for a in e.args))
        if isinstance(e, sympy.Mul):
            out = poly.const(1)
            for a in e.args:
                out = poly.mul(out, self(a, env))
            return out
        if isinstance(e, sympy.Pow) and e.exp.is_Integer:
            base = self(e.base, env)
            if set(base) <= {()}:  # a number, such as 1/(m n) at concrete sizes
                return poly.const(poly.Fraction(base.get((), 0)) ** int(e.exp))
            if e.exp < 0:
                raise SymgradError(f"cannot instantiate {e}: a negative power of a variable")
            out = poly.const(1)
            for _ in range(int(e.exp)):
                out = poly.mul(out, base)
            return out
        if isinstance(e, sympy.Derivative):
            (x, _), = e.variable_count
            if e.expr == sympy.Symbol("L"):
                return self.loss_derivative(x, env)
            vid = self.entry_id(x.base.label.name, x.indices, env)
            return poly.diff(self(e.expr, env), vid)
        if isinstance(e, Entry):
            tensor = self.meaning(e.args[0].xreplace(self.sizes))
            return tensor[(self.index(e.args[1], env) - 1, self.index(e.args[2], env) - 1)]
        if isinstance(e, sympy.MatrixExpr):
            raise SymgradError("a whole matrix has no scalar value")
        raise SymgradError(f"cannot instantiate {e}")

    def sum(self, body, limits, env):
        """Σ over the outermost of ``limits``, then the rest, then ``body``."""
        if not limits:
            return self(body, env)
        (v, lo, hi), rest = limits[0], limits[1:]
        acc = {}
        for value in range(self.index(lo, env), self.index(hi, env) + 1):
            poly.add_into(acc, self.sum(body, rest, {**env, v: sympy.Integer(value)}))
        return acc

    def loss_derivative(self, x, env):
        """dL/dx from the concrete derivation: the engine's gradient, or dL/dc_ij."""
        vid = self.entry_id(x.base.label.name, x.indices, env)
        if vid in self.meaning.upstream_of:
            return poly.var(self.meaning.upstream_of[vid])
        return self.d.gradient_of(vid)
