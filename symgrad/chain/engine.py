"""The chain rule, element by element, for any op whose outputs are polynomials.

Nothing here knows an op. One pass over the terms of every output entry adds,
for every input variable x in a term, upstream × local partial into dL/dx:

    dL/dx = Σ_o (dL/dy_o)(dy_o/dx)

Only the outputs that contain x contribute, and they are found by walking the
terms, so the cost is the number of terms times their degree (m·k·n for
matmul), never inputs × outputs.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

from ..core import packed, poly


@contextmanager
def gc_paused():
    """Millions of small key tuples, none of them in a cycle: the cyclic collector would rescan
    them over and over (its cost grows faster than the work), so it waits until they are built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Re-enabled as it was, the collector's next young-generation pass would walk every
            # object made meanwhile (millions of key tuples, none in a cycle), and again as they
            # age. freeze() then unfreeze() moves them straight into the oldest generation, in
            # constant time: they are still collected, by the full collections that rarely run.
            # Not when the program froze objects of its own: unfreeze() would thaw them too.
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def layer_share(definitions, upstreams, wrt) -> dict | None:
    """A layer's share of dL/dx for every x in ``wrt``, when each output's upstream dL/dy_o is a
    single term (a variable G_o, a number such as 1/mn, or a product): the same one pass over the
    terms as ``chain_rule``, with the term as the multiplier. None when it does not apply: an
    upstream of several terms, or a definition reading a variable outside ``wrt`` (an atom made
    inside the layer, whose share goes on to its own argument)."""
    fast = packed.layer_share(definitions, upstreams, wrt)  # the same dicts, grouped in NumPy
    if fast is not None:
        return fast
    return loop_share(definitions, upstreams, wrt)


def loop_share(definitions, upstreams, wrt) -> dict | None:
    """``layer_share`` term by term, in Python: every case, and the reference the packed path is
    tested against."""
    grads: dict[int, dict] = {x: {} for x in wrt}
    gradient_of = grads.get
    for definition, upstream in zip(definitions, upstreams):
        if not upstream:
            continue
        if len(upstream) != 1:
            return None
        ((up, weight),) = upstream.items()
        single = up[0] if len(up) == 1 else None
        for mono, c in definition.items():
            # Fraction arithmetic dominates this loop: a coefficient of 1 takes the weight as it is
            c = weight if c == 1 else c * weight
            if len(mono) == 2 and mono[0] != mono[1] and len(up) < 2:
                # the bilinear case of ``chain_rule``: a·b gives b·up to dL/da and a·up to dL/db
                a, b = mono
                acc, other = gradient_of(a), gradient_of(b)
                if acc is None or other is None:
                    return None
                key: tuple
                key2: tuple
                if single is None:
                    key, key2 = (b,), (a,)
                else:
                    key = (b, single) if b < single else (single, b)
                    key2 = (a, single) if a < single else (single, a)
                old = acc.get(key)
                acc[key] = c if old is None else old + c
                old = other.get(key2)
                other[key2] = c if old is None else old + c
                continue
            for x in set(mono):
                acc = gradient_of(x)
                if acc is None:
                    return None
                power = mono.count(x)
                pos = mono.index(x)
                key = tuple(sorted(mono[:pos] + mono[pos + 1 :] + up))
                acc[key] = acc.get(key, 0) + c * power
    tidy = poly._tidy
    # most coefficients are ints, which need no tidying; the type test is cheaper than the call
    return {x: {k: c if type(c) is int else tidy(c) for k, c in acc.items() if c} for x, acc in grads.items() if acc}


def paths(grad, upstream_ids) -> tuple:
    """Positions of the outputs through which x reaches L: those whose dL/dy_o occurs in dL/dx."""
    present = poly.variables(grad)
    return tuple(o for o, g in enumerate(upstream_ids) if g in present)
