"""Writing a polynomial out through its variables' definitions with FLINT, when it is installed.

Checking a claim writes both sides out in the network's inputs and atoms: every variable defined
polynomially (a mean, a centred entry, a named gradient) is replaced by its definition, down to
variables that are not defined. The products this takes grow fast (a BatchNorm channel's entries
are sums over the whole channel), and in Python dicts with ``Fraction`` coefficients each term
product costs a microsecond or more. FLINT (``python-flint``, ``fmpq_mpoly``) multiplies exact
multivariate polynomials over ℚ in C; there the same write-out takes a small fraction of the time
(``benchmarks/bench_exact.py``).

Only the question "is the written-out polynomial zero?" is asked here, and the answer is exact
either way. Each question gets a context over just the undefined variables it reaches, since
FLINT stores a monomial as an exponent vector over every variable of its context. Without FLINT,
``written_out_is_zero`` returns None and the dict path decides alone.
"""

from __future__ import annotations

from fractions import Fraction

try:
    import flint
except ImportError:  # optional: the pure-Python path is complete without it
    flint = None  # type: ignore[assignment]

# FLINT is asked only where the dicts would be slow: below this many term products the dicts'
# answer comes sooner than a context and its conversions
WORTH_IT = 20_000


def available() -> bool:
    return flint is not None


def written_out_is_zero(p: dict, defs: dict) -> bool | None:
    """Whether ``p`` written out through ``defs`` (variable -> polynomial, acyclic) is the zero
    polynomial; None when FLINT is not installed."""
    if flint is None:
        return None
    return Writer([p], defs).is_zero(p)


class Writer:
    """One FLINT context for a set of polynomials over the same definitions: each definition is
    converted once, however many of the polynomials read it."""

    def __init__(self, ps: list, defs: dict) -> None:
        order, leaves = _reached(ps, defs)
        self.ctx = flint.fmpq_mpoly_ctx.get(tuple(f"v{v}" for v in leaves))
        self.value = dict(zip(leaves, self.ctx.gens()))
        for v in order:  # definitions before what reads them
            self.value[v] = _convert(defs[v], self.value, self.ctx)

    def is_zero(self, p: dict) -> bool:
        return _convert(p, self.value, self.ctx) == 0


def _reached(ps: list, defs: dict) -> tuple[list, list]:
    """The defined variables the polynomials reach, each after those its definition reads, and the undefined
    ones (an explicit stack: definitions can chain thousands deep)."""
    order: list = []
    done: set = set()
    leaves: set = set()
    stack = list({v for p in ps for mono in p for v in mono})
    while stack:
        v = stack[-1]
        if v in done:
            stack.pop()
            continue
        if v not in defs:
            leaves.add(v)
            done.add(v)
            stack.pop()
            continue
        missing = [u for mono in defs[v] for u in mono if u not in done]
        if missing:
            stack.extend(dict.fromkeys(missing))
            continue
        stack.pop()
        done.add(v)
        order.append(v)
    return order, sorted(leaves)


def _convert(p: dict, value: dict, ctx):
    acc = ctx.constant(0)
    for mono, c in p.items():
        term = ctx.constant(_coefficient(c))
        for v in mono:
            term *= value[v]
        acc += term
    return acc


def _coefficient(c):
    if isinstance(c, Fraction):
        return flint.fmpq(c.numerator, c.denominator)
    return flint.fmpq(c)
