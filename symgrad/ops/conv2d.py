"""Y = conv2d(X, W, b): cross-correlation with stride, zero padding, dilation and groups, as in
PyTorch. X is N×C×H×W, W is O×(C/groups)×kH×kW, b has O entries, and

    y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n, g·C/groups + c, i·s − p + u·d, j·s − p + v·d]

over the taps that land inside X (zero padding adds nothing), g being o's group. The module
knows convolution and nothing else: the element-wise chain rule is the engine's, as for matmul.

Closed forms, each computed independently of the chain rule and proven equal to it element by
element: dL/dX = conv_transpose2d(G, W) with the output padding that recovers H×W; dL/dW = the
correlation of X with G summed over the batch; dL/db = Σ_{n,i,j} G. And the im2col view:
Y = W_mat · unfold(X) + b, dW_mat = Σ_n G_mat · unfold(X)ᵀ, dX = fold(W_matᵀ · G_mat).
"""

from __future__ import annotations

import argparse
import itertools
import operator
from dataclasses import dataclass, field
from typing import Any

import sympy

from ..chain.build import Problem, derive, pick_index
from ..chain.derivation import Equation, Presentation, Step, TensorView
from ..chain.engine import gc_paused
from ..chain.losses import check_loss
from ..chain.notation import Call, Equals, Joined, Product
from ..chain.rules import CLOSED_FORM, Rule
from ..core import poly
from ..core.budget import check_budget
from ..core.errors import SymgradError
from ..core.symbols import SymbolTensor
from ..core.tensor import PolyTensor, matmul, transpose
from ..core.tensorop import TensorOpBase
from ..network import layers
from ..network.graph import Graph
from ..network.units.conv2d import (
    BiasGrad,
    Conv2dWeight,
    ConvTranspose2d,
    Geometry,
    _geo,
    flag,
    geometry,
)
from .spec import OpSpec, convolution_arguments


@dataclass(frozen=True)
class ConvParams:
    geometry: Any  # Geometry, or the transposed convolution's geometry
    bias: bool
    formula_values: dict = field(default_factory=dict)  # the sizes behind the displayed entry formula


IM2COL = Rule("im2col", "equal", "im2col, proven")
LOSS_ENTRY = Rule("loss entry", "loss entry", "derivative of the loss")
# the data is the axis of the output's shape the displayed formula gives
OUTPUT_HEIGHT = Rule("output height", "size", "output height", data=(-2,))
OUTPUT_WIDTH = Rule("output width", "size", "output width", data=(-1,))
INDEX_NAME = Rule("index name", "shown", "index of the input")


