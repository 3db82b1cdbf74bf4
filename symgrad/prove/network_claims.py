"""Claims about a network's gradients: read and evaluated into exact polynomials, by one path.

A claim is a string or a Python function of the network's tensors. Both reach the same
arithmetic (``apply``), which handles each operator it accepts explicitly and refuses everything
else with a SymgradError: nothing is ever read as something else. Numbers are exact Fractions
made and combined by ``core.numbers``, so ``2**5`` is 32 and a power too large to hold is refused
before it is computed. The work a claim asks for (a product of long entries, a power of one) is
sized before it starts and refused over the network's ``max_terms``.

A function of an entry (exp, sqrt, 1/p, a step for relu, ...) is the network's own atom when the
network applies the same function to an argument equal to it, written out in the inputs and
atoms: a claim written in the user's own terms then has the network's canonical form. Otherwise
the claim adds an atom to the graph, evaluated at points like the network's but left out of a
point where it is undefined, so it can refute a false claim and never voids a point for another.
In a claim function, ``symgrad.functional``'s layers reach these operations through
``ClaimTensor.__symgrad_function__``. Two sides whose difference is not zero as a polynomial are
compared as rational functions (``rational.vanishes``) when it holds reciprocals or roots.
"""

from __future__ import annotations

import ast
import itertools
import math
import weakref
from fractions import Fraction

from ..core import flint_poly, numbers, poly
from ..core.budget import check_max_terms
from ..core.errors import SymgradError
from ..core.tensor import to_sympy
from ..network.graph import Atom, Graph
from ..network.layers import broadcast_shape, reduction_shape, reduction_targets, source
from ..network.lemmas import LEMMAS
from ..network.units.conv2d import geometry
from ..network.units.conv_transpose2d import transposed_geometry
from ..network.values import add_claim_atom, atom_at, mark_partial
from .points import at_points, zero_everywhere
from .rational import vanishes

MAX_LENGTH = 2000
MAX_DEPTH = 200  # nesting of the syntax tree: evaluation recurses once per level
SYNTAX = (
    "tensor names, d<name> for dL/d(name), exact numbers, + - * / ** @, .T, .shape, .transpose(a, b), .sum(dim), "
    ".mean(dim), .reshape(shape), exp, log, sqrt, sigmoid, tanh, softplus, relu, leaky_relu(x, slope), "
    "softmax(x, dim), log_softmax(x, dim), conv2d, conv_transpose2d, conv2d_weight, conv_transpose2d_weight, "
    "conv2d_input, ones(shape), zeros(shape) (and in a function every symgrad.functional layer)"
)


class ClaimTensor:
    """A tensor in a claim: a shape and a polynomial per entry, with PyTorch-like operations.

    Every operator goes through ``apply``; the ones a claim may not use are refused there or
    below, so a claim function gets the same answers as a claim string."""

    def __init__(self, graph: Graph, shape: tuple, entries: list, spent: int = 0) -> None:
        self.graph, self.shape, self.entries = graph, tuple(shape), list(entries)
        self.spent = spent  # the work that made it, counted against the budget (see _spend)

    def __repr__(self) -> str:
        return f"ClaimTensor(shape={self.shape})"

    @property
    def T(self) -> ClaimTensor:
        if len(self.shape) != 2:
            raise SymgradError(f"claim: .T needs a matrix, got shape {self.shape}")
        r, c = self.shape
        entries = [self.entries[i * c + j] for j in range(c) for i in range(r)]
        return ClaimTensor(self.graph, (c, r), entries, self.spent)

    def __add__(self, o):
        return apply("+", self, o)

    def __radd__(self, o):
        return apply("+", o, self)

    def __sub__(self, o):
        return apply("-", self, o)

    def __rsub__(self, o):
        return apply("-", o, self)

    def __mul__(self, o):
        return apply("*", self, o)

    def __rmul__(self, o):
        return apply("*", o, self)

    def __truediv__(self, o):
        return apply("/", self, o)

    def __rtruediv__(self, o):
        return apply("/", o, self)

    def __pow__(self, o):
        return apply("**", self, o)

    def __rpow__(self, o):
        return apply("**", o, self)

    def __matmul__(self, o):
        return apply("@", self, o)

    def __rmatmul__(self, o):
        return apply("@", o, self)

    def __neg__(self):
        return apply("*", Fraction(-1), self)

    def __pos__(self):
        return self

    def __abs__(self):
        raise SymgradError("claim: abs() is not allowed in a claim; " + SYNTAX)

    def __bool__(self):
        raise SymgradError("claim: a tensor has no truth value; a claim cannot branch on one")

    def sum(self, dim=None, keepdim=False) -> ClaimTensor:
        return _reduce(self, dim, keepdim, mean=False)

    def mean(self, dim=None, keepdim=False) -> ClaimTensor:
        return _reduce(self, dim, keepdim, mean=True)

    def transpose(self, dim0, dim1) -> ClaimTensor:
        return _transpose(self, dim0, dim1)

    def reshape(self, *shape) -> ClaimTensor:
        return _reshape(self, shape[0] if len(shape) == 1 else shape)

    @staticmethod
    def __symgrad_function__(name: str, args: tuple, kwargs: dict):
        """A symgrad.functional layer called on a claim's tensors: the claim's own operation."""
        kwargs = {k: v for k, v in kwargs.items() if k != "name"}  # a claim's values have no names
        if name not in FUNCTIONS:
            raise SymgradError(f"claim: F.{name} is not available in a claim; a claim may use " + SYNTAX)
        try:
            return FUNCTIONS[name](*args, **kwargs)
        except TypeError as exc:
            raise SymgradError(f"claim: F.{name}: {exc}") from None


