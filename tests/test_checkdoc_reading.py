"""How check-doc reads a post: numbers as they print, rows and columns of aligned displays,
the scope of a derivative operator, the bounds of a sum, which displays a reader sees, and the
HTML report. Each verdict expected here is worked out by hand in its comment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from symgrad.checkdoc import check_document

from .commandline import run

ROOT = Path(__file__).resolve().parents[1]
# x_1, x_2, x_3 inputs; i and k run over 1..3
HEAD = "---\nsymgrad:\n  sizes: [{n: 3}]\n  indices: {i: n, k: n}\n  tensors: {X: [n]}\n---\n"


def post(tmp_path, body: str, name: str = "post.md", head: str = HEAD) -> Path:
    """A post declaring head's sizes: in its front matter (Markdown) or beside it (LaTeX, HTML)."""
    path = tmp_path / name
    if name.endswith(".md"):
        path.write_text(head + body, encoding="utf-8")
    else:
        path.write_text(body, encoding="utf-8")
        declarations = head.removeprefix("---\nsymgrad:\n").removesuffix("---\n")
        (tmp_path / f"{name}.symgrad.yaml").write_text(declarations, encoding="utf-8")
    return path


def verdicts(tmp_path, body: str, name: str = "post.md") -> list:
    return [(link.verdict, link.reason) for link in check_document(post(tmp_path, body, name)).links]


def only(tmp_path, body: str, name: str = "post.md") -> tuple:
    (result,) = verdicts(tmp_path, body, name)
    return result


def cli(*args) -> subprocess.CompletedProcess:
    return run("check-doc", *args, cwd=ROOT)


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
        assert "no upper bound" in why or "no lower bound" in why, why


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


# --- rows and columns of aligned displays -------------------------------------------------------


def aligned(*rows: str) -> str:
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$\n"


@pytest.mark.parametrize(
    "body, expected",
    [
        # 5 x_1 = 2 x_1 + 3 x_1: the continuation row is part of the right side
        (aligned(r"5 x_1 &= 2x_1", r"&\quad + 3x_1"), [("proven", 2)]),
        # 2 x_1 alone is not 5 x_1: the first part alone must not pass
        (aligned(r"2 x_1 &= 2x_1", r"&\quad + 3x_1"), [("refuted", 2)]),
        (aligned(r"x_1 &= 2x_1", r"&\quad - x_1"), [("proven", 2)]),
        (aligned(r"x_1 x_2 &= x_1", r"&\quad \cdot x_2"), [("proven", 2)]),
        # a side ending with an operator goes on in the next row
        (aligned(r"5 x_1 &= 2x_1 +", r"& 3x_1"), [("proven", 2)]),
        # continued, then chained on: 5 x_1 = 2 x_1 + 3 x_1 = 5 x_1
        (aligned(r"5 x_1 &= 2x_1", r"&\quad + 3x_1", r"&= 5 x_1"), [("proven", 2), ("proven", 3)]),
        # a row whose left column is written is an equation of its own, even with a leading minus
        (aligned(r"x_1 &= x_1", r"-x_2 &= -x_2"), [("proven", 1), ("proven", 2)]),
    ],
)
def test_a_continuation_row_continues_the_side_before_it(tmp_path, body, expected):
    links = check_document(post(tmp_path, body)).links
    assert [(link.verdict, link.line) for link in links] == expected


def test_a_continuation_row_in_multline_and_in_latex(tmp_path):
    tex = (
        "\\documentclass{article}\\begin{document}\n"
        "\\begin{multline}\n5 x_1 = 2 x_1 \\\\\n + 3 x_1\n\\end{multline}\n"
        "\\begin{multline*}\n2 x_1 = 2 x_1 \\\\\n + 3 x_1\n\\end{multline*}\n"
        "\\end{document}\n"
    )
    assert [link.verdict for link in check_document(post(tmp_path, tex, "post.tex")).links] == ["proven", "refuted"]


def html_post(body: str) -> str:
    return HEAD + '<div class="alert alert-secondary equation">\n' + body + "\n</div>\n"


def test_a_formula_split_across_two_html_spans_is_read_whole(tmp_path):
    # 5 x_1 = 2 x_1 + 3 x_1, written in two \( \) spans, as the reference post's lines are
    (link,) = check_document(post(tmp_path, html_post(r"<p>\( 5 x_1 = 2x_1 \)</p><p>\( + 3x_1 \)</p>"), "p.md")).links
    assert (link.verdict, link.line) == ("proven", 2)
    (link,) = check_document(post(tmp_path, html_post(r"<p>\( 2 x_1 = 2x_1 \)</p><p>\( + 3x_1 \)</p>"), "p.md")).links
    assert link.verdict == "refuted"


