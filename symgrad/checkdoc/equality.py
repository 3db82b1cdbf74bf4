"""Whether two values are equal wherever they are defined: proven by the exact engine, refuted at
a point where interval evaluations part, or undecided.
"""

from __future__ import annotations

import functools
import itertools

import sympy

from . import exact
from .activations import _applications
from .exact import MAX_TERMS, estimate_terms, free_symbols
from .intervals import _enclose, _numbers, _Point
from .outcomes import TooLarge, Undecided, Undefined

PRECISIONS = (64, 256, 1024, 4096)  # bits of an interval evaluation, raised until it decides


CONFIRM = PRECISIONS[:2]  # bits of the evaluation that confirms an exact proof at a point


def expanded(expr):
    """sympy.expand, refused when the expansion would have more than MAX_TERMS terms."""
    terms = estimate_terms(expr)
    if terms > MAX_TERMS:
        raise TooLarge(f"expanding it gives about {terms:,} terms, over check-doc's limit of {MAX_TERMS:,}")
    return sympy.expand(expr)


def equal(
    a, b, conditions=(), lets: dict | None = None, quick: bool = False, points: dict | None = None
) -> tuple[bool, str]:
    """Exact equality of two values wherever they are defined, and, when they differ, where.

    `conditions` says where: (kind, expression) pairs, "nonzero" for a denominator and
    "positive" for the argument of a logarithm, root or fractional power. Proven equal by the
    prover's exact engine (``exact``: polynomials over atoms, reciprocals cleared), once a point
    is found where every condition holds (so the line says something); unequal as polynomials in
    the entries, or at such a point, binding every symbol of both sides, where interval
    evaluations of the two sides do not meet; otherwise Undecided.

    `lets` names quantities by their definitions (y_{1} for the expression it stands for): the
    exact engine takes them for free variables, so an identity it finds holds whatever they are
    and so for their values; a difference it finds proves nothing, and only a point (where each
    is its definition's value) refutes. `quick` tries one point at low precision only (a reading
    that another follows when this one leaves the line undecided).

    `points` keeps the points made for earlier lines (symbols and lets -> points), with the
    intervals already evaluated at each: the lines of one post ask about the same denominators
    and subexpressions at the same points again and again."""
    lets = lets or {}
    a, b = _scalar_if_one_by_one(a), _scalar_if_one_by_one(b)  # a^T b is a number
    # each application of a declared activation, a(u), is a value of its own: a variable, the same for
    # the same function at the same argument; a point refutes only where the arguments of one
    # function differ (a function takes one value at one argument)
    applied = _applications(a, b, *(expr for _, expr in conditions), *lets.values())
    arguments: dict = {}
    if applied:
        by_argument: dict = {}
        for app in sorted(applied, key=str):
            key = (type(app).activation, sympy.expand(app.args[0]))
            by_argument.setdefault(key, sympy.Symbol(f"{type(app).__name__}({len(by_argument) + 1})"))
            arguments[by_argument[key]] = (type(app).activation, app.args[0])
        table = {app: by_argument[(type(app).activation, sympy.expand(app.args[0]))] for app in applied}
        a, b = a.xreplace(table), b.xreplace(table)
        conditions = [(kind, expr.xreplace(table)) for kind, expr in conditions]
        lets = {k: v.xreplace(table) for k, v in lets.items()}
        arguments = {symbol: (key, argument.xreplace(table)) for symbol, (key, argument) in arguments.items()}
    if isinstance(a, sympy.MatrixBase) != isinstance(b, sympy.MatrixBase):
        return False, "a matrix on one side and a scalar on the other"
    if isinstance(a, sympy.MatrixBase):
        if a.shape != b.shape:
            return False, f"a {a.shape[0]}×{a.shape[1]} matrix and a {b.shape[0]}×{b.shape[1]} one"
        pairs = [
            (f"entry ({r + 1}, {c + 1}): ", a[r, c], b[r, c]) for r in range(a.shape[0]) for c in range(a.shape[1])
        ]
    else:
        pairs = [("", a, b)]
    conditions = list(dict.fromkeys(conditions))
    symbols: set = set()
    for _, x, y in pairs:
        symbols |= free_symbols(sympy.sympify(x)) | free_symbols(sympy.sympify(y))
    for _, expr in conditions:
        symbols |= free_symbols(expr)
    for _, argument in arguments.values():  # a point binds what the functions are applied to
        symbols |= free_symbols(argument)
    todo = list(symbols & set(lets))
    while todo:  # the inputs the lets are made of
        for s in free_symbols(lets[todo.pop()]):
            if s not in symbols:
                symbols.add(s)
                todo += [s] if s in lets else []
    symbols -= set(lets)
    ordered = tuple(sorted(symbols, key=lambda s: s.name))
    key = (ordered, frozenset(lets.items()))
    made = points.get(key) if points is not None else None
    if made is None:
        made = [_Point({**p, **lets}) for p in _points(list(ordered))]
        if points is not None:
            points[key] = made
    found = iter(made)
    if arguments:  # where two arguments of one function may meet, the point says nothing
        found = (p for p in found if _arguments_apart(arguments, p))
    # found one at a time: the first point often decides, and the others are then never evaluated
    chosen = _Found(itertools.islice((p for p in found if _defined(conditions, p)), 1 if quick else None))
    if chosen.first() is None:
        raise Undecided(
            "no point was found where every denominator is nonzero and every logarithm's and root's argument positive"
        )
    for where, x, y in pairs:
        ok, why = _scalar_equal(sympy.sympify(x), sympy.sympify(y), chosen, bool(lets) or bool(arguments), quick)
        if not ok:
            return False, where + why
    return True, ""


