"""The scalar lemmas behind non-polynomial layers.

A non-polynomial layer introduces a variable per entry, an *atom*, whose value is a scalar function
of one other variable: s = σ(z), e = exp(z), r = 1/v. What makes the chain rule exact is that each
such function's derivative is a polynomial in variables the graph already has: ds/dz = s(1 − s),
de/dz = e, dr/dv = −r². A lemma states that identity once, for a scalar, and the prover checks it
with SymPy (``symgrad.prove.network.check_lemma``); every use of the atom then only applies it.

Some derivatives need the reciprocal of another variable (d log v / dv = 1/v): the atom then has a
helper, another atom, named in ``needs``.

Each lemma is stated by the layer unit that introduces its atom (``symgrad.network.units``); this
is the table of all of them, by name.
"""

from __future__ import annotations

from .lemma import Lemma
from .units.table import LEMMAS

__all__ = ["LEMMAS", "Lemma"]
