"""Walks over a formula's parsed tree: its subtrees, the letters it names, the variables it
differentiates by, whether it goes beyond polynomials, and the integer an expression in the sizes is.
"""

from __future__ import annotations

import math

from .latex import Unsupported, literal
from .names import _key


def size_constant(node, size: dict) -> int | None:
    """The integer value of an expression in the sizes alone (N-1, d+1), or None."""
    kind = node[0]
    if kind == "num":
        return int(node[1]) if node[1].is_Integer else None
    if kind == "sym":
        name = node[1] if node[2] is None else f"{node[1]}_{''.join(node[2])}"
        if name not in size:
            raise Unsupported(f"{name} is not a declared size")
        return size[name]
    values = [size_constant(c, size) for c in _children(node)]
    parts = [v for v in values if v is not None]
    if len(parts) < len(values):
        return None
    if kind == "neg":
        return -parts[0]
    if kind == "add":
        return sum(parts)
    if kind == "mul":
        return math.prod(parts)
    raise Unsupported("a bound that is not a sum or product of sizes and integers")


def _uses(node) -> set:
    """The letters a formula names (entries, bold tensors, derivatives' variables)."""
    if node[0] == "sym":
        return {node[1]}
    if node[0] == "bold":
        return {_key(node[1])}
    if node[0] == "example":
        return {node[1]}
    return set().union(*(_uses(child) for child in _children(node)))


def _variables(node) -> list:
    """The variables of the derivatives in a formula (∂f/∂x gives x)."""
    if node[0] == "deriv":
        return [node[2], *_variables(node[1])]
    if node[0] == "dop":
        return [node[1], *_variables(node[2])]
    return [x for child in _children(node) for x in _variables(child)]


def _beyond_polynomials(node, constants: frozenset) -> bool:
    """Whether a definition has a root, an exponential, a logarithm, a function or a quotient by
    more than a constant (a number, a size)."""
    kind = node[0]
    exponent = literal(node[2]) if kind == "pow" else None
    if kind in ("func", "call", "cases") or (kind == "pow" and exponent is None):
        return True
    if kind == "pow" and (node[1] == ("sym", "e", None) or (exponent is not None and exponent.denominator != 1)):
        return True
    if kind == "frac" and not _constant(node[2], constants):
        return True
    return any(_beyond_polynomials(child, constants) for child in _children(node))


def _transcendental(node) -> bool:
    kind = node[0]
    if kind == "call" or (kind == "func" and node[1] != "sqrt"):
        return True
    if kind == "pow" and (node[1] == ("sym", "e", None) or literal(node[2]) is None):
        return True
    return any(_transcendental(child) for child in _children(node))


def _constant(node, constants) -> bool:
    """Made of numbers and the given constant names alone."""
    if node[0] == "sym":
        return node[2] is None and node[1] in constants
    if node[0] in ("num", "add", "mul", "neg", "frac", "pow"):
        return all(_constant(child, constants) for child in _children(node))
    return False


def _children(node) -> list:
    """The subtrees of a node, however its children are held (a list of terms, rows of cells)."""
    out: list = []
    stack = list(node[1:])
    while stack:
        child = stack.pop()
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            out.append(child)
        elif isinstance(child, (list, tuple)):
            stack.extend(child)
    return out


def substituted(node, table: dict):
    """The tree with each parameter (a name standing alone, x or \\boldsymbol{x}) replaced by its
    argument: a function defined with parameters, applied to other arguments."""
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    name = parameter(node)
    if name is not None and name in table:
        return table[name]
    return tuple(_substituted_child(child, table) for child in node)


def _substituted_child(child, table):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return substituted(child, table)
    if isinstance(child, (list, tuple)):
        out = [_substituted_child(c, table) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def parameter(node) -> str | None:
    """The name a parameter stands for, when it is a name standing alone (x, \\boldsymbol{x})."""
    if node[0] == "bold" or (node[0] == "sym" and node[2] is None):
        return node[1]
    return None


def bound_letters(node) -> set:
    """The index letters the sums of a formula bind."""
    own = {node[1]} if node[0] == "sum" and node[1] else set()
    return own.union(*(bound_letters(child) for child in _children(node)))


def written_letters(node) -> set:
    """Every letter a formula writes, alone or as an index (x_{ij} writes x, i and j)."""
    if node[0] == "sym":
        return {node[1], *(node[2] or ())}
    if node[0] == "example":
        return {node[2]}
    return set().union(*(written_letters(child) for child in _children(node)))
