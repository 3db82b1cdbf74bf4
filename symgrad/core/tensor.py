"""Tensors of exact polynomials, and the little algebra the closed forms need.

Closed forms such as G·Bᵀ are evaluated here, on the canonical form, instead of
with SymPy matrices: a symbolic 64×64 SymPy product takes tens of seconds, this
takes a fraction of one, and the result is the same exact polynomial.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from . import packed, poly
from .errors import SymgradError


@dataclass(frozen=True)
class PolyTensor:
    shape: tuple[int, ...]
    entries: tuple  # row-major tuple of Poly
    variables: tuple | None = field(default=None, compare=False, repr=False)  # set when every entry is one variable

    @classmethod
    def of_symbols(cls, st) -> PolyTensor:
        return cls(st.shape, _variables(tuple(st.ids)), tuple(st.ids))

    @classmethod
    def build(cls, shape, entry) -> PolyTensor:
        """Entries from ``entry(index)`` over every 0-based index."""
        return cls(tuple(shape), tuple(entry(ix) for ix in indices(shape)))

    def __getitem__(self, index: tuple[int, ...]):
        return self.entries[row_major(index, self.shape)]

    def at(self, pos: int):
        """The entry at a row-major position."""
        return self.entries[pos]

    def to_sympy(self, registry) -> sympy.Array | sympy.ImmutableMatrix:
        return _sympy_tensor(self.shape, [to_sympy(p, registry) for p in self.entries])


class LazyTensor:
    """A PolyTensor whose entries are computed when first read, one by one."""

    def __init__(self, shape: tuple, entry) -> None:
        self.shape, self._entry = tuple(shape), entry
        self._done: dict[int, dict] = {}

    def at(self, pos: int):
        if pos not in self._done:
            self._done[pos] = self._entry(pos)
        return self._done[pos]

    def __getitem__(self, index: tuple[int, ...]):
        return self.at(row_major(index, self.shape))

    @property
    def entries(self) -> tuple:
        return tuple(self.at(pos) for pos in range(_numel(self.shape)))

    def to_sympy(self, registry):
        return _sympy_tensor(self.shape, [to_sympy(p, registry) for p in self.entries])


def _numel(shape) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


def _sympy_tensor(shape, flat):
    if len(shape) == 2:
        return sympy.ImmutableMatrix(*shape, flat)
    return sympy.ImmutableDenseNDimArray(flat, shape)


def row_major(index: tuple, shape: tuple) -> int:
    """The position of a 0-based index in a row-major tuple; written out for the ranks the ops use,
    since the convolutions' closed forms call it hundreds of thousands of times."""
    if len(index) == 4:
        i, j, k, m = index
        _, s1, s2, s3 = shape
        return ((i * s1 + j) * s2 + k) * s3 + m
    if len(index) == 2:
        return index[0] * shape[1] + index[1]
    pos = 0
    for i, s in zip(index, shape):
        pos = pos * s + i
    return pos


@functools.lru_cache(maxsize=32)
def _variables(ids: tuple) -> tuple:
    """One polynomial per variable; shared, since a polynomial is never changed in place."""
    return tuple(poly.var(v) for v in ids)


def indices(shape):
    return itertools.product(*(range(s) for s in shape))


def matmul(x: PolyTensor, y: PolyTensor) -> PolyTensor:
    if len(x.shape) != 2 or len(y.shape) != 2 or x.shape[1] != y.shape[0]:
        raise SymgradError(f"cannot multiply a {_dims(x)} matrix by a {_dims(y)} matrix")
    m, k = x.shape
    n = y.shape[1]
    fast = _matmul_of_variables(x, y)
    if fast is not None:
        return fast
    xv, yv = _sparse_variables(x), _sparse_variables(y)
    if xv is not None and yv is not None:
        return _matmul_of_sparse_variables(xv, yv, m, k, n)
    xs = [list(p.items()) for p in x.entries]
    ys = [list(p.items()) for p in y.entries]
    columns = [[ys[t * n + j] for t in range(k)] for j in range(n)]
    out = []
    for i in range(m):
        row = xs[i * k : (i + 1) * k]
        for column in columns:
            acc: dict = {}
            for a, b in zip(row, column):
                for m1, c1 in a:
                    for m2, c2 in b:
                        # the same product as poly.mul_into, inlined: this is the proof's hot loop
                        if len(m1) == 1 and len(m2) == 1:
                            mono = m1 + m2 if m1[0] <= m2[0] else m2 + m1
                        elif not m1 or not m2:
                            mono = m1 or m2
                        elif m1[-1] <= m2[0]:
                            mono = m1 + m2
                        else:
                            mono = tuple(sorted(m1 + m2))
                        acc[mono] = acc.get(mono, 0) + c1 * c2
            out.append({mono: c for mono, c in acc.items() if c})
    return PolyTensor((m, n), tuple(out))


