"""A forward function, run on symbolic tensors, becomes a derivation of its whole backward pass.

    d = symgrad.derive(net, x=(2, 3), w=(4, 3), b=(4,), t=(2, 4), wrt=("x", "w", "b"))

Each argument of ``net`` is given a shape and becomes a tensor of symbols; the function runs once,
recording its layers; the chain rule then runs over every variable, element by element.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import sympy

from ..chain.derivation import GradientViews
from ..chain.losses import check_loss
from ..core import poly
from ..core.budget import check_budget, check_max_terms
from ..core.errors import SymgradError
from ..core.tensor import to_sympy
from . import layers
from .compound import compound
from .graph import Graph, Tensor
from .layers import int_tuple
from .units.table import backward


def check_shape(name: str, shape) -> tuple:
    """A tuple of sizes of at least 1 (Python or NumPy integers, or one integer for a vector)."""
    sizes = int_tuple(shape)
    if sizes is None:
        raise SymgradError(f"the shape of {name} must be a tuple of integers, got {shape!r:.80}")
    if any(s < 1 for s in sizes):
        raise SymgradError(f"the shape of {name} has a size below 1: {sizes}")
    return sizes


def check_wrt(wrt, parameters: list) -> tuple:
    names = tuple(parameters) if wrt is None else (wrt,) if isinstance(wrt, str) else wrt
    if not isinstance(names, (tuple, list)) or not all(isinstance(n, str) for n in names):
        raise SymgradError(f"wrt must name inputs of the function (a name or a tuple of names), got {wrt!r:.60}")
    for name in names:
        if name not in parameters:
            raise SymgradError(f"wrt names {name!r}, which is not an input of the function ({', '.join(parameters)})")
    return tuple(names)


@dataclass
class NetworkDerivation:
    """The backward pass of a network: every dL/dv, each layer's share, and the layers' closed forms."""

    function: str
    graph: Graph
    shapes: dict
    wrt: tuple
    loss: Any  # the Loss applied to a tensor output, or None when the function returns L itself
    output: str  # the tensor the function returned
    loss_id: int
    loss_name: str  # the scalar tensor the function returned (or the loss applied to its output)
    grads: MutableMapping = field(repr=False, default_factory=dict)  # variable -> dL/dv
    shares: dict = field(repr=False, default_factory=dict)  # node index -> {variable: share}
    picks: dict = field(default_factory=dict)  # tensor name -> row-major position the document follows
    cache: dict = field(default_factory=dict, repr=False)  # the proof, once computed
    _equations: Any = field(default=None, repr=False)
    _closed: dict = field(default_factory=dict, repr=False)
    _meanings: dict = field(default_factory=dict, repr=False)  # a block's line symbols -> polynomials
    _grad: Any = field(default=None, repr=False)

    # what the renderer asks of a derivation
    @property
    def presentation(self):
        from .presentation import presentation

        return presentation(self)

    @property
    def equations(self) -> dict:
        if self._equations is None:
            from .presentation import equations

            self._equations = equations(self, self.picks)
        return self._equations

    @property
    def registry(self):
        return self.graph.registry

    @property
    def output_name(self) -> str:
        return self.output

    @property
    def math_names(self) -> tuple:
        """The names the document's formulas write: every tensor's."""
        return tuple(self.graph.tensors)

    @property
    def input_names(self) -> list:
        return list(self.graph.inputs)

    @property
    def lemmas(self) -> list:
        return sorted({atom.lemma for atom in self.graph.atoms.values()})

    @property
    def shapes_text(self) -> str:
        return ", ".join(f"{n} ({' × '.join(map(str, s))})" for n, s in self.shapes.items())

    @property
    def loss_text(self) -> str:
        if self.loss is None:
            return f"the function returns the loss, {self.loss_name}"
        if not self.loss.has_value:
            return (
                f"the loss of its output {self.output} is left generic: dL/d{self.output} is a tensor of free symbols"
            )
        return f"the loss is the {self.loss.name} of its output {self.output}"

    @property
    def layers(self) -> list:
        from .presentation import layers

        return layers(self)

    @property
    def compound(self) -> list:
        """The compound layers the document shows in closed form: (name, index, equation keys)."""
        out = []
        for j, block in enumerate(self.graph.blocks):
            keys = [k for k in self.equations if k.startswith(f"block_{j}_")]
            if keys:
                out.append((compound(block).title, j, keys))
        return out

    @property
    def tensors(self) -> dict:
        return self.graph.tensors

    @property
    def inputs(self) -> list:
        return list(self.graph.inputs)

    @property
    def arguments(self) -> list:
        """The tensors ``evaluate`` is given: every input of the graph."""
        return list(self.graph.inputs)

    @property
    def fixed(self) -> dict:
        return {}

    def gradient(self, name: str) -> list:
        """dL/d(name), entry by entry, as polynomials; a long gradient of an intermediate appears
        in them as a variable of its own (``Graph.name_gradient``), defined in ``graph.defs``."""
        tensor = self.tensor(name)
        return [self.grads.get(v, {}) for v in tensor.ids]

    def tensor(self, name: str) -> Tensor:
        try:
            return self.graph.tensors[name]
        except KeyError:
            names = ", ".join(self.graph.tensors)
            raise SymgradError(f"the network has no tensor named {name!r}; it has {names}") from None

    @property
    def grad(self) -> GradientViews:
        """dL/dx as SymPy arrays, for every input named in wrt, in the network's own variables
        (named gradients written out), each converted when it is first looked up. Written out,
        a large network's gradient can be far longer than ``gradient(name)``."""
        if self._grad is None:
            self._grad = GradientViews(self.wrt, lambda n: self._sympy(self.tensor(n), self._written_out(n)))
        return self._grad

    def _written_out(self, name: str) -> list:
        out, terms = [], 0
        for p in self.gradient(name):
            out.append(self.graph.explicit(p))
            terms += len(out[-1])
            check_budget(f"dL/d{name} written out in the network's variables", terms, 0, self.graph.max_terms)
        return out

    def value(self, name: str):
        """A tensor's entries as SymPy expressions of the graph's variables (its own symbols)."""
        tensor = self.tensor(name)
        return self._sympy(tensor, [poly.var(v) for v in tensor.ids])

    def _sympy(self, tensor: Tensor, entries: list):
        flat = [to_sympy(p, self.graph.registry) for p in entries]
        if not tensor.shape:
            return flat[0]
        return sympy.ImmutableDenseNDimArray(flat, tensor.shape)

    def upstream(self, vid: int) -> poly.Poly:
        """dL/d(vid) written out: the definition of its named gradient, if it has one."""
        named = self.graph.adjoints.get(vid)
        return self.graph.defs[named] if named is not None else self.grads.get(vid, {})

    def closed_share(self, k: int) -> dict:
        """Layer k's closed form applied to the element-wise upstream of its output (computed once)."""
        if k not in self._closed:
            node = self.graph.nodes[k]
            upstream = [self.grads.get(v, {}) for v in self.graph.tensors[node.output].ids]
            self._closed[k] = backward(self.graph, node, upstream)
        return self._closed[k]


