"""What evaluating a link can end in other than a value, and the budgets past which it ends as too
large, each estimated before the work starts.
"""

from __future__ import annotations


class Illustrative(Exception):
    """A formula written with dots (\\cdots, \\vdots): it shows a pattern and is not checked."""


class OutOfRange(Exception):
    """An index value outside its tensor (a_{i t} with i past m at this size): the line does not
    apply there."""


class Mismatch(Exception):
    """Shapes that do not fit (a refutation, when the document claims they are equal)."""


class Undecided(Exception):
    """Two sides that the exact engine cannot show equal and no point tells apart."""


class Undefined(Exception):
    """A formula defined nowhere here: a division by an expression that is identically zero, or
    the logarithm, root or fractional power of a number that is not positive."""


class Ambiguous(Exception):
    """A formula the declarations leave open to two meanings (a derivative with respect to a
    quantity its function's definition does not go through, but could be rewritten in)."""


class TooLarge(Exception):
    """Work over the budget, estimated before it starts."""


MAX_WORK = 1_000_000  # terms created to evaluate one link at one size, estimated before it starts


MAX_ENTRIES = 100_000  # entries of the tensors and defined quantities at one declared size
