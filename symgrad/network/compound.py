"""The compact closed forms of the compound layers, as implementations write them.

A compound layer (BatchNorm, LayerNorm, softmax, log-softmax, cross-entropy, attention) is built
from the exact layers, so its backward pass is already derived and proven layer by layer. What
people implement is shorter: one formula for the whole layer, such as BatchNorm's
(w/σ)(dy − mean(dy) − x̂·mean(dy·x̂)). Each form here is stated twice, in LaTeX for the document and
as a claim over the network's tensors (``symgrad.check``'s language), and the document's line is
checked by proving that claim at every element.

Each compound layer is one class here, found from its block by ``compound(block)`` as an exact
layer's unit is found from its node: its forms, and the document lines it adds of its own
(BatchNorm's two routes, attention's softmax Jacobian), with the rules that check them. The
graph, the prover and the documents call these methods and never ask a layer's name.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from ..chain.derivation import Equation, Step
from ..chain.rules import Rule
from . import batch_norm_routes as routes
from .graph import Block, Graph, Tensor
from .units.base import grad_of, tex, transposed

# Compact forms are shown for compound layers up to this many input entries. The limit was set
# when checking one wrote the whole layer out in its inputs (a 4×2×8 BatchNorm's check was over
# the default budget); claims are now decided with the layer's linear intermediates kept as
# variables, which reaches larger layers, but the documents keep the limit they were written for.
SHOWN_UP_TO = 32


@dataclass(frozen=True)
class Form:
    """dL/d(target) = the compact form, or, for an identity, left = right."""

    target: str  # the tensor whose gradient the form gives (or whose shape an identity has)
    lhs: str  # LaTeX
    rhs: str  # LaTeX
    claim: str  # the form over the network's tensors, as symgrad.check reads it
    other: str | None = None  # for an identity: the right side, as a claim


def _b(graph: Graph, name: str) -> str:
    return tex(graph, name)


def _g(name: str, graph: Graph) -> str:
    return grad_of(name, graph)


def _dims_text(dims: tuple) -> str:
    return ",".join(str(d + 1) for d in dims)


def _num(q) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"({q.numerator} / {q.denominator})"


def pick(tensor: Tensor, picks: dict) -> int:
    """The element the document follows in a tensor: the user's pick, or the middle one."""
    if tensor.name in picks:
        return picks[tensor.name]
    out, step = 0, 1
    for size in reversed(tensor.shape):
        out += size // 2 * step
        step *= size
    return out


class Compound:
    """A compound layer: its compact forms, and the document lines of its own beyond them."""

    title = ""  # as the text names it

    def forms(self, graph: Graph, block: Block) -> list[Form]:
        raise NotImplementedError

    def lines(self, d, j: int, block: Block, picks: dict) -> dict:
        """Extra document lines for compound layer j (shown with its forms); none by default."""
        return {}


