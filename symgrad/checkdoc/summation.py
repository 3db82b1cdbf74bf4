"""Sums a formula leaves implicit: the summation convention (an index repeated in a product is
summed), a quantity differentiated without its index, and a sum written without its index that
the line settles.
"""

from __future__ import annotations

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
