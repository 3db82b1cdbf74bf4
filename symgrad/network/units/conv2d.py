"""conv2d as a network layer, with the convolution's geometry (sizes, taps, PyTorch's argument
rules) and its closed-form backward pass: dL/dX = conv_transpose2d(G, W) with the output padding
that recovers H×W, dL/dW = the correlation of X with G summed over the batch, dL/db = Σ_{n,i,j} G.
Each closed form is a TensorOp computed on its own; the prover compares it with the chain rule.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy

from ...core import packedpoly, poly
from ...core.budget import packed_cost
from ...core.errors import SymgradError
from ...core.numbers import integer
from ...core.symbols import operator_name
from ...core.tensor import PolyTensor, single_variables
from ...core.tensorop import TensorOpBase, keywords
from .base import Layer, Shapes, check_tensor, graph_of, merge, output, plain_ints

if TYPE_CHECKING:
    from ..graph import Graph, Node, Tensor


@dataclass(frozen=True)
class Geometry:
    N: int
    C: int
    H: int
    W: int
    O: int
    kH: int
    kW: int
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int

    @property
    def Cg(self) -> int:
        return self.C // self.groups

    @property
    def Og(self) -> int:
        return self.O // self.groups

    @property
    def out(self) -> tuple:
        return tuple(
            (size + 2 * p - d * (k - 1) - 1) // s + 1
            for size, p, d, k, s in zip((self.H, self.W), self.padding, self.dilation, (self.kH, self.kW), self.stride)
        )

    def at(self, i: int, j: int, u: int, v: int):
        """Where kernel tap (u, v) of output position (i, j) reads X: (h, w), or None in the padding."""
        h = i * self.stride[0] - self.padding[0] + u * self.dilation[0]
        w = j * self.stride[1] - self.padding[1] + v * self.dilation[1]
        return (h, w) if 0 <= h < self.H and 0 <= w < self.W else None

    def taps(self, i: int, j: int):
        """(u, v, h, w) for every kernel tap of output position (i, j) that lands inside X."""
        for u, v in itertools.product(range(self.kH), range(self.kW)):
            spot = self.at(i, j, u, v)
            if spot:
                yield (u, v, *spot)

    def output_padding(self) -> tuple:
        """What conv_transpose2d must add to give back H×W (the floor in the size formula)."""
        return tuple(
            size - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
            for size, o, s, p, d, k in zip(
                (self.H, self.W), self.out, self.stride, self.padding, self.dilation, (self.kH, self.kW)
            )
        )

    def params(self) -> tuple:
        return (*self.stride, *self.padding, *self.dilation, self.groups)


def pair(name: str, value, minimum: int) -> tuple:
    """One exact integer for both directions, or a pair of them (Python, NumPy or SymPy integers)."""
    values = (value, value) if _is_integer(value) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != 2 or not all(_is_integer(v) and v >= minimum for v in values):
        kind = "a positive integer" if minimum == 1 else "a non-negative integer"
        raise SymgradError(f"{name} must be {kind} or a pair of them, got {value!r}")
    return tuple(integer(v, name) for v in values)


def shape4(name: str, shape) -> tuple:
    try:
        values = tuple(shape)
    except TypeError:
        values = ()
    if len(values) != 4 or not all(_is_integer(v) and v >= 1 for v in values):
        raise SymgradError(f"{name} must be four positive integers, got {shape!r}")
    return tuple(integer(v, name) for v in values)


def flag(name: str, value) -> bool:
    """True or False, nothing that merely converts to one ("yes", 1)."""
    if not isinstance(value, bool):
        raise SymgradError(f"{name} must be True or False, got {value!r}")
    return value


def _is_integer(value) -> bool:
    try:
        integer(value, "a size")
    except SymgradError:
        return False
    return True


def geometry(input_shape, weight_shape, stride, padding, dilation, groups) -> Geometry:
    N, C, H, W = shape4("input_shape", input_shape)
    O, Cg, kH, kW = shape4("weight_shape", weight_shape)
    groups = integer(groups, "groups", minimum=1)
    if C % groups or O % groups:
        raise SymgradError(f"groups={groups} must divide both the input channels ({C}) and the output channels ({O})")
    if Cg != C // groups:
        raise SymgradError(
            f"the weight has {Cg} input channels, but {C} channels in {groups} groups need {C // groups}"
        )
    geo = Geometry(
        N,
        C,
        H,
        W,
        O,
        kH,
        kW,
        pair("stride", stride, 1),
        pair("padding", padding, 0),
        pair("dilation", dilation, 1),
        groups,
    )
    for axis, size, k, p, d in zip("HW", (H, W), (kH, kW), geo.padding, geo.dilation):
        if d * (k - 1) + 1 > size + 2 * p:
            raise SymgradError(
                f"the kernel spans {d * (k - 1) + 1} along {axis} (dilation {d}), more than the "
                f"padded input ({size} + 2·{p} = {size + 2 * p})"
            )
    return geo


def positive(name: str, value) -> int:
    return integer(value, name, minimum=1)


def _rank4(op: str, role: str, shape) -> tuple:
    if len(shape) != 4:
        raise SymgradError(f"{op}: the {role} must be a 4-D tensor (N×C×H×W), got one of shape {_dims(shape)}")
    return tuple(shape)


def _dims(shape) -> str:
    return "×".join(map(str, shape))


# --- closed forms, each computed on its own ---------------------------------------------------


def _geo(params, N, C, H, W, O, kH, kW, G=None):
    """The geometry a closed form's parameters describe; G, when given, must have its output shape."""
    sH, sW, pH, pW, dH, dW, groups = params[:7]
    geo = Geometry(N, C, H, W, O, kH, kW, (sH, sW), (pH, pW), (dH, dW), groups)
    if G is not None and tuple(G.shape[2:]) != geo.out:
        raise SymgradError(
            f"these parameters give a {geo.out[0]}×{geo.out[1]} output, but the upstream gradient "
            f"is {G.shape[2]}×{G.shape[3]}"
        )
    return geo


