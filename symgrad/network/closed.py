"""Each layer's backward pass in closed form, computed on its own from the upstream gradient.

``backward(graph, node, G)`` takes dL/d(output) as a list of polynomials (row-major) and returns,
for each tensor the layer reads, the layer's share of dL/d(tensor) computed by the formula people
implement (G ⊙ s ⊙ (1 − s) for a sigmoid, G·W for a linear layer's input, a transposed convolution
for conv2d's), never by the chain rule. The prover compares every entry with the element-wise
chain rule through the same layer; ``symgrad.network.presentation`` writes each in LaTeX.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import sympy

from ..core import poly
from ..core.tensor import PolyTensor
from .graph import Graph, Node, Tensor
from .layers import reduction_targets, source
from .units.conv2d import BiasGrad, Conv2dWeight, ConvTranspose2d
from .units.conv_transpose2d import Conv2dForward, TransposeWeightGrad, transposed_geometry


def _v(vid: int) -> poly.Poly:
    return poly.var(vid)


def _times(*ps: poly.Poly) -> poly.Poly:
    out: poly.Poly = {(): 1}
    for p in ps:
        out = poly.mul(out, p)
    return out


def backward(graph: Graph, node: Node, G: list) -> dict[str, list]:
    """The layer's closed-form share of dL/d(input), for each tensor it reads."""
    t = graph.tensors
    out = t[node.output]
    ins = [t[name] for name in node.inputs]
    op = node.op
    if op in ("add", "sub", "mul", "div"):
        return _elementwise(graph, node, G)
    if op in ("exp", "log", "sqrt", "sigmoid", "tanh", "pow", "relu", "leaky_relu"):
        (x,) = ins
        return {x.name: [poly.mul(g, _derivative(graph, node, y, z)) for g, y, z in zip(G, out.ids, x.ids)]}
    if op in ("sum", "mean"):
        (x,) = ins
        dims = node.params["dims"]
        weight = Fraction(1) if op == "sum" else Fraction(1, _count(x.shape, dims))
        targets = reduction_targets(x.shape, dims, node.params["keepdim"])
        result = [poly.scale(G[target], weight) for target in targets]
        return {x.name: result}
    if op == "reshape":
        (x,) = ins
        return {x.name: list(G)}
    if op == "transpose":
        (x,) = ins
        rows, cols = x.shape
        return {x.name: [G[j * rows + i] for i in range(rows) for j in range(cols)]}
    if op == "matmul":
        a, b = ins
        (m, k), n = a.shape, b.shape[1]
        da = [
            poly.add(*(poly.mul(G[i * n + j], _v(b.ids[q * n + j])) for j in range(n)))
            for i in range(m)
            for q in range(k)
        ]
        db = [
            poly.add(*(poly.mul(_v(a.ids[i * k + p]), G[i * n + j]) for i in range(m)))
            for p in range(k)
            for j in range(n)
        ]
        return _merge({}, [(a.name, da), (b.name, db)])
    if op == "linear":
        return _linear(node, ins, G)
    if op == "conv2d":
        return _conv2d(node, ins, out, G)
    if op == "conv_transpose2d":
        return _conv_transpose2d(node, ins, G)
    if op == "mse_loss":
        z, target = ins
        weight = Fraction(2, z.numel) if node.params["reduction"] == "mean" else Fraction(2)
        (g,) = G
        dz = [poly.scale(poly.mul(g, {(a,): 1, (b,): -1}), weight) for a, b in zip(z.ids, target.ids)]
        dt = [poly.scale(p, -1) for p in dz]
        return _merge({}, [(z.name, dz), (target.name, dt)])
    if op == "upstream":  # L = Σ g·y for a generic loss: dL/dy = g, dL/dg = y
        y, g_in = ins
        (gl,) = G
        return {
            y.name: [poly.mul(gl, _v(v)) for v in g_in.ids],
            g_in.name: [poly.mul(gl, _v(v)) for v in y.ids],
        }
    raise KeyError(op)


def _count(shape: tuple, dims: tuple) -> int:
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _merge(acc: dict, pairs: list) -> dict:
    """Shares of one tensor read twice by a layer (x * x) add up."""
    for name, values in pairs:
        if name in acc:
            acc[name] = [poly.add(p, q) for p, q in zip(acc[name], values)]
        else:
            acc[name] = values
    return acc


def _derivative(graph: Graph, node: Node, y: int, z: int) -> poly.Poly:
    """The pointwise derivative dy/dz written as the layer's formula (the same lemma the chain
    rule uses, but stated here on its own, in the tensor names)."""
    op = node.op
    if op == "exp":
        return _v(y)
    if op == "log":
        return _v(graph.reciprocal(z))
    if op == "sqrt":
        return poly.scale(_v(graph.reciprocal(y)), Fraction(1, 2))
    if op == "sigmoid":
        return poly.mul(_v(y), {(): 1, (y,): -1})
    if op == "tanh":
        return {(): 1, (y, y): -1}
    if op == "pow":
        p = node.params["exponent"]
        if p.denominator != 1:
            return poly.scale(_times(_v(y), _v(graph.reciprocal(z))), p)
        n = int(p)
        if n == 0:
            return {}
        base = z if n > 0 else graph.reciprocal(z)
        power = n - 1 if n > 0 else 1 - n
        return poly.scale({tuple([base] * power): 1}, n)
    # relu and leaky_relu: the mask H(z) and the slope a where z ≤ 0
    a = node.params["negative_slope"]
    m = graph.step(z)
    return poly.add({(m,): poly._tidy(1 - a)}, {(): poly._tidy(a)} if a else {})