def conv2d(
    input_shape=(1, 2, 5, 5),
    weight_shape=(2, 2, 3, 3),
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    bias=True,
    loss="generic",
    *,
    pick_x=None,
    pick_w=None,
    max_terms=None,
):
    """Derive dL/dX, dL/dW and dL/db for Y = conv2d(X, W, b); picks are 1-based, as printed.
    ``max_terms`` raises the size budget (see ``symgrad.budget``)."""
    loss, bias = check_loss(loss), flag("bias", bias)
    geo = geometry(input_shape, weight_shape, stride, padding, dilation, groups)
    outputs = geo.N * geo.O * geo.out[0] * geo.out[1]
    # at most one term per kernel tap and output, plus the bias; inputs, weights, outputs, upstream
    check_budget(
        f"this convolution ({geo.N}×{geo.C}×{geo.H}×{geo.W} input, {geo.O}×{geo.Cg}×{geo.kH}×{geo.kW} kernel)",
        outputs * (geo.Cg * geo.kH * geo.kW + 1),
        geo.N * geo.C * geo.H * geo.W + geo.O * geo.Cg * geo.kH * geo.kW + geo.O + 2 * outputs,
        max_terms,
    )
    graph, inputs, Y = _one_layer(
        layers.conv2d,
        {"X": (geo.N, geo.C, geo.H, geo.W), "W": (geo.O, geo.Cg, geo.kH, geo.kW), "b": (geo.O,) if bias else None},
        dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation, groups=geo.groups),
        max_terms,
    )
    reg = graph.registry
    params = geo.params()
    closed = {
        "X": ConvTranspose2d(*SYM("G", "W"), *params, *geo.output_padding()),
        "W": Conv2dWeight(*SYM("X", "G"), *params, geo.kH, geo.kW),
    }
    if bias:
        closed["b"] = BiasGrad(*SYM("G"))
    forward = (
        Im2colForward(*SYM("X", "W", "b"), *params, geo.kH, geo.kW)
        if bias
        else Im2colForwardNoBias(*SYM("X", "W"), *params, geo.kH, geo.kW)
    )
    views = [
        ("Y", forward),
        ("W", Im2colWeightGrad(*SYM("X", "G"), *params, geo.kH, geo.kW)),
        ("X", Im2colInputGrad(*SYM("G", "W"), *params, geo.H, geo.W)),
    ]
    problem = Problem(
        op="conv2d",
        sizes={"input": (geo.N, geo.C, geo.H, geo.W), "weight": (geo.O, geo.Cg, geo.kH, geo.kW)},
        graph=graph,
        inputs=inputs,
        output=Y,
        closed_forms=closed,
        equations=equations,
        presentation=Presentation(
            title=f"Convolution and its gradients: a {geo.N}×{geo.C}×{geo.H}×{geo.W} input, "
            f"a {geo.O}×{geo.Cg}×{geo.kH}×{geo.kW} kernel",
            body="conv2d",
            stem=stem("conv2d", (geo.N, geo.C, geo.H, geo.W), (geo.O, geo.Cg, geo.kH, geo.kW)),
            notation=notation(geo, reg, inputs),
            views=tuple(views),
            inline=conv_inline("conv2d", bias),
        ),
        params=ConvParams(geo, bias, entry_formula(geo, bias)[2]),
    )
    return derive(problem, loss, default_picks(pick_x, pick_w, (geo.H, geo.W), (geo.kH, geo.kW)))


def _one_layer(layer, shapes: dict, options: dict, max_terms) -> tuple:
    """The op as a one-layer network of the graph engine: inputs X, W (and b) with their
    entry letters, and the layer's output Y, written y."""
    graph = Graph(max_terms, operations=layers)
    made = {name: graph.input(name, shape, name.lower()) for name, shape in shapes.items() if shape is not None}
    with gc_paused():
        y = layer(made["X"], made["W"], made.get("b"), name="Y", **options)
    graph.rename_entries(y, "y")
    inputs = {name: SymbolTensor(t.name, name.lower(), t.shape, t.ids) for name, t in made.items()}
    return graph, inputs, SymbolTensor("Y", "y", y.shape, y.ids)


def SYM(*names):
    return tuple(sympy.Symbol(n) for n in names)


def notation(geo: Geometry, reg, inputs) -> dict:
    """The definition of an output entry (a checked step, see ``equations``), and slices of the inputs."""
    return {"slices": slices(reg, inputs, (geo.H, geo.W), (geo.kH, geo.kW))}


def _per_axis(name: str, values: tuple) -> tuple:
    """One symbol when both axes share the value (s), one per axis otherwise (s_H, s_W)."""
    if values[0] == values[1]:
        return (sympy.Symbol(name),) * 2
    return sympy.Symbol(f"{name}_H"), sympy.Symbol(f"{name}_W")


