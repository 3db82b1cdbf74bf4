"""check-doc against lines whose truth is known by construction.

Each line is built from an identity over x_1, x_2, x_3 whose two sides the test works out itself
(decimals added as fractions, a derivative of a monomial, a sum written out term by term), written
the ways posts write it: decimals, continuation rows, two equations in one aligned row, a
derivative operator before a product, a bounded sum. A false line is a true one perturbed: a
coefficient, an index, an exponent, a dropped term, a bound. A true line must be proven, a false
one refuted, and a false line is never proven.

The second half changes the reader on purpose (a token dropped, a sum bound moved, an index
swapped, one of the reading rules undone) and requires the verdicts to change: a reader mistake
these lines would not show is a missing test.
"""

from __future__ import annotations

import importlib
import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad.checkdoc.latex as latex
from symgrad.checkdoc import check_document

# the module, not the function check() that symgrad.checkdoc exports under the same name
check_module = importlib.import_module("symgrad.checkdoc.check")

HEAD = "---\nsymgrad:\n  sizes: [{n: 3}]\n  indices: {i: n, k: n}\n  tensors: {X: [n]}\n---\n"
FUZZ = settings(max_examples=25, derandomize=True, deadline=None, database=None)

index = st.integers(1, 3)
cents = st.integers(1, 999)  # a decimal with two places, as hundredths


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def verdicts(folder, body: str) -> list:
    path = folder / "post.md"
    path.write_text(HEAD + body, encoding="utf-8")
    return [link.verdict for link in check_document(path).links]


def display(formula: str) -> str:
    return f"$$ {formula} $$\n"


def aligned(*rows: str) -> str:
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$\n"


def dec(value: Fraction) -> str:
    """A rational with at most two decimal places, written as a post writes it."""
    hundredths = value * 100
    assert hundredths.denominator == 1
    whole, part = divmod(int(hundredths), 100)
    return f"{whole}.{part:02d}" if part else str(whole)


def x(j: int, power: int = 1) -> str:
    """x_j^power, as written: nothing for power 0."""
    if power == 0:
        return ""
    return f"x_{{{j}}}" if power == 1 else f"x_{{{j}}}^{{{power}}}"


def other(j: int, shift: int) -> int:
    return (j - 1 + shift) % 3 + 1  # another of 1, 2, 3


def expect(verdicts_: list, truth: list) -> None:
    """proven where the construction is true, refuted where it is false; never ✓ for false."""
    assert verdicts_ == ["proven" if t else "refuted" for t in truth], (verdicts_, truth)


# --- families of lines, each with its truth ---------------------------------------------------


@st.composite
def decimal_lines(draw):
    a, b, j = Fraction(draw(cents), 100), Fraction(draw(cents), 100), draw(index)
    c = a + b  # worked out here, as fractions
    perturbation = draw(st.sampled_from(["none", "coefficient", "index", "digit"]))
    right, k = c, j
    if perturbation == "coefficient":
        right = c + Fraction(1, 100)
    elif perturbation == "index":
        k = other(j, draw(st.integers(1, 2)))
    elif perturbation == "digit":  # the decimal point dropped: 2.5 written 25
        right = c * 100 if c.denominator != 1 else c + 1
    line = f"{dec(a)} {x(j)} + {dec(b)} {x(j)} = {dec(right)} {x(k)}"
    return display(line), [perturbation == "none"]


@st.composite
def exponent_lines(draw):
    # x^{e1} x^{e2} = x^{e1 + e2}, exponents written as decimals
    e1, e2, j = Fraction(draw(st.integers(1, 40)), 4), Fraction(draw(st.integers(1, 40)), 4), draw(index)
    total = e1 + e2
    wrong = draw(st.booleans())
    if wrong:
        total += 1
    return display(f"x_{{{j}}}^{{{dec(e1)}}} x_{{{j}}}^{{{dec(e2)}}} = x_{{{j}}}^{{{dec(total)}}}"), [not wrong]


@st.composite
def continuation_lines(draw):
    # (p + q) x_j = p x_j, continued by "+ q x_j" (or "- q x_j", or "\cdot q x_m")
    p, q, j, m = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(index), draw(index)
    operator = draw(st.sampled_from(["+", "-", r"\cdot"]))
    perturbation = draw(st.sampled_from(["none", "coefficient", "index", "dropped"]))
    r = m if operator == r"\cdot" else j  # the index of the continued term
    left = f"{p * q} {x(j)} {x(m)}" if operator == r"\cdot" else f"{p + q if operator == '+' else p - q} {x(j)}"
    if perturbation == "coefficient":
        q += 1
    elif perturbation == "index":
        r = other(r, 1)
    rows = [f"{left} &= {p} {x(j)}"]
    if perturbation != "dropped":  # without it the right side lacks a term that is never 0
        rows.append(rf"&\quad {operator} {q} {x(r)}")
    return aligned(*rows), [perturbation == "none"]


