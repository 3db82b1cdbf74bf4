"""check-doc reads what people publish, continued: each construct here is taken from a post of the
corpus (tests/data/corpus, cited in each test), reduced to a few lines, with a correct line proven
and a slipped one refuted. Each expected verdict is worked out by hand in its comment."""

from __future__ import annotations

from .test_checkdoc_published import display, links, verdicts

VECTOR = {"sizes": [{"m": 3}], "indices": {"i": "m"}, "tensors": {"Y": ["m"]}}


def test_an_equals_sign_ending_a_row_and_starting_the_next_is_one_equality(tmp_path):
    # scthe-backprop-cnn.md #5 writes "a =\\ = b =\\ = c": each row ends with "=" and the next
    # starts with one. The link at the row's end is decided as a = b, the next "=" is shown as that
    # same equality: 2 y_1 = y_1 + y_1 holds, y_1 + y_1 = y_1 does not (2 ≠ 1 at y_1 = 1)
    body = display("2 y_1 =", "= y_1 + y_1 =", "= y_1")
    found = links(tmp_path, body, VECTOR)
    assert [verdict for verdict, _ in found] == ["proven", "unchecked", "refuted", "unchecked"]
    assert "written again" in found[1][1] and "written again" in found[3][1]


def test_a_slip_across_a_doubled_equals_sign_is_refuted(tmp_path):
    # the same layout, the slip first (scthe-backprop-cnn.md #9 refutes its first link so):
    # 2 y_1 = y_1 is false, y_1 = y_1 true
    assert verdicts(tmp_path, display("2 y_1 =", "= y_1 =", "= y_1"), VECTOR) == [
        "refuted",
        "unchecked",
        "proven",
        "unchecked",
    ]
