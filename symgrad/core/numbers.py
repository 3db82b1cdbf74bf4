"""Exact numbers read from what a user writes, one set of rules for every path.

A claim string, a claim callable, a layer parameter and a check-doc formula all reach numbers
here. Each number is exact (a Fraction), bounded in size before any arithmetic happens, and read
as it prints: "2.5" is 5/2, never 2·5. Anything else is a SymgradError that says what to write.
"""

from __future__ import annotations

import numbers
import re
from fractions import Fraction

from .errors import SymgradError

MAX_DIGITS = 300  # digits of a written number, and of a numerator or denominator computed from them
MAX_EXPONENT = 1000  # |n| in x**n: higher powers are refused before anything is expanded

_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?|\.([0-9]+)")  # ASCII digits only: "٣" is a digit to \d


def exact(value: object, what: str = "a number") -> Fraction:
    """An exact rational from a Python, NumPy or SymPy number (sympy.Integer(2), sympy.Rational(1, 3));
    floats, SymPy's included, are refused as inexact, and sqrt(2) or pi as not a fraction."""
    if isinstance(value, bool):
        raise SymgradError(f"{what} must be a number, not {value!r}")
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, numbers.Integral):  # int, numpy integers, sympy.Integer
        result = Fraction(int(value))
    elif isinstance(value, numbers.Rational):  # sympy.Rational
        result = Fraction(int(value.numerator), int(value.denominator))
    elif _is_sympy_rational(value):
        result = Fraction(int(value.p), int(value.q))  # type: ignore[attr-defined]
    elif isinstance(value, numbers.Real):
        kind = "the SymPy Float " if _is_sympy(value) else ""  # a Python float is shown as written
        raise SymgradError(
            f"{what} is {kind}{value!r}, which is not exact: write it as an integer or a fraction such as 5/2 "
            "(or sympy.Rational(5, 2))"
        )
    elif _is_sympy(value) and getattr(value, "is_number", False):
        # an exact SymPy number that is not a Rational: sqrt(2), pi, or an unevaluated expression
        raise SymgradError(
            f"{what} is the SymPy number {value!s:.60}, which is not a fraction: symgrad computes with fractions, "
            "so write it as one (sympy.Rational(p, q), or fractions.Fraction(p, q))"
        )
    else:
        raise SymgradError(f"{what} must be an exact number, not {type(value).__name__} {value!r:.60}")
    return bounded(result, what)


def integer(value: object, what: str, minimum: int | None = None) -> int:
    """An exact integer (Python, NumPy or SymPy), at least `minimum` when one is given."""
    kind = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
        minimum, f"an integer of at least {minimum}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if _is_sympy_rational(value) and getattr(value, "q", None) == 1:
            value = int(value.p)  # type: ignore[attr-defined]
        else:
            raise SymgradError(f"{what} must be {kind}, got {value!r:.60}")
    result = int(value)
    if _digits(result) > MAX_DIGITS:
        raise SymgradError(f"{what} has more than {MAX_DIGITS} digits")
    if minimum is not None and result < minimum:
        raise SymgradError(f"{what} must be {kind}, got {result}")
    return result


def decimal(text: str) -> Fraction:
    """A number as written in a formula: "12" is 12, "2.5" is 5/2 and ".5" is 1/2."""
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise SymgradError(f"{text!r:.60} is not a number written in digits")
    if len(text) > MAX_DIGITS:
        raise SymgradError(f"the number {text[:20]}… has more than {MAX_DIGITS} digits")
    whole, fraction, bare = match.groups()
    if bare is not None:
        whole, fraction = "0", bare
    if fraction is None:
        return Fraction(int(whole))
    return Fraction(int(whole + fraction), 10 ** len(fraction))


def bounded(value: Fraction, what: str = "a number") -> Fraction:
    """The value itself, when its numerator and denominator stay within MAX_DIGITS digits."""
    if _digits(value.numerator) > MAX_DIGITS or _digits(value.denominator) > MAX_DIGITS:
        raise SymgradError(f"{what} has more than {MAX_DIGITS} digits: too large to work with exactly")
    return value


def check_exponent(exponent: Fraction | int, what: str = "an exponent") -> None:
    """Refuse an exponent too large to expand, before any expansion."""
    if abs(Fraction(exponent)) > MAX_EXPONENT:
        raise SymgradError(f"{what} {exponent} is too large (at most {MAX_EXPONENT} in absolute value)")


def power(base: Fraction, exponent: Fraction) -> Fraction | None:
    """base**exponent exactly, or None when the result is not rational (2**(1/2)).

    Refused: 0 to a negative power, a fractional power of a negative number, and any exponent or
    result too large to hold exactly.
    """
    base, exponent = Fraction(base), Fraction(exponent)
    check_exponent(exponent)
    if base == 0:
        if exponent < 0:
            raise SymgradError("0 raised to a negative power is a division by zero")
        return Fraction(1) if exponent == 0 else Fraction(0)
    size = max(_digits(base.numerator), _digits(base.denominator))
    if size * abs(exponent) > MAX_DIGITS:
        raise SymgradError(f"{_show(base)}**{_show(exponent)} has more than {MAX_DIGITS} digits")
    p, q = exponent.numerator, exponent.denominator
    if q == 1:
        return base**p
    if base < 0:
        # the real-valued convention of the lemmas and of PyTorch: a fractional power needs a
        # positive base (torch.pow(-8, 1/3) is nan), even where an odd root would exist
        raise SymgradError(f"{_show(base)}**{_show(exponent)}: a fractional power of a number that is not positive")
    root_n, root_d = _root(abs(base.numerator), q), _root(base.denominator, q)
    if root_n is None or root_d is None:
        return None
    return Fraction(root_n, root_d) ** p


def _root(n: int, q: int) -> int | None:
    """The exact q-th root of a non-negative integer, or None."""
    if n < 2:
        return n
    guess = round(n ** (1 / q)) if n.bit_length() < 1000 else _integer_root(n, q)
    for candidate in (guess - 1, guess, guess + 1):
        if candidate >= 0 and candidate**q == n:
            return candidate
    return None


def _integer_root(n: int, q: int) -> int:
    low, high = 0, 1 << (n.bit_length() // q + 1)
    while low < high:
        middle = (low + high + 1) // 2
        if middle**q <= n:
            low = middle
        else:
            high = middle - 1
    return low


def _digits(n: int) -> int:
    # bit_length is cheap even for huge numbers; 0.302 ≈ log10(2) errs towards more digits
    return int(abs(n).bit_length() * 0.30103) + 1


def _show(value: Fraction) -> str:
    text = str(value) if value.denominator == 1 and value >= 0 else f"({value})"
    return text if len(text) <= 30 else text[:12] + "…" + text[-6:]


def _is_sympy(value: object) -> bool:
    return type(value).__module__.startswith("sympy")


def _is_sympy_rational(value: object) -> bool:
    return _is_sympy(value) and bool(getattr(value, "is_Rational", False))
