"""A convolution's document: the output's size, the entry formula it shows (checked against every
forward entry), the closed forms and views as equations, the slices it writes out, and the
elements it picks. Shared by conv2d and conv_transpose2d where their documents agree.
"""

from __future__ import annotations

import itertools
import operator

import sympy

from ..chain.build import pick_index
from ..chain.derivation import Equation, Step, TensorView
from ..chain.notation import Call, Equals, Joined, Product
from ..chain.rules import CLOSED_FORM, Rule
from ..core import packedpoly, poly
from ..core.tensor import PolyTensor
from ..network.units.conv2d import Geometry

IM2COL = Rule("im2col", "equal", "im2col, proven")
LOSS_ENTRY = Rule("loss entry", "loss entry", "derivative of the loss")
# the data is the axis of the output's shape the displayed formula gives
OUTPUT_HEIGHT = Rule("output height", "size", "output height", data=(-2,))
OUTPUT_WIDTH = Rule("output width", "size", "output width", data=(-1,))
INDEX_NAME = Rule("index name", "shown", "index of the input")


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
    # every part of the formula is read: a factor, term or sum the checks below skip would pass unseen
    parts = sympy.Add.make_args(rhs) if isinstance(rhs, sympy.Add) else (rhs,)
    sums = [a for a in parts if isinstance(a, sympy.Sum)]
    bias_terms = [a for a in parts if isinstance(a, sympy.Indexed)]
    if len(sums) != 1 or len(parts) != 1 + len(bias_terms) or any(t.base.label.name != "b" for t in bias_terms):
        return "the formula is not one sum plus entries of b"
    (total,) = sums
    summand = total.function
    factors = {f.base.label.name: f for f in summand.args if isinstance(f, sympy.Indexed)}
    if not isinstance(summand, sympy.Mul) or len(summand.args) != 2 or set(factors) != {"x", "w"}:
        return "the summand is not one w times one x"
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

    def coordinates(expr):
        """One 0-based index coordinate at every value of the few indices it depends on: the
        positions of those indices in ``order``, and the values by combination."""
        used = [k for k, var in enumerate(order) if var in expr.free_symbols] or [0]
        f = sympy.lambdify([order[k] for k in used], expr, modules="math")
        return used, {combo: int(f(*combo)) - 1 for combo in itertools.product(*(ranges[order[k]] for k in used))}

    def table(expr):
        """``coordinates`` with a C-level getter of the indices' values."""
        used, values = coordinates(expr)
        if len(used) == 1:  # itemgetter of one position gives the value itself, not a tuple
            values = {combo[0]: v for combo, v in values.items()}
        return operator.itemgetter(*used), values

    if isinstance(d.definitions, packedpoly.PackedTensor):
        return _check_packed(d, order, ranges, coordinates, factors, bias_terms, o)

    # four indices each, as X and W have: unpacked, so that the loop below runs without calls
    (gx0, x0), (gx1, x1), (gx2, x2), (gx3, x3) = (table(e) for e in factors["x"].indices)
    (gw0, w0), (gw1, w1), (gw2, w2), (gw3, w3) = (table(e) for e in factors["w"].indices)
    _, S1, S2, S3 = X.shape
    S0 = X.shape[0]
    T0, T1, T2, T3 = W.shape
    x_ids, w_ids = X.ids, W.ids
    tap_values = list(itertools.product(*(ranges[t] for t in taps)))

    for pos, (nn, oo, ii, jj) in enumerate(itertools.product(*(ranges[s] for s in (n, o, i, j)))):
        entry: dict = {}
        for tap in tap_values:
            env = (nn, oo, ii, jj, *tap)
            a0, a1, a2, a3 = x0[gx0(env)], x1[gx1(env)], x2[gx2(env)], x3[gx3(env)]
            if 0 <= a0 < S0 and 0 <= a1 < S1 and 0 <= a2 < S2 and 0 <= a3 < S3:
                b0, b1, b2, b3 = w0[gw0(env)], w1[gw1(env)], w2[gw2(env)], w3[gw3(env)]
                # each index inside W: a row-major position alone would let one run past its axis
                if not (0 <= b0 < T0 and 0 <= b1 < T1 and 0 <= b2 < T2 and 0 <= b3 < T3):
                    return f"the formula reads w outside W for the entry y at {(nn, oo, ii, jj)}"
                # the row-major positions SymbolTensor.id_at computes
                key = (x_ids[((a0 * S1 + a1) * S2 + a2) * S3 + a3], w_ids[((b0 * T1 + b1) * T2 + b2) * T3 + b3])
                entry[key] = entry.get(key, 0) + 1  # counted: a term the formula reads twice is 2·x·w
        for term in bias_terms:
            at = _bias_at(d, term, o, oo)
            if at is None:
                return f"the formula reads b outside b for the entry y at {(nn, oo, ii, jj)}"
            entry[(at,)] = entry.get((at,), 0) + 1
        if entry != d.definitions.entries[pos]:
            return f"the formula does not give the entry y at {(nn, oo, ii, jj)}"
    return None