class ClaimNames(dict):
    """The names a claim may use; an unknown or ambiguous one is a SymgradError saying why."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.ambiguous: set = set()
        self.used: set = set()  # the names a claim looked up: an op's claim that names G is about every G

    def __getitem__(self, key):
        self.used.add(key)
        if key in self.ambiguous:
            raise SymgradError(
                f"claim: {key} is ambiguous: the network has a tensor named {key!r} and one named {key[1:]!r}, "
                f"and in a claim {key} means dL/d{key[1:]}; give the tensor {key!r} another name (name=... or "
                "the function's argument)"
            )
        return super().__getitem__(key)

    def __missing__(self, key):
        shown = ", ".join(list(self)[:40]) + (", ..." if len(self) > 40 else "")
        raise SymgradError(f"claim: unknown name {key!r}; the claim may use {shown}")


def _transpose(x, dim0, dim1) -> ClaimTensor:
    x = _tensor(x, "transpose")
    if not x.shape:
        raise SymgradError("claim: .transpose needs a tensor of at least one dim")
    a, b = (_dims(d, len(x.shape))[0] for d in (dim0, dim1))
    order = list(range(len(x.shape)))
    order[a], order[b] = order[b], order[a]
    shape = tuple(x.shape[k] for k in order)
    strides = [math.prod(x.shape[k + 1 :]) for k in range(len(x.shape))]
    entries = [
        x.entries[sum(i * strides[order[k]] for k, i in enumerate(index))]
        for index in itertools.product(*(range(n) for n in shape))
    ]
    return ClaimTensor(x.graph, shape, entries, x.spent)


def _reshape(x, shape) -> ClaimTensor:
    """PyTorch's reshape: the entries in row-major order, sizes of at least 1, at most one -1."""
    x = _tensor(x, "reshape")
    given = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    sizes = [numbers.integer(n, "claim: a size of reshape", minimum=-1) for n in given]
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or 0 in sizes:
        raise SymgradError(f"claim: reshape takes sizes of at least 1 and at most one -1, got {tuple(sizes)}")
    if -1 in sizes and known and len(x.entries) % known == 0:
        sizes = [len(x.entries) // known if n == -1 else n for n in sizes]
    if math.prod(sizes) != len(x.entries):
        raise SymgradError(f"claim: a tensor of shape {x.shape} cannot be reshaped to {tuple(given)}")
    return ClaimTensor(x.graph, tuple(sizes), x.entries, x.spent)


def _tensor(x, what: str) -> ClaimTensor:
    if not isinstance(x, ClaimTensor):
        raise SymgradError(f"claim: {what} applies to a tensor of the claim, got {type(x).__name__}")
    return x


def filled(graph: Graph, shape, value: int) -> ClaimTensor:
    """ones(shape) or zeros(shape): a tensor of one exact number."""
    given = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    sizes = tuple(numbers.integer(n, "claim: a size of ones or zeros", minimum=1) for n in given)
    count = math.prod(sizes)
    _spend(graph, count, "constant tensor")
    return ClaimTensor(graph, sizes, [poly.const(value) for _ in range(count)], count)


# --- functions of entries: the network's atoms, or the claim's own ---------------------------------


def _map(x, lemma: str, what: str, parameter=None) -> ClaimTensor:
    x = _tensor(x, what)
    spent = _spend(x.graph, len(x.entries), what, x)
    return ClaimTensor(x.graph, x.shape, [atom_of(x.graph, lemma, p, parameter) for p in x.entries], spent)


def exp(x) -> ClaimTensor:
    return _map(x, "exp", "exp")


def log(x) -> ClaimTensor:
    return _map(x, "log", "log")


def sqrt(x) -> ClaimTensor:
    return _map(x, "sqrt", "sqrt")


def sigmoid(x) -> ClaimTensor:
    return _map(x, "sigmoid", "sigmoid")


def tanh(x) -> ClaimTensor:
    return _map(x, "tanh", "tanh")


def softplus(x, beta=1, threshold=20) -> ClaimTensor:
    """log(1 + e^x) at every entry, as the network's softplus (beta 1; the threshold is PyTorch's
    floating-point shortcut, which an exact value does not take)."""
    if numbers.exact(beta, "claim: softplus's beta") != 1:
        raise SymgradError("claim: softplus takes beta=1; write softplus(beta * x) / beta")
    numbers.exact(threshold, "claim: softplus's threshold")
    return _map(x, "softplus", "softplus")


def leaky_relu(x, negative_slope=Fraction(1, 100)) -> ClaimTensor:
    """z·H(z)·(1 − a) + a·z, with the step H the network's relu uses (1 for z > 0, else 0)."""
    if isinstance(negative_slope, ClaimTensor):
        raise SymgradError("claim: the negative slope of leaky_relu is a number, not a tensor")
    a = numbers.exact(negative_slope, "claim: the negative slope of leaky_relu")
    step = _map(x, "step", "relu")
    return _on("+", _on("*", _on("*", x, step), 1 - a), _on("*", x, a))


def relu(x) -> ClaimTensor:
    return leaky_relu(x, 0)


def softmax(x, dim) -> ClaimTensor:
    e = exp(x)
    return _on("/", e, e.sum(dim, keepdim=True))


def log_softmax(x, dim) -> ClaimTensor:
    return _on("-", x, log(exp(x).sum(dim, keepdim=True)))


def linear(x, weight, bias=None):
    y = apply("@", x, _tensor(weight, "linear's weight").T)
    return y if bias is None else apply("+", y, bias)


def mse_loss(input, target, reduction="mean"):
    squared = apply("**", apply("-", input, target), 2)
    if reduction == "none":
        return squared
    if reduction not in ("mean", "sum"):
        raise SymgradError(f"claim: mse_loss's reduction is mean, sum or none, got {reduction!r}")
    return _reduce(_tensor(squared, "mse_loss"), None, False, mean=reduction == "mean")


def _normalized(x: ClaimTensor, dims: tuple, eps) -> ClaimTensor:
    mu = x.mean(dims, keepdim=True)
    centred = apply("-", x, mu)
    var = _tensor(apply("*", centred, centred), "a norm").mean(dims, keepdim=True)
    return _tensor(apply("/", centred, sqrt(apply("+", var, _eps(eps)))), "a norm")


def _eps(eps):
    if isinstance(eps, ClaimTensor):  # a network's eps symbol, named in the claim
        return eps
    value = numbers.exact(eps, "claim: eps (an exact number such as Fraction(1, 100000), or the network's eps)")
    if value < 0:
        raise SymgradError(f"claim: eps must not be negative, got {value}")
    return value


def batch_norm(x, weight=None, bias=None, eps=Fraction(1, 100000)):
    x = _tensor(x, "batch_norm")
    if len(x.shape) < 2:
        raise SymgradError(f"claim: batch_norm needs a channel dimension, got shape {x.shape}")
    channel = (1, x.shape[1]) + (1,) * (len(x.shape) - 2)
    y = _normalized(x, tuple(d for d in range(len(x.shape)) if d != 1), eps)
    return _affine(y, weight, bias, channel)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=Fraction(1, 100000)):
    x = _tensor(x, "layer_norm")
    given = tuple(normalized_shape) if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
    if not given or tuple(x.shape[len(x.shape) - len(given) :]) != given or len(given) > len(x.shape):
        raise SymgradError(f"claim: layer_norm's normalized_shape {given} must end the shape {x.shape}")
    y = _normalized(x, tuple(range(len(x.shape) - len(given), len(x.shape))), eps)
    return _affine(y, weight, bias, given)


