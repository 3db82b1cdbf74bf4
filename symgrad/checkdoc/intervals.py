"""Interval evaluation at a point: an interval that certainly holds an expression's value, at a
given precision, and two values shown with digits enough to tell them apart.
"""

from __future__ import annotations

import mpmath
import sympy

MAX_EXP_ARGUMENT = 10**6  # e^x is evaluated at a point only while |x| is below this


class _Point(dict):
    """A point, with the intervals of the subexpressions already evaluated there (per precision)."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.memos: dict = {}


def _enclose(expr, point: dict, bits: int):
    """An interval that certainly holds expr's value at the point, at `bits` of precision, or None
    when expr has no real value there (a logarithm or root of a number not known positive, a
    division by an interval holding 0, a symbol the point does not bind)."""
    saved = mpmath.iv.prec
    mpmath.iv.prec = bits
    memo = point.memos.setdefault(bits, {}) if isinstance(point, _Point) else {}
    try:
        return _box(expr, point, memo)
    except _NoValue:
        return None
    finally:
        mpmath.iv.prec = saved


class _NoValue(Exception):
    pass


def _box(expr, point: dict, memo: dict):
    """The interval of expr at the point; memo holds those of the subexpressions already boxed at
    this precision (a written-out variance appears many times in one line)."""
    if expr not in memo:
        memo[expr] = _boxed(expr, point, memo)
    return memo[expr]


def _boxed(expr, point: dict, memo: dict):
    iv = mpmath.iv
    if expr in point:
        expr = point[expr]
    if expr.is_Integer:
        return iv.mpf(int(expr))
    if expr.is_Rational:
        return iv.mpf(int(expr.p)) / iv.mpf(int(expr.q))
    if expr is sympy.E:
        return iv.e
    if expr is sympy.pi:
        return iv.pi
    if expr.is_Add or expr.is_Mul:
        parts = [_box(arg, point, memo) for arg in expr.args]
        out = parts[0]
        for part in parts[1:]:
            out = out + part if expr.is_Add else out * part
        return out
    if isinstance(expr, sympy.exp):
        argument = _box(expr.args[0], point, memo)
        if argument.b > MAX_EXP_ARGUMENT or argument.a < -MAX_EXP_ARGUMENT:
            raise _NoValue  # e^(e^(e^10)) and beyond: too large to evaluate, so nothing is concluded from it
        return iv.exp(argument)
    if isinstance(expr, sympy.log) and len(expr.args) == 1:
        return iv.log(_positive(_box(expr.args[0], point, memo)))
    if isinstance(expr, (sympy.sin, sympy.cos)):
        return (iv.sin if isinstance(expr, sympy.sin) else iv.cos)(_box(expr.args[0], point, memo))
    if expr.is_Pow:
        base = _box(expr.base, point, memo)
        if expr.exp.is_Integer:
            n = int(expr.exp)
            if n < 0 and not (base.a > 0 or base.b < 0):
                raise _NoValue
            return base**n if n >= 0 else 1 / base ** (-n)
        return iv.exp(_box(expr.exp, point, memo) * iv.log(_positive(base)))
    raise _NoValue  # a symbol the point does not bind, I, ∞, or a function not read here


def _positive(box):
    if not box.a > 0:
        raise _NoValue
    return box


def _numbers(x, y, bits: int) -> str:
    """Two values that differ, with digits enough to show where."""
    with mpmath.mp.workprec(bits):
        mx, my = ((mpmath.mpf(box.a) + mpmath.mpf(box.b)) / 2 for box in (x, y))
        for digits in (12, 24, 48, 96, 192, 384):
            shown = mpmath.nstr(mx, digits), mpmath.nstr(my, digits)
            if shown[0] != shown[1]:
                break
    return f"{shown[0]} and {shown[1]}"
