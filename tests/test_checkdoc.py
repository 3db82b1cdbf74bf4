"""symgrad check-doc: a hand-written derivation checked line by line. The reference post checks
out; planted slips are caught, each at its line; correct rewritings are never flagged; bad input
is one line and exit status 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sympy

from symgrad.checkdoc import check_document
from symgrad.checkdoc.meaning import Meaning
from symgrad.checkdoc.values import Values
from symgrad.cli import main

DATA = Path(__file__).parent / "data"
REFERENCE = DATA / "reference-post.html"  # the reference post's equations as published, our sentences between
DECLARATIONS = DATA / "reference.txt.symgrad.yaml"


def reference(tmp_path, change=None) -> Path:
    text = REFERENCE.read_text(encoding="utf-8")
    if change is not None:
        old, new = change
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    post = tmp_path / "reference.html"
    post.write_text(text, encoding="utf-8")
    return post


def run(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_reference_post_checks_out(tmp_path, capsys):
    post = reference(tmp_path)
    code, out, _ = run(["check-doc", str(post), "--declarations", str(DECLARATIONS), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    by_equation: dict = {}
    for link in data["links"]:
        by_equation.setdefault(link["equation"], set()).add(link["verdict"])
    # every equation from (1) to (17) is proven, or illustrative (written with dots)
    for number in map(str, range(1, 18)):
        assert number in by_equation, number
        assert by_equation[number] <= {"proven", "unchecked"}, number
    illustrative = {link["equation"] for link in data["links"] if link["verdict"] == "unchecked"}
    assert illustrative == {"1", "2", "5", "6"}
    assert all("illustrative" in link["reason"] for link in data["links"] if link["verdict"] == "unchecked")
    assert data["counts"]["proven"] >= 40 and data["counts"]["refuted"] == 0
    assert any("(13) is used 2 times" in note for note in data["notes"])
    # --strict also asks for every line to be checked
    assert run(["check-doc", str(post), "--declarations", str(DECLARATIONS), "--strict"], capsys)[0] == 1


@pytest.mark.parametrize(
    "change, equation, value",
    [
        # one entry of Eq. (10): ∂L/∂c_21 · b_31 written as ∂L/∂c_21 · b_32
        (
            (
                r"= 0 + 0 + 0 + \frac{ {\partial L} }{ {\partial {c_{21} } } }{b_{31} }",
                r"= 0 + 0 + 0 + \frac{ {\partial L} }{ {\partial {c_{21} } } }{b_{32} }",
            ),
            "10",
            "b_{3,2}",
        ),
        # one local partial of Eq. (9): ∂c_22/∂a_23 = b_32 written as b_33
        (
            (
                r"\left( { {a_{23} }{b_{32} } } \right) + 0 = {b_{32} }",
                r"\left( { {a_{23} }{b_{32} } } \right) + 0 = {b_{33} }",
            ),
            "9",
            "b_{3,3}",
        ),
    ],
)
def test_a_slip_in_the_reference_post_is_refuted_with_a_counterexample(tmp_path, capsys, change, equation, value):
    post = reference(tmp_path, change)
    code, out, _ = run(["check-doc", str(post), "--declarations", str(DECLARATIONS)], capsys)
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(f"first refuted: ({equation})")
    assert value in out.splitlines()[1]  # the two sides' values, one of them with the slipped entry


# --- a corpus of derivations in other styles, each with slips planted --------------------------

VARIANCE = DATA / "checkdoc" / "variance.md"
MATMUL = DATA / "checkdoc" / "matmul_sum.tex"
SOFTMAX = DATA / "checkdoc" / "softmax.md"

LAST = r"&= \frac{2}{N}(x_i - \mu)" + "\n" + r"\end{aligned}"
FIRST = r"&= \frac{2}{N}\sum_{k=1}^{N}(x_k - \mu)\frac"
SLIPS = [
    (VARIANCE, LAST, LAST.replace("{2}{N}", "{1}{N}"), "a dropped factor"),
    (VARIANCE, LAST, LAST.replace(r"(x_i - \mu)", r"(\mu - x_i)"), "a sign"),
    (VARIANCE, FIRST, FIRST.replace("k=1", "k=2"), "a sum over the wrong range"),
    (MATMUL, r"&= \sum_{j=1}^{n} b_{qj}", r"&= \sum_{j=1}^{n} b_{jq}", "an index swapped"),
    (SOFTMAX, r"= p_i (1 - p_i)", r"= p_i (1 + p_i)", "a sign in the softmax Jacobian"),
    (SOFTMAX, r"= p_1 - 1 \\", r"= p_1 \\", "a dropped term of the cross-entropy gradient"),
]


def copy(tmp_path, source: Path, old: str | None = None, new: str | None = None) -> Path:
    target = tmp_path / source.name
    text = source.read_text(encoding="utf-8")
    if old is not None:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    target.write_text(text, encoding="utf-8")
    sidecar = source.with_name(source.name + ".symgrad.yaml")
    if sidecar.is_file():
        shutil.copy(sidecar, tmp_path / sidecar.name)
    return target


@pytest.mark.parametrize("source", [VARIANCE, MATMUL, SOFTMAX], ids=["markdown", "latex", "exponentials"])
def test_the_corpus_as_written_has_no_refuted_line(tmp_path, source):
    report = check_document(copy(tmp_path, source))
    assert report.count("refuted") == 0 and report.count("proven") >= 4
    assert report.count("unchecked") == 0


def test_a_refutation_beyond_polynomials_shows_its_point(tmp_path):
    report = check_document(copy(tmp_path, SOFTMAX, r"= p_i (1 - p_i)", r"= p_i (1 + p_i)"))
    (wrong,) = report.refuted
    assert "at z_{1} = " in wrong.reason and "i = 1" in wrong.reason


def test_a_line_true_only_for_k_not_i_is_shown_with_its_pattern(tmp_path):
    report = check_document(copy(tmp_path, VARIANCE))
    (partial,) = [link for link in report.links if link.verdict == "pattern"]
    assert partial.reason == "holds only where i ≠ k"


@pytest.mark.parametrize("source, old, new, slip", SLIPS, ids=[s[3] for s in SLIPS])
def test_every_planted_slip_is_caught(tmp_path, source, old, new, slip):
    report = check_document(copy(tmp_path, source, old, new))
    assert report.count("refuted") >= 1, slip


def test_an_index_swapped_in_a_partial_is_refuted_off_the_diagonal(tmp_path):
    # it holds where p = q, a case the post does not state: a refutation, not a pattern
    old, new = r"\frac{\partial c_{pj}}{\partial a_{pq}}", r"\frac{\partial c_{pj}}{\partial a_{qp}}"
    report = check_document(copy(tmp_path, MATMUL, old, new))
    slipped = [link for link in report.links if link.verdict != "proven"]
    assert len(slipped) == 2  # the two links on either side of the line
    assert all(link.verdict == "refuted" and "p = 1, q = 2" in link.reason for link in slipped)


def test_a_wrong_middle_line_is_named_by_its_neighbours(tmp_path):
    old = r"\left(1 - \frac{1}{N}\right)"
    report = check_document(copy(tmp_path, VARIANCE, old, r"\left(1 + \frac{1}{N}\right)"))
    refuted = report.refuted
    assert len(refuted) == 2  # the links on both sides of the wrong line
    assert [link.culprit for link in refuted] == [True, False]
    assert refuted[0].line == 2  # its right side is the wrong line


@pytest.mark.parametrize(
    "old, new",
    [
        (r"&= \frac{2}{N}(x_i - \mu)" + "\n" + r"\end", r"&= \frac{2 x_i - 2 \mu}{N}" + "\n" + r"\end"),  # expanded
        (r"\frac{\partial \mu}{\partial x_i} = \frac{1}{N}", r"N \frac{\partial \mu}{\partial x_i} = 1"),  # rearranged
        # MathType's style: spaced braces, {\rm{i}} in a subscript, \cdot between scalars
        (
            r"\frac{\partial \mu}{\partial x_i} = \frac{1}{N}",
            r"\frac{ {\partial \mu} }{ {\partial {x_{\rm{i}} } } } = 1 \cdot \frac{1}{N}",
        ),
    ],
)
def test_correct_rewritings_are_never_flagged(tmp_path, old, new):
    report = check_document(copy(tmp_path, VARIANCE, old, new))
    assert report.count("refuted") == 0
    assert report.count("unchecked") == 0  # read and proven, not passed over


# --- bad input ----------------------------------------------------------------------------------


def test_a_symbol_with_the_wrong_number_of_indices_leaves_its_line_unread(tmp_path):
    # coolgpu-backprop-batchnorm.md writes x_k for x_{c,k} in one line: that line is ?, the rest is read
    post = tmp_path / "post.md"
    post.write_text(
        "---\nsymgrad:\n  sizes: [{m: 2}]\n  tensors: {A: [m, m]}\n---\n$$ a_{2} = 1 $$\n\n$$ a_{11} = a_{11} $$\n",
        encoding="utf-8",
    )
    report = check_document(post)
    assert [(link.verdict, link.reason) for link in report.links] == [
        (
            "unchecked",
            "not read: a_{2} has 1 indices, but a has 2 (write indices of 10 or more with commas, as x_{1,10})",
        ),
        ("proven", ""),
    ]


@pytest.mark.parametrize(
    "text, name, message",
    [
        ("$$ a = 1 $$\n", "post.md", "declares nothing"),
        (
            "---\nsymgrad:\n  sizes: [{m: 2}]\n  tensors: {A: [m, m]}\n---\n$$ \\frac{a_{11} = 1 $$\n",
            "post.md",
            "unbalanced braces",
        ),
        ("---\nsymgrad:\n  sizes: [{m: 0}]\n---\n$$ a = 1 $$\n", "post.md", "positive integers"),
        ("anything", "post.docx", "reads .md, .html and .tex"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, text, name, message):
    post = tmp_path / name
    post.write_text(text, encoding="utf-8")
    code, _, err = run(["check-doc", str(post)], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_a_line_true_at_one_declared_size_only_is_refuted_at_the_other(tmp_path):
    post = tmp_path / "post.md"
    post.write_text(
        "---\nsymgrad:\n  sizes: [{m: 2}, {m: 3}]\n  tensors: {X: [m]}\n---\n"
        "$$ \\boldsymbol{X} = \\left[\\begin{array}{c} x_{1} \\\\ x_{2} \\end{array}\\right] $$\n",
        encoding="utf-8",
    )
    (link,) = check_document(post).links
    assert link.verdict == "refuted" and link.reason.startswith("at m = 3:")


def _open(page_path: Path):
    """Typeset a page in Chromium with the local MathJax; its marks and the targets they link to."""
    from .checkers import chromium_browser, typeset
    from .test_tools import playwright_sync

    with playwright_sync()() as p:
        browser = chromium_browser(p)
        page = browser.new_page()
        result = typeset(page, page_path.as_uri())
        marks = page.evaluate(
            "() => Array.from(document.querySelectorAll('a.symgrad-mark, .line a.mark'))"
            ".map(a => [a.className, a.getAttribute('href')])"
        )
        targets = page.evaluate("() => Array.from(document.querySelectorAll('[id^=symgrad-link-]')).map(e => e.id)")
        browser.close()
    return result, marks, targets


@pytest.mark.tools
def test_the_html_report_is_the_post_annotated(tmp_path, capsys):
    from .checkers import LOCAL_MATHJAX

    post = reference(
        tmp_path,
        (
            r"= {a_{11} }\frac{ {\partial L} }{ {\partial {c_{12} } } }",
            r"= {a_{12} }\frac{ {\partial L} }{ {\partial {c_{12} } } }",
        ),
    )
    code, out, _ = run(["check-doc", str(post), "--declarations", str(DECLARATIONS), "--format", "html"], capsys)
    assert code == 1
    assert out.count('<div class="alert alert-secondary equation">') == 19  # the post itself, whole
    page_path = tmp_path / "annotated.html"
    page_path.write_text(f'<script src="{LOCAL_MATHJAX.as_uri()}"></script>\n' + out, encoding="utf-8")
    result, marks, targets = _open(page_path)
    report = check_document(post, DECLARATIONS)
    assert result["errors"] == 0 and result["containers"] > 48
    assert len(marks) == len(report.links)  # a mark beside every formula, one per link it ends
    assert {href[1:] for _, href in marks} == set(targets)
    assert len([href for cls, href in marks if "refuted" in cls]) == report.count("refuted") == 1  # Eq. (14)


@pytest.mark.tools
def test_the_html_report_of_a_markdown_post_is_a_page_of_its_formulas(tmp_path):
    from symgrad.checkdoc import html_report

    from .checkers import LOCAL_MATHJAX

    post = copy(tmp_path, VARIANCE)
    report = check_document(post)
    page_path = tmp_path / "report.html"
    page_path.write_text(html_report(report, post, LOCAL_MATHJAX.as_uri()), encoding="utf-8")
    result, marks, targets = _open(page_path)
    assert result["errors"] == 0 and result["containers"] == sum(len(e.lines) for e in report.equations)
    assert len(marks) == len(report.links) and {href[1:] for _, href in marks} == set(targets)


@pytest.mark.parametrize(
    "formula, reason",
    [
        ("V_{AB} = 1", "the index A is not declared"),  # not read as V_{A·B}, nor guessed
        ("g(x_{1}) = x_{1}", "a function call g(...)"),  # not read as the product g·x
        ("x_{1} = \\int x_{1}", "the command \\int"),
    ],
)
def test_what_the_reader_cannot_read_is_reported_never_guessed(tmp_path, formula, reason):
    post = tmp_path / "post.md"
    post.write_text(
        "---\nsymgrad:\n  sizes: [{n: 2}]\n  indices: {i: n}\n  tensors: {X: [n], V: [n, n]}\n---\n"
        f"$$ {formula} $$\n",
        encoding="utf-8",
    )
    (link,) = check_document(post).links
    assert link.verdict == "unchecked" and reason in link.reason


@pytest.mark.parametrize(
    "owner, name, corrupted",
    [
        # every derivative taken as 0: the reference's ∂ lines must then fail
        (Meaning, "_derivative_entry", lambda self, f, letter, values, env: sympy.Integer(0)),
        # every sum taken as 0: c_ij's definition, and the lines that write C out, must then fail
        (Values, "_sum", lambda self, node, env, opaque: sympy.Integer(0)),
    ],
    ids=["derivatives", "sums"],
)
def test_a_corrupted_checker_is_caught_by_the_reference_post(tmp_path, monkeypatch, owner, name, corrupted):
    post = reference(tmp_path)
    monkeypatch.setattr(owner, name, corrupted)  # the class that holds the method
    report = check_document(post, DECLARATIONS)
    assert report.count("refuted") >= 1
