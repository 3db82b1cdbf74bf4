"""The element-wise steps for one picked input element, for any op.

For an input element x these are the reference's Eqs. (9) and (10): every local
partial dy_o/dx (zeros included), then the chain-rule sum over every output,
the local partials put in, and the zero terms dropped.

Listing every zero is what a reader wants for a small output (the reference
lists six). Past ``LIST_LIMIT`` outputs the steps name only the outputs that
contain x, and only the first is differentiated term by term (the others state
their local partial directly); the prover still checks every one of them, and
that no other output contains x.
"""

from __future__ import annotations

import sympy

from ..core import poly
from ..core.tensor import to_sympy
from . import engine
from .derivation import Equation, Step
from .rules import (
    CHAIN_RULE,
    DEFINITION,
    DROP_ZERO_TERMS,
    LOCAL_PARTIAL,
    LOCAL_PARTIALS,
    NO_DEPENDENCE,
    PRODUCT_RULE,
    SUBSTITUTE_THE_LOSS,
    SUM_RULE,
)

L = sympy.Symbol("L")
LIST_LIMIT = 64


def lists_zeros(d) -> bool:
    return len(d.output.ids) <= LIST_LIMIT


def _terms(expr):
    return list(expr.args) if isinstance(expr, sympy.Add) else [expr]


def local_partials(d, x: int, key: str) -> Equation:
    reg, xs = d.registry, d.registry.symbol(x)
    touched = set(engine.paths(d.gradient_of(x), d.upstream_symbols.ids))
    steps, every = [], lists_zeros(d)
    for o in range(len(d.output.ids)) if every else sorted(touched):  # past the list, only those holding x
        y, definition = d.output.ids[o], d.definitions.at(o)
        lhs = sympy.Derivative(reg.symbol(y), xs)
        if o not in touched:
            steps.append(Step(lhs, sympy.Integer(0), NO_DEPENDENCE, frozenset({xs})))
            continue
        if not every and steps:
            value = to_sympy(poly.diff(definition, x), reg, evaluate=False)
            steps.append(Step(lhs, value, LOCAL_PARTIAL, frozenset({xs, value})))
            continue
        expansion = to_sympy(definition, reg, evaluate=False)
        # to_sympy keeps the monomials' sorted order, so terms and monomials line up
        by_term = [
            sympy.Derivative(t, xs) if x in mono else sympy.Integer(0)
            for t, mono in zip(_terms(expansion), sorted(definition))
        ]
        value = to_sympy(poly.diff(definition, x), reg, evaluate=False)
        survivors = frozenset({xs, value})
        steps.append(Step(lhs, sympy.Derivative(expansion, xs), DEFINITION, survivors))
        steps.append(Step(steps[-1].rhs, sympy.Add(*by_term, evaluate=False), SUM_RULE, survivors))
        steps.append(Step(steps[-1].rhs, value, PRODUCT_RULE, survivors))
    return Equation(key, tuple(steps))


def chain_sum(d, x: int, key: str) -> Equation:
    reg, xs = d.registry, d.registry.symbol(x)
    touched = set(engine.paths(d.gradient_of(x), d.upstream_symbols.ids))
    paths, put_in, kept = [], [], []
    every = lists_zeros(d)
    for o in range(len(d.output.ids)) if every else sorted(touched):  # past the list, only those holding x
        y, g, definition = d.output.ids[o], d.upstream_symbols.ids[o], d.definitions.at(o)
        gs = reg.symbol(g)
        paths.append(sympy.Mul(gs, sympy.Derivative(reg.symbol(y), xs), evaluate=False))
        if o in touched:
            term = sympy.Mul(gs, to_sympy(poly.diff(definition, x), reg, evaluate=False), evaluate=False)
            put_in.append(term)
            kept.append(term)
        else:
            put_in.append(sympy.Integer(0))
    survivors = frozenset(kept)
    s1 = Step(sympy.Derivative(L, xs), sympy.Add(*paths, evaluate=False), CHAIN_RULE)
    s2 = Step(s1.rhs, sympy.Add(*put_in, evaluate=False), LOCAL_PARTIALS, survivors)
    if not every:
        return Equation(key, (s1, s2))
    s3 = Step(s2.rhs, sympy.Add(*kept, evaluate=False) if kept else sympy.Integer(0), DROP_ZERO_TERMS, survivors)
    return Equation(key, (s1, s2, s3))


def pick_value(d, name: str, x: int, chain: Equation, key: str) -> Equation:
    """The picked element's gradient once dL/dy takes the loss's value."""
    value = to_sympy(d.gradient_of(x, values=True), d.registry)
    return Equation(key, (Step(chain.steps[-1].rhs, value, SUBSTITUTE_THE_LOSS),))
