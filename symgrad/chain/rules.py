"""The rules that justify a step: one registry for how the prover checks each and how a document
names it.

A rule's ``check`` is the kind of check the prover applies (see ``symgrad.prove.prover``):
"equal": both sides mean the same polynomial(s); "values": the same, with the loss's value put
in; "chain": the sum covers every path, recomputed from the definitions; "loss" and "loss entry":
dL/dy is the derivative of L's own formula; "shape": the closed form has the input's dimensions;
"size": SymPy evaluates the displayed formula to the output's actual size; "general": checked by
the general-size prover; "op": checked by the op's own checker, registered with the rule; "claim": a compound layer's
compact form, proven by the network claim prover;
"shown": a line that states a definition or a computed result, which has nothing to be checked
against, so it carries no check mark and is not counted.

Ops add their own rules with ``register`` when their module is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import SymgradError

CHECKS = ("equal", "values", "chain", "loss", "loss entry", "shape", "size", "general", "op", "claim", "shown")


@dataclass(frozen=True)
class Rule:
    check: str  # one of CHECKS
    text: str  # how a document names it
    checker: Callable | None = None  # for check "op": (d, step) -> None when it holds, else the reason

    @property
    def checked(self) -> bool:
        return self.check != "shown"


RULES: dict[str, Rule] = {}


def register(name: str, check: str, text: str, checker: Callable | None = None) -> None:
    if check not in CHECKS:
        raise SymgradError(f"rule {name!r}: unknown check {check!r}")
    if (check == "op") != (checker is not None):
        raise SymgradError(f"rule {name!r}: an op's own check comes with its checker, and only then")
    known = RULES.get(name)
    if known is not None and known != Rule(check, text, checker):
        raise SymgradError(f"rule {name!r} is registered twice, differently")
    RULES[name] = Rule(check, text, checker)


def rule(name: str) -> Rule | None:
    return RULES.get(name)


for _name, _check, _text in (
    ("definition", "equal", "definition"),
    ("no dependence", "equal", "does not contain it"),
    ("sum rule", "equal", "sum rule"),
    ("product rule", "equal", "product rule"),
    ("local partial", "equal", "local partial"),
    ("local partials", "equal", "local partials"),
    ("drop zero terms", "equal", "drop zeros"),
    ("regroup", "equal", "matrix product"),
    ("closed form", "equal", "closed form"),
    ("chain rule", "chain", "chain rule"),
    ("loss", "loss", "derivative of the loss"),
    ("substitute the loss", "values", "loss substituted"),
    ("dimensions", "shape", "dimensions"),
    ("notation", "shown", "definition"),
    ("every element", "shown", "chain rule, every element"),
    ("loss substituted", "shown", "loss substituted"),
    # the general-size derivation's steps
    ("differentiate", "general", "differentiate each term"),
    ("sifting", "general", "sum of a Kronecker delta"),
    ("transpose", "general", "transpose"),
    ("matrix product", "general", "matrix product"),
    ("all elements", "general", "every element"),
):
    register(_name, _check, _text)
