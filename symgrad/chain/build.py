"""From an op's forward pass to a Derivation: chain rule, loss, recorded steps."""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.errors import SymgradError
from ..core.symbols import SymbolTensor, upstream_name
from ..core.tensor import PolyTensor
from . import losses, steps
from .derivation import Derivation, Presentation
from .engine import gc_paused


@dataclass(frozen=True)
class Problem:
    """What an op module hands to the engine: its forward pass, built as a one-layer network on
    the graph engine's variables, and how to close it.

    ``graph`` is the network (its inputs and the op's layer); ``inputs`` and ``output`` name its
    tensors with the letters the document writes."""

    op: str
    sizes: dict
    graph: Any
    inputs: dict  # name -> SymbolTensor over the graph's variables
    output: SymbolTensor
    closed_forms: dict  # input name -> SymPy matrix expression over env names
    equations: Callable  # Derivation -> dict of op-specific Equations
    presentation: Presentation = field(default_factory=lambda: Presentation("", "", ""))
    params: Any = None


def derive(problem: Problem, loss: object, picks: dict) -> Derivation:
    """The graph engine's chain rule through the op's layer, with dL/dY left as free symbols G
    (the generic upstream L = Σ G∘Y), so every gradient holds for every loss; the loss's own
    values for G are kept beside it and put in where a document shows them."""
    # the collector waits until the derivation is whole: the gradients' terms, and the tensors and
    # steps built on them next, are millions of objects without a cycle among them
    with gc_paused():
        return _derive(problem, loss, picks)


def _derive(problem: Problem, loss: object, picks: dict) -> Derivation:
    checked = losses.check_loss(loss)
    graph, out = problem.graph, problem.output
    for name, index in picks.items():
        t = problem.inputs.get(name)
        if t is None:
            raise SymgradError(f"cannot pick an element of {name!r}: the inputs are {', '.join(problem.inputs)}")
        check_index(name, index, t.shape)
    G = graph.input("G", out.shape, out.letter, namer=upstream_name)
    upstream = SymbolTensor("G", out.letter, out.shape, G.ids)
    graph.registry.leading.update(upstream.ids)
    L = graph.new_tensor(graph.fresh_name("L"), ())
    graph.define(L.ids[0], {tuple(sorted((g, y))): 1 for g, y in zip(G.ids, out.ids)})
    graph.add_node("upstream", (graph.tensors[out.name], G), L)
    grads, shares = graph.chain_rule(L.ids[0])
    values = {g: losses.upstream_value(checked, len(out.ids), g) for g in upstream.ids}
    grads_upstream = {name: _tensor(grads, t.shape, t.ids) for name, t in problem.inputs.items()}
    d = Derivation(
        op=problem.op,
        sizes=dict(problem.sizes),
        loss=checked,
        registry=graph.registry,
        input_tensors=dict(problem.inputs),
        output=out,
        upstream_symbols=upstream,
        definitions=_tensor(graph.defs, out.shape, out.ids),
        upstream_values=PolyTensor(out.shape, tuple(values[g] for g in upstream.ids)),
        grads_upstream=grads_upstream,
        picks=dict(picks),
        closed_forms=dict(problem.closed_forms),
        presentation=problem.presentation,
        params=problem.params,
        graph=graph,
        network_grads=grads,
        shares=shares,
    )
    equations = {}
    for name, index in picks.items():
        x = problem.inputs[name].id_at(index)
        equations[f"local_{name}"] = steps.local_partials(d, x, f"local_{name}")
        chain = equations[f"chain_{name}"] = steps.chain_sum(d, x, f"chain_{name}")
        equations[f"pick_value_{name}"] = steps.pick_value(d, name, x, chain, f"pick_value_{name}")
    d = replace(d, equations=equations)
    return replace(d, equations={**equations, **problem.equations(d)})


def _tensor(polys, shape: tuple, ids: tuple) -> PolyTensor:
    """The polynomials of ``ids`` as a tensor: packed where the chain rule kept them packed."""
    packed = polys.tensor(ids, shape)
    return packed if packed is not None else PolyTensor(shape, tuple(polys.get(v, {}) for v in ids))


def check_index(name: str, index, shape) -> None:
    """A 0-based pick must lie inside the tensor; the message speaks 1-based, as printed."""
    shown = ",".join(str(i + 1) for i in index)
    dims = "×".join(map(str, shape))
    if len(index) != len(shape) or any(not 0 <= i < s for i, s in zip(index, shape)):
        raise SymgradError(f"pick {shown} is outside {name}, which is {dims} (indices start at 1)")


_EXAMPLES = {1: ("one", "2"), 2: ("two", "2,3"), 3: ("three", "1,2,3"), 4: ("four", "1,1,2,2")}


def parse_pick(text: str, rank: int = 2) -> tuple:
    """'2,3' -> (2, 3): 1-based, as printed. Only ASCII digits count ('²' is a digit to Python)."""
    parts = str(text).replace(" ", "").split(",")
    if len(parts) != rank or not all(re.fullmatch(r"[0-9]{1,9}", p) for p in parts):
        raise SymgradError(_pick_message(rank, text))
    return tuple(int(p) for p in parts)


def pick_index(pick, default, rank: int) -> tuple:
    """A 1-based pick (a tuple of integers or a string such as '2,3'; ``default`` when None) -> 0-based index.

    A float or a bool is refused rather than truncated: (1.9, 2.7) is not the element (1, 2)."""
    pick = default if pick is None else pick
    if isinstance(pick, str):
        pick = parse_pick(pick, rank)
    try:
        values = tuple(pick)
    except TypeError:
        raise SymgradError(_pick_message(rank, pick)) from None
    if len(values) != rank or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise SymgradError(_pick_message(rank, pick))
    return tuple(int(v) - 1 for v in values)


def _pick_message(rank: int, given) -> str:
    word, example = _EXAMPLES.get(rank, (str(rank), ",".join(["1"] * rank)))
    return f"a pick is {word} 1-based indices such as {example}; got {given!r}"
