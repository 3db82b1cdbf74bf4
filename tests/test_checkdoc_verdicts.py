"""symgrad check-doc decides soundly: a line is proven only when it holds, refuted only at a point
where both sides are defined and certainly apart, ◐ only under a condition its author wrote, and
bad declarations or oversized work are one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from symgrad.checkdoc import check_document
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
    """symgrad check-doc as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "symgrad", "check-doc", str(path), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


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
