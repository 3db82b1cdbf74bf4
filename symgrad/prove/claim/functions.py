"""The functions a claim may call: of each entry (exp, sqrt, relu, ...), and the layers and losses made of them.

``FUNCTIONS`` is also what each symgrad.functional layer is on a claim's tensors, so that a claim
function that calls ``F.softmax`` gets the claim's own softmax (``ClaimTensor.__symgrad_function__``).
"""

from __future__ import annotations

from fractions import Fraction

from ...core import numbers, poly
from ...core.errors import SymgradError
from .atoms import atom_of
from .convolutions import conv2d, conv2d_input, conv2d_weight, conv_transpose2d, conv_transpose2d_weight
from .tensor import LAYERS, ClaimTensor, _on, _reduce, _reshape, _spend, _tensor, _transpose, apply


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
LAYERS.update(FUNCTIONS)  # what symgrad.functional's layers are on a claim's tensors
# what a claim string may call by name, with the arguments it is given
CALLS = ("exp", "log", "sqrt", "sigmoid", "tanh", "softplus", "relu", "leaky_relu", "softmax", "log_softmax")
# the convolutions and their gradients, called with PyTorch's arguments (sizes as W.shape or written out)
CONVOLUTIONS = ("conv2d", "conv_transpose2d", "conv2d_weight", "conv_transpose2d_weight", "conv2d_input")
