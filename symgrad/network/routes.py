"""BatchNorm's input gradient for one element, derived the two ways careful authors write it.

The element x_i of channel c reaches the loss through y_i and, through the channel's mean and
variance, through every y_k of the channel. Route (a) is the chain rule over every y_k, with the
term k = i split from the terms k ≠ i and each ∂y_k/∂x_i in closed form. Route (b) follows the
paths through the named intermediates x̂, σ² and μ, as the original BatchNorm paper does, including
the term through σ²'s dependence on μ, which is zero because the deviations from the mean sum to
zero. Both end in the compact form (w/σ)(dy_i − mean(dy) − x̂_i·mean(dy·x̂)).

Every line is a SymPy expression whose symbols have exact meanings (``meanings``): ∂L/∂v is the
chain rule's dL/dv, ∂y_k/∂x_i the total derivative through the layer, and every other symbol a
variable of the network. Each line is checked equal to the one before it as polynomials in the
inputs and the atoms.
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from ..core import poly
from ..core.errors import SymgradError
from .graph import Block, Graph
from .layers import source

L = sympy.Symbol("L")


def _sym(graph: Graph, vid: int) -> sympy.Symbol:
    return graph.registry.symbol(vid)


class Channel:
    """The picked element's channel: positions, and the variables each line is written in."""

    def __init__(self, d, block: Block, pick: int) -> None:
        graph = self.graph = d.graph
        t = graph.tensors
        x, y = t[block.roles["input"]], t[block.roles["output"]]
        index = x.index(pick)
        dims = block.params["dims"]
        self.positions = [
            p for p in range(x.numel) if all(a == b for k, (a, b) in enumerate(zip(x.index(p), index)) if k not in dims)
        ]
        self.i = pick
        self.n = len(self.positions)

        def at(name: str) -> int:
            tensor = t[name]
            return tensor.ids[source(tensor.shape, x.shape, index)]

        self.x, self.y, self.xhat = x.ids, y.ids, t[block.roles["xhat"]].ids
        self.mu, self.var, self.std = at(block.roles["mean"]), at(block.roles["var"]), at(block.roles["std"])
        self.r = graph.reciprocal(self.std)  # the division x̂ = (x − μ)/σ made it already
        self.w = at(block.roles["weight"]) if "weight" in block.roles else None
        self.nodes = range(block.first, block.end)
        self.d = d

    def s(self, vid: int) -> sympy.Symbol:
        return _sym(self.graph, vid)

    def up(self, vid: int) -> sympy.Derivative:
        return sympy.Derivative(L, self.s(vid))

    def local(self, k: int) -> sympy.Derivative:
        return sympy.Derivative(self.s(self.y[k]), self.s(self.x[self.i]))

    def deviation(self, k: int) -> sympy.Symbol:
        """x_k − μ as one symbol, so that a sum of them prints as written; ``meanings`` gives its
        value."""
        return sympy.Symbol(
            rf"\left({self.graph.registry.names[self.x[k]]} - {self.graph.registry.names[self.mu]}\right)"
        )

    def scale(self) -> list:
        """w/σ (1/σ when the layer has no weight), as one symbol: ``notation`` writes it out."""
        return [SCALE if self.w is not None else UNSCALED]

    def scale_written(self) -> sympy.Expr:
        return _mul(*(([self.s(self.w)] if self.w is not None else []) + [self.s(self.r)]))


def _mul(*factors) -> sympy.Expr:
    kept = [f for f in factors if f != 1]
    if not kept:
        return sympy.Integer(1)
    return kept[0] if len(kept) == 1 else sympy.Mul(*kept, evaluate=False)


def _add(*terms) -> sympy.Expr:
    return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)


# The channel's two means and the sum of its deviations, as single symbols: each is a sum over
# the whole channel, which a printed line could not break inside parentheses or a fraction.
# ``notation`` writes out what each stands for; ``meanings`` gives its value.
MEAN_G = sympy.Symbol(r"\bar{g}")
SCALE, UNSCALED = sympy.Symbol(r"\frac{w}{\sigma}"), sympy.Symbol(r"\frac{1}{\sigma}")
MEAN_GX = sympy.Symbol(r"\overline{g \hat{x}}")
DEVIATIONS = sympy.Symbol(r"\textstyle\sum_{k} (x_{k} - \mu)")


