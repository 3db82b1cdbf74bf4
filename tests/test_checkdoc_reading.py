"""How check-doc reads a post: numbers as they print, rows and columns of aligned displays,
the scope of a derivative operator, the bounds of a sum, which displays a reader sees, and the
HTML report. Each verdict expected here is worked out by hand in its comment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from symgrad.checkdoc import check_document

ROOT = Path(__file__).resolve().parents[1]
# x_1, x_2, x_3 inputs; i and k run over 1..3
HEAD = "---\nsymgrad:\n  sizes: [{n: 3}]\n  indices: {i: n, k: n}\n  tensors: {X: [n]}\n---\n"


def post(tmp_path, body: str, name: str = "post.md", head: str = HEAD) -> Path:
    path = tmp_path / name
    path.write_text(head + body if name.endswith(".md") else body, encoding="utf-8")
    return path


def verdicts(tmp_path, body: str, name: str = "post.md") -> list:
    return [(link.verdict, link.reason) for link in check_document(post(tmp_path, body, name)).links]


def only(tmp_path, body: str, name: str = "post.md") -> tuple:
    (result,) = verdicts(tmp_path, body, name)
    return result


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "symgrad", "check-doc", *map(str, args)], capture_output=True, text=True, cwd=ROOT
    )


# --- numbers read as they print -----------------------------------------------------------------


@pytest.mark.parametrize(
    "formula, verdict",
    [
        (r"2.5 x_1 = \frac{5}{2} x_1", "proven"),  # 2.5 is 5/2
        (r"2.5 x_1 = 10 x_1", "refuted"),  # not 2·5
        (r"-0.5 x_1 = 0", "refuted"),  # not -0·5 = 0
        (r"0.25 x_1 + 0.75 x_1 = x_1", "proven"),
        (r"x_1^{1.5} x_1^{0.5} = x_1^{2}", "proven"),  # the exponent 3/2, not 5
        (r"x_1^{1.5} = x_1^{5}", "refuted"),
        (r"1.10 = \frac{11}{10}", "proven"),  # a trailing zero changes nothing
    ],
)
def test_a_decimal_reads_as_the_rational_it_prints_as(tmp_path, formula, verdict):
    assert only(tmp_path, f"$$ {formula} $$\n")[0] == verdict


@pytest.mark.parametrize(
    "formula, reason",
    [
        (r"10\,001 x_1 = 10 x_1", "digit groups side by side (10 001)"),
        (r"2 5 = 10", "digit groups side by side (2 5)"),
        (r"2\;5 x_1 = 10 x_1", "digit groups side by side (2 5)"),
        (r"x_12 = x_1", "a subscript 12 without braces"),  # TeX prints x₁2
        (r"x_1^12 = x_1", "12 without braces"),  # TeX prints x¹2
        (r".5 x_1 = x_1", "a decimal point with no digit before it"),
    ],
)
def test_digits_a_reader_may_read_two_ways_are_refused_with_the_reason(tmp_path, formula, reason):
    verdict, why = only(tmp_path, f"$$ {formula} $$\n")
    assert verdict == "unchecked" and reason in why, why


def test_a_decimal_on_the_command_line(tmp_path):
    path = post(tmp_path, "$$ -0.5 x_1 = 0 $$\n")
    run = cli(path)
    assert run.returncode == 1 and "✗" in run.stdout and "-x_{1}/2" in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize(
    "formula, reason",
    [
        (r"x_1^{99999999999} = x_1", "too large"),
        (r"2^{99999999999} = 2", "too large"),
        (r"x_1^{10^{5}} = x_1", "too large"),  # the exponent 100000, read through numbers
        (r"2^{2^{2000}} = 2", "too large"),
        (r"10^{400} x_1 = x_1", "more than 300 digits"),
    ],
)
def test_a_huge_literal_exponent_is_refused_not_computed(tmp_path, formula, reason):
    verdict, why = only(tmp_path, f"$$ {formula} $$\n")
    assert verdict == "unchecked" and reason in why, why


def test_a_power_of_numbers_is_the_number_it_is(tmp_path):
    assert only(tmp_path, r"$$ 2^{10} x_1 = 1024 x_1 $$" + "\n")[0] == "proven"
    assert only(tmp_path, r"$$ 4^{0.5} x_1 = 2 x_1 $$" + "\n")[0] == "proven"
    assert only(tmp_path, r"$$ 4^{0.5} x_1 = 4 x_1 $$" + "\n")[0] == "refuted"


# --- sums: a bound is honoured or the line is not read ------------------------------------------


@pytest.mark.parametrize(
    "formula, verdict",
    [
        # k from 2: x_2^2 + x_3^2, not the whole range
        (r"\sum_{k=2} x_k^2 = x_1^2 + x_2^2 + x_3^2", "unchecked"),
        (r"\sum_{k=2}^{3} x_k^2 = x_2^2 + x_3^2", "proven"),
        (r"\sum_{k=2}^{3} x_k^2 = x_1^2 + x_2^2 + x_3^2", "refuted"),
        (r"\sum_{k=1} x_k = x_1 + x_2 + x_3", "proven"),  # from 1: the declared range
        (r"\sum_{k}^{2} x_k = x_1 + x_2 + x_3", "unchecked"),  # an upper bound with no start
    ],
)
def test_a_sum_runs_over_its_written_bounds_or_is_not_read(tmp_path, formula, verdict):
    result, why = only(tmp_path, f"$$ {formula} $$\n")
    assert result == verdict, why
    if verdict == "unchecked":
        assert "bound" in why or "start" in why


# --- the scope of \frac{\partial}{\partial x} ---------------------------------------------------


@pytest.mark.parametrize(
    "formula, verdict",
    [
        # ∂(x_i x_i)/∂x_i = 2 x_i
        (r"\frac{\partial}{\partial x_i} x_i x_i = x_i", "refuted"),
        (r"\frac{\partial}{\partial x_i} x_i x_i = 2 x_i", "proven"),
        (r"\frac{\partial}{\partial x_1} x_1 \cdot x_2 = x_2", "proven"),
        # the operator stops at the + of its own level: ∂x_1/∂x_1 + x_2 = 1 + x_2
        (r"\frac{\partial}{\partial x_1} x_1 + x_2 = 1 + x_2", "proven"),
        # and at the end of its group: (∂x_1²/∂x_1) x_2 = 2 x_1 x_2
        (r"\left(\frac{\partial}{\partial x_1} x_1^2\right) x_2 = 2 x_1 x_2", "proven"),
        (r"3 \frac{\partial}{\partial x_1} x_1 x_2 = 3 x_2", "proven"),
    ],
)
def test_a_derivative_operator_applies_to_the_whole_product_after_it(tmp_path, formula, verdict):
    assert only(tmp_path, f"$$ {formula} $$\n")[0] == verdict