class Normalization(Compound):
    """BatchNorm and LayerNorm: x̂ = (x − μ)/σ over ``dims``, then the affine w ⊙ x̂ + β."""

    def __init__(self, title: str, shared_weight: bool) -> None:
        self.title = title
        # BatchNorm's weight is one number per channel, constant over the means, so it factors
        # out; LayerNorm's varies along the normalized dims, so dL/dx̂ = w ⊙ dL/dy enters them
        self.shared_weight = shared_weight

    def forms(self, graph: Graph, block: Block) -> list[Form]:
        r, b = block.roles, (lambda n: _b(graph, n))
        dims, out, std, xhat = block.params["dims"], r["output"], r["std"], r["xhat"]
        D, mean = _dims_text(dims), f"mean({dims}, keepdim=True)"
        w = r.get("weight")
        if self.shared_weight or w is None:
            G, g = _g(out, graph), f"d{out}"
            scale, shown = (f"{w} * ", rf"\frac{{{b(w)}}}{{{b(std)}}}") if w else ("", rf"\frac{{1}}{{{b(std)}}}")
        else:
            G, g = rf"({b(w)} \odot {_g(out, graph)})", f"({w} * d{out})"
            scale, shown = "", rf"\frac{{1}}{{{b(std)}}}"
        summed, S = block.params["summed"], _dims_text(block.params["summed"])
        affine = []  # dL/dw = Σ dL/dy ⊙ x̂ and dL/dβ = Σ dL/dy, over the dims the weight is shared across
        if "weight input" in r:
            w_in = r["weight input"]
            affine.append(
                Form(
                    w_in,
                    _g(w_in, graph),
                    rf"\textstyle\sum_{{{S}}} {_g(out, graph)} \odot {b(xhat)}",
                    f"(d{out} * {xhat}).sum({summed})",
                )
            )
        if "bias input" in r:
            b_in = r["bias input"]
            affine.append(
                Form(b_in, _g(b_in, graph), rf"\textstyle\sum_{{{S}}} {_g(out, graph)}", f"d{out}.sum({summed})")
            )
        return [
            _of_input(
                graph,
                r,
                rf"{shown} \odot \Bigl({G} - \operatorname{{mean}}_{{{D}}} {G} - {b(xhat)} \odot "
                rf"\operatorname{{mean}}_{{{D}}} \bigl({G} \odot {b(xhat)}\bigr)\Bigr)",
                f"{scale}({g} - {g}.{mean} - {xhat} * ({g} * {xhat}).{mean}) / {std}",
            ),
            *affine,
        ]


class BatchNorm(Normalization):
    def __init__(self) -> None:
        super().__init__("batch norm", shared_weight=True)

    def lines(self, d, j: int, block: Block, picks: dict) -> dict:
        """dL/dx for the picked element by route (a) and route (b) (``batch_norm_routes``). The
        routes write dL/dx, which is the layer's share only when nothing else reads x."""
        if not read_only_inside(d.graph, block, block.roles["input"]):
            return {}
        ch = self.channel(d, block, picks)
        rules = {
            "a": ("chain rule over the channel", "k = i apart", "Jacobian put in", "collected"),
            "b": ("the three paths", "upstream put in, collected"),
        }
        eq = {}
        for name, line in (("a", routes.route_a(ch)), ("b", routes.route_b(ch)["paths"])):
            steps = tuple(Step(lhs, rhs, _route_rule(j, label)) for lhs, rhs, label in zip(line, line[1:], rules[name]))
            eq[f"route_{name}_{j}"] = Equation(f"route_{name}_{j}", steps)
        for part, line in routes.route_b(ch).items():
            if part != "paths":
                label = "the deviations sum to zero" if part == "deviations" else "chain rule"
                steps = tuple(Step(lhs, rhs, _route_rule(j, label)) for lhs, rhs in itertools.pairwise(line))
                eq[f"route_b_{part}_{j}"] = Equation(f"route_b_{part}_{j}", steps)
        for part, (lhs, rhs) in routes.notation(ch).items():
            eq[f"route_{part}_{j}"] = Equation(f"route_{part}_{j}", (Step(lhs, rhs, BLOCK_NOTATION),))
        return eq

    @staticmethod
    def channel(d, block: Block, picks: dict) -> routes.Channel:
        x = d.graph.tensors[block.roles["input"]]
        return routes.Channel(d, block, pick(x, picks))


class Softmax(Compound):
    title = "softmax"

    def forms(self, graph: Graph, block: Block) -> list[Form]:
        r, b = block.roles, (lambda n: _b(graph, n))
        p, dim = r["output"], block.params["dim"]
        G = _g(p, graph)
        return [
            _of_input(
                graph,
                r,
                rf"{b(p)} \odot \Bigl({G} - \textstyle\sum_{{{dim + 1}}} \bigl({G} \odot {b(p)}\bigr)\Bigr)",
                f"{p} * (d{p} - (d{p} * {p}).sum({dim}, keepdim=True))",
            )
        ]