def _affine(y: ClaimTensor, weight, bias, shape: tuple):
    out = y
    if weight is not None:
        out = _on("*", out, _reshape(weight, shape))
    if bias is not None:
        out = _on("+", out, _reshape(bias, shape))
    return out


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


def scaled_dot_product_attention(q, k, v) -> ClaimTensor:
    """softmax(q·kᵀ/√d)·v for 2-D q, k and v; √d is the network's own atom when it has one."""
    q, k, v = (_tensor(t, "scaled_dot_product_attention") for t in (q, k, v))
    if len(q.shape) != 2 or len(k.shape) != 2 or len(v.shape) != 2 or q.shape[1] != k.shape[1]:
        raise SymgradError(f"claim: scaled_dot_product_attention: q {q.shape}, k {k.shape}, v {v.shape} do not fit")
    root = sqrt(ClaimTensor(q.graph, (), [poly.const(q.shape[1])]))
    return _on("@", softmax(_on("/", _on("@", q, k.T), root), -1), v)


def nll_loss(input, target, reduction="mean") -> ClaimTensor:
    """−input[n, target[n]], averaged or summed; the target is a list of class indices."""
    input = _tensor(input, "nll_loss")
    if len(input.shape) != 2:
        raise SymgradError(f"claim: nll_loss's input must be N×C, got shape {input.shape}")
    n, c = input.shape
    if not isinstance(target, (list, tuple)) or len(target) != n:
        raise SymgradError(f"claim: nll_loss's target must be a list of {n} class indices")
    picks = [numbers.integer(t, "claim: a class index", minimum=0) for t in target]
    if any(t >= c for t in picks):
        raise SymgradError(f"claim: a class index must be in 0..{c - 1}, got {max(picks)}")
    onehot = ClaimTensor(input.graph, (n, c), [poly.const(int(j == t)) for t in picks for j in range(c)])
    return _on("*", _total(_on("*", input, onehot), reduction, n, "nll_loss"), -1)


def cross_entropy(input, target, reduction="mean") -> ClaimTensor:
    """PyTorch's cross_entropy over N×C logits: class indices (a list) or probabilities (a tensor)."""
    logp = log_softmax(input, 1)
    if not isinstance(target, ClaimTensor):
        return nll_loss(logp, target, reduction)
    return _on("*", _total(_on("*", logp, target), reduction, logp.shape[0], "cross_entropy"), -1)


def _total(x: ClaimTensor, reduction: str, count: int, what: str) -> ClaimTensor:
    if reduction not in ("mean", "sum"):
        raise SymgradError(f"claim: {what}'s reduction is mean or sum, got {reduction!r}")
    total = x.sum()
    return total if reduction == "sum" else _on("/", total, count)


def _on(op: str, a, b) -> ClaimTensor:
    """a op b where one side is a tensor, so the result is one."""
    return _tensor(apply(op, a, b), op)


def _binary(op: str):
    return lambda a, b: apply(op, a, b)


FUNCTIONS = {
    "add": _binary("+"),
    "sub": _binary("-"),
    "mul": _binary("*"),
    "div": _binary("/"),
    "pow": _binary("**"),
    "matmul": _binary("@"),
    "sum": lambda x, dim=None, keepdim=False: _reduce(_tensor(x, "sum"), dim, keepdim, mean=False),
    "mean": lambda x, dim=None, keepdim=False: _reduce(_tensor(x, "mean"), dim, keepdim, mean=True),
    "transpose": lambda x, dim0=0, dim1=1: _transpose(x, dim0, dim1),
    "reshape": _reshape,
    "exp": exp,
    "log": log,
    "sqrt": sqrt,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "linear": linear,
    "mse_loss": mse_loss,
    "batch_norm": batch_norm,
    "layer_norm": layer_norm,
    "conv2d": conv2d,
    "conv_transpose2d": conv_transpose2d,
    "conv2d_weight": conv2d_weight,
    "conv_transpose2d_weight": conv_transpose2d_weight,
    "conv2d_input": conv2d_input,
    "scaled_dot_product_attention": scaled_dot_product_attention,
    "nll_loss": nll_loss,
    "cross_entropy": cross_entropy,
}
# what a claim string may call by name, with the arguments it is given
CALLS = ("exp", "log", "sqrt", "sigmoid", "tanh", "softplus", "relu", "leaky_relu", "softmax", "log_softmax")
# the convolutions and their gradients, called with PyTorch's arguments (sizes as W.shape or written out)
CONVOLUTIONS = ("conv2d", "conv_transpose2d", "conv2d_weight", "conv_transpose2d_weight", "conv2d_input")


class _Atoms:
    """The atoms of one graph by function and argument written out in the inputs and atoms, so
    that a claim's exp(v) is the network's own e = exp(v) when their arguments are equal."""

    def __init__(self) -> None:
        self.known: dict = {}  # by the argument written out in the inputs and atoms
        self.direct: dict = {}  # by the argument variable as it stands: found without expanding
        self.seen: dict = {}  # lemma -> whether the graph's atoms were written out for it
        self.made = 0  # variables the claims have named


_INDEX: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # graph -> its _Atoms


def _key(lemma: str, parameter, p: poly.Poly) -> tuple:
    return lemma, parameter, tuple(sorted(p.items()))


def _index(graph: Graph) -> _Atoms:
    index = _INDEX.get(graph)
    if index is None:
        index = _INDEX[graph] = _Atoms()
        for vid, atom in graph.atoms.items():
            index.direct.setdefault(_key(atom.lemma, atom.parameter, poly.var(atom.argument)), vid)
    return index


