"""Entry naming: the reference's a_{23}, commas from 10 on, never two entries with one name."""

import itertools

import pytest

import symgrad
from symgrad.core.symbols import entry_name, upstream_name


@pytest.mark.parametrize(
    "letter, index, commas, expected",
    [
        ("a", (2, 3), False, "a_{23}"),
        ("b", (1, 2), False, "b_{12}"),
        ("a", (2, 13), True, "a_{2,13}"),
        ("a", (1, 11), True, "a_{1,11}"),
        ("a", (11, 1), True, "a_{11,1}"),
        ("x", (1, 2, 3, 4), False, "x_{1234}"),
    ],
)
def test_entry_name(letter, index, commas, expected):
    assert entry_name(letter, index, commas) == expected


def test_upstream_name():
    assert upstream_name("c_{21}") == r"\frac{\partial L}{\partial c_{21}}"


def test_small_matrices_use_the_reference_names():
    d = symgrad.matmul(2, 4, 3)
    assert str(d.inputs["A"][1, 2]) == "a_{23}"
    assert str(d.inputs["B"][0, 1]) == "b_{12}"


def test_names_stay_distinct_from_ten_on():
    d = symgrad.matmul(12, 11, 1)
    A = d.inputs["A"]
    assert str(A[0, 10]) == "a_{1,11}"
    assert str(A[10, 0]) == "a_{11,1}"
    assert A[0, 10] != A[10, 0]
    names = [str(s) for s in itertools.chain(A, d.inputs["B"])]
    assert len(set(names)) == len(names) == 12 * 11 + 11 * 1


def test_chosen_letters():
    d = symgrad.matmul(2, 2, 2, letters=("x", "w", "y"))
    assert set(d.inputs) == {"X", "W"}
    assert str(d.inputs["X"][0, 1]) == "x_{12}"
    assert "Y" in d.outputs


@pytest.mark.parametrize("letters", [("a", "a", "c"), ("a", "b", "g"), ("ab", "b", "c"), ("1", "b", "c")])
def test_bad_letters(letters):
    with pytest.raises(symgrad.SymgradError, match="letter"):
        symgrad.matmul(2, 2, 2, letters=letters)