class LogSoftmax(Compound):
    title = "log softmax"

    def forms(self, graph: Graph, block: Block) -> list[Form]:
        r, b = block.roles, (lambda n: _b(graph, n))
        out, dim, e, s = r["output"], block.params["dim"], r["exp"], r["sum"]
        G = _g(out, graph)
        return [
            _of_input(
                graph,
                r,
                rf"{G} - \operatorname{{softmax}}({b(r['input'])}) \odot \textstyle\sum_{{{dim + 1}}} {G}",
                f"d{out} - {e} / {s} * d{out}.sum({dim}, keepdim=True)",
            )
        ]


class CrossEntropy(Compound):
    title = "cross entropy"

    def forms(self, graph: Graph, block: Block) -> list[Form]:
        r, b = block.roles, (lambda n: _b(graph, n))
        out, e, s, n = r["output"], r["exp"], r["sum"], block.params["count"]
        p = rf"\operatorname{{softmax}}({b(r['input'])})"
        per = rf"\tfrac{{1}}{{{n}}}\, " if n != 1 else ""
        if "onehot" in r:
            shown = rf"{_g(out, graph)}\, {per}\bigl({p} - \operatorname{{onehot}}(t)\bigr)"
            claim = f"d{out} * ({e} / {s} - {r['onehot']}) / {n}"
        else:  # probability targets need not sum to 1: each row's softmax is weighted by its sum
            t = b(r["target"])
            shown = rf"{_g(out, graph)}\, {per}\bigl({p} \odot \textstyle\sum_{{2}} {t} - {t}\bigr)"
            claim = f"d{out} * ({e} / {s} * {r['target']}.sum(1, keepdim=True) - {r['target']}) / {n}"
        return [_of_input(graph, r, shown, claim)]


class Attention(Compound):
    title = "attention"

    def forms(self, graph: Graph, block: Block) -> list[Form]:
        r, b = block.roles, (lambda n: _b(graph, n))
        q, k, v, s, p, o = (r[x] for x in ("q", "k", "v", "scores", "p", "output"))
        root = block.params["root"]
        root_claim = root if isinstance(root, str) else _num(root)
        root_tex = b(root) if isinstance(root, str) else _num(root)  # √d, or its value: √4 is 2
        rows = r"\operatorname{rowsum}"
        return [
            Form(v, _g(v, graph), rf"{transposed(b(p))} {_g(o, graph)}", f"{p}.T @ d{o}"),
            Form(p, _g(p, graph), rf"{_g(o, graph)} {transposed(b(v))}", f"d{o} @ {v}.T"),
            Form(
                s,
                _g(s, graph),
                rf"{b(p)} \odot \bigl({_g(p, graph)} - {rows}({_g(p, graph)} \odot {b(p)})\bigr)",
                f"{p} * (d{p} - (d{p} * {p}).sum(1, keepdim=True))",
            ),
            Form(q, _g(q, graph), rf"{_g(s, graph)} {b(k)} / {root_tex}", f"d{s} @ {k} / {root_claim}"),
            Form(k, _g(k, graph), rf"{transposed(_g(s, graph))} {b(q)} / {root_tex}", f"d{s}.T @ {q} / {root_claim}"),
            # the identity fast attention kernels use to skip forming dP ⊙ P; 0·P broadcasts a
            # row sum to P's shape, so that the two sides compare entry by entry
            Form(
                p,
                rf"{rows}({_g(p, graph)} \odot {b(p)})",
                rf"{rows}({_g(o, graph)} \odot {b(o)})",
                f"(d{p} * {p}).sum(1, keepdim=True) + 0 * {p}",
                other=f"(d{o} * {o}).sum(1, keepdim=True) + 0 * {p}",
            ),
        ]

    def lines(self, d, j: int, block: Block, picks: dict) -> dict:
        """The softmax's Jacobian in the picked row of the attention weights, p_k(δ_kj − p_j)."""
        scores = d.graph.tensors[block.roles["scores"]]
        lines, meaning = routes.softmax_jacobian(
            d.graph, scores.name, block.roles["p"], range(block.first, block.end), pick(scores, picks)
        )
        d._meanings[("jacobian", j)] = meaning
        rule = SOFTMAX_JACOBIAN.at(j)
        key = f"route_jacobian_{j}"
        return {key: Equation(key, tuple(Step(lhs, rhs, rule) for lhs, rhs in lines))}


