"""The public functions, in the order of the pipeline: build and derive (a preset per op, or any
forward function), prove, check a claim, render and write; and ``Derivation``, the one type every
derivation has.

Everything below this module is plain data and the functions over it; a ``Derivation`` holds that
data and offers what a user asks of it (its tensors, its gradients, its proof, its document), so
no lower layer needs to reach up to the prover or the renderer.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from .chain.derivation import Counterexample, GeneralDerivation, Step
from .chain.derivation import Proof as _Proof
from .core.errors import SymgradError
from .network import numeric as _numeric
from .network.derivation import derive_network
from .ops import conv2d as _conv2d
from .ops import conv_transpose2d as _conv_transpose2d
from .ops import matmul as _matmul
from .prove import claims as _claims
from .prove import prove as _prove
from .publish import display as _display
from .publish import documents as _documents
from .publish import writer as _writer


class Derivation:
    """A derivation: the backward pass of an op or of a whole network, its proof and its document.

    ``symgrad.matmul(2, 4, 3)``, ``symgrad.conv2d(...)``, ``symgrad.conv_transpose2d(...)`` and
    ``symgrad.derive(fn, ...)`` all return one; so does an op at symbolic sizes.

    - ``d.inputs``: input name -> SymPy matrix or array of its entry symbols;
    - ``d.outputs``: output name -> its entries in terms of the inputs;
    - ``d.grad``: input name -> dL/d(input) under the derivation's loss, SymPy, built on demand;
    - ``d.prove()``: the ``Proof``, computed once;
    - Jupyter shows its document (``_repr_html_``, ``_repr_markdown_``, ``_repr_latex_``).

    Every other attribute is the underlying data's (``d.equations``, ``d.graph``, ...)."""

    __slots__ = ("data",)

    def __init__(self, data: Any) -> None:
        object.__setattr__(self, "data", data)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.data, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Derivation is read-only")

    def __repr__(self) -> str:
        return f"<symgrad.Derivation: {self.data.presentation.title}>"

    @property
    def inputs(self) -> dict:
        """Each input tensor by its name: a SymPy matrix (a preset) or array (a network) of its entries' symbols."""
        data = self.data
        if hasattr(data, "graph") and not hasattr(data, "input_tensors"):  # a network
            return {name: data.value(name) for name in data.graph.inputs if name not in data.graph.scalars}
        return data.inputs

    @property
    def outputs(self) -> dict:
        """The output tensor (for a network, the loss) by its name, as for ``inputs``."""
        data = self.data
        if hasattr(data, "graph") and not hasattr(data, "input_tensors"):
            return {data.output: data.value(data.output)}
        return data.outputs

    def prove(self) -> Proof:
        """The proof of every step and every gradient: computed once, then kept."""
        return shown(_prove(self.data))

    def evaluate(self, /, exact: bool = False, **arrays: Any) -> dict:
        """dL/d(input) for every input differentiated, at the given arrays (one per input; for a
        generic loss also dL/dY, named as the derivation names it), as float64 NumPy arrays, or
        with ``exact=True`` as object arrays of Fractions: numbers to compare with any framework."""
        if isinstance(self.data, GeneralDerivation):
            raise SymgradError("a derivation for every size has no numbers to evaluate: derive it at concrete sizes")
        return _numeric.gradients(self.data, arrays, exact)

    def replace(self, **changes: Any) -> Derivation:
        """A copy with some of the data's fields replaced (a step, a view), proven afresh: how a
        test shows that a corrupted derivation is caught."""
        return Derivation(dataclasses.replace(self.data, cache={}, **changes))

    def _repr_latex_(self) -> str | None:
        # Jupyter shows the first view a frontend knows and takes None as "no such view"; a network
        # has no one display of closed forms (one per layer, in its document), and an error here
        # would print a traceback above the network's page
        if not hasattr(self.data, "closed_forms"):
            return None
        return _documents.render(self.data, "latex-inline")

    def _repr_html_(self) -> str:
        return _documents.render(self.data, "fragment")

    def _repr_markdown_(self) -> str:
        return _documents.render(self.data, "md")


class Proof(_Proof):
    """A verdict, as ``d.prove()``, ``check`` and ``equivalent`` return it: ``status`` (proven,
    refuted or undecided), what was checked, and a refutation's counterexample; shown in a
    notebook with the counterexample typeset."""

    def _repr_html_(self) -> str:
        return _display.proof(self, "fragment")

    def _repr_markdown_(self) -> str:
        return _display.proof(self, "md")


def shown(proof: _Proof) -> Proof:
    """The prover's verdict, with its notebook views."""
    return Proof(**{f.name: getattr(proof, f.name) for f in dataclasses.fields(proof)})


def data_of(d: Any) -> Any:
    """The data under a Derivation (a lower layer's own object passes through)."""
    return d.data if isinstance(d, Derivation) else d


def matmul(*args: Any, **kwargs: Any) -> Derivation:
    return Derivation(_matmul.matmul(*args, **kwargs))


def conv2d(*args: Any, **kwargs: Any) -> Derivation:
    return Derivation(_conv2d.conv2d(*args, **kwargs))


def conv_transpose2d(*args: Any, **kwargs: Any) -> Derivation:
    return Derivation(_conv_transpose2d.conv_transpose2d(*args, **kwargs))


def derive(fn: Any, /, **kwargs: Any) -> Derivation:
    """Derive the backward pass of ``fn``, a forward function over symbolic tensors: give each of its
    parameters a shape (``x=(2, 3)``), and optionally ``wrt`` (the inputs to differentiate, default
    all), ``loss`` (mean, sum or generic, for a function that returns a tensor) and ``max_terms``."""
    return Derivation(derive_network(fn, **kwargs))


def check(d: Any, wrt: str, claim: Any) -> Proof:
    return shown(_claims.check(data_of(d), wrt, claim))


def equivalent(d: Any, name: str, form_a: Any, form_b: Any) -> Proof:
    return shown(_claims.equivalent(data_of(d), name, form_a, form_b))


def render(d: Any, fmt: str, **options: Any) -> str:
    return _documents.render(data_of(d), fmt, **options)


def write(d: Any, out_dir: Any, formats: Any = _documents.FORMATS, **options: Any) -> list:
    return _writer.write(data_of(d), out_dir, formats, **options)


for _public, _inner in (
    (matmul, _matmul.matmul),
    (conv2d, _conv2d.conv2d),
    (conv_transpose2d, _conv_transpose2d.conv_transpose2d),
    (check, _claims.check),
    (equivalent, _claims.equivalent),
    (render, _documents.render),
    (write, _writer.write),
):
    _public.__doc__ = _inner.__doc__  # one text for each, where the work is done
for _public, _inner in (
    (matmul, _matmul.matmul),
    (conv2d, _conv2d.conv2d),
    (conv_transpose2d, _conv_transpose2d.conv_transpose2d),
):
    # help() and the API page show the preset's own parameters, not (*args, **kwargs)
    _public.__signature__ = inspect.signature(_inner).replace(return_annotation=Derivation)  # type: ignore[attr-defined]

__all__ = [
    "Counterexample",
    "Derivation",
    "GeneralDerivation",
    "Proof",
    "Step",
    "check",
    "conv2d",
    "conv_transpose2d",
    "derive",
    "equivalent",
    "matmul",
    "render",
    "write",
]
