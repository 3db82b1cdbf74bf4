"""What a network's document shows, as data: the forward pass layer by layer, then, from the last
layer back, a picked element's local partials, its chain-rule sum, the upstream gradient it
received and the layer's closed form with its lemma.

Every line marked as checked has a rule defined here with its own checker, which the network
prover runs on every line of the document; a rule about one place (a layer, an element, a
compound layer) carries it as its data:

- a local partial is recomputed by SymPy from the entry's written definition (or, for an atom, is
  the lemma's right-hand side, the lemma being proven on its own);
- a chain-rule sum must list exactly the entries whose definitions read the element, and its value
  must be the displayed sum of upstream × local, expanded;
- a layer's closed form is the one the prover compared with the chain rule at every element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ..chain.derivation import Equation, Presentation, Step
from ..chain.rules import Rule
from ..core import poly
from ..core.tensor import to_sympy
from .compound import compound, pick
from .compound import shown as compact_forms
from .graph import Graph, Node, Tensor
from .lemmas import LEMMAS
from .units.base import grad_of, tex
from .units.table import unit

L = sympy.Symbol("L")


@dataclass(frozen=True)
class Layer:
    """One layer as the document shows it."""

    index: int  # 1-based, in forward order
    node: Node
    forward: str  # the layer's formula on whole tensors, in LaTeX
    lemma: str | None  # the lemma its derivative uses
    inputs: tuple  # the tensors whose gradient the document derives through this layer


def layers(d) -> list[Layer]:
    graph: Graph = d.graph
    needed = needs_gradient(d)
    out = []
    for k, node in enumerate(graph.nodes):
        names = [tex(graph, n) for n in node.inputs]
        lemma = unit(node).lemma(node)
        forward = unit(node).forward_latex(names, tex(graph, node.output), node.params)
        left, _, right = forward.partition(" = ")
        out.append(
            Layer(
                k + 1,
                node,
                left if left == right else forward,  # a tensor written as what it is (kᵀ) is its own formula
                lemma if lemma is None or any(a.lemma == lemma for a in graph.atoms.values()) else None,
                tuple(n for n in dict.fromkeys(node.inputs) if n in needed),
            )
        )
    return out


def needs_gradient(d) -> set:
    """The tensors on a path from a wrt input to the loss: the document derives these."""
    reach = set(d.wrt)
    for node in d.graph.nodes:
        if any(n in reach for n in node.inputs):
            reach.add(node.output)
    return reach


LONG = 64  # terms: a longer value is shown in the polynomial's order, without SymPy's canonical sort


def shown_value(graph: Graph, p: poly.Poly) -> sympy.Expr:
    """A value as the document shows it. A long one is elided by the printer after its first
    terms anyway; building it unevaluated keeps a large network's document cheap to write and
    to check (the checkers compare it the same way)."""
    return to_sympy(p, graph.registry, evaluate=len(p) <= LONG)


def symbol(graph: Graph, vid: int) -> sympy.Symbol:
    return graph.registry.symbol(vid)


def definition(graph: Graph, vid: int) -> sympy.Expr:
    """An entry's definition as the document writes it: a polynomial, or f(argument)."""
    if vid in graph.defs:
        return to_sympy(graph.defs[vid], graph.registry, evaluate=False)
    atom = graph.atoms[vid]
    return LEMMAS[atom.lemma].shown(symbol(graph, atom.argument), atom.parameter)


def closed_latex(graph: Graph, node: Node, name: str) -> str:
    """The layer's closed form for dL/d(name) in LaTeX, as its unit writes it from the layer's own
    parameters and shapes: the text states exactly what the unit computes and the prover checks."""
    return unit(node).closed_latex(graph, node, name)