def entry_formula(geo: Geometry, bias: bool) -> tuple:
    """y_{n,o,i,j} as the document writes it, 1-based like every entry it shows, with the group
    offset of the channel; the value of each size symbol in it; and the input's index names
    (c', i', j') with the expressions they stand for.

    A term whose x index falls outside the input is zero (the padding)."""
    n, o, i, j, c, u, v = sympy.symbols("n o i j c u v", integer=True)
    sH, sW = _per_axis("s", geo.stride)
    pH, pW = _per_axis("p", geo.padding)
    dH, dW = _per_axis("d", geo.dilation)
    kH, kW, Cg, Og = (sympy.Symbol(name) for name in ("k_H", "k_W", "C_g", "O_g"))
    x, w, b, y = (sympy.IndexedBase(letter) for letter in "xwby")

    def position(out, tap, s, d, p):  # (out − 1)·s + (tap − 1)·d − p + 1, in the order people write it
        return sympy.Add(
            sympy.Mul(sympy.Add(out, -1, evaluate=False), s, evaluate=False),
            sympy.Mul(sympy.Add(tap, -1, evaluate=False), d, evaluate=False),
            sympy.Mul(-1, p, evaluate=False),
            1,
            evaluate=False,
        )

    group = sympy.floor(
        sympy.Mul(sympy.Add(o, -1, evaluate=False), sympy.Pow(Og, -1, evaluate=False), evaluate=False), evaluate=False
    )
    channel = sympy.Add(sympy.Mul(group, Cg, evaluate=False), c, evaluate=False)
    # the input's indices get names of their own, defined on the lines below the sum, so that
    # the formula stays short enough for a phone's column
    names = tuple(
        (sympy.Symbol(f"{letter}'", integer=True), index)
        for letter, index in (("c", channel), ("i", position(i, u, sH, dH, pH)), ("j", position(j, v, sW, dW, pW)))
    )
    input_index = (n, *(name for name, _ in names))
    term = sympy.Mul(w[o, c, u, v], x[input_index], evaluate=False)
    total = sympy.Sum(term, (v, 1, kW), (u, 1, kH), (c, 1, Cg))
    rhs = sympy.Add(b[o], total, evaluate=False) if bias else total
    values = {kH: geo.kH, kW: geo.kW, Cg: geo.Cg, Og: geo.Og}
    for symbols, numbers in (((sH, sW), geo.stride), ((pH, pW), geo.padding), ((dH, dW), geo.dilation)):
        values.update(zip(symbols, numbers))
    return y[n, o, i, j], rhs, values, names


def check_entry_formula(d, step) -> str | None:
    """The displayed formula, evaluated at every output entry and every tap with the document's
    sizes, must give exactly the forward entries: the formula a reader sees is the one computed."""
    values = d.params.formula_values
    names = {s.lhs: s.rhs for s in d.equations["definition"].steps if s.rule is INDEX_NAME}
    rhs = step.rhs.xreplace(names).xreplace({k: sympy.Integer(v) for k, v in values.items()})
    total = next(a for a in sympy.Add.make_args(rhs) if isinstance(a, sympy.Sum)) if isinstance(rhs, sympy.Add) else rhs
    bias_terms = (
        [a for a in sympy.Add.make_args(rhs) if isinstance(a, sympy.Indexed)] if isinstance(rhs, sympy.Add) else []
    )
    factors = {f.base.label.name: f for f in total.function.args if isinstance(f, sympy.Indexed)}
    n, o, i, j = step.lhs.indices
    limits = list(reversed(total.limits))  # outermost first
    X, W, Y = d.input_tensors["X"], d.input_tensors["W"], d.output
    ranges = {
        n: range(1, Y.shape[0] + 1),
        o: range(1, Y.shape[1] + 1),
        i: range(1, Y.shape[2] + 1),
        j: range(1, Y.shape[3] + 1),
    }
    ranges.update({var: range(int(lo), int(hi) + 1) for var, lo, hi in limits})

    taps = [lim[0] for lim in limits]
    order = [n, o, i, j, *taps]  # index values travel as a tuple in this order: no Symbol hashing per tap

    def table(expr):
        """One 0-based index coordinate at every value of the few indices it depends on, computed
        once, and a C-level getter of those indices' values."""
        used = [k for k, var in enumerate(order) if var in expr.free_symbols] or [0]
        f = sympy.lambdify([order[k] for k in used], expr, modules="math")
        values: dict = {combo: int(f(*combo)) - 1 for combo in itertools.product(*(ranges[order[k]] for k in used))}
        if len(used) == 1:  # itemgetter of one position gives the value itself, not a tuple
            values = {combo[0]: v for combo, v in values.items()}
        return operator.itemgetter(*used), values

    x_tables = [table(e) for e in factors["x"].indices]
    w_tables = [table(e) for e in factors["w"].indices]

    def coordinates(tables, env):
        return tuple([values[get(env)] for get, values in tables])

    for pos, (nn, oo, ii, jj) in enumerate(itertools.product(*(ranges[s] for s in (n, o, i, j)))):
        entry: dict = {}
        for tap in itertools.product(*(ranges[t] for t in taps)):
            env = (nn, oo, ii, jj, *tap)
            at_x = coordinates(x_tables, env)
            if all(0 <= a < size for a, size in zip(at_x, X.shape)):
                entry[(X.id_at(at_x), W.id_at(coordinates(w_tables, env)))] = 1
        for term in bias_terms:
            (index,) = term.indices
            entry[(d.input_tensors["b"].id_at((int(index.xreplace({o: oo})) - 1,)),)] = 1
        if entry != d.definitions.entries[pos]:
            return f"the formula does not give the entry y at {(nn, oo, ii, jj)}"
    return None


