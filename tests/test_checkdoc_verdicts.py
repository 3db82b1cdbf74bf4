"""symgrad check-doc decides soundly: a line is proven only when it holds, refuted only at a point
where both sides are defined and certainly apart, ◐ only under a condition its author wrote, and
bad declarations or oversized work are one line and exit status 2."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest
import sympy
import yaml

from symgrad.checkdoc import check_document, equality, values
from symgrad.cli import main

ROOT = Path(__file__).resolve().parents[1]


def post(tmp_path, declarations: dict, *formulas: str, prose: str = "") -> Path:
    """A Markdown post with its declarations in front matter and one $$ block per formula."""
    front = yaml.safe_dump({"symgrad": declarations}, allow_unicode=True)
    blocks = "\n".join(f"{prose}\n\n$$\n{formula}\n$$\n" for formula in formulas)
    path = tmp_path / "post.md"
    path.write_text(f"---\n{front}---\n{blocks}", encoding="utf-8")
    return path


def cli(path: Path, *extra: str) -> subprocess.CompletedProcess:
    """symgrad check-doc as a user runs it, in this process (fast)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check-doc", str(path), *extra])
    return subprocess.CompletedProcess([], code, out.getvalue(), err.getvalue())


def one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def verdicts(path: Path) -> list:
    return [(link.verdict, link.reason) for link in check_document(path).links]


VECTOR = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"X": ["n"]}}


# --- declarations ----------------------------------------------------------------------------


def test_a_tensor_both_declared_and_defined_is_refused_by_name(tmp_path):
    # were the definition x_i = 2 ignored, ∂L/∂x_i would be 2 x_i; were it used, 0: neither is said
    decl = {**VECTOR, "define": {"x_{i}": "2", "L": "\\sum_{i=1}^{n} x_{i}^{2}"}}
    done = cli(post(tmp_path, decl, r"\frac{\partial L}{\partial x_i} = 0"))
    one_line_error(done, "x is both a declared tensor and defined")


@pytest.mark.parametrize(
    "define, cycle",
    [
        ({"y": "y_{1} + 1"}, "y → y"),
        ({"y": "w + 1", "w": "2 y"}, "w → y → w"),
        ({"L": "L"}, "L → L"),
    ],
)
def test_a_definition_that_refers_to_itself_is_refused(tmp_path, define, cycle):
    done = cli(post(tmp_path, {**VECTOR, "define": define}, "x_{1} = x_{1}"))
    one_line_error(done, "refers to itself", cycle)


def test_deep_nesting_in_a_formula_or_in_the_front_matter_is_one_line(tmp_path):
    deep = "{" * 600 + "x_{1}" + "}" * 600
    one_line_error(cli(post(tmp_path, VECTOR, f"{deep} = x_{{1}}")), "nested too deeply")
    path = tmp_path / "nested.md"
    path.write_text(
        "---\nsymgrad:\n  sizes: [{n: 2}]\n  tensors: {X: [n]}\n  indices: " + "[" * 600 + "]" * 600 + "\n---\n"
        "$$ x_{1} = x_{1} $$\n",
        encoding="utf-8",
    )
    one_line_error(cli(path), "nested too deeply")
    decl = {**VECTOR, "define": {"L": deep}}
    one_line_error(cli(post(tmp_path, decl, "L = x_{1}")), "nested too deeply")


