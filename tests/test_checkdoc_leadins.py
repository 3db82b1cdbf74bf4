"""A case stated in the prose before a display ("for i = j,") is found in the text a reader sees,
at the display's own place as the reader found it: a code block or another display form before
it does not lose the case, and a case written in a comment is never taken as stated."""

from __future__ import annotations

from pathlib import Path

import yaml

from symgrad.checkdoc import check_document

PAIRS = {"sizes": [{"n": 3}], "indices": {"i": "n", "j": "n"}, "tensors": {"X": ["n"]}}
DIAGONAL = r"\frac{\partial x_i}{\partial x_j} = 1"  # true only where i = j


def post(tmp_path, body: str) -> Path:
    front = yaml.safe_dump({"symgrad": PAIRS}, allow_unicode=True)
    path = tmp_path / "post.md"
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return path


def verdicts(path: Path) -> list:
    return [link.verdict for link in check_document(path).links]


def test_a_case_before_a_display_counts_after_a_code_block_holding_dollars(tmp_path):
    body = f"```\n$$ not a display $$\n```\n\nThe derivative, for $i = j$,\n\n$$\n{DIAGONAL}\n$$\n"
    assert verdicts(post(tmp_path, body)) == ["pattern"]


def test_a_case_before_a_display_counts_after_a_display_written_another_way(tmp_path):
    body = f"\\[ x_1 = x_1 \\]\n\nThe derivative, for $i = j$,\n\n\\begin{{equation}}\n{DIAGONAL}\n\\end{{equation}}\n"
    assert verdicts(post(tmp_path, body)) == ["proven", "pattern"]


def test_a_case_in_a_comment_is_not_stated(tmp_path):
    body = f"The derivative <!-- for $i = j$, -->\n\n$$\n{DIAGONAL}\n$$\n"
    assert verdicts(post(tmp_path, body)) == ["refuted"]