class _Found:
    """The points an iterator finds, each found when it is first asked for and then kept."""

    def __init__(self, found) -> None:
        self._found = found
        self._kept: list = []

    def first(self):
        return next(iter(self), None)

    def __iter__(self):
        k = 0
        while True:
            if k == len(self._kept):
                point = next(self._found, None)
                if point is None:
                    return
                self._kept.append(point)
            yield self._kept[k]
            k += 1


def _arguments_apart(arguments: dict, point: dict) -> bool:
    """Whether the arguments of every function's applications certainly differ at the point."""
    seen: dict = {}
    for key, argument in arguments.values():
        box = _enclose(argument, point, CONFIRM[0])
        if box is None:
            return False
        for other in seen.get(key, []):
            if not (box.b < other.a or other.b < box.a):
                return False
        seen.setdefault(key, []).append(box)
    return True


def _scalar_if_one_by_one(value):
    return value[0, 0] if isinstance(value, sympy.MatrixBase) and value.shape == (1, 1) else value


def _zero(expr) -> bool:
    """Whether expr is zero wherever it is defined, decided by the exact engine as equal() is."""
    if expr.is_Number:
        return expr == 0
    estimate = estimate_terms(expr)
    if estimate > MAX_TERMS:
        raise TooLarge(f"expanding it gives about {estimate:,} terms, over check-doc's limit of {MAX_TERMS:,}")
    try:
        return exact.Line(expr, sympy.Integer(0)).vanishes()
    except exact.ZeroDenominator:
        return True  # itself divided by zero: defined nowhere, as a zero denominator is
    except (exact.Unrepresentable, exact.OverBudget):
        return False  # not known to be zero: the points decide where it is