def _written_out(graph: Graph, lemma: str) -> _Atoms:
    """The index with the network's atoms of one function written out, on first use; only the
    function a claim applies is looked at, so a claim with exp does not expand every step. Past
    the budget the rest stay unindexed: a claim's atom is then its own, which is sound."""
    index = _index(graph)
    if not index.seen.get(lemma):
        index.seen[lemma] = True
        work = Work(graph, f"matching a claim's {lemma} with the network's", [])
        try:
            for vid, atom in graph.atoms.items():
                if atom.lemma == lemma:
                    argument = expand_within(graph, poly.var(atom.argument), work)
                    index.known.setdefault(_key(lemma, atom.parameter, argument), vid)
        except SymgradError:
            pass  # too large to write out: left to the numeric comparison
    return index


# the value of a function at a number, where it is exact; None where it is not
_AT_NUMBER = {
    "exp": lambda c: Fraction(1) if c == 0 else None,
    "log": lambda c: Fraction(0) if c == 1 else None,
    "sigmoid": lambda c: Fraction(1, 2) if c == 0 else None,
    "tanh": lambda c: Fraction(0) if c == 0 else None,
    "softplus": lambda c: None,
    "step": lambda c: Fraction(1 if c > 0 else 0),
    "inverse": lambda c: 1 / c,
}
# a claim's atom's name, from its argument's name and its parameter
_NAMES = {
    "exp": r"\exp\left({0}\right)",
    "log": r"\log\left({0}\right)",
    "sqrt": r"\sqrt{{{0}}}",
    "sigmoid": r"\sigma\left({0}\right)",
    "tanh": r"\tanh\left({0}\right)",
    "softplus": r"\operatorname{{softplus}}\left({0}\right)",
    "power": r"\left({0}\right)^{{{1}}}",
    "inverse": r"\frac{{1}}{{{0}}}",
    "step": r"H\left({0}\right)",
}


def atom_of(graph: Graph, lemma: str, p: poly.Poly, parameter=None) -> poly.Poly:
    """f(p) for an entry p: the network's atom for f of an argument equal to p if it has one,
    a number where f(p) is an exact one, else an atom the claim adds to the graph (evaluated
    numerically like the network's, and left out of a point where it is undefined)."""
    if set(p) <= {()}:
        value = _at_number(lemma, Fraction(p.get((), 0)), parameter)
        if value is not None:
            return poly.const(value)
    found = _find(graph, lemma, p, parameter)
    if found is not None:
        return poly.var(found)
    index = _index(graph)
    before = len(graph.registry.names)
    argument = _variable(graph, p, index)
    if argument >= before:
        mark_partial(graph, argument)
    name = _NAMES[lemma].format(graph.registry.names[argument], parameter)
    vid = graph.registry.new(
        name if name not in graph.registry.ids else _fresh(graph, index, rf"\operatorname{{{lemma}}}")
    )
    add_claim_atom(graph, vid, Atom(lemma, argument, parameter=parameter, rule=LEMMAS[lemma]))
    index.direct[_key(lemma, parameter, p)] = vid
    try:
        written = expand_within(graph, p, Work(graph, f"matching a claim's {lemma} with the network's", [p]))
        _written_out(graph, lemma).known[_key(lemma, parameter, written)] = vid
    except SymgradError:
        pass  # found again only as written
    return poly.var(vid)


def _find(graph: Graph, lemma: str, p: poly.Poly, parameter) -> int | None:
    """The atom f(p) the graph already has, by its argument as it stands or written out, or None."""
    direct = _index(graph).direct.get(_key(lemma, parameter, p))
    if direct is not None:
        return direct
    try:
        written = expand_within(graph, p, Work(graph, f"matching a claim's {lemma} with the network's", [p]))
    except SymgradError:
        return None  # too large to write out: the claim's own atom, compared numerically
    return _written_out(graph, lemma).known.get(_key(lemma, parameter, written))


def _at_number(lemma: str, c: Fraction, parameter) -> Fraction | None:
    """f(c) exactly where it is a rational number (None where it is not); a number outside f's
    domain is refused."""
    if (lemma == "log" and c <= 0) or (lemma in ("sqrt", "power") and c < 0):
        raise SymgradError(f"claim: {lemma} of {c}, a number outside its domain")
    if lemma == "inverse" and c == 0:
        raise SymgradError("claim: division by zero")
    if lemma == "sqrt":
        return numbers.power(c, Fraction(1, 2))
    if lemma == "power":
        return numbers.power(c, Fraction(parameter))
    return _AT_NUMBER[lemma](c)


def _variable(graph: Graph, p: poly.Poly, index: _Atoms) -> int:
    """A variable equal to p: p's own if it is one, else a new one defined as p."""
    if len(p) == 1:
        ((mono, c),) = p.items()
        if len(mono) == 1 and c == 1:
            return mono[0]
    vid = graph.registry.new(_fresh(graph, index, r"\kappa"))
    graph.defs[vid] = dict(p)
    return vid


def _fresh(graph: Graph, index: _Atoms, stem: str) -> str:
    """An unused variable name: the stem with a subscript, counted per graph."""
    while True:
        index.made += 1
        name = f"{stem}_{{{index.made}}}"
        if name not in graph.registry.ids:
            return name


def claim_tensors(d) -> ClaimNames:
    """What a claim may name: every tensor of the network, and dL/d(it) as d<name>.

    A tensor named d<other tensor> clashes with that tensor's gradient: the name is refused when
    a claim uses it, rather than one of its two meanings picked silently."""
    out = ClaimNames(d.graph)
    for name, tensor in d.graph.tensors.items():
        out[name] = ClaimTensor(d.graph, tensor.shape, [poly.var(v) for v in tensor.ids])
        out[f"d{name}"] = ClaimTensor(d.graph, tensor.shape, d.gradient(name))
    out.ambiguous = {name for name in d.graph.tensors if name.startswith("d") and name[1:] in d.graph.tensors}
    return out


# --- the arithmetic ------------------------------------------------------------------------------


def operand(x) -> Fraction | ClaimTensor:
    """A claim's value: a tensor, or an exact number (floats and everything else refused)."""
    if isinstance(x, ClaimTensor):
        return x
    return numbers.exact(x, "a number in a claim")


