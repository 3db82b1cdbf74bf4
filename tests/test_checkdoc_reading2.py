"""How check-doc reads what a reader would not read as one formula or as a product: equations set
apart by a wide space, digits that print as one number, a double superscript, a mixed number.
Each verdict expected here is worked out by hand in its comment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from symgrad.checkdoc import check_document

from .commandline import run
from .test_checkdoc_reading import post as declared_post

ROOT = Path(__file__).resolve().parents[1]
# x_1, x_2, x_3 inputs; i, j and k run over 1..3
HEAD = "---\nsymgrad:\n  sizes: [{n: 3}]\n  indices: {i: n, k: n, j: n}\n  tensors: {X: [n]}\n---\n"


def post(tmp_path, body: str, name: str = "post.md") -> Path:
    return declared_post(tmp_path, body, name, HEAD)


def links(tmp_path, body: str, name: str = "post.md") -> list:
    return [(link.verdict, link.left, link.right) for link in check_document(post(tmp_path, body, name)).links]


def reasons(tmp_path, body: str, name: str = "post.md") -> list:
    return [(link.verdict, link.reason) for link in check_document(post(tmp_path, body, name)).links]


def cli(*args) -> subprocess.CompletedProcess:
    return run(*args, cwd=ROOT)


# --- a wide space sets two equations apart ---------------------------------------------------------


@pytest.mark.parametrize(
    "space", [r"\qquad", r"\quad", r"\hspace{1cm}", r"\hspace*{2em}", r"\hskip 1cm", r"\enspace", r"\ "]
)
def test_a_wide_space_between_two_equations_makes_two_equations(tmp_path, space):
    # x_1 = x_1 and x_2 = x_2: two true equations, not x_1 = x_1 x_2 = x_2
    assert links(tmp_path, f"$$ x_1 = x_1 {space} x_2 = x_2 $$\n") == [
        ("proven", "x_1", "x_1"),
        ("proven", "x_2", "x_2"),
    ]
    # 2 x_1 = 2 is false (x_1 = 2 gives 4); x_1 = 2 x_1 too: never 2 x_1 = 2 · x_1
    found = links(tmp_path, f"$$ 2 x_1 = 2 {space} x_1 = x_1 \\cdot 2 $$\n")
    assert found == [("refuted", "2 x_1", "2"), ("refuted", "x_1", "x_1 \\cdot 2")]


@pytest.mark.parametrize(
    "body, name",
    [
        ("$$\n\\begin{aligned}\n2 x_1 = 2 \\qquad x_1 = x_1 \\cdot 2\n\\end{aligned}\n$$\n", "post.md"),
        ("\\begin{equation}\n2 x_1 = 2 \\qquad x_1 = x_1 \\cdot 2\n\\end{equation}\n", "post.tex"),
        ("$$ \\left. 2 x_1 = 2 \\right. \\qquad x_1 = x_1 \\cdot 2 $$\n", "post.md"),
    ],
)
def test_no_product_across_a_wide_space_in_any_display(tmp_path, body, name):
    assert "proven" not in [verdict for verdict, _, _ in links(tmp_path, body, name)]


@pytest.mark.parametrize(
    "body",
    [
        "$$ 2 x_1 = 2 \\qquad x_1 $$\n",  # 2 · x_1 is not what is printed
        "$$ 2 x_1 = x_1 \\quad + x_1 $$\n",  # true as a sum, but the space sets + x_1 apart
        "$$ 2 x_1 = {2 \\quad x_1} $$\n",  # inside a group too
    ],
)
def test_a_wide_space_inside_a_side_leaves_the_link_unchecked(tmp_path, body):
    ((verdict, reason),) = reasons(tmp_path, body)
    assert verdict == "unchecked" and "wide space" in reason


def test_thin_spaces_stay_as_they_are(tmp_path):
    # 2 x_1 x_2 = 2 · x_1 · x_2 with thin spaces between the factors
    assert links(tmp_path, "$$ 2 x_1 x_2 = 2 \\, x_1 \\; x_2 $$\n") == [("proven", "2 x_1 x_2", "2 \\, x_1 \\; x_2")]


def test_the_command_line_shows_two_checks_for_two_equations(tmp_path):
    done = cli("check-doc", str(post(tmp_path, "$$ x_1 = x_1 \\qquad x_2 = x_2 $$\n")))
    assert done.returncode == 0, done.stderr
    assert "✓ (#1) line 1: x_1 = x_1\n✓ (#1) line 1: x_2 = x_2\n" in done.stdout, done.stdout
    assert "2 ✓ proven, 0 ◐ pattern, 0 ✗ refuted, 0 ? unchecked" in done.stdout, done.stdout


# --- digits that print as one number ---------------------------------------------------------------


@pytest.mark.parametrize(
    "formula",
    [
        "2{5} = 10",  # prints 25
        "{2}{5} = 10",
        "1{0} x_1 = 0",  # prints 10 x_1
        "{1}0 x_1 = 0",
        "{{2}}5 = 10",
        "2{{5}} = 10",
    ],
)
def test_digits_across_braces_are_not_a_product(tmp_path, formula):
    ((verdict, reason),) = reasons(tmp_path, f"$$ {formula} $$\n")
    assert verdict == "unchecked" and "ambiguous digits" in reason


@pytest.mark.parametrize(
    "formula",
    [
        "{x_1}^{2} = x_1 x_1",
        "2 {x_1} = x_1 + x_1",
        "{2} x_1 = x_1 + x_1",
    ],
)
def test_a_group_beside_a_number_that_prints_apart_is_still_read(tmp_path, formula):
    assert [verdict for verdict, _ in reasons(tmp_path, f"$$ {formula} $$\n")] == ["proven"]


@pytest.mark.parametrize(
    "formula",
    [
        "x_{2} 3 = 3 x_2",  # prints x₂3: the 3 may be read as part of the subscript's name
        "x_1 {3} = 3 x_1",
        "{x_1^{2}}3 = 3 x_1 x_1",
        "(x_1 + x_2) 2 = 2 x_1 + 2 x_2",
    ],
)
def test_a_number_after_a_factor_is_not_read_as_a_product(tmp_path, formula):
    ((verdict, reason),) = reasons(tmp_path, f"$$ {formula} $$\n")
    assert verdict == "unchecked" and "a number after a factor" in reason


def test_a_group_that_starts_with_a_sign_after_a_factor_is_not_a_product(tmp_path):
    # 2{-5} prints 2-5 (= -3), but is 2 · (-5) = -10 as a product
    ((verdict, reason),) = reasons(tmp_path, "$$ 2{-5} = -10 $$\n")
    assert verdict == "unchecked" and "starts with a sign" in reason


# --- TeX errors and mixed numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "formula, words",
    [
        ("2^3^2 = 64", "double superscript"),  # TeX stops; 64 would be (2^3)^2
        ("2^3^2 = 512", "double superscript"),
        ("x_1^T^2 = x_1 x_1", "double superscript"),
        ("x_1_2 = x_1", "double subscript"),
    ],
)
def test_a_double_script_is_not_read(tmp_path, formula, words):
    ((verdict, reason),) = reasons(tmp_path, f"$$ {formula} $$\n")
    assert verdict == "unchecked" and words in reason


def test_a_power_of_a_power_with_braces_is_read(tmp_path):
    # (2^3)^2 = 64 and 2^(3^2) = 512
    assert [v for v, _ in reasons(tmp_path, "$$ {2^3}^2 = 64 $$\n$$ 2^{3^2} = 512 $$\n")] == ["proven", "proven"]


@pytest.mark.parametrize("formula", [r"2\frac{1}{2} = 1", r"2\frac{1}{2} = \frac{5}{2}", r"2 \frac{1}{2} x_1 = x_1"])
def test_a_number_before_a_fraction_of_numbers_is_not_read(tmp_path, formula):
    ((verdict, reason),) = reasons(tmp_path, f"$$ {formula} $$\n")
    assert verdict == "unchecked" and "mixed number" in reason


@pytest.mark.parametrize(
    "formula", [r"2 \cdot \frac{1}{2} = 1", r"2 \frac{x_1}{2} = x_1", r"x_1 \frac{1}{2} = \frac{x_1}{2}"]
)
def test_a_product_with_a_fraction_written_plainly_is_read(tmp_path, formula):
    assert [v for v, _ in reasons(tmp_path, f"$$ {formula} $$\n")] == ["proven"]


# --- rows that continue the side above -------------------------------------------------------------


def aligned(*rows: str, kind: str = "aligned") -> str:
    return f"$$\n\\begin{{{kind}}}\n" + " \\\\\n".join(rows) + f"\n\\end{{{kind}}}\n$$\n"


@pytest.mark.parametrize(
    "body",
    [
        aligned(r"2 x_1 &= 2 x_1", r"+ 3 x_1"),  # no & on the row
        aligned(r"2 x_1 = 2 x_1", r"+ 3 x_1", kind="gathered"),
        aligned(r"2 x_1 &= 2 x_1", "\u2212 3 x_1"),  # the minus sign U+2212: 2 x_1 - 3 x_1 = -x_1
        aligned(r"2 x_1 &= 2 x_1", r"\phantom{=} + 3 x_1"),
        aligned(r"2 x_1 &= 2 x_1", r"\hphantom{=} & + 3 x_1"),
    ],
)
def test_an_operator_led_row_without_an_equality_continues_the_side_above(tmp_path, body):
    # 2 x_1 = 2 x_1 ± 3 x_1 is false (x_1 = 1: 2 against 5 or -1); never ✓ for 2 x_1 = 2 x_1 alone
    (link,) = check_document(post(tmp_path, body)).links
    assert (link.verdict, link.line) == ("refuted", 2)


def test_a_continued_side_that_is_right_is_proven(tmp_path):
    # 5 x_1 = 2 x_1 + 3 x_1 and -x_1 = 2 x_1 - 3 x_1
    body = aligned(r"5 x_1 &= 2 x_1", r"+ 3 x_1") + aligned(r"-x_1 &= 2 x_1", "\u2212 3 x_1")
    assert [(v, left) for v, left, _ in links(tmp_path, body)] == [("proven", "5 x_1"), ("proven", "-x_1")]


def test_a_row_starting_with_plus_minus_leaves_the_side_unchecked(tmp_path):
    ((verdict, reason),) = reasons(tmp_path, aligned(r"2 x_1 &= 2 x_1", r"\pm 3 x_1"))
    assert verdict == "unchecked" and "\\pm" in reason


@pytest.mark.parametrize(
    "row",
    [r"\left( x_1 \right)", r"\frac{1}{1} x_1", r"& \left( x_1 \right)"],
)
def test_a_row_with_no_operator_and_no_equality_leaves_the_side_above_unchecked(tmp_path, row):
    # 2 x_1 = 2 alone is false, and 2 (x_1) would be true: neither is checked
    ((verdict, reason),) = reasons(tmp_path, aligned(r"2 x_1 &= 2", row))
    assert verdict == "unchecked" and "no = and no operator" in reason


def test_a_display_that_starts_with_an_operator_continues_the_display_before(tmp_path):
    # 2 x_1 = 2 x_1 + 4 x_1 is false (x_1 = 1: 2 against 6)
    page = "<html><body>\n<p>\\[2 x_1 = 2 x_1\\]</p>\n<p>\\[\\quad + 4 x_1\\]</p>\n</body></html>\n"
    done = cli("check-doc", str(post(tmp_path, page, "page.html")))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "✗ (#1) line 2: 2 x_1 = 2 x_1 \\quad + 4 x_1" in done.stdout, done.stdout
    assert "✓" not in done.stdout.replace("0 ✓ proven", ""), done.stdout


def test_a_display_after_prose_is_not_joined_to_the_one_before(tmp_path):
    body = "$$ 2 x_1 = 2 x_1 $$\nand then\n$$ + 4 x_1 $$\n"
    assert [v for v, _ in reasons(tmp_path, body)] == ["proven", "unchecked"]


# --- displays a reader sees are read; text a reader does not see is not ----------------------------

WRONG = "x_1 = 2 x_1"  # false at x_1 = 1


@pytest.mark.parametrize(
    "body",
    [
        f"\\begin{{dmath}}\n{WRONG}\n\\end{{dmath}}\n",
        f"\\begin{{dmath}}[label=eq:one]\n{WRONG}\n\\end{{dmath}}\n",
        f"\\begin{{dmath*}}\n{WRONG}\n\\end{{dmath*}}\n",
        f"\\begin{{dgroup}}\n\\begin{{dmath}}\n{WRONG}\n\\end{{dmath}}\n\\end{{dgroup}}\n",
        f"\\begin{{multline*}}\n{WRONG}\n\\end{{multline*}}\n",
        f"\\begin{{flalign*}}\n{WRONG.replace('=', '&=')}\n\\end{{flalign*}}\n",
    ],
)
def test_every_display_environment_of_latex_is_read(tmp_path, body):
    assert [v for v, _, _ in links(tmp_path, body, "post.tex")] == ["refuted"]


def test_xalignat_columns_pair_as_in_align(tmp_path):
    # x_1 = x_1 (true) and x_2 = 2 x_2 (false), side by side; then x_1 + x_1 = 2 x_1 (true)
    body = "\\begin{xalignat}{2}\nx_1 &= x_1 & x_2 &= 2 x_2 \\\\\nx_1 + x_1 &= 2 x_1\n\\end{xalignat}\n"
    assert [v for v, _, _ in links(tmp_path, body, "post.tex")] == ["proven", "refuted", "proven"]
    body = body.replace("xalignat", "xxalignat")
    assert [v for v, _, _ in links(tmp_path, body, "post.tex")] == ["proven", "refuted", "proven"]


def test_a_display_script_in_markdown_is_read(tmp_path):
    body = f'Text.\n\n<script type="math/tex; mode=display">{WRONG}</script>\n'
    done = cli("check-doc", str(post(tmp_path, body)))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "✗ (#1) line 1: x_1 = 2 x_1" in done.stdout, done.stdout


@pytest.mark.parametrize(
    "hidden, name",
    [
        (f"{{% comment %}}\n$$ {WRONG} $$\n{{% endcomment %}}", "post.md"),
        (f"{{%- comment -%}}\n$$ {WRONG} $$\n{{%- endcomment -%}}", "post.md"),
        (f"<pre>\n$$ {WRONG} $$\n</pre>", "post.md"),
        (f"<code>$$ {WRONG} $$</code>", "post.md"),
        (f"<style>\n/* $$ {WRONG} $$ */\n</style>", "post.md"),
        (f"<p>{{% comment %}} \\[ {WRONG} \\] {{% endcomment %}}</p>", "page.html"),
        (f"<![CDATA[ \\[ {WRONG} \\] ]]>", "page.html"),
        (f"<style>\n/* \\[ {WRONG} \\] */\n</style>", "page.html"),
        (f"\\if0\n\\begin{{equation}}\n{WRONG}\n\\end{{equation}}\n\\fi", "post.tex"),
    ],
)
def test_text_no_reader_sees_is_not_checked(tmp_path, hidden, name):
    shown = "$$ x_1 = x_1 $$" if name == "post.md" else "\\[ x_1 = x_1 \\]"
    body = f"{hidden}\n\n{shown}\n"
    if name.endswith(".html"):
        body = f"<html><body>\n{body}</body></html>\n"
    assert [v for v, _, _ in links(tmp_path, body, name)] == ["proven"]


def test_liquid_raw_is_shown_and_read(tmp_path):
    body = f"{{% raw %}}\n$$ {WRONG} $$\n{{% endraw %}}\n"
    assert [v for v, _, _ in links(tmp_path, body)] == ["refuted"]


def test_an_if_that_is_true_is_read(tmp_path):
    # \if00 compares 0 with 0: true, so its text is typeset
    body = f"\\if00\n\\begin{{equation}}\n{WRONG}\n\\end{{equation}}\n\\fi\n"
    assert [v for v, _, _ in links(tmp_path, body, "post.tex")] == ["refuted"]


@pytest.mark.parametrize("formula", [r"\log 2 x_1 = x_1 \log 2", r"\exp x_1 x_2 = x_2 \exp x_1"])
def test_a_function_without_parentheses_before_a_product_is_not_read(tmp_path, formula):
    # log(2) x_1 = x_1 log 2 holds, log(2 x_1) = x_1 log 2 does not: the reading is not guessed
    ((verdict, reason),) = reasons(tmp_path, f"$$ {formula} $$\n")
    assert verdict == "unchecked" and "without parentheses" in reason


@pytest.mark.parametrize(
    "formula", [r"\log(2) x_1 = x_1 \log 2", r"\log x_1 + x_2 = x_2 + \log x_1", r"x_2 \exp x_1 = \exp(x_1) x_2"]
)
def test_a_function_argument_set_apart_is_read(tmp_path, formula):
    assert [v for v, _ in reasons(tmp_path, f"$$ {formula} $$\n")] == ["proven"]
