"""The rules that justify a step: how the prover checks each and how a document names it.

A step carries its rule as a value (``Step.rule``). The standard rules are the constants below; an
op or a network document defines its own next to their checkers. A rule that is about one place
of a document (a layer, an element, a compound layer's form) carries that place as ``data``
(``Rule.at``), and its checker reads it from there.

A rule's ``check`` is the kind of check the prover applies (see ``symgrad.prove.prover``):
"equal": both sides mean the same polynomial(s); "values": the same, with the loss's value put
in; "chain": the sum covers every path, recomputed from the definitions; "loss" and "loss entry":
dL/dy is the derivative of L's own formula; "shape": the closed form has the input's dimensions;
"size": SymPy evaluates the displayed formula to the output's actual size along the axis in the
rule's data; "general": checked by the general-size prover; "op": checked by the rule's own
checker; "claim": a compound layer's compact form, proven by the network claim prover;
"shown": a line that states a definition or a computed result, which has nothing to be checked
against, so it carries no check mark and is not counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import SymgradError

CHECKS = ("equal", "values", "chain", "loss", "loss entry", "shape", "size", "general", "op", "claim", "shown")


@dataclass(frozen=True)
class Rule:
    name: str  # how a failure message calls it
    check: str  # one of CHECKS
    text: str  # how a document names it
    checker: Callable | None = None  # for check "op": (d, step) -> None when it holds, else the reason
    data: tuple = ()  # the place of the document the rule is about, for its checker

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise SymgradError(f"rule {self.name!r}: unknown check {self.check!r}")
        if (self.check == "op") != (self.checker is not None):
            raise SymgradError(f"rule {self.name!r}: an op's own check comes with its checker, and only then")

    @property
    def checked(self) -> bool:
        return self.check != "shown"

    def at(self, *data) -> Rule:
        """The same rule about one place of a document: a layer's index, an element's id, ..."""
        return dataclasses.replace(self, data=data)

    def __str__(self) -> str:
        return self.name


DEFINITION = Rule("definition", "equal", "definition")
NO_DEPENDENCE = Rule("no dependence", "equal", "does not contain it")
SUM_RULE = Rule("sum rule", "equal", "sum rule")
PRODUCT_RULE = Rule("product rule", "equal", "product rule")
LOCAL_PARTIAL = Rule("local partial", "equal", "local partial")
LOCAL_PARTIALS = Rule("local partials", "equal", "local partials")
DROP_ZERO_TERMS = Rule("drop zero terms", "equal", "drop zeros")
REGROUP = Rule("regroup", "equal", "matrix product")
CLOSED_FORM = Rule("closed form", "equal", "closed form")
CHAIN_RULE = Rule("chain rule", "chain", "chain rule")
LOSS = Rule("loss", "loss", "derivative of the loss")
SUBSTITUTE_THE_LOSS = Rule("substitute the loss", "values", "loss substituted")
DIMENSIONS = Rule("dimensions", "shape", "dimensions")
NOTATION = Rule("notation", "shown", "definition")
EVERY_ELEMENT = Rule("every element", "shown", "chain rule, every element")
LOSS_SUBSTITUTED = Rule("loss substituted", "shown", "loss substituted")

# the general-size derivation's own steps (it uses some of the rules above too)
DIFFERENTIATE = Rule("differentiate", "general", "differentiate each term")
SIFTING = Rule("sifting", "general", "sum of a Kronecker delta")
TRANSPOSE = Rule("transpose", "general", "transpose")
MATRIX_PRODUCT = Rule("matrix product", "general", "matrix product")
ALL_ELEMENTS = Rule("all elements", "general", "every element")
