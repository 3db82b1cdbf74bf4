"""Exact rational coefficients in C, through FLINT, when it is installed.

Deciding a claim multiplies polynomials out term by term (``prove.claim.frame``), and a term
product is a product and a sum of exact rationals. Python's ``Fraction`` takes about 2 µs for
each; FLINT's ``fmpq`` (python-flint) about 0.2 µs, and is just as exact. ``coefficients``
converts a polynomial's coefficients to ``fmpq`` where FLINT is installed, and leaves them as
they are otherwise: the two paths give the same answers, and the pure-Python one is complete.

``fmpq`` and ``Fraction`` do not compare equal to each other, so a polynomial converted here is
only combined with others converted here (or with plain integers), never with ``Fraction`` ones.
"""

from __future__ import annotations

from fractions import Fraction

try:
    import flint
except ImportError:  # optional: the pure-Python path is complete without it
    flint = None  # type: ignore[assignment]


def available() -> bool:
    return flint is not None


def coefficients(p: dict) -> dict:
    """p with FLINT's exact rationals for coefficients where FLINT is installed, else p itself."""
    if flint is None:
        return p
    return {mono: _coefficient(c) for mono, c in p.items()}


def _coefficient(c):
    if isinstance(c, flint.fmpq):
        return c
    if isinstance(c, Fraction):
        return flint.fmpq(c.numerator, c.denominator)
    return flint.fmpq(c)
