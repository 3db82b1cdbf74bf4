"""A symgrad block in someone else's page: the command line's arguments, a proven derivation,
or one clear error."""

from __future__ import annotations

import pytest

import symgrad
from symgrad.embed import derivation, options


def test_a_block_is_the_command_lines_arguments():
    d, args = derivation("matmul -m 2 -k 3 -n 2 --loss mean  # a comment")
    assert d.prove().ok and d.sizes == {"m": 2, "k": 3, "n": 2}
    text = symgrad.render(d, "md", **options(args))
    assert "2000-01-01" not in text and not text.startswith("# ")  # the page has its own byline
    assert text.count(r"\tag{") == symgrad.render(d, "md").count(r"\tag{")


@pytest.mark.parametrize(
    "block, message",
    [
        ("", "empty"),
        ("matmul -m 2 -k 3 -n 2 --out site/", "--out has no meaning"),
        ("matmul -m 2 -k 3 -n 2 --title=Mine", "--title has no meaning"),
        ("matmul -m 2 -k 3 -n 2 --help", "--help has no meaning"),
        ("gallery", "names an op or a network"),
        ("matmul -m 0 -k 3 -n 2", "positive integer"),
        ("matmul -m 2 -k 3 -n 2 --bogus", "unrecognized arguments"),
        ('matmul -m 2 -k "3 -n 2', "do not parse"),
        ("derive no/such/model.py:net --shape x=2", "model"),
    ],
)
def test_a_bad_block_is_one_clear_error(block, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        derivation(block)