def _scalar_equal(a, b, points: _Found, named: bool = False, quick: bool = False) -> tuple[bool, str]:
    """Decided by the prover's engine: both sides as polynomials over one graph (``exact``). A
    nonzero polynomial in the entries alone is unequal as a function; a difference that vanishes
    wherever it is defined is equal, once the first point does not contradict it; otherwise a
    point where the two sides are certainly apart refutes the line; otherwise it is undecided."""
    estimate = estimate_terms(a) + estimate_terms(b)
    if estimate > MAX_TERMS:
        raise TooLarge(f"expanding it gives about {estimate:,} terms, over check-doc's limit of {MAX_TERMS:,}")
    try:
        line = exact.Line(a, b)
    except exact.Unrepresentable:
        line = None  # a construct the polynomial form does not hold: the points alone decide
    except exact.OverBudget as exc:
        raise TooLarge(str(exc)) from None
    except exact.ZeroDenominator:
        raise Undefined("a denominator is zero wherever it is defined") from None
    if line is not None and line.difference and line.polynomial() and not named:
        return False, f"{_text(a)} and {_text(b)}"  # a nonzero polynomial in the entries: unequal as functions
    if line is not None and line.vanishes():
        if not line.has_atoms():
            return True, ""  # polynomials in the entries, equal once expanded
        # a point must not contradict the relations between atoms used; what would is a fault of
        # the engine, far larger than a rounding residue, so two precisions show it
        apart = _apart(a, b, points.first(), CONFIRM)
        return (False, apart) if apart else (True, "")
    for point in points:
        apart = _apart(a, b, point, CONFIRM[:1] if quick else PRECISIONS)
        if apart:
            return False, apart
    raise Undecided("the exact form does not show the two sides equal, and no point tells them apart")


def _points(symbols: list):
    """Points binding every symbol: small positive rationals, then larger, negative and smaller
    ones (every input is a real number)."""
    for seed in range(6):
        point = {}
        for k, s in enumerate(symbols):
            v = sympy.Rational(3 + (7 * k + 5 * seed) % 11, 2 + (k + seed) % 5)
            point[s] = {3: v + 10, 4: -v, 5: v / 7}.get(seed, v)
        yield point


def _defined(conditions: list, point: dict) -> bool:
    return all(certain(kind, expr, point) for kind, expr in conditions)


def certain(kind: str, expr, point: dict | None = None) -> bool | None:
    """Whether expr is certainly "positive" (or "nonzero") at the point: True or False when an
    interval evaluation decides, None when none does (or expr has no real value there)."""
    if point is None:
        return _certain_number(kind, expr)
    return _certain(kind, expr, point)


@functools.lru_cache(maxsize=4096)
def _certain_number(kind: str, expr) -> bool | None:
    """certain() of an expression without symbols, kept: the same numbers (a sum of exponentials
    of numbers) are denominators at every index value."""
    return _certain(kind, expr, None)


def _certain(kind: str, expr, point: dict | None) -> bool | None:
    for bits in PRECISIONS:
        box = _enclose(expr, point or {}, bits)
        if box is None:
            return None
        if box.a > 0 or (kind == "nonzero" and box.b < 0):
            return True
        if (kind == "positive" and box.b <= 0) or (box.a == 0 and box.b == 0):
            return False
    return None


def _apart(a, b, point: dict, precisions: tuple = PRECISIONS) -> str:
    """The two sides' values at the point when they certainly differ: interval evaluations that
    do not meet, their precision raised until they part. An interval is as wide as the rounding
    of every term that went into it, so large terms that cancel widen it and cannot fake a
    difference; "" when no precision parts them, or a side has no real value there."""
    for bits in precisions:
        x, y = _enclose(a, point, bits), _enclose(b, point, bits)
        if x is None or y is None:
            return ""
        if x.b < y.a or y.b < x.a:
            used = _inputs(a.free_symbols | b.free_symbols, point)
            at = ", ".join(f"{s} = {v}" for s, v in point.items() if s in used)
            return f"{_numbers(x, y, bits)}" + (f" at {at}" if at else "")
    return ""


def _inputs(symbols: set, point: dict) -> set:
    """The inputs the symbols stand for, through the named quantities' definitions."""
    out, todo = set(), list(symbols)
    while todo:
        s = todo.pop()
        value = point.get(s)
        if value is not None and not value.is_Rational:
            todo += [t for t in value.free_symbols if t not in out]
        else:
            out.add(s)
    return out


def _text(expr) -> str:
    try:
        return str(expr)
    except (OverflowError, ValueError):  # ordering terms evaluates them, and e^(e^(e^10)) overflows
        return sympy.sstr(expr, order="none")


def _show(expr) -> str:
    text = _text(expr)
    return text if len(text) <= 60 else text[:57] + "…"