def equations(d, picks: dict) -> dict:
    graph: Graph = d.graph
    eq: dict = {}
    for layer in layers(d):
        node, k = layer.node, layer.index
        out = graph.tensors[node.output]
        y = out.ids[pick(out, picks)]
        shown = unit(node).written(graph, node, y)
        if shown is None:
            shown = definition(graph, y)
        eq[f"forward_{k}"] = Equation(f"forward_{k}", (Step(symbol(graph, y), shown, LAYER_DEFINITION),))
        eq[f"upstream_{k}"] = Equation(
            f"upstream_{k}",
            (
                Step(
                    sympy.Derivative(L, symbol(graph, y)),
                    shown_value(graph, d.upstream(y)),
                    UPSTREAM_RECEIVED,
                ),
            ),
        )
        for name in layer.inputs:
            x_tensor = graph.tensors[name]
            x = x_tensor.ids[pick(x_tensor, picks)]
            eq[f"local_{k}_{name}"] = Equation(f"local_{k}_{name}", _local_steps(graph, out, x))
            eq[f"chain_{k}_{name}"] = Equation(f"chain_{k}_{name}", _chain_steps(d, k - 1, out, x))
            closed = closed_latex(graph, node, name)
            eq[f"closed_{k}_{name}"] = Equation(
                f"closed_{k}_{name}",
                (Step(sympy.Symbol(grad_of(name, graph)), sympy.Symbol(closed), LAYER_CLOSED_FORM.at(k - 1, name)),),
            )
    for j, block in enumerate(graph.blocks):
        forms = compact_forms(graph, block)  # none for a large layer
        if forms:
            eq.update(compound(block).lines(d, j, block, picks))
        for i, form in enumerate(forms):
            key = f"block_{j}_{i}"
            rule = (BLOCK_IDENTITY if form.other else BLOCK_FORM).at(j, i)
            eq[key] = Equation(key, (Step(sympy.Symbol(form.lhs), sympy.Symbol(form.rhs), rule),))
    return eq


def local_partial(graph: Graph, y: int, x: int) -> poly.Poly:
    return graph.local_partial(y, x)


def _has_tensor(graph: Graph, vid: int) -> bool:
    return vid in graph.in_tensors


ALL_PARTIALS = 64  # up to this many output entries, every local partial is listed, zeros included
SHOWN = 12  # past that, the first entries that read the element


def _local_steps(graph: Graph, out: Tensor, x: int) -> tuple:
    """Every entry's local partial while the output is small (zeros included, as a hand derivation
    lists them); past that, the first few entries that read the element."""
    xs = symbol(graph, x)
    steps = []
    # a document elides past twice the display limit anyway: list what it can show, the chain-rule
    # lines after it still sum over every entry that reads the element
    listed = out.ids if out.numel <= ALL_PARTIALS else [y for y in out.ids if reads(graph, y, x)][:SHOWN]
    for y in listed:
        value = local_partial(graph, y, x)
        rule = NETWORK_LOCAL_PARTIAL if value else NETWORK_NO_DEPENDENCE
        steps.append(
            Step(sympy.Derivative(symbol(graph, y), xs), to_sympy(value, graph.registry), rule, frozenset({xs}))
        )
    return tuple(steps)


def _chain_steps(d, k: int, out: Tensor, x: int) -> tuple:
    """dL/dx through layer k: the paths, the local partials put in, the upstream values put in."""
    graph = d.graph
    xs = symbol(graph, x)
    readers = [y for y in out.ids if reads(graph, y, x) and local_partial(graph, y, x)]
    users = sum(1 for n in graph.nodes if any(x in graph.tensors[i].ids for i in n.inputs))
    lhs = (
        sympy.Derivative(L, xs)
        if users == 1
        else sympy.Symbol(rf"\left.\frac{{\partial L}}{{\partial {xs.name}}}\right|_{{\text{{layer {k + 1}}}}}")
    )

    def total(factors) -> sympy.Expr:
        terms = [sympy.Mul(*f, evaluate=False) for f in factors]
        return sympy.Add(*terms, evaluate=False) if terms else sympy.Integer(0)

    def upstream(y: int) -> sympy.Expr:  # dL/dL is 1
        return sympy.Integer(1) if y == d.loss_id else sympy.Derivative(L, symbol(graph, y))

    paths = total((upstream(y), sympy.Derivative(symbol(graph, y), xs)) for y in readers)
    terms = total((upstream(y), to_sympy(local_partial(graph, y, x), graph.registry)) for y in readers)
    value = poly.add(*(poly.mul(d.grads.get(y, {}), local_partial(graph, y, x)) for y in readers))
    return (
        Step(lhs, paths, NETWORK_CHAIN_RULE.at(k, x)),
        Step(paths, terms, NETWORK_LOCAL_PARTIALS.at(x)),
        Step(terms, shown_value(graph, value), NETWORK_UPSTREAM_VALUES.at(x)),
    )