def apply(op: str, a, b) -> Fraction | ClaimTensor:
    """a op b for op in + - * / ** @, on exact numbers and claim tensors."""
    a, b = operand(a), operand(b)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return _numbers(op, a, b)
    if op == "+":
        return _elementwise(a, b, poly.add, products=False, op="+")
    if op == "-":
        return _elementwise(a, b, lambda x, y: poly.add(x, poly.scale(y, -1)), products=False, op="-")
    if op == "*":
        return _elementwise(a, b, poly.mul, products=True, op="*")
    if op == "/":
        return _divide(a, b)
    if op == "**":
        return _power(a, b)
    if op == "@":
        return _matmul(a, b)
    raise SymgradError(f"claim: the operator {op} is not allowed; " + SYNTAX)


def _numbers(op: str, a: Fraction, b: Fraction) -> Fraction:
    if op == "+":
        return numbers.bounded(a + b)
    if op == "-":
        return numbers.bounded(a - b)
    if op == "*":
        return numbers.bounded(a * b)
    if op == "/":
        if b == 0:
            raise SymgradError("claim: division by zero")
        return numbers.bounded(a / b)
    if op == "**":
        value = numbers.power(a, b)
        if value is None:
            raise SymgradError(f"claim: {a}**({b}) is not a rational number; a claim's numbers must be exact")
        return value
    if op == "@":
        raise SymgradError("claim: @ multiplies two tensors; use * for a number")
    raise SymgradError(f"claim: the operator {op} is not allowed; " + SYNTAX)


def _as_tensor(x: Fraction | ClaimTensor, graph: Graph) -> ClaimTensor:
    return x if isinstance(x, ClaimTensor) else ClaimTensor(graph, (), [poly.const(x)])


def _graph(a, b) -> Graph:
    graph = a.graph if isinstance(a, ClaimTensor) else b.graph
    if isinstance(a, ClaimTensor) and isinstance(b, ClaimTensor) and a.graph is not b.graph:
        raise SymgradError("claim: the tensors come from two different derivations")
    return graph


def _elementwise(a, b, combine, products: bool, op: str) -> ClaimTensor:
    graph = _graph(a, b)
    a, b = _as_tensor(a, graph), _as_tensor(b, graph)
    try:
        shape = broadcast_shape(a.shape, b.shape, "claim")
    except SymgradError as exc:
        if op != "*":
            raise
        # a matrix product written with * (SymPy's spelling, "G*B.T") is the likeliest slip here
        raise SymgradError(f"{exc}: * multiplies element by element; use @ for the matrix product") from None
    pairs = [
        (a.entries[source(a.shape, shape, index)], b.entries[source(b.shape, shape, index)])
        for index in itertools.product(*(range(s) for s in shape))
    ]
    cost = sum(_product_cost(x, y) for x, y in pairs) if products else len(pairs)
    spent = _spend(graph, cost, "product" if products else "sum", a, b)
    return ClaimTensor(graph, shape, [combine(x, y) for x, y in pairs], spent)


def _matmul(a, b) -> ClaimTensor:
    if not (isinstance(a, ClaimTensor) and isinstance(b, ClaimTensor)):
        raise SymgradError("claim: @ multiplies two tensors; use * for a number")
    if len(a.shape) != 2 or len(b.shape) != 2 or a.shape[1] != b.shape[0]:
        raise SymgradError(f"claim: shapes {a.shape} and {b.shape} do not multiply with @")
    graph = _graph(a, b)
    (m, k), n = a.shape, b.shape[1]
    cost = sum(
        _product_cost(a.entries[i * k + t], b.entries[t * n + j]) for t in range(k) for i in range(m) for j in range(n)
    )
    spent = _spend(graph, cost, "matrix product", a, b)
    entries = [
        poly.add(*(poly.mul(a.entries[i * k + t], b.entries[t * n + j]) for t in range(k)))
        for i in range(m)
        for j in range(n)
    ]
    return ClaimTensor(graph, (m, n), entries, spent)


def _power(a, b) -> ClaimTensor:
    """a ** b for an exact exponent: a polynomial for a whole one, the reciprocal's power for a
    negative whole one, a square root's power for a half-integer one, else a power atom (whose
    base must be positive, as for PyTorch)."""
    if isinstance(b, ClaimTensor):
        raise SymgradError("claim: an exponent must be a number, not a tensor")
    numbers.check_exponent(b, "claim: the exponent")
    graph = a.graph
    if b.denominator == 1:
        n = int(b)
        base = a if n >= 0 else _divide(Fraction(1), a)  # refused where a is zero, as a division is
        spent = _spend(graph, sum(_power_cost(p, abs(n)) for p in base.entries), "power", base)
        return ClaimTensor(graph, a.shape, [_poly_power(p, abs(n)) for p in base.entries], spent)
    spent = _spend(graph, len(a.entries), "power", a)
    return ClaimTensor(graph, a.shape, [_fractional_power(graph, p, b) for p in a.entries], spent)


def _fractional_power(graph: Graph, p: poly.Poly, b: Fraction) -> poly.Poly:
    """p ** b for a fractional b: the network's own atom for it if there is one, else
    sqrt(p) ** (2b) for a half-integer b, else a power atom of the claim's."""
    if not set(p) <= {()} and _find(graph, "power", p, b) is None and b.denominator == 2:
        root = atom_of(graph, "sqrt", p)
        base = root if b > 0 else _reciprocal(graph, root)
        return _poly_power(base, abs(b.numerator))
    return atom_of(graph, "power", p, b)


def _power_cost(p: poly.Poly, n: int) -> int:
    """The cost of p**n by squaring: p**j has at most C(j + k - 1, k - 1) terms for k terms in p,
    each of degree at most j times p's."""
    k, degree = max(len(p), 1), _degree(p)

    def terms(j: int) -> int:
        return math.comb(j + k - 1, k - 1)

    cost, have, square = 0, 0, 1
    while n:
        if n & 1:
            cost += terms(have) * terms(square) * (1 + (have + square) * degree)
            have += square
        n >>= 1
        if n:
            cost += terms(square) ** 2 * (1 + 2 * square * degree)
            square *= 2
    return cost


def _product_cost(p: poly.Poly, q: poly.Poly) -> int:
    """Term products, each as long as the monomial it makes."""
    return len(p) * len(q) * (1 + _degree(p) + _degree(q))


def _degree(p: poly.Poly) -> int:
    return max((len(mono) for mono in p), default=0)


