"""How the declarations name things in a formula: a tensor's letter and its entries' letter, its
spellings, and the tree read with the declared names, sizes, labels and notation (``resolve``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.errors import SymgradError
from .latex import GREEK, Unsupported, name_of, parse


def _layered_name(key, layers: dict) -> bool:
    """A name with a declared layer's superscript (W^{(l)})."""
    try:
        return isinstance(key, str) and "^" in key and _tensor_name(key, layers) != name_of(key)
    except (Unsupported, SymgradError):
        return False


def _tensor_name(key: str, layers: dict) -> str:
    """A tensor's name as the parser spells it (X, \\beta, \\vec{y}, W^{l} for W^{(l)})."""
    if _is_letter(key):
        return key
    if layers and "^" in key:
        head = parse(key, frozenset(), frozenset(), frozenset(), tuple(layers.items()))
        if head[0] == "sym" and head[2] is None:
            return head[1]
    return name_of(key)


def _key(name: str) -> str:
    """How a tensor is keyed by its entries' name: a letter in lower case (X -> x), any other
    name as written (\\beta, W^{l})."""
    return name.lower() if _is_letter(name) else name


def _is_letter(value) -> bool:
    return isinstance(value, str) and len(value) == 1 and value.isascii() and value.isalpha()


def _is_name(value) -> bool:
    """A Greek letter, or a letter decorated (\\hat{x}) or calligraphic (\\mathcal{L})."""
    if not isinstance(value, str):
        return False
    try:
        name = name_of(value)
    except (Unsupported, SymgradError):
        return False
    return name[1:] in GREEK or bool(re.fullmatch(r"\\[A-Za-z]+\{([A-Za-z]|\\[A-Za-z]+)\}", name)) or _is_letter(name)


def _spellings(*letters: str) -> set:
    """A tensor's letter in both cases: X is the tensor, \\boldsymbol{X} its bold spelling, x_{i} its
    entries. A Greek or decorated name has one spelling."""
    return {
        spelling
        for letter in letters
        for spelling in ((letter.lower(), letter.upper()) if len(letter) == 1 else (letter,))
    }


def _power_name(base: str, exponent) -> str:
    return f"{base}^{{{exponent}}}"


@dataclass(frozen=True)
class Reading:
    """What the declarations say about how a formula is written: the names they give, the sizes,
    the labels, and, where indices are written above, each name's entries (Q -> q)."""

    names: frozenset = frozenset()
    sizes: frozenset = frozenset()
    labels: frozenset = frozenset()
    entries: tuple = ()  # (name as written, the letter of its entries) where indices are written above
    indices: frozenset = frozenset()
    matrices: tuple = ()  # (a capital, its entries' letter): X alone is the matrix, X_{ij} its entry
    notation: tuple = ()  # ((letter, how many indices), (its index letters, what it stands for))
    vectors: frozenset = frozenset()  # names that stand alone for a declared vector: x, \\theta
    examples: tuple = ()  # (a letter, the tensor whose rows or entries x^{(i)} names)


def resolve(node, reading: Reading):
    """The tree with every power of a letter that is a declared name (\\sigma_c^2 where \\sigma^{2}
    is declared, and \\sigma itself is not) read as that name, every size named with a
    subscript (N_i) read as that size, every superscript that is a declared label (x^{l},
    x^{(l)}) taken off, and, where indices are written above, Q^{ia} read as the entry q_{ia}
    (δ^j_m as δ_{jm})."""
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    if node[0] == "pow" and node[2][0] == "sym" and node[2][2] is None and node[2][1] in reading.labels:
        return resolve(node[1], reading)
    if node[0] == "pow" and node[1][0] in ("sym", "bold") and reading.examples:
        example = _example(node, reading)
        if example is not None:
            return example
    if node[0] == "sym" and node[2] and (node[1], len(node[2])) in dict(reading.notation):
        letters, template = dict(reading.notation)[(node[1], len(node[2]))]
        return _renamed(template, dict(zip(letters, node[2])))
    if node[0] == "sym" and node[2] is not None and f"{node[1]}_{''.join(node[2])}" in reading.sizes:
        return ("sym", f"{node[1]}_{''.join(node[2])}", None)
    if node[0] == "pow" and node[1][0] == "sym" and reading.entries:
        entries = dict(reading.entries)
        above = _index_letters(node[2], reading.indices)
        if node[1][1] in entries and above:
            return ("sym", entries[node[1][1]], above + tuple(node[1][2] or ()))
    if node[0] == "sym" and node[2] is not None and all(p.isdigit() for p in node[2]):
        name = f"{node[1]}_{{{''.join(node[2])}}}"  # B_1: a name of its own, where one is declared so
        if name in reading.names:
            return ("sym", name, None)
    if node[0] == "sym" and reading.matrices and node[1] in dict(reading.matrices):
        letter = dict(reading.matrices)[node[1]]
        if node[2] is None:
            return ("bold", node[1])
        return ("sym", letter, node[2]) if letter != node[1] else node
    if node[0] == "sym" and node[2] is None and node[1] in reading.vectors:
        return ("bold", node[1])  # x alone, x a declared vector: the vector
    if node[0] == "pow" and node[1][0] == "sym" and node[2][0] == "num":
        name = _power_name(node[1][1], node[2][1])
        if name in reading.names and node[1][1] not in reading.names:
            return ("sym", name, node[1][2])
    return tuple(_resolved(child, reading) for child in node)