def _elementwise(graph: Graph, node: Node, G: list) -> dict:
    t = graph.tensors
    out = t[node.output]
    roles: list[tuple[str, Any]] = []  # (role, tensor or constant)
    names = list(node.inputs)
    for role in ("left", "right"):
        if role in node.params:
            roles.append((role, poly.const(node.params[role])))
        else:
            roles.append((role, t[names.pop(0)]))
    (_, a), (_, b) = roles

    def value(x, index):
        if isinstance(x, dict):
            return x
        return _v(x.ids[source(x.shape, out.shape, index)])

    shares: dict = {}
    for position, index in enumerate(itertools.product(*(range(s) for s in out.shape))):
        g, av, bv = G[position], value(a, index), value(b, index)
        if node.op == "add":
            da, db = g, g
        elif node.op == "sub":
            da, db = g, poly.scale(g, -1)
        elif node.op == "mul":
            da, db = poly.mul(g, bv), poly.mul(g, av)
        else:  # div: 1/b is the reciprocal atom of b's entry, or the number's inverse
            inv = (
                _v(graph.reciprocal(b.ids[source(b.shape, out.shape, index)]))
                if isinstance(b, Tensor)
                else {(): poly._tidy(1 / Fraction(bv[()]))}
            )
            da, db = poly.mul(g, inv), poly.scale(_times(g, av, inv, inv), -1)
        for x, d in ((a, da), (b, db)):
            if isinstance(x, dict):
                continue
            if x.name not in shares:
                shares[x.name] = [dict() for _ in range(x.numel)]
            acc = shares[x.name]
            poly.add_into(acc[source(x.shape, out.shape, index)], d)
    return shares


def _linear(node: Node, ins: list, G: list) -> dict:
    x, w = ins[0], ins[1]
    outs, n_in = w.shape
    rows = x.shape[0] if x.ndim == 2 else 1
    dx = [
        poly.add(*(poly.mul(G[r * outs + o], _v(w.ids[o * n_in + i])) for o in range(outs)))
        for r in range(rows)
        for i in range(n_in)
    ]
    dw = [
        poly.add(*(poly.mul(G[r * outs + o], _v(x.ids[r * n_in + i])) for r in range(rows)))
        for o in range(outs)
        for i in range(n_in)
    ]
    pairs = [(x.name, dx), (w.name, dw)]
    if len(ins) == 3:
        pairs.append((ins[2].name, [poly.add(*(G[r * outs + o] for r in range(rows))) for o in range(outs)]))
    return _merge({}, pairs)


def _tensor(t, values=None) -> PolyTensor:
    return PolyTensor(t.shape, tuple(values if values is not None else (_v(i) for i in t.ids)))


def _symbols(*names):
    return tuple(sympy.Symbol(n) for n in names)


def _conv2d(node: Node, ins: list, out, G: list) -> dict:
    """The op registry's closed forms for conv2d, computed on the network's tensors."""
    x, w = ins[0], ins[1]
    p = node.params
    params = (*p["stride"], *p["padding"], *p["dilation"], p["groups"])
    Ho, Wo = out.shape[2:]
    H, W = x.shape[2:]
    kH, kW = w.shape[2:]
    # what conv_transpose2d must add to give back H×W
    output_padding = tuple(
        size - ((o - 1) * s - 2 * pad + d * (k - 1) + 1)
        for size, o, s, pad, d, k in zip((H, W), (Ho, Wo), p["stride"], p["padding"], p["dilation"], (kH, kW))
    )
    g = _tensor(out, G)
    dx = ConvTranspose2d(*_symbols("G", "W"), *params, *output_padding).compute(g, _tensor(w))
    dw = Conv2dWeight(*_symbols("X", "G"), *params, kH, kW, 1).compute(_tensor(x), g)
    pairs = [(x.name, list(dx.entries)), (w.name, list(dw.entries))]
    if len(ins) == 3:
        pairs.append((ins[2].name, list(BiasGrad(*_symbols("G")).compute(g).entries)))
    return _merge({}, pairs)


def _conv_transpose2d(node: Node, ins: list, G: list) -> dict:
    x, w = ins[0], ins[1]
    p = node.params
    geo = transposed_geometry(
        x.shape, w.shape, p["stride"], p["padding"], p["output_padding"], p["dilation"], p["groups"]
    )
    params = geo.params()
    g = PolyTensor((geo.N, geo.O, *geo.out), tuple(G))
    dx = Conv2dForward(*_symbols("G", "W"), *params[:7], geo.H, geo.W).compute(g, _tensor(w))
    dw = TransposeWeightGrad(*_symbols("X", "G"), *params[:7], geo.kH, geo.kW).compute(_tensor(x), g)
    pairs = [(x.name, list(dx.entries)), (w.name, list(dw.entries))]
    if len(ins) == 3:
        pairs.append((ins[2].name, list(BiasGrad(*_symbols("G")).compute(g).entries)))
    return _merge({}, pairs)