def _poly_power(p: poly.Poly, n: int) -> poly.Poly:
    result: poly.Poly = {(): 1}
    square = p
    while n:  # by squaring: log2(n) products
        if n & 1:
            result = poly.mul(result, square)
        n >>= 1
        if n:
            square = poly.mul(square, square)
    return result


def _divide(a, b) -> ClaimTensor:
    if isinstance(b, Fraction):
        if b == 0:
            raise SymgradError("claim: division by zero")
        return _elementwise(a, Fraction(1) / b, poly.mul, products=True, op="/")
    graph = _graph(a, b)
    spent = _spend(graph, len(b.entries), "division", b)
    inverse = ClaimTensor(graph, b.shape, [_reciprocal(graph, p) for p in b.entries], spent)
    return _elementwise(a, inverse, poly.mul, products=True, op="/")


def _reciprocal(graph: Graph, p: poly.Poly) -> poly.Poly:
    """1/p for any entry: a number's inverse, or the reciprocal atom of p (the network's own when
    it has one of an equal argument). A denominator that is zero as a rational function of the
    inputs, or at every point tried, is refused, never cancelled against a numerator."""
    if set(p) <= {()}:
        if not p:
            raise SymgradError("claim: division by zero")
        return poly.const(1 / Fraction(p[()]))
    if _is_zero(graph, p):
        raise SymgradError(f"claim: division by {_shown(graph, p)}, which is identically zero")
    (mono, c), *rest = p.items()
    if not rest and len(mono) == 1:  # c·v: 1/v made once per variable, as the network's own layers do
        vid, factor = mono[0], 1 / Fraction(c)
    else:
        found = _find(graph, "inverse", p, None)
        if found is not None:
            return poly.var(found)
        before = len(graph.registry.names)
        vid, factor = _variable(graph, p, _index(graph)), Fraction(1)
        if vid >= before:
            mark_partial(graph, vid)
    # checked before the reciprocal is made: one undefined at every point would void them all
    if zero_everywhere(graph, vid):
        raise SymgradError(
            f"claim: division by {_shown(graph, p)}, which is zero at every point tried "
            "(zero through a relation between exp, log, ... that the canonical form cannot see)"
        )
    return poly.scale(atom_of(graph, "inverse", poly.var(vid)), factor)


def _shown(graph: Graph, p: poly.Poly) -> str:
    """An entry as a short text, for a message."""
    text = str(to_sympy(p, graph.registry))
    return text if len(text) <= 60 else text[:57] + "..."


def _is_zero(graph: Graph, p: poly.Poly) -> bool:
    written = expand_within(graph, p, Work(graph, "checking that a claim's denominator is not zero", [p]))
    return written == {} or vanishes(graph, written, check_max_terms(graph.max_terms))


def _reduce(x: ClaimTensor, dim, keepdim, mean: bool) -> ClaimTensor:
    if not isinstance(x, ClaimTensor):
        raise SymgradError("claim: .sum and .mean apply to a tensor, not a number")
    if not isinstance(keepdim, bool):
        raise SymgradError(f"claim: keepdim must be True or False, got {keepdim!r}")
    dims = _dims(dim, len(x.shape))
    shape = reduction_shape(x.shape, dims, keepdim)
    count = math.prod(x.shape[d] for d in dims)
    out: list = [dict() for _ in range(max(1, math.prod(shape)))]
    for entry, target in zip(x.entries, reduction_targets(x.shape, dims, keepdim)):
        poly.add_into(out[target], poly.scale(entry, Fraction(1, count) if mean else 1))
    return ClaimTensor(x.graph, shape, out, _spend(x.graph, len(x.entries), "reduction", x))


def _dims(dim, ndim: int) -> tuple:
    """The reduced dims, as PyTorch reads them: each in -ndim..ndim-1 (-1..0 for a scalar), once."""
    if dim is None:
        return tuple(range(ndim))
    given = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not given:  # PyTorch has read dim=() both as every dim and as none
        raise SymgradError("claim: dim=() is ambiguous; leave dim out to reduce over every dim")
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    dims = []
    for d in given:
        d = numbers.integer(d, "claim: a dim of .sum or .mean")
        if not low <= d <= high:
            raise SymgradError(f"claim: dim {d} is out of range for a {ndim}-dimensional tensor ({low} to {high})")
        dims.append(d % ndim if ndim else None)
    if len(set(dims)) != len(dims):
        raise SymgradError(f"claim: dim {dim} names the same dimension twice")
    return tuple(sorted(d for d in dims if d is not None))


def _spend(graph: Graph, cost: int, what: str, *operands) -> int:
    """The work done so far for a value: its operands' and its own ``cost``, refused before it is
    done when the total passes the network's ``max_terms``."""
    total = cost + sum(x.spent for x in operands if isinstance(x, ClaimTensor))
    limit = check_max_terms(graph.max_terms)
    if total > limit:
        raise SymgradError(
            f"the claim is too large to evaluate: with its {what} it takes about {total:,} term operations, over "
            f"the budget of {limit:,}; write it with smaller powers or products, or derive with max_terms={total} "
            f"(--max-terms {total} on the command line)"
        )
    return total


class Work:
    """The term products a comparison may spend writing polynomials out in the inputs. Each
    level of definitions is sized before it is expanded, and the first that would pass the
    budget is refused, with an estimate and the setting that allows it.

    While ``copies`` is above 1 the polynomial being written out stands for that many alike (the
    entries of one tensor cost about the same), so the whole is refused as soon as the first
    entry's cost, times their number, passes the budget."""

    def __init__(self, graph: Graph, what: str, pending: list) -> None:
        self.graph, self.what, self.pending = graph, what, pending
        self.limit = check_max_terms(graph.max_terms)
        self.spent = 0
        self.copies = 1

    def spend(self, terms: int) -> None:
        if (self.spent + terms) * self.copies > self.limit:
            self.refuse((self.spent + terms) * self.copies)
        self.spent += terms

    def refuse(self, lower: int) -> None:
        memo: dict = {}
        upper = max(lower, sum(expansion_size(self.graph, p, memo) for p in self.pending))
        raise SymgradError(
            f"{self.what} is too large: written out in the inputs it takes more than about {lower:,} term products "
            f"(at most {upper:,}), over the budget of {self.limit:,}; check it at smaller sizes, or derive with "
            f"max_terms={upper} (--max-terms {upper} on the command line) if there is time for it"
        )