def torch_keywords(params, output_padding=None) -> str:
    """A convolution's parameters as PyTorch's keywords, those at their defaults left out."""
    sH, sW, pH, pW, dH, dW, groups = params[:7]
    pairs = [("stride", (sH, sW), 1), ("padding", (pH, pW), 0)]
    if output_padding is not None:
        pairs.append(("output_padding", output_padding, 0))
    return keywords([*pairs, ("groups", groups, 1), ("dilation", (dH, dW), 1)])


class ConvTranspose2d(TensorOpBase):
    """conv_transpose2d(G, W): every entry of G scatters a weighted copy of the kernel."""

    tensors = 2
    label = "conv_transpose2d"
    view_name = "conv2d input-gradient"

    def describe(self):
        sH, sW, pH, pW, dH, dW, groups, opH, opW = self.params
        return [
            ("stride", (sH, sW)),
            ("padding", (pH, pW)),
            ("dilation", (dH, dW)),
            ("groups", groups),
            ("output padding", (opH, opW)),
        ]

    def claim(self, shapes: dict) -> str:
        G, W = self.args[:2]
        return f"conv_transpose2d({G}, {W}" + torch_keywords(self.params, tuple(self.params[7:9])) + ")"

    def compute(self, G, W):
        sH, sW, pH, pW, dH, dW, groups, opH, opW = self.params
        N, O, Ho, Wo = G.shape
        _, Cg, kH, kW = W.shape
        H = (Ho - 1) * sH - 2 * pH + dH * (kH - 1) + opH + 1
        Wd = (Wo - 1) * sW - 2 * pW + dW * (kW - 1) + opW + 1
        C, Og = Cg * groups, O // groups
        geo = Geometry(N, C, H, Wd, O, kH, kW, (sH, sW), (pH, pW), (dH, dW), groups)  # of the result
        out: dict = {}
        gi, wi = single_variables(G), single_variables(W)
        if gi is not None and wi is not None and packedpoly.wanted(N * O * Ho * Wo * Cg * kH * kW):
            packed = _packed_transpose(geo, (Ho, Wo), gi, wi)
            if packed is not None:  # else too many variables to pack: the dicts
                return packed
        if gi is not None and wi is not None:
            # the usual case, tensors of symbols: each product g·w is one monomial (what mul_into
            # gives for two single variables), written directly
            taps = {(i, j): list(geo.taps(i, j)) for i in range(Ho) for j in range(Wo)}
            for g, (n, o, i, j) in zip(gi, itertools.product(range(N), range(O), range(Ho), range(Wo))):
                for c in range(Cg):
                    w0, channel = (o * Cg + c) * kH, (o // Og) * Cg + c
                    for u, v, h, w in taps[(i, j)]:
                        wv = wi[(w0 + u) * kW + v]
                        acc = out.setdefault((n, channel, h, w), {})
                        mono = (g, wv) if g <= wv else (wv, g)
                        acc[mono] = acc.get(mono, 0) + 1
            return PolyTensor.build((N, C, H, Wd), lambda ix: out.get(ix, {}))
        for n, o, i, j in itertools.product(range(N), range(O), range(Ho), range(Wo)):
            g = G[(n, o, i, j)]
            for c in range(Cg):
                for u, v, h, w in geo.taps(i, j):
                    key = (n, (o // Og) * Cg + c, h, w)
                    poly.mul_into(out.setdefault(key, {}), g, W[(o, c, u, v)])
        return PolyTensor.build((N, C, H, Wd), lambda ix: {m: c for m, c in out.get(ix, {}).items() if c})


class Conv2dWeight(TensorOpBase):
    """dL/dW[o,c,u,v] = Σ_n Σ_{i,j} G[n,o,i,j] · X[n, c', i·s − p + u·d, j·s − p + v·d]:
    X correlated with G, summed over the batch."""

    tensors = 2
    label = "conv2d_weight"

    def describe(self):
        sH, sW, pH, pW, dH, dW, groups, _kH, _kW = self.params
        return [("stride", (sH, sW)), ("padding", (pH, pW)), ("dilation", (dH, dW)), ("groups", groups)]

    def claim(self, shapes: dict) -> str:
        X, G = self.args[:2]
        groups, kH, kW = self.params[6:]
        size = (shapes[str(G)][1], shapes[str(X)][1] // groups, kH, kW)  # the weight's: torch.nn.grad's weight_size
        return f"conv2d_weight({X}, {size}, {G}" + torch_keywords(self.params) + ")"

    def compute(self, X, G):
        *params, kH, kW = self.params
        N, C, H, W = X.shape
        O = G.shape[1]
        geo = _geo(params, N, C, H, W, O, kH, kW, G)
        out = []
        xi, gi = single_variables(X), single_variables(G)
        if (
            xi is not None
            and gi is not None
            and packedpoly.wanted(G.shape[0] * O * math.prod(G.shape[2:]) * geo.Cg * kH * kW)
        ):
            packed = _packed_weight(geo, tuple(G.shape[2:]), xi, gi)
            if packed is not None:  # else too many variables to pack: the dicts
                return packed
        if xi is not None and gi is not None:  # tensors of symbols: each g·x one monomial, written directly
            Ho, Wo = G.shape[2:]
            spots: dict = {}  # tap -> (where in G's plane, where in X's plane) for every output it reads X at
            for u, v, i, j in itertools.product(range(kH), range(kW), range(Ho), range(Wo)):
                spot = geo.at(i, j, u, v)
                if spot:
                    spots.setdefault((u, v), []).append((i * Wo + j, spot[0] * W + spot[1]))
            for o, c, u, v in itertools.product(range(O), range(geo.Cg), range(kH), range(kW)):
                terms: dict = {}
                c0 = (o // geo.Og) * geo.Cg
                for n in range(N):
                    g0, x0 = (n * O + o) * Ho * Wo, (n * C + c0 + c) * H * W
                    for at_g, at_x in spots.get((u, v), ()):
                        g, x = gi[g0 + at_g], xi[x0 + at_x]
                        mono = (g, x) if g <= x else (x, g)
                        terms[mono] = terms.get(mono, 0) + 1
                out.append(terms)
            return PolyTensor((O, geo.Cg, kH, kW), tuple(out))
        for o, c, u, v in itertools.product(range(O), range(geo.Cg), range(kH), range(kW)):
            acc: dict = {}
            c0 = (o // geo.Og) * geo.Cg
            for n in range(N):
                for i, j in itertools.product(range(G.shape[2]), range(G.shape[3])):
                    spot = geo.at(i, j, u, v)
                    if spot:
                        poly.mul_into(acc, G[(n, o, i, j)], X[(n, c0 + c) + spot])
            out.append({m: k for m, k in acc.items() if k})
        return PolyTensor((O, geo.Cg, kH, kW), tuple(out))


def _packed_transpose(geo: Geometry, out: tuple, gi: list, wi: list) -> packedpoly.PackedTensor | None:
    """conv_transpose2d(G, W) of tensors of symbols, packed: every g[n,o,i,j] · w[o,c,u,v] added
    to the entry (n, c', h, w) its tap lands on, one (n, o) plane of G at a time."""
    np = packedpoly.np
    Ho, Wo = out
    h, w, inside = tap_grid(geo, out)
    shape = (Ho, Wo, geo.Cg, geo.kH, geo.kW)
    inside = np.broadcast_to(inside[:, :, None], shape)
    spot = np.broadcast_to((h * geo.W + w)[:, :, None], shape)[inside]
    channel = np.broadcast_to(np.arange(geo.Cg).reshape(1, 1, geo.Cg, 1, 1), shape)[inside]
    position = np.broadcast_to(np.arange(Ho * Wo).reshape(Ho, Wo, 1, 1, 1), shape)[inside]
    Gs = np.asarray(gi, np.int64).reshape(geo.N, geo.O, Ho * Wo)
    Ws = np.asarray(wi, np.int64).reshape(geo.O, geo.Cg, geo.kH, geo.kW)

    def parts():
        yield None  # the planes of G scatter into overlapping entries: sorted together
        for n, o in itertools.product(range(geo.N), range(geo.O)):
            c0 = (o // geo.Og) * geo.Cg
            entry = (n * geo.C + c0 + channel) * (geo.H * geo.W) + spot
            yield entry, Gs[n, o][position], np.broadcast_to(Ws[o][None, None], shape)[inside]

    largest = max(max(gi), max(wi))
    size = geo.N * geo.C * geo.H * geo.W
    return packedpoly.build((geo.N, geo.C, geo.H, geo.W), parts(), packedpoly.top_for(largest, size))


def _packed_weight(geo: Geometry, out: tuple, xi: list, gi: list) -> packedpoly.PackedTensor | None:
    """The correlation of X with G summed over the batch, of tensors of symbols, packed: entry
    (o, c, u, v) gathers g[n,o,i,j] · x[n, c', h, w] over n, i, j, one output channel at a time."""
    np = packedpoly.np
    Ho, Wo = out
    h, w, inside = tap_grid(geo, out)  # (i, j, u, v)
    per = geo.Cg * geo.kH * geo.kW
    # over (c, u, v, n, i, j): each entry's terms together, in the order of their x (their keys')
    shape = (geo.Cg, geo.kH, geo.kW, geo.N, Ho, Wo)
    inside = np.broadcast_to(inside.transpose(2, 3, 0, 1)[None, :, :, None], shape)
    spot = np.broadcast_to((h * geo.W + w).transpose(2, 3, 0, 1)[None, :, :, None], shape)[inside]
    sample = np.broadcast_to(np.arange(geo.N).reshape(1, 1, 1, geo.N, 1, 1), shape)[inside]
    channel = np.broadcast_to(np.arange(geo.Cg).reshape(geo.Cg, 1, 1, 1, 1, 1), shape)[inside]
    tap = np.broadcast_to(np.arange(per).reshape(geo.Cg, geo.kH, geo.kW, 1, 1, 1), shape)[inside]
    at_g = np.broadcast_to(np.arange(Ho * Wo).reshape(1, 1, 1, 1, Ho, Wo), shape)[inside] + sample * (geo.O * Ho * Wo)
    Xs, Gs = np.asarray(xi, np.int64), np.asarray(gi, np.int64)

    def parts():
        for o in range(geo.O):  # each output channel's entries a range of their own
            c0 = (o // geo.Og) * geo.Cg
            xs = Xs[(sample * geo.C + c0 + channel) * (geo.H * geo.W) + spot]
            yield tap + o * per, Gs[at_g + o * Ho * Wo], xs

    largest = max(max(xi), max(gi))
    return packedpoly.build((geo.O, geo.Cg, geo.kH, geo.kW), parts(), packedpoly.top_for(largest, geo.O * per))


class BiasGrad(TensorOpBase):
    """dL/db[o] = Σ_n Σ_{i,j} G[n,o,i,j]."""

    tensors = 1
    label = "sum"

    def describe(self):
        return [("over n, i, j", None)]

    def claim(self, shapes: dict) -> str:
        return f"{self.args[0]}.sum((0, 2, 3))"

    def compute(self, G):
        N, O, Ho, Wo = G.shape
        return PolyTensor(
            (O,),
            tuple(
                poly.add(*(G[(n, o, i, j)] for n in range(N) for i in range(Ho) for j in range(Wo))) for o in range(O)
            ),
        )


# --- the layer -------------------------------------------------------------------------------------


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, name=None) -> Tensor:
    """torch.nn.functional.conv2d, with its weight layout (out, in/groups, kH, kW)."""
    x, weight = check_tensor(x, "conv2d"), check_tensor(weight, "conv2d", "weight")
    stride, padding, dilation, groups = (plain_ints(v) for v in (stride, padding, dilation, groups))
    geo = geometry(x.shape, weight.shape, stride, padding, dilation, groups)
    terms = geo.N * geo.O * math.prod(geo.out) * geo.Cg * geo.kH * geo.kW
    packed = packedpoly.wanted(terms)
    x.graph.reserve("conv2d", packed_cost(terms) if packed else terms)
    if bias is not None and check_tensor(bias, "conv2d", "bias").shape != (geo.O,):
        raise SymgradError(f"conv2d: the bias must have shape ({geo.O},), got {bias.shape}")
    Ho, Wo = geo.out
    graph = graph_of(x, weight)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    params = dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation, groups=geo.groups)
    out = output(graph, "conv2d", inputs, (geo.N, geo.O, Ho, Wo), name, "conv", **params)
    if packed:
        b_ids = None if bias is None else bias.ids
        definitions = packed_definitions(geo, x.ids, weight.ids, b_ids, max(out.ids))
        if definitions is not None:  # else too many variables to pack: the loop below
            graph.define_packed(out.ids, definitions)
            return out
    plane, kernel = geo.H * geo.W, geo.kH * geo.kW
    taps = {(i, j): list(geo.taps(i, j)) for i in range(Ho) for j in range(Wo)}
    x_ids, w_ids = x.ids, weight.ids
    ordered = max(x_ids) < min(w_ids)  # the usual case, X made before W: each key is (x, w) as it stands
    for position, (n, o, i, j) in enumerate(itertools.product(range(geo.N), range(geo.O), range(Ho), range(Wo))):
        c0 = (o // geo.Og) * geo.Cg
        entry: dict = {}
        for c in range(geo.Cg):
            x0, w0 = (n * geo.C + c0 + c) * plane, (o * geo.Cg + c) * kernel
            for u, v, h, w in taps[(i, j)]:
                pair = (x_ids[x0 + h * geo.W + w], w_ids[w0 + u * geo.kW + v])
                entry[pair if ordered else tuple(sorted(pair))] = 1
        if bias is not None:
            entry[(bias.ids[o],)] = 1
        graph.define(out.ids[position], entry)
    return out


def tap_grid(geo: Geometry, out: tuple | None = None) -> tuple:
    """Arrays over (i, j, u, v): the input row h and column w each tap reads, and whether it lands
    inside X (False in the padding)."""
    np = packedpoly.np
    Ho, Wo = out or geo.out
    i, j, u, v = np.ix_(*(np.arange(s) for s in (Ho, Wo, geo.kH, geo.kW)))
    h = i * geo.stride[0] - geo.padding[0] + u * geo.dilation[0]
    w = j * geo.stride[1] - geo.padding[1] + v * geo.dilation[1]
    h, w = np.broadcast_arrays(h, w)
    inside = (h >= 0) & (h < geo.H) & (w >= 0) & (w < geo.W)
    return h, w, inside


def packed_definitions(geo: Geometry, x_ids, w_ids, b_ids, largest: int) -> packedpoly.PackedTensor | None:
    """Every output entry y[n,o,i,j] = Σ_{c,u,v} x·w (+ b[o]), packed: the layer's loop in arrays,
    one (n, o) plane of outputs at a time."""
    np = packedpoly.np
    Ho, Wo = geo.out
    h, w, inside = tap_grid(geo)  # (i, j, u, v)
    reads = np.where(inside, h * geo.W + w, 0)[:, :, None]  # (i, j, 1, u, v): where in a plane
    inside = np.broadcast_to(inside[:, :, None], (Ho, Wo, geo.Cg, geo.kH, geo.kW))
    X, W = np.asarray(x_ids, np.int64), np.asarray(w_ids, np.int64).reshape(geo.O, geo.Cg, geo.kH, geo.kW)
    entry_of = np.broadcast_to(np.arange(Ho * Wo).reshape(Ho, Wo, 1, 1, 1), inside.shape)[inside]
    channels = np.arange(geo.Cg).reshape(1, 1, geo.Cg, 1, 1)

    def parts():
        for n, o in itertools.product(range(geo.N), range(geo.O)):
            c0 = (o // geo.Og) * geo.Cg
            base = (n * geo.O + o) * Ho * Wo
            xs = X[((n * geo.C + c0 + channels) * geo.H * geo.W + reads)[inside]]
            ws = np.broadcast_to(W[o][None, None], inside.shape)[inside]
            entry = entry_of + base
            if b_ids is None:
                yield entry, xs, ws
                continue
            spots = np.arange(base, base + Ho * Wo)
            bias = np.full(Ho * Wo, b_ids[o], np.int64)
            yield np.concatenate((entry, spots)), np.concatenate((xs, bias)), np.concatenate((ws, -np.ones_like(bias)))

    return packedpoly.build((geo.N, geo.O, Ho, Wo), parts(), packedpoly.top_for(largest, geo.N * geo.O * Ho * Wo))


def poly_tensor(t, values=None) -> PolyTensor:
    """A tensor of the network (or its gradient's values) as the closed forms' TensorOps take it."""
    return PolyTensor(t.shape, tuple(values if values is not None else (poly.var(i) for i in t.ids)))


def symbols(*names):
    return tuple(sympy.Symbol(n) for n in names)


class Conv2d(Layer):
    name = "conv2d"
    forward = staticmethod(conv2d)

    def backward(self, graph: Graph, node: Node, G: list) -> dict[str, list]:
        """dL/dX = conv_transpose2d(G, W), dL/dW = corr(X, G), dL/db = Σ_{n,i,j} G: the TensorOps."""
        ins = [graph.tensors[name] for name in node.inputs]
        out = graph.tensors[node.output]
        x, w = ins[0], ins[1]
        p = node.params
        params = (*p["stride"], *p["padding"], *p["dilation"], p["groups"])
        kH, kW = w.shape[2:]
        g = poly_tensor(out, G)
        dx = ConvTranspose2d(*symbols("G", "W"), *params, *output_padding(graph, node)).compute(g, poly_tensor(w))
        dw = Conv2dWeight(*symbols("X", "G"), *params, kH, kW).compute(poly_tensor(x), g)
        pairs = [(x.name, list(dx.entries)), (w.name, list(dw.entries))]
        if len(ins) == 3:
            pairs.append((ins[2].name, list(BiasGrad(*symbols("G")).compute(g).entries)))
        return merge({}, pairs)

    def forward_latex(self, i: list, o: str, p: dict) -> str:
        return rf"{o} = {operator_name('conv2d')}({', '.join(i)})"

    def closed_term(self, i: list, o: str, G: str, k: int, x: Shapes) -> str:
        return [
            rf"{operator_name('conv_transpose2d')}({G}, {i[1]})",
            rf"\operatorname{{corr}}({i[0]}, {G})",
            rf"\textstyle\sum_{{n,i,j}} {G}",
        ][k]

    def torch_forward(self, graph: Graph, node: Node, i: list) -> str:
        return torch_call(node, ("stride", "padding", "dilation", "groups"))

    def torch_backward(self, graph: Graph, node: Node, g: str) -> list[tuple[str, str]]:
        """The closed forms as PyTorch calls: conv_transpose2d(G, W) with the output padding that
        gives back H×W, and corr(X, G), which is PyTorch's conv2d_weight."""
        x, w = node.inputs[0], node.inputs[1]
        p = node.params
        gx = (
            f"torch.nn.functional.conv_transpose2d({g}, {w}, stride={p['stride']}, padding={p['padding']}, "
            f"dilation={p['dilation']}, groups={p['groups']}, output_padding={output_padding(graph, node)})"
        )
        return torch_shares(node, g, gx, f"{x}, {w}.shape, {g}")


def output_padding(graph: Graph, node: Node) -> tuple:
    """What conv_transpose2d must add to its output to give back the input's H×W."""
    p, (x, w) = node.params, (graph.tensors[n].shape for n in node.inputs[:2])
    return geometry(x, w, p["stride"], p["padding"], p["dilation"], p["groups"]).output_padding()


def torch_call(node: Node, keys: tuple) -> str:
    """The layer's PyTorch call, its parameters by keyword in the given order."""
    i, p = node.inputs, node.params
    args = ", ".join(i) + ("" if len(i) == 3 else ", None")
    return f"torch.nn.functional.{node.op}({args}, " + ", ".join(f"{k}={p[k]}" for k in keys) + ")"


def torch_args(node: Node) -> str:
    p = node.params
    return f"stride={p['stride']}, padding={p['padding']}, dilation={p['dilation']}, groups={p['groups']}"


def torch_shares(node: Node, g: str, gx: str, gw: str) -> list[tuple[str, str]]:
    """The input's share gx, the weight's through conv2d_weight(gw, ...), the bias's summed G:
    conv2d and conv_transpose2d are each other's transposes, what one does forward the other
    does to the gradient."""
    i = node.inputs
    out = [(i[0], gx), (i[1], f"torch.nn.grad.conv2d_weight({gw}, {torch_args(node)})")]
    if len(i) == 3:
        out.append((i[2], f"{g}.sum((0, 2, 3))"))
    return out


CONV2D = Conv2d()