# --- the checkers ---------------------------------------------------------------------------------


def true_local(graph: Graph, y: int, x: int) -> poly.Poly:
    """dy/dx recomputed from y's written definition, by exact polynomial differentiation (not by
    the chain-rule engine's gradient): through the layer's own atoms (a division's reciprocal, a
    relu's step) by their lemmas; for an atom, its lemma's right side."""
    if y in graph.defs:
        written = graph.defs[y]
        total = poly.diff(written, x)
        for u in poly.variables(written):
            atom = graph.atoms.get(u)
            if atom is not None and atom.argument == x and not _has_tensor(graph, u):
                lemma = LEMMAS[atom.lemma].local_partial(u, x, atom.helper, atom.parameter)
                poly.add_into(total, poly.mul(poly.diff(written, u), lemma))
        return total
    atom = graph.atoms.get(y)
    if atom is not None and atom.argument == x:
        return LEMMAS[atom.lemma].local_partial(y, x, atom.helper, atom.parameter)
    return {}


def _same(graph: Graph, p: poly.Poly, shown: sympy.Expr) -> bool:
    """A polynomial and a displayed expression: the one is shown as the other."""
    return shown_value(graph, p) == shown


def check_local(d, step) -> str | None:
    graph = d.graph
    y = graph.registry.id_of(step.lhs.expr)
    ((xs, _),) = step.lhs.variable_count
    true = true_local(graph, y, graph.registry.id_of(xs))
    if not _same(graph, true, step.rhs):
        return f"d{step.lhs.expr}/d{xs} is {to_sympy(true, graph.registry)}, not {step.rhs}"
    return None


def reads(graph: Graph, y: int, x: int) -> bool:
    """Whether y's written definition reads x, directly or through one of the layer's own atoms."""
    if y in graph.defs:
        used = poly.variables(graph.defs[y])
        return x in used or any(
            u in graph.atoms and graph.atoms[u].argument == x and not _has_tensor(graph, u) for u in used
        )
    atom = graph.atoms.get(y)
    return atom is not None and atom.argument == x


def check_chain(d, step) -> str | None:
    """The sum lists exactly the entries of the layer's output whose definitions read the element."""
    graph = d.graph
    k, x = step.rule.data
    if not 0 <= k < len(graph.nodes):
        return f"the network has no layer {k + 1}"
    node = graph.nodes[k]
    xs = graph.registry.symbol(x)
    expected = {y for y in graph.tensors[node.output].ids if reads(graph, y, x)}
    listed = {graph.registry.id_of(t.expr) for t in step.rhs.atoms(sympy.Derivative) if t.variables[0] == xs}
    if listed != expected:
        return f"the chain rule lists {len(listed)} entries, but {len(expected)} read the element"
    return None


def _terms(expr: sympy.Expr) -> list:
    """(upstream factor, local factor) of each term of a displayed chain-rule sum."""
    if expr == 0:
        return []
    return [t.args if isinstance(t, sympy.Mul) else (sympy.Integer(1), t) for t in sympy.Add.make_args(expr)]


def _readers_listed(d, step, x: int) -> list | None:
    """The entries whose partial by x the paths list; None when a path is not such a partial."""
    xs = d.graph.registry.symbol(x)
    out = []
    for _up, local in _terms(step.lhs):
        if not isinstance(local, sympy.Derivative) or local.variables[0] != xs:
            return None
        out.append(d.graph.registry.id_of(local.expr))
    return out


