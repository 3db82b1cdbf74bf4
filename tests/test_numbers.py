"""One reader of exact numbers for every path: what it accepts, what it refuses, and that the ops
take exact integers of any library (Python, NumPy, SymPy) and nothing that only converts to one."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

import symgrad
from symgrad.core import numbers
from symgrad.core.errors import SymgradError


@pytest.mark.parametrize(
    "text, value",
    [
        ("2.5", Fraction(5, 2)),
        ("-0.5".lstrip("-"), Fraction(1, 2)),
        (".25", Fraction(1, 4)),
        ("10", Fraction(10)),
        ("1.50", Fraction(3, 2)),
        ("0.001", Fraction(1, 1000)),
        ("007", Fraction(7)),
    ],
)
def test_decimals_read_as_the_rationals_they_print_as(text, value):
    assert numbers.decimal(text) == value


@pytest.mark.parametrize("text", ["1e5", "2,5", "1.2.3", "", "٣", "²", "1 000", "x"])
def test_anything_but_digits_and_one_point_is_not_a_decimal(text):
    with pytest.raises(SymgradError):
        numbers.decimal(text)


@pytest.mark.parametrize(
    "base, exponent, value",
    [
        (2, 5, Fraction(32)),
        (Fraction(2, 3), -2, Fraction(9, 4)),
        (4, Fraction(1, 2), Fraction(2)),
        (Fraction(9, 4), Fraction(-3, 2), Fraction(8, 27)),
        (0, 0, Fraction(1)),
        (0, 3, Fraction(0)),
    ],
)
def test_powers_of_numbers_are_exact(base, exponent, value):
    assert numbers.power(Fraction(base), Fraction(exponent)) == value


def test_an_irrational_power_is_none_never_a_rounded_number():
    assert numbers.power(Fraction(2), Fraction(1, 2)) is None
    assert numbers.power(Fraction(10**40 + 1), Fraction(1, 2)) is None


@pytest.mark.parametrize(
    "base, exponent, message",
    [
        (0, -1, "division by zero"),
        (-4, Fraction(1, 2), "not positive"),
        (-8, Fraction(1, 3), "not positive"),
        (2, 10**8, "too large"),
        (10**100, 5, "more than"),
    ],
)
def test_powers_that_cannot_be_held_exactly_are_refused_before_any_work(base, exponent, message):
    with pytest.raises(SymgradError, match=message):
        numbers.power(Fraction(base), Fraction(exponent))


@pytest.mark.parametrize("value", [3, np.int64(3), np.int8(3), sympy.Integer(3)])
def test_exact_integers_of_every_library_are_integers(value):
    assert numbers.integer(value, "n", minimum=1) == 3
    assert numbers.exact(value) == Fraction(3)


@pytest.mark.parametrize("value", [3.0, np.float64(3), True, "3", sympy.Float(3), sympy.Rational(7, 2), None])
def test_anything_else_is_not_an_integer(value):
    with pytest.raises(SymgradError):
        numbers.integer(value, "n")


@pytest.mark.parametrize(
    "value, expected", [(sympy.Rational(1, 100000), Fraction(1, 100000)), (Fraction(-3, 7), Fraction(-3, 7))]
)
def test_exact_rationals_are_kept_exactly(value, expected):
    assert numbers.exact(value) == expected


@pytest.mark.parametrize("value", [0.1, np.float32(0.5), sympy.Float("0.5"), sympy.pi, "1/2", True])
def test_inexact_or_symbolic_values_are_not_exact_numbers(value):
    with pytest.raises(SymgradError):
        numbers.exact(value)


def test_the_ops_take_numpy_and_sympy_integers_as_the_same_problem():
    plain = symgrad.matmul(2, 3, 2)
    other = symgrad.matmul(np.int64(2), sympy.Integer(3), np.int32(2))
    assert plain.grad["A"] == other.grad["A"]
    conv = symgrad.conv2d((1, 1, 4, 4), (1, 1, 2, 2), stride=2)
    conv_np = symgrad.conv2d(np.array([1, 1, 4, 4]), (1, 1, 2, 2), stride=np.int64(2))
    assert conv.grad["X"] == conv_np.grad["X"]
    transposed = symgrad.conv_transpose2d((1, 1, 2, 2), (1, 1, 2, 2), stride=np.int64(2), padding=0)
    assert transposed.output.shape == (1, 1, 4, 4)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: symgrad.matmul(2.0, 3, 2), "size m must be a positive integer"),
        (lambda: symgrad.conv2d((1, 1, 4, 4), (1, 1, 2, 2), bias="yes"), "bias must be True or False"),
        (lambda: symgrad.conv2d((1, 1, 4, 4), (1, 1, 2, 2), bias=1), "bias must be True or False"),
        (lambda: symgrad.conv_transpose2d((1, 1, 2, 2), (1, 1, 2, 2), bias=None), "bias must be True or False"),
        (lambda: symgrad.conv2d((1, 1, 4, 4), (1, 1, 2, 2), stride=np.float64(2)), "stride must be a positive"),
        (lambda: symgrad.conv2d((1, 1, 4, 4), (1, 1, 2, 2), groups=np.float64(1)), "groups must be a positive"),
    ],
)
def test_the_ops_refuse_what_only_converts_to_a_parameter(call, message):
    with pytest.raises(SymgradError, match=message):
        call()
