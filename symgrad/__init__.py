"""symgrad: derive gradients element by element, prove them exactly, publish the derivation.

The public names are loaded on first use (PEP 562), so ``import symgrad`` costs no SymPy import
until a derivation is asked for; ``symgrad --version`` and ``symgrad --help`` stay instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .errors import SymgradError

__version__ = "0.1.0"

# public name -> the module that defines it
_PUBLIC = {
    "matmul": ".ops.matmul",
    "conv2d": ".ops.conv2d",
    "check": ".claims",
    "render": ".renderer",
    "write": ".writer",
    "Derivation": ".derivation",
    "Proof": ".derivation",
    "Step": ".derivation",
    "Counterexample": ".derivation",
}

__all__ = [
    "Counterexample",
    "Derivation",
    "Proof",
    "Step",
    "SymgradError",
    "__version__",
    "check",
    "conv2d",
    "matmul",
    "render",
    "write",
]


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


if TYPE_CHECKING:  # what type checkers and editors see
    from .claims import check
    from .derivation import Counterexample, Derivation, Proof, Step
    from .ops.conv2d import conv2d
    from .ops.matmul import matmul
    from .renderer import render
    from .writer import write
