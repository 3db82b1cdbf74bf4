"""``rational.vanishes`` on FLINT's polynomials: the same question, asked the same way, in C.

Deciding a line clears its reciprocals one by one: the difference times A^K for each 1/A it
holds, then each root's power read as its argument. With Python dicts and ``Fraction``
coefficients every term product of that costs a microsecond or more, and a BatchNorm line, with a
dozen reciprocals, takes tens of milliseconds; over a post's hundreds of lines that is most of
the decision. FLINT (``python-flint``, ``fmpq_mpoly``) multiplies the same exact polynomials in C.

The procedure is ``rational.vanishes``'s, step for step: the same reciprocal cleared first (the
latest made), the same root reduced, the same nonzero check of each denominator, the same rounds
and nesting limits, and the same budget, counted in the same term products before each is made
(a polynomial's number of terms is the same in both forms: neither stores a zero coefficient).
So the answer is the same, True or False, in every case; only the time differs. Without FLINT,
``vanishes`` is ``rational.vanishes`` itself.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..core import poly
from ..network.graph import Graph
from ..network.values import atom_at
from ..prove import rational

try:
    import flint
except ImportError:  # optional: rational.vanishes is complete without it
    flint = None  # type: ignore[assignment]


def vanishes(graph: Graph, p: poly.Poly, limit: int) -> bool:
    """Whether ``p`` is certainly zero wherever it is defined: ``rational.vanishes``'s answer."""
    if flint is None:
        return rational.vanishes(graph, p, limit)
    try:
        return _Clearing(graph, limit).vanishes(p)
    except (rational.TooLarge, RecursionError):
        return False


class _Clearing:
    """One question over one graph: a context over every variable of the graph."""

    def __init__(self, graph: Graph, limit: int) -> None:
        self.graph, self.limit, self.spent = graph, limit, 0
        self.n = len(graph.registry.names)
        self.ctx = flint.fmpq_mpoly_ctx.get(tuple(f"v{k}" for k in range(self.n)))
        self.gens = self.ctx.gens()
        self.defs: dict = {}  # a defined variable -> its definition, converted when first reached
        self.nonzero: dict = {}

    def vanishes(self, p: poly.Poly) -> bool:
        return self._vanishes(self._expand(self._of(p)), 0)

    def _spend(self, terms: int) -> None:
        self.spent += terms
        if self.spent > self.limit:
            raise rational.TooLarge

    def _of(self, p: poly.Poly):
        exponents = {}
        for mono, c in p.items():
            e = [0] * self.n
            for v in mono:
                e[v] += 1
            exponents[tuple(e)] = flint.fmpq(c.numerator, c.denominator) if isinstance(c, Fraction) else c
        return self.ctx.from_dict(exponents)

    def _variables(self, q) -> list:
        return [v for v, d in enumerate(q.degrees()) if d > 0]  # the zero polynomial: -1 each

    def _expand(self, q):
        """q with every defined variable replaced by its definition, until none is left."""
        while True:
            defined = [v for v in self._variables(q) if v in self.graph.defs]
            if not defined:
                return q
            for v in defined:
                if v not in self.defs:
                    self.defs[v] = self._of(self.graph.defs[v])
            sizes = {v: len(self.defs[v]) for v in defined}
            self._spend(sum(math.prod(sizes[v] ** e[v] for v in defined) for e in q.monoms()))
            values = list(self.gens)
            for v in defined:
                values[v] = self.defs[v]
            q = q.compose(*values)

    def _vanishes(self, p, depth: int) -> bool:
        for _ in range(rational.MAX_ROUNDS):
            if p.is_zero():
                return True
            if depth > rational.MAX_NESTING:
                return False
            atoms = {v: atom for v in self._variables(p) if (atom := atom_at(self.graph, v)) is not None}
            inverses = sorted(v for v, atom in atoms.items() if atom.lemma == "inverse")
            if inverses:
                r = inverses[-1]  # the latest made: its argument, written out, cannot hold it
                argument = self._expand(self.gens[atoms[r].argument])
                if r not in self.nonzero:
                    self.nonzero[r] = not argument.is_zero() and not self._vanishes(argument, depth + 1)
                if not self.nonzero[r]:
                    return False  # a denominator that may be the zero function: clearing it proves nothing
                p = self._expand(self._clear(p, r, argument))
                continue
            degrees = p.degrees()
            roots = [
                (v, qn)
                for v, atom in sorted(atoms.items())
                if (qn := rational._power_of(atom)) is not None and degrees[v] >= qn[0]
            ]
            if not roots:
                return False
            a, (q, n) = roots[-1]
            base = self._expand(self.gens[atoms[a].argument])
            p = self._expand(self._reduce_root(p, a, q, self._power(base, n)[-1]))
        return False

    def _power(self, base, n: int) -> list:
        """[1, base, ..., base^n], each product counted before it is made."""
        out = [self.ctx.constant(1)]
        for _ in range(n):
            self._spend(len(out[-1]) * len(base))
            out.append(out[-1] * base)
        return out

    def _by_power(self, p, v: int) -> list:
        """p as a polynomial in v: [p_0, p_1, ...] with p = sum p_k v^k, no p_k holding v (p_k is
        the k-th derivative by v at v = 0, over k!: FLINT's own operations, no term by term)."""
        out, derived, factorial = [], p, 1
        for k in range(p.degrees()[v] + 1):
            if k:
                derived, factorial = derived.derivative(v), factorial * k
            out.append(derived.subs({v: 0}) / factorial)
        return out

    def _clear(self, p, r: int, argument):
        """p·A^K with r·A read as 1, for r = 1/A and K the highest power of r in p: the terms with
        r^k, r taken out, times A^(K - k)."""
        parts = self._by_power(p, r)
        top = len(parts) - 1
        powers = self._power(argument, top)
        out = self.ctx.constant(0)
        for k, part in enumerate(parts):
            self._spend(len(part) * len(powers[top - k]))  # one count for each term of p with r^k
            out += part * powers[top - k]
        return out

    def _reduce_root(self, p, a: int, q: int, value):
        """p with each a^q read as value (a = u^(n/q), value = u^n): a term's a^k becomes
        a^(k mod q) times value^(k div q)."""
        parts = self._by_power(p, a)
        powers = self._power_uncounted(value, (len(parts) - 1) // q)
        out = self.ctx.constant(0)
        for k, part in enumerate(parts):
            j, rest = divmod(k, q)
            # rational._power makes value^j again for each term, counting each product
            made = sum(len(m) * len(value) for m in powers[:j]) + len(powers[j])
            self._spend(len(part) * made)
            out += part * self.gens[a] ** rest * powers[j]
        return out

    def _power_uncounted(self, base, j: int) -> list:
        out = [self.ctx.constant(1)]
        for _ in range(j):
            out.append(out[-1] * base)
        return out
