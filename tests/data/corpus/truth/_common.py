"""Shared by the truth scripts: a link holds when its two sides agree at random points.

The scripts compute each published link from the author's own definitions (written here by hand
in SymPy), independently of symgrad, assert their verdicts, and print them as JSON on the last
line: {"<equation>:<link>": true/false}, the equation as check-doc labels it
("22", or "#3" for the third display when it has no number).
"""

from __future__ import annotations

import json
import random

import sympy as sp


def point(symbols, rng: random.Random, positive=()) -> dict:
    """Exact rational values, away from 0 and 1, for the given symbols."""
    values = {}
    for s in symbols:
        v = sp.Rational(rng.randint(1, 40), rng.randint(7, 13)) + sp.Rational(1, 97)
        if s not in positive and rng.random() < 0.5:
            v = -v
        values[s] = v
    return values


def agree(lhs, rhs, trials: int = 4, seed: int = 7, positive=()) -> bool:
    """True when lhs - rhs vanishes at `trials` random rational points (50 digits)."""
    diff = sp.sympify(lhs) - sp.sympify(rhs)
    symbols = sorted(diff.free_symbols, key=str)
    rng = random.Random(seed)
    for _ in range(trials):
        value = sp.N(diff.subs(point(symbols, rng, positive)), 50)
        if value.free_symbols or abs(value) > sp.Float("1e-30"):
            return False
    return True


def finish(found: dict, links: str, false: str = "") -> None:
    """Every link named in `links` is computed, those in `false` are false and the rest true (as
    the truth file records); print the verdicts for the corpus test."""
    expected = {key: key not in false.split() for key in links.split()}
    wrong = {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v}
    extra = sorted(set(found) - set(expected))
    assert not wrong and not extra, f"computed vs recorded: {wrong}, unrecorded: {extra}"
    print(json.dumps(found, sort_keys=True))