@st.composite
def two_column_lines(draw):
    # two equations a x_j + b x_j = (a + b) x_j in one aligned row, each true or perturbed
    cells, truth = [], []
    for _ in range(2):
        a, b, j = draw(st.integers(1, 9)), Fraction(draw(cents), 100), draw(index)
        true = draw(st.booleans())
        right = a + b if true else a + b + draw(st.sampled_from([1, Fraction(1, 10)]))
        cells.append(f"{a} {x(j)} + {dec(b)} {x(j)} &= {dec(right)} {x(j)}")
        truth.append(true)
    return aligned(" & ".join(cells)), truth


@st.composite
def derivative_lines(draw):
    # ∂/∂x_j (c x_j^p x_m): c (p+1) x_j^p when m = j, else c p x_j^(p-1) x_m
    j, m, p, c = draw(index), draw(index), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    if m == j:
        coefficient, rest = c * (p + 1), x(j, p)
    else:
        coefficient, rest = c * p, f"{x(j, p - 1)} {x(m)}"
    perturbation = draw(st.sampled_from(["none", "coefficient", "exponent", "zero"]))
    if perturbation == "coefficient":
        coefficient += 1
    elif perturbation == "exponent":
        rest = f"{rest} {x(j)}"
    # "zero": what the operator applied to the number c alone would give
    right = "0" if perturbation == "zero" else f"{coefficient} {rest}"
    line = rf"\frac{{\partial}}{{\partial x_{{{j}}}}} {c} {x(j, p)} {x(m)} = {right}"
    return display(line), [perturbation == "none"]


@st.composite
def sum_lines(draw):
    a = draw(index)
    b, e = draw(st.integers(a, 3)), draw(st.integers(1, 3))
    terms = [x(t, e) for t in range(a, b + 1)]
    perturbation = draw(st.sampled_from(["none", "dropped", "bound", "exponent", "index"]))
    high = b
    if perturbation == "dropped":
        terms = terms[1:] or ["0"]
    elif perturbation == "bound":  # one term more, or one less (an empty sum is 0)
        high = b + 1 if b < 3 else b - 1
    elif perturbation == "exponent":
        terms[0] = x(a, e + 1)
    elif perturbation == "index":  # x_a written as another entry: x_a is then missing
        terms[0] = x(other(a, 1), e)
    line = rf"\sum_{{k={a}}}^{{{high}}} x_{{k}}^{{{e}}} = " + " + ".join(terms)
    return display(line), [perturbation == "none"]


FAMILIES = {
    "decimals": decimal_lines(),
    "exponents": exponent_lines(),
    "continuation rows": continuation_lines(),
    "two equations in a row": two_column_lines(),
    "derivative of a product": derivative_lines(),
    "bounded sums": sum_lines(),
}


@pytest.mark.parametrize("family", FAMILIES, ids=list(FAMILIES))
def test_a_line_gets_the_verdict_its_construction_implies(folder, family):
    @FUZZ
    @given(FAMILIES[family])
    def run(case):
        body, truth = case
        expect(verdicts(folder, body), truth)

    run()


@FUZZ
@given(st.integers(2, 3), st.integers(1, 3))
def test_a_sum_with_only_a_lower_bound_is_never_proven_over_the_whole_range(folder, a, e):
    whole = " + ".join(x(t, e) for t in range(1, 4))
    assert verdicts(folder, display(rf"\sum_{{k={a}}} x_{{k}}^{{{e}}} = {whole}")) == ["unchecked"]


# --- the reader changed on purpose: the lines above must notice --------------------------------

TRUE_LINES = [
    display(r"2.5 x_{1} + 0.75 x_{1} = 3.25 x_{1}"),
    display(r"x_{2}^{1.5} x_{2}^{0.25} = x_{2}^{1.75}"),
    aligned(r"5 x_{1} &= 2 x_{1}", r"&\quad + 3 x_{1}"),
    aligned(r"6 x_{1} x_{2} &= 2 x_{1}", r"&\quad \cdot 3 x_{2}"),
    aligned(r"x_{1} + x_{1} &= 2 x_{1} & 3 x_{2} &= x_{2} + 2 x_{2}"),
    display(r"\frac{\partial}{\partial x_{1}} 2 x_{1}^{3} x_{2} = 6 x_{1}^{2} x_{2}"),
    display(r"\sum_{k=2}^{3} x_{k}^{2} = x_{2}^{2} + x_{3}^{2}"),
    "$$ x_{1} = x_{1} $$\n```\n$$ x_{1} = 2 x_{1} $$\n```\n",  # code: never read
    display(r"x_{1} = x_{1}"),
]


def test_the_true_lines_are_all_proven_as_read(folder):
    for body in TRUE_LINES:
        found = verdicts(folder, body)
        assert found and all(v == "proven" for v in found), (body, found)