def differing(graph: Graph, pairs: list, what: str) -> list[int]:
    """The positions where the two sides of a pair differ as rational functions of the inputs
    and atoms: written out in them first; a difference that remains is kept if the two are
    apart at a point, and otherwise its denominators are cleared (``rational.vanishes``)."""
    candidates = [i for i, (a, b) in enumerate(pairs) if a != b]
    differences = [poly.add(pairs[i][0], poly.scale(pairs[i][1], -1)) for i in candidates]
    work = Work(graph, what, differences)
    out = []
    zero = _zero_by_flint(graph, differences, work)
    for k, (i, difference) in enumerate(zip(candidates, differences)):
        work.copies = len(candidates) if k == 0 else 1
        if zero[k]:
            continue
        if zero[k] is False and at_points(graph, *pairs[i]) == "apart":
            out.append(i)  # not zero, and a point shows it: no need to write it out again in dicts
            continue
        written = expand_within(graph, difference, work)
        if written == {}:
            continue
        # a difference through a reciprocal or a root may be zero wherever it is defined; it
        # is not when the two sides are apart at a point, which is quicker to see, and an
        # equality is only claimed where some point has both sides defined
        related = _has_relation(graph, written) and at_points(graph, *pairs[i]) == "agree"
        if not related or not vanishes(graph, written, work.limit):
            out.append(i)
    return out


def _zero_by_flint(graph: Graph, differences: list, work: Work) -> list[bool | None]:
    """For each difference, whether FLINT finds it written out in the inputs and atoms to be the
    zero polynomial: the common case of a true claim, decided in C. Asked only where the write-out
    is large enough to be slow in dicts, and no larger than the budget allows even at its upper
    bound (the dict path would size it level by level, and refuse it if it must). None where
    FLINT was not asked."""
    if not flint_poly.available() or not differences:
        return [None] * len(differences)
    sizes: dict = {}
    bound = sum(expansion_size(graph, p, sizes) for p in differences)
    if not flint_poly.WORTH_IT < bound <= work.limit:
        return [None] * len(differences)
    writer = flint_poly.Writer(differences, graph.defs)
    return [writer.is_zero(p) for p in differences]


def _has_relation(graph: Graph, p: poly.Poly) -> bool:
    """Whether p holds an atom related to another variable: a reciprocal, a root or a power."""
    atoms = (atom_at(graph, v) for v in poly.variables(p))
    return any(atom is not None and atom.lemma in ("inverse", "sqrt", "power") for atom in atoms)


def expand_within(graph: Graph, p: poly.Poly, work: Work) -> poly.Poly:
    """``graph.expand(p)``, one level of definitions at a time, each level's products counted
    against ``work`` before they are made."""
    while True:
        defined = {v for v in poly.variables(p) if v in graph.defs}
        if not defined:
            return p
        work.spend(sum(math.prod(len(graph.defs[u]) for u in mono if u in defined) for mono in p))
        p = poly.substitute(p, {v: graph.defs[v] for v in defined})


def expansion_size(graph: Graph, p: poly.Poly, memo: dict) -> int:
    """An upper bound on the term products writing ``p`` out in the inputs takes, from the
    definitions' sizes alone (each defined variable counts as the terms of its own expansion)."""

    def product(mono) -> int:
        return math.prod(memo[u] if u in graph.defs else 1 for u in mono)

    stack = [u for mono in p for u in mono]
    while stack:  # definitions before what reads them, without recursion: chains can be long
        vid = stack[-1]
        if vid in memo or vid not in graph.defs:
            stack.pop()
            continue
        missing = [u for mono in graph.defs[vid] for u in mono if u in graph.defs and u not in memo]
        if missing:
            stack += missing
            continue
        stack.pop()
        memo[vid] = sum(product(mono) for mono in graph.defs[vid])
    return sum(product(mono) for mono in p)


# --- claim strings -------------------------------------------------------------------------------


