"""Scalar losses L(Y) over an op's output: objects that say what L is and what dL/dy becomes.

The derivation keeps dL/dy symbolic throughout, as the reference does; a loss with a value (the
mean, the sum) supplies it at the end, and a generic loss keeps the symbols. Everything that
differs between losses lives here, so the rest of the code asks the loss instead of testing its
name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..core import poly
from ..core.errors import SymgradError


@dataclass(frozen=True)
class Loss:
    name: str  # as the API and the command line spell it
    describes: str  # "the mean of the entries of", for a document's prose
    weight_of: str  # "mean": 1/numel per entry; "sum": 1; "generic": no value

    def __str__(self) -> str:
        return self.name

    @property
    def has_value(self) -> bool:
        """False for a generic loss, whose dL/dy stays symbolic."""
        return self.weight_of != "generic"

    def weight(self, numel: int) -> Fraction | None:
        """The value of dL/dy at every entry, or None for a generic loss."""
        if not self.has_value:
            return None
        return Fraction(1, numel) if self.weight_of == "mean" else Fraction(1)

    def symbolic_weight(self, count: sympy.Expr) -> sympy.Expr | None:
        """The value of dL/dy for a symbolic number of entries, or None for a generic loss."""
        if not self.has_value:
            return None
        return 1 / count if self.weight_of == "mean" else sympy.Integer(1)

    def polynomial(self, output_ids) -> dict | None:
        """L as a polynomial in the output entries; None for a generic L."""
        weight = self.weight(len(output_ids))
        return None if weight is None else {(o,): poly._tidy(weight) for o in output_ids}

    def formula(self, total: sympy.Expr, count: sympy.Expr, output: sympy.Expr) -> sympy.Expr:
        """L as a document writes it: from the sum of the entries, their number, and the output's name."""
        if self.weight_of == "mean":
            return sympy.Mul(1 / count, total, evaluate=False)
        if self.weight_of == "sum":
            return total
        return sympy.Function("L")(output)

    def upstream_code(self, lib: str, out: str) -> str:
        """The line of backward code that sets dL/d<out>."""
        if not self.has_value:
            return f"# grad_{out} = dL/d{out}, handed in by the layer above"
        ones = {
            "torch": f"torch.ones({out}.shape, dtype=torch.float64)",
            "numpy": f"np.ones({out}.shape, dtype=np.float64)",
        }[lib]
        numel = {"torch": f"{out}.numel()", "numpy": f"{out}.size"}[lib]
        return f"grad_{out} = {ones} / {numel}" if self.weight_of == "mean" else f"grad_{out} = {ones}"


MEAN = Loss("mean", "the mean of the entries of", "mean")
SUM = Loss("sum", "the sum of the entries of", "sum")
GENERIC = Loss("generic", "any scalar function of", "generic")
LOSSES = {loss.name: loss for loss in (MEAN, SUM, GENERIC)}


def check_loss(loss: object) -> Loss:
    """A Loss, from itself or its name."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    raise SymgradError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")


def loss_polynomial(loss: Loss, output_ids) -> dict | None:
    """L as a polynomial in the output entries; None for a generic L."""
    return check_loss(loss).polynomial(output_ids)


def upstream_value(loss: Loss, numel: int, upstream_id: int) -> dict:
    """dL/dy for one output entry: 1/numel (mean), 1 (sum), itself (generic)."""
    loss = check_loss(loss)
    if not loss.has_value:
        return poly.var(upstream_id)
    return _constant(loss, numel)


@functools.lru_cache(maxsize=8)
def _constant(loss: Loss, numel: int) -> dict:
    """One polynomial shared by every entry (polynomials are never changed in place)."""
    return poly.const(loss.weight(numel))
