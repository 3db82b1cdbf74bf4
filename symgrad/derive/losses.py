"""Scalar losses L(Y): what dL/dy is once the chain rule is done.

The derivation keeps dL/dy symbolic throughout, as the reference does, and only
substitutes these values at the end.
"""

from __future__ import annotations

import functools
from fractions import Fraction

from ..core import poly
from ..core.errors import SymgradError

LOSSES = ("mean", "sum", "generic")


def check_loss(loss) -> str:
    if loss not in LOSSES:
        raise SymgradError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")
    return loss


def loss_polynomial(loss: str, output_ids) -> dict | None:
    """L as a polynomial in the output entries; None for a generic L."""
    if loss == "generic":
        return None
    weight = Fraction(1, len(output_ids)) if loss == "mean" else 1
    return {(o,): weight for o in output_ids}


def upstream_value(loss: str, numel: int, upstream_id: int) -> dict:
    """dL/dy for one output entry: 1/numel (mean), 1 (sum), itself (generic)."""
    if loss == "generic":
        return poly.var(upstream_id)
    return _constant(loss, numel)


@functools.lru_cache(maxsize=8)
def _constant(loss: str, numel: int) -> dict:
    """One polynomial shared by every entry (polynomials are never changed in place)."""
    return poly.const(Fraction(1, numel) if loss == "mean" else 1)