def single_variables(t: PolyTensor):
    """The variable ids when every entry is one bare variable (a matrix of symbols), else None."""
    known = getattr(t, "variables", None)
    if known is not None:
        return list(known)
    ids = []
    for p in t.entries:
        if len(p) != 1:
            return None
        ((mono, c),) = p.items()
        if c != 1 or len(mono) != 1:
            return None
        ids.append(mono[0])
    return ids


def _sparse_variables(t: PolyTensor) -> list | None:
    """Each entry's variable, or None for a zero entry, when every entry is one bare variable or
    zero (an unfolded input with its padding); else None."""
    out: list = []
    for p in t.entries:
        if not p:
            out.append(None)
            continue
        if len(p) != 1:
            return None
        ((mono, c),) = p.items()
        if c != 1 or len(mono) != 1:
            return None
        out.append(mono[0])
    return out


def _matmul_of_sparse_variables(xv: list, yv: list, m: int, k: int, n: int) -> PolyTensor:
    """The general product's loop for factors of bare variables and zeros: each product a·b is the
    monomial (a, b) sorted, with coefficient 1, added in the order of t, as the loop adds it."""
    rows = [[(t, a) for t, a in enumerate(xv[i * k : (i + 1) * k]) if a is not None] for i in range(m)]
    cols = [yv[j::n] for j in range(n)]
    out = []
    for row in rows:
        for col in cols:
            acc: dict = {}
            for t, a in row:
                b = col[t]
                if b is not None:
                    mono = (a, b) if a <= b else (b, a)
                    acc[mono] = acc.get(mono, 0) + 1
            out.append(acc)
    return PolyTensor((m, n), tuple(out))


def _matmul_of_variables(x: PolyTensor, y: PolyTensor):
    """Product of two matrices of distinct symbols, the closed forms' usual case.

    Entry (i, j) is Σ_t x_it y_tj: k distinct monomials with coefficient 1, so
    the dict is built in one call. Exactly what the general loop computes.
    """
    xi, yi = single_variables(x), single_variables(y)
    if xi is None or yi is None:
        return None
    m, k = x.shape
    n = y.shape[1]
    if max(xi) < min(yi):
        order = lambda row, col: zip(row, col)  # noqa: E731
    elif min(xi) > max(yi):
        order = lambda row, col: zip(col, row)  # noqa: E731
    else:
        return None
    rows = [xi[i * k : (i + 1) * k] for i in range(m)]
    if any(len(set(r)) != k for r in rows):
        return None  # a repeated variable would make two terms meet
    cols = [yi[j::n] for j in range(n)]
    swapped = min(xi) > max(yi)
    build = lambda: tuple(dict.fromkeys(order(r, c), 1) for r in rows for c in cols)  # noqa: E731
    if packed.available() and m * n * k >= packed.MIN_TERMS:
        return ProductTensor((m, n), build, (xi, yi, (m, k, n), swapped))
    return PolyTensor((m, n), build())