def notation(ch: Channel) -> dict:
    """ḡ, the mean of g_k = ∂L/∂y_k over the channel, the mean of g_k·x̂_k, and Σ (x_k − μ), each
    written out term by term."""
    n = sympy.Rational(1, ch.n)
    return {
        "scale": (ch.scale()[0], ch.scale_written()),
        "mean_g": (MEAN_G, _add(*(_mul(n, ch.up(ch.y[k])) for k in ch.positions))),
        "mean_gx": (MEAN_GX, _add(*(_mul(n, ch.up(ch.y[k]), ch.s(ch.xhat[k])) for k in ch.positions))),
    }


def compact(ch: Channel) -> sympy.Expr:
    xhat_i = ch.s(ch.xhat[ch.i])
    return _mul(*ch.scale(), _add(ch.up(ch.y[ch.i]), _mul(-1, MEAN_G), _mul(-1, xhat_i, MEAN_GX)))


def route_a(ch: Channel) -> tuple:
    """The chain rule over every y_k of the channel; k = i split from k ≠ i; the Jacobian put in;
    collected into the compact form."""
    i, ks, n = ch.i, ch.positions, sympy.Rational(1, ch.n)
    others = [k for k in ks if k != i]
    xi = ch.s(ch.xhat[i])
    lhs = ch.up(ch.x[i])
    every = _add(*(_mul(ch.up(ch.y[k]), ch.local(k)) for k in ks))
    split = _add(_mul(ch.up(ch.y[i]), ch.local(i)), *(_mul(ch.up(ch.y[k]), ch.local(k)) for k in others))
    own = _mul(*ch.scale(), _add(1, -n, _mul(-n, sympy.Pow(xi, 2, evaluate=False))))
    jacobian = _add(
        _mul(ch.up(ch.y[i]), own),
        *(_mul(ch.up(ch.y[k]), _mul(-1, *ch.scale(), _add(n, _mul(n, ch.s(ch.xhat[k]), xi)))) for k in others),
    )
    return (lhs, every, split, jacobian, compact(ch))


def route_b(ch: Channel) -> dict:
    """The paths through x̂_i, σ² and μ, then the three upstream gradients, then the compact form."""
    i, ks, n = ch.i, ch.positions, sympy.Rational(1, ch.n)
    dev = {k: ch.deviation(k) for k in ks}
    r = ch.s(ch.r)
    paths = _add(
        _mul(ch.up(ch.xhat[i]), r),
        _mul(ch.up(ch.var), 2 * n, dev[i]),
        _mul(ch.up(ch.mu), n),
    )
    cube = sympy.Pow(r, 3, evaluate=False)
    var = _add(*(_mul(sympy.Rational(-1, 2), cube, ch.up(ch.xhat[k]), dev[k]) for k in ks))
    mu = _add(*(_mul(-1, r, ch.up(ch.xhat[k])) for k in ks), _mul(-2 * n, ch.up(ch.var), DEVIATIONS))
    xhat = _mul(ch.s(ch.w), ch.up(ch.y[i])) if ch.w is not None else ch.up(ch.y[i])
    return {
        "paths": (ch.up(ch.x[i]), paths, compact(ch)),
        "var": (ch.up(ch.var), var),
        "mu": (ch.up(ch.mu), mu),
        "deviations": (DEVIATIONS, _add(*(dev[k] for k in ks)), sympy.Integer(0)),
        "xhat": (ch.up(ch.xhat[i]), xhat),
    }


# --- what each symbol means, and the check --------------------------------------------------------


