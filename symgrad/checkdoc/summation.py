"""Sums a formula leaves implicit: the summation convention (an index repeated in a product is
summed), a quantity differentiated without its index, and a sum written without its index that
the line settles.
"""

from __future__ import annotations

import re

import sympy

from .latex import Unsupported, index_letters
from .trees import _children


def _unsettled_out(node):
    """The tree with every sum whose index is not written left out (a zero in its place)."""
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    if node[0] == "sum" and node[1] is None:
        return ("num", sympy.Integer(0))
    return tuple(_settled(child, None, None) for child in node)


def _settled(child, meaning, outside):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return meaning._settle(child, outside) if meaning is not None else _unsettled_out(child)
    if isinstance(child, (list, tuple)):
        out = [_settled(c, meaning, outside) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def _counts(node) -> dict:
    """How many times each index letter is written in a term, as the summation convention counts
    them: a product adds its factors' counts, a sum of terms takes each letter's largest count,
    a sum's own index is bound."""
    kind = node[0]
    if kind == "sym":
        out: dict = {}
        for part in node[2] or ():
            for letter in index_letters(part):  # i and m of x_{i+m-1}
                out[letter] = out.get(letter, 0) + 1
        return out
    if kind == "sum":
        inner = _counts(node[5])
        inner.pop(node[1], None)
        return inner
    parts = [_counts(child) for child in _children(node)]
    out = {}
    for part in parts:
        for letter, n in part.items():
            out[letter] = max(out.get(letter, 0), n) if kind in ("add", "cases") else out.get(letter, 0) + n
    return out


def summed(node, free: frozenset, indices: frozenset):
    """The summation convention: every index repeated in a product and free in no equation's left
    side summed over its range (A^{ij} V^{jb} sums over j)."""
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str) or node[0] in ("sym", "num"):
        return node
    inner = free | {node[1]} if node[0] == "sum" and node[1] else free  # a written sum's index is its own
    node = tuple(_summed_child(child, inner, indices) for child in node)
    if node[0] in ("mul", "frac", "deriv", "dop"):
        dummies = sorted(c for c, n in _counts(node).items() if n >= 2 and c not in free and c in indices)
        for letter in reversed(dummies):
            node = ("sum", letter, None, None, None, node)
    return node


def with_dropped(node, dropped: dict):
    """The side with each quantity differentiated without its index (∂f/∂x̂, x̂ declared dropped
    with the index i) given that index: the entry x̂_i, or where declared summed, each term where
    it then stands summed over i, as the summation convention sums a repeated index (∂f/∂x̂ ·
    ∂x̂/∂σ² is Σ_i ∂f/∂x̂_i ∂x̂_i/∂σ²)."""
    if not dropped or not isinstance(node, tuple):
        return node
    if node[0] in ("add", "neg"):
        parts = [with_dropped(t, dropped) for t in node[1]] if node[0] == "add" else with_dropped(node[1], dropped)
        return (node[0], parts)
    given = _indexed(node, dropped)
    if given == node:
        return node
    summed_over = sorted({i for name, (i, over) in dropped.items() if over and _mentions(node, name)})
    for letter in summed_over:
        if letter in _counts(node):
            raise Unsupported(f"a quantity written without its index {letter} in a term that writes {letter} too")
        given = ("sum", letter, None, None, None, given)
    return given


def _indexed(node, dropped: dict):
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    if node[0] in ("deriv", "dop"):
        node = (node[0], *(_given_index(c, dropped) for c in node[1:]))
    return tuple(_indexed_child(child, dropped) for child in node)


def _given_index(child, dropped: dict):
    if isinstance(child, tuple) and child[:1] == ("sym",) and child[2] is None and child[1] in dropped:
        return ("sym", child[1], (dropped[child[1]][0],))
    return child


def _indexed_child(child, dropped):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return _indexed(child, dropped)
    if isinstance(child, (list, tuple)):
        out = [_indexed_child(c, dropped) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def _mentions(node, name: str) -> bool:
    """A derivative of, or with respect to, the quantity written without its index."""
    if (
        isinstance(node, tuple)
        and node[:1] in (("deriv",), ("dop",))
        and any(isinstance(c, tuple) and c[:1] == ("sym",) and c[1] == name and c[2] is None for c in node[1:])
    ):
        return True
    if isinstance(node, (list, tuple)):
        return any(_mentions(c, name) for c in node if isinstance(c, (list, tuple)))
    return False


def _summed_child(child, free, indices):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return summed(child, free, indices)
    if isinstance(child, (list, tuple)):
        out = [_summed_child(c, free, indices) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def free_by_convention(node) -> frozenset:
    """The free indices of an equation's left side by the summation convention: written once."""
    return frozenset(c for c, n in _counts(node).items() if n == 1)


def with_samples(node, samples: dict, sizes: dict):
    """The tree with the sample's index kept apart from a sum over the same letter: under
    Σ_{n=1}^{W_k}, x_{n, i+m-1, j+n-1, d} (samples: {n: [x]}) reads its first n as the sample and
    the second as the sum's index, which is renamed (n') so that neither captures the other. A sum
    written up to the sample's own size (Σ_{n=1}^{N}) is the sum over the samples, and binds every
    n; a sum over n with no upper bound written may be either, and is not read."""
    if not samples or not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    if node[0] == "sum" and node[1] in samples and node[3] is None:
        raise Unsupported(
            f"a sum over {node[1]}, the samples' letter, without its upper bound: over the samples or not"
        )
    if node[0] == "sum" and node[1] in samples and node[3] != ("sym", sizes.get(node[1]), None):
        _, var, low, high, exclude, body = node
        fresh = var + "'"
        while fresh in _letters(body):
            fresh += "'"
        body = _renamed_but_samples(body, var, fresh, samples[var])
        node = ("sum", fresh, low, high, exclude, body)
    return tuple(_with_samples_child(child, samples, sizes) for child in node)


def _with_samples_child(child, samples, sizes):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return with_samples(child, samples, sizes)
    if isinstance(child, (list, tuple)):
        out = [_with_samples_child(c, samples, sizes) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def _letters(node) -> set:
    if isinstance(node, tuple) and node[:1] == ("sym",):
        return {node[1]} | {c for p in node[2] or () for c in index_letters(p)}
    if isinstance(node, (list, tuple)):
        return set().union(*(_letters(c) for c in node if isinstance(c, (list, tuple))))
    return set()


def _renamed_but_samples(node, var: str, fresh: str, sampled: frozenset):
    """var renamed fresh everywhere in node, but in the first place of a sampled tensor's subscript."""
    if isinstance(node, tuple) and node[:1] == ("sym",):
        _, name, sub = node
        if sub is None:
            return ("sym", fresh, None) if name == var else node
        keep = 1 if name.split("^")[0] in sampled else 0
        parts = tuple(p if k < keep else re.sub(rf"(?<![A-Za-z']){var}(?!')", fresh, p) for k, p in enumerate(sub))
        return ("sym", name, parts)
    if isinstance(node, tuple) and node[:1] == ("sum",) and node[1] == var:
        return node  # a sum over the same letter inside binds it again
    if isinstance(node, (list, tuple)):
        out = [_renamed_but_samples(c, var, fresh, sampled) if isinstance(c, (list, tuple)) else c for c in node]
        return out if isinstance(node, list) else tuple(out)
    return node
