"""A proof's notebook views (Jupyter's ``_repr_html_`` and ``_repr_markdown_``): the verdict, what
was checked, the claims proven, and a refutation's counterexample typeset: the entry, what each
side gives, and the point where they differ.

A network's counterexample names its point in its note ("...; at x_{11} = 25/7, ... the chain
rule gives 0.5 and the claim 1.25"); the note is read back into formulas here, and shown as it
is, in code type, if it does not read as that sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from ..chain.derivation import Counterexample, Proof
from ..core.errors import SymgradError
from .documents import environment
from .latex import to_latex

TEMPLATES = {"fragment": ("html", "proof.html.j2"), "md": ("md", "proof.md.j2")}
_PAIR = r"(?:[^\s,;={}]|\{[^{}]*\})+ = -?[0-9]+(?:/[0-9]+)?"  # x_{1,2} = -3/4
_NOTE = re.compile(
    rf"^(?P<what>.*?); at (?P<at>{_PAIR}(?:, {_PAIR})*)(?P<more>, \.\.\.)? "
    r"(?P<first>.+?) gives (?P<x>\S+) and (?P<second>.+) (?P<y>\S+)$"
)
_NUMBER = re.compile(r"^(-?[0-9.]+)(?:e([+-]?[0-9]+))?$")
HEADLINES = {"proven": "Proven", "refuted": "Refuted", "undecided": "Undecided"}


@dataclass
class Shown:
    """A counterexample as formulas (LaTeX) and plain words, ready for a template."""

    entry: str
    where: str
    derived: str
    claimed: str
    first: str = "the chain rule"
    second: str = "the claim"
    sizes: str = ""
    what: str = ""
    point: list = field(default_factory=list)  # "x_{11} = \frac{25}{7}", ...
    more: bool = False  # the point has further inputs than those shown
    values: tuple = ()  # what each side gives at the point, as LaTeX numbers
    note: str = ""  # a note that does not read as a point, shown verbatim


def proof(p: Proof, fmt: str) -> str:
    """The view of a proof in a notebook format: "fragment" (HTML) or "md"."""
    if fmt not in TEMPLATES:
        raise SymgradError(f"a proof is shown as fragment (HTML) or md, not {fmt!r}")
    family, name = TEMPLATES[fmt]
    counts = [(p.elements, "element equalities"), (p.steps, "steps re-checked")]
    if p.upstream:
        counts.append((p.upstream, "upstream entries checked against the loss"))
    claims = [(_gradient(_tensor(wrt)), text) for wrt, text in p.claims]
    shown = None if p.counterexample is None else _counterexample(p.counterexample)
    return (
        environment(family)
        .get_template(name)
        .render(p=p, headline=HEADLINES[p.status], counts=counts, claims=claims, ce=shown)
    )


def _gradient(name: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {name}}}"


def _tensor(name: str) -> str:
    """A tensor's name as the documents write it: one letter in italics, a word upright."""
    return name if len(name) == 1 else rf"\mathrm{{{name}}}".replace("_", r"\_")


def _counterexample(ce: Counterexample) -> Shown:
    shown = Shown(
        entry=_gradient(to_latex(ce.element)),
        where=f"element ({', '.join(map(str, ce.index))}) of {ce.wrt}",
        derived=to_latex(ce.derived),
        claimed=to_latex(ce.claimed),
        sizes=", ".join(f"{k} = {v}" for k, v in (ce.sizes or {}).items()),
    )
    if not ce.note:
        return shown
    found = _NOTE.match(ce.note)
    if found is None:
        shown.note = ce.note
        return shown
    shown.what, shown.first, shown.second = found["what"], found["first"], found["second"]
    shown.point = [_assignment(pair) for pair in found["at"].split(", ")]
    shown.more = bool(found["more"])
    shown.values = (_number(found["x"]), _number(found["y"]))
    return shown


def _assignment(pair: str) -> str:
    name, value = pair.split(" = ")
    return f"{name} = {to_latex(sympy.Rational(Fraction(value).numerator, Fraction(value).denominator))}"


def _number(text: str) -> str:
    """A printed float as LaTeX: 8.1e-11 as 8.1 \\times 10^{-11}."""
    found = _NUMBER.match(text)
    if found is None:
        return rf"\text{{{text}}}"
    mantissa, exponent = found.groups()
    return mantissa if exponent is None else rf"{mantissa} \times 10^{{{int(exponent)}}}"
