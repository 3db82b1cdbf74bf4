"""Naming of tensor entries, and the registry that numbers every variable.

Entries print as the reference writes them: ``a_{23}`` when every index of the
tensor is below 10, ``a_{2,13}`` with commas otherwise, so that (1, 11) and
(11, 1) can never share a name. The SymPy symbol's name *is* that LaTeX, which
keeps one place for naming and lets the printer show it verbatim.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import sympy

from .errors import SymgradError
from .tensor import row_major

_LETTER = re.compile(r"^[a-zA-Z]$")


def entry_name(letter: str, index: tuple[int, ...], commas: bool) -> str:
    """LaTeX name of an entry; ``index`` is 1-based."""
    sep = "," if commas else ""
    return f"{letter}_{{{sep.join(map(str, index))}}}"


def upstream_name(entry: str, loss: str = "L") -> str:
    """``\\frac{\\partial L}{\\partial c_{23}}``: the upstream gradient of one entry."""
    return rf"\frac{{\partial {loss}}}{{\partial {entry}}}"


def check_letters(letters) -> tuple:
    """Three different ASCII letters, none of them g or l (G is dL/dY and L the loss), and no
    two that differ only in case (the matrices are named by the capitals)."""
    try:
        letters = tuple(letters)
    except TypeError:
        letters = ()
    if len(letters) != 3 or not all(isinstance(x, str) and _LETTER.match(x) for x in letters):
        raise SymgradError(f"letters must be three single ASCII letters such as 'abc', got {letters!r}")
    upper = {x.upper() for x in letters}
    if len(upper) != 3 or {"G", "L"} & upper:
        raise SymgradError(
            f"letters must be three different letters other than g and l (G and L are taken), got {''.join(letters)!r}"
        )
    return letters


class Registry:
    """Numbers every variable of one derivation; symbols are made on demand."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.ids: dict[str, int] = {}
        self._symbols: dict[int, sympy.Symbol] = {}
        self.leading: set[int] = set()  # shown first in a product: the upstream dL/dy, as in "upstream × local"

    def new(self, name: str) -> int:
        if name in self.ids:
            raise SymgradError(f"two variables would share the name {name!r}: choose distinct letters")
        self.ids[name] = len(self.names)
        self.names.append(name)
        return self.ids[name]

    def symbol(self, vid: int) -> sympy.Symbol:
        s = self._symbols.get(vid)
        if s is None:
            s = self._symbols[vid] = sympy.Symbol(self.names[vid])
        return s

    def id_of(self, sym: sympy.Symbol) -> int:
        try:
            return self.ids[sym.name]
        except (KeyError, AttributeError):
            raise SymgradError(f"{sym} is not a variable of this derivation") from None


@dataclass(frozen=True)
class SymbolTensor:
    """A tensor whose every entry is its own variable (an input, an output name, an upstream)."""

    name: str
    letter: str
    shape: tuple[int, ...]
    ids: tuple[int, ...]  # row-major

    @classmethod
    def create(cls, registry: Registry, name: str, letter: str, shape: tuple[int, ...], namer=None):
        commas = max(shape) >= 10 or len(shape) > 2  # x_{1,2,3,4}: commas read better past two indices
        ids = []
        for index in itertools.product(*(range(1, s + 1) for s in shape)):
            entry = entry_name(letter, index, commas)
            ids.append(registry.new(namer(entry) if namer else entry))
        return cls(name, letter, tuple(shape), tuple(ids))

    def flat(self, index: tuple[int, ...]) -> int:
        """Row-major position of a 0-based index."""
        return row_major(index, self.shape)

    def id_at(self, index: tuple[int, ...]) -> int:
        return self.ids[self.flat(index)]


def operator_name(name: str) -> str:
    """An operation's name in a formula, set upright as one word the way people write it:
    ``\\operatorname{mean}``, and ``\\operatorname{\\mathrm{conv\\_transpose2d}}`` for a name with
    digits or underscores, which MathJax would otherwise space apart as "conv _ transpose 2d"."""
    if name.isalpha():
        return rf"\operatorname{{{name}}}"
    escaped = name.replace("_", r"\_")
    return rf"\operatorname{{\mathrm{{{escaped}}}}}"