class ProductTensor(PolyTensor):
    """The product of two matrices of distinct symbols, with its entries built when first read.

    A proof compares it with a gradient of as many terms: a comparison that reads the other
    tensor's terms into arrays and finds them equal to this product's, in order, decides in a few
    C calls; any other outcome falls back to comparing the entries themselves."""

    _build: Callable[[], tuple]
    _factors: tuple
    _compared: list

    def __init__(self, shape: tuple, build, factors: tuple) -> None:
        object.__setattr__(self, "shape", tuple(shape))
        object.__setattr__(self, "variables", None)
        object.__setattr__(self, "_build", build)
        xi, yi, sizes, swapped = factors  # copied: the caller's lists may change, the comparison must not
        object.__setattr__(self, "_factors", (tuple(xi), tuple(yi), sizes, swapped))
        object.__setattr__(self, "_compared", [])

    @functools.cached_property
    def entries(self) -> tuple:
        return self._build()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PolyTensor):
            return NotImplemented
        if self.shape != other.shape:
            return False
        for entries, same in self._compared:  # several steps compare it with the same polynomials
            if len(entries) == len(other.entries) and all(map(operator.is_, entries, other.entries)):
                return same
        same = packed.same_product(other.entries, *self._factors) or self.entries == other.entries
        self._compared.append((other.entries, same))  # the very objects, kept alive, so "is" stays true
        return same

    __hash__ = None  # type: ignore[assignment]


def transpose(x: PolyTensor) -> PolyTensor:
    if len(x.shape) != 2:
        raise SymgradError(f"transpose needs a matrix, got shape {_dims(x)}")
    m, n = x.shape
    order = [i * n + j for j in range(n) for i in range(m)]
    v = getattr(x, "variables", None)
    return PolyTensor((n, m), tuple(x.entries[k] for k in order), None if v is None else tuple(v[k] for k in order))


def scale(x: PolyTensor, factor) -> PolyTensor:
    return PolyTensor(x.shape, tuple(poly.scale(p, factor) for p in x.entries))


def elementwise(x: PolyTensor, y: PolyTensor, op) -> PolyTensor:
    if x.shape != y.shape:
        raise SymgradError(f"shapes {_dims(x)} and {_dims(y)} do not match")
    return PolyTensor(x.shape, tuple(op(p, q) for p, q in zip(x.entries, y.entries)))


def _dims(x: PolyTensor) -> str:
    return "×".join(str(s) for s in x.shape)


def to_sympy(p, registry, evaluate: bool = True) -> sympy.Expr:
    """The SymPy expression of a polynomial (for what is shown, never for the proof).

    With ``evaluate=False`` the terms keep the polynomial's order and SymPy's
    canonicalisation is skipped: for display only, where it makes large
    documents an order of magnitude cheaper to build.
    """
    terms = []
    for mono, c in sorted(p.items()):
        coeff = sympy.Rational(c.numerator, c.denominator)
        if evaluate:
            factors = [registry.symbol(v) for v in mono]
            terms.append(sympy.Mul(coeff, *factors))
        else:
            shown = sorted(set(mono), key=lambda v: (v not in registry.leading, v))
            factors = [_power(registry.symbol(v), mono.count(v)) for v in shown]
            factors = factors if coeff == 1 else [coeff, *factors]
            terms.append(factors[0] if len(factors) == 1 else sympy.Mul._from_args(factors))
    if not terms:
        return sympy.Integer(0)
    if evaluate:
        return sympy.Add(*terms)
    return terms[0] if len(terms) == 1 else sympy.Add._from_args(terms)


def _power(base: sympy.Symbol, n: int) -> sympy.Expr:
    return base if n == 1 else sympy.Pow(base, n, evaluate=False)


def from_sympy(expr, registry):
    """The canonical polynomial of a SymPy expression over this registry's variables."""
    expr = sympy.expand(sympy.sympify(expr))
    out: dict = {}
    for term, coeff in expr.as_coefficients_dict().items():
        if not coeff.is_Rational:
            raise SymgradError(f"coefficient {coeff} is not an exact rational number")
        mono = []
        for base, power in term.as_powers_dict().items():
            if base == 1:
                continue
            if not (base.is_Symbol and power.is_Integer and power > 0):
                raise SymgradError(f"{term} is not a polynomial term in the derivation's variables")
            mono.extend([registry.id_of(base)] * int(power))
        poly.add_into(out, {tuple(sorted(mono)): Fraction(int(coeff.p), int(coeff.q))})
    return out