@pytest.mark.parametrize(
    "body, expected",
    [
        # two equations in one row: x_1 + x_1 = 2 x_1 (true), x_2 = 3 x_2 (false)
        (aligned(r"x_1 + x_1 &= 2 x_1 & x_2 &= 3 x_2"), ["proven", "refuted"]),
        # the wrong one first, and each column's chain continued by the next row
        (
            aligned(r"x_2 &= 4 x_2 & x_1 + x_1 &= 2 x_1", r"&= 4 x_2 & &= x_1 + x_1"),
            ["refuted", "proven", "proven", "proven"],
        ),
        # the bug as reported: the 4 belongs to the first equation only
        (aligned(r"2 + 2 &= 4 & x_1 &= x_1 + 0"), ["proven", "proven"]),
        (aligned(r"2 + 2 &= 5 & x_1 &= x_1 + 0"), ["refuted", "proven"]),
    ],
)
def test_two_equations_in_one_aligned_row_are_checked_apart(tmp_path, body, expected):
    assert [link.verdict for link in check_document(post(tmp_path, body)).links] == expected


def test_eqnarray_rows_are_read_three_columns_an_equation(tmp_path):
    body = "\\begin{eqnarray}\n5 x_1 &=& 2 x_1 \\\\\n&& + 3 x_1 \\\\\n-x_2 &=& -x_2\n\\end{eqnarray}\n"
    assert [link.verdict for link in check_document(post(tmp_path, body)).links] == ["proven", "proven"]


def test_gather_rows_are_equations_of_their_own(tmp_path):
    body = "\\begin{gather}\nx_1 = x_1 \\\\\n-x_2 = -x_2\n\\end{gather}\n"
    assert [link.verdict for link in check_document(post(tmp_path, body)).links] == ["proven", "proven"]


# --- which displays are read: every one a reader sees, and nothing else -------------------------

WRONG = "x_1 = 2 x_1"  # refuted wherever it is read
RIGHT = "x_1 + x_1 = 2 x_1"


def tex(body: str) -> str:
    return "\\begin{document}\n" + body + "\\end{document}\n"


@pytest.mark.parametrize(
    "name, body",
    [
        ("post.md", f"$$ {RIGHT} $$\n\n```\n$$ {WRONG} $$\n```\n"),
        ("post.md", f"$$ {RIGHT} $$\n\n~~~latex\n$$ {WRONG} $$\n~~~\n"),
        ("post.md", f"$$ {RIGHT} $$\n\nSome code:\n\n    $$ {WRONG} $$\n"),
        ("post.md", f"$$ {RIGHT} $$\n\n<!-- a draft:\n$$ {WRONG} $$\n-->\n"),
        ("post.md", f"$$ {RIGHT} $$\n\nwrite `$$ {WRONG} $$` for a display\n"),
        ("post.tex", tex(f"\\[ {RIGHT} \\]\n% \\[ {WRONG} \\]\n")),
        ("post.tex", tex(f"\\[ {RIGHT} \\]\n\\iffalse\n\\[ {WRONG} \\]\n\\fi\n")),
        (
            "post.tex",
            tex(f"\\[ {RIGHT} \\]\n\\iffalse \\ifx a b \\fi\n$$ {WRONG} $$\n\\fi\n"),
        ),
        (
            "post.tex",
            tex(f"\\[ {RIGHT} \\]\n\\begin{{verbatim}}\n\\[ {WRONG} \\]\n\\end{{verbatim}}\n"),
        ),
        ("post.html", f"<body>\\[ {RIGHT} \\]\n<!-- \\[ {WRONG} \\] -->\n<pre>$$ {WRONG} $$</pre></body>"),
    ],
)
def test_a_formula_a_reader_does_not_see_is_not_checked(tmp_path, name, body):
    path = post(tmp_path, body, name)
    links = check_document(path).links
    assert [link.verdict for link in links] == ["proven"], [(link.left, link.right) for link in links]


@pytest.mark.parametrize(
    "name, body",
    [
        ("post.tex", tex(f"\\[ {WRONG} \\]\n")),
        ("post.tex", tex(f"$$ {WRONG} $$\n")),
        ("post.tex", tex("\\begin{eqnarray} x_1 &=& 2 x_1 \\end{eqnarray}\n")),
        (
            "post.tex",
            tex("\\begin{alignat*}{2} x_1 &= 2 x_1 \\end{alignat*}\n"),
        ),
        ("post.tex", tex(f"\\begin{{displaymath}} {WRONG} \\end{{displaymath}}\n")),
        ("post.md", f"\\[ {WRONG} \\]\n"),
        ("post.md", f"\\begin{{equation}} {WRONG} \\end{{equation}}\n"),  # MathJax reads environments
        ("post.md", f"1. a list item\n\n    $$ {WRONG} $$\n"),  # indented in a list: the item's text
        ("post.html", f'<body><script type="math/tex; mode=display">{WRONG}</script></body>'),
        ("post.html", f"<body><p>\\[ {WRONG} \\]</p></body>"),
    ],
)
def test_every_display_a_reader_sees_is_checked(tmp_path, name, body):
    path = post(tmp_path, body, name)
    links = check_document(path).links
    assert [link.verdict for link in links] == ["refuted"], [(link.left, link.right) for link in links]


