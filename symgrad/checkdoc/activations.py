"""A declared activation a(z): a function of one number, any, known only through its derivatives."""

from __future__ import annotations

import sympy

_ACTIVATIONS: dict = {}


def activation(name: str, primes: int = 0):
    """The function of one number a declared activation stands for, and its derivatives: a SymPy
    function that knows only that its derivative is the next prime (a' of a, a'' of a')."""
    key = (name, primes)
    if key not in _ACTIVATIONS:

        def fdiff(self, argindex=1):
            return activation(name, primes + 1)(self.args[0])

        _ACTIVATIONS[key] = type(name + "'" * primes, (sympy.Function,), {"fdiff": fdiff, "activation": key})
    return _ACTIVATIONS[key]


def _applications(*exprs) -> set:
    """The declared activations applied in the expressions."""
    out: set = set()
    if not _ACTIVATIONS:  # none made yet, so none is applied anywhere: no expression to search
        return out
    for expr in exprs:
        for e in sympy.sympify(expr).atoms(sympy.Function):
            if hasattr(type(e), "activation"):
                out.add(e)
    return out
