"""The convolutions a claim may call, and their gradients with torch.nn.grad's arguments.

Each is written out entry by entry: an output entry is a sum of products, of one entry of each
operand, listed from the layer's geometry. How many there are is refused over the budget before
they are listed, since a stride or a kernel size written large is cheap to write.
"""

from __future__ import annotations

import itertools
import math

from ...core import numbers, poly
from ...core.errors import SymgradError
from ...network.units.conv2d import geometry
from ...network.units.conv_transpose2d import transposed_geometry
from .tensor import ClaimTensor, _graph, _on, _product_cost, _reshape, _spend, _tensor


def _integers(value, what: str):
    """An int or a tuple of ints, as the convolutions take their stride, padding, ... (exact only)."""
    if isinstance(value, (tuple, list)):
        return tuple(numbers.integer(v, f"claim: {what}") for v in value)
    return numbers.integer(value, f"claim: {what}")


def _correlate(x: ClaimTensor, weight: ClaimTensor, shape: tuple, terms: dict, bias) -> ClaimTensor:
    """A convolution's output from ``terms``: output position -> [(x position, weight position)]."""
    graph = _graph(x, weight)
    cost = sum(_product_cost(x.entries[a], weight.entries[b]) for pairs in terms.values() for a, b in pairs)
    spent = _spend(graph, cost, "convolution", x, weight)
    entries = [
        poly.add(*(poly.mul(x.entries[a], weight.entries[b]) for a, b in terms.get(key, ())))
        for key in itertools.product(*(range(n) for n in shape))
    ]
    out = ClaimTensor(graph, shape, entries, spent)
    if bias is None:
        return out
    return _on("+", out, _reshape(_tensor(bias, "a convolution's bias"), (1, shape[1], 1, 1)))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> ClaimTensor:
    """PyTorch's conv2d, weight (out, in/groups, kH, kW), written out entry by entry."""
    x, weight = _tensor(x, "conv2d"), _tensor(weight, "conv2d's weight")
    ints = (_integers(v, "a conv2d setting") for v in (stride, padding, dilation, groups))
    geo = geometry(x.shape, weight.shape, *ints)
    Ho, Wo = geo.out
    _listing(x, weight, geo.N * geo.O * Ho * Wo, geo.Cg * geo.kH * geo.kW, "convolution")
    terms: dict = {}
    for n, o, i, j in itertools.product(range(geo.N), range(geo.O), range(Ho), range(Wo)):
        c0 = (o // geo.Og) * geo.Cg
        terms[(n, o, i, j)] = [
            (((n * geo.C + c0 + c) * geo.H + h) * geo.W + w, ((o * geo.Cg + c) * geo.kH + u) * geo.kW + v)
            for c in range(geo.Cg)
            for u, v, h, w in geo.taps(i, j)
        ]
    return _correlate(x, weight, (geo.N, geo.O, Ho, Wo), terms, bias)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> ClaimTensor:
    """PyTorch's conv_transpose2d, weight (in, out/groups, kH, kW), written out entry by entry."""
    x, weight = _tensor(x, "conv_transpose2d"), _tensor(weight, "conv_transpose2d's weight")
    ints = [_integers(v, "a conv_transpose2d setting") for v in (stride, padding, output_padding, dilation, groups)]
    geo = transposed_geometry(x.shape, weight.shape, *ints)
    _listing(x, weight, geo.N * geo.O * math.prod(geo.out), geo.Og * geo.kH * geo.kW, "transposed convolution")
    conv = geo.conv()
    terms: dict = {}
    for n, c, i, j in itertools.product(range(geo.N), range(geo.C), range(geo.H), range(geo.W)):
        group = c // geo.Cg
        for oo in range(geo.Og):
            o = group * geo.Og + oo
            for u, v, h, w in conv.taps(i, j):
                pair = (((n * geo.C + c) * geo.H + i) * geo.W + j, ((c * geo.Og + oo) * geo.kH + u) * geo.kW + v)
                terms.setdefault((n, o, h, w), []).append(pair)
    return _correlate(x, weight, (geo.N, geo.O, *geo.out), terms, bias)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1) -> ClaimTensor:
    """PyTorch's torch.nn.grad.conv2d_weight: dL/dW of Y = conv2d(input, W) for the upstream
    gradient grad_output, W being of size weight_size: the input correlated with grad_output,
    summed over the batch."""
    x, g = _tensor(input, "conv2d_weight's input"), _tensor(grad_output, "conv2d_weight's grad_output")
    ints = (_integers(v, "a conv2d_weight setting") for v in (stride, padding, dilation, groups))
    geo = geometry(x.shape, _sizes(weight_size, "conv2d_weight's weight_size"), *ints)
    _fits("conv2d_weight", g.shape, (geo.N, geo.O, *geo.out), f"conv2d of an input of shape {x.shape}")
    _listing(x, g, geo.O * geo.Cg * geo.kH * geo.kW, geo.N * math.prod(geo.out), "weight gradient")
    Ho, Wo = geo.out
    terms: dict = {}
    for n, o, i, j in itertools.product(range(geo.N), range(geo.O), range(Ho), range(Wo)):
        c0 = (o // geo.Og) * geo.Cg
        at = ((n * geo.O + o) * Ho + i) * Wo + j
        for c in range(geo.Cg):
            for u, v, h, w in geo.taps(i, j):
                terms.setdefault((o, c, u, v), []).append((((n * geo.C + c0 + c) * geo.H + h) * geo.W + w, at))
    return _correlate(x, g, (geo.O, geo.Cg, geo.kH, geo.kW), terms, None)


def conv_transpose2d_weight(
    input, weight_size, grad_output, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> ClaimTensor:
    """dL/dW of Y = conv_transpose2d(input, W) for the upstream gradient grad_output, W being of
    size weight_size (in the order of conv_transpose2d's settings): the input correlated with
    grad_output, summed over the batch. PyTorch writes it torch.nn.grad.conv2d_weight(grad_output,
    weight_size, input, stride, padding, dilation, groups), the same sum, which it refuses for an
    output padding of at least the stride."""
    x, g = (
        _tensor(input, "conv_transpose2d_weight's input"),
        _tensor(grad_output, "conv_transpose2d_weight's grad_output"),
    )
    settings = (stride, padding, output_padding, dilation, groups)
    ints = [_integers(v, "a conv_transpose2d_weight setting") for v in settings]
    geo = transposed_geometry(x.shape, _sizes(weight_size, "conv_transpose2d_weight's weight_size"), *ints)
    _fits(
        "conv_transpose2d_weight", g.shape, (geo.N, geo.O, *geo.out), f"conv_transpose2d of an input of shape {x.shape}"
    )
    _listing(x, g, geo.C * geo.Og * geo.kH * geo.kW, geo.N * geo.H * geo.W, "weight gradient")
    conv = geo.conv()
    terms: dict = {}
    for n, c, i, j in itertools.product(range(geo.N), range(geo.C), range(geo.H), range(geo.W)):
        group = c // geo.Cg
        at = ((n * geo.C + c) * geo.H + i) * geo.W + j
        for oo in range(geo.Og):
            o = group * geo.Og + oo
            for u, v, h, w in conv.taps(i, j):
                terms.setdefault((c, oo, u, v), []).append((at, ((n * geo.O + o) * conv.H + h) * conv.W + w))
    return _correlate(x, g, (geo.C, geo.Og, geo.kH, geo.kW), terms, None)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1) -> ClaimTensor:
    """PyTorch's torch.nn.grad.conv2d_input: dL/dX of Y = conv2d(X, weight) for an input X of size
    input_size: conv_transpose2d(grad_output, weight) with the output padding that gives it that size."""
    w, g = _tensor(weight, "conv2d_input's weight"), _tensor(grad_output, "conv2d_input's grad_output")
    ints = [_integers(v, "a conv2d_input setting") for v in (stride, padding, dilation, groups)]
    geo = geometry(_sizes(input_size, "conv2d_input's input_size"), w.shape, *ints)
    _fits(
        "conv2d_input", g.shape, (geo.N, geo.O, *geo.out), f"conv2d of an input of size {(geo.N, geo.C, geo.H, geo.W)}"
    )
    return conv_transpose2d(
        g,
        w,
        stride=geo.stride,
        padding=geo.padding,
        output_padding=geo.output_padding(),
        groups=geo.groups,
        dilation=geo.dilation,
    )


def _listing(x: ClaimTensor, other: ClaimTensor, entries: int, terms: int, what: str) -> None:
    """Refuse a convolution whose entries, and the terms of each, are too many to list within the
    budget, before they are listed (a stride or a kernel size written large is cheap to write)."""
    _spend(_graph(x, other), entries * (terms + 1), what, x, other)


def _sizes(value, what: str) -> tuple:
    """A size as PyTorch takes one (W.shape, or a tuple of integers written out)."""
    if not isinstance(value, (tuple, list)):
        raise SymgradError(f"claim: {what} is a tuple of sizes, such as W.shape, got {value!r:.40}")
    return tuple(numbers.integer(v, f"claim: {what}", minimum=1) for v in value)


def _fits(what: str, shape: tuple, expected: tuple, made: str) -> None:
    if tuple(shape) != expected:
        raise SymgradError(f"claim: {what}: grad_output has shape {tuple(shape)}, but {made} has shape {expected}")