def derive_network(fn, *, wrt=None, loss="mean", max_terms=None, picks=None, **shapes) -> NetworkDerivation:
    """Run ``fn`` on tensors of symbols of the given shapes and derive dL/d(every variable).
    ``picks`` maps a tensor's name to the 1-based index of the element its document follows."""
    if not callable(fn):
        raise SymgradError(f"derive needs a forward function or an op's name, got {fn!r}")
    try:
        parameters = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        raise SymgradError("derive: cannot read the forward function's parameters") from None
    missing = [p for p in parameters if p not in shapes]
    extra = [s for s in shapes if s not in parameters]
    if missing or extra:
        raise SymgradError(
            "derive: give a shape for every parameter of the function and nothing else"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not parameters: {', '.join(extra)}" if extra else "")
        )
    check_max_terms(max_terms)
    sized = {name: check_shape(name, shapes[name]) for name in parameters}
    wrt = check_wrt(wrt, parameters)
    if picks is not None and not isinstance(picks, dict):
        raise SymgradError(f"picks must map a tensor's name to an index, such as {{'x': (1, 2)}}, got {picks!r:.60}")
    total = 0  # every input is sized against the budget before any of them is made
    for name, size in sized.items():
        total += math.prod(size)
        check_budget(f"the input {name} of shape {size}, with the inputs before it,", total, 0, max_terms)
    graph = Graph(max_terms, operations=layers)
    args = [graph.input(name, sized[name]) for name in parameters]
    try:
        result = fn(*args)
    except SymgradError:
        raise
    except (TypeError, AttributeError) as exc:
        raise SymgradError(
            f"the forward function {function_name(fn)} uses an operation symgrad does not support: {exc}"
        ) from None
    except RecursionError:
        raise SymgradError(f"the forward function {function_name(fn)} recursed too deeply") from None
    except Exception as exc:  # the user's own code: one line naming it and what it raised
        said = " ".join(str(exc).split())[:300]  # one line, however the exception was written
        raise SymgradError(f"the forward function {function_name(fn)} raised {type(exc).__name__}: {said}") from None
    if not isinstance(result, Tensor) or result.graph is not graph:
        raise SymgradError(f"the forward function must return a tensor of the network, got {type(result).__name__}")
    applied = None
    if result.shape:  # a tensor output: the loss= argument makes it a scalar
        applied = check_loss(loss)
        result = _apply_loss(graph, result, applied)
    (loss_id,) = result.ids
    graph.keep_reaching(result.name)
    grads, shares = graph.chain_rule(loss_id)
    output = graph.nodes[-1].inputs[0] if applied is not None else result.name
    chosen = check_picks(graph, picks or {})
    return NetworkDerivation(
        function_name(fn),
        graph,
        {n: graph.tensors[n].shape for n in parameters},
        wrt,
        applied,
        output,
        loss_id,
        result.name,
        grads,
        shares,
        chosen,
    )