def _of_input(graph: Graph, roles: dict, rhs: str, claim: str) -> Form:
    """dL/d(the layer's input) = rhs."""
    return Form(roles["input"], _g(roles["input"], graph), rhs, claim)


# the symgrad.functional name a block is recorded under -> its layer
COMPOUNDS: dict[str, Compound] = {
    "batch_norm": BatchNorm(),
    "layer_norm": Normalization("layer norm", shared_weight=False),
    "softmax": Softmax(),
    "log_softmax": LogSoftmax(),
    "cross_entropy": CrossEntropy(),
    "attention": Attention(),
}


def compound(block: Block) -> Compound:
    return COMPOUNDS[block.kind]


def forms(graph: Graph, block: Block) -> list[Form]:
    return compound(block).forms(graph, block)


def check_jacobian(d, step) -> str | None:
    """∂p_k/∂s_j put in closed form equals the derivative through the softmax's own layers."""
    (j,) = step.rule.data
    if ("jacobian", j) not in d._meanings:
        _ = d.equations  # writing the document's equations records what the lines mean
    meaning = d._meanings.get(("jacobian", j))
    if meaning is None:
        return f"compound layer {j + 1} shows no softmax Jacobian"
    left, right = (routes.to_poly(side, d.graph, meaning) for side in (step.lhs, step.rhs))
    if not routes.equal(d.graph, left, right):
        return f"the softmax's Jacobian line is not the derivative through its layers: {step.rhs}"
    return None


def _route_rule(j: int, label: str) -> Rule:
    """A line of BatchNorm's routes through compound layer j, worded by what the line does."""
    return Rule("batch norm route", "op", label, check_route, (j,))


def check_route(d, step) -> str | None:
    """A line of BatchNorm's two routes equals the line before it, as polynomials in the inputs
    and the atoms, with each symbol's meaning (``routes.meanings``)."""
    (j,) = step.rule.data
    if not 0 <= j < len(d.graph.blocks) or not isinstance(compound(d.graph.blocks[j]), BatchNorm):
        return f"compound layer {j + 1} is not a BatchNorm layer"
    if j not in d._meanings:  # worked out once per document
        d._meanings[j] = routes.meanings(BatchNorm.channel(d, d.graph.blocks[j], d.picks))
    meaning = d._meanings[j]
    left, right = (routes.to_poly(side, d.graph, meaning) for side in (step.lhs, step.rhs))
    if not routes.equal(d.graph, left, right):
        return f"a line of BatchNorm's derivation does not follow from the one before: {step.rhs}"
    return None


BLOCK_NOTATION = Rule("block notation", "shown", "notation")
SOFTMAX_JACOBIAN = Rule("softmax jacobian", "op", "softmax Jacobian", check_jacobian)


def shown(graph: Graph, block: Block) -> list[Form]:
    """The forms the document shows: those of a small enough layer, for tensors read by nothing
    outside it (their whole gradient is then the layer's)."""
    first = graph.tensors[block.roles.get("input") or block.roles["q"]]
    if first.numel > SHOWN_UP_TO:
        return []
    return [form for form in forms(graph, block) if read_only_inside(graph, block, form.target)]


def read_only_inside(graph: Graph, block: Block, name: str) -> bool:
    """Whether only the layer's own nodes read the tensor: its whole gradient is then the layer's."""
    readers = {k for k, node in enumerate(graph.nodes) if name in node.inputs}
    return readers <= set(range(block.first, block.end))
