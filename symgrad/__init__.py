"""symgrad: derive gradients element by element, prove them exactly, publish the derivation.

The public names are loaded on first use (PEP 562), so ``import symgrad`` costs no SymPy import
until a derivation is asked for; ``symgrad --version`` and ``symgrad --help`` stay instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.errors import SymgradError

__version__ = "0.1.0"

# every public name comes from symgrad.api, the top of the layers
_PUBLIC = (
    "matmul",
    "conv2d",
    "conv_transpose2d",
    "check",
    "derive",
    "equivalent",
    "render",
    "write",
    "Derivation",
    "Proof",
    "Step",
    "Counterexample",
)

__all__ = [
    "Counterexample",
    "Derivation",
    "Proof",
    "Step",
    "SymgradError",
    "__version__",
    "check",
    "conv2d",
    "conv_transpose2d",
    "derive",
    "equivalent",
    "matmul",
    "render",
    "write",
]


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
    from . import api

    value = getattr(api, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


if TYPE_CHECKING:  # what type checkers and editors see
    from .api import (
        Counterexample,
        Derivation,
        Proof,
        Step,
        check,
        conv2d,
        conv_transpose2d,
        equivalent,
        matmul,
        render,
        write,
    )
