"""A size budget, checked before any work starts.

The cost of a derivation grows with its number of terms (m·k·n products for matmul, one per
kernel tap and output for a convolution) and its number of variables (inputs, outputs and
upstream gradients). Both are known from the sizes alone, so a problem too large for the
machine is refused at once, with the estimate and the option that raises the limit, instead of
running until memory is exhausted.
"""

from __future__ import annotations

import numbers

from .errors import SymgradError

MAX_TERMS = 10_000_000  # about 8 GiB and minutes of work; past it a run is refused unless raised
# measured peak memory per term, derive and prove: about 600 bytes for matmul at 64³–128³, about
# 800 for a convolution (18.9 million terms took 14.5 GiB)
BYTES_PER_TERM = 800
# a term kept packed (``core.packedpoly``) instead: measured the same way, 1.9 GiB for the 19.3
# million terms of conv2d 1×16×64×64 · 32×16×3×3 (about 100 bytes a term), counted with a margin;
# the budget counts such a term as this fraction of a dict term
BYTES_PER_PACKED_TERM = 125


def packed_cost(terms: int) -> int:
    """What ``terms`` kept packed count against the budget, in dict terms."""
    return -(-terms * BYTES_PER_PACKED_TERM // BYTES_PER_TERM)


def check_max_terms(max_terms: object) -> int:
    if max_terms is None:
        return MAX_TERMS
    if isinstance(max_terms, bool) or not isinstance(max_terms, numbers.Integral) or max_terms < 1:
        raise SymgradError(f"max_terms must be a positive integer, got {max_terms!r}")
    return int(max_terms)


def check_budget(what: str, terms: int, variables: int, max_terms: object = None) -> None:
    """Refuse a problem whose terms and variables exceed ``max_terms``."""
    limit = check_max_terms(max_terms)
    estimate = terms + variables
    if estimate > limit:
        gib = estimate * BYTES_PER_TERM / 2**30
        raise SymgradError(
            f"{what} is too large: about {estimate:,} terms and variables (roughly {gib:,.1f} GiB), over the "
            f"budget of {limit:,}; raise it with --max-terms (max_terms= in Python) if the machine has the memory"
        )