def check_local_partials(d, step) -> str | None:
    """Each local partial put in is the derivative of its entry's definition."""
    graph = d.graph
    (x,) = step.rule.data
    readers = _readers_listed(d, step, x)
    if readers is None:
        return f"the paths are not partial derivatives by {graph.registry.names[x]}"
    shown = _terms(step.rhs)
    if len(shown) != len(readers):
        return "the local partials put in do not match the paths"
    for y, (_up, local) in zip(readers, shown):
        if not _same(graph, true_local(graph, y, x), local):
            return f"the local partial of {graph.registry.names[y]} put in differs from its definition's derivative"
    return None


def check_values(d, step) -> str | None:
    """Upstream values put in and the sum expanded: the displayed result is Σ upstream × local."""
    graph = d.graph
    (x,) = step.rule.data
    readers = []
    for up, _local in _terms(step.lhs):
        readers.append(d.loss_id if up == 1 else graph.registry.id_of(up.variables[0]))
    total = poly.add(*(poly.mul(d.grads.get(y, {}), true_local(graph, y, x)) for y in readers)) if readers else {}
    if not _same(graph, total, step.rhs):
        return "the upstream values and local partials do not sum to the displayed result"
    return None


def check_closed(d, step) -> str | None:
    """The layer's closed form, computed on its own, equals the chain rule through the layer at
    every element (the same comparison the prover makes for every layer)."""
    graph = d.graph
    k, name = step.rule.data
    if not 0 <= k < len(graph.nodes) or name not in graph.nodes[k].inputs:
        return f"layer {k + 1} does not read {name}"
    if step.rhs != sympy.Symbol(closed_latex(graph, graph.nodes[k], name)):
        return f"the closed form shown for layer {k + 1} is not the one written for its parameters: {step.rhs}"
    share = d.shares.get(k, {})
    values = d.closed_share(k)[name]
    if any(share.get(v, {}) != value for v, value in zip(graph.tensors[name].ids, values)):
        return f"the closed form of layer {k + 1} for {name} differs from the chain rule"
    return None


LAYER_DEFINITION = Rule("layer definition", "shown", "definition")
UPSTREAM_RECEIVED = Rule("upstream received", "shown", "from the layer above")
NETWORK_LOCAL_PARTIAL = Rule("network local partial", "op", "local partial", check_local)
NETWORK_NO_DEPENDENCE = Rule("network no dependence", "op", "does not contain it", check_local)
# about one place: (layer index, element id), (element id), (layer index, input name),
# (compound layer index, form index), (compound layer index)
NETWORK_CHAIN_RULE = Rule("network chain rule", "op", "chain rule", check_chain)
NETWORK_LOCAL_PARTIALS = Rule("network local partials", "op", "local partials", check_local_partials)
NETWORK_UPSTREAM_VALUES = Rule("network upstream values", "op", "upstream values put in", check_values)
LAYER_CLOSED_FORM = Rule("layer closed form", "op", "closed form, every element", check_closed)
# a compound layer's compact form (or an identity between two forms), proven by the network
# prover's claim check
BLOCK_FORM = Rule("block form", "claim", "compact form, every element")
BLOCK_IDENTITY = Rule("block identity", "claim", "identity, every element")


def presentation(d) -> Presentation:
    ops = ", ".join(dict.fromkeys(n.op.replace("_", " ") for n in d.graph.nodes))
    return Presentation(
        title=f"Backpropagation through {d.function}: {ops}",
        body="network",
        stem=file_stem(d.function),
    )


def file_stem(function: str) -> str:
    """The document's file name: letters, digits and hyphens only, whatever the function's name
    (a name such as ../../x or <lambda> must never become a path or a character a shell mangles)."""
    word = re.sub(r"[^A-Za-z0-9]+", "-", function).strip("-")[:60].strip("-")
    return f"network-{word or 'net'}"