ENTRY_FORMULA = Rule("entry formula", "op", "every entry, checked", check_entry_formula)


def slices(reg, inputs, plane: tuple, kernel: tuple) -> tuple:
    """The first channel of the first sample and the first kernel slice, written out."""
    first_x = PolyTensor(
        plane, tuple(poly.var(inputs["X"].id_at((0, 0, h, w))) for h in range(plane[0]) for w in range(plane[1]))
    )
    first_w = PolyTensor(
        kernel, tuple(poly.var(inputs["W"].id_at((0, 0, u, v))) for u in range(kernel[0]) for v in range(kernel[1]))
    )
    return (
        (sympy.Symbol(r"\boldsymbol{X}_{1,1}"), TensorView("X11", first_x, reg)),
        (sympy.Symbol(r"\boldsymbol{W}_{1,1}"), TensorView("W11", first_w, reg)),
    )


def stem(prefix: str, *shapes: tuple) -> str:
    """conv2d-1x2x5x5-2x2x3x3: the op and its shapes, for file names."""
    return "-".join([prefix, *("x".join(map(str, s)) for s in shapes)])


def default_picks(pick_x, pick_w, plane: tuple, kernel: tuple) -> dict:
    """The picked elements of X and W, 1-based; by default the (2, 2) entry of the first slices."""
    return {
        "X": pick_index(pick_x, (1, 1, min(2, plane[0]), min(2, plane[1])), rank=4),
        "W": pick_index(pick_w, (1, 1, min(2, kernel[0]), min(2, kernel[1])), rank=4),
    }


def equations(d) -> dict:
    geo: Geometry = d.params.geometry
    eq = {}
    size_steps = []
    for rule, size, k, s, p, dil, out in zip(
        (OUTPUT_HEIGHT, OUTPUT_WIDTH), (geo.H, geo.W), (geo.kH, geo.kW), geo.stride, geo.padding, geo.dilation, geo.out
    ):
        inner = sympy.Add(size, 2 * p, -dil * (k - 1), -1, evaluate=False)
        ratio = sympy.Mul(inner, sympy.Pow(s, -1, evaluate=False), evaluate=False)
        formula = sympy.Add(sympy.floor(ratio, evaluate=False), 1, evaluate=False)
        size_steps.append(Step(formula, sympy.Integer(out), rule))
    eq["output_size"] = Equation("output_size", tuple(size_steps))
    lhs, rhs, _, names = entry_formula(geo, d.params.bias)
    eq["definition"] = Equation(
        "definition", (Step(lhs, rhs, ENTRY_FORMULA), *(Step(name, index, INDEX_NAME) for name, index in names))
    )
    for name, closed in d.closed_forms.items():
        eq[f"closed_{name}"] = Equation(f"closed_{name}", (Step(sympy.Symbol(f"d{name}"), closed, CLOSED_FORM),))
    for wrt, view in d.presentation.views:
        lhs = sympy.Symbol(wrt if wrt == "Y" else f"d{wrt}")
        eq[f"im2col_{wrt}"] = Equation(f"im2col_{wrt}", (Step(lhs, view, IM2COL),))
    first = d.output.ids[0]
    L = sympy.Symbol("L")
    if d.loss.has_value:
        value = d.upstream_values.entries[0].get((), 0)
        eq["loss"] = Equation(
            "loss",
            (
                Step(
                    sympy.Derivative(L, d.registry.symbol(first)),
                    sympy.Rational(value.numerator, value.denominator),
                    LOSS_ENTRY,
                ),
            ),
        )
    return eq


