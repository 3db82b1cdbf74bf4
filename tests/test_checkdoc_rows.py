"""Rows of a display that start with an operator: a continuation of the side above, an equation
of their own, or, where the layout cannot tell, neither checked. Each verdict expected here is
worked out by hand in its comment; the last test builds minus-led equations whose truth it knows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.checkdoc import check_document

from .commandline import run as cli

ROOT = Path(__file__).resolve().parents[1]
# x_1, x_2, x_3 inputs, i over 1..3; L = x_1^2 + x_2^2, so ∂L/∂x_1 = 2 x_1
HEAD = (
    "---\nsymgrad:\n  sizes: [{n: 3}]\n  indices: {i: n, k: n}\n  tensors: {X: [n]}\n"
    '  define:\n    "L": "x_1^2 + x_2^2"\n---\n'
)
AMBIGUOUS = "not read: ambiguous"
MINUS_DL = r"-\frac{\partial L}{\partial x_1}"  # -∂L/∂x_1 = -2 x_1


def post(folder: Path, body: str, name: str = "post.md") -> Path:
    path = folder / name
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def links(folder: Path, body: str) -> list:
    return [(link.verdict, link.line) for link in check_document(post(folder, body)).links]


def aligned(*rows: str) -> str:
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$\n"


def environment(name: str, *rows: str) -> str:
    return f"\\begin{{{name}}}\n" + " \\\\\n".join(rows) + f"\n\\end{{{name}}}\n"


def spans(*formulas: str) -> str:
    """An HTML equation block, a formula per \\( \\) span, as the reference post writes them."""
    body = "".join(f"<p>\\( {f} \\)</p>" for f in formulas)
    return f'<div class="alert alert-secondary equation">\n{body}\n</div>\n'


# --- a row whose left column is empty goes on with the side above ------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        # 5 x_i = 2 x_i + 3 x_i, for every i
        (aligned(r"5 x_i &= 2x_i", r"&\quad + 3x_i"), [("proven", 2)]),
        # 2 x_i + 3 x_i is not 2 x_i
        (aligned(r"2 x_i &= 2x_i", r"&\quad + 3x_i"), [("refuted", 2)]),
        # spacing before the & leaves the left column empty
        (aligned(r"5 x_i &= 2x_i", r"\quad & + 3x_i"), [("proven", 2)]),
        (aligned(r"5 x_i &= 2x_i", r"\hspace{1em} & + 3x_i"), [("proven", 2)]),
        (aligned(r"5 x_i &= 2x_i", r"&\hspace{2em} + 3x_i"), [("proven", 2)]),
        # 6 x_1 x_2 = 2 x_1 · 3 x_2, continued, then chained on: = 6 x_2 x_1
        (aligned(r"6 x_1 x_2 &= 2 x_1", r"&\qquad \cdot 3 x_2", r"&= 6 x_2 x_1"), [("proven", 2), ("proven", 3)]),
        # the chain continued after spacing: x_1 + x_1 = 2 x_1
        (aligned(r"x_1 + x_1 &= 2 x_1", r"&\quad = x_1 \cdot 2"), [("proven", 1), ("proven", 2)]),
    ],
)
def test_a_row_with_an_empty_left_column_continues_the_side_above(tmp_path, body, expected):
    assert links(tmp_path, body) == expected


# --- a row whose left column is written is an equation of its own ------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        # -x_1 = -2 x_1 + x_1, after a chain: its own equation, true
        (aligned(r"x_1 + x_1 &= 2 x_1", r"-x_1 &= -2 x_1 + x_1"), [("proven", 1), ("proven", 2)]),
        # the same after a continuation row
        (aligned(r"5 x_i &= 2x_i", r"&\quad + 3x_i", r"-x_2 &= -2 + 2 - x_2"), [("proven", 2), ("proven", 3)]),
        # -∂L/∂x_1 = -2 x_1
        (aligned(r"L &= x_1^2 + x_2^2", MINUS_DL + r" &= -2 x_1"), [("proven", 1), ("proven", 2)]),
        # in an align whose other row is aligned, a row without & stands in its left column
        (environment("align", r"x_1 &= x_1", r"-x_2 = -2 x_2 + x_2"), [("proven", 1), ("proven", 2)]),
        (environment("eqnarray", r"x_1 &=& x_1", r"-x_2 &=& x_1 - x_1 - x_2"), [("proven", 1), ("proven", 2)]),
        (environment("gather", r"x_1 = x_1", MINUS_DL + r" = -2 x_1"), [("proven", 1), ("proven", 2)]),
    ],
)
def test_a_minus_led_row_with_its_left_column_written_is_its_own_equation(tmp_path, body, expected):
    assert links(tmp_path, body) == expected


@pytest.mark.parametrize(
    "body, expected",
    [
        # -x_2 is not 2 x_2 (x_2 = 1): the row is read alone and refuted
        (aligned(r"x_1 &= x_1", r"-x_2 &= 2 x_2"), [("proven", 1), ("refuted", 2)]),
        # -∂L/∂x_1 = -2 x_1, not 2 x_1
        (aligned(r"L &= x_1^2 + x_2^2", MINUS_DL + r" &= 2 x_1"), [("proven", 1), ("refuted", 2)]),
        (environment("align", r"x_1 &= x_1", r"-x_2 = 2 x_2"), [("proven", 1), ("refuted", 2)]),
        (environment("eqnarray", r"x_1 &=& x_1", r"-x_2 &=& x_2"), [("proven", 1), ("refuted", 2)]),
        # a wrong line above a minus-led equation stays refuted
        (aligned(r"x_1 &= 2 x_1", r"-x_2 &= -x_2"), [("refuted", 1), ("proven", 2)]),
    ],
)
def test_a_wrong_minus_led_equation_of_its_own_is_refuted(tmp_path, body, expected):
    assert links(tmp_path, body) == expected


# --- without alignment marks: an operator-led line with an = of its own is not guessed ---------


@pytest.mark.parametrize(
    "body",
    [
        spans(r"L = x_1^2 + x_2^2", MINUS_DL + r" = -2 x_1"),
        spans(r"L = x_1^2 + x_2^2", MINUS_DL + r" = 2 x_1"),  # false alone, true nowhere
        environment("multline", r"x_1 = x_1", r"- x_2 = -x_2"),
        "$$ x_1 = 2 x_1 \\\\ + x_2 = x_2 $$\n",  # x_1 = 2 x_1 + x_2 = x_2 may be what is meant
    ],
)
def test_an_operator_led_line_with_its_own_equality_is_reported_ambiguous(tmp_path, body):
    report = check_document(post(tmp_path, body))
    # the link above it and its own first link: each reading gives them other sides
    assert [(link.verdict, link.line) for link in report.links] == [("unchecked", 1), ("unchecked", 2)]
    for link in report.links:
        assert link.reason.startswith(AMBIGUOUS), link.reason
        assert "start the line with =" in link.reason and "on one line" in link.reason, link.reason


def test_an_ambiguous_line_still_checks_the_links_both_readings_share(tmp_path):
    # -x_2 = -x_2 = 2 x_2: its second link (-x_2 = 2 x_2) is the same in both readings, and false
    body = spans(r"x_1 = x_1", r"-x_2 = -x_2 = 2 x_2")
    assert links(tmp_path, body) == [("unchecked", 1), ("unchecked", 2), ("refuted", 2)]


@pytest.mark.parametrize(
    "body, expected",
    [
        # with no = of its own, a span that starts with an operator continues: 5 x_1 = 2 x_1 + 3 x_1
        (spans(r"5 x_1 = 2 x_1", r"+ 3 x_1"), [("proven", 2)]),
        (spans(r"2 x_1 = 2 x_1", r"- 3 x_1"), [("refuted", 2)]),
        # and an = at its start continues the chain
        (spans(r"x_1 + x_1 = 2 x_1", r"= x_1 \cdot 2"), [("proven", 1), ("proven", 2)]),
        (environment("multline", r"5 x_1 = 2 x_1", r"\quad + 3 x_1"), [("proven", 2)]),
    ],
)
def test_an_operator_led_line_without_an_equality_continues_the_side_above(tmp_path, body, expected):
    assert links(tmp_path, body) == expected


def test_the_command_line_reports_the_ambiguous_line_unchecked_and_does_not_fail(tmp_path):
    path = post(tmp_path, spans(r"L = x_1^2 + x_2^2", MINUS_DL + r" = -2 x_1"))
    run = cli("check-doc", path, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "✗" not in run.stdout.replace("0 ✗ refuted", ""), run.stdout
    assert "? (#1) line 2" in run.stdout and "ambiguous" in run.stdout, run.stdout
    assert "2 links: 0 ✓ proven, 0 ◐ pattern, 0 ✗ refuted, 2 ? unchecked" in run.stdout, run.stdout
    strict = cli("check-doc", "--strict", path, cwd=ROOT)
    assert strict.returncode == 1, strict.stdout + strict.stderr


# --- minus-led equations built true (or made false) in aligned rows ----------------------------

FUZZ = settings(max_examples=30, derandomize=True, deadline=None, database=None)
SPACING = ["", r"\quad ", r"\, ", r"\hspace{1em} "]


@st.composite
def minus_led_rows(draw):
    """An aligned display: a true equation (perhaps with a continuation row), then rows
    -q x_k = -r x_k - s x_k with r + s = q (or a perturbed q), written as aligned, align or
    eqnarray rows. Returns the body and, per link, whether it is true."""
    kind = draw(st.sampled_from(["aligned", "align", "eqnarray"]))
    mark = "&=&" if kind == "eqnarray" else "&="
    empty = "&&" if kind == "eqnarray" else "&"
    p, j = draw(st.integers(1, 9)), draw(st.integers(1, 3))
    rows, truth = [f"{p + 1} x_{{{j}}} {mark} {p} x_{{{j}}}"], []
    if draw(st.booleans()):  # (p + 1) x_j = p x_j + x_j, over two rows
        rows.append(f"{empty}{draw(st.sampled_from(SPACING))} + x_{{{j}}}")
    else:  # (p + 1) x_j = p x_j + x_j on one row
        rows[0] += f" + x_{{{j}}}"
    truth.append(True)
    for _ in range(draw(st.integers(1, 3))):
        r, s, k = draw(st.integers(0, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 3))
        true = draw(st.booleans())
        q = r + s if true else r + s + draw(st.sampled_from([1, -1]))
        product = draw(st.sampled_from([" ", r" \cdot ", r" \times "]))
        rows.append(f"-{q}{product}x_{{{k}}} {mark} -{r} x_{{{k}}} - {s} x_{{{k}}}")
        truth.append(true)
    body = aligned(*rows) if kind == "aligned" else environment(kind, *rows)
    return body, truth


@FUZZ
@given(minus_led_rows())
def test_minus_led_equations_in_aligned_rows_get_the_verdict_their_construction_implies(tmp_path_factory, case):
    body, truth = case
    found = [verdict for verdict, _ in links(tmp_path_factory.mktemp("rows"), body)]
    assert found == ["proven" if t else "refuted" for t in truth], (body, found)


# --- a MathJax display script that holds an equation environment -------------------------------


def test_an_environment_in_a_mathjax_display_script_is_read_row_by_row(tmp_path):
    def script(formula: str) -> str:
        return f'<script type="math/tex; mode=display">{formula}</script>\n'

    page = "<html><body>\n" + "".join(
        [
            script(environment("gather", r"x_1 = x_1", r"-x_2 = -x_2")),  # two rows, both true
            script(environment("align*", r"x_1 &= x_1", r"-x_2 &= 2 x_2")),  # -x_2 is not 2 x_2
            script(environment("eqnarray", r"5 x_1 &=& 2 x_1", r"&& + 3 x_1")),  # 5 x_1 = 2 x_1 + 3 x_1
            script(environment("align", "x_1 &= x_1") + environment("align", "x_2 &= x_2")),  # two: not guessed
        ]
    )
    path = tmp_path / "page.html"
    path.write_text(page + "</body></html>\n", encoding="utf-8")
    (tmp_path / "page.html.symgrad.yaml").write_text("sizes: [{n: 3}]\ntensors: {X: [n]}\n", encoding="utf-8")
    found = [(link.equation, link.verdict, link.line) for link in check_document(path).links]
    assert found[:5] == [
        ("#1", "proven", 1),
        ("#1", "proven", 2),
        ("#2", "proven", 1),
        ("#2", "refuted", 2),
        ("#3", "proven", 2),
    ]
    assert [verdict for equation, verdict, _ in found[5:]] == ["unchecked"], found  # not one environment


@pytest.mark.parametrize(
    "body, expected",
    [
        # "5 x_1 =" alone on its line: the next line is its right side, 2 x_1 + 3 x_1
        (spans(r"5 x_1 =", r"2 x_1 + 3 x_1"), [("proven", 2)]),
        (spans(r"5 x_1 =", r"-x_2 + x_2 + 2 x_1"), [("refuted", 2)]),
        # its own = is then the chain's next link: 5 x_1 = -x_2 + x_2 + 5 x_1 = 5 x_1, not ambiguous
        (spans(r"5 x_1 =", r"-x_2 + x_2 + 5 x_1 = 5 x_1"), [("proven", 2), ("proven", 2)]),
        (aligned(r"5 x_1 &=", r"&\quad 2 x_1 + 3 x_1"), [("proven", 2)]),
        # an empty side with the next row's left column written: an equation of its own after it
        (aligned(r"5 x_1 &=", r"x_1 &= x_1"), [("unchecked", 1), ("proven", 2)]),
    ],
)
def test_a_line_ending_with_an_equals_sign_goes_on_in_the_next_line(tmp_path, body, expected):
    assert links(tmp_path, body) == expected