def _bias_at(d, term, o, value: int) -> int | None:
    """The variable the bias term reads at o = ``value``, None outside b (never from its end)."""
    (index,) = term.indices
    at = int(index.xreplace({o: value})) - 1
    b = d.input_tensors["b"]
    return b.id_at((at,)) if 0 <= at < b.shape[0] else None


def _check_packed(d, order, ranges, coordinates, factors, bias_terms, o) -> str | None:
    """``check_entry_formula`` for packed definitions: the displayed formula's index tables made
    arrays, every tap of one (n, o) plane of outputs at a time, compared with the packed entries.
    A term the formula reads twice counts twice, as it does in the loop."""
    np = packedpoly.np
    X, W = d.input_tensors["X"], d.input_tensors["W"]
    spans = [ranges[var] for var in order]
    grid = tuple(len(r) for r in spans[2:])  # i, j and the taps; n and o are fixed per plane
    plane = grid[0] * grid[1]

    def array(expr):
        used, values = coordinates(expr)
        table = np.empty(tuple(len(spans[k]) for k in used), np.int64)
        for combo, value in values.items():
            table[tuple(c - spans[k][0] for k, c in zip(used, combo))] = value
        return used, table

    def at(table, n_at: int, o_at: int):
        used, values = table
        index: list = []
        for k in used:
            if k < 2:
                index.append((n_at, o_at)[k])
            else:
                shape = [1] * len(grid)
                shape[k - 2] = grid[k - 2]
                index.append(np.arange(grid[k - 2]).reshape(shape))
        return np.broadcast_to(values[tuple(index)], grid)

    xt, wt = [array(e) for e in factors["x"].indices], [array(e) for e in factors["w"].indices]
    x_ids, w_ids = np.asarray(X.ids, np.int64), np.asarray(W.ids, np.int64)
    top = d.definitions.top
    entry = np.broadcast_to(np.arange(plane).reshape(grid[0], grid[1], *([1] * (len(grid) - 2))), grid)
    for p, (nn, oo) in enumerate(itertools.product(range(len(spans[0])), range(len(spans[1])))):
        xs = [at(t, nn, oo) for t in xt]
        inside = np.ones(grid, bool)
        for a, size in zip(xs, X.shape):
            inside &= (a >= 0) & (a < size)
        ws = [at(t, nn, oo)[inside] for t in wt]
        xs = [a[inside] for a in xs]
        x_at = x_ids[((xs[0] * X.shape[1] + xs[1]) * X.shape[2] + xs[2]) * X.shape[3] + xs[3]]

        def where(k: int, nn=nn, oo=oo) -> tuple:
            i, j = divmod(k, grid[1])
            return (spans[0][nn], spans[1][oo], spans[2][i], spans[3][j])

        # each index inside W: a row-major position alone would let one run past its axis
        outside = np.zeros(ws[0].shape, bool)
        for a, size in zip(ws, W.shape):
            outside |= (a < 0) | (a >= size)
        if outside.any():
            first = int(entry[inside][np.flatnonzero(outside)].min())
            return f"the formula reads w outside W for the entry y at {where(first)}"
        w_at = w_ids[((ws[0] * W.shape[1] + ws[1]) * W.shape[2] + ws[2]) * W.shape[3] + ws[3]]
        keys = [packedpoly.encode(entry[inside], x_at, w_at, top)]
        for term in bias_terms:
            b_at = _bias_at(d, term, o, spans[1][oo])
            if b_at is None:
                return f"the formula reads b outside b for the entry y at {where(0)}"
            spots = np.arange(plane)
            keys.append(packedpoly.encode(spots, np.full(plane, b_at), np.full(plane, -1), top))
        # counted: a term the formula reads twice is 2·x·w
        counted, coef = packedpoly.canonical(np.concatenate(keys))
        mine = packedpoly.finish((plane,), counted, coef, top)
        theirs = d.definitions.part(p * plane, (p + 1) * plane, (plane,))
        if mine != theirs:
            return f"the formula does not give the entry y at {where(packedpoly.differing(theirs, mine, 1)[0])}"
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