def unfold(X, n, group, geo) -> PolyTensor:
    """im2col of sample n, one group: rows (c, u, v), columns the output positions (i, j)."""
    Ho, Wo = geo.out
    rows = []
    for c, u, v in itertools.product(range(geo.Cg), range(geo.kH), range(geo.kW)):
        for i, j in itertools.product(range(Ho), range(Wo)):
            spot = geo.at(i, j, u, v)
            rows.append(X[(n, group * geo.Cg + c) + spot] if spot else {})
    return PolyTensor((geo.Cg * geo.kH * geo.kW, Ho * Wo), tuple(rows))


def weight_matrix(W, group, geo) -> PolyTensor:
    """W_mat of one group: rows the group's output channels, columns (c, u, v)."""
    per = geo.Cg * geo.kH * geo.kW  # W is row-major, so output channel o is one run of entries
    return PolyTensor((geo.Og, per), W.entries[group * geo.Og * per : (group + 1) * geo.Og * per])


def output_matrix(G, n, group, geo) -> PolyTensor:
    """G_mat of sample n, one group: rows output channels, columns positions (i, j)."""
    Ho, Wo = geo.out
    return PolyTensor(
        (geo.Og, Ho * Wo),
        tuple(
            G[(n, o, i, j)] for o in range(group * geo.Og, (group + 1) * geo.Og) for i in range(Ho) for j in range(Wo)
        ),
    )


class Im2colForward(TensorOpBase):
    """Y = W_mat · unfold(X) + b, sample by sample and group by group."""

    tensors = 3
    label = "im2col"
    view_name = "im2col"

    def compute(self, X, W, b=None):
        *params, kH, kW = self.params
        N, C, H, Wd = X.shape
        geo = _geo(params, N, C, H, Wd, W.shape[0], kH, kW)
        Ho, Wo = geo.out
        out = {}
        for n, group in itertools.product(range(N), range(geo.groups)):
            product = matmul(weight_matrix(W, group, geo), unfold(X, n, group, geo))
            for r, (i, j) in itertools.product(range(geo.Og), itertools.product(range(Ho), range(Wo))):
                o = group * geo.Og + r
                out[(n, o, i, j)] = poly.add(product[(r, i * Wo + j)], b[(o,)]) if b else product[(r, i * Wo + j)]
        return PolyTensor.build((N, geo.O, Ho, Wo), lambda ix: out[ix])


class Im2colForwardNoBias(Im2colForward):
    """Y = W_mat · unfold(X), for a convolution without bias."""

    tensors = 2


class Im2colWeightGrad(TensorOpBase):
    """dW_mat = Σ_n G_mat[n] · unfold(X[n])ᵀ, reshaped to W's shape."""

    tensors = 2
    label = "im2col_weight"
    view_name = "im2col"

    def compute(self, X, G):
        *params, kH, kW = self.params
        N, C, H, Wd = X.shape
        geo = _geo(params, N, C, H, Wd, G.shape[1], kH, kW, G)
        blocks: list = []
        for group in range(geo.groups):
            parts = [matmul(output_matrix(G, n, group, geo), transpose(unfold(X, n, group, geo))) for n in range(N)]
            blocks.extend(poly.add(*column) for column in zip(*(p.entries for p in parts)))
        return PolyTensor((geo.O, geo.Cg, kH, kW), tuple(blocks))