def function_name(fn) -> str:
    """The name the documents give the network: the function's own, or "net" for a callable
    without a usable one (the documents escape it; the file stem keeps only safe characters)."""
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.strip():
        return "net"
    if not name.isprintable():  # a newline or a terminal control code would reach every output
        raise SymgradError(f"the forward function's name {name!r:.60} holds control characters: rename it")
    return name


def check_picks(graph: Graph, picks: dict) -> dict:
    """1-based indices, one per dimension, inside the tensor: row-major positions."""
    out = {}
    for name, index in picks.items():
        tensor = graph.tensors.get(name)
        if tensor is None:
            raise SymgradError(f"a pick names {name!r}, which is not a tensor of the network")
        index = int_tuple(index)
        if index is None or len(index) != tensor.ndim:
            raise SymgradError(f"the pick for {name} needs {tensor.ndim} integer indices, got {picks[name]!r}")
        if not all(1 <= i <= s for i, s in zip(index, tensor.shape)):
            raise SymgradError(f"the pick {index} is outside {name}, whose shape is {tensor.shape}")
        position = 0
        for i, s in zip(index, tensor.shape):
            position = position * s + i - 1
        out[name] = position
    return out


def _apply_loss(graph: Graph, y: Tensor, loss) -> Tensor:
    """L of a tensor output: its mean or sum, or, for a generic loss, Σ g·y with g free symbols
    (dL/dy left arbitrary, so the backward pass is derived for every upstream gradient)."""
    out = graph.new_tensor(graph.fresh_name("L"), ())
    if loss.has_value:
        weight = loss.weight(y.numel)
        graph.define(out.ids[0], {(v,): poly._tidy(weight) for v in y.ids})
        graph.add_node(loss.name, (y,), out, dims=tuple(range(y.ndim)), keepdim=False)
        graph.nodes[-1].op = "mean" if loss.name == "mean" else "sum"
        return out
    g = graph.input(f"d{y.name}", y.shape)
    graph.define(out.ids[0], {tuple(sorted((a, b))): 1 for a, b in zip(g.ids, y.ids)})
    graph.add_node("upstream", (y, g), out)
    return out
