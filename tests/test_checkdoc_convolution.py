"""check-doc reads a convolution's derivation as published: sizes named per layer and related
between layers, index arithmetic in subscripts, indices from 0 over half-open ranges, and entries
outside a map taken as absent where the post says so. Each construct is taken from a post of the
corpus (tests/data/corpus, cited in each test), reduced to a few lines, with a correct line proven
and a slipped one refuted. Each expected verdict is worked out by hand in its comment."""

from __future__ import annotations

import pytest

from symgrad.checkdoc import check_document
from symgrad.core.errors import SymgradError

from .test_checkdoc_published import display, links, post, verdicts

# --- sizes named per layer, and related between layers -------------------------------------------

# scthe-backprop-cnn.md #17 and #18: a kernel of width f^{(l)} fits w^{(l)} - f^{(l)} + 1 times in a
# row of width w^{(l)}, so three layers take f^{(1)} + f^{(2)} + f^{(3)} - 3 off the width
LAYERED = {
    "layers": {"(l)": "l", "(l+1)": "l+1", "(1)": 1, "(2)": 2, "(3)": 3, "(L)": "L"},
    "sizes": [
        {
            "w^{(l)}_{img}": width,
            "f^{(l)}": 2,
            "w^{(l+1)}_{img}": "w^{(l)}_{img} - f^{(l)} + 1",
            "w^{(1)}_{img}": width + 4,
            "f^{(1)}": 2,
            "f^{(2)}": 3,
            "f^{(3)}": 2,
            "w^{(2)}_{img}": "w^{(1)}_{img} - f^{(1)} + 1",
            "w^{(3)}_{img}": "w^{(2)}_{img} - f^{(2)} + 1",
            "w^{(L)}_{img}": "w^{(3)}_{img} - f^{(3)} + 1",
        }
        for width in (3, 5)
    ],
    "indices": {},
    "tensors": {},
}


def test_a_size_related_between_layers_is_read_as_declared(tmp_path):
    # #17 restates the declared relation: proven. #18 follows from it three times: w^{(L)} =
    # ((w - 2 + 1) - 3 + 1) - 2 + 1 = w - 4 = w - 2 - 3 - 2 + 3: proven; "+ 2" instead of "+ 3"
    # is one less: refuted at the first size (w^{(1)} = 7: 3 and 2)
    body = (
        display("w^{(l+1)}_{img} = w^{(l)}_{img} - f^{(l)} + 1")
        + display("w^{(L)}_{img} = w^{(1)}_{img} - f^{(1)} - f^{(2)} - f^{(3)} + 3")
        + display("w^{(L)}_{img} = w^{(1)}_{img} - f^{(1)} - f^{(2)} - f^{(3)} + 2")
    )
    found = links(tmp_path, body, LAYERED)
    assert [verdict for verdict, _ in found] == ["proven", "proven", "refuted"]
    assert "the sides are 3 and 2" in found[2][1]


def test_a_size_of_a_layer_not_declared_is_named(tmp_path):
    # w^{(2)}_{img} written where only w^{(l)} and w^{(l+1)} are declared: "(2)" names no layer
    decl = {**LAYERED, "layers": {"(l)": "l", "(l+1)": "l+1"}}
    decl["sizes"] = [{k: v for k, v in s.items() if "(l" in k} for s in LAYERED["sizes"]]
    ((verdict, reason),) = links(tmp_path, display("w^{(2)}_{img} = w^{(l)}_{img} - 1"), decl)
    assert verdict == "unchecked" and "not read" in reason


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"w^{(k)}_{img}": 3}, "a size is named by a word"),  # (k) is no declared layer
        ({"f^{(l)}": 2, "w^{(l)}_{img}": "f^{(l)} - 2"}, "positive integers"),  # a relation giving 0
        ({"w^{(l)}_{img}": "v + 1"}, "is not read|not a declared size"),  # v is no size
    ],
)
def test_sizes_related_wrongly_are_one_error(tmp_path, sizes, message):
    decl = {"layers": {"(l)": "l"}, "sizes": [sizes], "indices": {}, "tensors": {}}
    with pytest.raises(SymgradError, match=message):
        check_document(post(tmp_path, display("1 = 1"), decl))


def test_a_relation_evaluated_wrongly_is_caught(tmp_path, monkeypatch):
    # mutation: a size written as a relation taken one more than it says; #17 is then refuted
    import symgrad.checkdoc.declarations as declarations

    original = declarations.size_constant
    monkeypatch.setattr(declarations, "size_constant", lambda node, size: original(node, size) + 1)
    assert verdicts(tmp_path, display("w^{(l+1)}_{img} = w^{(l)}_{img} - f^{(l)} + 1"), LAYERED) == ["refuted"]