def _example(node, reading: Reading):
    """x^{(i)}, x a declared example: the row i of its matrix (x^{(i)}_j its entry), or the entry i
    of its vector; None for anything else (x^2 stays a power)."""
    base, above = node[1], node[2]
    tensor = dict(reading.examples).get(base[1])
    if tensor is None or above[0] != "sym" or above[2] is not None or above[1] not in reading.indices:
        return None
    below = tuple(base[2] or ()) if base[0] == "sym" else ()
    if below:
        return ("sym", tensor, (above[1], *below))
    return ("example", tensor, above[1])


def _renamed(node, names: dict):
    """The tree with its index letters renamed (a notation's x_{c,k} written x_{c,j})."""
    if node[0] == "sym":
        return ("sym", node[1], tuple(names.get(p, p) for p in node[2]) if node[2] else node[2])
    return tuple(_resolved_with(child, lambda c: _renamed(c, names)) for child in node)


def _resolved_with(child, function):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return function(child)
    if isinstance(child, (list, tuple)):
        out = [_resolved_with(c, function) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def _index_letters(node, indices: frozenset) -> tuple:
    """The index letters a superscript writes (i, ij, i1), or () when it is anything else."""
    parts = node[1] if node[0] == "mul" else [node]
    out = []
    for part in parts:
        if part[0] == "sym" and part[2] is None and part[1] in indices:
            out.append(part[1])
        else:  # a number above a letter is a power: a_i^2
            return ()
    return tuple(out)


def _resolved(child, reading):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return resolve(child, reading)
    if isinstance(child, (list, tuple)):
        out = [_resolved(c, reading) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def reading_of(decl, names: frozenset = frozenset(), heads: frozenset = frozenset()) -> Reading:
    """How the declarations read a formula; `heads` the defined names (their entries written above
    too, where indices are)."""
    entries: dict = {}
    if decl.superscripts:
        entries = {name: _key(name) for name in decl.tensors}
        entries.update({name: name for name in heads})
        entries.update({name: name for name, kind in decl.functions.items() if kind == "kronecker"})
    sizes, indices = frozenset(decl.sizes[0]), frozenset(decl.indices)
    matrices: dict = {}
    if not decl.superscripts:  # X alone is the tensor X, X_{ij} its entry x_{ij}
        for name in [*decl.tensors, *heads]:
            if _is_letter(name) and name.upper() != name.lower():
                matrices[name.upper()] = name.lower()
    matrices = {k: v for k, v in matrices.items() if k not in names or k.upper() in decl.tensors}
    return Reading(
        names,
        sizes,
        decl.labels,
        tuple(sorted(entries.items())),
        indices,
        tuple(sorted(matrices.items())),
        tuple(decl.notation.items()),
        frozenset(
            name.lower() if _is_letter(name) else name
            for name, dims in decl.tensors.items()
            if len(dims) == 1
            and not decl.superscripts
            and (_is_letter(name) or name[1:] in GREEK or name.startswith("\\"))
        )
        - heads
        - frozenset(decl.scalars),
        tuple(sorted(decl.examples.items())),
    )