class Im2colInputGrad(TensorOpBase):
    """dX = fold(W_matᵀ · G_mat): each column of the product is added back where it was unfolded from."""

    tensors = 2
    label = "im2col_input"
    view_name = "im2col"

    def compute(self, G, W):
        *params, H, Wd = self.params
        N, O, Ho, Wo = G.shape
        _, Cg, kH, kW = W.shape
        groups = params[6]
        geo = _geo(params, N, Cg * groups, H, Wd, O, kH, kW, G)
        out: dict = {}
        for n, group in itertools.product(range(N), range(geo.groups)):
            columns = matmul(transpose(weight_matrix(W, group, geo)), output_matrix(G, n, group, geo))
            for r, (c, u, v) in enumerate(itertools.product(range(Cg), range(kH), range(kW))):
                for i, j in itertools.product(range(Ho), range(Wo)):
                    spot = geo.at(i, j, u, v)
                    if spot:
                        poly.add_into(out.setdefault((n, group * Cg + c) + spot, {}), columns[(r, i * Wo + j)])
        return PolyTensor.build((N, geo.C, H, Wd), lambda ix: out.get(ix, {}))


def _arguments(parser: argparse.ArgumentParser) -> None:
    convolution_arguments(
        parser, (1, 2, 5, 5), (2, 2, 3, 3), "O×(C/groups)×kH×kW, as 2x2x3x3 (the default)", loss_default="generic"
    )


def _from_args(args: argparse.Namespace, max_terms: int | None):
    return conv2d(
        args.input,
        args.weight,
        args.stride,
        args.padding,
        args.dilation,
        args.groups,
        bias=not args.no_bias,
        loss=args.loss,
        pick_x=args.pick_x,
        pick_w=args.pick_w,
        max_terms=max_terms,
    )


def _terms(args: argparse.Namespace) -> int:
    """Terms for the progress estimate; 0 when the shapes are not valid (the op then says why)."""
    try:
        geo = geometry(args.input, args.weight, args.stride, args.padding, args.dilation, args.groups)
    except SymgradError:
        return 0
    return geo.N * geo.O * geo.out[0] * geo.out[1] * geo.Cg * geo.kH * geo.kW


SPEC = OpSpec(
    name="conv2d",
    summary="Y = conv2d(X, W, b): dL/dX, dL/dW and dL/db",
    arguments=_arguments,
    build=_from_args,
    terms=_terms,
    examples=(
        (
            "a convolution: one 3-channel 16×32 sample, a 2×3×4×5 kernel, padding 1, stride 2",
            lambda: conv2d((1, 3, 16, 32), (2, 3, 4, 5), stride=2, padding=1, loss="mean"),
        ),
    ),
)


def conv_inline(name: str, bias: bool) -> dict:
    """The formulas a convolution document shows inline: the forward pass, and the im2col products."""
    X, W, b, Y = (sympy.Symbol(n) for n in ("X", "W", "b", "Y"))
    Wmat, Gmat = sympy.Symbol(r"W_{\mathrm{mat}}"), sympy.Symbol(r"G_{\mathrm{mat}}")
    unfold = Call("unfold", X)
    product = Product(Wmat, unfold)
    return {
        "forward": Equals(Y, Call(name, X, W, b) if bias else Call(name, X, W)),
        "unfold": unfold,
        "im2col": Equals(Y, Joined(product, b, separator=" + ") if bias else product),
        "im2col_weight": Equals(
            sympy.Symbol(r"dW_{\mathrm{mat}}"), Product(Gmat, unfold, transpose_last=True, sum_over="n")
        ),
        "im2col_input": Product(sympy.Symbol(r"W_{\mathrm{mat}}^{T}"), Gmat),
    }