BASE = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"X": ["n"]}, "define": {"L": "x_{1}"}}
WRONG = [
    ("sizes", None, "need sizes"),
    ("sizes", 3, "need sizes"),
    ("sizes", "n", "need sizes"),
    ("sizes", {1: 3}, "named by a word"),
    ("sizes", [{"n": "2"}], "positive integers"),
    ("sizes", [{"n": 2.0}], "positive integers"),
    ("sizes", [{"n": True}], "positive integers"),
    ("sizes", [{"n": 2}, 3], "maps size names"),
    ("sizes", [{}], "maps size names"),
    ("sizes", [{"n": 2}, {"m": 2}], "the same sizes"),
    ("indices", ["i", "n"], "indices must be a mapping"),
    ("indices", "i", "indices must be a mapping"),
    ("indices", 3, "indices must be a mapping"),
    ("indices", {"i": ["n"]}, "ranges over"),
    ("indices", {"i": 2}, "ranges over"),
    ("indices", {1: "n"}, "an index is one letter"),
    ("indices", {"ij": "n"}, "an index is one letter"),
    ("tensors", ["X"], "tensors must be a mapping"),
    ("tensors", {"X": "n"}, "must list declared sizes"),
    ("tensors", {"X": []}, "must list declared sizes"),
    ("tensors", {"X": [1]}, "must list declared sizes"),
    ("tensors", {"X": [["n"]]}, "must list declared sizes"),
    ("tensors", {"XY": ["n"]}, "one letter"),
    ("tensors", {1: ["n"]}, "one letter"),
    ("tensors", {"X": ["n"], "x": ["n"]}, "share the entries"),
    ("define", ["L", "x_{1}"], "define must be a mapping"),
    ("define", "L", "define must be a mapping"),
    ("define", {"L": 1}, "both strings"),
    ("define", {"L": None}, "both strings"),
    ("define", {1: "x_{1}"}, "both strings"),
    ("define", {"L_{q}": "1"}, "the index q of L_{q} is not declared"),
    ("define", {"L_{ii}": "1"}, "distinct"),
    ("define", {"\\frac{1}{2}": "1"}, "a letter with index letters"),
    ("define", {"L_{i}": "1", "L": "2"}, "defined twice"),
    ("define", {"L": "\\frac{1}{"}, "unbalanced braces"),
    ("define", {"n": "5"}, "n is both a declared size and defined"),
    ("define", {"i": "5"}, "i is both a declared index and defined"),
]