def test_a_display_never_closed_is_one_line_on_the_command_line(tmp_path):
    path = post(tmp_path, f"$$ {RIGHT} $$\n\n$$ {WRONG}\n")
    run = cli(path)
    assert run.returncode == 2 and "never closed" in run.stderr and len(run.stderr.strip().splitlines()) == 1


# --- the HTML report ------------------------------------------------------------------------------


def test_the_verdicts_go_at_the_real_end_of_the_body(tmp_path):
    page = (
        "<html><body>\n<p>\\[ " + RIGHT + " \\]</p>\n"
        "<!-- an old footer: </body> -->\n<footer>the end</footer>\n</body></html>\n"
    )
    path = post(tmp_path, page, "post.html")
    run = cli(path, "--format", "html")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    report = out.index('<section class="symgrad-check ')
    assert out.index("-->") < out.index("<footer>") < report < out.rindex("</body>")
    assert "symgrad-mark" in out[out.index("\\]") : out.index("<!--")]  # the mark beside its formula


@pytest.mark.tools
def test_the_html_report_leaves_nothing_of_the_post_live(tmp_path):
    from symgrad.checkdoc import html_report

    from .checkers import LOCAL_MATHJAX, chromium_browser, typeset
    from .test_tools import playwright_sync

    body = (
        r"$$ x_1 = \href{javascript:document.title='run'}{x_1} $$" + "\n"
        r"$$ x_2 = \style{background-image: url(javascript:alert(1))}{x_2} $$" + "\n"
        r"$$ x_1 = \class{symgrad-mark}{\cssId{symgrad-link-1}{x_1}} $$" + "\n"
        r"$$ x_2 = \require{noexistent} x_2 $$" + "\n"
    )
    path = post(tmp_path, body)
    page = tmp_path / "report.html"
    page.write_text(html_report(check_document(path), path, LOCAL_MATHJAX.as_uri()), encoding="utf-8")
    with playwright_sync()() as p:
        browser = chromium_browser(p)
        tab = browser.new_page()
        result = typeset(tab, page.as_uri())
        live = tab.evaluate(
            """() => ({
            links: Array.from(document.querySelectorAll('mjx-container [href], mjx-container a'))
                .map(e => e.getAttribute('href')),
            javascript: Array.from(document.querySelectorAll('[href]'))
                .filter(e => /^\\s*javascript:/i.test(e.getAttribute('href'))).length,
            styled: Array.from(document.querySelectorAll('mjx-container [style]'))
                .filter(e => /javascript|url\\(/i.test(e.getAttribute('style'))).length,
            ids: document.querySelectorAll('mjx-container [id^=symgrad-link-]').length,
            classes: document.querySelectorAll('mjx-container .symgrad-mark').length,
            title: document.title,
        })"""
        )
        browser.close()
    assert result["containers"] >= 4  # the formulas were typeset
    assert live["javascript"] == 0 and live["links"] == [], live
    assert live["styled"] == 0 and live["ids"] == 0 and live["classes"] == 0, live
    assert live["title"].startswith("check-doc"), live


def test_a_line_break_with_space_is_not_a_display(tmp_path):
    # \\[2pt] ends a row (in a display or in text); it opens no display and is no part of a row
    body = tex(
        "Some text\\\\[2pt]more text.\n\\begin{align}\n5 x_1 &= 2 x_1 \\\\[2pt]\n&\\quad + 3 x_1\n\\end{align}\n"
    )
    path = post(tmp_path, body, "post.tex")
    assert [(link.verdict, link.line) for link in check_document(path).links] == [("proven", 2)]


def test_a_lone_backtick_does_not_hide_the_paragraphs_after_it(tmp_path):
    # a backtick with no partner in its paragraph is a backtick: the display after it is read
    assert verdicts(tmp_path, f"a stray ` here\n\n$$ {WRONG} $$\n\nand ` there\n") == [
        ("refuted", verdicts(tmp_path, f"$$ {WRONG} $$\n")[0][1])
    ]


def test_a_comment_opened_inside_a_script_hides_nothing_after_the_script(tmp_path):
    page = f"<html><head><script>// <!-- an old habit\n</script></head><body>\\[ {WRONG} \\]</body></html>"
    path = post(tmp_path, page, "post.html")
    assert [link.verdict for link in check_document(path).links] == ["refuted"]


def test_the_verdicts_go_before_an_upper_case_body_end_too(tmp_path):
    path = post(tmp_path, f"<HTML><BODY><P>\\[ {RIGHT} \\]</P>\n</BODY></HTML>\n", "post.html")
    out = cli(path, "--format", "html").stdout
    assert out.index('<section class="symgrad-check ') < out.index("</BODY>")