def read_claim(text: str, names: dict):
    """A claim string: parsed by Python's ``ast`` and evaluated node by node, each kind of node
    handled explicitly and anything else refused."""
    if len(text) > MAX_LENGTH:
        raise SymgradError(f"claim: at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SymgradError(f"claim: not an expression ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise SymgradError("claim: not an expression Python can read (nested too deeply?)") from None
    check_depth(tree)
    return _eval(tree.body, names)


def check_depth(tree: ast.AST, limit: int = MAX_DEPTH) -> None:
    """Refuse a syntax tree nested deeper than ``limit``, walking it without recursion."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise SymgradError(f"claim: nested more than {limit} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}


def _eval(node: ast.AST, names: dict):
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise SymgradError(
                f"claim: only whole numbers may be written (5/2 for two and a half, not 2.5), got {node.value!r}"
            )
        return numbers.exact(node.value, "a number in a claim")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, names)
        return apply("*", Fraction(-1), value) if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return apply(_BINARY[type(node.op)], _eval(node.left, names), _eval(node.right, names))
    if isinstance(node, ast.Attribute) and node.attr == "T":
        value = _eval(node.value, names)
        if isinstance(value, Fraction):
            raise SymgradError("claim: a number has no transpose")
        return _tensor(value, ".T").T
    if isinstance(node, ast.Attribute) and node.attr == "shape":  # a size for a convolution's gradient
        return _tensor(_eval(node.value, names), ".shape").shape
    if isinstance(node, ast.Attribute) and node.attr in ("sum", "mean", "transpose", "reshape"):
        raise SymgradError(f"claim: .{node.attr} must be called, as .{node.attr}(...)")
    if isinstance(node, ast.Call):
        return _call(node, names)
    what = ast.unparse(node)
    raise SymgradError(f"claim: {what[:60]!r} is not allowed; a claim may use " + SYNTAX)


def _call(node: ast.Call, names: dict) -> ClaimTensor:
    """A call written in a claim: exp(v), softmax(v, 1), ones(2, 3), v.sum(0), v.transpose(0, 1), ..."""
    func = node.func
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise SymgradError("claim: a call's arguments must be written out (no * or **)")
    if isinstance(func, ast.Attribute) and func.attr in ("sum", "mean"):
        return _reduction_call(node, func, names)
    if isinstance(func, ast.Attribute) and func.attr in ("transpose", "reshape"):
        target = _tensor(_eval(func.value, names), f".{func.attr}")
        args, keywords = _arguments(node, names, first=0)
        try:
            return getattr(target, func.attr)(*args, **keywords)
        except TypeError as exc:
            raise SymgradError(f"claim: .{func.attr}: {exc}") from None
    if isinstance(func, ast.Name) and func.id in ("ones", "zeros"):
        args, keywords = _arguments(node, names, first=0)
        if keywords or not args:
            raise SymgradError(f"claim: {func.id} takes its shape: {func.id}(2, 3) or {func.id}((2, 3))")
        return filled(_names_graph(names), args[0] if len(args) == 1 else args, 1 if func.id == "ones" else 0)
    if isinstance(func, ast.Name) and func.id in CALLS + CONVOLUTIONS:
        # a convolution's arguments are tensors, sizes and settings, each read as written
        args, keywords = _arguments(node, names, first=0 if func.id in CONVOLUTIONS else 1)
        if args and isinstance(args[0], Fraction):  # exp(1/2): a number as a tensor of the claim
            args[0] = ClaimTensor(_names_graph(names), (), [poly.const(args[0])])
        try:
            return FUNCTIONS[func.id](*args, **keywords)
        except TypeError as exc:
            raise SymgradError(f"claim: {func.id}: {exc}") from None
    raise SymgradError(
        f"claim: {ast.unparse(func)[:40]}(...) cannot be called; the only calls allowed are .sum, .mean, .transpose, "
        f".reshape, ones, zeros and {', '.join(CALLS + CONVOLUTIONS)}"
    )


def _names_graph(names: dict) -> Graph:
    if not isinstance(names, ClaimNames):
        raise SymgradError("claim: a constant tensor needs the network's tensors")
    return names.graph


def _arguments(node: ast.Call, names: dict, first: int) -> tuple[list, dict]:
    """A call's arguments: the first ``first`` evaluated as values of the claim, the rest read as
    written (whole numbers and tuples of them for dims and sizes, or a number's value)."""
    args = [_eval(a, names) if k < first else _literal(a, names) for k, a in enumerate(node.args)]
    return args, {str(k.arg): _literal(k.value, names) for k in node.keywords}


def _literal(node: ast.AST, names: dict):
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal(e, names) for e in node.elts)
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, str))):
        return node.value
    value = _eval(node, names)
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)  # a dim or a size as written; an exact number stays exact either way
    return value


def _reduction_call(node: ast.Call, func: ast.Attribute, names: dict) -> ClaimTensor:
    if len(node.args) > 1:
        raise SymgradError(f"claim: .{func.attr} takes one dim (an integer or a tuple of integers)")
    given = {"dim": node.args[0]} if node.args else {}
    for keyword in node.keywords:
        if keyword.arg not in ("dim", "keepdim") or keyword.arg in given:
            raise SymgradError(f"claim: .{func.attr} takes dim and keepdim, got {keyword.arg or '**'}=")
        given[keyword.arg] = keyword.value
    target = _eval(func.value, names)
    if not isinstance(target, ClaimTensor):
        raise SymgradError(f"claim: .{func.attr} applies to a tensor, not a number")
    dim = _literal_dims(given["dim"], func.attr) if "dim" in given else None
    keepdim = given.get("keepdim")
    if keepdim is not None and not (isinstance(keepdim, ast.Constant) and isinstance(keepdim.value, bool)):
        raise SymgradError(f"claim: keepdim must be True or False, got {ast.unparse(keepdim)[:40]}")
    return _reduce(target, dim, bool(keepdim.value) if keepdim is not None else False, mean=func.attr == "mean")


def _literal_dims(node: ast.AST, method: str):
    """A dim as written: an integer, a negative integer, a tuple of them, or None."""
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal_dim(e, method) for e in node.elts)
    return _literal_dim(node, method)


def _literal_dim(node: ast.AST, method: str) -> int:
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    inner = node.operand if isinstance(node, ast.UnaryOp) and negative else node
    if not (isinstance(inner, ast.Constant) and type(inner.value) is int):
        raise SymgradError(
            f"claim: the dim of .{method} must be an integer or a tuple of integers written out, "
            f"got {ast.unparse(node)[:40]}"
        )
    return -inner.value if negative else inner.value


# --- a claim, whichever way it is given -----------------------------------------------------------


def claim_value(d, claim, names: ClaimNames, name: str, shape: tuple) -> tuple:
    """A claimed dL/d(name) as a ClaimTensor of the given shape, and its text."""
    if isinstance(claim, str):
        got, text = read_claim(claim, names), claim
    elif callable(claim):
        got, text = _call_function(claim, names), getattr(claim, "__name__", "claim")
    else:
        raise SymgradError(f"a claim is a string or a function, got {type(claim).__name__}")
    got = operand(got)
    if isinstance(got, Fraction):
        got = ClaimTensor(d.graph, (), [poly.const(got)])
    if got.graph is not d.graph:
        raise SymgradError("claim: the claim's tensors come from another derivation")
    if got.shape != shape:
        if math.prod(got.shape) == 1 and not shape:
            got = ClaimTensor(d.graph, (), got.entries)
        else:
            why = f"the claim for d{name} is {_size(got.shape)}, but {name} is {_size(shape)}"
            if isinstance(claim, str) and _tensor_product(claim):  # a broadcast product written for @
                why += "; * multiplies element by element, broadcasting; use @ for the matrix product"
            raise SymgradError(why)
    return got, text


def _tensor_product(text: str) -> bool:
    """Whether the claim (already read once) writes * between two operands neither of which is a
    number as written."""

    def number(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) or (isinstance(node, ast.UnaryOp) and number(node.operand))

    return any(
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mult)
        and not number(node.left)
        and not number(node.right)
        for node in ast.walk(ast.parse(text.strip(), mode="eval"))
    )


def _size(shape: tuple) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar"


def _call_function(claim, names: ClaimNames):
    try:
        return claim(names)
    except SymgradError:
        raise
    except RecursionError:
        raise SymgradError("the claim function recursed too deeply") from None
    except Exception as exc:  # the user's code: any failure becomes one message
        raise SymgradError(f"the claim function failed: {type(exc).__name__}: {exc}") from None