@pytest.mark.parametrize("key, value, message", WRONG, ids=[f"{k}={v!r}" for k, v, _ in WRONG])
def test_every_declaration_of_the_wrong_type_is_one_line_and_exit_status_2(tmp_path, capsys, key, value, message):
    path = tmp_path / "post.md"
    front = yaml.safe_dump({"symgrad": {**BASE, key: value}})
    path.write_text(f"---\n{front}---\n$$ L = x_{{1}} $$\n", encoding="utf-8")
    code = main(["check-doc", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and message in err, err


# --- deciding equality ---------------------------------------------------------------------------

ZERO = {**VECTOR, "define": {"z": "(x_{1} + 1)^{2} - x_{1}^{2} - 2 x_{1} - 1"}}  # z is 0 for every x_1


@pytest.mark.parametrize("formula", [r"\frac{z}{z} = 1", r"\frac{x_{1} z}{z} = x_{1}", r"z^{-1} z = 1"])
def test_a_division_by_an_expression_identically_zero_is_never_proven(tmp_path, formula):
    path = post(tmp_path, ZERO, formula)
    ((verdict, reason),) = verdicts(path)
    assert verdict == "unchecked" and "identically zero" in reason
    assert cli(path, "--strict").returncode == 1  # not proven: --strict says so


def test_a_wrong_line_with_a_term_on_both_sides_is_refuted_at_a_point_binding_both_sides(tmp_path):
    path = post(tmp_path, VECTOR, r"x_{1} + e^{x_{2}} = x_{1} + 2e^{x_{2}}")
    ((verdict, reason),) = verdicts(path)
    assert verdict == "refuted"
    assert "x_{1} = " in reason and "x_{2} = " in reason  # the point shown binds every symbol
    done = cli(path)
    assert done.returncode == 1 and "✗" in done.stdout


def test_equal_exponentials_are_proven_by_putting_their_arguments_together(tmp_path):
    left = r"\left(e^{\frac{197 x_{1}}{231}} + x_{2}\right)^{3}"
    right = r"\left(e^{\frac{x_{1}}{3}} e^{\frac{3 x_{1}}{7}} e^{\frac{x_{1}}{11}} + x_{2}\right)^{3}"
    path = post(tmp_path, VECTOR, f"{left} = {right}", f"{left} = {right} + x_{{2}}^{{3}}")
    assert [v for v, _ in verdicts(path)] == ["proven", "refuted"]


def test_terms_of_1e40_that_cancel_never_fake_a_difference(tmp_path):
    # log(x^2) = 2 log x where both are defined is a relation the exact form does not see (x is
    # not positive by its form); at a point, the two terms of about 10^40 cancel, and only a
    # difference of 10^-30 next to them is real
    side = r"10^{40}\log\left(x_{1}^{2}\right) - 2 \cdot 10^{40} \log x_{1} + x_{1}"
    path = post(tmp_path, VECTOR, f"{side} = x_{{1}}", f"{side} = x_{{1}} + \\frac{{1}}{{10^{{30}}}}")
    (true, _), (false, reason) = verdicts(path)
    assert true == "unchecked"  # never refuted: equal at every point
    assert false == "refuted" and "1.5 and 1.500000000000000000000000000001 at x_{1} = 3/2" in reason


@pytest.mark.parametrize(
    "formula",
    [
        # true wherever both sides are defined (x_1 ≥ 6); at x_1 = 3/2 the principal roots give -√15.75 and √15.75
        r"\sqrt{x_{1} - 5}\sqrt{x_{1} - 6} = \sqrt{(x_{1} - 5)(x_{1} - 6)}",
        r"\log(x_{1} x_{2}) = \log x_{1} + \log x_{2}",
        r"\left(x_{1}^{2}\right)^{\frac{1}{2}} = \sqrt{x_{1}^{2}}",
    ],
)
def test_a_line_true_where_it_is_defined_is_never_refuted(tmp_path, formula):
    ((verdict, reason),) = verdicts(post(tmp_path, VECTOR, formula))
    assert verdict in ("proven", "unchecked"), reason


@pytest.mark.parametrize(
    "formula, why",
    [
        (r"\frac{\partial}{\partial x_{1}} \log(-1 - x_{2}^{2}) = 0", "no point"),  # a logarithm defined nowhere
        (r"\sqrt{-x_{1}^{2} - 1}\sqrt{-x_{1}^{2} - 1} = -x_{1}^{2} - 1", "no point"),
        (r"\log(-2) = \log 2", "not positive"),
        (r"(-8)^{\frac{1}{3}} = -2", "not positive"),
        (r"\frac{1}{0} = \frac{1}{0}", "identically zero"),
    ],
)
def test_a_line_defined_nowhere_is_neither_proven_nor_refuted(tmp_path, formula, why):
    ((verdict, reason),) = verdicts(post(tmp_path, VECTOR, formula))
    assert verdict == "unchecked" and why in reason, reason


def test_a_line_false_where_it_is_defined_is_refuted_there(tmp_path):
    # √(x²) = x is false for every negative x, where both sides are defined
    ((verdict, reason),) = verdicts(post(tmp_path, VECTOR, r"\sqrt{x_{1}^{2}} = x_{1}"))
    assert verdict == "refuted" and "x_{1} = -" in reason


# --- ◐ only for a case the author stated -------------------------------------------------------

PAIRS = {"sizes": [{"n": 3}], "indices": {"i": "n", "j": "n"}, "tensors": {"X": ["n"]}}
DIAGONAL = r"\frac{\partial x_i}{\partial x_j} = 1"  # true only where i = j


def test_a_line_that_fails_at_a_whole_declared_size_is_refuted(tmp_path):
    decl = {"sizes": [{"n": 2}, {"n": 3}], "tensors": {"X": ["n"]}}
    done = cli(post(tmp_path, decl, r"x_{1} + x_{2} = \sum_{k=1}^{n} x_{k}"))
    assert done.returncode == 1
    assert "✗" in done.stdout and "at n = 3: the sides are x_{1} + x_{2} and x_{1} + x_{2} + x_{3}" in done.stdout


def test_a_line_true_only_in_a_case_nobody_stated_is_refuted(tmp_path):
    done = cli(post(tmp_path, PAIRS, DIAGONAL))
    assert done.returncode == 1
    assert "✗" in done.stdout and "i = 1, j = 2: the sides are 0 and 1" in done.stdout


@pytest.mark.parametrize(
    "formula, prose",
    [
        (DIAGONAL + r", \quad i = j", ""),
        (DIAGONAL + r" \qquad \text{if } i = j", ""),
        (DIAGONAL + r" \quad (j = i)", ""),
        (DIAGONAL + r", \text{ for } i = j.", ""),
        (DIAGONAL, "The derivative of an entry by itself, for $i = j$,"),
        (DIAGONAL, "and when i = j:"),
    ],
)
def test_a_line_true_in_the_case_its_author_stated_is_a_pattern(tmp_path, formula, prose):
    path = post(tmp_path, PAIRS, formula, prose=prose)
    ((verdict, reason),) = verdicts(path)
    assert (verdict, reason) == ("pattern", "holds only where i = j")
    assert cli(path).returncode == 0


@pytest.mark.parametrize(
    "formula, prose",
    [
        (DIAGONAL + r", \quad i \ne j", ""),
        (DIAGONAL, "and, for j ≠ i,"),
        (r"\frac{\partial x_i}{\partial x_j} = 2 \quad (i = j)", ""),  # wrong in its own case
    ],
)
def test_a_line_wrong_in_the_case_its_author_stated_is_refuted_in_that_case(tmp_path, formula, prose):
    path = post(tmp_path, PAIRS, formula, prose=prose)
    ((verdict, reason),) = verdicts(path)
    assert verdict == "refuted"
    i, j = (int(reason.split(f"{c} = ")[1][0]) for c in "ij")
    assert (i == j) == ("i = j" in formula)  # the counterexample lies inside the stated case
    assert cli(path).returncode == 1


def test_a_case_in_a_sentence_further_back_is_not_taken_as_stated(tmp_path):
    path = post(tmp_path, PAIRS, DIAGONAL, prose="This holds for i = j.\n\nThe derivative:")
    ((verdict, _),) = verdicts(path)
    assert verdict == "refuted"


# --- work sized before it starts ---------------------------------------------------------------


def test_a_declared_size_too_large_is_one_line_with_the_estimate(tmp_path):
    decl = {"sizes": [{"n": 100_000_000}], "tensors": {"X": ["n"]}}
    one_line_error(cli(post(tmp_path, decl, "x_{1} = x_{1}")), "100,000,000 entries", "n = 100000000")


@pytest.mark.parametrize(
    "formula, why",
    [
        ("2^{99999999999} = 1", "exponent 99999999999 is too large (at most 1000"),
        ("(x_{1} + x_{2})^{1000} = (x_{2} + x_{1})^{1000} + (x_{1} + x_{2} + x_{3} + x_{4})^{1000}", "terms"),
        (r"\sum_{k=1}^{100000000} k = 1", "too large: about 100,000,001 terms"),
        (r"\sum_{i=1}^{n}\sum_{j=1}^{n}\sum_{k=1}^{n} x_{i} x_{j} x_{k} = 0", "terms at n = 200"),
        (r"\left(\left(2^{1000}\right)^{1000}\right)^{1000} = 1", "more than 300 digits"),
    ],
)
def test_a_line_too_large_to_check_is_a_question_mark_with_the_reason(tmp_path, formula, why):
    decl = {"sizes": [{"n": 200}], "indices": {"i": "n", "j": "n", "k": "n"}, "tensors": {"X": ["n"]}}
    path = post(tmp_path, decl, formula, "x_{1} + x_{2} = x_{2} + x_{1}")
    done = cli(path)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()[:2]
    assert first.startswith("?") and why in first, first
    assert second.startswith("✓")  # the next line is checked as usual


# --- a corrupted decision is caught ------------------------------------------------------------


def _apart_at_53_bits(a, b, point, precisions=()):
    """Separation judged as floating point does, against the final values only."""
    import mpmath

    from symgrad.checkdoc.intervals import _enclose

    x, y = _enclose(a, point, 64), _enclose(b, point, 64)
    if x is None or y is None:
        return ""
    mx, my = (float(mpmath.mpf(box.a) + mpmath.mpf(box.b)) / 2 for box in (x, y))
    return "apart" if abs(mx - my) > 1e-12 * max(1, abs(mx), abs(my)) else ""


SIDE = r"10^{40}\log\left(x_{1}^{2}\right) - 2 \cdot 10^{40} \log x_{1} + x_{1}"
MUTATIONS = [
    # values compared without their rounding: the cancelling 10^40 terms fake a difference
    ("equality._apart", _apart_at_53_bits, f"{SIDE} = x_{{1}}", "refuted"),
    # a point that binds only the first symbol: the wrong line is no longer refuted
    (
        "equality._points",
        lambda symbols: iter([{symbols[0]: sympy.Integer(1)}]),
        r"x_{1} + e^{x_{2}} = x_{1} + 2e^{x_{2}}",
        "unchecked",
    ),
    # every condition taken as certain: a line defined nowhere is proven
    (
        "equality.certain",
        lambda kind, expr, point=None: True,
        r"\frac{\partial}{\partial x_{1}} \log(-1 - x_{2}^{2}) = 0",
        "proven",
    ),
    # a logarithm's domain not recorded: a line defined nowhere is proven
    (
        "values.Values._require",
        lambda self, kind, expr, what: None,
        r"\frac{\partial}{\partial x_{1}} \log(-1 - x_{2}^{2}) = 0",
        "proven",
    ),
]


@pytest.mark.parametrize(
    "target, corrupted, formula, wrong", MUTATIONS, ids=["separation", "point", "domain", "conditions"]
)
def test_a_corrupted_decision_gives_the_wrong_verdict_the_tests_above_reject(
    tmp_path, monkeypatch, target, corrupted, formula, wrong
):
    path = post(tmp_path, VECTOR, formula)
    ((right, _),) = verdicts(path)
    owner, _, name = target.rpartition(".")  # the module, and the class, that hold what is corrupted
    module, _, cls = owner.partition(".")
    held = {"equality": equality, "values": values}[module]
    monkeypatch.setattr(getattr(held, cls) if cls else held, name, corrupted)
    ((verdict, _),) = verdicts(path)
    assert verdict == wrong != right


def test_a_division_check_removed_proves_z_over_z(tmp_path, monkeypatch):
    from symgrad.checkdoc.values import Values

    path = post(tmp_path, ZERO, r"\frac{z}{z} = 1")
    monkeypatch.setattr(Values, "_require", lambda self, kind, expr, what: None)
    ((verdict, _),) = verdicts(path)
    assert verdict == "proven"  # what the denominator check prevents


def test_a_checker_that_reads_cases_anywhere_in_the_text_is_caught(tmp_path, monkeypatch):
    import symgrad.checkdoc as D

    path = post(tmp_path, PAIRS, DIAGONAL, prose="This holds for i = j.\n\nThe derivative:")
    monkeypatch.setattr(D, "lead_ins", lambda path, text, equations: [text] * len(equations))
    ((verdict, _),) = verdicts(path)
    assert verdict == "pattern"  # the case set out of the sentence leading in taken as stated


def test_towers_of_exponentials_are_decided_without_evaluating_them_where_they_overflow(tmp_path):
    tower = "e^{e^{e^{e^{10}}}}"
    path = post(tmp_path, VECTOR, f"{tower} = {tower} + 1", "e^{e^{e^{e^{x_{1}}}}} = 1")
    (exact, reason), (at_a_point, where) = verdicts(path)
    assert exact == "refuted" and reason.endswith("and 1 + exp(exp(exp(exp(10))))")
    assert at_a_point == "refuted" and "x_{1} = -" in where  # where the tower is small enough to evaluate


def test_an_exact_form_contradicted_at_a_point_is_not_a_proof(tmp_path, monkeypatch):
    import symgrad.checkdoc.exact as X

    # an engine that wrongly calls every difference zero: the first point refutes it
    monkeypatch.setattr(X.Line, "vanishes", lambda self: True)
    ((verdict, reason),) = verdicts(post(tmp_path, VECTOR, r"e^{x_{1}} = 2 e^{x_{1}}"))
    assert verdict == "refuted" and "at x_{1} = 3/2" in reason


def test_declarations_that_cannot_be_read_or_expand_without_end_are_one_line(tmp_path):
    path = tmp_path / "post.md"
    path.write_text("$$ x_{1} = 1 $$\n", encoding="utf-8")
    sidecar = tmp_path / "post.md.symgrad.yaml"
    sidecar.write_bytes(b"\xff\xfe\x00 not text")
    one_line_error(cli(path), "cannot read the declarations file")
    levels = ["&a [x, x, x, x, x, x, x, x, x]"] + [
        f"&{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")
    ]
    sidecar.write_text("sizes: [{n: 2}]\nindices:\n" + "".join(f"  - {level}\n" for level in levels))
    one_line_error(cli(path), "indices must be a mapping")  # 9^9 entries, never written out


@pytest.mark.parametrize("stated", [True, False])
def test_a_case_stated_in_a_latex_source_counts_there_too(tmp_path, stated):
    path = tmp_path / "post.tex"
    lead = "and, for $i = j$," if stated else "and, in general,"
    path.write_text(
        "\\begin{document}\n% a comment with $$ and \\begin{equation} in it\nFirst,\n"
        "\\begin{equation} x_{1} = x_{1} \\end{equation}\n"
        f"{lead}\n\\begin{{align}} {DIAGONAL} \\end{{align}}\n\\end{{document}}\n",
        encoding="utf-8",
    )
    (tmp_path / "post.tex.symgrad.yaml").write_text(yaml.safe_dump(PAIRS), encoding="utf-8")
    verdict = [link.verdict for link in check_document(path).links]
    assert verdict == ["proven", "pattern" if stated else "refuted"]