def meanings(ch: Channel) -> dict:
    """∂L/∂v for the variables the lines name (the block's share for x_i), and ∂y_k/∂x_i."""
    d, graph = ch.d, ch.graph
    out: dict = {}
    named = {*ch.y, *ch.xhat, ch.var, ch.mu}
    for vid in named:
        out[sympy.Derivative(L, _sym(graph, vid))] = d.grads.get(vid, {})
    x = ch.x[ch.i]
    share: dict = {}
    for k in ch.nodes:
        poly.add_into(share, d.shares.get(k, {}).get(x, {}))
    out[sympy.Derivative(L, _sym(graph, x))] = share
    n = Fraction(1, ch.n)
    out[ch.scale()[0]] = to_poly(ch.scale_written(), graph, {})
    out[MEAN_G], out[MEAN_GX], out[DEVIATIONS] = {}, {}, {}
    for k in ch.positions:
        out[ch.deviation(k)] = {(ch.x[k],): 1, (ch.mu,): -1}
        poly.add_into(out[DEVIATIONS], out[ch.deviation(k)])
        g = d.grads.get(ch.y[k], {})
        poly.add_into(out[MEAN_G], poly.scale(g, n))
        poly.add_into(out[MEAN_GX], poly.scale(poly.mul(g, poly.var(ch.xhat[k])), n))
    for k, total in _through(ch).items():
        out[sympy.Derivative(_sym(graph, ch.y[k]), _sym(graph, x))] = total
    return out


def _through(ch: Channel) -> dict:
    """∂y_k/∂x_i through the layer's nodes."""
    total = through(ch.graph, ch.x[ch.i], ch.nodes)
    return {k: total.get(ch.y[k], {}) for k in ch.positions}


def through(graph: Graph, x: int, nodes) -> dict:
    """d v/d x for every variable the given nodes make, by forward-mode differentiation of their
    definitions (an independent computation from the chain rule's reverse mode)."""
    tangent: dict = {x: {(): 1}}
    for k in nodes:
        for vid in graph.tensors[graph.nodes[k].output].ids:
            total: dict = {}
            for u in list(tangent):
                local = graph.local_partial(vid, u)
                if local:
                    poly.add_into(total, poly.mul(local, tangent[u]))
            if total:
                tangent[vid] = total
    return tangent


def softmax_jacobian(graph: Graph, scores: str, p: str, nodes, pick: int) -> tuple:
    """∂p_k/∂s_j = p_k(δ_kj − p_j) for the picked score s_j and every p_k of its row, with the
    meanings of the derivatives (through the softmax's nodes)."""
    s_t, p_t = graph.tensors[scores], graph.tensors[p]
    cols = s_t.shape[-1]
    row = pick - pick % cols
    j = _sym(graph, p_t.ids[pick])
    sj = _sym(graph, s_t.ids[pick])
    total = through(graph, s_t.ids[pick], nodes)
    lines, meaning = [], {}
    for k in range(row, row + cols):
        pk = _sym(graph, p_t.ids[k])
        lhs = sympy.Derivative(pk, sj)
        rhs = _mul(pk, _add(1, _mul(-1, j))) if k == pick else _mul(-1, pk, j)
        lines.append((lhs, rhs))
        meaning[lhs] = total.get(p_t.ids[k], {})
    return tuple(lines), meaning


def to_poly(expr, graph: Graph, meaning: dict) -> poly.Poly:
    """A line's expression as a polynomial: symbols by their meanings."""
    if expr in meaning:
        return meaning[expr]
    if expr.is_Rational:
        return poly.const(Fraction(int(expr.p), int(expr.q)))
    if expr.is_Symbol:
        return poly.var(graph.registry.id_of(expr))
    if isinstance(expr, sympy.Add):
        return poly.add(*(to_poly(a, graph, meaning) for a in expr.args))
    if isinstance(expr, sympy.Mul):
        out: poly.Poly = {(): 1}
        for a in expr.args:
            out = poly.mul(out, to_poly(a, graph, meaning))
        return out
    if isinstance(expr, sympy.Pow) and expr.exp.is_Integer and expr.exp >= 0:
        base, out = to_poly(expr.base, graph, meaning), {(): 1}
        for _ in range(int(expr.exp)):
            out = poly.mul(out, base)
        return out
    raise SymgradError(f"a BatchNorm line uses {expr}, which has no meaning here")


def equal(graph: Graph, a: poly.Poly, b: poly.Poly) -> bool:
    return a == b or graph.expand(poly.add(a, poly.scale(b, -1))) == {}
