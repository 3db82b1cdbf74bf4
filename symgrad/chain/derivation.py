"""A derivation is plain data: tensors, recorded steps, gradients, and its proof.

Nothing here produces text for a reader; templates do that from these objects.
Entries are kept in the exact canonical form (``PolyTensor``) and turned into
SymPy objects on demand, so large problems stay fast while every public view is
a SymPy matrix or array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import sympy

from ..core import poly
from ..core.errors import SymgradError
from ..core.tensor import LazyTensor, PolyTensor
from ..core.tensorop import claim_text
from .losses import Loss
from .rules import Rule


@dataclass(frozen=True)
class Step:
    """One equality ``lhs = rhs``, justified by ``rule``.

    In an Equation, a step whose lhs is the previous step's rhs continues the
    chain (``= rhs`` on a new line).
    """

    lhs: Any
    rhs: Any
    rule: Rule
    highlight: frozenset = frozenset()
    explicit: bool = False  # show matrix symbols entry by entry
    result: bool = False  # a result the reader looks for: every entry set at display size

    def __post_init__(self) -> None:
        if not isinstance(self.rule, Rule):
            raise SymgradError(f"a step's rule is a Rule (see symgrad.chain.rules), not {self.rule!r}")


@dataclass(frozen=True)
class Equation:
    key: str
    steps: tuple


@dataclass(frozen=True)
class TensorView:
    """An explicit tensor inside a step, shown entry by entry (elided when large)."""

    name: str
    tensor: PolyTensor
    registry: Any = field(repr=False, compare=False)
    # each format of one write prints the same entries: each is converted once
    _shown: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def shape(self) -> tuple:
        return self.tensor.shape

    def entry(self, index: tuple) -> sympy.Expr:
        from ..core.tensor import to_sympy

        index = tuple(index)
        if index not in self._shown:
            self._shown[index] = to_sympy(self.tensor[index], self.registry, evaluate=False)
        return self._shown[index]


@dataclass(frozen=True)
class GeneralMatrix:
    """A matrix of unspecified size (m×k), for the general definitions a document opens with."""

    letter: str
    rows: str
    cols: str


@dataclass(frozen=True)
class Presentation:
    """What an op declares about one derivation besides its tensors: how it is titled, shown and
    claimed (its code is its layer's). Typed and in one place, so nothing downstream guesses keys."""

    title: str
    body: str  # the op's document fragment: templates/<body>.body.j2
    stem: str  # the file name the writer uses
    notation: dict = field(default_factory=dict)  # premise equations: key -> ((lhs, rhs[, label]), ...)
    views: tuple = ()  # (tensor name, whole-tensor expression): proven besides the closed forms
    inline: dict = field(default_factory=dict)  # key -> a formula the prose shows inline (SymPy or notation)


@dataclass(frozen=True)
class Counterexample:
    wrt: str
    index: tuple  # 1-based, as printed
    element: sympy.Symbol
    derived: sympy.Expr  # what the chain rule gives
    claimed: sympy.Expr
    sizes: dict | None = None  # for a general claim: the concrete sizes where it fails
    note: str = ""  # what the two sides were compared under, when it needs saying

    def __str__(self) -> str:
        where = "" if not self.sizes else " at " + ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        (derived, short_a), (claimed, short_b) = _brief(self.derived), _brief(self.claimed)
        text = (
            f"dL/d{self.element} (element {','.join(map(str, self.index))} of {self.wrt}{where}): "
            f"the chain rule gives {derived}, the claim gives {claimed}"
        )
        if short_a or short_b:
            # a side named by its size alone no longer shows the two apart (a sum of 40 terms and
            # twice it are both "a sum of 40 terms"), and not every message carries a point
            text += f"; they differ by {_brief(self.derived - self.claimed)[0]}"
        return f"{text} ({self.note})" if self.note else text


LONGEST = 500  # characters of a side a message shows; a longer one is named by its size (in .derived)


def _brief(e: sympy.Expr) -> tuple[str, bool]:
    """The text of a side, and whether it was shortened."""
    text = str(e)
    if len(text) <= LONGEST:
        return text, False
    terms = len(sympy.Add.make_args(e))
    return (f"a sum of {terms} terms" if terms > 1 else text[: LONGEST - 2] + " …"), True


VERDICTS = ("proven", "refuted", "undecided")


@dataclass(frozen=True)
class Proof:
    """The verdict of a check, and exactly what was checked.

    ``status`` is "proven" (every comparison was an exact equality of canonical forms),
    "refuted" (a step or an element differs; the counterexample or the failed step says where)
    or "undecided" (neither could be shown). ``ok`` is true only for "proven".
    """

    status: str
    checked: int = 0  # elements + steps + upstream
    elements: int = 0  # gradient elements compared with closed forms
    steps: int = 0  # recorded steps re-checked by their rule
    counterexample: Counterexample | None = None
    failed_step: str | None = None
    claims: tuple = ()  # (wrt, claim as text) proven
    upstream: int = 0  # upstream entries dL/dy compared with the derivative of the loss
    shown: int = 0  # lines shown as definitions or computed results: not checks, not counted
    scope: str = ""  # what a proven claim covers, such as "every upstream gradient"

    def __post_init__(self) -> None:
        if self.status not in VERDICTS:
            raise ValueError(f"unknown verdict {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status == "proven"

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            extra = f", {self.upstream} upstream entries checked against the loss" if self.upstream else ""
            scope = f", for {self.scope}" if self.scope else ""
            return f"proof holds{scope}: {self.elements} element equalities and {self.steps} steps checked{extra}"
        if self.status == "undecided":
            return f"undecided: {self.failed_step}"
        return f"refuted: {self.counterexample or self.failed_step}"


@dataclass(frozen=True)
class Derivation:
    """An op's derivation, as its document shows it: the one-layer network the op was derived on
    (``graph``), its tensors with the letters the document writes, the gradients with dL/dY kept
    symbolic, and the loss's values for dL/dY."""

    op: str
    sizes: dict
    loss: Loss
    registry: Any = field(repr=False)
    input_tensors: dict = field(repr=False)  # name -> SymbolTensor
    output: Any = field(repr=False)  # SymbolTensor of output names (c_ij)
    upstream_symbols: Any = field(repr=False)  # SymbolTensor of dL/dy_o
    definitions: PolyTensor = field(repr=False)  # each output in terms of the inputs
    upstream_values: PolyTensor = field(repr=False)
    grads_upstream: dict = field(repr=False)  # name -> PolyTensor, dL/dy kept symbolic
    picks: dict = field(default_factory=dict)  # name -> 0-based index
    closed_forms: dict = field(default_factory=dict, repr=False)  # name -> SymPy matrix expression
    equations: dict = field(default_factory=dict, repr=False)  # key -> Equation
    presentation: Presentation = field(default_factory=lambda: Presentation("", "", ""), repr=False)
    params: Any = None  # the op's own parameters (a frozen dataclass: letters, geometry, ...)
    graph: Any = field(default=None, repr=False, compare=False)  # the one-layer network it was derived on
    network_grads: dict = field(default_factory=dict, repr=False, compare=False)  # variable -> dL/dv, G free
    shares: dict = field(default_factory=dict, repr=False, compare=False)  # node index -> {variable: share}
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # the proof, once computed

    @property
    def output_name(self) -> str:
        return self.output.name

    @property
    def input_names(self) -> tuple:
        return tuple(self.input_tensors)

    @cached_property
    def inputs(self) -> dict:
        return {n: PolyTensor.of_symbols(t).to_sympy(self.registry) for n, t in self.input_tensors.items()}

    @cached_property
    def outputs(self) -> dict:
        return {self.output.name: self.definitions.to_sympy(self.registry)}

    @cached_property
    def claims(self) -> dict:
        """name -> its closed form in the claim language (``G @ B.T``), which ``check`` reads back."""
        shapes = {name: t.shape for name, t in self.input_tensors.items()}
        shapes[self.upstream_symbols.name] = self.output.shape
        return {name: claim_text(e, shapes) for name, e in self.closed_forms.items()}

    @cached_property
    def upstream(self) -> Any:
        return self.upstream_values.to_sympy(self.registry)

    @cached_property
    def grads_values(self) -> dict:
        """name -> the gradient with the loss's value put in for dL/dy, each entry computed when
        first asked for: a document shows a few, and the proof needs none (see ``prover``)."""
        if not self.loss.has_value:
            return self.grads_upstream
        values = dict(zip(self.upstream_symbols.ids, self.upstream_values.entries))
        if all(set(v) <= {()} for v in values.values()):  # mean and sum: numbers, substituted directly
            numbers = {g: v.get((), 0) for g, v in values.items()}
            return {
                n: LazyTensor(g.shape, lambda pos, g=g: poly.substitute_constants(g.at(pos), numbers))
                for n, g in self.grads_upstream.items()
            }
        return {
            n: LazyTensor(g.shape, lambda pos, g=g: poly.substitute(g.at(pos), values))
            for n, g in self.grads_upstream.items()
        }

    @cached_property
    def grad(self) -> GradientViews:
        """name -> the gradient as a SymPy matrix or array, built when first asked for."""
        return GradientViews(tuple(self.grads_upstream), lambda n: self.grads_values[n].to_sympy(self.registry))

    # what ``evaluate`` asks of a derivation (see symgrad.network.numeric)
    @property
    def wrt(self) -> tuple:
        return self.input_names

    @property
    def arguments(self) -> list:
        """The inputs, and dL/dY (named G) when the loss leaves it generic."""
        return [*self.input_tensors, *(() if self.loss.has_value else ("G",))]

    @property
    def fixed(self) -> dict:
        """dL/dY under a mean or sum loss, entry by entry: numbers."""
        if not self.loss.has_value:
            return {}
        return {g: Fraction(v.get((), 0)) for g, v in zip(self.upstream_symbols.ids, self.upstream_values.entries)}

    def gradient(self, name: str) -> list:
        return list(self.grads_upstream[name].entries)

    def tensor(self, name: str) -> Any:
        return self.graph.tensors[name]

    def gradient_of(self, x: int, values: bool = False) -> dict:
        """dL/dx of one input variable, as a polynomial."""
        for name, t in self.input_tensors.items():
            if x in t.ids:
                grads = self.grads_values if values else self.grads_upstream
                return grads[name].at(t.ids.index(x))
        raise KeyError(x)


class GradientViews(Mapping):
    """d.grad: SymPy views of the gradients, each converted only when it is looked up."""

    def __init__(self, names: tuple, convert: Callable[[str], Any]) -> None:
        self._names, self._convert = names, convert
        self._done: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._done:
            self._done[name] = self._convert(name)
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass(frozen=True)
class GeneralDerivation:
    """A derivation for symbolic sizes, in index notation: the same interface as Derivation
    for proving, checking claims and rendering."""

    op: str
    sizes: dict  # name -> SymPy symbol
    loss: Loss
    letters: tuple
    input_names: tuple
    output_name: str
    bases: dict = field(repr=False)  # matrix name -> IndexedBase of its entries
    matrices: dict = field(repr=False)  # matrix name -> MatrixSymbol with symbolic shape
    closed_forms: dict = field(repr=False)  # input name -> SymPy matrix expression
    equations: dict = field(repr=False)  # key -> Equation
    ranges: dict = field(repr=False)  # equation key -> {free index: (lo, hi)}
    instantiate_up_to: int = 4
    presentation: Presentation = field(default_factory=lambda: Presentation("", "", ""), repr=False)
    params: Any = None  # the op's own parameters (a frozen dataclass: letters, geometry, ...)
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # the proof, once computed

    @property
    def claims(self) -> dict:
        """name -> its closed form in the claim language (``G @ B.T``), which ``check`` reads back."""
        return {name: claim_text(e) for name, e in self.closed_forms.items()}