@pytest.mark.parametrize("body", TRUE_LINES[:7], ids=[f"line{k}" for k in range(7)])
def test_a_token_dropped_from_a_read_line_is_caught(folder, monkeypatch, body):
    """Every token of these lines' right sides carries meaning: without it the line is ✗ or ?,
    never ✓. (A product sign is the exception: without it the factors are a product all the same;
    so is a wide space, which the parser keeps only to refuse a product across it.)"""
    tokenize = latex.tokenize
    right = [side for chain in check_module._chains(_shown(body)) for _, side in chain][-1]
    tokens = tokenize(right)
    for position, token in enumerate(tokens):
        if token in (r"\cdot", r"\times", latex.WIDE):
            continue

        def mutant(text, position=position):
            read = tokenize(text)
            return read[:position] + read[position + 1 :] if text == right else read

        monkeypatch.setattr(latex, "tokenize", mutant)
        found = verdicts(folder, body)
        assert found[-1] in ("refuted", "unchecked"), (right, token, position, found)


def _shown(body: str):
    from symgrad.checkdoc.reader import from_markdown

    (shown,) = from_markdown(body)
    return shown


def _sum_shifted(node):
    if isinstance(node, tuple) and node and node[0] == "sum":
        _, var, low, high, exclude, body = node
        if low is not None:
            low = ("num", low[1] + 1)
        return ("sum", var, low, high, exclude, _sum_shifted(body))
    if isinstance(node, tuple):
        return tuple(_sum_shifted(c) if isinstance(c, (tuple, list)) else c for c in node)
    if isinstance(node, list):
        return [_sum_shifted(c) for c in node]
    return node


def _index_swapped(node):
    if isinstance(node, tuple) and node and node[0] == "sym" and node[2] == ("1",):
        return ("sym", node[1], ("2",))
    if isinstance(node, tuple) and node and node[0] == "sym" and node[2] == ("2",):
        return ("sym", node[1], ("1",))
    if isinstance(node, tuple):
        return tuple(_index_swapped(c) if isinstance(c, (tuple, list)) else c for c in node)
    if isinstance(node, list):
        return [_index_swapped(c) for c in node]
    return node


@pytest.mark.parametrize(
    "name, change, lines",
    [
        ("a sum bound moved", _sum_shifted, [display(r"\sum_{k=2}^{3} x_{k}^{2} = \sum_{k=2}^{3} x_{k}^{2}")]),
        ("indices 1 and 2 swapped", _index_swapped, [display(r"3 x_{1} x_{2}^{2} = 3 x_{1} x_{2}^{2}")]),
    ],
)
def test_a_read_line_changed_after_reading_is_caught(folder, monkeypatch, name, change, lines):
    for body in lines:
        assert verdicts(folder, body) == ["proven"]
    seen: set = set()
    parse_chain = check_module.parse_chain

    def mutant(text, *vocabulary):  # the left side read as written, the same text on the right changed
        nodes = parse_chain(text, *vocabulary)
        if text in seen:
            return [change(n) for n in nodes]
        seen.add(text)
        return nodes

    monkeypatch.setattr(check_module, "parse_chain", mutant)
    for body in lines:
        seen.clear()
        assert verdicts(folder, body) in (["refuted"], ["unchecked"]), name


def _undo(monkeypatch, name):
    """One of the reading rules undone, as the reader was before it."""
    import symgrad.checkdoc.reader as reader

    if name == "decimal point dropped":
        number = latex.number
        monkeypatch.setattr(latex, "number", lambda tok: number(tok.replace(".", "")))
    elif name == "operator applies to the next factor only":
        monkeypatch.setattr(latex.Parser, "fraction", _fraction_next_factor_only(latex.Parser.fraction))
    elif name == "continuation rows dropped":
        monkeypatch.setattr(check_module, "_OPERATOR", re.compile("(?!)"))  # matches nothing
        monkeypatch.setattr(check_module, "_DANGLING", re.compile("(?!)"))
    elif name == "columns not split":
        monkeypatch.setattr(check_module, "columns", lambda row: [row.replace("&", " ")])
    elif name == "code read as math":
        monkeypatch.setattr(reader, "_hidden_markdown_code", lambda text: text)
    elif name == "sum bounds ignored":
        summation = latex.Parser.summation

        def mutant(self):
            node = summation(self)
            return ("sum", node[1], None, None, node[4], node[5])

        monkeypatch.setattr(latex.Parser, "summation", mutant)


def _fraction_next_factor_only(fraction):
    def mutant(self):
        start = self.i
        node = fraction(self)
        if node[0] != "dop":
            return node
        # read again, the operator taking the next factor alone
        self.i = start
        self.take(r"\frac")
        self.raw_group()
        den = latex._unwrap(self.raw_group())
        return ("dop", latex.Parser(den[1:]).whole(), self.factor())

    return mutant


@pytest.mark.parametrize(
    "rule",
    [
        "decimal point dropped",
        "operator applies to the next factor only",
        "continuation rows dropped",
        "columns not split",
        "code read as math",
        "sum bounds ignored",
    ],
)
def test_a_reading_rule_undone_is_caught_by_the_true_lines(folder, monkeypatch, rule):
    _undo(monkeypatch, rule)
    found = [verdicts(folder, body) for body in TRUE_LINES]
    assert any(v != ["proven"] * len(v) for v in found), rule
